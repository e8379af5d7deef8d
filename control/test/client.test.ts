import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createDb, type Database } from "@nexus/drizzle";
import { hc } from "hono/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppType } from "../src/app.js";
import { call, freshTenant, host, makeApp, SECRET, type TestApp, TestClock, userToken } from "./harness.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

let database: Database;
beforeAll(async () => {
  database = createDb("memory://");
  await database.migrate();
});
afterAll(() => database.close());

describe("typed client from AppType", () => {
  it("creates, starts and joins a meeting with typed requests and answers", async () => {
    const t: TestApp = makeApp(database);
    await t.registry.upsert(host("h1", { clock: t.clock }));
    const token = await userToken({ tenant: freshTenant(), clock: t.clock });
    const client = hc<AppType>("http://control.local", {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => t.app.request(input, init),
      headers: { Authorization: `Bearer ${token}` },
    });
    const created = await client.api.meetings.$post({ json: { title: "Typed", max_participants: 3 } });
    expect(created.status).toBe(201);
    const meeting = await created.json();
    if (!("id" in meeting)) throw new Error("expected a meeting");
    expect(meeting.max_participants).toBe(3);
    const started = await client.api.meetings[":id"].start.$post({ param: { id: meeting.id } });
    expect(started.status).toBe(200);
    const joined = await client.api.meetings[":id"].join.$post({ param: { id: meeting.id }, json: {} });
    const answer = await joined.json();
    if (!("join_token" in answer)) throw new Error("expected a join answer");
    expect(answer.host_id).toBe("h1");
    const page = await client.api.meetings.$get({ query: { limit: "10", status: "active" } });
    const body = await page.json();
    if (!("data" in body)) throw new Error("expected a page");
    expect(body.data.map((m) => m.id)).toEqual([meeting.id]);
  });
});

describe("npm run token", () => {
  it("prints a token the API accepts, with the given tenant, user and role", async () => {
    const tenant = freshTenant();
    const { stdout } = await promisify(execFile)(
      "node_modules/.bin/tsx",
      [
        "scripts/token.ts",
        "--tenant",
        tenant,
        "--sub",
        "zoe",
        "--role",
        "admin",
        "--name",
        "Zoë",
        "--ttl",
        "120",
      ],
      { cwd: root, env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: "test" } },
    );
    const token = stdout.trim();
    // The script signs with the wall clock, so the app judges it by the wall clock too.
    const t = makeApp(database, { clock: new TestClock(Date.now()) });
    const res = await call(t, "POST", "/api/meetings", { token, body: { title: "minted" } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ tenant_id: tenant, created_by: "zoe" });
  });

  it("refuses an unknown role", async () => {
    const run = promisify(execFile)("node_modules/.bin/tsx", ["scripts/token.ts", "--role", "boss"], {
      cwd: root,
    });
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--role must be") });
  });
});
