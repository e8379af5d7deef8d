import { type Db, meetings } from "@nexus/drizzle";
import { and, eq, ne, type SQL, sql } from "drizzle-orm";

/**
 * Everything a media host changes on a meeting's own row, in this one file: the host controls' switches, the
 * end of the meeting, and the scheduled -> active change of a first join (as a statement the participant log
 * embeds in its batched join, so a burst of first joins costs no extra round trip).
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

/**
 * Marks meetings active on their first join: an UPDATE ... RETURNING for a data-modifying CTE. The four
 * arguments are SQL for the host id and three parallel arrays (tenant ids, meeting ids, timestamps);
 * meetings no longer `scheduled` are left alone.
 */
export function startMeetingsSql(args: {
  host: unknown;
  tenantIds: unknown;
  meetingIds: unknown;
  at: unknown;
}): SQL {
  return sql`update ${meetings} set status = 'active', started_at = s.at, media_host_id = ${args.host}::text,
          updated_at = s.at
        from unnest(${args.tenantIds}::text[], ${args.meetingIds}::uuid[], ${args.at}::timestamptz[])
          as s(tenant_id, id, at)
        where ${meetings.tenantId} = s.tenant_id and ${meetings.id} = s.id and ${meetings.status} = 'scheduled'
        returning 1`;
}
