import { type Db, meetingStats, meetings } from "@nexus/drizzle";
import type { Bus, Logger } from "@nexus/platform";
import { BUS_CHANNELS } from "@nexus/shared/bus";
import { and, eq, sql } from "drizzle-orm";
import type { Peer } from "../peer.js";
import type { Room } from "../room.js";

type StatColumn = "joinsRefused" | "participantSeconds" | "messagesCount" | "screenShareSeconds";

export interface MeetingRecordsOptions {
  db: Db;
  bus: Bus;
  logger: Logger;
  now: () => Date;
  /** Whether this host still runs a room for the meeting (a rejoin cancels the empty timeout). */
  isLive(meetingId: string): boolean;
}

const secondsBetween = (from: Date, to: Date) =>
  Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

/**
 * The meeting_stats counters the participant rows cannot give (time present, time sharing, refusals), and
 * the empty timeout that ends a meeting nobody came back to. Writes queue one after another behind the
 * media path; a failure is logged, never thrown into a room.
 */
export class MeetingRecords {
  private chain: Promise<void> = Promise.resolve();
  private readonly joinedAt = new Map<string, Date>();
  private readonly sharingSince = new Map<string, Date>();
  private readonly emptyTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly adds = new Map<
    string,
    { tenantId: string; meetingId: string; column: StatColumn; amount: number; at: Date }
  >();
  private readonly addStatements = new Map<StatColumn, ReturnType<typeof prepareAdd>>();
  private closed = false;

  constructor(private readonly options: MeetingRecordsOptions) {}

  /** Resolves once every write queued so far has been attempted. */
  flush(): Promise<void> {
    return this.chain;
  }

  joined(room: Room, peer: Peer): void {
    this.joinedAt.set(peer.id, this.options.now());
    this.cancelEmptyTimer(room.id);
  }

  updated(room: Room, peer: Peer): void {
    const since = this.sharingSince.get(peer.id);
    if (peer.state.is_screen_sharing && !since) this.sharingSince.set(peer.id, this.options.now());
    if (!peer.state.is_screen_sharing && since) this.stopSharing(room, peer.id, since);
  }

  left(room: Room, peer: Peer): void {
    const since = this.sharingSince.get(peer.id);
    if (since) this.stopSharing(room, peer.id, since);
    const joinedAt = this.joinedAt.get(peer.id);
    if (!joinedAt) return;
    this.joinedAt.delete(peer.id);
    this.add(
      room.meeting.tenantId,
      room.id,
      "participantSeconds",
      secondsBetween(joinedAt, this.options.now()),
    );
  }

  /** A join the media host turned away (lobby denied, meeting full, meeting locked). */
  refused(tenantId: string, meetingId: string): void {
    this.add(tenantId, meetingId, "joinsRefused", 1);
  }

  /** The last peer left: unless someone comes back within settings.empty_timeout_seconds, the meeting ends. */
  roomClosed(room: Room): void {
    if (this.closed) return;
    const { tenantId, id: meetingId } = room.meeting;
    this.enqueue("empty timeout", async () => {
      const [row] = await this.options.db
        .select({ status: meetings.status, settings: meetings.settings })
        .from(meetings)
        .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId)))
        .limit(1);
      if (row?.status !== "active" || this.closed || this.options.isLive(meetingId)) return;
      const seconds = row.settings.empty_timeout_seconds ?? 300;
      this.cancelEmptyTimer(meetingId);
      const timer = setTimeout(() => {
        this.emptyTimers.delete(meetingId);
        if (this.options.isLive(meetingId)) return;
        this.enqueue("end empty meeting", () => this.endEmpty(tenantId, meetingId));
      }, seconds * 1000);
      timer.unref();
      this.emptyTimers.set(meetingId, timer);
    });
  }

  close(): void {
    this.closed = true;
    for (const timer of this.emptyTimers.values()) clearTimeout(timer);
    this.emptyTimers.clear();
  }

  private async endEmpty(tenantId: string, meetingId: string): Promise<void> {
    const at = this.options.now();
    const [ended] = await this.options.db
      .update(meetings)
      .set({ status: "ended", endedAt: at, updatedAt: at })
      .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId), eq(meetings.status, "active")))
      .returning({ id: meetings.id });
    if (!ended) return;
    this.options.logger.info({ meeting_id: meetingId }, "meeting ended after its empty timeout");
    await this.options.bus.publish(BUS_CHANNELS.meetings, {
      type: "meeting-ended",
      tenant_id: tenantId,
      meeting_id: meetingId,
      reason: "empty_timeout",
    });
  }

  private cancelEmptyTimer(meetingId: string): void {
    const timer = this.emptyTimers.get(meetingId);
    if (timer) clearTimeout(timer);
    this.emptyTimers.delete(meetingId);
  }

  private stopSharing(room: Room, peerId: string, since: Date): void {
    this.sharingSince.delete(peerId);
    this.add(room.meeting.tenantId, room.id, "screenShareSeconds", secondsBetween(since, this.options.now()));
  }

  /**
   * Additions wait in memory until the chain reaches them, and those to one counter of one meeting are
   * summed meanwhile: 20 people leaving at once are one statement, not 20. Sums commute, so this does not
   * reorder anything that matters.
   */
  private add(tenantId: string, meetingId: string, column: StatColumn, amount: number): void {
    const at = this.options.now();
    const key = `${meetingId}/${column}`;
    const waiting = this.adds.get(key);
    if (waiting) {
      waiting.amount += amount;
      waiting.at = at;
      return;
    }
    this.adds.set(key, { tenantId, meetingId, column, amount, at });
    if (this.adds.size === 1) this.enqueue("stats", () => this.writeAdds());
  }

  private async writeAdds(): Promise<void> {
    const batch = [...this.adds.values()];
    this.adds.clear();
    for (const a of batch) {
      await this.addStatement(a.column)
        .execute({ meetingId: a.meetingId, tenantId: a.tenantId, amount: a.amount, at: a.at.toISOString() })
        .catch((err) =>
          this.options.logger.error({ err, what: `stats ${a.column}` }, "meeting record write failed"),
        );
    }
  }

  /** One prepared statement per counter, made on its first use. */
  private addStatement(column: StatColumn): ReturnType<typeof prepareAdd> {
    let statement = this.addStatements.get(column);
    if (!statement) {
      statement = prepareAdd(this.options.db, column);
      this.addStatements.set(column, statement);
    }
    return statement;
  }

  private enqueue(what: string, write: () => Promise<void>): void {
    this.chain = this.chain
      .then(write)
      .catch((err) => this.options.logger.error({ err, what }, "meeting record write failed"));
  }
}

/**
 * The upsert that adds to one counter of meeting_stats (creating the row on the meeting's first event), as
 * a prepared statement: drizzle builds its SQL once instead of on every write, and PostgreSQL parses it once
 * per connection. The same SQL the query builder made per call.
 */
function prepareAdd(db: Db, column: StatColumn) {
  const p = sql.placeholder;
  return db
    .insert(meetingStats)
    .values({
      meetingId: p("meetingId"),
      tenantId: p("tenantId"),
      [column]: p("amount"),
      updatedAt: sql`${p("at")}`,
    })
    .onConflictDoUpdate({
      target: meetingStats.meetingId,
      set: { [column]: sql`${meetingStats[column]} + ${p("amount")}`, updatedAt: sql`${p("at")}` },
    })
    .prepare(`nexus_stats_add_${column}`);
}
