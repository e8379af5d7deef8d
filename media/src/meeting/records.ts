import { type Db, meetingStats } from "@nexus/drizzle";
import type { Bus, Logger } from "@nexus/platform";
import { BUS_CHANNELS } from "@nexus/shared/bus";
import { sql } from "drizzle-orm";
import { BatchWindow } from "../db/batch-window.js";
import { prepareSql } from "../db/prepared.js";
import type { Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";
import { MeetingRows } from "./meeting-rows.js";

/**
 * The meeting_stats columns this module writes, each with no other writer on the media side: peak and
 * total joins come from the participant log's join statement, messages_count from the chat service.
 */
type StatColumn = "joinsRefused" | "participantSeconds" | "screenShareSeconds";

export interface MeetingRecordsOptions {
  db: Db;
  bus: Bus;
  logger: Logger;
  now: () => Date;
  /** Group-commit window: counter additions wait this long for others to join them (0: at once). */
  batchMs?: number;
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
  /** Counter additions waiting to be written, per meeting. */
  private readonly adds = new Map<string, MeetingAdds>();
  /** The counter upsert, prepared on first use (see prepareAdds). */
  private addStatement: ReturnType<typeof prepareAdds> | null = null;
  private readonly window: BatchWindow;
  private closed = false;

  /** The meeting row's writes (the empty timeout's check and end). */
  private readonly rows: MeetingRows;

  constructor(private readonly options: MeetingRecordsOptions) {
    this.window = new BatchWindow(options.batchMs ?? 0);
    this.rows = new MeetingRows(options.db, options.now);
  }

  /** Writes what is queued now (no group-commit wait); resolves once every write queued so far was attempted. */
  flush(): Promise<void> {
    return this.window.hurried(() => this.chain);
  }

  /** Keeps this room's counters and its empty timeout from now on. */
  watch(room: Room): void {
    room.events.on("peerjoined", (peer) => this.joined(room, peer));
    room.events.on("peerupdated", (peer) => this.updated(room, peer));
    room.events.on("peerleft", (peer) => this.left(room, peer));
    room.events.on("close", () => this.roomClosed(room));
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
      const row = await this.rows.emptyCheck(tenantId, meetingId);
      if (row?.status !== "active" || this.closed || this.options.isLive(meetingId)) return;
      const seconds = row.emptyTimeoutSeconds ?? 300;
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
    this.window.cut();
    for (const timer of this.emptyTimers.values()) clearTimeout(timer);
    this.emptyTimers.clear();
  }

  private async endEmpty(tenantId: string, meetingId: string): Promise<void> {
    if (!(await this.rows.endIfActive(tenantId, meetingId))) return;
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
   * Additions wait in memory until the chain reaches them and the group-commit window (counted from the
   * first of them) has passed, and those to one meeting are summed meanwhile: 20 people leaving at once are
   * one statement, not 20, and so are several meetings' counters. Sums commute, so this does not reorder
   * anything that matters.
   */
  private add(tenantId: string, meetingId: string, column: StatColumn, amount: number): void {
    const at = this.options.now();
    const waiting = this.adds.get(meetingId);
    if (waiting) {
      waiting[column] += amount;
      waiting.at = at;
      return;
    }
    this.adds.set(meetingId, {
      tenantId,
      meetingId,
      joinsRefused: 0,
      participantSeconds: 0,
      screenShareSeconds: 0,
      [column]: amount,
      at,
    });
    if (this.adds.size === 1) {
      const since = performance.now();
      this.enqueue("stats", async () => {
        await this.window.wait(since);
        await this.writeAdds();
      });
    }
  }

  private async writeAdds(): Promise<void> {
    const batch = [...this.adds.values()];
    this.adds.clear();
    this.addStatement ??= prepareAdds(this.options.db);
    const statement = this.addStatement;
    const write = (rows: MeetingAdds[]) =>
      statement.execute({
        meetingIds: rows.map((a) => a.meetingId),
        tenantIds: rows.map((a) => a.tenantId),
        refused: rows.map((a) => a.joinsRefused),
        seconds: rows.map((a) => a.participantSeconds),
        sharing: rows.map((a) => a.screenShareSeconds),
        at: rows.map((a) => a.at.toISOString()),
      });
    try {
      await write(batch);
    } catch (err) {
      // One statement for all: a meeting it cannot write (deleted meanwhile) must not lose the others.
      if (batch.length === 1) {
        this.options.logger.error({ err, what: "stats" }, "meeting record write failed");
        return;
      }
      for (const a of batch) {
        await write([a]).catch((e) =>
          this.options.logger.error({ err: e, what: "stats" }, "meeting record write failed"),
        );
      }
    }
  }

  private enqueue(what: string, write: () => Promise<void>): void {
    this.chain = this.chain
      .then(write)
      .catch((err) => this.options.logger.error({ err, what }, "meeting record write failed"));
  }
}

type MeetingAdds = { tenantId: string; meetingId: string; at: Date } & Record<StatColumn, number>;

/**
 * The upsert that adds to a batch of meetings' counters (creating a meeting's row on its first event), as a
 * prepared statement (see prepareSql) of fixed shape: one array parameter per column, one row per meeting.
 */
function prepareAdds(db: Db) {
  const p = sql.placeholder;
  return prepareSql(
    db,
    "nexus_stats_add",
    sql`insert into ${meetingStats} (meeting_id, tenant_id, joins_refused, participant_seconds,
        screen_share_seconds, updated_at)
      select * from unnest(${p("meetingIds")}::uuid[], ${p("tenantIds")}::text[], ${p("refused")}::integer[],
        ${p("seconds")}::bigint[], ${p("sharing")}::bigint[],
        ${p("at")}::timestamptz[])
      on conflict (meeting_id) do update set
        joins_refused = ${meetingStats.joinsRefused} + excluded.joins_refused,
        participant_seconds = ${meetingStats.participantSeconds} + excluded.participant_seconds,
        screen_share_seconds = ${meetingStats.screenShareSeconds} + excluded.screen_share_seconds,
        updated_at = excluded.updated_at`,
  );
}
