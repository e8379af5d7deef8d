import type { Socket } from "node:net";
import type { SignalingClient } from "@nexus/shared/signaling/client";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, inRoom } from "./support/participant.js";

/** Small, so a stalled reader crosses it quickly once the kernel's socket buffers (a few MB) are full. */
const LIMIT = 64 * 1024;
/** Bounds each test: 80 senders x 10 messages x ~12 KB is ~10 MB, twice what loopback buffers hold. */
const MAX_SENDERS = 80;
const GRACE_MS = 300;
/** A chat message near the size limit: 4,000 characters of 3 bytes each in UTF-8. */
const bulky = (tag: string) => `${tag} ${"界".repeat(3990)}`;

interface Member {
  client: SignalingClient;
  ws: WebSocket;
  id: string;
  /** Seq of every new-message heard, in arrival order. */
  seqs: number[];
  closed: Promise<number>;
}

describe("a client that stops reading its socket", () => {
  let t: TestDatabase;
  let fx: HostFixture;
  const everyone: Member[] = [];

  const join = async (meetingId: string): Promise<Member> => {
    const { client, ws } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const seqs: number[] = [];
    // Only the head of each frame is read: the test's clients must keep up with what they measure.
    ws.on("message", (raw: Buffer) => {
      const head = raw.subarray(0, 120).toString();
      const seq = /^\{"type":"new-message","data":\{"id":"[^"]+","seq":(\d+)/.exec(head)?.[1];
      if (seq) seqs.push(Number(seq));
    });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    const ack = inRoom(await client.request("join-meeting", {}));
    const m = { client, ws, id: ack.participant_id, seqs, closed };
    everyone.push(m);
    return m;
  };
  const stall = (m: Member) => (m.ws as unknown as { _socket: Socket })._socket.pause();
  const unstall = (m: Member) => (m.ws as unknown as { _socket: Socket })._socket.resume();
  const connected = (meetingId: string, m: Member) =>
    fx.host.rooms.get(meetingId)?.peers.get(m.id)?.conn != null;

  /** Sender after sender joins, says 10 bulky things (to `to`, or to everyone) and leaves, until `until`. */
  async function flood(meetingId: string, until: () => boolean, to?: string): Promise<number[]> {
    const acked: number[] = [];
    for (let s = 0; s < MAX_SENDERS && !until(); s++) {
      const sender = await join(meetingId);
      const acks = await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          sender.client.request("send-message", { text: bulky(`${s}.${k}`), ...(to ? { to } : {}) }),
        ),
      );
      acked.push(...acks.map((a) => a.seq));
      await sender.client.request("leave-meeting", {});
      sender.client.close();
    }
    return acked;
  }

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl());
    fx = await startHostFixture({
      db: t.database,
      graceMs: GRACE_MS,
      env: { MEDIA_MAX_BACKPRESSURE_BYTES: String(LIMIT) },
    });
  });
  afterAll(async () => {
    for (const m of everyone) m.client.close();
    await fx?.close();
    await t?.drop();
  });

  it("is cut off when room broadcasts pile up, while everyone else hears every one of them", async () => {
    const meetingId = await fx.createMeeting();
    const slow = await join(meetingId);
    const watcher = await join(meetingId);
    stall(slow);

    const acked = await flood(meetingId, () => !connected(meetingId, slow));
    // The host let go of the stalled socket (the loop stopped because of it, not its bound).
    expect(connected(meetingId, slow)).toBe(false);
    expect(acked.length).toBeLessThan(MAX_SENDERS * 10);

    // Everyone still reading heard every message, in order.
    await eventually("the watcher hears every message", () => watcher.seqs.length === acked.length);
    expect(watcher.seqs).toEqual([...acked].sort((x, y) => x - y));
    // After its grace period the stalled member is gone for the others too.
    await watcher.client.waitFor(
      "participant-left",
      (d) => d.participant_id === slow.id && d.reason === "timeout",
      { timeoutMs: GRACE_MS + 10_000 },
    );

    // Reading again, the stalled client finds a truncated stream and a connection the server closed.
    unstall(slow);
    expect(await slow.closed).toBe(1006);
    expect(slow.seqs.length).toBeLessThan(acked.length);
    expect(slow.seqs).toEqual([...acked].sort((x, y) => x - y).slice(0, slow.seqs.length));

    // The room and the host carry on.
    const late = await join(meetingId);
    const { seq } = await late.client.request("send-message", { text: "still here" });
    await eventually("the watcher hears the newcomer", () => watcher.seqs.at(-1) === seq);
    const health = await fetch(`http://127.0.0.1:${fx.host.port}/health`);
    expect(health.status).toBe(200);
  });

  it("is cut off when direct messages to it pile up (ClientConnection.send), and the room carries on", async () => {
    const meetingId = await fx.createMeeting();
    const slow = await join(meetingId);
    const watcher = await join(meetingId);
    stall(slow);

    const acked = await flood(meetingId, () => !connected(meetingId, slow), slow.id);
    expect(connected(meetingId, slow)).toBe(false);
    expect(acked.length).toBeLessThan(MAX_SENDERS * 10);
    // Direct messages are for their recipient alone.
    expect(watcher.seqs).toEqual([]);

    unstall(slow);
    expect(await slow.closed).toBe(1006);
    expect(slow.seqs.length).toBeLessThan(acked.length);

    const { seq } = await watcher.client.request("send-message", { text: "still here" });
    await eventually("the watcher hears itself", () => watcher.seqs.at(-1) === seq);
    await watcher.client.waitFor("participant-left", (d) => d.participant_id === slow.id, {
      timeoutMs: GRACE_MS + 10_000,
    });
  });
});
