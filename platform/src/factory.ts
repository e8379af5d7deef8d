import type { Bus, HostRegistry } from "./bus.js";
import { MemoryBus, MemoryHostRegistry } from "./memory-bus.js";
import { RedisBus } from "./redis-bus.js";
import { type RedisEnv, redisTargetFromEnv } from "./redis-connection.js";
import { RedisHostRegistry } from "./redis-host-registry.js";

export type ClosableHostRegistry = HostRegistry & { close(): Promise<void> };

export interface BusFactoryOptions<T> {
  /**
   * The in-process instance to use when no Redis is configured. In the embedded one-process mode control and
   * the media host must share one, so the composition root creates it and passes it to both.
   */
  memory?: T;
  onError?: (err: Error) => void;
}

/** Redis pub/sub when REDIS_URL or REDIS_HOST is set, else the in-process bus. */
export function createBus(env: RedisEnv, options: BusFactoryOptions<MemoryBus> = {}): Bus {
  const target = redisTargetFromEnv(env);
  if (target) return new RedisBus(target, options.onError ? { onError: options.onError } : {});
  return options.memory ?? new MemoryBus();
}

/** The Redis hash of hosts when REDIS_URL or REDIS_HOST is set, else the in-process registry. */
export function createHostRegistry(
  env: RedisEnv,
  options: BusFactoryOptions<MemoryHostRegistry> & { keyPrefix?: string } = {},
): ClosableHostRegistry {
  const target = redisTargetFromEnv(env);
  if (target) {
    return new RedisHostRegistry(target, {
      ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }
  return options.memory ?? new MemoryHostRegistry();
}
