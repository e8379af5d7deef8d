import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

const GRACE_MS = 1500;

describe("a session that drops", () => {
  let fx: HostFixture;
  const people: Participant[] = [];

  beforeAll(async () => {
    fx = await startHostFixture({ graceMs: GRACE_MS });
  });
  afterAll(async () => {
    for (const p of people) p.close();
    await fx?.close();
  });

  it("keeps the peer and its producers when it reconnects within the grace period", async () => {
    const meetingId = await fx.createMeeting();
    const alice = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const bob = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    people.push(alice, bob);
    await alice.createTransports();
    await bob.createTransports();
    const mic = await alice.produceAudio();
    await bob.consumeAll();
    await eventually("bob hears alice", async () => (await bob.inbound(mic.id)).packetsReceived > 0);

    alice.ws.terminate();
    await eventually(
      "the host notices the drop",
      () => fx.host.rooms.get(meetingId)?.peers.get(alice.id)?.conn === null,
    );
    const ack = await alice.resume(fx.host.wsUrl);
    expect(ack).toMatchObject({ resumed: true, participant_id: alice.id, producer_ids: [mic.id] });
    expect(ack.transport_ids).toHaveLength(2);

    // Past the grace period alice is still there and still heard.
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(bob.client.received("participant-left")).toEqual([]);
    const before = (await bob.inbound(mic.id)).packetsReceived;
    await eventually(
      "alice's audio keeps flowing",
      async () => (await bob.inbound(mic.id)).packetsReceived > before,
    );
    expect(await alice.client.request("toggle-mute", { muted: true })).toEqual({ muted: true });
  });

  it("removes the peer once the grace period passes without a reconnect", async () => {
    const [alice, bob] = people as [Participant, Participant];
    alice.ws.terminate();
    const left = await bob.client.waitFor("participant-left", (d) => d.participant_id === alice.id, {
      timeoutMs: GRACE_MS + 10_000,
    });
    expect(left.reason).toBe("timeout");
    expect(bob.client.received("producer-closed").map((p) => p.participant_id)).toContain(alice.id);
    await expect(alice.resume(fx.host.wsUrl)).rejects.toMatchObject({ status: 401 });
    await fx.host.recorder.flush();
    const row = await fx.db.db.query.participants.findFirst({ where: (t, { eq }) => eq(t.id, alice.id) });
    expect(row?.status).toBe("left");
  });
});

describe("a media worker that dies", () => {
  let fx: HostFixture;
  const people: Participant[] = [];

  beforeAll(async () => {
    fx = await startHostFixture({ numWorkers: 2 });
  });
  afterAll(async () => {
    for (const p of people) p.close();
    await fx?.close();
  });

  it("is replaced, its rooms come back on a live worker, and the clients recover their media", async () => {
    const meetingId = await fx.createMeeting();
    for (let i = 0; i < 2; i++) {
      const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
      people.push(p);
      p.client.on("media-reset", (d) => {
        void (async () => {
          await p.resetMedia(d.router_rtp_capabilities);
          await p.produceAudio();
          await p.produceCamera();
        })();
      });
      await p.createTransports();
      await p.produceAudio();
      await p.produceCamera();
      await p.consumeAll();
    }
    const [a, b] = people as [Participant, Participant];
    await eventually(
      "b sees a",
      async () => (await b.inbound(a.producers.get("camera")!.id)).framesDecoded > 0,
    );

    const room = fx.host.rooms.get(meetingId)!;
    const oldRouter = room.routerId;
    const victim = room.slot.worker;
    const pidsBefore = fx.host.pool.workers.map((w) => w.pid);
    process.kill(victim.pid, "SIGKILL");

    // The reset is a room broadcast: every peer hears it.
    for (const p of [a, b]) await p.client.waitFor("media-reset", () => true, { timeoutMs: 20_000 });
    expect(room.routerId).not.toBe(oldRouter);
    expect(room.slot.worker.pid).not.toBe(victim.pid);
    expect(room.peers.size).toBe(2);

    await eventually("a worker replaces the dead one", () => {
      const pids = fx.host.pool.workers.map((w) => w.pid);
      return pids.length === 2 && !pids.includes(victim.pid) && pids.some((p) => !pidsBefore.includes(p));
    });
    await eventually(
      "b decodes a's new camera after the reset",
      async () => {
        const camera = a.producers.get("camera");
        if (!camera || camera.closed || !b.recvTransport) return false;
        await b.consume(camera.id);
        return (await b.inbound(camera.id)).framesDecoded > 0;
      },
      30_000,
    );
    await eventually(
      "a hears b again",
      async () => {
        const mic = b.producers.get("mic");
        if (!mic || mic.closed || !a.recvTransport) return false;
        await a.consume(mic.id);
        return (await a.inbound(mic.id)).packetsReceived > 0;
      },
      30_000,
    );
    expect(a.client.received("participant-left")).toEqual([]);
  });
});
