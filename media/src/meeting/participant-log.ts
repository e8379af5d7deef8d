import { type Db, meetingStats, participants } from "@nexus/drizzle";
import type { Logger } from "@nexus/platform";
import type { JoinClaims } from "@nexus/shared/tokens";
import { and, eq, sql } from "drizzle-orm";
import { BatchWindow } from "../db/batch-window.js";
import { prepareSql } from "../db/prepared.js";
import type { Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";
import { startMeetingsSql } from "./meeting-rows.js";

type JoinedOp = {
  kind: "joined";
  at: Date;
  tenantId: string;
  meetingId: string;
  peersNow: number;
  first: boolean;
  row: typeof participants.$inferInsert;
};
type LeftOp = { kind: "left"; at: Date; tenantId: string; participantId: string };
type UpdatedOp = { kind: "updated"; write: () => Promise<void> };
type Op = JoinedOp | LeftOp | UpdatedOp;

const WHAT: Record<Op["kind"], string> = {
  joined: "participant joined",
  left: "participant left",
  updated: "participant updated",
};

export interface ParticipantRecorderOptions {
  /** Group-commit window: a batch is written this long after its first write was queued (0: at once). */
  batchMs?: number;
}

/**
 * Writes participant rows and meeting stats behind the media path: callers enqueue and move on, and nothing
 * a client waits for waits on these writes. Writes run one batch after another in the order they were
 * queued (so a peer's "left" never lands before its "joined"). A batch goes out `batchMs` after its oldest
 * write was queued (the group-commit window; 0 = as soon as the current turn ends), or at once when
 * something is waiting for it (flush, a chat message waiting for its sender's row). Within a batch, a run
 * of joins is one prepared statement (participant rows, meeting_stats peak/total_joins, and the
 * scheduled -> active meeting update), a run of leaves another, so 20 people arriving at once cost one
 * statement, not 40. A failing batch is retried one row at a time (one bad row does not lose the others); a
 * failing write is logged, never thrown into a room.
 */
export class ParticipantRecorder {
  private readonly queue: Op[] = [];
  /** performance.now() when the oldest queued write was queued. */
  private oldest = 0;
  private running: Promise<void> | null = null;
  private pending = 0;
  /** Participants whose row is queued and not yet written: what refers to them (chat) waits for it. */
  private readonly unwritten = new Map<string, number>();
  /** The per-batch statements, built once (see recorderStatements). */
  private readonly statements: ReturnType<typeof recorderStatements>;
  private readonly window: BatchWindow;

  constructor(
    private readonly db: Db,
    private readonly hostId: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    options: ParticipantRecorderOptions = {},
  ) {
    this.statements = recorderStatements(db);
    this.window = new BatchWindow(options.batchMs ?? 0);
  }

  /** A participant waits in the lobby: its row exists from then on, as `lobby`. */
  async lobbyEntered(claims: JoinClaims, at: Date): Promise<void> {
    await this.db
      .insert(participants)
      .values({
        id: claims.participant_id,
        tenantId: claims.tenant_id,
        meetingId: claims.meeting_id,
        userId: claims.user_id,
        displayName: claims.name,
        role: claims.role,
        status: "lobby",
        joinedAt: at,
      })
      .onConflictDoNothing();
  }

  /** A lobby wait ended without entering the room: a host denied it, or the person went away. */
  async lobbyEnded(tenantId: string, participantId: string, status: "denied" | "left"): Promise<void> {
    await this.db
      .update(participants)
      .set({ status, leftAt: this.now() })
      .where(
        and(
          eq(participants.tenantId, tenantId),
          eq(participants.id, participantId),
          eq(participants.status, "lobby"),
        ),
      );
  }

  /** A host removed the participant: after its queued "left" is written, the row says why. */
  async removed(tenantId: string, participantId: string): Promise<void> {
    await this.flush();
    await this.db
      .update(participants)
      .set({ status: "removed" })
      .where(and(eq(participants.tenantId, tenantId), eq(participants.id, participantId)));
  }

  /** Writes everything queued so far now (no group-commit wait); resolves once each write was attempted. */
  flush(): Promise<void> {
    return this.window.hurried(async () => {
      while (this.running) await this.running;
    });
  }

  /** Ends a group-commit wait (shutdown); what is queued is written at once. */
  close(): void {
    this.window.cut();
  }

  get queued(): number {
    return this.pending;
  }

  /**
   * Resolves once this participant's row has been written (or its write attempted): a chat message, whose
   * sender is a foreign key to that row, must not reach the database before it. Waiting cuts the group-commit
   * window short: the message waits for the write, never for the window.
   */
  async rowWritten(participantId: string): Promise<void> {
    if (!this.unwritten.has(participantId)) return;
    await this.window.hurried(async () => {
      while (this.unwritten.has(participantId) && this.running) await this.running;
    });
  }

  /** Keeps the participant rows of this room from now on. */
  watch(room: Room): void {
    room.events.on("peerjoined", (peer, first) => this.joined(room, peer, first));
    room.events.on("peerupdated", (peer) => this.updated(room, peer));
    room.events.on("peerleft", (peer) => this.left(room, peer));
  }

  joined(room: Room, peer: Peer, first: boolean): void {
    const at = this.now();
    const { tenantId, id: meetingId } = room.meeting;
    this.unwritten.set(peer.id, (this.unwritten.get(peer.id) ?? 0) + 1);
    this.enqueue({
      kind: "joined",
      at,
      tenantId,
      meetingId,
      peersNow: room.peers.size,
      first,
      row: {
        id: peer.id,
        tenantId,
        meetingId,
        userId: peer.userId,
        displayName: peer.displayName,
        role: peer.role,
        status: "joined" as const,
        mediaHostId: this.hostId,
        isMuted: peer.state.is_muted,
        isVideoOn: peer.state.is_video_on,
        isScreenSharing: peer.state.is_screen_sharing,
        joinedAt: at,
        leftAt: null,
      },
    });
  }

  updated(room: Room, peer: Peer): void {
    const state = { ...peer.state };
    this.enqueue({
      kind: "updated",
      write: async () => {
        await this.db
          .update(participants)
          .set({
            isMuted: state.is_muted,
            isVideoOn: state.is_video_on,
            isScreenSharing: state.is_screen_sharing,
            handRaisedAt: state.hand_raised_at ? new Date(state.hand_raised_at) : null,
            role: state.role,
          })
          .where(and(eq(participants.tenantId, room.meeting.tenantId), eq(participants.id, peer.id)));
      },
    });
  }

  left(room: Room, peer: Peer): void {
    this.enqueue({ kind: "left", at: this.now(), tenantId: room.meeting.tenantId, participantId: peer.id });
  }

  private written(participantId: string): void {
    const left = (this.unwritten.get(participantId) ?? 1) - 1;
    if (left > 0) this.unwritten.set(participantId, left);
    else this.unwritten.delete(participantId);
  }

  private enqueue(op: Op): void {
    this.pending += 1;
    if (this.queue.length === 0) this.oldest = performance.now();
    this.queue.push(op);
    this.kick();
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      // Queued between the drain's last look and now.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    // Start after the current turn, so what this turn queues goes out in the first batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      // The group-commit window, counted from the oldest queued write (those queued while the last batch
      // was being written have already waited part of it).
      await this.window.wait(this.oldest);
      const batch = this.queue.splice(0);
      for (const run of runsOf(batch)) {
        try {
          await this.writeRun(run);
        } catch (err) {
          if (run.length === 1) this.logger.error({ err, what: WHAT[run[0]!.kind] }, "database write failed");
          else {
            for (const op of run) {
              await this.writeRun([op]).catch((e) =>
                this.logger.error({ err: e, what: WHAT[op.kind] }, "database write failed"),
              );
            }
          }
        } finally {
          this.pending -= run.length;
          for (const op of run) if (op.kind === "joined") this.written(op.row.id);
        }
      }
    }
  }

  private async writeRun(run: Op[]): Promise<void> {
    const kind = run[0]!.kind;
    if (kind === "updated") {
      for (const op of run as UpdatedOp[]) await op.write();
    } else if (kind === "joined") await this.writeJoined(run as JoinedOp[]);
    else await this.writeLeft(run as LeftOp[]);
  }

  private async writeJoined(ops: JoinedOp[]): Promise<void> {
    // One statement may not touch a row twice: the later join of one participant wins, one stats row and at
    // most one meeting update per meeting.
    const rows = [...new Map(ops.map((op) => [op.row.id, op.row])).values()];
    const perMeeting = new Map<
      string,
      { tenantId: string; peak: number; joins: number; at: Date; first: Date | null }
    >();
    for (const op of ops) {
      let m = perMeeting.get(op.meetingId);
      if (!m) {
        m = { tenantId: op.tenantId, peak: 0, joins: 0, at: op.at, first: null };
        perMeeting.set(op.meetingId, m);
      }
      m.peak = Math.max(m.peak, op.peersNow);
      m.joins += 1;
      m.at = op.at;
      if (op.first && !m.first) m.first = op.at;
    }
    const meetingsIn = [...perMeeting];
    const started = meetingsIn.filter(([, m]) => m.first !== null);
    await this.statements.joined.execute({
      host: this.hostId,
      ids: rows.map((r) => r.id),
      tenantIds: rows.map((r) => r.tenantId),
      meetingIds: rows.map((r) => r.meetingId),
      userIds: rows.map((r) => r.userId),
      names: rows.map((r) => r.displayName),
      roles: rows.map((r) => r.role ?? "member"),
      muted: rows.map((r) => r.isMuted ?? false),
      videoOn: rows.map((r) => r.isVideoOn ?? false),
      sharing: rows.map((r) => r.isScreenSharing ?? false),
      joinedAt: rows.map((r) => (r.joinedAt as Date).toISOString()),
      statMeetings: meetingsIn.map(([id]) => id),
      statTenants: meetingsIn.map(([, m]) => m.tenantId),
      statPeaks: meetingsIn.map(([, m]) => m.peak),
      statJoins: meetingsIn.map(([, m]) => m.joins),
      statAt: meetingsIn.map(([, m]) => m.at.toISOString()),
      startTenants: started.map(([, m]) => m.tenantId),
      startMeetings: started.map(([id]) => id),
      startAt: started.map(([, m]) => (m.first as Date).toISOString()),
    });
  }

  private async writeLeft(ops: LeftOp[]): Promise<void> {
    // One statement may not touch a row twice: a participant's first leave is the one that counts (a later
    // one would find the row no longer 'joined').
    const byId = new Map<string, LeftOp>();
    for (const op of ops) if (!byId.has(op.participantId)) byId.set(op.participantId, op);
    const firsts = [...byId.values()];
    await this.statements.left.execute({
      tenantIds: firsts.map((op) => op.tenantId),
      ids: firsts.map((op) => op.participantId),
      at: firsts.map((op) => op.at.toISOString()),
    });
  }
}

/**
 * The recorder's two batch statements, prepared (see prepareSql), fixed in shape whatever the batch's size:
 * one array parameter per column, spread into rows by unnest.
 *
 * Joins: one statement of data-modifying CTEs. They all run on one snapshot and none reads another's
 * changes, so each touches its own table: the participant rows (upserted: a rejoin after a reconnect takes
 * over its row), the meeting_stats row per meeting (peak = greatest of stored and batch peak, total_joins
 * added), and the scheduled -> active update for meetings whose first peer is in the batch. It is one
 * statement, so it succeeds or fails as a whole (a failure is retried row by row, see drain).
 */
function recorderStatements(db: Db) {
  const p = sql.placeholder;
  return {
    joined: prepareSql(
      db,
      "nexus_recorder_joined",
      sql`with written as (
        insert into ${participants} (id, tenant_id, meeting_id, user_id, display_name, role, status,
          media_host_id, is_muted, is_video_on, is_screen_sharing, joined_at, left_at)
        select u.id, u.tenant_id, u.meeting_id, u.user_id, u.display_name, u.role, 'joined',
          ${p("host")}::text, u.is_muted, u.is_video_on, u.is_screen_sharing, u.joined_at, null
        from unnest(${p("ids")}::uuid[], ${p("tenantIds")}::text[], ${p("meetingIds")}::uuid[],
          ${p("userIds")}::text[], ${p("names")}::text[], ${p("roles")}::text[], ${p("muted")}::boolean[],
          ${p("videoOn")}::boolean[], ${p("sharing")}::boolean[], ${p("joinedAt")}::timestamptz[])
          as u(id, tenant_id, meeting_id, user_id, display_name, role, is_muted, is_video_on,
            is_screen_sharing, joined_at)
        on conflict (id) do update set status = 'joined', media_host_id = excluded.media_host_id,
          joined_at = excluded.joined_at, left_at = null, display_name = excluded.display_name,
          role = excluded.role
        returning 1
      ), stats as (
        insert into ${meetingStats} (meeting_id, tenant_id, peak_participants, total_joins, updated_at)
        select * from unnest(${p("statMeetings")}::uuid[], ${p("statTenants")}::text[],
          ${p("statPeaks")}::integer[], ${p("statJoins")}::integer[], ${p("statAt")}::timestamptz[])
        on conflict (meeting_id) do update set
          peak_participants = greatest(${meetingStats.peakParticipants}, excluded.peak_participants),
          total_joins = ${meetingStats.totalJoins} + excluded.total_joins,
          updated_at = excluded.updated_at
        returning 1
      ), started as (
        ${startMeetingsSql({ host: p("host"), tenantIds: p("startTenants"), meetingIds: p("startMeetings"), at: p("startAt") })}
      )
      select (select count(*) from written) as participants, (select count(*) from stats) as stats,
        (select count(*) from started) as started`,
    ),
    left: prepareSql(
      db,
      "nexus_recorder_left",
      sql`update ${participants} set status = 'left', left_at = v.left_at, is_screen_sharing = false
        from unnest(${p("tenantIds")}::text[], ${p("ids")}::uuid[], ${p("at")}::timestamptz[])
          as v(tenant_id, id, left_at)
        where ${participants.tenantId} = v.tenant_id and ${participants.id} = v.id
          and ${participants.status} = 'joined'`,
    ),
  };
}

/** Consecutive ops of one kind, in order. */
function runsOf(ops: Op[]): Op[][] {
  const runs: Op[][] = [];
  for (const op of ops) {
    const last = runs.at(-1);
    if (last && last[0]!.kind === op.kind) last.push(op);
    else runs.push([op]);
  }
  return runs;
}
