import type { types as mc } from "mediasoup-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, inRoom, Participant } from "./support/participant.js";

/**
 * Holes 5, 6 and 8 of issue 16: one user took every seat of a meeting; one peer opened 300 transports, 150
 * producers and 150 consumers of one producer; produce on a receive transport and consume on a send one
 * went through; mediasoup's refusals of client mistakes (a repeated SSRC or MID, connect twice) came back
 * `internal`.
 */
describe("what one participant may hold", () => {
  let fx: HostFixture;
  const open: { close(): void }[] = [];

  beforeAll(async () => {
    fx = await startHostFixture({ env: { MEDIA_MAX_PRODUCERS_PER_PEER: "3" } });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await fx?.close();
  });

  const joinAs = async (meetingId: string, user: string, role: "host" | "member" = "member") => {
    const { client, ws } = await connect(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { user_id: user, role })}`,
    );
    open.push(client);
    return { client, ws, join: () => client.request("join-meeting", {}) };
  };

  it("lets one user hold two seats at most, and keeps the last seat for a host", async () => {
    const meetingId = await fx.createMeeting({ maxParticipants: 5 });
    const seats = [];
    for (let i = 0; i < 5; i++) seats.push(await joinAs(meetingId, "greedy"));
    inRoom(await seats[0]!.join());
    inRoom(await seats[1]!.join());
    for (const extra of seats.slice(2)) {
      await expect(extra.join()).rejects.toMatchObject({ code: "conflict" });
    }
    inRoom(await (await joinAs(meetingId, "bob")).join());
    inRoom(await (await joinAs(meetingId, "cat")).join());
    // Four seats taken by members, no host in: the fifth is the host's.
    await expect((await joinAs(meetingId, "dan")).join()).rejects.toMatchObject({ code: "meeting_full" });
    const host = inRoom(await (await joinAs(meetingId, "user-1", "host")).join());
    expect(host.peers).toHaveLength(4);
    expect(host.role).toBe("host");
  });

  it("caps transports, producers and consumers per peer, and keeps each transport to its direction", async () => {
    const meetingId = await fx.createMeeting();
    const source = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(source);
    await source.createTransports();
    const mic = await source.produceAudio();

    const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(p);
    await p.createTransports();
    const send = p.sendTransport!.id;
    const recv = p.recvTransport!.id;
    // Two more transports fit (four by default); the fifth is refused and changes nothing.
    await p.client.request("create-transport", { direction: "recv" });
    await p.client.request("create-transport", { direction: "send" });
    const refusals = await Promise.allSettled(
      Array.from({ length: 10 }, () => p.client.request("create-transport", { direction: "recv" })),
    );
    expect(
      refusals.every(
        (r) => r.status === "rejected" && (r.reason as { code: string }).code === "rate_limited",
      ),
    ).toBe(true);

    const caps = p.device.recvRtpCapabilities;
    await expect(
      p.client.request("consume", { transport_id: send, producer_id: mic.id, rtp_capabilities: caps }),
    ).rejects.toMatchObject({ code: "bad_request", message: "consume needs a receive transport" });
    await expect(
      p.client.request("produce", {
        transport_id: recv,
        kind: "audio",
        source: "mic",
        rtp_parameters: mic.rtpParameters,
      }),
    ).rejects.toMatchObject({ code: "bad_request", message: "produce needs a send transport" });

    // One producer may be consumed twice by one peer (a retry), not a third time.
    const consume = () =>
      p.client.request("consume", { transport_id: recv, producer_id: mic.id, rtp_capabilities: caps });
    await consume();
    await consume();
    await expect(consume()).rejects.toMatchObject({ code: "rate_limited" });

    // Producers: three here (MEDIA_MAX_PRODUCERS_PER_PEER=3), each with its own SSRC and MID.
    const produceRaw = (n: number) => {
      const rtp = structuredClone(mic.rtpParameters) as mc.RtpParameters;
      rtp.mid = `m${n}`;
      rtp.encodings = [{ ssrc: 10_000 + n }];
      return p.client.request("produce", {
        transport_id: send,
        kind: "audio",
        source: "mic",
        rtp_parameters: rtp,
      });
    };
    await produceRaw(1);
    await produceRaw(2);
    await produceRaw(3);
    await expect(produceRaw(4)).rejects.toMatchObject({ code: "rate_limited" });
  });

  it("answers mediasoup's refusals of client mistakes as client errors, not internal", async () => {
    const meetingId = await fx.createMeeting();
    const source = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(source);
    await source.createTransports();
    const mic = await source.produceAudio();
    const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(p);
    const t = await p.client.request("create-transport", { direction: "send" });
    const dtls = {
      role: "client" as const,
      fingerprints: [{ algorithm: "sha-256", value: `${"AB:".repeat(31)}AB` }],
    };
    await p.client.request("connect-transport", { transport_id: t.transport_id, dtls_parameters: dtls });
    await expect(
      p.client.request("connect-transport", { transport_id: t.transport_id, dtls_parameters: dtls }),
    ).rejects.toMatchObject({ code: "invalid_state" });

    const rtp = structuredClone(mic.rtpParameters) as mc.RtpParameters;
    rtp.mid = "dup";
    rtp.encodings = [{ ssrc: 4242 }];
    const produce = (parameters: mc.RtpParameters) =>
      p.client.request("produce", {
        transport_id: t.transport_id,
        kind: "audio",
        source: "mic",
        rtp_parameters: parameters,
      });
    await produce(rtp);
    // The same MID again, then a new MID with the same SSRC.
    await expect(produce(rtp)).rejects.toMatchObject({ code: "bad_request" });
    await expect(produce({ ...rtp, mid: "other" })).rejects.toMatchObject({ code: "bad_request" });
    // The peer and the room are fine: a newcomer still joins and sees both.
    const late = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(late);
    expect(late.joinAck.peers.map((x) => x.participant_id).sort()).toEqual([source.id, p.id].sort());
  });
});
