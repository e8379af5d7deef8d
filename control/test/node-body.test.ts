import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createDb, type Database } from "@nexus/drizzle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshTenant, makeApp, type TestApp, testConfig, userToken } from "./harness.js";

// On @hono/node-server the control plane reads bodies from the node stream itself (src/body.ts);
// these go over real TCP so that path, not app.request's, is the one answering.
let database: Database;
let t: TestApp;
let server: ReturnType<typeof serve>;
let base: string;

beforeAll(async () => {
  database = createDb("memory://");
  await database.migrate();
  t = makeApp(database, { config: testConfig({ BODY_LIMIT_BYTES: "2048" }) });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await database.close();
});

/** A raw node request, so the test chooses Content-Length or chunked transfer itself. */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  chunks: string[],
): Promise<{ status: number; body: { [k: string]: unknown } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("request bodies over TCP on @hono/node-server", () => {
  it("creates a meeting from a JSON body sent in chunks, and reads it back", async () => {
    const tenant = freshTenant();
    const token = await userToken({ tenant, clock: t.clock });
    const json = JSON.stringify({
      title: "Chunked standup",
      max_participants: 7,
      settings: { allow_chat: false },
    });
    const created = await send(
      "POST",
      "/api/meetings",
      { Authorization: `Bearer ${token}`, "Content-Type": "application/json; charset=utf-8" },
      [json.slice(0, 10), json.slice(10)],
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: "Chunked standup", max_participants: 7, tenant_id: tenant });
    expect((created.body.settings as { allow_chat: boolean }).allow_chat).toBe(false);
    const read = await fetch(`${base}/api/meetings/${created.body.id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: created.body.id, title: "Chunked standup" });
  });

  it("answers 413 payload_too_large for a declared Content-Length over the limit", async () => {
    const token = await userToken({ tenant: freshTenant(), clock: t.clock });
    const json = JSON.stringify({ title: "big", description: "x".repeat(4000) });
    const res = await send(
      "POST",
      "/api/meetings",
      {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        "Content-Length": String(Buffer.byteLength(json)),
      },
      [json],
    );
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("answers 413 payload_too_large for a chunked body that grows over the limit", async () => {
    const token = await userToken({ tenant: freshTenant(), clock: t.clock });
    const res = await send(
      "POST",
      "/api/meetings",
      { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      ['{"title":"big","description":"', "x".repeat(1500), "x".repeat(1500), '"}'],
    );
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("answers 400 bad_request for malformed JSON and 400 validation_failed for a non-JSON body", async () => {
    const token = await userToken({ tenant: freshTenant(), clock: t.clock });
    const malformed = await send(
      "POST",
      "/api/meetings",
      { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      ['{"title":'],
    );
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: { code: "bad_request" } });
    const plain = await send(
      "POST",
      "/api/meetings",
      { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
      ['{"title":"not json typed"}'],
    );
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ error: { code: "validation_failed" } });
  });

  it("updates with PUT and keeps answering on the same server after refusals", async () => {
    const token = await userToken({ tenant: freshTenant(), clock: t.clock });
    const created = await send(
      "POST",
      "/api/meetings",
      { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      [JSON.stringify({ title: "before" })],
    );
    const updated = await send(
      "PUT",
      `/api/meetings/${created.body.id}`,
      { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      [JSON.stringify({ title: "after", locked: true })],
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ title: "after", locked: true });
  });
});
