/**
 * A pre-encoded VP8 + Opus RTP clip, so the generator runs no encoder: ffmpeg encodes a test pattern once per
 * video bitrate (real libvpx/libopus output and packet sizes), the packets are cached in a file, and a
 * publisher replays them at real-time pace, rewriting sequence numbers, timestamps, SSRC and the VP8 picture
 * id on every loop so receivers see one continuous stream.
 */
import { spawn, spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const CLIP_VIDEO_PT = 96;
export const CLIP_AUDIO_PT = 111;

export interface Clip {
  video: Buffer[];
  audio: Buffer[];
  /** Length of one loop in seconds (video timestamps span plus one frame). */
  seconds: number;
  videoKbps: number;
  /** Clock-relative timestamps of every packet, precomputed: seconds from the loop start. */
  videoDue: Float64Array;
  audioDue: Float64Array;
}

/** Thrown when a tool the tester needs is missing: the message says how to install it. */
export class MissingToolError extends Error {
  constructor(tool: string, how: string) {
    super(`${tool} is not installed: ${how}`);
    this.name = "MissingToolError";
  }
}

export function requireFfmpeg(): void {
  const probe = spawnSync("ffmpeg", ["-hide_banner", "-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    throw new MissingToolError(
      "ffmpeg (with libvpx and libopus)",
      "the load tester encodes its VP8 + Opus clip with it once; install it with `apt-get install ffmpeg` " +
        "(npm test's setup does this when run as root), or pass --clip-dir with a recorded clip",
    );
  }
}

export const DEFAULT_CLIP_DIR = join(
  process.env.NEXUS_CACHE_DIR ?? join(homedir(), ".cache", "nexus-meet"),
  "loadtest-clips",
);

export function clipFile(videoKbps: number, dir = DEFAULT_CLIP_DIR): string {
  return join(dir, `vp8-${videoKbps}k-opus-v1.rtp`);
}

const bound = (socket: Socket): Promise<number> =>
  new Promise((resolve) => socket.bind(0, "127.0.0.1", () => resolve(socket.address().port)));

/** Encodes `seconds` of testsrc2 640x360@30 VP8 at videoKbps and a 440 Hz Opus tone (48 kbit/s) into RTP. */
export async function recordClip(videoKbps: number, file: string, seconds = 10): Promise<void> {
  requireFfmpeg();
  const vSock = createSocket("udp4");
  const aSock = createSocket("udp4");
  const video: Buffer[] = [];
  const audio: Buffer[] = [];
  vSock.on("message", (m) => video.push(Buffer.from(m)));
  aSock.on("message", (m) => audio.push(Buffer.from(m)));
  const [vPort, aPort] = [await bound(vSock), await bound(aSock)];
  const args = [
    ...["-hide_banner", "-loglevel", "error", "-re"],
    ...["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"],
    ...["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
    ...["-map", "0:v", "-t", String(seconds), "-c:v", "libvpx", "-b:v", `${videoKbps}k`],
    ...["-minrate", `${videoKbps}k`, "-maxrate", `${videoKbps}k`, "-deadline", "realtime"],
    ...["-cpu-used", "8", "-g", "30", "-payload_type", String(CLIP_VIDEO_PT), "-ssrc", "1111"],
    ...["-f", "rtp", `rtp://127.0.0.1:${vPort}?pkt_size=1200`],
    ...["-map", "1:a", "-t", String(seconds), "-c:a", "libopus", "-b:a", "48k", "-ac", "2"],
    ...["-payload_type", String(CLIP_AUDIO_PT), "-ssrc", "2222"],
    ...["-f", "rtp", `rtp://127.0.0.1:${aPort}?pkt_size=1200`],
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const ff = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      ff.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      const timer = setTimeout(() => ff.kill("SIGKILL"), (seconds + 60) * 1000);
      ff.on("error", (err) => reject(new Error(`cannot run ffmpeg: ${err.message}`)));
      ff.on("exit", (code) => {
        clearTimeout(timer);
        code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.trim().slice(-500)}`));
      });
    });
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    vSock.close();
    aSock.close();
  }
  const bySeq = (a: Buffer, b: Buffer) => a.readUInt16BE(2) - b.readUInt16BE(2);
  video.sort(bySeq);
  audio.sort(bySeq);
  const parts: Buffer[] = [];
  for (const [kind, list] of [
    [0, video],
    [1, audio],
  ] as const) {
    for (const p of list) {
      const head = Buffer.alloc(3);
      head.writeUInt8(kind, 0);
      head.writeUInt16BE(p.length, 1);
      parts.push(head, p);
    }
  }
  mkdirSync(join(file, ".."), { recursive: true });
  // Written aside then renamed: two runs recording at once never leave a half file behind.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat(parts));
  renameSync(tmp, file);
}

/** Loads the clip of this bitrate, recording it first when it is not cached. */
export async function loadClip(videoKbps: number, dir = DEFAULT_CLIP_DIR): Promise<Clip> {
  const file = clipFile(videoKbps, dir);
  if (!existsSync(file)) await recordClip(videoKbps, file);
  const raw = readFileSync(file);
  const video: Buffer[] = [];
  const audio: Buffer[] = [];
  for (let at = 0; at < raw.length; ) {
    const kind = raw.readUInt8(at);
    const len = raw.readUInt16BE(at + 1);
    const p = raw.subarray(at + 3, at + 3 + len);
    (kind === 0 ? video : audio).push(p);
    at += 3 + len;
  }
  if (video.length < 100 || audio.length < 100) throw new Error(`clip ${file} is too short; delete it`);
  const ts = (p: Buffer) => p.readUInt32BE(4);
  const seconds = (ts(video.at(-1) as Buffer) - ts(video[0] as Buffer)) / 90_000 + 1 / 30;
  const dues = (list: Buffer[], clock: number) => {
    const t0 = ts(list[0] as Buffer);
    return Float64Array.from(list, (p) => ((ts(p) - t0) >>> 0) / clock);
  };
  return {
    video,
    audio,
    seconds,
    videoKbps,
    videoDue: dues(video, 90_000),
    audioDue: dues(audio, 48_000),
  };
}

/** How many video and audio packets a publisher sends in its first `mediaSeconds` (exact, from the clip). */
export function packetsIn(clip: Clip, mediaSeconds: number): { video: number; audio: number } {
  const count = (due: Float64Array) => {
    const loops = Math.floor(mediaSeconds / clip.seconds);
    const rest = mediaSeconds - loops * clip.seconds;
    let n = loops * due.length;
    for (const d of due) if (d < rest) n++;
    return n;
  };
  return { video: count(clip.videoDue), audio: count(clip.audioDue) };
}

/** Offset of the 15- or 7-bit VP8 picture id inside an RTP packet (RFC 7741 payload descriptor). */
export function pictureIdAt(p: Buffer): { at: number; long: boolean } | null {
  const cc = (p[0] as number) & 0x0f;
  let at = 12 + cc * 4;
  if ((p[0] as number) & 0x10) at += 4 + p.readUInt16BE(at + 2) * 4;
  const d0 = p[at] as number;
  if (!(d0 & 0x80)) return null;
  const x = p[at + 1] as number;
  if (!(x & 0x80)) return null;
  return { at: at + 2, long: ((p[at + 2] as number) & 0x80) !== 0 };
}

/** Video frames in one loop of the clip (distinct timestamps). */
export function framesPerLoop(clip: Clip): number {
  return new Set(clip.video.map((p) => p.readUInt32BE(4))).size;
}

export function firstPictureId(clip: Clip): number {
  for (const p of clip.video) {
    const at = pictureIdAt(p);
    if (at) return at.long ? p.readUInt16BE(at.at) & 0x7fff : (p[at.at] as number) & 0x7f;
  }
  return 0;
}
