import { meetings } from "@nexus/drizzle";
import { count, eq, sql } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv } from "../deps.js";

async function probe(run: () => Promise<unknown>, timeoutMs: number) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: "ok" as const, latency_ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      status: "fail" as const,
      latency_ms: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Unauthenticated operational endpoints: load balancers and Prometheus do not carry user tokens. */
export const healthRoutes = () =>
  new Hono<AppEnv>()
    .get("/health", async (c) => {
      const { db, bus, config } = c.get("deps");
      const [database, busCheck] = await Promise.all([
        probe(() => db.execute(sql`select 1`), config.healthTimeoutMs),
        probe(() => bus.ping(), config.healthTimeoutMs),
      ]);
      const ok = database.status === "ok" && busCheck.status === "ok";
      const body = {
        status: ok ? ("ok" as const) : ("degraded" as const),
        checks: { database, bus: busCheck },
      };
      if (!ok) c.get("log").warn({ checks: body.checks }, "health degraded");
      return ok ? c.json(body, 200) : c.json(body, 503);
    })
    .get("/metrics", async (c) => {
      const { db, metrics } = c.get("deps");
      try {
        const [row] = await db.select({ n: count() }).from(meetings).where(eq(meetings.status, "active"));
        metrics.activeMeetings.set(row?.n ?? 0);
      } catch (err) {
        // A scrape still reports process and HTTP figures when the database is away.
        c.get("log").warn({ err }, "active meetings count failed");
      }
      return c.body(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType });
    });
