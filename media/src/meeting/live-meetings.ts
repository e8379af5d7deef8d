import type { MeetingSnapshot } from "./meeting-loader.js";

export interface LiveMeetingsOptions {
  load(tenantId: string, meetingId: string): Promise<MeetingSnapshot | null>;
  /** Only a meeting whose room runs on this host is served from memory. */
  isLive(meetingId: string): boolean;
  /** Longest a remembered row is trusted without re-reading it (a safety net should a bus message be lost). */
  maxAgeMs: number;
  now(): number;
}

interface Entry {
  tenantId: string;
  row: MeetingSnapshot;
  at: number;
}

/**
 * The meeting row as the join path reads it (status on upgrade, lobby and lock gate on join-meeting).
 * While the meeting's room is live on this host, the row is read once and then kept up to date from what
 * this host is told: the bus's meeting-updated / meeting-ended (from control or another host) and the
 * host's own lock / lobby / end handlers. Otherwise, and when an entry is older than maxAgeMs, it is read
 * from the database. Concurrent reads of one meeting share one query. A change that arrives while a read
 * is in flight wins over that read's result (the generation moves on, so the stale row is not kept).
 */
export class LiveMeetings {
  private readonly entries = new Map<string, Entry>();
  private readonly generation = new Map<string, number>();
  private readonly inFlight = new Map<string, { gen: number; promise: Promise<MeetingSnapshot | null> }>();

  constructor(private readonly options: LiveMeetingsOptions) {}

  get size(): number {
    return this.entries.size;
  }

  async get(tenantId: string, meetingId: string): Promise<MeetingSnapshot | null> {
    const { isLive, now, maxAgeMs } = this.options;
    const entry = this.entries.get(meetingId);
    if (entry && entry.tenantId === tenantId && isLive(meetingId) && now() - entry.at < maxAgeMs) {
      return entry.row;
    }
    const gen = this.generation.get(meetingId) ?? 0;
    const key = `${tenantId}/${meetingId}`;
    const running = this.inFlight.get(key);
    if (running && running.gen === gen) return running.promise;
    const at = now();
    const promise = this.options.load(tenantId, meetingId).then(
      (row) => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
        if (row && (this.generation.get(meetingId) ?? 0) === gen && isLive(meetingId)) {
          this.entries.set(meetingId, { tenantId, row, at });
        }
        return row;
      },
      (error: unknown) => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, { gen, promise });
    return promise;
  }

  /** What changed on a meeting (bus meeting-updated, or this host's own handlers after their write). */
  changed(
    tenantId: string,
    meetingId: string,
    changes: { max_participants?: number; lobby_enabled?: boolean; locked?: boolean },
  ): void {
    this.bump(meetingId);
    const entry = this.entries.get(meetingId);
    if (!entry || entry.tenantId !== tenantId) return;
    const row = { ...entry.row };
    if (changes.max_participants !== undefined) row.maxParticipants = changes.max_participants;
    if (changes.lobby_enabled !== undefined) row.lobbyEnabled = changes.lobby_enabled;
    if (changes.locked !== undefined) row.locked = changes.locked;
    entry.row = row;
  }

  /** The meeting ended, or its room closed here: the next read goes to the database. */
  forget(meetingId: string): void {
    this.bump(meetingId);
    this.entries.delete(meetingId);
  }

  private bump(meetingId: string): void {
    this.generation.set(meetingId, (this.generation.get(meetingId) ?? 0) + 1);
    // Keep the generation map from growing with every meeting ever seen: only live or loading ones need it.
    if (this.generation.size > 1000) {
      for (const id of this.generation.keys()) {
        if (!this.entries.has(id) && !this.options.isLive(id) && id !== meetingId) this.generation.delete(id);
      }
    }
  }
}
