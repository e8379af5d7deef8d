import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestDatabase, freePort, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET, TestClock, userToken } from "./harness.js";

const controlDir = fileURLToPath(new URL("..", import.meta.url));
const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(tsx, ["src/entry/node.ts"], {
    cwd: controlDir,
    env: { PATH: process.env.PATH ?? "", LOG_DIR: "-", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe("node entry point", () => {
  let db: TestDatabase;
  let running: ChildProcess | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(testPgUrl());
  });
  afterAll(async () => {
    if (running && running.exitCode === null) running.kill("SIGKILL");
    await db.drop();
  });

  it("serves the API on PostgreSQL and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const proc = start({ PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: db.url, JWT_SECRET: SECRET });
    running = proc.child;
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    let health: Response | undefined;
    while (Date.now() < deadline && proc.child.exitCode === null) {
      health = await fetch(`${base}/health`).catch(() => undefined);
      if (health) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(health?.status, proc.output()).toBe(200);
    const token = await userToken({ tenant: "node-t", clock: new TestClock(Date.now()) });
    const created = await fetch(`${base}/api/meetings`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "over TCP" }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ title: "over TCP", tenant_id: "node-t" });
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  it("refuses to start in production with the development secret", async () => {
    const proc = start({ NODE_ENV: "production", DATABASE_URL: db.url });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/refusing the development secret/);
  });
});
