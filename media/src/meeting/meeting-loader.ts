import { type Db, meetings } from "@nexus/drizzle";
import { and, eq } from "drizzle-orm";
import type { MeetingInfo } from "../sfu/room.js";

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
