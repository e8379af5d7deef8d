import { createDb, type Database } from "@nexus/drizzle";
import type { LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLambdaHandler } from "../src/entry/lambda.js";
import { makeApp, SECRET, type TestApp, userToken } from "./harness.js";

/** What API Gateway HTTP API (payload 2.0) hands to the function. */
function httpApiEvent(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown; query?: string; base64?: boolean } = {},
): LambdaEvent {
  const json = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: opts.query ?? "",
    headers: { host: "abc123.execute-api.eu-west-1.amazonaws.com", ...opts.headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "vitest" },
      requestId: "lambda-req-1",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2030:10:00:00 +0000",
      timeEpoch: 1_893_492_000_000,
    },
    body: json === undefined ? undefined : opts.base64 ? Buffer.from(json).toString("base64") : json,
    isBase64Encoded: opts.base64 ?? false,
  } as unknown as LambdaEvent;
}

describe("control as an AWS Lambda function (API Gateway v2 events, PGlite)", () => {
  let database: Database;
  let t: TestApp;
  let builds = 0;
  let handler: ReturnType<typeof createLambdaHandler>;
  beforeAll(async () => {
    database = createDb("memory://");
    await database.migrate();
    t = makeApp(database);
    handler = createLambdaHandler(async () => {
      builds++;
      return t.app;
    });
  });
  afterAll(() => database.close());

  it("creates, lists and starts a meeting through events, building deps once", async () => {
    const token = await userToken({ tenant: "lambda-tenant", clock: t.clock });
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await handler(
      httpApiEvent("POST", "/api/meetings", { headers: auth, body: { title: "From λ" } }),
    );
    expect(created.statusCode).toBe(201);
    const meeting = JSON.parse(created.body);
    expect(meeting).toMatchObject({ title: "From λ", tenant_id: "lambda-tenant", status: "scheduled" });

    const listed = await handler(
      httpApiEvent("GET", "/api/meetings", { headers: auth, query: "limit=5&status=scheduled" }),
    );
    expect(listed.statusCode).toBe(200);
    expect(JSON.parse(listed.body).data.map((m: { id: string }) => m.id)).toEqual([meeting.id]);

    const started = await handler(
      httpApiEvent("POST", `/api/meetings/${meeting.id}/start`, { headers: auth, body: {}, base64: true }),
    );
    expect(started.statusCode).toBe(200);
    expect(JSON.parse(started.body).status).toBe("active");
    expect(builds).toBe(1);
  });

  it("answers errors in the same JSON shape", async () => {
    const res = await handler(httpApiEvent("GET", "/api/meetings", { headers: { "x-request-id": "gw-1" } }));
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: "unauthorized", message: "missing bearer token", request_id: "gw-1" },
    });
    const health = await handler(httpApiEvent("GET", "/health"));
    expect(health.statusCode).toBe(200);
  });

  it("retries a failed cold start on the next invocation", async () => {
    let attempts = 0;
    const flaky = createLambdaHandler(async () => {
      attempts++;
      if (attempts === 1) throw new Error("database not reachable yet");
      return t.app;
    });
    await expect(flaky(httpApiEvent("GET", "/health"))).rejects.toThrow("database not reachable yet");
    const res = await flaky(httpApiEvent("GET", "/health"));
    expect(res.statusCode).toBe(200);
    expect(attempts).toBe(2);
  });

  it("the exported handler builds its deps from the environment", async () => {
    Object.assign(process.env, {
      DATABASE_URL: "memory://",
      JWT_SECRET: SECRET,
      MIGRATE_ON_BOOT: "1",
      LOG_DIR: "-",
      LOG_LEVEL: "silent",
    });
    const { handler: deployed } = await import("../src/entry/lambda.js");
    const token = await userToken({ tenant: "env-tenant" });
    const res = await deployed(
      httpApiEvent("POST", "/api/meetings", {
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: { title: "env" },
      }),
    );
    expect(res.statusCode).toBe(201);
    const health = await deployed(httpApiEvent("GET", "/health"));
    expect(JSON.parse(health.body).status).toBe("ok");
  });
});
