// Replacement for martinus/unordered_dense built on the standard containers.
// The worker only uses map, set and hash with the std-compatible subset of
// their API, so aliases are enough; lookups are a bit slower than the real
// dense tables, which is acceptable for a fallback build.
#ifndef NEXUS_ANKERL_UNORDERED_DENSE_SHIM_H
#define NEXUS_ANKERL_UNORDERED_DENSE_SHIM_H

#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace ankerl::unordered_dense {

template <class T>
struct hash : std::hash<T> {};

template <
  class Key,
  class T,
  class Hash = hash<Key>,
  class KeyEqual = std::equal_to<Key>,
  class Allocator = std::allocator<std::pair<const Key, T>>>
using map = std::unordered_map<Key, T, Hash, KeyEqual, Allocator>;

template <
  class Key,
  class Hash = hash<Key>,
  class KeyEqual = std::equal_to<Key>,
  class Allocator = std::allocator<Key>>
using set = std::unordered_set<Key, Hash, KeyEqual, Allocator>;

} // namespace ankerl::unordered_dense

#endif
