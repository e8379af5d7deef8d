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

/**
 * Writes participant rows and meeting stats behind the media path: callers enqueue and move on, writes run
 * one after another (so a peer's "left" never lands before its "joined"), and a failing write is logged,
 * never thrown into a room.
 */
export class ParticipantRecorder {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly db: Db,
    private readonly hostId: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Resolves once every write queued so far has been attempted. */
  flush(): Promise<void> {
    return this.chain;
  }

  get queued(): number {
    return this.pending;
  }

  joined(room: Room, peer: Peer, first: boolean): void {
    const at = this.now();
    const { tenantId, id: meetingId } = room.meeting;
    const peersNow = room.peers.size;
    this.enqueue("participant joined", async () => {
      const row = {
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
      };
      await this.db
        .insert(participants)
        .values(row)
        .onConflictDoUpdate({
          target: participants.id,
          set: {
            status: "joined",
            mediaHostId: this.hostId,
            joinedAt: at,
            leftAt: null,
            displayName: peer.displayName,
            role: peer.role,
          },
        });
      await this.db
        .insert(meetingStats)
        .values({ meetingId, tenantId, peakParticipants: peersNow, totalJoins: 1, updatedAt: at })
        .onConflictDoUpdate({
          target: meetingStats.meetingId,
          set: {
            peakParticipants: sql`greatest(${meetingStats.peakParticipants}, ${peersNow})`,
            totalJoins: sql`${meetingStats.totalJoins} + 1`,
            updatedAt: at,
          },
        });
      if (first) {
        await this.db
          .update(meetings)
          .set({ status: "active", startedAt: at, mediaHostId: this.hostId, updatedAt: at })
          .where(
            and(
              eq(meetings.tenantId, tenantId),
              eq(meetings.id, meetingId),
              eq(meetings.status, "scheduled"),
            ),
          );
      }
    });
  }

  updated(room: Room, peer: Peer): void {
    const state = { ...peer.state };
    this.enqueue("participant updated", async () => {
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
    });
  }

  left(room: Room, peer: Peer): void {
    const at = this.now();
    this.enqueue("participant left", async () => {
      await this.db
        .update(participants)
        .set({ status: "left", leftAt: at, isScreenSharing: false })
        .where(
          and(
            eq(participants.tenantId, room.meeting.tenantId),
            eq(participants.id, peer.id),
            eq(participants.status, "joined"),
          ),
        );
    });
  }

  private enqueue(what: string, write: () => Promise<void>): void {
    this.pending += 1;
    this.chain = this.chain
      .then(write)
      .catch((err) => this.logger.error({ err, what }, "database write failed"))
      .finally(() => {
        this.pending -= 1;
      });
  }
}
