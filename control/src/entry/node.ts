import { serve } from "@hono/node-server";
import { createApp } from "../app.js";
import { createControlDeps } from "../compose.js";
import { ConfigError, loadControlConfig } from "../config.js";

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
const app = createApp(runtime.deps);
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info({ port: info.port, host: config.host }, "control listening");
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "control stopping");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await runtime.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
