import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { JoinClaims } from "@nexus/shared/tokens";
import type { Connection } from "../sfu/peer.js";

/** Same close code as the room uses for its peers when the meeting ends. */

/** Someone a host has not let in yet: connected, but with no peer, no router and no media. */
export interface LobbyEntry {
  readonly meetingId: string;
  readonly tenantId: string;
  readonly participantId: string;
  readonly userId: string;
  readonly name: string;
  readonly requestedAt: Date;
  readonly conn: Connection;
  /** A host let them in; their next join-meeting enters the room. */
  admitted: boolean;
}

/**
 * Who waits for which meeting on this host. Kept apart from rooms because people can wait before the room
 * exists (nobody has been let in yet) and a room closing must not forget them.
 */
export class LobbyBook {
  private readonly byMeeting = new Map<string, Map<string, LobbyEntry>>();

  /** `perUser`: entries one user may have waiting for one meeting (a crowd of tabs is not a crowd). */
  constructor(private readonly limits: { perUser: number } = { perUser: 2 }) {}

  /** Whether this user may add one more entry to this meeting's lobby. */
  hasRoomFor(meetingId: string, userId: string): boolean {
    let n = 0;
    for (const e of this.byMeeting.get(meetingId)?.values() ?? []) if (e.userId === userId) n += 1;
    return n < this.limits.perUser;
  }

  add(claims: JoinClaims, conn: Connection, at: Date): LobbyEntry {
    const entry: LobbyEntry = {
      meetingId: claims.meeting_id,
      tenantId: claims.tenant_id,
      participantId: claims.participant_id,
      userId: claims.user_id,
      name: claims.name,
      requestedAt: at,
      conn,
      admitted: false,
    };
    let entries = this.byMeeting.get(entry.meetingId);
    if (!entries) {
      entries = new Map();
      this.byMeeting.set(entry.meetingId, entries);
    }
    entries.set(entry.participantId, entry);
    return entry;
  }

  /** Still waiting for a host's answer, in arrival order. */
  waiting(meetingId: string): LobbyEntry[] {
    return [...(this.byMeeting.get(meetingId)?.values() ?? [])].filter((e) => !e.admitted);
  }

  get(meetingId: string, participantId: string): LobbyEntry | undefined {
    return this.byMeeting.get(meetingId)?.get(participantId);
  }

  has(entry: LobbyEntry): boolean {
    return this.get(entry.meetingId, entry.participantId) === entry;
  }

  /** Idempotent; true when this call removed it. */
  remove(entry: LobbyEntry): boolean {
    const entries = this.byMeeting.get(entry.meetingId);
    if (entries?.get(entry.participantId) !== entry) return false;
    entries.delete(entry.participantId);
    if (entries.size === 0) this.byMeeting.delete(entry.meetingId);
    return true;
  }

  /**
   * The meeting ended: everyone waiting for it (admitted or not) is told and disconnected, exactly like
   * the people in the room. Entries of another tenant's meeting by that id are left alone.
   */
  endMeeting(tenantId: string, meetingId: string, reason: string): number {
    const entries = this.byMeeting.get(meetingId);
    if (!entries) return 0;
    const ended = [...entries.values()].filter((e) => e.tenantId === tenantId);
    for (const entry of ended) this.remove(entry);
    for (const entry of ended) {
      entry.conn.notify("meeting-ended", { reason });
      entry.conn.close(CLOSE_CODES.meetingEnded, "meeting ended");
    }
    return ended.length;
  }

  get size(): number {
    let n = 0;
    for (const entries of this.byMeeting.values()) n += entries.size;
    return n;
  }
}
