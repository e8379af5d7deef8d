import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@nexus/platform";
import type { RecordingStorage } from "@nexus/platform/recording-storage";
import type { RecordingTrack } from "@nexus/shared/rest/recordings";
import type { MediaSource } from "@nexus/shared/signaling/peer";
import type { RecordingState } from "@nexus/shared/signaling/recording";
import type { types as ms } from "mediasoup";
import type { Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";
import { compositeArgs, type JobPool, runComposite } from "./composite.js";
import type { RecordingRows } from "./recording-rows.js";
import { TrackCapture } from "./track-capture.js";

export interface RecordingSettings {
  /** Root of local storage (RECORDINGS_DIR). */
  dir: string;
  ffmpegBin: string;
  portRange: { min: number; max: number };
  /** Where finished files end up (the files are written under `dir` first). */
  storage: RecordingStorage;
  /** Mix the tracks into one MP4 after a stop (null: tracks only); `signal` aborts jobs when the host closes. */
  composite: { pool: JobPool; signal: AbortSignal } | null;
}

export interface RecordingOptions {
  id: string;
  room: Room;
  hostId: string;
  startedBy: { participantId: string | null; userId: string | null; name: string | null };
  settings: RecordingSettings;
  rows: RecordingRows;
  logger: Logger;
  now: () => Date;
}

interface Track {
  info: RecordingTrack;
  capture: TrackCapture | null;
}

/** A path segment from an id of any shape (tenant ids are the identity provider's). */
const segment = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");

/**
 * One recording of one meeting: every producer of the room, present at the start or added later, captured
 * into its own file, each placed on the recording's timeline by when its capture started. Ends when stopped,
 * when the room closes, or (failed) when a recorder process dies.
 */
export class Recording {
  readonly id: string;
  readonly startedAt: Date;
  private readonly room: Room;
  private readonly tracks = new Map<string, Track>();
  private readonly unsubscribe: (() => void)[] = [];
  private meetingStartedAt: Date | null = null;
  private finishing: Promise<"ready" | "processing" | "failed"> | null = null;
  /** Track starts in flight, so a stop waits for them and then stops them too. */
  private readonly starting = new Set<Promise<void>>();
  /** Row writes in order: the tracks list, then the final state. */
  private writes: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly key: string;
  /** Told once, with the final status and why. */
  onFinished: (status: "ready" | "processing" | "failed", reason: string | null, by: string | null) => void =
    () => {};

  private constructor(private readonly options: RecordingOptions) {
    this.id = options.id;
    this.room = options.room;
    this.startedAt = options.now();
    this.logger = options.logger.child({ recording_id: this.id, meeting_id: this.room.id });
    this.key = join(segment(this.room.meeting.tenantId), segment(this.room.id), segment(this.id));
  }

  get meetingId(): string {
    return this.room.id;
  }
  get finished(): boolean {
    return this.finishing !== null;
  }

  state(): RecordingState {
    const by = this.options.startedBy;
    return {
      recording_id: this.id,
      started_by: by.participantId,
      started_by_name: by.name,
      started_at: this.startedAt.toISOString(),
    };
  }

  /** Per track id: whether media is reaching its file yet, for operators and tests. */
  flowing(): Map<string, boolean> {
    return new Map([...this.tracks].map(([id, t]) => [id, t.capture?.flowing ?? false]));
  }

  /** Recorder pids by track id, for operators and tests. */
  processes(): Map<string, number | undefined> {
    return new Map([...this.tracks].map(([id, t]) => [id, t.capture?.pid]));
  }

  static async start(options: RecordingOptions): Promise<Recording> {
    const recording = new Recording(options);
    await mkdir(join(options.settings.dir, recording.key), { recursive: true });
    const { meetingStartedAt } = await options.rows.insert({
      id: recording.id,
      tenantId: options.room.meeting.tenantId,
      meetingId: options.room.id,
      hostId: options.hostId,
      startedBy: options.startedBy.userId,
      startedAt: recording.startedAt,
    });
    recording.meetingStartedAt = meetingStartedAt;
    recording.watch();
    return recording;
  }

  private watch(): void {
    const room = this.room;
    this.unsubscribe.push(
      room.events.on("producernew", (peer, producer, source) => this.add(peer, producer, source)),
      room.events.on("close", () => void this.stop(null, "the meeting ended")),
    );
    for (const peer of room.peers.values()) {
      for (const { producer, source } of peer.producers.values()) this.add(peer, producer, source);
    }
  }

  private add(peer: Peer, producer: ms.Producer, source: MediaSource): void {
    if (this.finishing || producer.closed) return;
    const trackId = randomUUID();
    const codec = producer.rtpParameters.codecs[0]?.mimeType ?? "unknown";
    const started = (async () => {
      const capture = await TrackCapture.start({
        room: this.room,
        producer,
        ffmpegBin: this.options.settings.ffmpegBin,
        fileBase: join(this.options.settings.dir, this.key, trackId),
        portRange: this.options.settings.portRange,
        logger: this.logger,
        now: this.options.now,
        onDied: (_c, reason) => void this.fail(reason),
        onIdle: () => void this.idle(trackId, peer, producer, source),
        onFirstMedia: (c) => this.placeTrack(trackId, c.startedAt),
        onProducerClosed: () => void this.endTrack(trackId),
      }).catch((err: Error) => {
        this.logger.warn({ err, producer_id: producer.id }, "a track could not be recorded");
        return null;
      });
      const startedAt = capture?.startedAt ?? this.options.now();
      const info: RecordingTrack = {
        id: trackId,
        participant_id: peer.id,
        display_name: peer.displayName,
        producer_id: producer.id,
        kind: producer.kind,
        source,
        codec,
        file: capture ? join(this.key, capture.file.slice(capture.file.lastIndexOf("/") + 1)) : "",
        started_at: startedAt.toISOString(),
        offset_ms: startedAt.getTime() - this.startedAt.getTime(),
        meeting_offset_ms: this.meetingStartedAt
          ? startedAt.getTime() - this.meetingStartedAt.getTime()
          : null,
        ended_at: capture ? null : startedAt.toISOString(),
        size_bytes: null,
        status: capture ? "recording" : "failed",
      };
      this.tracks.set(trackId, { info, capture });
      // A stop that came while this track was starting has already stopped the others; this one follows.
      if (this.finishing && capture) await this.endTrack(trackId);
      else this.saveTracks();
    })();
    this.starting.add(started);
    void started.finally(() => this.starting.delete(started));
  }

  /** A track's place on the timeline, once its first media is known. */
  private placeTrack(trackId: string, startedAt: Date): void {
    const track = this.tracks.get(trackId);
    if (!track) return;
    track.info = {
      ...track.info,
      started_at: startedAt.toISOString(),
      offset_ms: startedAt.getTime() - this.startedAt.getTime(),
      meeting_offset_ms: this.meetingStartedAt ? startedAt.getTime() - this.meetingStartedAt.getTime() : null,
    };
    if (!this.finishing) this.saveTracks();
  }

  private saveTracks(): void {
    const tracks = [...this.tracks.values()].map((t) => t.info);
    const { tenantId } = this.room.meeting;
    this.write(() => this.options.rows.setTracks(tenantId, this.id, tracks));
  }

  private write(action: () => Promise<void>): void {
    this.writes = this.writes
      .then(action)
      .catch((err) => this.logger.error({ err }, "recording row write failed"));
  }

  private async endTrack(trackId: string): Promise<void> {
    const track = this.tracks.get(trackId);
    if (!track?.capture || track.info.status !== "recording") return;
    const capture = track.capture;
    const result = await capture.stop();
    track.info = {
      ...track.info,
      ended_at: result.endedAt.toISOString(),
      size_bytes: result.sizeBytes,
      status: result.error ? "failed" : "ready",
    };
    if (result.error)
      this.logger.warn({ track_id: trackId, error: result.error }, "a track recorded nothing");
    if (!this.finishing) this.saveTracks();
  }

  /**
   * The producer sent nothing for a while (muted, stalled, closed) and its capture ended cleanly: what it
   * wrote is kept (an empty one is dropped) and a new segment starts when the producer sends again.
   */
  private async idle(trackId: string, peer: Peer, producer: ms.Producer, source: MediaSource): Promise<void> {
    await this.endTrack(trackId);
    const track = this.tracks.get(trackId);
    if (track && track.info.size_bytes === null) {
      this.tracks.delete(trackId);
      if (!this.finishing) this.saveTracks();
    }
    if (this.finishing || producer.closed) return;
    if (producer.paused) producer.observer.once("resume", () => this.add(peer, producer, source));
    else this.add(peer, producer, source);
  }

  /** A recorder process died: the whole recording fails, saying why; the meeting goes on untouched. */
  private fail(reason: string): Promise<"ready" | "processing" | "failed"> {
    this.logger.error({ reason }, "recording failed");
    return this.finish("failed", reason, null);
  }

  /** Hands each finished file to the storage (S3: upload, then the local copy goes); the error, if any. */
  private async store(tracks: RecordingTrack[], compositeKey: string | null): Promise<string | null> {
    const storage = this.options.settings.storage;
    if (storage.kind === "local") return null;
    try {
      if (compositeKey)
        await storage.put(compositeKey, join(this.options.settings.dir, compositeKey), "video/mp4");
      for (const t of tracks) {
        if (t.status !== "ready" || !t.file) continue;
        const type = t.file.endsWith(".mkv")
          ? "video/x-matroska"
          : t.kind === "audio"
            ? "audio/webm"
            : "video/webm";
        await storage.put(t.file, join(this.options.settings.dir, t.file), type);
      }
      return null;
    } catch (err) {
      this.logger.error({ err }, "recording upload failed");
      return `upload to storage failed: ${(err as Error).message}`;
    }
  }

  /** Stops every capture and writes the final row. Idempotent: later calls get the first one's answer. */
  stop(by: string | null, reason: string | null = null): Promise<"ready" | "processing" | "failed"> {
    return this.finish("ready", reason, by);
  }

  private finish(wanted: "ready" | "failed", reason: string | null, by: string | null) {
    this.finishing ??= (async () => {
      for (const off of this.unsubscribe.splice(0)) off();
      while (this.starting.size > 0) await Promise.all([...this.starting]);
      await Promise.all([...this.tracks.keys()].map((id) => this.endTrack(id)));
      const endedAt = this.options.now();
      const tracks = [...this.tracks.values()].map((t) => t.info);
      const anyFile = tracks.some((t) => t.status === "ready");
      const failed = wanted === "failed" || !anyFile;
      const failureReason = failed
        ? (reason ?? (tracks.length ? "no track recorded any media" : "nothing was recorded"))
        : null;
      const durationMs = endedAt.getTime() - this.startedAt.getTime();
      const base = {
        endedAt,
        durationSeconds: Math.round(durationMs / 1000),
        sizeBytes: tracks.reduce((sum, t) => sum + (t.size_bytes ?? 0), 0),
        tracks,
      };
      const { tenantId } = this.room.meeting;
      const composite = this.options.settings.composite;
      if (!failed && composite) {
        // The tracks are closed and listed; the composite follows in the host's bounded pool.
        this.write(() =>
          this.options.rows.finish(tenantId, this.id, {
            ...base,
            status: "processing",
            failureReason: null,
            storage: "local",
          }),
        );
        await this.writes;
        this.composing = composite.pool.run(() => this.compose(tracks, durationMs, base));
        this.onFinished("processing", reason, by);
        return "processing";
      }
      const uploadError = failed ? null : await this.store(tracks, null);
      const status = failed || uploadError ? "failed" : "ready";
      this.write(() =>
        this.options.rows.finish(tenantId, this.id, {
          ...base,
          status,
          failureReason: uploadError ?? failureReason,
          storage: this.options.settings.storage.kind,
        }),
      );
      await this.writes;
      this.onFinished(status, status === "failed" ? (uploadError ?? failureReason) : reason, by);
      return status;
    })();
    return this.finishing;
  }

  /** After a `processing` stop: the composite job and the upload, then the row's final state. */
  composing: Promise<void> | null = null;

  private async compose(
    tracks: RecordingTrack[],
    durationMs: number,
    base: { endedAt: Date; durationSeconds: number; sizeBytes: number; tracks: RecordingTrack[] },
  ): Promise<void> {
    const { settings } = this.options;
    const key = join(this.key, "composite.mp4");
    const out = join(settings.dir, key);
    let compositeKey: string | null = null;
    let sizeBytes = base.sizeBytes;
    let note: string | null = null;
    try {
      if (settings.composite?.signal.aborted) throw new Error("the media host shut down");
      const args = compositeArgs(settings.dir, tracks, durationMs / 1000, out);
      const result = await runComposite(settings.ffmpegBin, args, out, settings.composite?.signal);
      compositeKey = key;
      sizeBytes += result.sizeBytes;
    } catch (err) {
      // The tracks stand on their own; the recording is ready without its composite, saying why.
      note = `composite not made: ${(err as Error).message}`;
      this.logger.warn({ err }, "composite failed");
    }
    const uploadError = await this.store(tracks, compositeKey);
    const { tenantId } = this.room.meeting;
    this.write(() =>
      this.options.rows.finish(tenantId, this.id, {
        ...base,
        sizeBytes,
        status: uploadError ? "failed" : "ready",
        failureReason: uploadError ?? note,
        storage: settings.storage.kind,
        fileUrl: compositeKey,
      }),
    );
    await this.writes;
  }
}
