/** Pieces shared by the media host benchmarks: our host started the way the tests start it, CPU and socket counters. */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createDb, type Database, meetings } from "@nexus/drizzle";
import { loadMediaConfig } from "@nexus/media/config";
import { createMediaHost, type MediaHost } from "@nexus/media/host";
import type { Connection } from "@nexus/media/sfu/peer";
import type { Room } from "@nexus/media/sfu/room";
import { MemoryBus, MemoryHostRegistry, silentLogger } from "@nexus/platform";
import { DEFAULT_MEETING_SETTINGS } from "@nexus/shared/rest/meetings";
import type { JoinClaims } from "@nexus/shared/tokens";
import { createTestDatabase, startPostgres } from "@nexus/testkit";
import type { types as ms } from "mediasoup";
import { HAVE_TASKSET } from "../proc.js";
import { memberClaims, memberToken } from "./tokens.js";

export const JOIN_SECRET = "bench-join-token-secret-0123456789";

export const loadLine = (): string =>
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`;

/** CPU time of every thread of `pid` in nanoseconds (schedstat, finer than the 10 ms ticks of /proc/PID/stat). */
export function threadsCpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return ns;
}

/** Kernel receive-queue drops of the IPv4 UDP socket bound to 127.0.0.1:port (the last column of /proc/net/udp). */
export function udpDrops(port: number): number {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let drops = 0;
  for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === want) drops += Number(cols.at(-1));
  }
  return drops;
}

/** Moves every thread of a running process onto `cpus`. */
export function pinPid(pid: number, cpus: string): void {
  if (!HAVE_TASKSET) return;
  spawnSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}

export const pct = (q: number, xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))]!;
};

/** "min-max (±x% around the median)" */
export function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = pct(50, s);
  const half = ((s.at(-1)! - s[0]!) / 2 / med) * 100;
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
  return `${f(s[0]!)}-${f(s.at(-1)!)} (±${half.toFixed(1)}%)`;
}

/**
 * A real PostgreSQL (Debian's, started by @nexus/testkit in a temp dir) with a fresh migrated database, as in
 * production; PGlite would run its WASM on the host's own event loop and distort latencies.
 */
export async function realPostgres(): Promise<{ db: Database; url: string; stop(): Promise<void> }> {
  const server = await startPostgres();
  const testDb = await createTestDatabase(server.url);
  return {
    db: testDb.database,
    url: testDb.url,
    async stop() {
      await testDb.drop();
      await server.stop();
    },
  };
}

export interface OurHost {
  host: MediaHost;
  db: Database;
  tenantId: string;
  createMeeting(maxParticipants: number): Promise<string>;
  claims(meetingId: string): JoinClaims;
  token(meetingId: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Our production composition (createMediaHost: worker pool, rooms, uWS signaling, persistence hooks) on an
 * in-memory PGlite database and in-memory bus/registry, like media/test/support/host-fixture.ts.
 */
export async function startOurHost(opts: {
  rtcMinPort: number;
  db?: Database;
  env?: Record<string, string>;
}): Promise<OurHost> {
  const ownDb = !opts.db;
  const db = opts.db ?? createDb("memory://");
  if (ownDb) await db.migrate();
  const config = loadMediaConfig({
    JOIN_TOKEN_SECRET: JOIN_SECRET,
    MEDIA_HOST_ID: `bench-${randomUUID().slice(0, 6)}`,
    MEDIA_BIND: "127.0.0.1",
    MEDIA_PORT: "0",
    MEDIASOUP_LISTEN_IP: "127.0.0.1",
    RTC_MIN_PORT: String(opts.rtcMinPort),
    RTC_MAX_PORT: String(opts.rtcMinPort + 9),
    MEDIA_NUM_WORKERS: "1",
    RECONNECT_GRACE_MS: "0",
    MEDIA_HEARTBEAT_MS: "5000",
    LOG_LEVEL: "silent",
    ...opts.env,
  });
  const host = await createMediaHost({
    config,
    db,
    bus: new MemoryBus(),
    registry: new MemoryHostRegistry(),
    logger: silentLogger(),
  });
  const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
  const claims = (meetingId: string): JoinClaims =>
    memberClaims({ meetingId, tenantId, hostId: host.hostId });
  return {
    host,
    db,
    tenantId,
    async createMeeting(maxParticipants) {
      const id = randomUUID();
      await db.db.insert(meetings).values({
        id,
        tenantId,
        title: "Bench",
        createdBy: "user-bench",
        maxParticipants,
        settings: { ...DEFAULT_MEETING_SETTINGS },
      });
      return id;
    },
    claims,
    token: (meetingId) =>
      memberToken({ meetingId, tenantId, hostId: host.hostId }, { secret: JOIN_SECRET, ttlSeconds: 600 }),
    async close() {
      await host.close();
      if (ownDb) await db.close();
    },
  };
}

/** A connection that is not a socket: in-process participants only count what the room tells them. */
export function countingConnection(id: number): Connection & { notes: number } {
  return {
    id,
    notes: 0,
    closed: false,
    notify() {
      this.notes++;
    },
    sendSerialized() {
      this.notes++;
    },
    close() {},
  };
}

/**
 * The room only hands WebRtcTransports to clients; for the forwarding benchmark a PlainTransport is created
 * on the room's own router and registered in the peer's transport map, so produce/consume/resume still go
 * through Room's code (appData, observers, speaker observer, notifications).
 */
export async function plainTransportInRoom(
  room: Room,
  peer: Room["peers"] extends Map<string, infer P> ? P : never,
  options: ms.PlainTransportOptions,
): Promise<ms.PlainTransport> {
  // biome-ignore lint/complexity/useLiteralKeys: Room keeps its router private; the bench reaches it on purpose.
  const router = room["router"] as ms.Router;
  const transport = await router.createPlainTransport(options);
  peer.transports.set(transport.id, transport as unknown as ms.WebRtcTransport);
  transport.observer.on("close", () => peer.transports.delete(transport.id));
  return transport;
}
