import { type Db, meetingStats, meetings, participants } from "@nexus/drizzle";
import type { Logger } from "@nexus/platform";
import { and, eq, sql } from "drizzle-orm";
import type { Peer } from "./peer.js";
import type { MeetingInfo, Room } from "./room.js";

/** The meeting row as the join path needs it: the room's part, its status, and the lobby/lock gate. */
export type MeetingSnapshot = MeetingInfo & { status: string; lobbyEnabled: boolean; locked: boolean };

export interface MeetingLoader {
  /** The meeting row as a live room needs it; null when it does not exist for that tenant. */
  load(tenantId: string, meetingId: string): Promise<MeetingSnapshot | null>;
}

export function meetingLoader(db: Db): MeetingLoader {
  return {
    async load(tenantId, meetingId) {
      const [row] = await db
        .select()
        .from(meetings)
        .where(and(eq(meetings.tenantId, tenantId), eq(meetings.id, meetingId)))
        .limit(1);
      if (!row) return null;
      const s = row.settings ?? {};
      return {
        id: row.id,
        tenantId: row.tenantId,
        status: row.status,
        lobbyEnabled: row.lobbyEnabled,
        locked: row.locked,
        maxParticipants: row.maxParticipants,
        settings: {
          allow_screen_share: s.allow_screen_share ?? true,
          allow_multiple_screen_shares: s.allow_multiple_screen_shares ?? false,
          allow_chat: s.allow_chat ?? true,
          mute_on_join: s.mute_on_join ?? false,
          video_off_on_join: s.video_off_on_join ?? false,
        },
      };
    },
  };
}

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

/**
 * Writes participant rows and meeting stats behind the media path: callers enqueue and move on, and nothing
 * a client waits for waits on these writes. Writes run one batch after another in the order they were
 * queued (so a peer's "left" never lands before its "joined"); whatever queued up while a batch was being
 * written goes out together next, a run of joins as one multi-row upsert plus one stats upsert per meeting,
 * a run of leaves as one update, so 20 people arriving at once cost a few statements, not 40. No timer
 * delays a write. A failing batch is retried one row at a time (one bad row does not lose the others); a
 * failing write is logged, never thrown into a room.
 */
export class ParticipantRecorder {
  private readonly queue: Op[] = [];
  private running: Promise<void> | null = null;
  private pending = 0;
  /** Participants whose row is queued and not yet written: what refers to them (chat) waits for it. */
  private readonly unwritten = new Map<string, number>();
  /** The per-batch statements, built once (see recorderStatements). */
  private readonly statements: ReturnType<typeof recorderStatements>;

  constructor(
    private readonly db: Db,
    private readonly hostId: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.statements = recorderStatements(db);
  }

  /** Resolves once every write queued so far has been attempted. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  get queued(): number {
    return this.pending;
  }

  /**
   * Resolves once this participant's row has been written (or its write attempted): a chat message, whose
   * sender is a foreign key to that row, must not reach the database before it.
   */
  async rowWritten(participantId: string): Promise<void> {
    while (this.unwritten.has(participantId) && this.running) await this.running;
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
    // One statement may not touch a row twice: the later join of one participant wins.
    const rows = [...new Map(ops.map((op) => [op.row.id, op.row])).values()];
    // One array parameter per column (unnest), not one parameter per value: building a multi-row VALUES
    // list was most of this write's CPU on the host, and it grew with the batch.
    const col = <T>(pick: (r: (typeof rows)[number]) => T) => sql.param(rows.map(pick));
    await this.db.execute(sql`
      insert into ${participants} (id, tenant_id, meeting_id, user_id, display_name, role, status,
        media_host_id, is_muted, is_video_on, is_screen_sharing, joined_at, left_at)
      select u.id, u.tenant_id, u.meeting_id, u.user_id, u.display_name, u.role, 'joined',
        ${this.hostId}, u.is_muted, u.is_video_on, u.is_screen_sharing, u.joined_at, null
      from unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.tenantId)}::text[],
        ${col((r) => r.meetingId)}::uuid[], ${col((r) => r.userId)}::text[],
        ${col((r) => r.displayName)}::text[], ${col((r) => r.role ?? "member")}::text[],
        ${col((r) => r.isMuted ?? false)}::boolean[], ${col((r) => r.isVideoOn ?? false)}::boolean[],
        ${col((r) => r.isScreenSharing ?? false)}::boolean[],
        ${col((r) => (r.joinedAt as Date).toISOString())}::timestamptz[])
        as u(id, tenant_id, meeting_id, user_id, display_name, role, is_muted, is_video_on,
          is_screen_sharing, joined_at)
      on conflict (id) do update set status = 'joined', media_host_id = excluded.media_host_id,
        joined_at = excluded.joined_at, left_at = null, display_name = excluded.display_name,
        role = excluded.role`);
    const perMeeting = new Map<
      string,
      { tenantId: string; peak: number; joins: number; at: Date; first: Date | null }
    >();
    for (const op of ops) {
      const m = perMeeting.get(op.meetingId) ?? {
        tenantId: op.tenantId,
        peak: 0,
        joins: 0,
        at: op.at,
        first: null,
      };
      m.peak = Math.max(m.peak, op.peersNow);
      m.joins += 1;
      m.at = op.at;
      if (op.first && !m.first) m.first = op.at;
      perMeeting.set(op.meetingId, m);
    }
    for (const [meetingId, m] of perMeeting) {
      await this.statements.statsJoined.execute({
        meetingId,
        tenantId: m.tenantId,
        peak: m.peak,
        joins: m.joins,
        at: m.at.toISOString(),
      });
      if (m.first) {
        await this.db
          .update(meetings)
          .set({ status: "active", startedAt: m.first, mediaHostId: this.hostId, updatedAt: m.first })
          .where(
            and(
              eq(meetings.tenantId, m.tenantId),
              eq(meetings.id, meetingId),
              eq(meetings.status, "scheduled"),
            ),
          );
      }
    }
  }

  private async writeLeft(ops: LeftOp[]): Promise<void> {
    if (ops.length === 1) {
      const op = ops[0]!;
      await this.statements.leftOne.execute({
        tenantId: op.tenantId,
        participantId: op.participantId,
        at: op.at.toISOString(),
      });
      return;
    }
    const col = <T>(pick: (op: LeftOp) => T) => sql.param(ops.map(pick));
    await this.db.execute(sql`
      update ${participants} set status = 'left', left_at = v.left_at, is_screen_sharing = false
      from unnest(${col((op) => op.tenantId)}::text[], ${col((op) => op.participantId)}::uuid[],
        ${col((op) => op.at.toISOString())}::timestamptz[]) as v(tenant_id, id, left_at)
      where ${participants.tenantId} = v.tenant_id and ${participants.id} = v.id
        and ${participants.status} = 'joined'`);
  }
}

/**
 * The recorder's fixed-shape statements as prepared queries: drizzle builds their SQL once here instead of
 * on every batch (building was most of their CPU on the host), and PostgreSQL parses each once per
 * connection (named statements). Same SQL as the query builder made per call; timestamps are passed as the
 * ISO strings drizzle would have sent (untyped parameters: PostgreSQL infers the column type, as before).
 */
function recorderStatements(db: Db) {
  const p = sql.placeholder;
  return {
    statsJoined: db
      .insert(meetingStats)
      .values({
        meetingId: p("meetingId"),
        tenantId: p("tenantId"),
        peakParticipants: p("peak"),
        totalJoins: p("joins"),
        updatedAt: sql`${p("at")}`,
      })
      .onConflictDoUpdate({
        target: meetingStats.meetingId,
        set: {
          peakParticipants: sql`greatest(${meetingStats.peakParticipants}, ${p("peak")})`,
          totalJoins: sql`${meetingStats.totalJoins} + ${p("joins")}`,
          updatedAt: sql`${p("at")}`,
        },
      })
      .prepare("nexus_recorder_stats_joined"),
    leftOne: db
      .update(participants)
      .set({ status: "left", leftAt: sql`${p("at")}`, isScreenSharing: false })
      .where(
        and(
          eq(participants.tenantId, p("tenantId")),
          eq(participants.id, p("participantId")),
          eq(participants.status, "joined"),
        ),
      )
      .prepare("nexus_recorder_left_one"),
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
