import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createDb, recordings } from "@nexus/drizzle";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

const run = promisify(execFile);

interface Probe {
  codecs: string[];
  duration: number;
}

async function probe(file: string): Promise<Probe> {
  const { stdout } = await run("ffprobe", [
    ...["-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "json", file],
  ]);
  const out = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string }[] };
  return { codecs: out.streams.map((s) => s.codec_name), duration: Number(out.format.duration) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("recording a meeting", () => {
  let fx: HostFixture;
  let dir: string;
  const people: Participant[] = [];

  const rowOf = async (id: string) => {
    const [row] = await fx.db.db.select().from(recordings).where(eq(recordings.id, id));
    return row;
  };

  /** Media is reaching every file of the meeting's recording (the recorders have probed their streams). */
  const flowing = (meetingId: string, count: number) =>
    eventually(
      `${count} tracks writing`,
      () => {
        const states = [...(fx.host.recordings.get(meetingId)?.flowing().values() ?? [])];
        return states.length >= count && states.every(Boolean);
      },
      30_000,
    );

  /** Frames decoded of every consumer, so "still decodes" means the count moved after the event. */
  const decodedBy = async (viewer: Participant, sender: Participant) =>
    (await viewer.inbound(sender.producers.get("camera")!.id)).framesDecoded;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nexus-rec-"));
    fx = await startHostFixture({
      env: { RECORDINGS_DIR: dir, RECORDING_PORT_MIN: "31000", RECORDING_PORT_MAX: "31199" },
    });
  });
  afterAll(async () => {
    for (const p of people) p.close();
    await fx?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const join2 = async (meetingId: string) => {
    const host = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
    );
    const member = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    people.push(host, member);
    for (const p of [host, member]) {
      await p.createTransports();
      await p.produceAudio();
      await p.produceCamera();
    }
    for (const p of [host, member]) await p.consumeAll();
    await eventually(
      "both decode each other",
      async () => (await decodedBy(host, member)) > 0 && (await decodedBy(member, host)) > 0,
    );
    return { host, member };
  };

  it("captures every producer into its own file, including one added mid-recording", async () => {
    const meetingId = await fx.createMeeting();
    const { host, member } = await join2(meetingId);

    await expect(member.client.request("start-recording", {})).rejects.toMatchObject({ code: "forbidden" });
    const started = await host.client.request("start-recording", {});
    expect(started.started_by).toBe(host.id);
    await eventually("the member is told", () => member.client.received("recording-started").length > 0);
    await expect(host.client.request("start-recording", {})).rejects.toMatchObject({ code: "conflict" });

    // A late joiner finds the indicator in its join answer.
    const late = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    people.push(late);
    expect(late.joinAck.recording?.recording_id).toBe(started.recording_id);

    await flowing(meetingId, 4);
    await sleep(1_500);
    await member.produceScreen();
    await flowing(meetingId, 5);
    await sleep(3_000);
    await expect(member.client.request("stop-recording", {})).rejects.toMatchObject({ code: "forbidden" });
    const stopped = await host.client.request("stop-recording", {});
    expect(stopped).toEqual({ recording_id: started.recording_id, status: "processing" });
    await eventually(
      "everyone is told it stopped",
      () => late.client.received("recording-stopped").length > 0,
    );
    expect(late.client.received("recording-stopped")[0]).toMatchObject({
      status: "processing",
      stopped_by: host.id,
    });

    const row = await eventually(
      "the composite is made",
      async () => {
        const r = await rowOf(started.recording_id);
        return r?.status === "ready" && r;
      },
      60_000,
    );
    expect(row?.failureReason).toBeNull();
    expect(row?.endedAt).toBeInstanceOf(Date);
    const tracks = row!.tracks;
    expect(
      tracks.map((t) => `${t.participant_id === host.id ? "host" : "member"}:${t.source}`).sort(),
    ).toEqual(["host:camera", "host:mic", "member:camera", "member:mic", "member:screen"]);
    const screen = tracks.find((t) => t.source === "screen")!;
    expect(screen.offset_ms).toBeGreaterThan(1_000);
    for (const track of tracks) {
      expect(track.status, JSON.stringify(track)).toBe("ready");
      const file = join(dir, track.file);
      expect((await stat(file)).size).toBe(track.size_bytes);
      const p = await probe(file);
      expect(p.codecs).toEqual([track.kind === "audio" ? "opus" : "vp8"]);
      const wall = (Date.parse(track.ended_at!) - Date.parse(track.started_at)) / 1000;
      const ratio = p.duration / wall;
      const what = `${track.source} ${p.duration}s vs ${wall}s`;
      if (track.kind === "video") {
        // Video timestamps follow the sender's capture clock: the file is as long as the time recorded.
        expect(Math.abs(ratio - 1), what).toBeLessThan(0.1);
      } else {
        // Audio timestamps count samples, and the test's timer-driven tone makes fewer of them than real time
        // when the machine is starved; the file is never longer than the time recorded.
        expect(ratio, what).toBeLessThan(1.1);
        expect(ratio, what).toBeGreaterThan(0.5);
      }
    }
    // The composite: one grid video and the mixed audio, as long as the recording.
    expect(row?.fileUrl).toMatch(/composite\.mp4$/);
    const composite = join(dir, row!.fileUrl!);
    const mixed = await probe(composite);
    expect(mixed.codecs.sort()).toEqual(["aac", "h264"]);
    const span = (row!.endedAt!.getTime() - row!.startedAt.getTime()) / 1000;
    expect(Math.abs(mixed.duration - span) / span, `composite ${mixed.duration}s vs ${span}s`).toBeLessThan(
      0.1,
    );
    const compositeSize = (await stat(composite)).size;
    expect(row?.sizeBytes).toBe(tracks.reduce((s, t) => s + (t.size_bytes ?? 0), 0) + compositeSize);
  }, 60_000);

  it("fails the recording with the reason when a recorder process dies, and the meeting goes on", async () => {
    const meetingId = await fx.createMeeting();
    const { host, member } = await join2(meetingId);
    const { recording_id } = await host.client.request("start-recording", {});
    const recording = fx.host.recordings.get(meetingId)!;
    const pids = await eventually("four recorder processes", () => {
      const list = [...recording.processes().values()];
      return list.length === 4 && list.every((p) => p !== undefined) && (list as number[]);
    });
    await sleep(1_000);
    process.kill(pids[0]!, "SIGKILL");

    const row = await eventually("the row says failed", async () => {
      const r = await rowOf(recording_id);
      return r?.status === "failed" && r;
    });
    expect(row.failureReason).toMatch(/recorder process killed by SIGKILL/);
    expect(row.endedAt).toBeInstanceOf(Date);
    for (const p of [host, member]) {
      await eventually("everyone is told", () =>
        p.client.received("recording-stopped").some((n) => n.recording_id === recording_id),
      );
      const told = p.client.received("recording-stopped").find((n) => n.recording_id === recording_id)!;
      expect(told).toMatchObject({ status: "failed", reason: row.failureReason });
    }

    // Nobody in the meeting noticed: both still decode each other, and a new recording can start.
    const before = [await decodedBy(host, member), await decodedBy(member, host)];
    await eventually("both keep decoding", async () => {
      return (
        (await decodedBy(host, member)) > before[0]! + 5 && (await decodedBy(member, host)) > before[1]! + 5
      );
    });
    const again = await host.client.request("start-recording", {});
    expect(again.recording_id).not.toBe(recording_id);
    await host.client.request("stop-recording", {});
  }, 60_000);

  it("finishes the recording when the meeting's room closes", async () => {
    const meetingId = await fx.createMeeting();
    const { host, member } = await join2(meetingId);
    const { recording_id } = await host.client.request("start-recording", {});
    await flowing(meetingId, 4);
    await sleep(1_500);
    await member.client.request("leave-meeting", {});
    await host.client.request("leave-meeting", {});
    const row = await eventually(
      "the row is final",
      async () => {
        const r = await rowOf(recording_id);
        return (r?.status === "ready" || r?.status === "failed") && r;
      },
      60_000,
    );
    expect(row.status).toBe("ready");
    for (const t of row.tracks)
      expect(t, JSON.stringify(t)).toMatchObject({ status: "ready", ended_at: expect.any(String) });
    expect(fx.host.recordings.get(meetingId)).toBeUndefined();
  }, 60_000);
});

describe("a media host that stops while recording", () => {
  it("finishes its recordings on close, and fails at boot the ones it left unfinished", async () => {
    const db = createDb("memory://");
    await db.migrate();
    const dir = await mkdtemp(join(tmpdir(), "nexus-rec-close-"));
    const env = { RECORDINGS_DIR: dir, RECORDING_PORT_MIN: "31400", RECORDING_PORT_MAX: "31599" };
    const fx = await startHostFixture({ db, hostId: "media-rec-close", env });
    const people: Participant[] = [];
    try {
      const meetingId = await fx.createMeeting();
      const host = await Participant.join(
        `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { role: "host" })}`,
      );
      people.push(host);
      await host.createTransports();
      await host.produceAudio();
      const { recording_id } = await host.client.request("start-recording", {});
      await eventually("the track is recorded", async () => {
        const [r] = await db.db.select().from(recordings).where(eq(recordings.id, recording_id));
        return r?.tracks.length === 1;
      });
      await sleep(1_000);
      await fx.close();
      const [closed] = await db.db.select().from(recordings).where(eq(recordings.id, recording_id));
      expect(closed?.status).toBe("ready");
      expect(closed?.tracks[0]?.status).toBe("ready");

      // A row this host id left `recording` (as a crash would) is failed when a host with that id boots.
      const orphan = crypto.randomUUID();
      await db.db.insert(recordings).values({
        id: orphan,
        tenantId: fx.tenantId,
        meetingId,
        hostId: "media-rec-close",
        status: "recording",
      });
      const composing = crypto.randomUUID();
      await db.db.insert(recordings).values({
        id: composing,
        tenantId: fx.tenantId,
        meetingId,
        hostId: "media-rec-close",
        status: "processing",
      });
      const again = await startHostFixture({ db, hostId: "media-rec-close", env });
      await again.close();
      const [composite] = await db.db.select().from(recordings).where(eq(recordings.id, composing));
      expect(composite).toMatchObject({
        status: "failed",
        failureReason: "the media host stopped while making the composite",
      });
      const [swept] = await db.db.select().from(recordings).where(eq(recordings.id, orphan));
      expect(swept).toMatchObject({
        status: "failed",
        failureReason: "the media host stopped while recording",
      });
    } finally {
      for (const p of people) p.close();
      await fx.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
