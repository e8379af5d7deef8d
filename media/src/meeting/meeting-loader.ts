import { type Db, meetings } from "@nexus/drizzle";
import { type RoomSettings, withDefaultSettings } from "@nexus/shared/meeting";
import { and, eq } from "drizzle-orm";
import type { MeetingInfo } from "../sfu/room.js";

/** What a room keeps of the stored settings (missing keys from the defaults); only these keys go on the wire. */
function roomSettings(stored: Parameters<typeof withDefaultSettings>[0]): RoomSettings {
  const s = withDefaultSettings(stored);
  return {
    allow_screen_share: s.allow_screen_share,
    allow_multiple_screen_shares: s.allow_multiple_screen_shares,
    allow_chat: s.allow_chat,
    mute_on_join: s.mute_on_join,
    video_off_on_join: s.video_off_on_join,
  };
}

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
      return {
        id: row.id,
        tenantId: row.tenantId,
        status: row.status,
        lobbyEnabled: row.lobbyEnabled,
        locked: row.locked,
        maxParticipants: row.maxParticipants,
        settings: roomSettings(row.settings),
      };
    },
  };
}
