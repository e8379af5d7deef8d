import { randomUUID } from "node:crypto";
import { testRedisUrl, waitFor } from "@nexus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import type { Bus } from "./bus.js";
import { MemoryBus } from "./memory-bus.js";
import { RedisBus } from "./redis-bus.js";

/**
 * Two ends of one bus: with Redis, two connections as control and a media host would hold; in-process,
 * the one shared object.
 */
interface Ends {
  control: Bus;
  media: Bus;
}

const implementations: Array<[string, () => Ends]> = [
  [
    "memory",
    () => {
      const bus = new MemoryBus();
      return { control: bus, media: bus };
    },
  ],
  ["redis", () => ({ control: new RedisBus(testRedisUrl()), media: new RedisBus(testRedisUrl()) })],
];

function collector() {
  const received: unknown[] = [];
  return { received, handler: (m: unknown) => received.push(m) };
}

describe.each(implementations)("%s bus", (_name, make) => {
  const open: Ends[] = [];
  const ends = () => {
    const e = make();
    open.push(e);
    return e;
  };
  // Channels are unique per test so tests sharing one Redis never see each other's messages.
  const channel = () => `test:${randomUUID()}`;

  afterEach(async () => {
    for (const e of open.splice(0)) await Promise.all([e.control.close(), e.media.close()]);
  });

  it("delivers a message published on one end to a subscriber on the other, as a JSON copy", async () => {
    const { control, media } = ends();
    const ch = channel();
    const c = collector();
    await media.subscribe(ch, c.handler);
    const sent = { type: "meeting-ended", meeting_id: "m1", at: new Date(0), skip: undefined };
    await control.publish(ch, sent);
    await waitFor("delivery", async () => c.received.length === 1, { timeoutMs: 5000 });
    expect(c.received[0]).toEqual({
      type: "meeting-ended",
      meeting_id: "m1",
      at: "1970-01-01T00:00:00.000Z",
    });
    expect(c.received[0]).not.toBe(sent);
  });

  it("gives every subscriber of a channel the message in publish order, and nothing from other channels", async () => {
    const { control, media } = ends();
    const ch = channel();
    const other = channel();
    const a = collector();
    const b = collector();
    const elsewhere = collector();
    await media.subscribe(ch, a.handler);
    await media.subscribe(ch, b.handler);
    await media.subscribe(other, elsewhere.handler);
    for (let i = 0; i < 20; i++) await control.publish(ch, { n: i });
    await waitFor("delivery", async () => a.received.length === 20 && b.received.length === 20, {
      timeoutMs: 5000,
    });
    const expected = Array.from({ length: 20 }, (_, i) => ({ n: i }));
    expect(a.received).toEqual(expected);
    expect(b.received).toEqual(expected);
    expect(elsewhere.received).toEqual([]);
  });

  it("stops delivering to a handler after its unsubscribe, while others on the channel keep receiving", async () => {
    const { control, media } = ends();
    const ch = channel();
    const gone = collector();
    const stays = collector();
    const unsubscribe = await media.subscribe(ch, gone.handler);
    await media.subscribe(ch, stays.handler);
    await control.publish(ch, { n: 1 });
    await waitFor("first", async () => gone.received.length === 1 && stays.received.length === 1, {
      timeoutMs: 5000,
    });
    await unsubscribe();
    await unsubscribe();
    await control.publish(ch, { n: 2 });
    await waitFor("second", async () => stays.received.length === 2, { timeoutMs: 5000 });
    // Delivery is ordered per channel, so had the first handler still been subscribed it would have had n=2 by now.
    expect(gone.received).toEqual([{ n: 1 }]);
  });

  it("stops delivering on a channel whose last handler unsubscribed", async () => {
    const { control, media } = ends();
    const ch = channel();
    const probe = channel();
    const c = collector();
    const p = collector();
    const unsubscribe = await media.subscribe(ch, c.handler);
    await media.subscribe(probe, p.handler);
    await unsubscribe();
    await control.publish(ch, { n: 1 });
    await control.publish(probe, { done: true });
    await waitFor("probe", async () => p.received.length === 1, { timeoutMs: 5000 });
    expect(c.received).toEqual([]);
  });

  it("keeps delivering to other handlers when one handler throws", async () => {
    const { control, media } = ends();
    const ch = channel();
    const c = collector();
    await media.subscribe(ch, () => {
      throw new Error("handler bug");
    });
    await media.subscribe(ch, c.handler);
    await control.publish(ch, { n: 1 });
    await control.publish(ch, { n: 2 });
    await waitFor("delivery", async () => c.received.length === 2, { timeoutMs: 5000 });
    expect(c.received).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("answers ping while open and refuses to publish after close; close is idempotent", async () => {
    const { control } = ends();
    await expect(control.ping()).resolves.toBeUndefined();
    await control.close();
    await control.close();
    await expect(control.publish(channel(), { n: 1 })).rejects.toThrow(/closed/);
    await expect(control.ping()).rejects.toThrow(/closed/);
  });
});
