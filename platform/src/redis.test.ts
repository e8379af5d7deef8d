import { randomUUID } from "node:crypto";
import { testRedisUrl, waitFor } from "@nexus/testkit";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { Bus } from "./bus.js";
import { createBus, createHostRegistry } from "./factory.js";
import { MemoryBus, MemoryHostRegistry } from "./memory-bus.js";
import { createMetricsRegistry } from "./metrics.js";
import { RedisBus } from "./redis-bus.js";
import { RedisHostRegistry } from "./redis-host-registry.js";

const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
const raw = () => {
  const r = new Redis(testRedisUrl());
  closers.push(() => r.quit());
  return r;
};
const bus = (b: Bus) => {
  closers.push(() => b.close());
  return b;
};

describe("createBus / createHostRegistry", () => {
  it("choose Redis when REDIS_URL is set", async () => {
    const b = bus(createBus({ REDIS_URL: testRedisUrl() }));
    expect(b.kind).toBe("redis");
    await b.ping();
    const registry = createHostRegistry(
      { REDIS_URL: testRedisUrl() },
      { keyPrefix: `test:${randomUUID()}:` },
    );
    closers.push(() => registry.close());
    expect(registry).toBeInstanceOf(RedisHostRegistry);
  });

  it("choose Redis from REDIS_HOST and REDIS_PORT", async () => {
    const url = new URL(testRedisUrl());
    const b = bus(createBus({ REDIS_HOST: url.hostname, REDIS_PORT: url.port }));
    expect(b.kind).toBe("redis");
    await b.ping();
  });

  it("hand back the shared in-process instances when no Redis is configured", async () => {
    const memoryBus = new MemoryBus();
    const memoryRegistry = new MemoryHostRegistry();
    expect(createBus({}, { memory: memoryBus })).toBe(memoryBus);
    expect(createHostRegistry({}, { memory: memoryRegistry })).toBe(memoryRegistry);
    expect(createBus({}).kind).toBe("memory");
  });
});

describe("RedisBus", () => {
  it("ignores a message that is not JSON and delivers the next one", async () => {
    const badMessages: string[] = [];
    const b = bus(new RedisBus(testRedisUrl(), { onBadMessage: (channel) => badMessages.push(channel) }));
    const ch = `test:${randomUUID()}`;
    const received: unknown[] = [];
    await b.subscribe(ch, (m) => received.push(m));
    await raw().publish(ch, "{not json");
    await b.publish(ch, { ok: true });
    await waitFor("delivery", async () => received.length === 1, { timeoutMs: 5000 });
    expect(received).toEqual([{ ok: true }]);
    expect(badMessages).toEqual([ch]);
  });

  /** Connections of this test's bus only: other test files share the Redis server. */
  async function connectionsNamed(name: string): Promise<Array<{ id: string; name: string }>> {
    const list = (await raw().client("LIST")) as string;
    return list
      .split("\n")
      .map((line) => Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string])))
      .filter((c) => c.name?.startsWith(name))
      .map((c) => ({ id: c.id ?? "", name: c.name ?? "" }));
  }

  it("resubscribes and keeps delivering after Redis drops the subscriber connection", async () => {
    const connectionName = `test-${randomUUID()}`;
    const b = bus(new RedisBus(testRedisUrl(), { connectionName }));
    const ch = `test:${randomUUID()}`;
    const received: Array<{ n: number }> = [];
    await b.subscribe(ch, (m) => received.push(m as { n: number }));
    const sub = (await connectionsNamed(connectionName)).find((c) => c.name.endsWith("-sub"));
    expect(sub).toBeDefined();
    expect(Number(await raw().client("KILL", "ID", sub?.id ?? ""))).toBe(1);
    // Until ioredis has reconnected and resubscribed, publications are lost; keep publishing until one lands.
    let n = 0;
    await waitFor(
      "delivery after reconnect",
      async () => {
        await b.publish(ch, { n: n++ });
        return received.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(received[0]?.n).toBeGreaterThanOrEqual(0);
    const after = await connectionsNamed(connectionName);
    expect(after.map((c) => c.name).sort()).toEqual([`${connectionName}-pub`, `${connectionName}-sub`]);
    expect(after.find((c) => c.name.endsWith("-sub"))?.id).not.toBe(sub?.id);
  });

  it("quits both of its connections on close", async () => {
    const connectionName = `test-${randomUUID()}`;
    const b = new RedisBus(testRedisUrl(), { connectionName });
    await b.subscribe(`test:${randomUUID()}`, () => {});
    await b.ping();
    expect((await connectionsNamed(connectionName)).length).toBe(2);
    await b.close();
    await b.close();
    await waitFor("connections closed", async () => (await connectionsNamed(connectionName)).length === 0, {
      timeoutMs: 5000,
    });
  });
});

describe("RedisHostRegistry", () => {
  it("skips a hash entry that is not a valid host", async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const registry = new RedisHostRegistry(testRedisUrl(), { keyPrefix });
    closers.push(() => registry.close());
    await raw().hset(`${keyPrefix}hosts`, "broken", "{nope", "partial", JSON.stringify({ id: "partial" }));
    await registry.upsert({
      id: "h1",
      ws_url: "ws://127.0.0.1:1/",
      capacity: 1,
      load: 0,
      rooms: 0,
      draining: false,
      heartbeat_at: 1,
    });
    expect((await registry.list()).map((h) => h.id)).toEqual(["h1"]);
  });

  it("extends the TTL of a claim when its owner claims again", async () => {
    const keyPrefix = `test:${randomUUID()}:`;
    const registry = new RedisHostRegistry(testRedisUrl(), { keyPrefix });
    closers.push(() => registry.close());
    await registry.claimMeeting("m1", "h1", 2000);
    expect(await registry.claimMeeting("m1", "h1", 600_000)).toBe("h1");
    expect(await raw().pttl(`${keyPrefix}meeting-owner:m1`)).toBeGreaterThan(2000);
    expect(await registry.claimMeeting("m1", "h2", 600_000)).toBe("h1");
  });
});

describe("createMetricsRegistry", () => {
  it("exposes the default process metrics under the prefix", async () => {
    const registry = createMetricsRegistry("nexus_test_");
    const text = await registry.metrics();
    expect(text).toMatch(/^nexus_test_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nexus_test_nodejs_heap_size_used_bytes \d/m);
  });
});
