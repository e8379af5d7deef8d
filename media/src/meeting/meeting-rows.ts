import { type Db, meetings } from "@nexus/drizzle";
import { and, eq, ne } from "drizzle-orm";

/**
 * What a media host changes on a meeting's own row: the host controls' switches and the end of the meeting.
 * (The scheduled -> active change of a first join rides in the participant log's batched join statement.)
 */
export class MeetingRows {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {}

  async setLobby(tenantId: string, meetingId: string, enabled: boolean): Promise<void> {
    await this.db
      .update(meetings)
      .set({ lobbyEnabled: enabled, updatedAt: this.now() })
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId)));
  }

  async setLocked(tenantId: string, meetingId: string, locked: boolean): Promise<void> {
    await this.db
      .update(meetings)
      .set({ locked, updatedAt: this.now() })
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId)));
  }

  /** A host ended it: whatever its status, unless already ended. */
  async end(tenantId: string, meetingId: string): Promise<void> {
    const at = this.now();
    await this.db
      .update(meetings)
      .set({ status: "ended", endedAt: at, updatedAt: at })
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId), ne(meetings.status, "ended")));
  }

  /** Nobody came back: ends it only if it is still active. True when this call ended it. */
  async endIfActive(tenantId: string, meetingId: string): Promise<boolean> {
    const at = this.now();
    const [ended] = await this.db
      .update(meetings)
      .set({ status: "ended", endedAt: at, updatedAt: at })
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId), eq(meetings.status, "active")))
      .returning({ id: meetings.id });
    return ended !== undefined;
  }

  /** The status and empty timeout the empty-room check needs. */
  async emptyCheck(
    tenantId: string,
    meetingId: string,
  ): Promise<{ status: string; emptyTimeoutSeconds: number | undefined } | null> {
    const [row] = await this.db
      .select({ status: meetings.status, settings: meetings.settings })
      .from(meetings)
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId)))
      .limit(1);
    return row ? { status: row.status, emptyTimeoutSeconds: row.settings.empty_timeout_seconds } : null;
  }
}
