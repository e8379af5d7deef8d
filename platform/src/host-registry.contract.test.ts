import { randomUUID } from "node:crypto";
import type { HostInfo } from "@nexus/shared/bus";
import { testRedisUrl, waitFor } from "@nexus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import type { ClosableHostRegistry } from "./factory.js";
import { MemoryHostRegistry } from "./memory-bus.js";
import { RedisHostRegistry } from "./redis-host-registry.js";

const implementations: Array<[string, () => ClosableHostRegistry[]]> = [
  [
    "memory",
    () => {
      const registry = new MemoryHostRegistry();
      return [registry, registry];
    },
  ],
  [
    "redis",
    () => {
      // Two connections under one prefix: two control instances racing over the same data.
      const keyPrefix = `test:${randomUUID()}:`;
      return [
        new RedisHostRegistry(testRedisUrl(), { keyPrefix }),
        new RedisHostRegistry(testRedisUrl(), { keyPrefix }),
      ];
    },
  ],
];

const host = (id: string, over: Partial<HostInfo> = {}): HostInfo => ({
  id,
  ws_url: `ws://127.0.0.1:9000/${id}`,
  capacity: 100,
  load: 0,
  rooms: 0,
  draining: false,
  heartbeat_at: 1_000_000,
  ...over,
});

describe.each(implementations)("%s host registry", (_name, make) => {
  const open: ClosableHostRegistry[] = [];
  const pair = () => {
    const registries = make();
    open.push(...registries);
    return registries as [ClosableHostRegistry, ClosableHostRegistry];
  };
  afterEach(async () => {
    for (const r of open.splice(0)) await r.close();
  });

  it("lists the hosts announced from anywhere, with their latest heartbeat", async () => {
    const [a, b] = pair();
    await a.upsert(host("h1"));
    await b.upsert(host("h2", { load: 3 }));
    await a.upsert(host("h1", { heartbeat_at: 2_000_000, rooms: 4 }));
    const listed = await b.list();
    expect(listed.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      host("h1", { heartbeat_at: 2_000_000, rooms: 4 }),
      host("h2", { load: 3 }),
    ]);
  });

  it("forgets a removed host", async () => {
    const [a, b] = pair();
    await a.upsert(host("h1"));
    await a.upsert(host("h2"));
    await b.remove("h1");
    expect((await a.list()).map((h) => h.id)).toEqual(["h2"]);
  });

  it("counts as live only hosts with a recent heartbeat that are not draining", async () => {
    const [a] = pair();
    const now = 5_000_000;
    await a.upsert(host("fresh", { heartbeat_at: now - 1000 }));
    await a.upsert(host("edge", { heartbeat_at: now - 15_000 }));
    await a.upsert(host("stale", { heartbeat_at: now - 15_001 }));
    await a.upsert(host("draining", { heartbeat_at: now, draining: true }));
    const live = await a.live(now, 15_000);
    expect(live.map((h) => h.id).sort()).toEqual(["edge", "fresh"]);
  });

  it("gives a meeting to the first host that claims it and tells later claimants who owns it", async () => {
    const [a, b] = pair();
    const meeting = randomUUID();
    expect(await a.meetingOwner(meeting)).toBeNull();
    expect(await a.claimMeeting(meeting, "h1", 60_000)).toBe("h1");
    expect(await b.claimMeeting(meeting, "h2", 60_000)).toBe("h1");
    expect(await b.meetingOwner(meeting)).toBe("h1");
  });

  it("never splits a meeting between hosts claiming it at the same time", async () => {
    const [a, b] = pair();
    const meeting = randomUUID();
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimMeeting(meeting, `h${i}`, 60_000)),
    );
    expect(new Set(claims).size).toBe(1);
    expect(await a.meetingOwner(meeting)).toBe(claims[0]);
  });

  it("lets only the owner release a meeting, after which another host can claim it", async () => {
    const [a, b] = pair();
    const meeting = randomUUID();
    await a.claimMeeting(meeting, "h1", 60_000);
    await b.releaseMeeting(meeting, "h2");
    expect(await a.meetingOwner(meeting)).toBe("h1");
    await b.releaseMeeting(meeting, "h1");
    expect(await a.meetingOwner(meeting)).toBeNull();
    expect(await b.claimMeeting(meeting, "h2", 60_000)).toBe("h2");
  });

  it("frees a claim whose owner stopped renewing it once its TTL has passed", async () => {
    const [a, b] = pair();
    const meeting = randomUUID();
    await a.claimMeeting(meeting, "h1", 50);
    await waitFor("claim lapses", async () => (await b.meetingOwner(meeting)) === null, { timeoutMs: 5000 });
    expect(await b.claimMeeting(meeting, "h2", 60_000)).toBe("h2");
  });

  it("closes idempotently", async () => {
    const [a] = pair();
    await a.close();
    await a.close();
  });
});

describe("memory host registry", () => {
  it("keeps the owner's claim alive when the owner claims again", async () => {
    let now = 0;
    const registry = new MemoryHostRegistry(() => now);
    await registry.claimMeeting("m", "h1", 1000);
    now = 900;
    expect(await registry.claimMeeting("m", "h1", 1000)).toBe("h1");
    now = 1500;
    expect(await registry.meetingOwner("m")).toBe("h1");
    expect(await registry.claimMeeting("m", "h2", 1000)).toBe("h1");
    now = 2000;
    expect(await registry.meetingOwner("m")).toBeNull();
  });
});
