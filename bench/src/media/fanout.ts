/**
 * Fan-out forwarding: one publisher (recorded VP8 ~1 Mbit/s 30 fps + Opus RTP clip, replayed) to N
 * subscribers, each a PlainTransport (no SRTP) sending into one UDP sink socket. Two configurations, same
 * worker binary, alternating: "ours" = createMediaHost + a Room, producer and consumers made by Room's
 * produce/consume/resumeConsumer over PlainTransports on the room's router; "bare" = Worker, Router,
 * PlainTransports, produce and consume with mediasoup's API and nothing else.
 *
 *   npm run bench:fanout -- [--n 10,50,200] [--rounds 3] [--seconds 8] [--warmup 3] [--simultaneous]
 */
import { createSocket } from "node:dgram";
import { parseArgs } from "node:util";
import { createDb } from "@nexus/drizzle";
import { resolveWorkerBin } from "@nexus/media/sfu/worker-bin";
import type { types as ms } from "mediasoup";
import * as mediasoup from "mediasoup";
import { LOAD_CPUS, median, pinSelf, SERVER_CPUS } from "../proc.js";
import {
  countingConnection,
  loadLine,
  pinPid,
  plainTransportInRoom,
  spread,
  startOurHost,
  threadsCpuNs,
  udpDrops,
} from "./common.js";
import { AUDIO_PT, AUDIO_SSRC, type Clip, loadClip, replay, VIDEO_PT, VIDEO_SSRC } from "./rtp-clip.js";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "10,50,200" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "8" },
    warmup: { type: "string", default: "3" },
    /**
     * Run ours and bare at the same time, each fed its own copy of the stream and read by its own sink,
     * both workers on the server core: the two then share every moment of the machine's load, and their
     * ratio is taken window by window instead of across alternating windows.
     */
    simultaneous: { type: "boolean", default: false },
  },
});
const NS = args.n.split(",").map(Number);
const ROUNDS = Number(args.rounds);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const SIMULTANEOUS = args.simultaneous;
const PORTS = { min: 41_000, max: 41_999 };
// A 4 MB receive queue on every worker socket (both configurations), so a few hundred ms without CPU for
// the worker on this shared machine does not turn into kernel drops at the ingress.
const LISTEN: ms.TransportListenInfo = {
  protocol: "udp",
  ip: "127.0.0.1",
  portRange: PORTS,
  recvBufferSize: 4 * 1024 * 1024,
};

const VIDEO_PARAMS: ms.RtpParameters = {
  codecs: [{ mimeType: "video/VP8", payloadType: VIDEO_PT, clockRate: 90_000 }],
  encodings: [{ ssrc: VIDEO_SSRC }],
};
const AUDIO_PARAMS: ms.RtpParameters = {
  codecs: [{ mimeType: "audio/opus", payloadType: AUDIO_PT, clockRate: 48_000, channels: 2 }],
  encodings: [{ ssrc: AUDIO_SSRC }],
};

interface Setup {
  workerPid: number;
  /** Where the replayer sends: the producer's PlainTransport. */
  ingressPort: number;
  close(): Promise<void>;
}

async function setupBare(workerBin: string, n: number, sinkPort: number): Promise<Setup> {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: "warn" });
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: "audio", mimeType: "audio/opus", clockRate: 48_000, channels: 2 },
      { kind: "video", mimeType: "video/VP8", clockRate: 90_000 },
    ],
  });
  const ingress = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: true });
  const video = await ingress.produce({ kind: "video", rtpParameters: VIDEO_PARAMS });
  const audio = await ingress.produce({ kind: "audio", rtpParameters: AUDIO_PARAMS });
  for (let i = 0; i < n; i++) {
    const t = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: false });
    await t.connect({ ip: "127.0.0.1", port: sinkPort });
    for (const p of [video, audio])
      await t.consume({ producerId: p.id, rtpCapabilities: router.rtpCapabilities });
  }
  return {
    workerPid: worker.pid,
    ingressPort: ingress.tuple.localPort,
    async close() {
      worker.close();
    },
  };
}

let hostsStarted = 0;

async function setupOurs(db: ReturnType<typeof createDb>, n: number, sinkPort: number): Promise<Setup> {
  // A closed host's worker may still hold its WebRtcServer port for a moment: each host gets its own.
  const ours = await startOurHost({ rtcMinPort: 40_000 + 10 * (hostsStarted++ % 90), db });
  const meetingId = await ours.createMeeting(n + 10);
  const { room, peer: publisher } = await ours.host.rooms.join(ours.claims(meetingId), countingConnection(0));
  const ingress = await plainTransportInRoom(room, publisher, {
    listenInfo: LISTEN,
    rtcpMux: true,
    comedia: true,
  });
  const producers: string[] = [];
  for (const [kind, source, rtp] of [
    ["video", "camera", VIDEO_PARAMS],
    ["audio", "mic", AUDIO_PARAMS],
  ] as const) {
    const p = await room.produce(publisher, {
      transport_id: ingress.id,
      kind,
      source,
      rtp_parameters: rtp as never,
    });
    producers.push(p.id);
  }
  for (let i = 0; i < n; i++) {
    const { peer } = await ours.host.rooms.join(ours.claims(meetingId), countingConnection(i + 1));
    const t = await plainTransportInRoom(room, peer, { listenInfo: LISTEN, rtcpMux: true, comedia: false });
    await t.connect({ ip: "127.0.0.1", port: sinkPort });
    for (const producerId of producers) {
      const ack = await room.consume(peer, {
        transport_id: t.id,
        producer_id: producerId,
        rtp_capabilities: room.rtpCapabilities as never,
      });
      await room.resumeConsumer(peer, ack.consumer_id);
    }
  }
  return {
    workerPid: ours.host.pool.workers[0]!.pid,
    ingressPort: ingress.tuple.localPort,
    close: () => ours.close(),
  };
}

interface Row {
  config: "ours" | "bare";
  n: number;
  outPps: number;
  /** Worker CPU-seconds per million packets delivered to the sink. */
  cpuPerM: number;
  workerCores: number;
  genCores: number;
  /** Received / (received + sequence gaps) at the sink. */
  delivered: number;
  /** Sequence gaps the sink's own kernel drops do not explain: lost before the sink. */
  sfuLoss: number;
  /** Received at the sink / (generator packets in the window x N): ~1, off by the sink's backlog at the start. */
  fedRatio: number;
  sinkDrops: number;
  ingressDrops: number;
}

interface Sink {
  readonly port: number;
  /** Media packets read (RTCP is not counted). */
  readonly sunk: number;
  /** Loss from the receivers' view: gaps in a consumer's RTP sequence numbers (worker or kernel drop). */
  readonly gaps: number;
  /** A new set of consumers is about to send here: forget the sequence numbers seen so far. */
  newStream(): void;
  close(): void;
}

async function makeSink(): Promise<Sink> {
  const socket = createSocket("udp4");
  let sunk = 0;
  let gaps = 0;
  const lastSeq = new Map<number, number>();
  socket.on("message", (m) => {
    // RTCP on the muxed port (RFC 5761: packet types 192-223) is not forwarded media.
    const pt = m[1]! & 0x7f;
    if (pt >= 64 && pt <= 95) return;
    sunk++;
    const ssrc = m.readUInt32BE(8);
    const seq = m.readUInt16BE(2);
    const last = lastSeq.get(ssrc);
    if (last !== undefined) {
      const d = (seq - last) & 0xffff;
      if (d > 1 && d < 3000) gaps += d - 1;
    }
    lastSeq.set(ssrc, seq);
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  socket.setRecvBufferSize(4 * 1024 * 1024);
  return {
    port: socket.address().port,
    get sunk() {
      return sunk;
    },
    get gaps() {
      return gaps;
    },
    newStream: () => lastSeq.clear(),
    close: () => socket.close(),
  };
}

async function main() {
  pinSelf(LOAD_CPUS);
  const workerBin = resolveWorkerBin();
  const clip: Clip = await loadClip();
  const db = createDb("memory://");
  await db.migrate();
  const sink = await makeSink();
  const sinkPort = sink.port;
  const gen = createSocket("udp4");
  await new Promise<void>((r) => gen.bind(0, "127.0.0.1", () => r()));

  console.log(
    `fan-out: clip ${clip.video.length} VP8 + ${clip.audio.length} Opus packets over ${clip.seconds.toFixed(2)} s ` +
      `(${((clip.video.length + clip.audio.length) / clip.seconds).toFixed(0)} pkt/s in), worker ${workerBin}`,
  );
  console.log(
    `worker on CPU ${SERVER_CPUS}, generator+sink+mediasoup's node side on CPU ${LOAD_CPUS}; ${loadLine()}`,
  );
  // The first setup of a process runs cold (JIT, first PostgreSQL/PGlite statements); throw one away.
  {
    const setup = await setupOurs(db, 10, sinkPort);
    sink.newStream();
    const player = replay(clip, gen, "127.0.0.1", setup.ingressPort);
    await new Promise((r) => setTimeout(r, 3000));
    player.stop();
    await setup.close();
  }
  const rows: Row[] = [];
  const bareSink = SIMULTANEOUS ? await makeSink() : sink;
  for (const n of NS) {
    for (let round = 0; round < ROUNDS; round++) {
      const order: Row["config"][] = round % 2 === 0 ? ["ours", "bare"] : ["bare", "ours"];
      const make = async (config: Row["config"]): Promise<Running> => {
        const to = config === "ours" ? sink : bareSink;
        const setup =
          config === "ours" ? await setupOurs(db, n, to.port) : await setupBare(workerBin, n, to.port);
        pinPid(setup.workerPid, SERVER_CPUS);
        to.newStream();
        return { config, setup, sink: to, player: replay(clip, gen, "127.0.0.1", setup.ingressPort) };
      };
      if (SIMULTANEOUS) {
        const both: Running[] = [];
        for (const config of order) both.push(await make(config));
        rows.push(...(await measureWindow(n, round, both)));
      } else {
        for (const config of order) rows.push(...(await measureWindow(n, round, [await make(config)])));
      }
    }
  }
  gen.close();
  sink.close();
  if (bareSink !== sink) bareSink.close();
  await db.close();
  printTable(rows);
  process.exit(0);
}

interface Running {
  config: Row["config"];
  setup: Setup;
  sink: Sink;
  player: ReturnType<typeof replay>;
}

/**
 * After the warm-up, one measuring window over the configurations that are running (one, or both at once
 * with --simultaneous); each gets its row, then everything is stopped and closed.
 */
async function measureWindow(n: number, round: number, running: Running[]): Promise<Row[]> {
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const t0 = performance.now();
  const gen0 = process.cpuUsage();
  const start = running.map(({ setup, sink, player }) => ({
    gaps: sink.gaps,
    sunk: sink.sunk,
    sent: player.sent,
    cpu: threadsCpuNs(setup.workerPid),
    sinkDrops: udpDrops(sink.port),
    inDrops: udpDrops(setup.ingressPort),
  }));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const dt = (performance.now() - t0) / 1000;
  const g = process.cpuUsage(gen0);
  const mid = running.map(({ setup, player }) => ({
    sent: player.sent,
    cpu: threadsCpuNs(setup.workerPid),
  }));
  for (const r of running) r.player.stop();
  // The sink may be behind (its core is shared): packets the worker sent in the window are counted once its
  // queue has drained, after the generator stopped.
  await new Promise((r) => setTimeout(r, 1500));
  const rows = running.map(({ config, setup, sink }, i): Row => {
    const a = start[i]!;
    const dSent = mid[i]!.sent - a.sent;
    const cpuS = (mid[i]!.cpu - a.cpu) / 1e9;
    const dSunk = sink.sunk - a.sunk;
    const lost = sink.gaps - a.gaps;
    const sinkDrops = udpDrops(sink.port) - a.sinkDrops;
    return {
      config,
      n,
      outPps: dSunk / dt,
      // The worker sent what the sink read and what the sink's kernel queue dropped.
      cpuPerM: cpuS / ((dSunk + sinkDrops) / 1e6),
      workerCores: cpuS / dt,
      // The generator and sinks serve every running configuration: their CPU is shared out evenly.
      genCores: (g.user + g.system) / 1e6 / dt / running.length,
      delivered: dSunk / (dSunk + lost),
      sfuLoss: Math.max(0, lost - sinkDrops) / (dSunk + lost),
      fedRatio: dSunk / (dSent * n),
      sinkDrops,
      ingressDrops: udpDrops(setup.ingressPort) - a.inDrops,
    };
  });
  for (const { setup } of running) await setup.close();
  for (const row of rows) {
    console.log(
      `  N=${String(n).padStart(3)} round ${round + 1} ${row.config.padEnd(4)}: ${row.outPps.toFixed(0).padStart(6)} pkt/s out, ` +
        `${row.cpuPerM.toFixed(2)} worker CPU-s/Mpkt, worker ${(row.workerCores * 100).toFixed(1)}% core, ` +
        `generator ${(row.genCores * 100).toFixed(1)}% core, delivered ${(row.delivered * 100).toFixed(2)}% ` +
        `(received/(sent x N) ${(row.fedRatio * 100).toFixed(1)}%, not explained by sink drops ${(row.sfuLoss * 100).toFixed(2)}%, sink drops ${row.sinkDrops}, ingress drops ${row.ingressDrops})`,
    );
  }
  await new Promise((r) => setTimeout(r, 500));
  return rows;
}

function printTable(rows: Row[]): void {
  console.log(
    `\nmedians of ${ROUNDS} rounds (spread = min-max)${SIMULTANEOUS ? ", ours and bare running at the same time" : ""}; ${loadLine()}`,
  );
  console.log(
    "| N | config | out pkt/s | worker CPU-s / Mpkt | spread | worker core % | generator core % | received at sink |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const n of NS) {
    const meds: Record<string, number> = {};
    for (const config of ["ours", "bare"] as const) {
      const rs = rows.filter((r) => r.n === n && r.config === config);
      const cpu = rs.map((r) => r.cpuPerM);
      meds[config] = median(cpu);
      console.log(
        `| ${n} | ${config} | ${median(rs.map((r) => r.outPps)).toFixed(0)} | ${median(cpu).toFixed(2)} | ${spread(cpu)} | ` +
          `${(median(rs.map((r) => r.workerCores)) * 100).toFixed(1)} | ${(median(rs.map((r) => r.genCores)) * 100).toFixed(1)} | ` +
          `${(Math.min(...rs.map((r) => r.delivered)) * 100).toFixed(2)}% (worst), loss before the sink ${(Math.max(...rs.map((r) => r.sfuLoss)) * 100).toFixed(2)}% (worst) |`,
      );
    }
    const pairs = rows
      .filter((r) => r.n === n && r.config === "ours")
      .map((r, i) => r.cpuPerM / rows.filter((b) => b.n === n && b.config === "bare")[i]!.cpuPerM);
    console.log(
      `| ${n} | ours/bare | | **${(meds.ours! / meds.bare!).toFixed(3)}** | per-round ratios ${pairs.map((x) => x.toFixed(3)).join(", ")} | | | |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
