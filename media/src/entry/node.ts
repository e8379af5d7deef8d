/**
 * A standalone media host: `tsx media/src/entry/node.ts`. Reads the environment, connects to the database,
 * to Redis when REDIS_URL/REDIS_HOST is set (otherwise an in-process bus, useful only beside nothing), and
 * serves until SIGINT/SIGTERM, then drains for up to MEDIA_DRAIN_MS before closing.
 */
import { createDb, databaseUrlFromEnv } from "@nexus/drizzle";
import type { Bus, HostRegistry } from "@nexus/platform";
import * as platform from "@nexus/platform";
import { loadMediaConfig } from "../config.js";
import { createMediaHost } from "../host.js";

const env = process.env;
const config = loadMediaConfig(env);
const logger = platform.createLogger({
  name: "nexus-media",
  level: config.logLevel,
  dir: env.LOG_DIR ?? "logs",
});

type Closable<T> = T & { close(): Promise<void> };
type Factories = {
  createBus?: (env: NodeJS.ProcessEnv, o: object) => Bus;
  createHostRegistry?: (env: NodeJS.ProcessEnv, o: object) => Closable<HostRegistry>;
};

/** Redis when REDIS_URL/REDIS_HOST is set (through @nexus/platform's factories), else in-process. */
async function link(): Promise<{ bus: Bus; registry: HostRegistry; close(): Promise<void> }> {
  const f = platform as unknown as Factories;
  const onError = (err: Error) => logger.error({ err }, "redis error");
  if (f.createBus && f.createHostRegistry) {
    const bus = f.createBus(env, { onError });
    const registry = f.createHostRegistry(env, { onError });
    return { bus, registry, close: async () => void (await Promise.all([bus.close(), registry.close()])) };
  }
  const bus = new platform.MemoryBus();
  return { bus, registry: new platform.MemoryHostRegistry(), close: () => bus.close() };
}

const db = createDb(databaseUrlFromEnv(env));
const { bus, registry, close: closeLink } = await link();
const host = await createMediaHost({ config, db, bus, registry, logger });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining");
  const drainMs = Number(env.MEDIA_DRAIN_MS ?? 30_000);
  await Promise.race([host.drain(), new Promise((r) => setTimeout(r, drainMs).unref())]);
  await host.close();
  await closeLink();
  await db.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
