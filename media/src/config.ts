import { availableParallelism } from "node:os";
import {
  type RecordingStorageSettings,
  recordingStorageFromEnv,
} from "@nexus/platform/recording-storage-config";
import { randomId } from "@nexus/shared/ids";
import * as v from "valibot";
import { defaultRouteAddress } from "./sfu/announced-ip.js";
import { DEFAULT_PEER_LIMITS, type PeerLimits } from "./sfu/peer-limits.js";

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.transform(Number),
    v.integer(),
    v.minValue(min),
    v.maxValue(max),
  );

const optionalText = v.pipe(
  v.optional(v.string()),
  v.transform((s) => (s === undefined || s.trim() === "" ? undefined : s.trim())),
);

const EnvSchema = v.object({
  MEDIA_HOST_ID: optionalText,
  /** Address the uWS signaling server binds; 0.0.0.0 in a container, 127.0.0.1 in tests. */
  MEDIA_BIND: v.optional(v.string(), "0.0.0.0"),
  MEDIA_PORT: int(8096, 0, 65535),
  MEDIA_PUBLIC_URL: optionalText,
  MEDIA_NUM_WORKERS: int(0, 0, 256),
  MEDIA_CAPACITY: int(500, 1),
  RTC_MIN_PORT: int(10000, 1, 65535),
  RTC_MAX_PORT: int(10100, 1, 65535),
  MEDIASOUP_LISTEN_IP: v.optional(v.string(), "0.0.0.0"),
  MEDIASOUP_ANNOUNCED_IP: optionalText,
  /**
   * One UDP and one TCP port for all of this host's WebRTC traffic (one worker; run one host per core to
   * use more); unset: worker i listens on RTC_MIN_PORT + i.
   */
  MEDIASOUP_WEBRTC_PORT: v.pipe(
    optionalText,
    v.transform((s) => (s === undefined ? undefined : Number(s))),
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
  ),
  MEDIASOUP_WORKER_BIN: optionalText,
  MEDIASOUP_LOG_LEVEL: v.optional(v.picklist(["debug", "warn", "error", "none"]), "warn"),
  JOIN_TOKEN_SECRET: v.pipe(v.string("JOIN_TOKEN_SECRET is required"), v.minLength(16)),
  RECONNECT_GRACE_MS: int(15_000, 0),
  MEDIA_HEARTBEAT_MS: int(5_000, 100),
  /** How long a meeting stays claimed by this host between heartbeats. */
  MEDIA_CLAIM_TTL_MS: int(60_000, 1_000),
  /** How long the join path trusts a live meeting's row from memory before reading it again (0 = always read). */
  MEDIA_MEETING_CACHE_MS: int(5_000, 0),
  /**
   * Group-commit window for the participant/stats writes behind the media path: a batch is written this
   * long after its first write was queued, so a burst of joins or leaves is one statement (0 = at once).
   */
  MEDIA_DB_BATCH_MS: int(10, 0, 1_000),
  MEDIA_MAX_MESSAGE_BYTES: int(64 * 1024, 1024),
  /** Unread bytes a socket may queue on the host; past it the socket is closed (see ClientConnection). */
  MEDIA_MAX_BACKPRESSURE_BYTES: int(1024 * 1024, 1024),
  /** Token bucket per connection: sustained messages per second and burst. */
  MEDIA_RATE_PER_SEC: int(50, 1),
  MEDIA_RATE_BURST: int(100, 1),
  /** What one participant may hold (see sfu/peer-limits.ts). */
  MEDIA_MAX_PEERS_PER_USER: int(DEFAULT_PEER_LIMITS.peersPerUser, 1, 100),
  MEDIA_MAX_TRANSPORTS_PER_PEER: int(DEFAULT_PEER_LIMITS.transports, 2, 64),
  MEDIA_MAX_PRODUCERS_PER_PEER: int(DEFAULT_PEER_LIMITS.producers, 1, 64),
  MEDIA_MAX_CONSUMERS_PER_PEER: int(DEFAULT_PEER_LIMITS.consumers, 1, 20_000),
  MEDIA_MAX_CONSUMERS_PER_PRODUCER: int(DEFAULT_PEER_LIMITS.consumersPerProducer, 1, 16),
  LOG_LEVEL: v.optional(v.string(), "info"),
  /** `-` (or empty): stdout only, as control's. */
  LOG_DIR: v.optional(v.string(), "logs"),
  NODE_ENV: v.optional(v.picklist(["development", "production", "test"]), "development"),
  /** On SIGTERM/SIGINT, how long the host waits for its rooms to empty before it closes them. */
  MEDIA_DRAIN_MS: int(30_000, 0, 24 * 3_600_000),
  /** Where recordings are written (local storage). */
  RECORDINGS_DIR: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1)), "recordings"),
  /** The recorder process (Debian's ffmpeg). */
  FFMPEG_BIN: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1)), "ffmpeg"),
  /** Loopback UDP ports the recorder's PlainTransports bind (two per recorded track). */
  RECORDING_PORT_MIN: int(30_000, 1, 65535),
  RECORDING_PORT_MAX: int(31_999, 1, 65535),
  /** Composite jobs (grid video + mixed audio, re-encoded) at once on this host; 0: tracks only. */
  RECORDING_COMPOSITE_JOBS: int(1, 0, 64),
});

export interface MediaConfig {
  hostId: string;
  bind: string;
  port: number;
  /** null: ws://127.0.0.1:<bound port>, known once listening. */
  publicUrl: string | null;
  numWorkers: number;
  capacity: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  listenIp: string;
  /** An address, resolved at boot when the setting is `auto`. */
  announcedIp: string | undefined;
  /** The single-port mode's port; null: a port per worker from RTC_MIN_PORT. */
  webRtcPort: number | null;
  workerBin: string | undefined;
  workerLogLevel: "debug" | "warn" | "error" | "none";
  joinTokenSecret: string;
  reconnectGraceMs: number;
  heartbeatMs: number;
  claimTtlMs: number;
  meetingCacheMs: number;
  dbBatchMs: number;
  maxMessageBytes: number;
  maxBackpressureBytes: number;
  ratePerSec: number;
  rateBurst: number;
  peerLimits: PeerLimits;
  logLevel: string;
  /** null: stdout only. */
  logDir: string | null;
  nodeEnv: "development" | "production" | "test";
  drainMs: number;
  recording: {
    dir: string;
    ffmpegBin: string;
    portMin: number;
    portMax: number;
    compositeJobs: number;
    /** Where finished files go (RECORDINGS_STORAGE and RECORDINGS_S3_*). */
    storage: RecordingStorageSettings;
  };
}

/** Reads the host's settings from the environment, failing at boot with every problem at once. */
export function loadMediaConfig(env: Record<string, string | undefined>): MediaConfig {
  const parsed = v.safeParse(EnvSchema, env);
  if (!parsed.success) {
    const problems = parsed.issues.map((i) => `${v.getDotPath(i) ?? "env"}: ${i.message}`).join("; ");
    throw new Error(`invalid media host configuration: ${problems}`);
  }
  const e = parsed.output;
  // The same rule as control's: a production join secret is long enough not to be guessed offline.
  if (e.NODE_ENV === "production" && e.JOIN_TOKEN_SECRET.length < 32) {
    throw new Error(
      "invalid media host configuration: JOIN_TOKEN_SECRET must be at least 32 characters in production",
    );
  }
  const singlePort = e.MEDIASOUP_WEBRTC_PORT ?? null;
  if (singlePort !== null && e.MEDIA_NUM_WORKERS > 1) {
    throw new Error(
      "invalid media host configuration: MEDIASOUP_WEBRTC_PORT serves one worker; unset MEDIA_NUM_WORKERS (or set 1) and run one media host per core",
    );
  }
  let announcedIp = e.MEDIASOUP_ANNOUNCED_IP;
  if (announcedIp === "auto") {
    announcedIp = defaultRouteAddress() ?? undefined;
    if (!announcedIp) {
      throw new Error(
        "invalid media host configuration: MEDIASOUP_ANNOUNCED_IP=auto found no interface with a default route; set the address",
      );
    }
  }
  const numWorkers = singlePort !== null ? 1 : e.MEDIA_NUM_WORKERS || availableParallelism();
  if (singlePort === null && e.RTC_MAX_PORT - e.RTC_MIN_PORT + 1 < numWorkers) {
    throw new Error(
      `RTC_MIN_PORT..RTC_MAX_PORT (${e.RTC_MIN_PORT}-${e.RTC_MAX_PORT}) must hold one port per worker (${numWorkers})`,
    );
  }
  if (e.RECORDING_PORT_MAX - e.RECORDING_PORT_MIN < 1) {
    throw new Error("RECORDING_PORT_MIN..RECORDING_PORT_MAX must hold at least two ports");
  }
  return {
    hostId: e.MEDIA_HOST_ID ?? `media-${randomId().slice(0, 8)}`,
    bind: e.MEDIA_BIND,
    port: e.MEDIA_PORT,
    publicUrl: e.MEDIA_PUBLIC_URL ?? null,
    numWorkers,
    capacity: e.MEDIA_CAPACITY,
    rtcMinPort: e.RTC_MIN_PORT,
    rtcMaxPort: e.RTC_MAX_PORT,
    listenIp: e.MEDIASOUP_LISTEN_IP,
    announcedIp,
    webRtcPort: singlePort,
    workerBin: e.MEDIASOUP_WORKER_BIN,
    workerLogLevel: e.MEDIASOUP_LOG_LEVEL,
    joinTokenSecret: e.JOIN_TOKEN_SECRET,
    reconnectGraceMs: e.RECONNECT_GRACE_MS,
    heartbeatMs: e.MEDIA_HEARTBEAT_MS,
    claimTtlMs: e.MEDIA_CLAIM_TTL_MS,
    meetingCacheMs: e.MEDIA_MEETING_CACHE_MS,
    dbBatchMs: e.MEDIA_DB_BATCH_MS,
    maxMessageBytes: e.MEDIA_MAX_MESSAGE_BYTES,
    maxBackpressureBytes: e.MEDIA_MAX_BACKPRESSURE_BYTES,
    ratePerSec: e.MEDIA_RATE_PER_SEC,
    rateBurst: e.MEDIA_RATE_BURST,
    peerLimits: {
      peersPerUser: e.MEDIA_MAX_PEERS_PER_USER,
      transports: e.MEDIA_MAX_TRANSPORTS_PER_PEER,
      producers: e.MEDIA_MAX_PRODUCERS_PER_PEER,
      consumers: e.MEDIA_MAX_CONSUMERS_PER_PEER,
      consumersPerProducer: e.MEDIA_MAX_CONSUMERS_PER_PRODUCER,
    },
    logLevel: e.LOG_LEVEL,
    logDir: e.LOG_DIR.trim() === "" || e.LOG_DIR === "-" ? null : e.LOG_DIR,
    nodeEnv: e.NODE_ENV,
    drainMs: e.MEDIA_DRAIN_MS,
    recording: {
      dir: e.RECORDINGS_DIR,
      ffmpegBin: e.FFMPEG_BIN,
      portMin: e.RECORDING_PORT_MIN,
      portMax: e.RECORDING_PORT_MAX,
      compositeJobs: e.RECORDING_COMPOSITE_JOBS,
      storage: recordingStorageFromEnv(env),
    },
  };
}
