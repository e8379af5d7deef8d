import { createDb, type Database } from "@nexus/drizzle";
import {
  type Bus,
  createBus,
  createHostRegistry,
  createLogger,
  type HostRegistry,
  MemoryBus,
  MemoryHostRegistry,
} from "@nexus/platform";
import { randomId } from "@nexus/shared/ids";
import { createUserVerifier } from "./auth.js";
import type { ControlConfig } from "./config.js";
import { type ControlDeps, createJoinSigner } from "./deps.js";
import { createMetrics } from "./metrics.js";
import { WebhookDispatcher } from "./services/webhook-dispatcher.js";

export interface ControlRuntime {
  deps: ControlDeps;
  /** The webhook outbox dispatcher, when `dispatchWebhooks` asked for one (closed first by close()). */
  webhooks: WebhookDispatcher | undefined;
  /** Closes what this call opened (not what was passed in as overrides); safe to call twice. */
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Apply migrations at boot (embedded PGlite and single-node setups). */
  migrate?: boolean;
  /** An already-open database; its owner closes it. */
  database?: Database;
  /** Run the webhook dispatcher in this process (long-lived entries: node, the one-process server). */
  dispatchWebhooks?: boolean;
}

/** The Redis bus and host registry, from platform's one factory (it picks Redis for a REDIS_URL). */
function redisParts(url: string): { bus: Bus; registry: HostRegistry } {
  const env = { REDIS_URL: url };
  return { bus: createBus(env), registry: createHostRegistry(env) };
}

/**
 * Builds the dependencies of createApp from config. Anything in `overrides` is used as given and left
 * open on close: the embedded one-process mode passes its shared in-process bus and registry this way.
 */
export async function createControlDeps(
  config: ControlConfig,
  overrides: Partial<ControlDeps> = {},
  options: ComposeOptions = {},
): Promise<ControlRuntime> {
  const closers: (() => Promise<void>)[] = [];
  const logger =
    overrides.logger ?? createLogger({ name: "control", level: config.logLevel, dir: config.logDir });

  let db = overrides.db;
  if (!db) {
    const database = options.database ?? createDb(config.databaseUrl);
    if (!options.database) closers.push(() => database.close());
    if (options.migrate) await database.migrate();
    db = database.db;
  }

  let bus = overrides.bus;
  let registry = overrides.registry;
  if (!bus || !registry) {
    if (config.redisUrl) {
      const parts = redisParts(config.redisUrl);
      closers.push(async () => {
        await parts.bus.close();
        await (parts.registry as { close?: () => Promise<void> }).close?.();
      });
      bus ??= parts.bus;
      registry ??= parts.registry;
    } else {
      logger.warn(
        "no REDIS_URL: in-process bus and host registry (only media hosts in this process are seen)",
      );
      const memoryBus = new MemoryBus();
      closers.push(() => memoryBus.close());
      bus ??= memoryBus;
      registry ??= new MemoryHostRegistry();
    }
  }

  const deps: ControlDeps = {
    db,
    bus,
    registry,
    config,
    logger,
    metrics: overrides.metrics ?? createMetrics(),
    now: overrides.now ?? (() => new Date()),
    randomId: overrides.randomId ?? randomId,
    verifier: overrides.verifier ?? createUserVerifier(config.auth),
    joinSigner: overrides.joinSigner ?? createJoinSigner(config.joinToken),
  };

  let webhooks: WebhookDispatcher | undefined;
  if (options.dispatchWebhooks) {
    const dispatcher = new WebhookDispatcher({ db, logger, config: config.webhooks }).start();
    webhooks = dispatcher;
    closers.push(() => dispatcher.close());
  }

  let closing: Promise<void> | undefined;
  return {
    deps,
    webhooks,
    close: () => {
      closing ??= (async () => {
        for (const close of closers.reverse()) {
          try {
            await close();
          } catch (err) {
            logger.error({ err }, "close failed");
          }
        }
      })();
      return closing;
    },
  };
}
