import type { Db } from "@nexus/drizzle";
import type { Bus, Logger } from "@nexus/platform";
import type { Recordings } from "../recording/recordings.js";
import type { ChatService } from "./chat.js";
import type { LiveMeetings } from "./live-meetings.js";
import type { LobbyBook } from "./lobby-book.js";
import type { MeetingRows } from "./meeting-rows.js";
import type { ParticipantRecorder } from "./participant-log.js";
import type { MeetingRecords } from "./records.js";

/** What the meeting-experience handlers (chat, lobby, host controls) need beyond the room itself. */
export interface MeetingServices {
  db: Db;
  bus: Bus;
  logger: Logger;
  now: () => Date;
  recorder: ParticipantRecorder;
  /** The meeting row's writes (lobby and lock switches, the end). */
  rows: MeetingRows;
  records: MeetingRecords;
  lobby: LobbyBook;
  chat: ChatService;
  /** The meeting row for the join path, from memory while its room is live here. */
  meetings: LiveMeetings;
  /** The recordings this host makes (absent in fixtures that build services by hand). */
  recordings?: Recordings;
}
