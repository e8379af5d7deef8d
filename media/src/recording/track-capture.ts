import { type ChildProcess, spawn } from "node:child_process";
import { stat, writeFile } from "node:fs/promises";
import type { Logger } from "@nexus/platform";
import type { types as ms } from "mediasoup";
import type { Room } from "../sfu/room.js";
import { freeUdpPair, portTaken } from "./ports.js";
import { containerFor, recorderCapabilities, sdpFor } from "./sdp.js";

const LOOPBACK = "127.0.0.1";
/** After the first key frame request, a few more in case the first was lost before ffmpeg listened. */
const KEY_FRAME_RETRIES_MS = [500, 1_500, 3_000, 5_000, 8_000, 12_000];
const LISTEN_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
/**
 * Seconds without a packet after which ffmpeg closes its file cleanly and exits: a muted microphone or a
 * closed producer ends the capture's segment (a resumed producer starts a new one), and a stop never waits on a
 * read that nothing will answer (ffmpeg heeds SIGINT only between packets).
 */
export const IDLE_END_SECONDS = 4;
const STDERR_KEEP = 2_000;

export interface CaptureOptions {
  room: Room;
  producer: ms.Producer;
  ffmpegBin: string;
  /** Absolute path of the output file without extension (the codec decides it). */
  fileBase: string;
  portRange: { min: number; max: number };
  logger: Logger;
  now: () => Date;
  /** The recorder process ended without being asked to (killed, crashed, disk full). */
  onDied: (capture: TrackCapture, reason: string) => void;
  /** Nothing arrived for IDLE_END_SECONDS: ffmpeg closed its file and exited cleanly. */
  onIdle: (capture: TrackCapture) => void;
  /** The first media left for the recorder: `startedAt` now says when. */
  onFirstMedia?: (capture: TrackCapture) => void;
  /** The producer closed (left, stopped sharing): the track ended normally. */
  onProducerClosed: (capture: TrackCapture) => void;
}

export interface CaptureResult {
  sizeBytes: number | null;
  endedAt: Date;
  /** Set when no usable file came out. */
  error: string | null;
}

/**
 * One producer captured into one file: a consumer on a PlainTransport sends its RTP (and RTCP) over loopback
 * to an ffmpeg process that copies it into WebM or MKV. Nothing is re-encoded; the meeting never waits on it.
 */
export class TrackCapture {
  readonly file: string;
  readonly codec: string;
  startedAt: Date;
  private process: ChildProcess | null = null;
  private transport: ms.PlainTransport | null = null;
  private consumer: ms.Consumer | null = null;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private stopping: Promise<CaptureResult> | null = null;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private stderr = "";

  private constructor(private readonly options: CaptureOptions) {
    this.codec = options.producer.rtpParameters.codecs[0]?.mimeType ?? "unknown";
    this.file = `${options.fileBase}.${containerFor(this.codec).ext}`;
    this.startedAt = options.now();
  }

  private flowingFlag = false;
  /** True once ffmpeg has written media to the file (it probed the stream and the muxer took packets). */
  get flowing(): boolean {
    return this.flowingFlag;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }
  get producerId(): string {
    return this.options.producer.id;
  }

  static async start(options: CaptureOptions): Promise<TrackCapture> {
    const capture = new TrackCapture(options);
    try {
      await capture.open();
    } catch (error) {
      capture.release();
      capture.process?.kill("SIGKILL");
      throw error;
    }
    return capture;
  }

  private async open(): Promise<void> {
    const { room, producer, portRange } = this.options;
    this.transport = await room.createPlainTransport({
      listenInfo: { protocol: "udp", ip: LOOPBACK, portRange },
      rtcpMux: false,
      comedia: false,
      appData: { recording: true },
    });
    this.consumer = await this.transport.consume({
      producerId: producer.id,
      rtpCapabilities: recorderCapabilities(room.rtpCapabilities, producer),
      paused: true,
      appData: { recording: true },
    });
    const rtpPort = await freeUdpPair(LOOPBACK);
    const sdpPath = `${this.options.fileBase}.sdp`;
    await writeFile(sdpPath, sdpFor(this.consumer, LOOPBACK, rtpPort, rtpPort + 1));
    this.spawn(sdpPath);
    await this.listening(rtpPort);
    await this.transport.connect({ ip: LOOPBACK, port: rtpPort, rtcpPort: rtpPort + 1 });
    const consumer = this.consumer;
    consumer.on("producerclose", () => this.options.onProducerClosed(this));
    consumer.on("producerresume", () => this.requestKeyFrame());
    // The track starts when its first media leaves for ffmpeg (a video's first key frame), not when it was
    // asked for: that is where the file's first timestamp sits, and where the composite places it.
    let first = true;
    consumer.on("trace", () => {
      if (!first) return;
      first = false;
      this.startedAt = this.options.now();
      consumer.enableTraceEvent([]).catch(() => {});
      this.options.onFirstMedia?.(this);
    });
    await consumer.enableTraceEvent([consumer.kind === "video" ? "keyframe" : "rtp"]);
    this.startedAt = this.options.now();
    await consumer.resume();
    this.requestKeyFrame();
    for (const ms of KEY_FRAME_RETRIES_MS) this.timers.push(setTimeout(() => this.requestKeyFrame(), ms));
  }

  private spawn(sdpPath: string): void {
    const { format } = containerFor(this.codec);
    const child = spawn(
      this.options.ffmpegBin,
      [
        ...["-nostdin", "-hide_banner", "-loglevel", "error", "-y"],
        ...["-protocol_whitelist", "file,udp,rtp", "-listen_timeout", String(IDLE_END_SECONDS)],
        // A video's size is only known from its first key frame: probe long enough for a slow one.
        ...["-analyzeduration", "30000000", "-probesize", "50000000"],
        ...["-fflags", "+genpts", "-i", sdpPath, "-map", "0", "-c", "copy", "-f", format, this.file],
        // Progress on stdout: the first written timestamp says media is flowing into the file.
        ...["-progress", "pipe:1", "-stats_period", "0.5"],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.process = child;
    child.stdout?.on("data", (chunk: Buffer) => {
      if (!this.flowingFlag && /out_time_us=[1-9]/.test(chunk.toString())) this.flowingFlag = true;
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_KEEP);
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (err) => {
        this.stderr += String(err);
        resolve({ code: -1, signal: null });
      });
    });
    void this.exited.then(({ code, signal }) => {
      if (this.stopping) return;
      this.release();
      if (code === 0) {
        this.options.onIdle(this);
        return;
      }
      const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const detail = this.stderr.trim().split("\n").slice(-2).join(" ").trim();
      this.options.onDied(this, `recorder process ${why}${detail ? `: ${detail}` : ""}`);
    });
  }

  /** ffmpeg opens its RTP socket only once it has read the SDP; sending earlier would be lost. */
  private async listening(port: number): Promise<void> {
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    let exited = false;
    void this.exited?.then(() => {
      exited = true;
    });
    while (!(await portTaken(port, LOOPBACK))) {
      if (exited) throw new Error(`recorder process did not start: ${this.stderr.trim() || "no output"}`);
      if (Date.now() > deadline) throw new Error("recorder process did not open its port in time");
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private requestKeyFrame(): void {
    const consumer = this.consumer;
    if (!consumer || consumer.closed || consumer.kind !== "video") return;
    consumer.requestKeyFrame().catch(() => {});
  }

  /** Closes the media side; the transport's close cascades to the consumer. Idempotent. */
  private release(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.transport?.close();
    this.transport = null;
    this.consumer = null;
  }

  /**
   * Ends the capture: ffmpeg is asked to finish its file (SIGINT) while the RTP still flows, since it heeds the
   * signal between packets; a stream that sends nothing ends by the idle limit instead. Killed if it hangs.
   */
  stop(): Promise<CaptureResult> {
    this.stopping ??= (async () => {
      for (const t of this.timers.splice(0)) clearTimeout(t);
      const child = this.process;
      const endedAt = this.options.now();
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await this.exited;
        clearTimeout(timer);
      }
      this.release();
      const size = await stat(this.file).then(
        (s) => s.size,
        () => null,
      );
      if (!size) {
        const detail = this.stderr.trim().split("\n").slice(-1)[0] ?? "";
        return { sizeBytes: null, endedAt, error: `no media was written${detail ? `: ${detail}` : ""}` };
      }
      return { sizeBytes: size, endedAt, error: null };
    })();
    return this.stopping;
  }
}
