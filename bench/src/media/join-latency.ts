/**
 * Join latency over our real signaling: a WebSocket to the uWS host with a join token, then join-meeting,
 * create-transport (recv), consume of the producer already in the room, resume-consumer. The figure is
 * join-meeting sent -> resume-consumer acked ("first consumer ready"); the WebSocket upgrade (token check,
 * meeting lookup) is reported beside it. Baseline in the same run: the same mediasoup steps called in-process
 * on a bare Worker/Router/WebRtcServer (no signaling, no room logic; the router has our rooms' codec list, so
 * the capabilities a consume validates and clones are as large on both paths), so what signaling and our
 * handlers add is visible.
 *
 *   npm run bench:join -- [--sequential 100] [--concurrent 20] [--waves 10] [--warmup-waves 60] [--profile]
 *
 * Warm-up: both paths first run `--warmup-waves` unrecorded waves of concurrent joins (60 x 20 = 1,200 joins,
 * about ten seconds). V8 compiles a path's hot functions only after they have run for a while, on this
 * process's one core: with 5 warm-up waves it was still compiling and deoptimizing through the measured
 * waves (about 150 TurboFan compilations over 60 measured waves, a fifth of the server's CPU), so the figures
 * measured V8's compiler as much as the host. A host in service has long passed that point. The warm-up
 * waves' own p50s are printed (the first ones are the cold host's figures).
 *
 * Clients: 20 participants in one client process on the other core, on the `ws` package; the client
 * process's CPU per join is printed. (A minimal hand-written WebSocket client was tried in its place: the
 * figures did not move, 3 paired runs, so the clients' own queue is not what the joins wait for.)
 *
 * `--profile` records a V8 CPU profile of this process (the server side) over our concurrent waves only, then
 * one over the bare waves (run after ours), writes them to bench/.profiles/join-concurrent.cpuprofile and
 * join-concurrent-bare.cpuprofile and prints each path's busy CPU per join and the functions it went to.
 *
 * Placement (2 cores): this process is the server (our media host and the bare baseline, each with its
 * mediasoup worker) on BENCH_SERVER_CPUS (0); the clients (join-client.ts) are a separate node process on
 * BENCH_LOAD_CPUS (1) with PostgreSQL, so client JSON work does not share the server's event loop.
 *
 * Our host uses a real PostgreSQL (testkit) for its meeting lookup and participant rows, as in production.
 * The router's RTP capabilities from the join-meeting ack are used as the client's (no mediasoup-client
 * Device, no DTLS/ICE).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { MEDIA_CODECS } from "@nexus/media/sfu/room";
import { resolveWorkerBin } from "@nexus/media/sfu/worker-bin";
import type { types as ms } from "mediasoup";
import * as mediasoup from "mediasoup";
import { BENCH_DIR } from "../build.js";
import { LOAD_CPUS, pinned, pinSelf, SERVER_CPUS, stopChild } from "../proc.js";
import { type CpuProfile, summarizeProfile } from "../profile.js";
import {
  countingConnection,
  JOIN_SECRET,
  loadLine,
  pct,
  pinPid,
  plainTransportInRoom,
  realPostgres,
  startOurHost,
  threadsCpuNs,
} from "./common.js";
import type { JoinTarget, Sample } from "./join-client.js";

const { values: args } = parseArgs({
  options: {
    sequential: { type: "string", default: "100" },
    concurrent: { type: "string", default: "20" },
    waves: { type: "string", default: "10" },
    /** Unrecorded concurrent waves on both paths before the measured blocks (JIT warm-up). */
    "warmup-waves": { type: "string", default: "60" },
    profile: { type: "boolean", default: false },
  },
});
const SEQ = Number(args.sequential);
const CONC = Number(args.concurrent);
const WAVES = Number(args.waves);
const WARMUP_WAVES = Number(args["warmup-waves"]);
/** CPU-profile this process (the server) over our concurrent waves only; the bare waves then run after them. */
const PROFILE = args.profile;

interface Clients {
  run(cmd: { seq: number } | { conc: number }): Promise<Sample[]>;
  /** The client process's CPU over its concurrent waves since the last reset. */
  cpu: { us: number; joins: number };
  close(): Promise<void>;
}

/** The clients as their own node process on the load core; one command per line, one answer per line. */
async function childClients(target: JoinTarget): Promise<Clients> {
  const file = join(BENCH_DIR, "src/media/join-client.ts");
  const argv = pinned(LOAD_CPUS, [process.execPath, "--import", "tsx", file, JSON.stringify(target)]);
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    cwd: BENCH_DIR,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const cpu = { us: 0, joins: 0 };
  return {
    cpu,
    async run(cmd) {
      child.stdin!.write(`${JSON.stringify(cmd)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error("client process exited");
      const answer = JSON.parse(next.value) as { samples?: Sample[]; cpuUs?: number; error?: string };
      if (!answer.samples) throw new Error(`client process: ${answer.error}`);
      if ("conc" in cmd) {
        cpu.us += answer.cpuUs ?? 0;
        cpu.joins += answer.samples.length;
      }
      return answer.samples;
    },
    async close() {
      child.stdin!.end();
      // It exits by itself once its input ends; stopChild is the fallback.
      await Promise.race([
        new Promise((r) => child.once("exit", r)),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
      await stopChild(child);
    },
  };
}

async function bareJoin(router: ms.Router, server: ms.WebRtcServer, producerId: string): Promise<Sample> {
  const t1 = performance.now();
  const transport = await router.createWebRtcTransport({
    webRtcServer: server,
    enableUdp: true,
    enableTcp: true,
    preferUdp: true,
  });
  const consumer = await transport.consume({
    producerId,
    rtpCapabilities: router.rtpCapabilities,
    paused: true,
  });
  await consumer.resume();
  const t3 = performance.now();
  transport.close();
  return { connectMs: 0, joinAckMs: 0, readyMs: t3 - t1 };
}

const VIDEO_PARAMS = {
  codecs: [{ mimeType: "video/VP8", payloadType: 96, clockRate: 90_000 }],
  encodings: [{ ssrc: 11_111_111 }],
};

async function startProfiler(name: string): Promise<{ stop(joins: number): Promise<string> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  const cpu0 = process.cpuUsage();
  return {
    async stop(joins) {
      const cpu = process.cpuUsage(cpu0);
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      const dir = join(BENCH_DIR, ".profiles");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const s = summarizeProfile(profile as unknown as CpuProfile);
      const per = (ms: number) => `${((ms / joins) * 1000).toFixed(0).padStart(6)} µs/join`;
      const lines = [
        `${name}: server CPU over ${joins} concurrent joins (process.cpuUsage, all threads): ${per((cpu.user + cpu.system) / 1000)}; main thread busy in the profile: ${per(s.busyMs)}`,
        "first-party functions on the stack (inclusive):",
        ...s.firstPartyOnStack.slice(0, 40).map((f) => `  ${per(f.ms)}  ${f.name}`),
        "on the stack by package:",
        ...s.onStack.slice(0, 20).map((f) => `  ${per(f.ms)}  ${f.name}`),
        `profile: ${file}`,
      ];
      return lines.join("\n");
    },
  };
}

function line(label: string, xs: number[]): string {
  const f = (x: number) => x.toFixed(2).padStart(7);
  return `| ${label} | ${xs.length} | ${f(pct(50, xs))} | ${f(pct(99, xs))} | ${f(Math.max(...xs))} |`;
}

async function main() {
  const workerBin = resolveWorkerBin();
  // PostgreSQL inherits the affinity of the process that starts it: start it from the load core.
  pinSelf(LOAD_CPUS);
  const pg = await realPostgres();
  pinSelf(SERVER_CPUS);
  console.log(
    `join latency: server node + workers on CPU ${SERVER_CPUS}; client process and PostgreSQL on CPU ${LOAD_CPUS}; ${loadLine()}`,
  );

  // Every port below Linux's ephemeral range (32768-60999): a client-heavy run beside this one (thousands of
  // sockets in TIME-WAIT) cannot then hold the port a worker wants to bind.
  const ours = await startOurHost({ rtcMinPort: 31_990, db: pg.db });
  pinPid(ours.host.pool.workers[0]!.pid, SERVER_CPUS);
  const meetingId = await ours.createMeeting(CONC + 10);
  const { room, peer } = await ours.host.rooms.join(ours.claims(meetingId), countingConnection(0));
  const ingress = await plainTransportInRoom(room, peer, {
    listenInfo: { protocol: "udp", ip: "127.0.0.1", portRange: { min: 32_000, max: 32_299 } },
    rtcpMux: true,
    comedia: true,
  });
  await room.produce(peer, {
    transport_id: ingress.id,
    kind: "video",
    source: "camera",
    rtp_parameters: VIDEO_PARAMS as never,
  });

  const worker = await mediasoup.createWorker({ workerBin, logLevel: "warn" });
  pinPid(worker.pid, SERVER_CPUS);
  const router = await worker.createRouter({
    // The same codecs as our rooms: the capabilities a consume validates and clones are as large on both
    // paths (with only opus + VP8 here, the bare consume handled a third of ours' capability entries).
    mediaCodecs: MEDIA_CODECS,
  });
  const server = await worker.createWebRtcServer({
    listenInfos: [
      { protocol: "udp", ip: "127.0.0.1", port: 32_300 },
      { protocol: "tcp", ip: "127.0.0.1", port: 32_300 },
    ],
  });
  const bareIn = await router.createPlainTransport({
    listenInfo: { protocol: "udp", ip: "127.0.0.1", portRange: { min: 32_301, max: 32_599 } },
    rtcpMux: true,
    comedia: true,
  });
  const bareProducer = await bareIn.produce({
    kind: "video",
    rtpParameters: VIDEO_PARAMS as ms.RtpParameters,
  });

  const target: JoinTarget = {
    wsUrl: ours.host.wsUrl,
    meetingId,
    tenantId: ours.tenantId,
    hostId: ours.host.hostId,
    secret: JOIN_SECRET,
  };
  const clients = await childClients(target);
  const settle = async () => {
    // Our peers leave on close (grace 0); let the room settle before the next block.
    const deadline = Date.now() + 10_000;
    while (room.peers.size > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  // Warm both paths before anything is recorded: V8 compiles the hot functions of a path only after it has
  // run for a while (on this process's one core, so compiling shows up as server CPU), and the concurrent
  // path has its own (batched writes, broadcasts to many peers). A server in service runs warm.
  await clients.run({ seq: 5 });
  for (let i = 0; i < 5; i++) await bareJoin(router, server, bareProducer.id);
  const warmOurs: number[] = [];
  const warmBare: number[] = [];
  const ready = (xs: Sample[]) => xs.map((s) => s.readyMs);
  const p50Of = (xs: Sample[]) => pct(50, ready(xs));
  for (let wave = 0; wave < WARMUP_WAVES; wave++) {
    warmOurs.push(p50Of(await clients.run({ conc: CONC })));
    await settle();
    warmBare.push(
      p50Of(await Promise.all(Array.from({ length: CONC }, () => bareJoin(router, server, bareProducer.id)))),
    );
  }
  await settle();

  clients.cpu.us = 0;
  clients.cpu.joins = 0;
  const oursSeq: Sample[] = [];
  const bareSeq: Sample[] = [];
  const oursConc: Sample[] = [];
  const oursWaveP50: number[] = [];
  const bareConc: Sample[] = [];
  // CPU of this process (server side, main thread and its helpers) and of each worker, per path, so the
  // figures can be compared per join whatever the clients' speed.
  const oursWorkerPid = ours.host.pool.workers[0]!.pid;
  // Per path and per phase: a sequential join and a join among 20 simultaneous ones cost differently (the
  // latter share batched database writes and broadcasts), so each is reported apart.
  // Context switches of this process's main thread and of the worker's (voluntary + involuntary).
  const meter = () => ({ node: 0, sys: 0, worker: 0, joins: 0, switches: 0, workerSwitches: 0 });
  const switches = (pid: number) => {
    const t = readFileSync(`/proc/${pid}/status`, "utf8");
    return (
      Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(t)?.[1]) +
      Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(t)?.[1])
    );
  };
  const cpu = { ours: meter(), bare: meter(), oursSeq: meter(), bareSeq: meter() };
  const metered = async <T>(
    path: "ours" | "bare",
    joins: number,
    run: () => Promise<T>,
    phase: "seq" | "conc" = "conc",
  ): Promise<T> => {
    const pid = path === "ours" ? oursWorkerPid : worker.pid;
    const n0 = process.cpuUsage();
    const w0 = threadsCpuNs(pid);
    const s0 = switches(process.pid);
    const sw0 = switches(pid);
    const out = await run();
    const n = process.cpuUsage(n0);
    const m = cpu[phase === "seq" ? (`${path}Seq` as const) : path];
    m.node += (n.user + n.system) / 1000;
    m.sys += n.system / 1000;
    m.switches += switches(process.pid) - s0;
    m.workerSwitches += switches(pid) - sw0;
    m.worker += (threadsCpuNs(pid) - w0) / 1e6;
    m.joins += joins;
    return out;
  };
  // Alternate in blocks of ten so drifting machine load lands on both.
  for (let block = 0; block < SEQ / 10; block++) {
    await metered(
      "ours",
      10,
      async () => {
        oursSeq.push(...(await clients.run({ seq: 10 })));
        await settle();
      },
      "seq",
    );
    await metered(
      "bare",
      10,
      async () => {
        for (let i = 0; i < 10; i++) bareSeq.push(await bareJoin(router, server, bareProducer.id));
      },
      "seq",
    );
  }
  const bareWave = () =>
    metered("bare", CONC, async () => {
      bareConc.push(
        ...(await Promise.all(Array.from({ length: CONC }, () => bareJoin(router, server, bareProducer.id)))),
      );
    });
  const profiler = PROFILE ? await startProfiler("join-concurrent") : null;
  for (let wave = 0; wave < WAVES; wave++) {
    // The wave's leaves (on socket close) are counted with it: settle() waits for them.
    await metered("ours", CONC, async () => {
      const samples = await clients.run({ conc: CONC });
      oursConc.push(...samples);
      oursWaveP50.push(p50Of(samples));
      await settle();
    });
    if (!profiler) await bareWave();
  }
  if (profiler) {
    const report = await profiler.stop(oursConc.length);
    const bareProfiler = await startProfiler("join-concurrent-bare");
    for (let wave = 0; wave < WAVES; wave++) await bareWave();
    const bareReport = await bareProfiler.stop(bareConc.length);
    console.log(report);
    console.log(bareReport);
  }
  await clients.close();

  console.log(`\n${loadLine()}`);
  console.log("| path | joins | p50 ms | p99 ms | max ms |");
  console.log("| --- | --- | --- | --- | --- |");
  const rows: [string, number[]][] = [
    [`ours, ${SEQ} sequential: join-meeting -> consumer resumed`, ready(oursSeq)],
    ["  of which join-meeting ack", oursSeq.map((s) => s.joinAckMs)],
    ["  WebSocket upgrade (token, meeting lookup) before it", oursSeq.map((s) => s.connectMs)],
    [`bare mediasoup in-process, ${SEQ} sequential: transport+consume+resume`, ready(bareSeq)],
    [`ours, ${CONC} concurrent x ${WAVES} waves: join-meeting -> consumer resumed`, ready(oursConc)],
    ["  of which join-meeting ack", oursConc.map((s) => s.joinAckMs)],
    ["  WebSocket upgrade before it", oursConc.map((s) => s.connectMs)],
    [`bare mediasoup in-process, ${CONC} concurrent x ${WAVES}`, ready(bareConc)],
  ];
  for (const [label, xs] of rows) console.log(line(label, xs));
  const ratio = (o: Sample[], b: Sample[]) => (p50Of(o) / p50Of(b)).toFixed(2);
  console.log(
    `p50 ratio ours/bare: sequential ${ratio(oursSeq, bareSeq)}, concurrent ${ratio(oursConc, bareConc)}`,
  );
  console.log(`ours, p50 of each concurrent wave (ms): ${oursWaveP50.map((x) => x.toFixed(1)).join(", ")}`);
  const firstLast = (xs: number[]) => {
    const f = (ys: number[]) => ys.map((x) => x.toFixed(1)).join(", ");
    return xs.length <= 10 ? f(xs) : `${f(xs.slice(0, 5))} ... ${f(xs.slice(-5))}`;
  };
  if (warmOurs.length) {
    console.log(
      `warm-up waves (unrecorded), p50 of each (ms): ours ${firstLast(warmOurs)}; bare ${firstLast(warmBare)}`,
    );
  }
  const per = (x: number, joins: number) => (joins ? ((x / joins) * 1000).toFixed(0) : "-");
  const ratioOf = (x: number, joins: number) => (joins ? (x / joins).toFixed(1) : "-");
  const cpuLine = (label: string, o: ReturnType<typeof meter>, b: ReturnType<typeof meter>) =>
    `CPU per join, ${label} (µs): ours node ${per(o.node, o.joins)} (system ${per(o.sys, o.joins)}) + worker ${per(o.worker, o.joins)}; ` +
    `bare node ${per(b.node, b.joins)} (system ${per(b.sys, b.joins)}) + worker ${per(b.worker, b.joins)}` +
    `; context switches per join: ours ${ratioOf(o.switches, o.joins)} (worker ${ratioOf(o.workerSwitches, o.joins)}), ` +
    `bare ${ratioOf(b.switches, b.joins)} (worker ${ratioOf(b.workerSwitches, b.joins)})`;
  console.log(cpuLine("sequential", cpu.oursSeq, cpu.bareSeq));
  console.log(cpuLine("concurrent", cpu.ours, cpu.bare));
  console.log(
    `client process CPU per concurrent join (signing its token included): ${per(clients.cpu.us / 1000, clients.cpu.joins)} µs`,
  );
  worker.close();
  await ours.close();
  await pg.stop();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
