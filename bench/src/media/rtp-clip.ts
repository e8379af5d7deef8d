/**
 * A recorded VP8 + Opus RTP clip, so no encoder runs while forwarding is measured: ffmpeg encodes a test
 * pattern once (real libvpx/libopus output, real packet sizes), the packets are kept in a file, and the
 * replayer sends them at real-time pace, renumbering sequence numbers, timestamps and the VP8 picture id on
 * every loop so receivers see one continuous stream.
 */
import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUILD_DIR } from "../build.js";

export const CLIP_FILE = join(BUILD_DIR, "media", "clip-vp8-opus.rtp");
export const VIDEO_PT = 96;
export const AUDIO_PT = 100;
export const VIDEO_SSRC = 11_111_111;
export const AUDIO_SSRC = 22_222_222;

export interface ClipPacket {
  kind: "video" | "audio";
  /** RTP packet as ffmpeg sent it. */
  bytes: Buffer;
}

export interface Clip {
  video: Buffer[];
  audio: Buffer[];
  seconds: number;
}

const bound = (socket: Socket): Promise<number> =>
  new Promise((resolve) => socket.bind(0, "127.0.0.1", () => resolve(socket.address().port)));

/** Encodes `seconds` of testsrc2 640x360@30 VP8 ~1 Mbit/s and a 440 Hz Opus tone into RTP, once. */
export async function recordClip(seconds = 10, file = CLIP_FILE): Promise<void> {
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
    ...["-map", "0:v", "-t", String(seconds), "-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime"],
    ...["-cpu-used", "8", "-g", "30", "-payload_type", String(VIDEO_PT), "-ssrc", "1111"],
    ...["-f", "rtp", `rtp://127.0.0.1:${vPort}?pkt_size=1200`],
    ...["-map", "1:a", "-t", String(seconds), "-c:a", "libopus", "-b:a", "48k", "-ac", "2"],
    ...["-payload_type", String(AUDIO_PT), "-ssrc", "2222"],
    ...["-f", "rtp", `rtp://127.0.0.1:${aPort}?pkt_size=1200`],
  ];
  await new Promise<void>((resolve, reject) => {
    const ff = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "inherit"] });
    const timer = setTimeout(() => ff.kill("SIGKILL"), (seconds + 60) * 1000);
    ff.on("error", reject);
    ff.on("exit", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}`));
    });
  });
  await new Promise((r) => setTimeout(r, 200));
  vSock.close();
  aSock.close();
  // Loopback does not reorder, but sort by sequence number anyway so the file is one clean run.
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
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, Buffer.concat(parts));
}

export async function loadClip(file = CLIP_FILE): Promise<Clip> {
  if (!existsSync(file)) {
    console.log(`recording the RTP clip once with ffmpeg -> ${file}`);
    await recordClip();
  }
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
  const vSpan = (ts(video.at(-1)!) - ts(video[0]!)) / 90_000 + 1 / 30;
  return { video, audio, seconds: vSpan };
}

/** Offset of the 15- or 7-bit VP8 picture id inside an RTP packet, or -1 (RFC 7741 payload descriptor). */
function pictureIdAt(p: Buffer): { at: number; long: boolean } | null {
  const cc = p[0]! & 0x0f;
  let at = 12 + cc * 4;
  if (p[0]! & 0x10) at += 4 + p.readUInt16BE(at + 2) * 4;
  const d0 = p[at]!;
  if (!(d0 & 0x80)) return null;
  const x = p[at + 1]!;
  if (!(x & 0x80)) return null;
  return { at: at + 2, long: (p[at + 2]! & 0x80) !== 0 };
}

export interface Replayer {
  /** Packets sent so far, both kinds. */
  readonly sent: number;
  stop(): void;
}

/**
 * Sends the clip to host:port from `socket` at real-time pace, looping, with SSRCs and payload types set to
 * the ones the producer was created with.
 */
export function replay(clip: Clip, socket: Socket, host: string, port: number): Replayer {
  interface Stream {
    list: Buffer[];
    clock: number;
    pt: number;
    ssrc: number;
    i: number;
    loop: number;
    seq: number;
  }
  const streams: Stream[] = [
    { list: clip.video, clock: 90_000, pt: VIDEO_PT, ssrc: VIDEO_SSRC, i: 0, loop: 0, seq: 1 },
    { list: clip.audio, clock: 48_000, pt: AUDIO_PT, ssrc: AUDIO_SSRC, i: 0, loop: 0, seq: 1 },
  ];
  const firstPid = (() => {
    for (const p of clip.video) {
      const at = pictureIdAt(p);
      if (at) return at.long ? p.readUInt16BE(at.at) & 0x7fff : p[at.at]! & 0x7f;
    }
    return 0;
  })();
  const pids = new Set<number>();
  for (const p of clip.video) pids.add(p.readUInt32BE(4));
  const framesPerLoop = pids.size;
  const started = performance.now();
  let sent = 0;
  const tick = () => {
    const elapsed = (performance.now() - started) / 1000;
    for (const s of streams) {
      const t0 = s.list[0]!.readUInt32BE(4);
      for (;;) {
        const src = s.list[s.i]!;
        const rel = (src.readUInt32BE(4) - t0) >>> 0;
        const due = s.loop * clip.seconds + rel / s.clock;
        if (due > elapsed) break;
        const p = Buffer.from(src);
        p[1] = (p[1]! & 0x80) | s.pt;
        p.writeUInt16BE(s.seq & 0xffff, 2);
        p.writeUInt32BE((rel + Math.round(s.loop * clip.seconds * s.clock)) >>> 0, 4);
        p.writeUInt32BE(s.ssrc, 8);
        if (s.pt === VIDEO_PT) {
          const at = pictureIdAt(p);
          if (at?.long) {
            const pid = (p.readUInt16BE(at.at) & 0x7fff) - firstPid + s.loop * framesPerLoop;
            p.writeUInt16BE(0x8000 | (pid & 0x7fff), at.at);
          } else if (at) {
            p[at.at] = ((p[at.at]! & 0x7f) - firstPid + s.loop * framesPerLoop) & 0x7f;
          }
        }
        socket.send(p, port, host);
        sent++;
        s.seq++;
        s.i++;
        if (s.i === s.list.length) {
          s.i = 0;
          s.loop++;
        }
      }
    }
  };
  const timer = setInterval(tick, 5);
  return {
    get sent() {
      return sent;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
