import type { Redis } from "ioredis";
import type { Bus, Unsubscribe } from "./bus.js";
import { connectRedis, quitRedis, type RedisTarget } from "./redis-connection.js";

export interface RedisBusOptions {
  /** Connection errors while ioredis reconnects; default: ignored (the next command reports them). */
  onError?: (err: Error) => void;
  /** Called when a message is not JSON or a handler throws; other handlers still run. */
  onBadMessage?: (channel: string, err: unknown) => void;
  /** CLIENT SETNAME prefix of the two connections (default "nexus-bus"), to spot them in CLIENT LIST. */
  connectionName?: string;
}

/**
 * Redis pub/sub. A connection in subscriber mode cannot publish, so there are two: `pub` for commands and a
 * `sub` opened with the first subscription. ioredis re-subscribes `sub`'s channels after a reconnect.
 */
export class RedisBus implements Bus {
  readonly kind = "redis" as const;
  private readonly pub: Redis;
  private sub: Redis | null = null;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly target: RedisTarget,
    private readonly options: RedisBusOptions = {},
  ) {
    this.pub = connectRedis(target, this.onError, `${this.options.connectionName ?? "nexus-bus"}-pub`);
  }

  private readonly onError = (err: Error) => this.options.onError?.(err);

  private subscriber(): Redis {
    if (!this.sub) {
      const sub = connectRedis(
        this.target,
        this.onError,
        `${this.options.connectionName ?? "nexus-bus"}-sub`,
      );
      sub.on("message", (channel: string, raw: string) => this.deliver(channel, raw));
      this.sub = sub;
    }
    return this.sub;
  }

  private deliver(channel: string, raw: string): void {
    const set = this.handlers.get(channel);
    if (!set || set.size === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      this.options.onBadMessage?.(channel, err);
      return;
    }
    for (const handler of [...set]) {
      try {
        // Each handler gets its own copy, as with the in-process bus.
        handler(set.size === 1 ? parsed : JSON.parse(raw));
      } catch (err) {
        this.options.onBadMessage?.(channel, err);
      }
    }
  }

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closing) throw new Error("bus closed");
    await this.pub.publish(channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe> {
    if (this.closing) throw new Error("bus closed");
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    const first = set.size === 0;
    set.add(handler);
    // Resolves once Redis confirmed, so a publish after subscribe() returns is never missed.
    if (first) await this.subscriber().subscribe(channel);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const current = this.handlers.get(channel);
      if (!current) return;
      current.delete(handler);
      if (current.size === 0) {
        this.handlers.delete(channel);
        if (!this.closing && this.sub) await this.sub.unsubscribe(channel).catch(() => {});
      }
    };
  }

  async ping(): Promise<void> {
    if (this.closing) throw new Error("bus closed");
    await this.pub.ping();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.handlers.clear();
      await Promise.all([quitRedis(this.pub), this.sub ? quitRedis(this.sub) : Promise.resolve()]);
    })();
    return this.closing;
  }
}
