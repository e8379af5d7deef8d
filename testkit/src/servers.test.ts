import { existsSync } from "node:fs";
import { meetings } from "@nexus/drizzle";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase, startPostgres, startRedis, testPgUrl, testRedisUrl, waitFor } from "./index.js";

async function query(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("global setup", () => {
  it("hands the same server URLs to workers through inject and the environment", () => {
    expect(inject("pgUrl")).toBe(testPgUrl());
    expect(inject("redisUrl")).toBe(testRedisUrl());
    expect(testPgUrl()).toMatch(/^postgres:\/\/.+@127\.0\.0\.1:\d+\//);
    expect(testRedisUrl()).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it("runs a PostgreSQL that answers a query round trip", async () => {
    const result = await query(
      testPgUrl(),
      "select $1::int + 1 as n, current_setting('fsync') as fsync",
      [41],
    );
    expect(result.rows).toEqual([{ n: 42, fsync: "off" }]);
  });

  it("runs a Redis that delivers a published message to a subscriber", async () => {
    const sub = new Redis(testRedisUrl());
    const pub = new Redis(testRedisUrl());
    try {
      const received: string[] = [];
      sub.on("message", (_channel, message) => received.push(message));
      await sub.subscribe("testkit:roundtrip");
      expect(await pub.publish("testkit:roundtrip", "hello")).toBe(1);
      await waitFor("message", async () => received.length > 0, { timeoutMs: 5000 });
      expect(received).toEqual(["hello"]);
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  });
});

describe("createTestDatabase", () => {
  const created: Array<{ drop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const db of created) await db.drop();
  });

  it("gives each caller its own migrated database", async () => {
    const a = await createTestDatabase(testPgUrl());
    const b = await createTestDatabase(testPgUrl());
    created.push(a, b);
    expect(a.url).not.toBe(b.url);
    await a.database.db.insert(meetings).values({
      id: "00000000-0000-4000-8000-000000000001",
      tenantId: "t1",
      title: "only in a",
      settings: {
        mute_on_join: false,
        video_off_on_join: false,
        allow_screen_share: true,
        allow_multiple_screen_shares: false,
        allow_chat: true,
        empty_timeout_seconds: 300,
      },
      createdBy: "alice",
    });
    expect((await a.database.db.select().from(meetings)).map((m) => m.title)).toEqual(["only in a"]);
    expect(await b.database.db.select().from(meetings)).toEqual([]);
  });

  it("drops the database so it no longer exists on the server", async () => {
    const t = await createTestDatabase(testPgUrl());
    const name = new URL(t.url).pathname.slice(1);
    await t.drop();
    await t.drop();
    const rows = await query(testPgUrl(), "select 1 from pg_database where datname = $1", [name]);
    expect(rows.rowCount).toBe(0);
  });
});

describe("standalone servers", () => {
  it("starts a PostgreSQL of its own and leaves no process or directory behind after stop", async () => {
    const server = await startPostgres();
    const rows = await query(server.url, "select current_user as u");
    expect(rows.rows).toEqual([{ u: "postgres" }]);
    const pidRows = await query(server.url, "select pg_postmaster_start_time() is not null as up");
    expect(pidRows.rows[0].up).toBe(true);
    const dataDir = (await query(server.url, "show data_directory")).rows[0].data_directory as string;
    const pid = Number(
      (await import("node:fs")).readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0],
    );
    expect(processAlive(pid)).toBe(true);
    await server.stop();
    await server.stop();
    await waitFor("postmaster gone", async () => !processAlive(pid), { timeoutMs: 10_000 });
    expect(existsSync(dataDir)).toBe(false);
    await expect(query(server.url, "select 1")).rejects.toThrow();
  });

  it("starts a Redis of its own that is gone after stop", async () => {
    const server = await startRedis();
    const client = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.set("k", "v");
      expect(await client.get("k")).toBe("v");
      const dir = (await client.config("GET", "dir")) as string[];
      await server.stop();
      await waitFor("redis gone", async () => client.status === "end", { timeoutMs: 10_000 });
      expect(existsSync(dir[1] ?? "")).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});
