import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type Database } from "@nexus/drizzle";
import { createLogger, MemoryBus } from "@nexus/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appPerSuite,
  BACKENDS,
  call,
  freshTenant,
  makeApp,
  type TestApp,
  testConfig,
  userToken,
} from "./harness.js";

describe.each(BACKENDS)("health and metrics on $name", (backend) => {
  let database: Database;
  let t: TestApp;
  appPerSuite(backend, (app, db) => {
    t = app;
    database = db;
  });

  it("/health answers ok when database and bus answer", async () => {
    const res = await call(t, "GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "ok",
      checks: { database: { status: "ok" }, bus: { status: "ok" } },
    });
  });

  it("/health answers 503 degraded when the bus is down", async () => {
    const bus = new MemoryBus();
    await bus.close();
    const res = await call(makeApp(database, { bus }), "GET", "/health");
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      status: "degraded",
      checks: { database: { status: "ok" }, bus: { status: "fail", error: "bus closed" } },
    });
  });

  it("/health answers 503 when the bus hangs past the timeout", async () => {
    const bus = new MemoryBus();
    bus.ping = () => new Promise(() => {});
    const app = makeApp(database, { bus, config: testConfig({ HEALTH_TIMEOUT_MS: "100" }) });
    const res = await call(app, "GET", "/health");
    expect(res.status).toBe(503);
    expect(res.body.checks.bus.error).toBe("no answer within 100 ms");
  });

  it("/metrics counts requests by route pattern and reports active meetings", async () => {
    const m = makeApp(database);
    const token = await userToken({ tenant: freshTenant(), clock: m.clock });
    const id = (await call(m, "POST", "/api/meetings", { token, body: { title: "x" } })).body.id;
    await call(m, "POST", `/api/meetings/${id}/start`, { token });
    await call(m, "GET", `/api/meetings/${id}`, { token });
    await call(m, "GET", `/api/meetings/${crypto.randomUUID()}`, { token });
    await call(m, "GET", "/nowhere");
    const res = await call(m, "GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = res.body as string;
    expect(text).toContain(
      'nexus_control_http_requests_total{method="POST",route="/api/meetings",status="201"} 1',
    );
    expect(text).toContain(
      'nexus_control_http_requests_total{method="GET",route="/api/meetings/:id",status="200"} 1',
    );
    expect(text).toContain(
      'nexus_control_http_requests_total{method="GET",route="/api/meetings/:id",status="404"} 1',
    );
    expect(text).toContain(
      'nexus_control_http_requests_total{method="GET",route="unmatched",status="404"} 1',
    );
    expect(text).toMatch(/nexus_control_http_request_duration_seconds_bucket\{le="0.005",method="POST"/);
    expect(text).toMatch(/^nexus_control_active_meetings [1-9]\d*$/m);
    expect(text).toContain("nexus_control_process_cpu_user_seconds_total");
  });
});

describe("API description, CORS, request ids, logs", () => {
  let database: Database;
  let t: TestApp;
  beforeAll(async () => {
    database = createDb("memory://");
    await database.migrate();
    t = makeApp(database);
  });
  afterAll(() => database.close());

  it("/openapi.json is OpenAPI 3.1 generated from the request schemas", async () => {
    const res = await call(t, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    const create = doc.paths["/api/meetings"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["title"]);
    expect(body.properties.max_participants).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 1000,
      default: 100,
    });
    expect(body.additionalProperties).toBe(false);
    const list = doc.paths["/api/meetings"].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual([
      "limit",
      "cursor",
      "status",
      "from",
      "to",
    ]);
    const meeting = doc.paths["/api/meetings/{id}"].get.responses["200"].content["application/json"].schema;
    expect(Object.keys(meeting.properties)).toContain("has_password");
    expect(Object.keys(meeting.properties)).not.toContain("password_hash");
    expect(doc.paths["/api/meetings/{id}/join"].post.responses["423"]).toBeTruthy();
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
  });

  it("/docs is a self-contained HTML page listing every operation", async () => {
    const res = await call(t, "GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const html = res.body as string;
    expect(html).not.toMatch(/<script|<link|src=/i);
    for (const op of [
      "POST</span> <code>/api/meetings/{id}/join",
      "GET</span> <code>/api/meetings/{id}/messages",
    ]) {
      expect(html).toContain(op);
    }
    expect(html).toContain("max_participants");
  });

  it("honours an incoming X-Request-Id and echoes it in errors", async () => {
    const res = await call(t, "GET", "/api/meetings", { headers: { "X-Request-Id": "trace-abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-abc-123");
    expect(res.body.error.request_id).toBe("trace-abc-123");
  });

  it("answers CORS preflights for configured origins only", async () => {
    const c = makeApp(database, {
      config: testConfig({ CORS_ORIGINS: "https://app.example, https://b.example" }),
    });
    const ok = await c.app.request("/api/meetings", {
      method: "OPTIONS",
      headers: { Origin: "https://b.example", "Access-Control-Request-Method": "POST" },
    });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://b.example");
    const other = await c.app.request("/api/meetings", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const star = await t.app.request("/health", { headers: { Origin: "https://any.example" } });
    expect(star.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("marks actual answers, errors included, for configured origins only", async () => {
    const c = makeApp(database, { config: testConfig({ CORS_ORIGINS: "https://app.example" }) });
    const ok = await c.app.request("/health", { headers: { Origin: "https://app.example" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-expose-headers")).toBe("X-Request-Id");
    expect(ok.headers.get("vary")).toBe("Origin");
    expect(ok.headers.get("x-request-id")).toBeTruthy();
    const denied = await c.app.request("/api/meetings", { headers: { Origin: "https://app.example" } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const other = await c.app.request("/health", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(other.headers.get("vary")).toBe("Origin");
  });

  it("logs each request with its id, and a server error once with its stack to error.log, not to the client", async () => {
    const dir = mkdtempSync(join(tmpdir(), "control-logs-"));
    const logger = createLogger({ name: "control", dir, stdout: false, level: "info" });
    const explodingDb = {
      select: () => {
        throw new Error("database exploded at /secret/path");
      },
    } as never;
    const broken = makeApp(database, { deps: { logger, db: explodingDb } });
    const token = await userToken({ clock: broken.clock });
    const res = await call(broken, "GET", `/api/meetings/${crypto.randomUUID()}`, {
      token,
      headers: { "X-Request-Id": "req-500" },
    });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: "internal", message: "internal error", request_id: "req-500" },
    });
    const deadline = Date.now() + 3000;
    let errors = "";
    while (Date.now() < deadline) {
      errors = readFileSync(join(dir, "error.log"), "utf8");
      if (errors.includes("req-500")) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines = errors
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ request_id: "req-500", code: "internal", msg: "request failed" });
    expect(lines[0].err.stack).toContain("database exploded");
    let combined = "";
    while (Date.now() < deadline) {
      combined = readFileSync(join(dir, "combined.log"), "utf8");
      if (combined.includes('"msg":"request"')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(combined).toMatch(/"request_id":"req-500".*"status":500.*"msg":"request"/);
  });
});
