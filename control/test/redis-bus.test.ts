import type { Database } from "@nexus/drizzle";
import type { Bus, Unsubscribe } from "@nexus/platform";
import { BUS_CHANNELS, MeetingBusMessageSchema } from "@nexus/shared/bus";
import { testRedisUrl } from "@nexus/testkit";
import { Redis } from "ioredis";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, call, freshTenant, makeApp, userToken } from "./harness.js";

/**
 * The smallest Bus over real Redis pub/sub, enough to prove that what control publishes crosses a real
 * Redis to a separate subscriber connection (the media host's side). Not the platform implementation.
 */
class RedisPublishBus implements Bus {
  readonly kind = "redis" as const;
  constructor(private readonly pub: Redis) {}
  async publish(channel: string, message: unknown) {
    await this.pub.publish(channel, JSON.stringify(message));
  }
  async subscribe(): Promise<Unsubscribe> {
    throw new Error("publish-only test bus");
  }
  async ping() {
    await this.pub.ping();
  }
  async close() {
    this.pub.disconnect();
  }
}

describe.each(BACKENDS)("control publishes over real Redis on $name", (backend) => {
  let database: Database;
  let drop: () => Promise<void>;
  let pub: Redis;
  let sub: Redis;
  const received: unknown[] = [];
  beforeAll(async () => {
    ({ database, drop } = await backend.open());
    pub = new Redis(testRedisUrl(), { lazyConnect: true });
    sub = new Redis(testRedisUrl(), { lazyConnect: true });
    await pub.connect();
    await sub.connect();
    sub.on("message", (channel: string, raw: string) => {
      if (channel === BUS_CHANNELS.meetings) received.push(JSON.parse(raw));
    });
    await sub.subscribe(BUS_CHANNELS.meetings);
  });
  afterAll(async () => {
    sub.disconnect();
    pub.disconnect();
    await drop();
  });

  async function waitFor(pred: (m: unknown) => boolean) {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const hit = received.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  }

  it("/end and PUT reach a Redis subscriber as valid bus messages; /health checks Redis", async () => {
    const t = makeApp(database, { bus: new RedisPublishBus(pub) });
    const tenant = freshTenant();
    const token = await userToken({ tenant, clock: t.clock });
    const id = (await call(t, "POST", "/api/meetings", { token, body: { title: "r" } })).body.id as string;
    await call(t, "POST", `/api/meetings/${id}/start`, { token });
    await call(t, "PUT", `/api/meetings/${id}`, {
      token,
      body: { lobby_enabled: true, max_participants: 9 },
    });
    expect((await call(t, "POST", `/api/meetings/${id}/end`, { token })).status).toBe(200);

    const updated = await waitFor((m) => (m as { meeting_id?: string; type?: string }).meeting_id === id);
    expect(updated).toEqual({
      type: "meeting-updated",
      tenant_id: tenant,
      meeting_id: id,
      changes: { lobby_enabled: true, max_participants: 9 },
    });
    const ended = await waitFor(
      (m) =>
        (m as { meeting_id?: string; type?: string }).meeting_id === id &&
        (m as { type: string }).type === "meeting-ended",
    );
    expect(ended).toEqual({
      type: "meeting-ended",
      tenant_id: tenant,
      meeting_id: id,
      reason: "ended_by_host",
    });
    expect(v.is(MeetingBusMessageSchema, ended)).toBe(true);

    const health = await call(t, "GET", "/health");
    expect(health.body.checks.bus.status).toBe("ok");
  });
});
