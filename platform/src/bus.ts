import type { HostInfo } from "@nexus/shared/bus";

export type Unsubscribe = () => Promise<void>;

/**
 * Pub/sub between control and media. Messages are plain JSON values; receivers validate them with the
 * schemas of @nexus/shared/bus, because a bus is a trust boundary like any other input.
 */
export interface Bus {
  readonly kind: "memory" | "redis";
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe>;
  /** For /health: resolves when the bus answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where media hosts announce themselves. Liveness is judged by the reader from heartbeat_at, so a host
 * that died without deregistering simply ages out.
 */
export interface HostRegistry {
  upsert(host: HostInfo): Promise<void>;
  remove(hostId: string): Promise<void>;
  list(): Promise<HostInfo[]>;
  /** Hosts whose heartbeat is younger than maxAgeMs and that are not draining. */
  live(now: number, maxAgeMs: number): Promise<HostInfo[]>;
  /** Which host owns a live meeting; set once under a lock so two control calls never split a meeting. */
  claimMeeting(meetingId: string, hostId: string, ttlMs: number): Promise<string>;
  meetingOwner(meetingId: string): Promise<string | null>;
  releaseMeeting(meetingId: string, hostId: string): Promise<void>;
}
