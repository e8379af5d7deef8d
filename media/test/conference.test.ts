import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

describe("a three-participant meeting", () => {
  let fx: HostFixture;
  const people: Participant[] = [];

  beforeAll(async () => {
    fx = await startHostFixture();
  });
  afterAll(async () => {
    for (const p of people) p.close();
    await fx?.close();
  });

  /** The host's byte counters as a Prometheus scrape shows them, checked to never go down between scrapes. */
  let lastBytes = { in: 0, out: 0 };
  const scrapeBytes = async () => {
    const text = await (await fetch(`${fx.host.wsUrl.replace("ws://", "http://")}/metrics`)).text();
    expect(text).toContain("# TYPE nexus_media_transport_bytes_total counter");
    const read = (direction: string) =>
      Number(
        text.match(
          new RegExp(
            `^nexus_media_transport_bytes_total\\{[^}]*direction="${direction}"[^}]*\\} (\\S+)$`,
            "m",
          ),
        )?.[1],
      );
    const now = { in: read("in"), out: read("out") };
    expect(now.in).toBeGreaterThanOrEqual(lastBytes.in);
    expect(now.out).toBeGreaterThanOrEqual(lastBytes.out);
    lastBytes = now;
    return now;
  };

  it("lets everyone hear and see everyone else, with simulcast video", async () => {
    const meetingId = await fx.createMeeting();
    for (let i = 0; i < 3; i++) {
      const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
      people.push(p);
      await p.createTransports();
      await p.produceAudio();
      await p.produceCamera();
      await p.consumeAll();
    }
    const [a, b, c] = people as [Participant, Participant, Participant];
    expect(c.joinAck.peers.map((x) => x.participant_id).sort()).toEqual([a.id, b.id].sort());

    for (const viewer of people) {
      for (const sender of people) {
        if (sender === viewer) continue;
        const video = sender.producers.get("camera")!;
        const audio = sender.producers.get("mic")!;
        await eventually(`${viewer.id} decodes ${sender.id}'s video`, async () => {
          await viewer.consume(video.id);
          return (await viewer.inbound(video.id)).framesDecoded > 0;
        });
        await eventually(`${viewer.id} receives ${sender.id}'s audio`, async () => {
          await viewer.consume(audio.id);
          return (await viewer.inbound(audio.id)).packetsReceived > 0;
        });
        expect(viewer.consumers.get(video.id)?.rtpParameters.encodings?.length).toBe(1);
      }
    }
    // The SFU sees three spatial layers on each camera producer.
    const ack = await a.client.request("get-stats", {
      target: "producer",
      id: a.producers.get("camera")!.id,
    });
    await eventually("three simulcast streams reach the SFU", async () => {
      const stats = await a.client.request("get-stats", {
        target: "producer",
        id: a.producers.get("camera")!.id,
      });
      return stats.stats.length === 3;
    });
    expect(ack.stats.length).toBeGreaterThan(0);

    const metrics = await (await fetch(`${fx.host.wsUrl.replace("ws://", "http://")}/metrics`)).text();
    const gauge = (name: string) =>
      Number(metrics.match(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m"))?.[1]);
    expect(gauge("nexus_media_rooms")).toBe(1);
    expect(gauge("nexus_media_peers")).toBe(3);
    expect(gauge("nexus_media_transports")).toBe(6);
    expect(gauge("nexus_media_producers")).toBe(6);
    expect(gauge("nexus_media_consumers")).toBe(12);
    expect(metrics).toMatch(/nexus_media_worker_cpu_seconds\{[^}]*\} [0-9.]+/);
    const bytes = await scrapeBytes();
    expect(bytes.in).toBeGreaterThan(0);
    expect(bytes.out).toBeGreaterThan(0);

    // Participants rows are written behind the media path.
    await fx.host.recorder.flush();
    const rows = await fx.db.db.query.participants.findMany();
    expect(rows.filter((r) => r.meetingId === meetingId && r.status === "joined")).toHaveLength(3);
    const stats = await fx.db.db.query.meetingStats.findFirst();
    expect(stats).toMatchObject({ peakParticipants: 3, totalJoins: 3 });
    const meeting = await fx.db.db.query.meetings.findFirst();
    expect(meeting?.status).toBe("active");
  });

  it("takes a preferred simulcast layer for one's own consumer only", async () => {
    const [a, b, c] = people as [Participant, Participant, Participant];
    const consumer = b.consumers.get(a.producers.get("camera")!.id)!;
    expect(consumer.rtpParameters.encodings?.[0]?.scalabilityMode).toMatch(/^L3T/);
    const before = b.client.received("consumer-layers-changed").filter((d) => d.consumer_id === consumer.id);
    // The SFU reported the layer it forwards while the bandwidth estimate ramped up.
    expect(before.length).toBeGreaterThan(0);
    // What the viewer sees: the width of the frames decoded on this consumer's own stream (not the probator's).
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    const decodedWidth = async () => {
      let width = 0;
      (await b.recvTransport!.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === "inbound-rtp" && s.ssrc === ssrc) width = Number(s.frameWidth ?? 0);
      });
      return width;
    };
    const layersNow = (spatial: number) =>
      b.client.waitFor(
        "consumer-layers-changed",
        (d) => d.consumer_id === consumer.id && d.spatial_layer === spatial,
        { timeoutMs: 20_000, includePast: false },
      );
    const down = layersNow(0);
    await expect(
      b.client.request("set-preferred-layers", {
        consumer_id: consumer.id,
        spatial_layer: 0,
        temporal_layer: 0,
      }),
    ).resolves.toEqual({});
    await expect(
      c.client.request("set-preferred-layers", { consumer_id: consumer.id, spatial_layer: 0 }),
    ).rejects.toMatchObject({ code: "not_found" });

    // The camera is 960x540 and the lowest encoding is scaled down by 4.
    await down;
    await eventually("b decodes a's lowest layer", async () => (await decodedWidth()) === 240, 20_000);

    const up = layersNow(2);
    await b.client.request("set-preferred-layers", { consumer_id: consumer.id, spatial_layer: 2 });
    await up;
    await eventually(
      "b decodes a's full-size layer again",
      async () => (await decodedWidth()) === 960,
      20_000,
    );
  });

  it("leaves nothing behind in the worker once everybody has left, and the byte counters keep their totals", async () => {
    const roomId = people[0]!.joinAck.meeting_id;
    const before = await scrapeBytes();
    const left = people[0]!.client.waitFor("participant-left", (d) => d.participant_id === people[1]!.id);
    await people[1]!.client.request("leave-meeting", {});
    await left;
    // One participant's transports are gone: what they moved stays counted (scrapeBytes checks no decrease).
    await scrapeBytes();
    await people[2]!.client.request("leave-meeting", {});
    await people[0]!.client.request("leave-meeting", {});
    const after = await scrapeBytes();
    expect(after.in).toBeGreaterThanOrEqual(before.in);
    expect(after.out).toBeGreaterThanOrEqual(before.out);
    expect(fx.host.rooms.get(roomId)).toBeUndefined();
    const [worker] = fx.host.pool.workers;
    const dump = await worker!.dump();
    expect(dump.routerIds).toEqual([]);
    expect(dump.webRtcServerIds).toHaveLength(1);
    const serverDump = await fx.host.pool.liveSlots[0]!.webRtcServer.dump();
    expect(serverDump.webRtcTransportIds).toEqual([]);
    await fx.host.recorder.flush();
    const rows = await fx.db.db.query.participants.findMany();
    expect(rows.every((r) => r.status === "left" && r.leftAt !== null)).toBe(true);
  });
});
