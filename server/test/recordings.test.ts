import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createRecordingStorage, type RecordingStorage } from "@nexus/platform/recording-storage";
import type { Recording } from "@nexus/shared/rest/recordings";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../media/test/support/participant.js";
import { type Embedded, startEmbedded } from "../src/embedded.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(stream: ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * Recording over REST against the whole service: control asks the media host over the bus, the host records
 * real WebRTC participants with ffmpeg, control lists, describes and serves the files; once with the local
 * directory, once with an S3-compatible server (s3rver) started here.
 */
describe.each(["local", "s3"] as const)("recordings over REST, %s storage", (kind) => {
  let app: Embedded;
  let s3: S3rver | null = null;
  /** The configured storage as the test reads it behind the service's back. */
  let stored: RecordingStorage;
  const dataDir = mkdtempSync(join(tmpdir(), "nexus-rec-data-"));
  const recordingsDir = mkdtempSync(join(tmpdir(), "nexus-rec-files-"));
  const people: Participant[] = [];
  const rtc = 29_000 + Math.floor(Math.random() * 400) * 2;

  const token = async (tenant: string, sub: string, role: "host" | "member" | "admin") => {
    const res = await fetch(`${app.url}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: tenant, sub, role, name: sub }),
    });
    return ((await res.json()) as { token: string }).token;
  };
  const call = async (tok: string, method: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(`${app.url}${path}`, {
      ...init,
      method,
      headers: { authorization: `Bearer ${tok}`, "content-type": "application/json", ...init.headers },
    });
    const type = res.headers.get("content-type") ?? "";
    const body = type.includes("json") ? await res.json() : Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body };
  };

  let host: string;
  let member: string;
  let stranger: string;
  let meetingId: string;
  let recording: Recording;

  beforeAll(async () => {
    let storageEnv: Record<string, string> = {};
    if (kind === "s3") {
      s3 = new S3rver({
        port: 0,
        address: "127.0.0.1",
        silent: true,
        directory: mkdtempSync(join(tmpdir(), "nexus-s3rver-")),
        configureBuckets: [{ name: "meet-recordings" }],
      });
      const { port } = await s3.run();
      storageEnv = {
        RECORDINGS_STORAGE: "s3",
        RECORDINGS_S3_BUCKET: "meet-recordings",
        RECORDINGS_S3_PREFIX: "nexus/",
        RECORDINGS_S3_ENDPOINT: `http://127.0.0.1:${port}`,
        RECORDINGS_S3_ACCESS_KEY_ID: "S3RVER",
        RECORDINGS_S3_SECRET_ACCESS_KEY: "S3RVER",
        RECORDINGS_S3_FORCE_PATH_STYLE: "1",
      };
      stored = createRecordingStorage({
        kind: "s3",
        dir: recordingsDir,
        bucket: "meet-recordings",
        prefix: "nexus/",
        endpoint: storageEnv.RECORDINGS_S3_ENDPOINT,
        region: "us-east-1",
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
        forcePathStyle: true,
      });
    } else {
      stored = createRecordingStorage({ kind: "local", dir: recordingsDir });
    }
    app = await startEmbedded({
      port: 0,
      mediaPort: 0,
      host: "127.0.0.1",
      dataDir,
      rtcMinPort: rtc,
      rtcMaxPort: rtc + 1,
      numWorkers: 1,
      handleSignals: false,
      env: {
        ...process.env,
        NODE_ENV: "development",
        LOG_LEVEL: "warn",
        LOG_DIR: "-",
        MEDIA_BIND: "127.0.0.1",
        RECORDINGS_DIR: recordingsDir,
        RECORDING_PORT_MIN: kind === "s3" ? "31200" : "31300",
        RECORDING_PORT_MAX: kind === "s3" ? "31299" : "31399",
        ...storageEnv,
      },
    });
    host = await token("acme", "ann", "host");
    member = await token("acme", "bob", "member");
    stranger = await token("other", "eve", "admin");
    const created = await call(host, "POST", "/api/meetings", {
      body: JSON.stringify({ title: "Recorded" }),
    });
    meetingId = created.body.id;
    expect((await call(host, "POST", `/api/meetings/${meetingId}/start`)).status).toBe(200);
    for (const tok of [host, member]) {
      const joined = await call(tok, "POST", `/api/meetings/${meetingId}/join`, { body: "{}" });
      const p = await Participant.join(`${joined.body.ws_url}/?token=${joined.body.join_token}`);
      people.push(p);
      await p.createTransports();
      await p.produceAudio();
      await p.produceCamera();
    }
  }, 60_000);
  afterAll(async () => {
    for (const p of people) p.close();
    await app?.close();
    await s3?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(recordingsDir, { recursive: true, force: true });
  });

  it("refuses members and other tenants before anything starts", async () => {
    const byMember = await call(member, "POST", `/api/meetings/${meetingId}/recordings`);
    expect(byMember.status).toBe(403);
    const byStranger = await call(stranger, "POST", `/api/meetings/${meetingId}/recordings`);
    expect(byStranger.status).toBe(404);
    const list = await call(host, "GET", `/api/meetings/${meetingId}/recordings`);
    expect(list.body.data).toEqual([]);
  });

  it("starts, tells the room, stops, and lists the recording with its tracks", async () => {
    const started = await call(host, "POST", `/api/meetings/${meetingId}/recordings`);
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ meeting_id: meetingId, status: "recording", started_by: "ann" });
    for (const p of people) {
      await expect
        .poll(() => p.client.received("recording-started").length, { timeout: 10_000 })
        .toBeGreaterThan(0);
    }
    expect((await call(host, "POST", `/api/meetings/${meetingId}/recordings`)).status).toBe(409);
    const id = started.body.id as string;
    expect((await call(member, "POST", `/api/meetings/${meetingId}/recordings/${id}/stop`)).status).toBe(403);

    // Every track's recorder has probed its stream and writes media (the host's own view).
    await expect
      .poll(
        () => {
          const states = [...(app.media.recordings.get(meetingId)?.flowing().values() ?? [])];
          return states.length === 4 && states.every(Boolean);
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    expect((await call(host, "GET", `/api/recordings/${id}`)).body.tracks).toHaveLength(4);
    await sleep(3_000);
    const stopped = await call(host, "POST", `/api/meetings/${meetingId}/recordings/${id}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe("processing");
    await expect
      .poll(async () => (await call(host, "GET", `/api/recordings/${id}`)).body.status, { timeout: 60_000 })
      .toBe("ready");
    recording = (await call(host, "GET", `/api/recordings/${id}`)).body;
    expect(recording.file_url).toMatch(/composite\.mp4$/);
    expect(recording.tracks?.every((t) => t.status === "ready")).toBe(true);
    expect(recording.storage).toBe(kind);
    for (const t of recording.tracks!) expect(await stored.size(t.file)).toBe(t.size_bytes);
    if (kind === "s3") {
      // Uploaded, and the host's local copy is gone.
      await expect(readFile(join(recordingsDir, recording.tracks![0]!.file))).rejects.toThrow();
    }

    const list = await call(member, "GET", `/api/meetings/${meetingId}/recordings`);
    expect(list.body.data.map((r: Recording) => r.id)).toEqual([id]);
    const one = await call(member, "GET", `/api/recordings/${id}`);
    expect(one.body).toEqual(recording);

    // A user of the tenant the meeting never admitted reads none of it: not the list, not one, not a file.
    const outsider = await token("acme", "olga", "member");
    for (const path of [
      `/api/meetings/${meetingId}/recordings`,
      `/api/recordings/${id}`,
      `/api/recordings/${id}/file?track=${recording.tracks![0]!.id}`,
    ]) {
      const refused = await call(outsider, "GET", path);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
    }
  }, 60_000);

  it("serves a track whole and by range, and the bytes are the media file", async () => {
    const track = recording.tracks!.find((t) => t.kind === "video")!;
    const whole = await call(member, "GET", `/api/recordings/${recording.id}/file?track=${track.id}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/webm");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    const bytes = whole.body as Buffer;
    expect(bytes.length).toBe(track.size_bytes);
    expect(bytes.equals(await readAll(await stored.read(track.file, 0, bytes.length - 1)))).toBe(true);
    const saved = join(recordingsDir, "downloaded.webm");
    await import("node:fs/promises").then((fs) => fs.writeFile(saved, bytes));
    const { stdout } = await run("ffprobe", [
      "-v",
      "error",
      "-show_entries",
      "stream=codec_name",
      "-of",
      "csv=p=0",
      saved,
    ]);
    expect(stdout.trim()).toBe("vp8");

    const part = await call(member, "GET", `/api/recordings/${recording.id}/file?track=${track.id}`, {
      headers: { range: "bytes=100-199" },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect((part.body as Buffer).equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await call(member, "GET", `/api/recordings/${recording.id}/file?track=${track.id}`, {
      headers: { range: "bytes=-50" },
    });
    expect((tail.body as Buffer).equals(bytes.subarray(bytes.length - 50))).toBe(true);
    const beyond = await call(member, "GET", `/api/recordings/${recording.id}/file?track=${track.id}`, {
      headers: { range: `bytes=${bytes.length}-` },
    });
    expect(beyond.status).toBe(416);
    const composite = await call(member, "GET", `/api/recordings/${recording.id}/file`);
    expect(composite.status).toBe(200);
    expect(composite.headers.get("content-type")).toBe("video/mp4");
    const mp4 = join(recordingsDir, "downloaded.mp4");
    await import("node:fs/promises").then((fs) => fs.writeFile(mp4, composite.body as Buffer));
    const probed = await run("ffprobe", [
      "-v",
      "error",
      "-show_entries",
      "stream=codec_name",
      "-of",
      "csv=p=0",
      mp4,
    ]);
    expect(probed.stdout.trim().split("\n").sort()).toEqual(["aac", "h264"]);
    const noTrack = await call(member, "GET", `/api/recordings/${recording.id}/file?track=nope`);
    expect(noTrack.status).toBe(404);
  });

  it("keeps another tenant out of everything, and lets only a host delete", async () => {
    const id = recording.id;
    const track = recording.tracks![0]!;
    for (const [method, path] of [
      ["GET", `/api/meetings/${meetingId}/recordings`],
      ["GET", `/api/recordings/${id}`],
      ["GET", `/api/recordings/${id}/file?track=${track.id}`],
      ["DELETE", `/api/recordings/${id}`],
      ["POST", `/api/meetings/${meetingId}/recordings/${id}/stop`],
    ] as const) {
      expect((await call(stranger, method, path)).status, `${method} ${path}`).toBe(404);
    }
    expect((await call(member, "DELETE", `/api/recordings/${id}`)).status).toBe(403);
    expect((await call(host, "DELETE", `/api/recordings/${id}`)).status).toBe(204);
    expect((await call(host, "GET", `/api/recordings/${id}`)).status).toBe(404);
    expect(await stored.size(track.file)).toBeNull();
  });
});
