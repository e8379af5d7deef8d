/**
 * Diagnostic third server: Hono on @hono/node-server with exactly the baseline's handlers (raw pg, same
 * JWT check, no middleware). Ours minus this = what our middleware and Drizzle cost; this minus Express
 * = what the framework choice alone buys.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import {
  baselineConfig,
  createMeeting,
  createPool,
  createVerifier,
  errorBody,
  getMeeting,
  stopOnSignals,
  type User,
} from "./baseline-common.js";

const config = baselineConfig(process.env);
const pool = createPool(config.databaseUrl, config.poolMax);
const verify = createVerifier(config.secret);

const app = new Hono<{ Variables: { user: User } }>()
  .get("/health", async (c) => {
    await pool.query("select 1");
    return c.json({ status: "ok" });
  })
  .use("/api/*", async (c, next) => {
    c.set("user", await verify(c.req.header("authorization")));
    await next();
  })
  .get("/api/meetings/:id", async (c) => c.json(await getMeeting(pool, c.var.user, c.req.param("id")), 200))
  .post("/api/meetings", async (c) => c.json(await createMeeting(pool, c.var.user, await c.req.json()), 201));
app.onError((err, c) => {
  const { status, body } = errorBody(err);
  return c.json(body, status as 400);
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
stopOnSignals((done) => server.close(() => done()), pool);
