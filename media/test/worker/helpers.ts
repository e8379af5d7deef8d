// Small utilities shared by the worker tests: bounded polling, a UDP RTP
// counter, a minimal RTP sender and an ffmpeg runner.
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { freeRtcPorts } from "@nexus/testkit";
import * as mediasoup from "mediasoup";
import type { Router, RouterRtpCodecCapability, Worker } from "mediasoup/types";
import { inject } from "vitest";

export const LOOPBACK = "127.0.0.1";

export const MEDIA_CODECS: RouterRtpCodecCapability[] = [
  { kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 },
  { kind: "video", mimeType: "video/VP8", clockRate: 90000 },
  { kind: "video", mimeType: "video/VP9", clockRate: 90000, parameters: { "profile-id": 0 } },
  {
    kind: "video",
    mimeType: "video/H264",
    clockRate: 90000,
    parameters: { "packetization-mode": 1, "profile-level-id": "42e01f", "level-asymmetry-allowed": 1 },
  },
];

/**
 * Polls `check` until it returns a truthy value or the deadline passes (then
 * throws). `what` may be a function so the message can include late details.
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 100 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const label = typeof what === "function" ? what() : what;
  throw new Error(`timed out waiting for ${label} (last value: ${JSON.stringify(last)})`);
}

export interface RtpCounter {
  socket: Socket;
  port: number;
  /** RTP packets seen per payload type (RTCP is not counted). */
  byPayloadType: Map<number, number>;
  count(pt: number): number;
  close(): void;
}

export async function rtpCounter(): Promise<RtpCounter> {
  const socket = createSocket("udp4");
  const byPayloadType = new Map<number, number>();
  socket.on("message", (msg) => {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    const pt = msg[1]! & 0x7f;
    // Payload types 64-95 with the marker bit folded in are RTCP (200-207).
    if (pt >= 72 && pt <= 79) return;
    byPayloadType.set(pt, (byPayloadType.get(pt) ?? 0) + 1);
  });
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  return {
    socket,
    port: socket.address().port,
    byPayloadType,
    count: (pt) => byPayloadType.get(pt) ?? 0,
    close: () => socket.close(),
  };
}

/**
 * Sends `count` RTP packets with an opaque payload, paced like 20 ms audio.
 * Good enough for Opus, whose payload mediasoup forwards without needing a
 * key frame.
 */
export async function sendRtp({
  port,
  payloadType,
  ssrc,
  count,
  intervalMs = 20,
}: {
  port: number;
  payloadType: number;
  ssrc: number;
  count: number;
  intervalMs?: number;
}): Promise<void> {
  const socket = createSocket("udp4");
  try {
    for (let i = 0; i < count; i++) {
      const pkt = Buffer.alloc(12 + 60);
      pkt[0] = 0x80;
      pkt[1] = payloadType & 0x7f;
      pkt.writeUInt16BE((1000 + i) & 0xffff, 2);
      pkt.writeUInt32BE((960 * i) >>> 0, 4);
      pkt.writeUInt32BE(ssrc >>> 0, 8);
      // Opus TOC byte for a 20 ms CELT frame, then filler.
      pkt[12] = 0xfc;
      pkt.fill(0xab, 13);
      await new Promise<void>((resolve, reject) =>
        socket.send(pkt, port, LOOPBACK, (err) => (err ? reject(err) : resolve())),
      );
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    socket.close();
  }
}

export interface Ffmpeg {
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts ffmpeg with the given arguments; stop() kills it if still running. */
export function ffmpeg(args: string[]): Ffmpeg {
  const proc = spawn("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr?.on("data", (d) => {
    if (err.length < 20_000) err += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", () => resolve());
    proc.once("error", (e) => {
      err += String(e);
      resolve();
    });
  });
  return {
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** The provisioned worker binary with its own RTC port range, and a router with MEDIA_CODECS on it. */
/** A free range of `count` RTC ports for a test worker. */
export async function rtcRange(count: number): Promise<{ min: number; max: number }> {
  const min = await freeRtcPorts(count);
  return { min, max: min + count - 1 };
}

export async function startWorker(ports: {
  min: number;
  max: number;
}): Promise<{ worker: Worker; router: Router }> {
  const worker = await mediasoup.createWorker({
    workerBin: inject("mediasoupWorkerBin"),
    logLevel: "warn",
    rtcMinPort: ports.min,
    rtcMaxPort: ports.max,
  });
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  return { worker, router };
}
