/**
 * The control process of a deployment: the REST API with the built web client in front of it (one origin
 * behind the proxy). `node --import tsx server/src/entry/control.ts`; WEB_DIR names the bundle (default
 * web/dist). Outside production it also serves the development sign-in, as `npm start` does.
 */
import { serve } from "@hono/node-server";
import { ConfigError, createApp, createControlDeps, loadControlConfig } from "@nexus/control";
import { DEFAULT_WEB_DIR, webFront } from "../front.js";

let config: ReturnType<typeof loadControlConfig>;
try {
  config = loadControlConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const runtime = await createControlDeps(
  config,
  {},
  { migrate: process.env.MIGRATE_ON_BOOT !== "0", dispatchWebhooks: config.webhooks.dispatch },
);
const { logger } = runtime.deps;
const app = webFront({
  control: createApp(runtime.deps),
  config,
  webDir: process.env.WEB_DIR || DEFAULT_WEB_DIR,
});
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info({ port: info.port, host: config.host }, "control (with the web client) listening");
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "control stopping");
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
  await runtime.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
