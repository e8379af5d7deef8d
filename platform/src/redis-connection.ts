import { Redis, type RedisOptions } from "ioredis";

export interface RedisEnv {
  REDIS_URL?: string | undefined;
  REDIS_HOST?: string | undefined;
  REDIS_PORT?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
}

/** Where Redis is, or null when the environment names none (then the in-process bus and registry serve). */
export function redisTargetFromEnv(env: RedisEnv): { url: string } | { options: RedisOptions } | null {
  if (env.REDIS_URL) return { url: env.REDIS_URL };
  if (env.REDIS_HOST) {
    const options: RedisOptions = { host: env.REDIS_HOST, port: Number(env.REDIS_PORT ?? 6379) };
    if (env.REDIS_PASSWORD) options.password = env.REDIS_PASSWORD;
    return { options };
  }
  return null;
}

export type RedisTarget = string | { url: string } | { options: RedisOptions };

/**
 * A new connection. ioredis reconnects by itself (and resubscribes a subscriber); the error listener keeps
 * connection errors from being reported as unhandled while it does.
 */
export function connectRedis(target: RedisTarget, onError: (err: Error) => void, name: string): Redis {
  const common: RedisOptions = { connectionName: name, maxRetriesPerRequest: 3 };
  const redis =
    typeof target === "string"
      ? new Redis(target, common)
      : "url" in target
        ? new Redis(target.url, common)
        : new Redis({ ...common, ...target.options });
  redis.on("error", onError);
  return redis;
}

/**
 * QUIT politely, but never wait long on a server that is gone: ioredis would keep the QUIT queued while it
 * retries the connection.
 */
export async function quitRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1000);
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}
