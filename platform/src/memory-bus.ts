import type { HostInfo } from "@nexus/shared/bus";
import type { Bus, HostRegistry, Unsubscribe } from "./bus.js";

/** The embedded default: control and a media host in one process share this object. */
export class MemoryBus implements Bus {
  readonly kind = "memory" as const;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private closed = false;

  constructor(private readonly onHandlerError?: (channel: string, err: unknown) => void) {}

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closed) throw new Error("bus closed");
    // Round-trip through JSON so in-process delivery behaves like Redis (no shared mutable objects).
    const wire = JSON.stringify(message);
    for (const handler of this.handlers.get(channel) ?? []) {
      queueMicrotask(() => {
        // A throwing handler must not become an uncaught exception, nor keep others from their copy.
        try {
          handler(JSON.parse(wire));
        } catch (err) {
          this.onHandlerError?.(channel, err);
        }
      });
    }
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
    };
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error("bus closed");
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}

export class MemoryHostRegistry implements HostRegistry {
  private readonly hosts = new Map<string, HostInfo>();
  private readonly owners = new Map<string, { hostId: string; expiresAt: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async upsert(host: HostInfo): Promise<void> {
    this.hosts.set(host.id, { ...host });
  }
  async remove(hostId: string): Promise<void> {
    this.hosts.delete(hostId);
  }
  async list(): Promise<HostInfo[]> {
    return [...this.hosts.values()];
  }
  async live(now: number, maxAgeMs: number): Promise<HostInfo[]> {
    return [...this.hosts.values()].filter((h) => !h.draining && now - h.heartbeat_at <= maxAgeMs);
  }
  async claimMeeting(meetingId: string, hostId: string, ttlMs: number): Promise<string> {
    const current = this.owners.get(meetingId);
    if (current && current.expiresAt > this.now()) {
      // The owner claiming again keeps its claim alive, as the Redis registry does.
      if (current.hostId === hostId) current.expiresAt = this.now() + ttlMs;
      return current.hostId;
    }
    this.owners.set(meetingId, { hostId, expiresAt: this.now() + ttlMs });
    return hostId;
  }
  async meetingOwner(meetingId: string): Promise<string | null> {
    const current = this.owners.get(meetingId);
    return current && current.expiresAt > this.now() ? current.hostId : null;
  }
  async releaseMeeting(meetingId: string, hostId: string): Promise<void> {
    if (this.owners.get(meetingId)?.hostId === hostId) this.owners.delete(meetingId);
  }
  async ping(): Promise<void> {}
  /** Nothing to release; present so callers close any registry the same way. */
  async close(): Promise<void> {}
}
