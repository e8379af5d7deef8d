import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

interface RawAck {
  id: unknown;
  success: boolean;
  error?: { code: string; message: string };
}

describe("a client that misbehaves", () => {
  let fx: HostFixture;
  let meetingId: string;
  let bystander: Participant;

  beforeAll(async () => {
    fx = await startHostFixture({
      env: { MEDIA_MAX_MESSAGE_BYTES: "4096", MEDIA_RATE_PER_SEC: "20", MEDIA_RATE_BURST: "20" },
    });
    meetingId = await fx.createMeeting();
    bystander = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
  });
  afterAll(async () => {
    bystander?.close();
    await fx?.close();
  });

  /** Sends raw text and collects the acks that come back. */
  async function rawSession() {
    const { ws, client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const acks: RawAck[] = [];
    ws.on("message", (data) => {
      const m = JSON.parse(String(data));
      if ("success" in m) acks.push(m);
    });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    return { ws, client, acks, closed };
  }

  it("gets error acks for garbage, unknown types, bad data and out-of-order requests, and stays connected", async () => {
    const s = await rawSession();
    s.ws.send("this is not json");
    s.ws.send(JSON.stringify({ hello: "world" }));
    s.ws.send(JSON.stringify({ id: 1, type: "launch-rockets", data: {} }));
    s.ws.send(JSON.stringify({ id: 2, type: "create-transport", data: { direction: "sideways" } }));
    s.ws.send(JSON.stringify({ id: 3, type: "produce", data: { transport_id: "x", kind: "video" } }));
    s.ws.send(JSON.stringify({ id: 4, type: "create-transport", data: { direction: "send" } }));
    await eventually("six error acks", () => s.acks.length >= 6);
    expect(s.acks.map((a) => [a.id, a.success, a.error?.code])).toEqual([
      [null, false, "bad_request"],
      [null, false, "bad_request"],
      [1, false, "bad_request"],
      [2, false, "validation_failed"],
      [3, false, "validation_failed"],
      [4, false, "invalid_state"],
    ]);
    // Still usable: it can join now and act on its own things only.
    const joined = await s.client.request("join-meeting", {});
    if (joined.lobby) throw new Error("no lobby in this meeting");
    expect(joined.peers.map((p) => p.participant_id)).toEqual([bystander.id]);
    await expect(s.client.request("join-meeting", {})).rejects.toMatchObject({ code: "invalid_state" });
    await expect(s.client.request("resume-consumer", { consumer_id: "nope" })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(
      s.client.request("connect-transport", {
        transport_id: "nope",
        dtls_parameters: { fingerprints: [{ algorithm: "sha-256", value: "00" }] },
      }),
    ).rejects.toMatchObject({ code: "not_found" });
    s.client.close();
  });

  it("may not pause or close someone else's producer", async () => {
    await bystander.createTransports();
    const producer = await bystander.produceAudio();
    const s = await rawSession();
    await s.client.request("join-meeting", {});
    await expect(s.client.request("pause-producer", { producer_id: producer.id })).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(s.client.request("close-producer", { producer_id: producer.id })).rejects.toMatchObject({
      code: "forbidden",
    });
    expect(producer.closed).toBe(false);
    s.client.close();
  });

  it("is told its device cannot receive a producer when its capabilities share no codec with it", async () => {
    const producer = bystander.producers.get("mic")!;
    const s = await rawSession();
    await s.client.request("join-meeting", {});
    const { transport_id } = await s.client.request("create-transport", { direction: "recv" });
    const refused = { code: "bad_request", message: "your device cannot receive this producer" };
    const onlyVp8 = { codecs: [{ kind: "video", mimeType: "video/VP8", clockRate: 90000 }] };
    const opusAtOtherRate = {
      codecs: [{ kind: "audio", mimeType: "audio/opus", clockRate: 16000, channels: 2 }],
    };
    for (const rtp_capabilities of [onlyVp8, opusAtOtherRate]) {
      await expect(
        s.client.request("consume", { transport_id, producer_id: producer.id, rtp_capabilities } as never),
      ).rejects.toMatchObject(refused);
    }
    s.client.close();
  });

  it("has every consume's ids and capabilities checked, also when it repeats capabilities it sent before", async () => {
    const producer = bystander.producers.get("mic")!;
    const s = await rawSession();
    await s.client.request("join-meeting", {});
    const { transport_id } = await s.client.request("create-transport", { direction: "recv" });
    const opus = { codecs: [{ kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 }] };
    const consume = (data: object) => s.client.request("consume", data as never);
    const first = await consume({ transport_id, producer_id: producer.id, rtp_capabilities: opus });
    expect(first.producer_id).toBe(producer.id);
    // The same capabilities again, with ids that are not valid.
    await expect(consume({ transport_id, producer_id: "", rtp_capabilities: opus })).rejects.toMatchObject({
      code: "validation_failed",
      message: expect.stringContaining("consume: producer_id:"),
    });
    await expect(
      consume({ transport_id: 7, producer_id: producer.id, rtp_capabilities: opus }),
    ).rejects.toMatchObject({
      code: "validation_failed",
      message: expect.stringContaining("consume: transport_id:"),
    });
    // Capabilities that are not valid, after valid ones: refused, not taken for the earlier ones.
    const broken = { codecs: [{ kind: "audio", mimeType: "audio/opus", clockRate: "48000", channels: 2 }] };
    await expect(
      consume({ transport_id, producer_id: producer.id, rtp_capabilities: broken }),
    ).rejects.toMatchObject({
      code: "validation_failed",
      message: expect.stringContaining("consume: rtp_capabilities.codecs.0.clockRate:"),
    });
    // Other valid capabilities, then the first ones again: each consume is answered for what it carried.
    const vp8Only = { codecs: [{ kind: "video", mimeType: "video/VP8", clockRate: 90000 }] };
    await expect(
      consume({ transport_id, producer_id: producer.id, rtp_capabilities: vp8Only }),
    ).rejects.toMatchObject({ code: "bad_request", message: "your device cannot receive this producer" });
    const again = await consume({ transport_id, producer_id: producer.id, rtp_capabilities: opus });
    expect(again.consumer_id).not.toBe(first.consumer_id);
    expect(again.rtp_parameters.codecs[0]?.mimeType.toLowerCase()).toBe("audio/opus");
    s.client.close();
  });

  it("is disconnected for an oversized message while the room carries on", async () => {
    const s = await rawSession();
    await s.client.request("join-meeting", {});
    s.ws.send(JSON.stringify({ id: 9, type: "get-stats", data: { target: "x", id: "y".repeat(10_000) } }));
    // Closed with 1009 (message too big), not dropped (1006).
    expect(await s.closed).toBe(1009);
    const health = await bystander.client.request("toggle-mute", { muted: false });
    expect(health.muted).toBe(false);
  });

  it("is told to slow down when flooding, then cut off, without disturbing others", async () => {
    const s = await rawSession();
    for (let i = 0; i < 200; i++) s.ws.send(JSON.stringify({ id: i, type: "toggle-mute", data: {} }));
    expect(await s.closed).toBe(4029);
    expect(s.acks.some((a) => a.error?.code === "rate_limited")).toBe(true);
    const again = await bystander.client.request("toggle-mute", { muted: true });
    expect(again.muted).toBe(true);
  });
});

describe("a client that sends deeply nested data inside a valid-looking request", () => {
  let fx: HostFixture;
  let meetingId: string;

  beforeAll(async () => {
    // The default message size (64 KB) leaves room for about 13,000 levels of nesting.
    fx = await startHostFixture();
    meetingId = await fx.createMeeting();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it("gets a typed error ack for requests that nest 10,000 deep, and stays connected", async () => {
    const publisher = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const s = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    try {
      await publisher.createTransports();
      await publisher.produceAudio();
      const producer = publisher.producers.get("mic")!;
      await s.client.request("join-meeting", {});
      const recv = await s.client.request("create-transport", { direction: "recv" });
      const send = await s.client.request("create-transport", { direction: "send" });
      // Written as text: the client's own JSON.stringify cannot go this deep. 10,000 levels keep the
      // message under the 64 KB limit.
      const deep = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
      const raw = (id: string, type: string, data: string) =>
        new Promise<{ success: boolean; error?: { code: string } }>((resolve) => {
          const onMessage = (m: unknown) => {
            const ack = JSON.parse(String(m));
            if (ack.id !== id) return;
            s.ws.off("message", onMessage);
            resolve(ack);
          };
          s.ws.on("message", onMessage);
          s.ws.send(`{"id":"${id}","type":"${type}","data":${data}}`);
        });
      const opusCodec = '"kind":"audio","mimeType":"audio/opus","clockRate":48000,"channels":2';
      const consumeAck = await raw(
        "deep-consume",
        "consume",
        `{"transport_id":"${recv.transport_id}","producer_id":"${producer.id}",` +
          `"rtp_capabilities":{"codecs":[{${opusCodec},"parameters":{"deep":${deep}}}]}}`,
      );
      // Codec parameters are strings or numbers: refused by the schema before anything copies them.
      expect(consumeAck).toMatchObject({ success: false, error: { code: "validation_failed" } });
      const produceAck = await raw(
        "deep-produce",
        "produce",
        `{"transport_id":"${send.transport_id}","kind":"audio","source":"mic","rtp_parameters":` +
          `{"codecs":[{"mimeType":"audio/opus","payloadType":111,"clockRate":48000,"channels":2,` +
          `"parameters":{"deep":${deep}}}],"encodings":[{"ssrc":1234}]}}`,
      );
      expect(produceAck).toMatchObject({ success: false, error: { code: "validation_failed" } });
      // Where the schema lets unknown keys through (mediasoup's structures are passed on whole), the depth
      // itself is refused when it is copied, as the client's error.
      const looseAck = await raw(
        "deep-loose",
        "consume",
        `{"transport_id":"${recv.transport_id}","producer_id":"${producer.id}",` +
          `"rtp_capabilities":{"codecs":[{${opusCodec}}],"extra":${deep}}}`,
      );
      expect(looseAck).toMatchObject({
        success: false,
        error: { code: "bad_request", message: "the message nests too deeply" },
      });
      const opus = { kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 };
      // The same socket still works, and so does the room.
      const plain = { codecs: [opus] };
      const ok = await s.client.request("consume", {
        transport_id: recv.transport_id,
        producer_id: producer.id,
        rtp_capabilities: plain,
      } as never);
      expect(ok.producer_id).toBe(producer.id);
      expect(fx.host.rooms.get(meetingId)?.peers.size).toBe(2);
    } finally {
      s.client.close();
      publisher.close();
    }
  });
});
