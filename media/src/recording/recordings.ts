import { randomUUID } from "node:crypto";
import type { Logger } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";
import type { RecordingState } from "@nexus/shared/signaling/recording";
import type { Room } from "../sfu/room.js";
import { JobPool } from "./composite.js";
import { Recording, type RecordingSettings } from "./recording.js";
import type { RecordingRows } from "./recording-rows.js";

export interface RecordingsOptions {
  hostId: string;
  settings: Omit<RecordingSettings, "composite">;
  /** Composite jobs at once on this host (0: no composites, tracks only). */
  compositeJobs: number;
  rows: RecordingRows;
  logger: Logger;
  now: () => Date;
}

export interface StartedBy {
  participantId: string | null;
  userId: string | null;
  name: string | null;
}

/**
 * The recordings this host is making, at most one per meeting. Starting and stopping tell the room; a
 * recording that ends by itself (its room closed, a recorder died) tells the room too, while it is open.
 */
export class Recordings {
  private readonly active = new Map<string, Recording>();
  /** Starts in flight per meeting, so two hosts pressing at once make one recording. */
  private readonly pending = new Map<string, Promise<Recording>>();
  private readonly finishing = new Set<Promise<unknown>>();
  private closed = false;
  private readonly abort = new AbortController();
  private readonly settings: RecordingSettings;
  /** The composite jobs of this host, a bounded pool so many recordings can end at once. */
  readonly pool: JobPool;

  constructor(private readonly options: RecordingsOptions) {
    this.pool = new JobPool(Math.max(1, options.compositeJobs));
    this.settings = {
      ...options.settings,
      composite: options.compositeJobs > 0 ? { pool: this.pool, signal: this.abort.signal } : null,
    };
  }

  /** At boot: recordings this host id left unfinished last time are failed (nothing records them any more). */
  async sweepOrphans(): Promise<void> {
    const failed = await this.options.rows.failOrphans(this.options.hostId, this.options.now());
    if (failed > 0) this.options.logger.warn({ failed }, "failed recordings left unfinished by this host");
  }

  /** The recording under way in this meeting, as the join answer carries it. */
  stateOf(meetingId: string): RecordingState | null {
    return this.active.get(meetingId)?.state() ?? null;
  }

  get(meetingId: string): Recording | undefined {
    return this.active.get(meetingId);
  }

  async start(room: Room, by: StartedBy, id: string = randomUUID()): Promise<RecordingState> {
    if (this.closed) throw new AppError("unavailable", "this media host is shutting down");
    if (room.closed) throw new AppError("invalid_state", "the meeting is not live");
    if (this.active.has(room.id) || this.pending.has(room.id))
      throw new AppError("conflict", "a recording is already under way");
    const starting = Recording.start({
      id,
      room,
      hostId: this.options.hostId,
      startedBy: by,
      settings: this.settings,
      rows: this.options.rows,
      logger: this.options.logger,
      now: this.options.now,
    });
    this.pending.set(room.id, starting);
    let recording: Recording;
    try {
      recording = await starting;
    } finally {
      this.pending.delete(room.id);
    }
    this.active.set(room.id, recording);
    recording.onFinished = (status, reason, stoppedBy) => {
      if (this.active.get(room.id) === recording) this.active.delete(room.id);
      if (recording.composing) void this.track(recording.composing);
      if (!room.closed) {
        room.broadcast("recording-stopped", {
          recording_id: recording.id,
          status,
          stopped_by: stoppedBy,
          reason,
        });
      }
    };
    const state = recording.state();
    room.broadcast("recording-started", state);
    this.options.logger.info({ meeting_id: room.id, recording_id: id }, "recording started");
    return state;
  }

  /** Stops the meeting's recording (`recordingId`, when given, must be the one under way). */
  async stop(
    meetingId: string,
    by: string | null,
    recordingId?: string,
  ): Promise<{ recording_id: string; status: string }> {
    const recording = this.active.get(meetingId);
    if (!recording || (recordingId && recording.id !== recordingId))
      throw new AppError("invalid_state", "no recording is under way");
    const status = await this.track(recording.stop(by));
    return { recording_id: recording.id, status };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.finishing.add(p);
    void p.finally(() => this.finishing.delete(p)).catch(() => {});
    return p;
  }

  /**
   * Host shutdown: every recording is finished (files closed, rows final) before the host goes; composites
   * still running are cut short (those recordings are ready with their tracks, saying why).
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending.values()]);
    for (const recording of this.active.values())
      void this.track(recording.stop(null, "the media host shut down"));
    // Captures end first (their rows are written), then whatever composite is left is aborted.
    await Promise.allSettled([...this.active.values()].map((r) => r.stop(null)));
    this.abort.abort();
    while (this.finishing.size > 0) await Promise.allSettled([...this.finishing]);
  }
}
