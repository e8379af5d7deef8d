import { AppError } from "@nexus/shared/errors";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { matchedRoutes } from "hono/route";
import { bodyReader } from "./body.js";
import type { AppEnv, ControlDeps } from "./deps.js";
import { notFound, onError } from "./http.js";
import { docsRoutes } from "./routes/docs.js";
import { guestRoutes } from "./routes/guest.js";
import { guestLinkRoutes } from "./routes/guest-links.js";
import { healthRoutes } from "./routes/health.js";
import { historyRoutes } from "./routes/history.js";
import { invitationRoutes } from "./routes/invitations.js";
import { joinRoutes } from "./routes/join.js";
import { meetingRoutes } from "./routes/meetings.js";
import { meetingRecordingRoutes, recordingRoutes } from "./routes/recordings.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { createMeetingQueries } from "./services/queries.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/** The control plane as a value: no module state, so node, Lambda and tests each build their own. */
export function createApp(deps: ControlDeps) {
  const { config, metrics } = deps;
  const queries = createMeetingQueries(deps.db);
  const anyOrigin = config.corsOrigins.includes("*");
  const preflight = cors({
    origin: anyOrigin ? "*" : config.corsOrigins,
    allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
    allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    exposeHeaders: ["X-Request-Id"],
    maxAge: 600,
  });
  const app = new Hono<AppEnv>()
    .use(requestId({ generator: () => deps.randomId() }))
    .use(async (c, next) => {
      const started = performance.now();
      c.set("deps", deps);
      c.set("queries", queries);
      const log = deps.logger.child({ request_id: c.get("requestId") });
      c.set("log", log);
      await next();
      const route = matchedRoutes(c)[c.req.routeIndex];
      const labels = {
        method: c.req.method,
        // Pattern, not raw path, so ids don't explode label cardinality.
        route: route && route.method !== "ALL" ? route.path : "unmatched",
        status: String(c.res.status),
      };
      const seconds = (performance.now() - started) / 1000;
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      log.info(
        { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000) },
        "request",
      );
    })
    .use((c, next) => {
      if (c.req.method === "OPTIONS") return preflight(c, next);
      // Hono's cors sets these through c.res.headers before the handler runs, which on node makes
      // every answer a full fetch Response; c.header() keeps them in the headers the answer is built with.
      const origin = c.req.header("Origin");
      const allowed = anyOrigin ? "*" : origin && config.corsOrigins.includes(origin) ? origin : undefined;
      if (allowed) {
        c.header("Access-Control-Allow-Origin", allowed);
        c.header("Access-Control-Expose-Headers", "X-Request-Id");
      }
      if (!anyOrigin) c.header("Vary", "Origin", { append: true });
      return next();
    })
    .use("/api/*", bodyReader(config.bodyLimitBytes))
    .use("/guest/*", bodyReader(config.bodyLimitBytes))
    .use("/api/*", async (c, next) => {
      const match = BEARER.exec(c.req.header("Authorization") ?? "");
      if (!match) throw new AppError("unauthorized", "missing bearer token");
      const user = await deps.verifier.verify(match[1]!, deps.now());
      c.set("user", user);
      c.set("log", c.get("log").child({ tenant_id: user.tenant_id, user_id: user.sub }));
      await next();
    })
    .route("/", healthRoutes())
    .route("/", docsRoutes())
    .route("/api/meetings", meetingRoutes())
    .route("/api/meetings", joinRoutes())
    .route("/api/meetings", historyRoutes())
    .route("/api/meetings", invitationRoutes())
    .route("/api/meetings", guestLinkRoutes())
    .route("/guest", guestRoutes())
    .route("/api/webhooks", webhookRoutes())
    .route("/api/meetings", meetingRecordingRoutes())
    .route("/api/recordings", recordingRoutes());
  app.onError(onError);
  app.notFound(notFound);
  return app;
}

export type AppType = ReturnType<typeof createApp>;
