import { Counter, Gauge, Registry } from "prom-client";
import type { RoomManager } from "./sfu/rooms.js";
import type { TransportBytes } from "./sfu/transport-bytes.js";
import type { WorkerPool } from "./sfu/worker-pool.js";

/**
 * The host's own registry (never the global one, so two hosts in one process do not collide). Gauges are
 * computed at scrape time from the live objects, so they cannot drift from the truth.
 */
export function createMediaMetrics(
  rooms: RoomManager,
  pool: WorkerPool,
  hostId: string,
  bytes: TransportBytes,
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ host_id: hostId });

  const count = (pick: (peer: import("./sfu/peer.js").Peer) => number) => {
    let n = 0;
    for (const room of rooms.all()) for (const peer of room.peers.values()) n += pick(peer);
    return n;
  };
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });

  gauge("nexus_media_rooms", "Rooms open on this host", () => rooms.size);
  gauge("nexus_media_peers", "Participants in rooms on this host (connected or in grace)", () =>
    rooms.peerCount(),
  );
  gauge("nexus_media_transports", "WebRTC transports", () => count((p) => p.transports.size));
  gauge("nexus_media_producers", "Producers", () => count((p) => p.producers.size));
  gauge("nexus_media_consumers", "Consumers", () => count((p) => p.consumers.size));
  gauge("nexus_media_workers", "Live mediasoup workers", () => pool.liveSlots.length);

  new Gauge({
    name: "nexus_media_worker_cpu_seconds",
    help: "CPU time used by each mediasoup worker (user + system)",
    labelNames: ["worker_pid"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const slot of pool.liveSlots) {
        const usage = await slot.worker.getResourceUsage().catch(() => null);
        if (usage)
          this.set({ worker_pid: String(slot.worker.pid) }, (usage.ru_utime + usage.ru_stime) / 1000);
      }
    },
  });

  // Counters: totals since the host started, kept across transports that close (TransportBytes).
  let reported = { in: 0, out: 0 };
  new Counter({
    name: "nexus_media_transport_bytes_total",
    help: "Bytes received (direction=in) and sent (direction=out) by this host's transports since it started",
    labelNames: ["direction"],
    registers: [registry],
    async collect() {
      const transports = [];
      for (const room of rooms.all())
        for (const peer of room.peers.values()) transports.push(...peer.transports.values());
      await bytes.sample(transports);
      // Two scrapes at once each add only what the other has not.
      const now = { in: bytes.received, out: bytes.sent };
      if (now.in > reported.in) this.inc({ direction: "in" }, now.in - reported.in);
      if (now.out > reported.out) this.inc({ direction: "out" }, now.out - reported.out);
      reported = { in: Math.max(reported.in, now.in), out: Math.max(reported.out, now.out) };
      // A direction with no traffic yet still shows as 0.
      this.inc({ direction: "in" }, 0);
      this.inc({ direction: "out" }, 0);
    },
  });
  return registry;
}

export function createJoinCounter(registry: Registry) {
  return new Counter({
    name: "nexus_media_join_refusals_total",
    help: "Connections refused before any room work, by reason",
    labelNames: ["code"],
    registers: [registry],
  });
}
