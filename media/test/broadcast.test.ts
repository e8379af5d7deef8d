import type { SignalingClient } from "@nexus/shared/signaling/client";
import type { JoinedAck } from "@nexus/shared/signaling/requests";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, inRoom } from "./support/participant.js";

/** Everything a socket received, in arrival order: acks `{ id, ... }` and notifications `{ type, data }`. */
interface Frame {
  id?: number;
  success?: boolean;
  type?: string;
  data?: Record<string, unknown>;
}

interface Member {
  client: SignalingClient;
  ws: WebSocket;
  wire: Frame[];
  ack: JoinedAck;
  closed: Promise<number>;
}

/** Opens a socket that records its frames; joins unless told not to. */
async function open(url: string): Promise<Omit<Member, "ack">> {
  const { client, ws } = await connect(url);
  const wire: Frame[] = [];
  ws.on("message", (raw) => wire.push(JSON.parse(String(raw)) as Frame));
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  return { client, ws, wire, closed };
}

const chatSeqs = (m: Member) =>
  m.wire.filter((f) => f.type === "new-message").map((f) => f.data?.seq as number);
const chatTexts = (m: Member) =>
  m.wire.filter((f) => f.type === "new-message").map((f) => f.data?.text as string);
const isIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

describe("room broadcasts (uWS topics)", () => {
  let t: TestDatabase;
  let fx: HostFixture;
  const everyone: Member[] = [];

  const connectTo = async (meetingId: string, role: "host" | "member" = "member") =>
    open(`${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role })}`);
  const enter = async (m: Omit<Member, "ack">): Promise<Member> => {
    const ack = inRoom(await m.client.request("join-meeting", {}));
    const member = { ...m, ack };
    everyone.push(member);
    return member;
  };
  const join = async (meetingId: string, role: "host" | "member" = "member") =>
    enter(await connectTo(meetingId, role));
  /** Chat from `from`, returned once `witness` has heard it: a barrier that orders what follows. */
  const say = async (from: Member, text: string, witness: Member) => {
    const ack = await from.client.request("send-message", { text });
    await eventually(`${text} reaches the witness`, () => chatTexts(witness).includes(text));
    return ack;
  };

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({ db: t.database, graceMs: 5_000 });
  });
  afterAll(async () => {
    for (const m of everyone) m.client.close();
    await fx?.close();
    await t?.drop();
  });

  it("delivers a chat burst to every member in seq order, the sender's own copy before its ack", async () => {
    const meetingId = await fx.createMeeting();
    const [a, b, c] = [await join(meetingId), await join(meetingId), await join(meetingId)];
    const acks = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => a.client.request("send-message", { text: `a${i}` })),
      ...Array.from({ length: 5 }, (_, i) => b.client.request("send-message", { text: `b${i}` })),
    ]);
    for (const m of [a, b, c]) {
      await eventually("all 15 messages", () => chatSeqs(m).length === 15);
      expect(isIncreasing(chatSeqs(m))).toBe(true);
      expect([...chatSeqs(m)].sort((x, y) => x - y)).toEqual(acks.map((x) => x.seq).sort((x, y) => x - y));
    }
    // The broadcast is published before the handler answers: no ack may overtake its own message.
    for (const sender of [a, b]) {
      for (const [i, frame] of sender.wire.entries()) {
        if (frame.success !== true || typeof frame.data?.seq !== "number") continue;
        const own = sender.wire.findIndex((f) => f.type === "new-message" && f.data?.seq === frame.data?.seq);
        expect(own).toBeGreaterThanOrEqual(0);
        expect(own).toBeLessThan(i);
      }
    }
  });

  it("tells every joiner about every other one exactly by ack or by participant-joined, never itself", async () => {
    const meetingId = await fx.createMeeting();
    const first = await join(meetingId);
    // Six sockets opened at once, each joining as soon as it is open.
    const joiners = await Promise.all(Array.from({ length: 6 }, () => join(meetingId)));
    const all = [first, ...joiners];
    for (const y of all) {
      // Its own join ack is the first thing a socket receives; nothing of the room reaches it before.
      expect(y.wire[0]).toMatchObject({ success: true, data: { participant_id: y.ack.participant_id } });
      const announced = () =>
        y.wire.filter((f) => f.type === "participant-joined").map((f) => f.data?.participant_id);
      expect(announced()).not.toContain(y.ack.participant_id);
      for (const x of all) {
        if (x === y) continue;
        const inAck = y.ack.peers.some((p) => p.participant_id === x.ack.participant_id);
        if (!inAck) await eventually("participant-joined", () => announced().includes(x.ack.participant_id));
      }
    }
    // A host action's broadcast reaches its target before the direct notice that follows it.
    const host = await join(meetingId, "host");
    const target = joiners[0]!;
    await host.client.request("mute-participant", { participant_id: target.ack.participant_id });
    await eventually("moderated", () => target.wire.some((f) => f.type === "moderated"));
    const updated = target.wire.findIndex(
      (f) =>
        f.type === "participant-updated" &&
        f.data?.participant_id === target.ack.participant_id &&
        f.data?.is_muted === true,
    );
    expect(updated).toBeGreaterThanOrEqual(0);
    expect(updated).toBeLessThan(target.wire.findIndex((f) => f.type === "moderated"));
  });

  it("stops a member who left or was removed from hearing the room; rejoining on the same socket resumes it", async () => {
    const meetingId = await fx.createMeeting();
    const host = await join(meetingId, "host");
    const [b, c, d] = [await join(meetingId), await join(meetingId), await join(meetingId)];

    expect(await b.client.request("leave-meeting", {})).toEqual({});
    const leftAt = b.wire.length;
    await say(host, "after b left", d);
    await say(c, "after b left, from c", d);
    expect(b.wire.slice(leftAt)).toEqual([]);

    // The same socket joins again: a new peer, in the channel again.
    b.ack = inRoom(await b.client.request("join-meeting", {}));
    await say(host, "after b rejoined", d);
    await eventually("b hears the room again", () => chatTexts(b).includes("after b rejoined"));
    expect(chatTexts(b)).not.toContain("after b left");

    await host.client.request("remove-participant", { participant_id: c.ack.participant_id });
    expect(await c.closed).toBe(4003);
    const removedAt = c.wire.length;
    await say(host, "after c was removed", d);
    expect(c.wire.slice(removedAt)).toEqual([]);
    expect(c.wire.at(-1)).toMatchObject({ type: "removed" });
    expect(chatTexts(c)).not.toContain("after c was removed");
  });

  it("a dropped member misses what is said in its grace period; its new socket hears the room, the old one nothing", async () => {
    const meetingId = await fx.createMeeting();
    const [a, b, w] = [await join(meetingId), await join(meetingId), await join(meetingId)];
    const token = b.ack.resume_token;
    b.ws.terminate();
    await eventually(
      "the host notices the drop",
      () => fx.host.rooms.get(meetingId)?.peers.get(b.ack.participant_id)?.conn === null,
    );
    await say(a, "while b is away", w);

    const b2 = await open(`${fx.host.wsUrl}/?resume=${token}`);
    everyone.push({ ...b2, ack: b.ack });
    expect(await b2.client.request("join-meeting", {})).toMatchObject({ resumed: true });
    await say(a, "after b is back", w);
    await eventually("b's new socket hears it", () =>
      b2.wire.some((f) => f.data?.text === "after b is back"),
    );
    expect(b2.wire.some((f) => f.data?.text === "while b is away")).toBe(false);

    // Taken over while still open: the old socket is closed and hears nothing more.
    const b3 = await open(`${fx.host.wsUrl}/?resume=${token}`);
    everyone.push({ ...b3, ack: b.ack });
    expect(await b3.client.request("join-meeting", {})).toMatchObject({ resumed: true });
    expect(await b2.closed).toBe(4409);
    const replacedAt = b2.wire.length;
    await say(a, "after the takeover", w);
    await eventually("b's newest socket hears it", () =>
      b3.wire.some((f) => f.data?.text === "after the takeover"),
    );
    expect(b2.wire.slice(replacedAt)).toEqual([]);
    expect(a.wire.filter((f) => f.type === "participant-left")).toEqual([]);
  });

  it("tells everyone the meeting ended, then closes every socket", async () => {
    const meetingId = await fx.createMeeting();
    const host = await join(meetingId, "host");
    const members = [await join(meetingId), await join(meetingId), await join(meetingId)];
    await host.client.request("end-meeting", {});
    for (const m of [host, ...members]) {
      expect(await m.closed).toBe(4000);
      expect(m.wire.filter((f) => f.type === "meeting-ended")).toEqual([
        { type: "meeting-ended", data: { reason: "ended_by_host" } },
      ]);
    }
    await eventually("the room closes", () => fx.host.rooms.get(meetingId) === undefined);
  });
});
