import { handle, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { createApp } from "../app.js";
import { createControlDeps } from "../compose.js";
import { loadControlConfig } from "../config.js";
import { WebhookDispatcher } from "../services/webhook-dispatcher.js";

type App = ReturnType<typeof createApp>;
type Handler = (event: LambdaEvent, context?: LambdaContext) => ReturnType<ReturnType<typeof handle>>;

/**
 * A Lambda handler around an app built on first invocation. A failed build is forgotten so the next
 * invocation retries instead of the container answering errors until it is recycled.
 */
export function createLambdaHandler(build: () => Promise<App>): Handler {
  // The adapter too is made once per container, not per invocation.
  let ready: Promise<ReturnType<typeof handle>> | undefined;
  return async (event, context) => {
    ready ??= build()
      .then((app) => handle(app))
      .catch((err: unknown) => {
        ready = undefined;
        throw err;
      });
    return (await ready)(event, context);
  };
}

/**
 * The deployed entry point. Its deps (pool, Redis connections, metrics) live in this module's closure:
 * the one place a module-level cache is right, because a Lambda container is the unit of reuse and
 * warm invocations must not reconnect. Migrations run elsewhere unless MIGRATE_ON_BOOT=1.
 */
export const handler: Handler = createLambdaHandler(async () => {
  const config = loadControlConfig(process.env);
  const runtime = await createControlDeps(config, {}, { migrate: process.env.MIGRATE_ON_BOOT === "1" });
  return createApp(runtime.deps);
});

/**
 * A scheduled invocation (e.g. an EventBridge rule every minute) drains the webhook outbox: with control
 * as a function nothing runs between requests, so this is what delivers webhooks there.
 */
export const drainWebhooks = (() => {
  let ready: Promise<WebhookDispatcher> | undefined;
  return async (): Promise<{ attempts: number }> => {
    ready ??= (async () => {
      const config = loadControlConfig(process.env);
      const { deps } = await createControlDeps(config, {}, {});
      return new WebhookDispatcher({ db: deps.db, logger: deps.logger, config: config.webhooks });
    })().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return { attempts: await (await ready).drain() };
  };
})();
