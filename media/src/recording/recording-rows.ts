import { type Db, meetings, recordings } from "@nexus/drizzle";
import type { RecordingTrack } from "@nexus/shared/rest/recordings";
import { and, eq } from "drizzle-orm";

export interface NewRecordingRow {
  id: string;
  tenantId: string;
  meetingId: string;
  hostId: string;
  startedBy: string | null;
  startedAt: Date;
}

export interface FinishedRecording {
  status: "ready" | "processing" | "failed";
  /** Storage key of the composite, once made. */
  fileUrl?: string | null;
  endedAt: Date;
  durationSeconds: number;
  sizeBytes: number;
  tracks: RecordingTrack[];
  failureReason: string | null;
  storage: "local" | "s3";
}

/** Every write a media host makes to the recordings table; each recording's row has this host as its writer. */
export class RecordingRows {
  constructor(private readonly db: Db) {}

  /** Inserts the row and answers the meeting's start (the clock the tracks are also placed on). */
  async insert(row: NewRecordingRow): Promise<{ meetingStartedAt: Date | null }> {
    await this.db.insert(recordings).values({ ...row, status: "recording", storage: "local", tracks: [] });
    const [meeting] = await this.db
      .select({ startedAt: meetings.startedAt })
      .from(meetings)
      .where(and(eq(meetings.tenantId, row.tenantId), eq(meetings.id, row.meetingId)))
      .limit(1);
    return { meetingStartedAt: meeting?.startedAt ?? null };
  }

  async setTracks(tenantId: string, id: string, tracks: RecordingTrack[]): Promise<void> {
    await this.db
      .update(recordings)
      .set({ tracks })
      .where(
        and(eq(recordings.tenantId, tenantId), eq(recordings.id, id), eq(recordings.status, "recording")),
      );
  }

  /**
   * Rows this host left `recording` or `processing` when it stopped without finishing them (killed, crashed):
   * its recorder and composite processes are gone with it, so they are failed, saying why. Returns how many.
   */
  async failOrphans(hostId: string, at: Date): Promise<number> {
    const recordingRows = await this.db
      .update(recordings)
      .set({ status: "failed", endedAt: at, failureReason: "the media host stopped while recording" })
      .where(and(eq(recordings.hostId, hostId), eq(recordings.status, "recording")))
      .returning({ id: recordings.id });
    const processingRows = await this.db
      .update(recordings)
      .set({ status: "failed", failureReason: "the media host stopped while making the composite" })
      .where(and(eq(recordings.hostId, hostId), eq(recordings.status, "processing")))
      .returning({ id: recordings.id });
    return recordingRows.length + processingRows.length;
  }

  async finish(tenantId: string, id: string, done: FinishedRecording): Promise<void> {
    await this.db
      .update(recordings)
      .set(done)
      .where(and(eq(recordings.tenantId, tenantId), eq(recordings.id, id)));
  }
}
