import { MeetingClient, type MeetingClientOptions } from "@nexus/client";

/*
 * The meeting session of the page: @nexus/client's MeetingClient (signaling, transports, reconnect, state)
 * plus what only a browser page has: the screen picker, and the resume token kept in sessionStorage so that
 * a reload inside the host's grace period takes the person back into the meeting.
 */

export type {
  ChatMessage,
  ConnectionState,
  LobbyEntry,
  Phase,
  RemotePeer,
  RemoteTrack,
} from "@nexus/client";

export type SessionOptions = Omit<MeetingClientOptions, "handlerName">;

const RESUME_KEY = "nexus.resume";

/** What a reload needs to take its peer back: the join answer (where the host is) and the resume token. */
export interface SavedSession {
  meetingId: string;
  token: string;
  answer: MeetingClientOptions["join"];
  muted: boolean;
  videoOn: boolean;
}

export function savedSession(meetingId: string): SavedSession | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(RESUME_KEY) ?? "null") as SavedSession | null;
    return saved && saved.meetingId === meetingId ? saved : null;
  } catch {
    return null;
  }
}

export class MeetingSession extends MeetingClient {
  constructor(options: SessionOptions) {
    super(options);
    // Kept current on every change; cleared when the meeting is over for this page.
    this.onChange(() => this.save());
  }

  private save(): void {
    if (typeof sessionStorage === "undefined") return;
    const over = this.phase !== "joined" && this.phase !== "connecting" && this.phase !== "waiting";
    if (over || !this.resumeToken) {
      if (over) sessionStorage.removeItem(RESUME_KEY);
      return;
    }
    const saved: SavedSession = {
      meetingId: this.meetingId,
      token: this.resumeToken,
      answer: this.joinAnswer,
      muted: this.muted,
      videoOn: this.videoOn,
    };
    sessionStorage.setItem(RESUME_KEY, JSON.stringify(saved));
  }

  /** Shares `track`, or asks the browser for a screen (getDisplayMedia). */
  override async startScreenShare(track?: MediaStreamTrack): Promise<void> {
    if (this.sharing) return;
    let screen = track;
    if (!screen) {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
      screen = stream.getVideoTracks()[0];
      if (!screen) throw new Error("no screen was chosen");
    }
    return super.startScreenShare(screen);
  }
}
