import { type HostInfo, HostInfoSchema } from "@nexus/shared/bus";
import type { Redis } from "ioredis";
import * as v from "valibot";
import type { HostRegistry } from "./bus.js";
import { connectRedis, quitRedis, type RedisTarget } from "./redis-connection.js";

// Owner re-claiming keeps its claim alive; anyone else learns who owns it. GET+PEXPIRE must be one step
// so a claim cannot expire and be taken between them.
const REFRESH_OR_OWNER = `
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return current`;

// Only the owner may release; a host whose claim already expired and was taken must not delete the new one.
const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisHostRegistryOptions {
  /** Prefix of every key (default "nexus:"); tests use their own to stay apart. */
  keyPrefix?: string;
  onError?: (err: Error) => void;
}

/**
 * Hosts in one Redis hash (field = host id, value = HostInfo JSON with heartbeat_at); meeting ownership in
 * one key per meeting with a TTL, so a host that dies loses its meetings when its claims lapse.
 */
export class RedisHostRegistry implements HostRegistry {
  private readonly redis: Redis;
  private readonly hostsKey: string;
  private readonly ownerPrefix: string;
  private closing: Promise<void> | null = null;

  constructor(target: RedisTarget, options: RedisHostRegistryOptions = {}) {
    const prefix = options.keyPrefix ?? "nexus:";
    this.hostsKey = `${prefix}hosts`;
    this.ownerPrefix = `${prefix}meeting-owner:`;
    this.redis = connectRedis(target, (err) => options.onError?.(err), "nexus-host-registry");
  }

  async upsert(host: HostInfo): Promise<void> {
    const valid = v.parse(HostInfoSchema, host);
    await this.redis.hset(this.hostsKey, valid.id, JSON.stringify(valid));
  }

  async remove(hostId: string): Promise<void> {
    await this.redis.hdel(this.hostsKey, hostId);
  }

  async list(): Promise<HostInfo[]> {
    const raw = await this.redis.hgetall(this.hostsKey);
    const hosts: HostInfo[] = [];
    // The hash is shared with other processes: an entry that does not parse is skipped, not trusted.
    for (const value of Object.values(raw)) {
      try {
        const parsed = v.safeParse(HostInfoSchema, JSON.parse(value));
        if (parsed.success) hosts.push(parsed.output);
      } catch {}
    }
    return hosts.sort((a, b) => a.id.localeCompare(b.id));
  }

  async live(now: number, maxAgeMs: number): Promise<HostInfo[]> {
    return (await this.list()).filter((h) => !h.draining && now - h.heartbeat_at <= maxAgeMs);
  }

  async claimMeeting(meetingId: string, hostId: string, ttlMs: number): Promise<string> {
    const key = this.ownerPrefix + meetingId;
    const ttl = Math.max(1, Math.ceil(ttlMs));
    // A claim can lapse between the failed SET and the read; then try again (bounded).
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await this.redis.set(key, hostId, "PX", ttl, "NX")) === "OK") return hostId;
      const owner = (await this.redis.eval(REFRESH_OR_OWNER, 1, key, hostId, ttl)) as string | null;
      if (owner) return owner;
    }
    throw new Error(`could not claim meeting ${meetingId}: ownership keeps changing`);
  }

  async meetingOwner(meetingId: string): Promise<string | null> {
    return this.redis.get(this.ownerPrefix + meetingId);
  }

  async releaseMeeting(meetingId: string, hostId: string): Promise<void> {
    await this.redis.eval(RELEASE_IF_OWNER, 1, this.ownerPrefix + meetingId, hostId);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  close(): Promise<void> {
    this.closing ??= quitRedis(this.redis);
    return this.closing;
  }
}
