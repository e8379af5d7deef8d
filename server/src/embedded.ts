import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { serve } from "@hono/node-server";
import { createApp, createControlDeps, loadControlConfig } from "@nexus/control";
import { createDb } from "@nexus/drizzle";
import { createMediaHost, loadMediaConfig, type MediaHost } from "@nexus/media";
import { resolveWorkerBin } from "@nexus/media/sfu/worker-bin";
import { createLogger, type Logger } from "@nexus/platform";
import { DEFAULT_WEB_DIR, webFront } from "./front.js";

export { DEFAULT_WEB_DIR };

export interface EmbeddedOptions {
  /** HTTP port of the API and the web client (PORT, default 8095; 0 picks a free one). */
  port?: number;
  /** Signaling WebSocket port of the media host (MEDIA_PORT, default 8096; 0 picks a free one). */
  mediaPort?: number;
  /** Where the PGlite database lives when no PostgreSQL is configured (DATA_DIR, default "data"). */
  dataDir?: string;
  /** The built web client (default web/dist). */
  webDir?: string;
  /** Interface the HTTP server binds (HOST, default 0.0.0.0). */
  host?: string;
  rtcMinPort?: number;
  rtcMaxPort?: number;
  numWorkers?: number;
  /** Settings as environment variables; the explicit options above win over them. Default process.env. */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Close on SIGINT/SIGTERM and exit (default true; tests turn it off). */
  handleSignals?: boolean;
}

export interface Embedded {
  /** The web client's address, e.g. http://127.0.0.1:8095 */
  url: string;
  port: number;
  media: MediaHost;
  databaseKind: "postgres" | "pglite";
  /** Idempotent: stops accepting, disconnects participants, closes media workers, the bus and the database. */
  close(): Promise<void>;
}

const set = (value: number | string | undefined) => (value === undefined ? undefined : String(value));

/**
 * The whole service in one process: one database shared by control and the media host, one bus and host
 * registry handed to both (in-process unless REDIS_URL says otherwise), the static web client, and in
 * development a route that mints sign-in tokens.
 */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<Embedded> {
  const env: Record<string, string | undefined> = { ...(options.env ?? process.env) };
  if (options.port !== undefined) env.PORT = set(options.port);
  if (options.mediaPort !== undefined) env.MEDIA_PORT = set(options.mediaPort);
  if (options.dataDir !== undefined) env.DATA_DIR = options.dataDir;
  if (options.host !== undefined) env.HOST = options.host;
  if (options.rtcMinPort !== undefined) env.RTC_MIN_PORT = set(options.rtcMinPort);
  if (options.rtcMaxPort !== undefined) env.RTC_MAX_PORT = set(options.rtcMaxPort);
  if (options.numWorkers !== undefined) env.MEDIA_NUM_WORKERS = set(options.numWorkers);

  const controlConfig = loadControlConfig(env);
  const logger =
    options.logger ??
    createLogger({ name: "nexus", level: controlConfig.logLevel, dir: controlConfig.logDir });

  // The worker path must be settled before mediasoup spawns anything; a stale MEDIASOUP_WORKER_BIN
  // (e.g. /nonexistent from an npm install) falls back to the provisioned cache.
  const workerBin = resolveWorkerBin({ env });
  process.env.MEDIASOUP_WORKER_BIN = workerBin;
  const mediaConfig = loadMediaConfig({
    ...env,
    MEDIASOUP_WORKER_BIN: workerBin,
    // Control signs join tokens and this host verifies them: one secret by construction.
    JOIN_TOKEN_SECRET: controlConfig.joinToken.secret,
    // A browser on this machine reaches 127.0.0.1; an announced IP is what makes other machines work.
    MEDIASOUP_LISTEN_IP: env.MEDIASOUP_LISTEN_IP || (env.MEDIASOUP_ANNOUNCED_IP ? "0.0.0.0" : "127.0.0.1"),
  });

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, "close failed");
      }
    }
  };

  try {
    if (
      !/^postgres(ql)?:\/\//.test(controlConfig.databaseUrl) &&
      !controlConfig.databaseUrl.includes("://")
    ) {
      // PGlite creates its own directory but not the ones above it (a fresh checkout has no data/).
      mkdirSync(dirname(controlConfig.databaseUrl), { recursive: true });
    }
    const database = createDb(controlConfig.databaseUrl);
    closers.push(() => database.close());
    await database.migrate();
    logger.info({ kind: database.kind }, "database ready");

    // Control builds the bus and registry (memory or Redis) and owns them; the media host gets the same ones.
    const runtime = await createControlDeps(
      controlConfig,
      { logger },
      { database, dispatchWebhooks: controlConfig.webhooks.dispatch },
    );
    closers.push(() => runtime.close());
    const { bus, registry } = runtime.deps;

    const media = await createMediaHost({ config: mediaConfig, db: database, bus, registry, logger });
    closers.push(() => media.close());

    const control = createApp(runtime.deps);
    const app = webFront({
      control,
      config: controlConfig,
      webDir: options.webDir ?? DEFAULT_WEB_DIR,
      mediaWsUrl: media.wsUrl,
    });

    const server = serve({ fetch: app.fetch, port: controlConfig.port, hostname: controlConfig.host });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", () => resolve());
      server.once("error", reject);
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections would hold close() open forever.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const shownHost =
      controlConfig.host === "0.0.0.0" || controlConfig.host === "::" ? "127.0.0.1" : controlConfig.host;
    const url = `http://${shownHost}:${port}`;
    logger.info({ url, media_ws_url: media.wsUrl, database: database.kind }, "NEXUS Meet is up");
    if (controlConfig.nodeEnv !== "production") {
      logger.warn(
        { node_env: controlConfig.nodeEnv, host: controlConfig.host },
        "development sign-in (/dev/token) is on and answers only clients on this machine; set NODE_ENV=production to turn it off",
      );
    }

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await closeAll();
        logger.info("NEXUS Meet stopped");
      })();
      return closing;
    };
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "stopping");
      void close().then(() => process.exit(0));
    };
    if (options.handleSignals ?? true) {
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    }
    return { url, port, media, databaseKind: database.kind, close };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
