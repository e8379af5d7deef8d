import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * mediasoup's node side deep-copies its RTP structures on most calls (`utils.clone`: the capabilities a
 * consume is given, a producer's consumable parameters, the router's capabilities...), with
 * `structuredClone`. On Node 20 that is a serialize/deserialize round trip through the messaging layer:
 * about 60 µs for a router's 4 KB capabilities, several times per consume. Everything mediasoup clones
 * this way is plain JSON-shaped data (objects, arrays, strings, numbers, booleans), which a direct
 * recursive copy reproduces exactly in a few microseconds. Values of any other kind (a Map, a Date, a
 * typed array, a class instance) still go to structuredClone, so the result is the same for every input.
 */
export function plainClone<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = plainClone(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = plainClone((value as Record<string, unknown>)[key]);
  return out as T;
}

/**
 * Points mediasoup's `utils.clone` at `plainClone`. mediasoup's modules call it through the module object
 * (`utils.clone(...)`), so the one replacement serves them all. Idempotent; if a future mediasoup moves or
 * renames the helper, nothing is replaced and mediasoup keeps its own (slower) copy.
 */
export function useFastMediasoupClone(): boolean {
  const require = createRequire(import.meta.url);
  const utils = require(join(dirname(require.resolve("mediasoup")), "utils.js")) as {
    clone?: (value: unknown) => unknown;
  };
  if (typeof utils.clone !== "function") return false;
  utils.clone = mediasoupClone;
  return true;
}

/** mediasoup's contract for `clone`: undefined stays undefined, NaN stays NaN, anything else is copied. */
function mediasoupClone(value: unknown): unknown {
  return Number.isNaN(value) ? Number.NaN : plainClone(value);
}
