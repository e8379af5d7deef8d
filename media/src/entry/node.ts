/**
 * A standalone media host: `tsx media/src/entry/node.ts`. Reads the environment, connects to the database
 * and to Redis, serves until SIGINT/SIGTERM, then drains for up to MEDIA_DRAIN_MS before closing.
 */
import { createDb, databaseUrlFromEnv } from "@nexus/drizzle";
import { type Bus, createBus, createHostRegistry, createLogger, type HostRegistry } from "@nexus/platform";
import { loadMediaConfig } from "../config.js";
import { createMediaHost } from "../host.js";

const env = process.env;
const config = loadMediaConfig(env);
const logger = createLogger({
  name: "nexus-media",
  level: config.logLevel,
  dir: config.logDir,
});

/** Redis when REDIS_URL/REDIS_HOST is set, else in-process (useful only with nothing else beside it). */
function link(): { bus: Bus; registry: HostRegistry; close(): Promise<void> } {
  const onError = (err: Error) => logger.error({ err }, "redis error");
  const bus = createBus(env, { onError });
  const registry = createHostRegistry(env, { onError });
  return {
    bus,
    registry,
    close: async () => {
      await Promise.all([bus.close(), registry.close()]);
    },
  };
}

const db = createDb(databaseUrlFromEnv(env));
const { bus, registry, close: closeLink } = link();
const host = await createMediaHost({ config, db, bus, registry, logger });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining");
  await Promise.race([host.drain(), new Promise((r) => setTimeout(r, config.drainMs).unref())]);
  await host.close();
  await closeLink();
  await db.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
