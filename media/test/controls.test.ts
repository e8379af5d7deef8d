import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

describe("mute, video off and screen share", () => {
  let fx: HostFixture;
  let alice: Participant;
  let bob: Participant;
  let carol: Participant;

  beforeAll(async () => {
    fx = await startHostFixture();
    const meetingId = await fx.createMeeting();
    alice = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    bob = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    carol = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    for (const p of [alice, bob, carol]) await p.createTransports();
    await alice.produceAudio();
    await alice.produceCamera();
    await bob.consumeAll();
    await carol.consumeAll();
  });
  afterAll(async () => {
    for (const p of [alice, bob, carol]) p?.close();
    await fx?.close();
  });

  /** Packets received by a consumer grow while its producer sends, and stand still while it is paused. */
  async function packetsOf(viewer: Participant, producerId: string) {
    return (await viewer.inbound(producerId)).packetsReceived;
  }
  async function flowing(viewer: Participant, producerId: string) {
    const before = await packetsOf(viewer, producerId);
    await eventually("packets to keep arriving", async () => (await packetsOf(viewer, producerId)) > before);
  }
  async function stopped(viewer: Participant, producerId: string) {
    // Let packets in flight land, then require two successive equal readings a second apart.
    await eventually("packets to stop", async () => {
      const a = await packetsOf(viewer, producerId);
      await new Promise((r) => setTimeout(r, 1000));
      return (await packetsOf(viewer, producerId)) === a;
    });
    const settled = await packetsOf(viewer, producerId);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await packetsOf(viewer, producerId)).toBe(settled);
  }

  it("mutes: everyone sees the state, the producer pauses and no audio flows until unmuted", async () => {
    const mic = alice.producers.get("mic")!;
    await flowing(bob, mic.id);
    const updated = bob.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === alice.id && d.is_muted,
    );
    const paused = carol.client.waitFor("producer-paused", (d) => d.producer_id === mic.id);
    expect(await alice.client.request("toggle-mute", {})).toEqual({ muted: true });
    expect(await updated).toMatchObject({ is_muted: true, is_video_on: true });
    expect(await paused).toMatchObject({ participant_id: alice.id, source: "mic" });
    await stopped(bob, mic.id);

    const resumed = carol.client.waitFor("producer-resumed", (d) => d.producer_id === mic.id);
    expect(await alice.client.request("toggle-mute", { muted: false })).toEqual({ muted: false });
    await resumed;
    await flowing(bob, mic.id);
  });

  it("turns video off and on the same way", async () => {
    const camera = alice.producers.get("camera")!;
    await flowing(carol, camera.id);
    const updated = bob.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === alice.id && !d.is_video_on,
      { includePast: false },
    );
    expect(await alice.client.request("toggle-video", { video_on: false })).toEqual({ video_on: false });
    await updated;
    await bob.client.waitFor("producer-paused", (d) => d.producer_id === camera.id);
    await stopped(carol, camera.id);
    await alice.client.request("toggle-video", { video_on: true });
    await flowing(carol, camera.id);
  });

  it("shares a screen as its own producer that others decode, one sharer at a time", async () => {
    const screen = await alice.produceScreen();
    const announced = await bob.client.waitFor("new-producer", (d) => d.producer_id === screen.id);
    expect(announced).toMatchObject({ participant_id: alice.id, source: "screen", kind: "video" });
    await bob.client.waitFor(
      "participant-updated",
      (d) => d.participant_id === alice.id && d.is_screen_sharing,
    );
    await eventually("bob decodes the screen", async () => (await bob.inbound(screen.id)).framesDecoded > 0);

    await expect(carol.client.request("start-screen-share", {})).rejects.toMatchObject({ code: "conflict" });

    const closed = carol.client.waitFor("producer-closed", (d) => d.producer_id === screen.id);
    await alice.client.request("stop-screen-share", {});
    expect(await closed).toMatchObject({ participant_id: alice.id, source: "screen" });
    await bob.client.waitFor("consumer-closed", (d) => d.producer_id === screen.id);
    await fx.host.recorder.flush();
    const row = await fx.db.db.query.participants.findFirst({ where: (t, { eq }) => eq(t.id, alice.id) });
    expect(row).toMatchObject({ isScreenSharing: false, isMuted: false, isVideoOn: true });

    // The slot is free again.
    await carol.client.request("start-screen-share", {});
    await carol.client.request("stop-screen-share", {});
  });

  it("answers not_found to a resume that races its producer's close, and the session carries on", async () => {
    const screen = await alice.produceScreen();
    await bob.client.waitFor("new-producer", (d) => d.producer_id === screen.id);
    const ack = await bob.client.request("consume", {
      transport_id: bob.recvTransport!.id,
      producer_id: screen.id,
      rtp_capabilities: bob.device.recvRtpCapabilities,
    });
    // Bob resumes only after the producer is gone: the consumer closes in the worker while his request
    // is on its way, and whichever lands first, his answer is not_found.
    await alice.client.request("stop-screen-share", {});
    await expect(
      bob.client.request("resume-consumer", { consumer_id: ack.consumer_id }),
    ).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(
      bob.client.request("set-preferred-layers", { consumer_id: ack.consumer_id, spatial_layer: 0 }),
    ).rejects.toMatchObject({ code: "not_found" });
    const stats = await bob.client.request("get-stats", { target: "transport", id: bob.recvTransport!.id });
    expect(stats.stats.length).toBeGreaterThan(0);
  });

  it("names the active speaker", async () => {
    const speaker = await bob.client.waitFor("active-speaker", (d) => d.participant_id === alice.id, {
      timeoutMs: 20_000,
    });
    expect(speaker.producer_id).toBe(alice.producers.get("mic")!.id);
  });
});
