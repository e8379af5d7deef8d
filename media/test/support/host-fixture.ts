import { randomUUID } from "node:crypto";
import { createDb, type Database, meetings } from "@nexus/drizzle";
import type { Bus, HostRegistry, Logger } from "@nexus/platform";
import { MemoryBus, MemoryHostRegistry, silentLogger } from "@nexus/platform";
import { signJoinToken } from "@nexus/platform/join-token";
import { DEFAULT_MEETING_SETTINGS } from "@nexus/shared/rest/meetings";
import type { JoinClaims } from "@nexus/shared/tokens";
import { freeRtcPorts } from "@nexus/testkit";
import { loadMediaConfig } from "../../src/config.js";
import { createMediaHost, type MediaHost } from "../../src/host.js";

export const SECRET = "test-join-token-secret-0123456789";

export interface HostFixture {
  host: MediaHost;
  db: Database;
  bus: Bus;
  registry: HostRegistry;
  tenantId: string;
  createMeeting(overrides?: Partial<typeof meetings.$inferInsert>): Promise<string>;
  token(
    meetingId: string,
    overrides?: Partial<JoinClaims>,
    options?: { ttlSeconds?: number; now?: Date; secret?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Start of the host's 10 RTC ports; default: a free range (testkit's freeRtcPorts). */
  rtcMinPort?: number;
  numWorkers?: number;
  graceMs?: number;
  env?: Record<string, string>;
  db?: Database;
  bus?: Bus;
  registry?: HostRegistry;
  hostId?: string;
  /** The host's clock (stats durations, token checks); real time when absent. */
  now?: () => Date;
  /** Where the host logs (default: nowhere). */
  logger?: Logger;
}

export async function startHostFixture(options: FixtureOptions = {}): Promise<HostFixture> {
  const rtcMinPort = options.rtcMinPort ?? (await freeRtcPorts(10));
  const ownDb = !options.db;
  const db = options.db ?? createDb("memory://");
  if (ownDb) await db.migrate();
  const bus = options.bus ?? new MemoryBus();
  const registry = options.registry ?? new MemoryHostRegistry();
  const numWorkers = options.numWorkers ?? 1;
  const config = loadMediaConfig({
    JOIN_TOKEN_SECRET: SECRET,
    MEDIA_HOST_ID: options.hostId ?? `media-test-${randomUUID().slice(0, 6)}`,
    MEDIA_BIND: "127.0.0.1",
    MEDIA_PORT: "0",
    MEDIASOUP_LISTEN_IP: "127.0.0.1",
    RTC_MIN_PORT: String(rtcMinPort),
    RTC_MAX_PORT: String(rtcMinPort + 9),
    MEDIA_NUM_WORKERS: String(numWorkers),
    RECONNECT_GRACE_MS: String(options.graceMs ?? 2_000),
    MEDIA_HEARTBEAT_MS: "500",
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const host = await createMediaHost({
    config,
    db,
    bus,
    registry,
    logger: options.logger ?? silentLogger(),
    now: options.now,
  });
  const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
  return {
    host,
    db,
    bus,
    registry,
    tenantId,
    async createMeeting(overrides = {}) {
      const id = randomUUID();
      await db.db.insert(meetings).values({
        id,
        tenantId,
        title: "Standup",
        createdBy: "user-1",
        settings: { ...DEFAULT_MEETING_SETTINGS },
        ...overrides,
      });
      return id;
    },
    async token(meetingId, overrides = {}, opts = {}) {
      const participantId = overrides.participant_id ?? randomUUID();
      const { token } = await signJoinToken(
        {
          jti: randomUUID(),
          meeting_id: meetingId,
          participant_id: participantId,
          tenant_id: tenantId,
          user_id: `user-${participantId.slice(0, 6)}`,
          name: `Person ${participantId.slice(0, 4)}`,
          role: "member",
          host_id: host.hostId,
          ...overrides,
        },
        { secret: opts.secret ?? SECRET, now: opts.now ?? new Date(), ttlSeconds: opts.ttlSeconds ?? 60 },
      );
      return token;
    },
    async close() {
      await host.close();
      if (ownDb) await db.close();
    },
  };
}

/** Polls until check() returns a value other than undefined/false, or fails after the deadline. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
