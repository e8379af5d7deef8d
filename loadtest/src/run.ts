/**
 * One load run: M meetings, each with P publishers (pre-encoded VP8 + Opus over real WebRTC) and S
 * receive-only subscribers (optionally the publishers receive each other too, as in a real meeting). Everyone
 * joins first (join latency measured per participant: REST join to media transports connected), then every
 * publisher sends exactly `duration` seconds of the clip, then the run drains, reads the SFU's own per-consumer
 * counters and reports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { SignalingClient } from "@nexus/shared/signaling/client";
import {
  type AuthOptions,
  createMeeting,
  endMeeting,
  type Joined,
  joinMeeting,
  userToken,
} from "./client.js";
import { type Clip, loadClip, packetsIn } from "./clip.js";
import {
  Pacer,
  type ProducerRef,
  type Subscription,
  startPublisher,
  startSubscriber,
} from "./participant.js";
import { processTree, sampleProcesses, selfSample } from "./proc.js";
import type { RtcSender } from "./rtc.js";

export interface LoadOptions {
  meetings: number;
  publishers: number;
  subscribers: number;
  /** Seconds of media each publisher sends. */
  duration: number;
  videoKbps: number;
  /** Publishers also receive every other publisher of their meeting. */
  publishersReceive?: boolean;
  /** A running deployment; without it the tester starts the one-process service on free ports. */
  url?: string;
  /** Allow a non-loopback --url (the caller named it explicitly). */
  allowRemote?: boolean;
  jwtSecret?: string;
  tenant?: string;
  /** mediasoup workers of the service the tester starts (default 1). */
  workers?: number;
  /** Pid of a local SFU started elsewhere, to read its CPU and RSS. */
  sfuPid?: number;
  /** Participants joining at once (default 8). */
  joinConcurrency?: number;
  /** Called with each one-second sample (the CLI prints a progress line from it). */
  onSample?: (s: Sample) => void;
  onLog?: (line: string) => void;
  clipDir?: string;
}

export interface Sample {
  t: number;
  phase: "join" | "media" | "drain";
  joined: number;
  joinFailed: number;
  joinP50Ms: number | null;
  joinP99Ms: number | null;
  /** Per second over the last interval. */
  pktOutPerSec: number;
  pktInPerSec: number;
  mbpsOut: number;
  mbpsIn: number;
  /** Receivers' sequence gaps / expected, cumulative. */
  lossFraction: number;
  nacks: number;
  plis: number;
  /** Signaling request round trip (ms), median of this interval's probes. */
  signalingRttMs: number | null;
  /** Media RTT the SFU computes from receivers' RTCP (ms), median of sampled consumers; null if none. */
  mediaRttMs: number | null;
  sfuCpuPct: number | null;
  sfuRssMb: number | null;
  genCpuPct: number;
  genRssMb: number;
  /** Event-loop delay p99 of the generator (ms): large means the generator itself is saturated. */
  genLoopP99Ms: number;
}

export interface Report {
  options: Omit<LoadOptions, "onSample" | "onLog" | "jwtSecret">;
  url: string;
  startedAt: string;
  clip: { videoKbps: number; videoPacketsPerSec: number; audioPacketsPerSec: number; loopSeconds: number };
  joins: {
    ok: number;
    failed: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    errors: string[];
    /** p50 / p99 of each part of a join (ms): REST join, socket open, join-meeting answer, media setup. */
    phases: Record<"rest" | "socket" | "signal" | "media", { p50Ms: number; p99Ms: number }>;
  };
  totals: {
    publisherSentPackets: number;
    publisherSentBytes: number;
    /** From the clip: what each publisher must have sent. */
    expectedPerPublisherPackets: number;
    /** Sum over receivers of what their consumers' publishers sent (known load). */
    expectedReceivedPackets: number;
    receivedPackets: number;
    receivedBytes: number;
    /** The SFU's own counters (consumer outbound-rtp packetCount / byteCount), summed. */
    sfuSentPackets: number;
    sfuSentBytes: number;
    /** The SFU's producer inbound counters, summed. */
    sfuReceivedPackets: number;
    lossFraction: number;
    /** Lost between the publishers and the SFU: 1 - SFU received / publishers sent. */
    ingressLossFraction: number;
    /** Lost between the SFU and the receivers: 1 - receivers got / SFU sent. */
    egressLossFraction: number;
    /**
     * This machine's UDP receive-buffer overflows while the media flowed (/proc/net/snmp RcvbufErrors, every
     * process on the host): a socket that was not read fast enough dropped that many datagrams.
     */
    udpRcvbufErrors: number | null;
    /** Of those, the ones dropped at the SFU's own UDP sockets (its WebRtcServer ports), when it runs here. */
    sfuSocketDrops: number | null;
    /** NACKs / PLIs the SFU received from receivers (consumer stats) and sent to publishers (counted here). */
    receiverNacks: number;
    receiverPlis: number;
    publisherNacks: number;
    publisherPlis: number;
    mediaSeconds: number;
    outboundPacketsPerSec: number;
  };
  sfu: {
    cpuPctAvg: number | null;
    cpuPctMax: number | null;
    rssMbMax: number | null;
    cpuSecondsPerMillionPackets: number | null;
  };
  generator: {
    cpuPctAvg: number;
    cpuPctMax: number;
    rssMbMax: number;
    loopP99MsMax: number;
    saturated: boolean;
  };
  /** The machine the generator ran on: other load on it (load average) makes every figure worse. */
  machine: { cores: number; loadAvgStart: number; loadAvgEnd: number };
  samples: Sample[];
}

/**
 * Datagrams the kernel dropped at these local UDP ports because their socket's receive buffer was full
 * (/proc/net/udp "drops"; IPv4 and IPv6). Only sockets on this machine are seen: null when none matched.
 */
function socketDrops(ports: Set<number>): number | null {
  let drops = 0;
  let seen = false;
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local) continue;
      const port = Number.parseInt(local.split(":").at(-1) ?? "", 16);
      if (!ports.has(port)) continue;
      seen = true;
      drops += Number(f.at(-1) ?? 0);
    }
  }
  return seen ? drops : null;
}

/** The kernel's UDP counters (Linux); null elsewhere. */
function udpCounters(): { rcvbufErrors: number } | null {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8")
      .split("\n")
      .filter((l) => l.startsWith("Udp:"));
    const names = (lines[0] ?? "").split(/\s+/);
    const values = (lines[1] ?? "").split(/\s+/);
    return { rcvbufErrors: Number(values[names.indexOf("RcvbufErrors")] ?? 0) };
  } catch {
    return null;
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** The tester sends real load: refuse anything but this machine unless the URL was given on purpose. */
export function checkTarget(url: string, explicit: boolean): void {
  const u = new URL(url);
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new Error(`--url must be http(s), got ${u.protocol}`);
  if (!LOOPBACK.has(u.hostname) && !explicit) {
    throw new Error(`refusing to load ${u.hostname}: only loopback unless --url names the host explicitly`);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

const median = (xs: number[]): number | null =>
  xs.length
    ? percentile(
        [...xs].sort((a, b) => a - b),
        50,
      )
    : null;

/** Starts serve.ts in a child process; resolves with its URL and pid. */
export function startService(workers: number): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const entry = fileURLToPath(new URL("./serve.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, LOADTEST_WORKERS: String(workers) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the service did not start within 180 s"));
    }, 180_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      try {
        const { url, pid } = JSON.parse(line) as { url: string; pid: number };
        resolve({ url, pid, child });
      } catch (error) {
        reject(error);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited ${code} before it listened`));
    });
  });
}

export function stopService(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

interface Member {
  meeting: number;
  index: number;
  publisher: boolean;
  joined?: Joined;
  sender?: RtcSender;
  producers: ProducerRef[];
  sub?: Subscription;
  sfuUdpPorts?: number[];
  joinMs?: number;
  joinStart: number;
  /** ms spent setting up media (transports, ICE + DTLS, produce / consume), publishing and receiving. */
  mediaSetupMs: number;
}

function joinPhases(done: Member[]): Report["joins"]["phases"] {
  const of = (pick: (m: Member) => number) => {
    const xs = done.map(pick).sort((a, b) => a - b);
    return { p50Ms: percentile(xs, 50), p99Ms: percentile(xs, 99) };
  };
  return {
    rest: of((m) => m.joined?.phases.rest ?? 0),
    socket: of((m) => m.joined?.phases.socket ?? 0),
    signal: of((m) => m.joined?.phases.signal ?? 0),
    media: of((m) => m.mediaSetupMs),
  };
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  const n = Number.isInteger(concurrency) && concurrency > 0 ? Math.min(concurrency, items.length) : 1;
  await Promise.all(Array.from({ length: n }, worker));
}

export async function runLoad(options: LoadOptions): Promise<Report> {
  const log = options.onLog ?? (() => {});
  // An option passed as undefined keeps its default.
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as LoadOptions;
  const o = { tenant: "loadtest", workers: 1, joinConcurrency: 8, publishersReceive: false, ...given };
  for (const [name, value, min] of [
    ["meetings", o.meetings, 1],
    ["publishers", o.publishers, 1],
    ["subscribers", o.subscribers, 0],
    ["duration", o.duration, 1],
    ["video-kbps", o.videoKbps, 50],
    ["workers", o.workers, 1],
    ["join-concurrency", o.joinConcurrency, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`--${name} must be a whole number >= ${min} (got ${value})`);
    }
  }
  if (o.videoKbps > 8000) throw new Error(`--video-kbps must be at most 8000 (got ${o.videoKbps})`);
  if (o.url) checkTarget(o.url, o.allowRemote ?? false);
  const clip: Clip = await loadClip(o.videoKbps, o.clipDir);

  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let url = o.url;
  let sfuPid = o.sfuPid;
  if (!url) {
    log(`starting the one-process service (${o.workers} mediasoup worker${o.workers === 1 ? "" : "s"})`);
    service = await startService(o.workers);
    url = service.url;
    sfuPid = service.pid;
  }
  const auth: AuthOptions = { url: url.replace(/\/$/, ""), tenant: o.tenant, jwtSecret: o.jwtSecret };
  const runId = Math.random().toString(36).slice(2, 8);
  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg()[0] as number;
  const t0 = performance.now();
  const members: Member[] = [];
  const meetingIds: { id: string; hostToken: string }[] = [];
  const joinTimes: number[] = [];
  const joinErrors: string[] = [];
  let joinFailed = 0;
  const pacer = new Pacer(clip, o.duration);
  const samples: Sample[] = [];
  let phase: Sample["phase"] = "join";
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  // --- sampling, once a second ---
  let sfuPids = sfuPid ? processTree(sfuPid) : [];
  let lastSfu = sfuPids.length ? sampleProcesses(sfuPids) : null;
  let lastSelf = selfSample();
  let lastAt = performance.now();
  let lastOut = { p: 0, b: 0 };
  let lastIn = { p: 0, b: 0 };
  let rttProbes: number[] = [];
  let mediaRtts: number[] = [];
  const received = () => {
    let p = 0;
    let b = 0;
    let expected = 0;
    for (const m of members) {
      if (!m.sub) continue;
      const t = m.sub.receiver.totals();
      p += t.packets;
      b += t.bytes;
      expected += t.expected;
    }
    return { p, b, expected };
  };
  const feedback = () => {
    let nacks = 0;
    let plis = 0;
    for (const m of members) {
      if (!m.sender) continue;
      nacks += m.sender.tracks.feedback.nacks;
      plis += m.sender.tracks.feedback.plis + m.sender.tracks.feedback.firs;
    }
    return { nacks, plis };
  };
  const probe = async () => {
    // A cheap signaling round trip, and the SFU's media RTT of a few video consumers.
    const subs = members.filter((m) => m.sub && m.joined);
    for (const m of subs.slice(0, 4)) {
      const client = m.joined?.client as SignalingClient;
      const c = m.sub?.consumers.find((x) => x.kind === "video");
      if (!c) continue;
      const at = performance.now();
      try {
        const { stats } = await client.request("get-stats", { target: "consumer", id: c.consumerId });
        rttProbes.push(performance.now() - at);
        for (const s of stats as { type?: string; roundTripTime?: number }[]) {
          if (s.type === "outbound-rtp" && s.roundTripTime) mediaRtts.push(s.roundTripTime);
        }
      } catch {}
    }
  };
  const sampleNow = () => {
    const now = performance.now();
    const dt = (now - lastAt) / 1000;
    const self = selfSample();
    let sfuCpuPct: number | null = null;
    let sfuRssMb: number | null = null;
    if (sfuPid) {
      sfuPids = processTree(sfuPid);
      const s = sampleProcesses(sfuPids);
      if (lastSfu) sfuCpuPct = ((s.cpuSeconds - lastSfu.cpuSeconds) / dt) * 100;
      sfuRssMb = s.rssBytes / 2 ** 20;
      lastSfu = s;
    }
    const out = { p: pacer.sentPackets, b: pacer.sentBytes };
    const inn = received();
    const sorted = [...joinTimes].sort((a, b) => a - b);
    const fb = feedback();
    const sample: Sample = {
      t: Math.round((now - t0) / 100) / 10,
      phase,
      joined: joinTimes.length,
      joinFailed,
      joinP50Ms: sorted.length ? percentile(sorted, 50) : null,
      joinP99Ms: sorted.length ? percentile(sorted, 99) : null,
      pktOutPerSec: (out.p - lastOut.p) / dt,
      pktInPerSec: (inn.p - lastIn.p) / dt,
      mbpsOut: ((out.b - lastOut.b) * 8) / dt / 1e6,
      mbpsIn: ((inn.b - lastIn.b) * 8) / dt / 1e6,
      lossFraction: inn.expected > 0 ? Math.max(0, inn.expected - inn.p) / inn.expected : 0,
      nacks: fb.nacks,
      plis: fb.plis,
      signalingRttMs: median(rttProbes),
      mediaRttMs: median(mediaRtts),
      sfuCpuPct,
      sfuRssMb,
      genCpuPct: ((self.cpuSeconds - lastSelf.cpuSeconds) / dt) * 100,
      genRssMb: self.rssBytes / 2 ** 20,
      genLoopP99Ms: loop.percentile(99) / 1e6,
    };
    loop.reset();
    rttProbes = [];
    mediaRtts = [];
    lastAt = now;
    lastSelf = self;
    lastOut = out;
    lastIn = inn;
    samples.push(sample);
    options.onSample?.(sample);
    void probe();
  };
  const ticker = setInterval(sampleNow, 1000);

  try {
    // --- meetings ---
    for (let m = 0; m < o.meetings; m++) {
      const hostToken = await userToken(auth, `load-${runId}-m${m}-p0`, "host", `m${m} p0`);
      const perMeeting = o.publishers + o.subscribers;
      const meeting = await createMeeting(auth, hostToken, `load ${runId} #${m}`, perMeeting + 1);
      meetingIds.push({ id: meeting.id, hostToken });
      for (let i = 0; i < perMeeting; i++) {
        members.push({
          meeting: m,
          index: i,
          publisher: i < o.publishers,
          producers: [],
          joinStart: 0,
          mediaSetupMs: 0,
        });
      }
    }
    log(`${o.meetings} meeting(s) created; joining ${members.length} participants`);

    const setup = async (m: Member, work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        joinFailed++;
        if (joinErrors.length < 10) joinErrors.push(`m${m.meeting}#${m.index}: ${(error as Error).message}`);
      }
    };
    const join = async (m: Member) => {
      m.joinStart = performance.now();
      const role = m.publisher && m.index === 0 ? "host" : "member";
      const sub = `load-${runId}-m${m.meeting}-${m.publisher ? "p" : "s"}${m.index}`;
      const token =
        role === "host"
          ? (meetingIds[m.meeting]?.hostToken as string)
          : await userToken(auth, sub, role, sub);
      m.joined = await joinMeeting(auth, token, meetingIds[m.meeting]?.id as string, sub);
    };
    // Publishers first, so every subscriber's one offer holds all of its meeting's producers.
    const publishers = members.filter((m) => m.publisher);
    await pool(publishers, o.joinConcurrency, (m) =>
      setup(m, async () => {
        await join(m);
        const mediaStart = performance.now();
        const started = await startPublisher(
          m.joined?.client as SignalingClient,
          `m${m.meeting}p${m.index}`,
          100_000 + (m.meeting * 1000 + m.index) * 2,
        );
        m.mediaSetupMs += performance.now() - mediaStart;
        m.sender = started.sender;
        m.producers = started.producers;
        m.sfuUdpPorts = started.sfuUdpPorts;
        m.joinMs = performance.now() - m.joinStart;
        if (!o.publishersReceive) joinTimes.push(m.joinMs);
      }),
    );
    const producersOf = (meeting: number, except: Member) =>
      members.filter((x) => x.meeting === meeting && x.publisher && x !== except).flatMap((x) => x.producers);
    const receivers = members.filter((m) => !m.publisher || (o.publishersReceive && m.sender));
    await pool(receivers, o.joinConcurrency, (m) =>
      setup(m, async () => {
        // A publisher that also receives: its join is its publishing setup plus its receiving setup, not the
        // time it waited for the other publishers in between.
        const already = m.joinMs ?? 0;
        const subscribeStart = performance.now();
        if (!m.joined) await join(m);
        const joined = m.joined as Joined;
        const mediaStart = performance.now();
        m.sub = await startSubscriber(
          joined.client,
          joined.ack,
          `m${m.meeting}r${m.index}`,
          producersOf(m.meeting, m),
        );
        m.mediaSetupMs += performance.now() - mediaStart;
        m.joinMs = already + (performance.now() - subscribeStart);
        joinTimes.push(m.joinMs);
      }),
    );
    log(`${joinTimes.length} joined, ${joinFailed} failed; sending ${o.duration} s of media`);

    // --- media ---
    phase = "media";
    const mediaStart = { at: performance.now(), sfu: sfuPid ? sampleProcesses(processTree(sfuPid)) : null };
    const udpBefore = udpCounters();
    const sfuPorts = new Set<number>();
    for (const m of members) {
      for (const p of [...(m.sfuUdpPorts ?? []), ...(m.sub?.sfuUdpPorts ?? [])]) sfuPorts.add(p);
    }
    const sfuDropsBefore = socketDrops(sfuPorts);
    // Starts spread over one key-frame interval (the clip has one key frame a second).
    const senders = members.filter((m) => m.sender);
    for (const [i, m] of senders.entries()) {
      pacer.add(m.sender as RtcSender, Math.round((i * 1000) / senders.length));
    }
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (pacer.finished || !members.some((m) => m.sender)) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    pacer.stop();
    const mediaEnd = { at: performance.now(), sfu: sfuPid ? sampleProcesses(processTree(sfuPid)) : null };
    const udpAfter = udpCounters();
    const sfuDropsAfter = socketDrops(sfuPorts);

    // --- drain: wait until the receivers' counts stop moving ---
    phase = "drain";
    let prev = -1;
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const now = received().p;
      if (now === prev) break;
      prev = now;
    }
    clearInterval(ticker);
    sampleNow();

    // --- the SFU's own counters ---
    let sfuSentPackets = 0;
    let sfuSentBytes = 0;
    let receiverNacks = 0;
    let receiverPlis = 0;
    let sfuReceivedPackets = 0;
    let expectedReceivedPackets = 0;
    const perPublisher = packetsIn(clip, o.duration);
    const sentBy = new Map<string, number>();
    for (const m of members) {
      if (!m.sender) continue;
      for (const p of m.producers)
        sentBy.set(p.producerId, p.kind === "video" ? perPublisher.video : perPublisher.audio);
    }
    await pool(
      members.filter((m) => m.sub),
      8,
      async (m) => {
        const client = m.joined?.client as SignalingClient;
        for (const c of m.sub?.consumers ?? []) {
          expectedReceivedPackets += sentBy.get(c.producerId) ?? 0;
          try {
            const { stats } = await client.request("get-stats", { target: "consumer", id: c.consumerId });
            for (const s of stats as Record<string, number | string>[]) {
              if (s.type !== "outbound-rtp") continue;
              sfuSentPackets += Number(s.packetCount ?? 0);
              sfuSentBytes += Number(s.byteCount ?? 0);
              receiverNacks += Number(s.nackCount ?? 0);
              receiverPlis += Number(s.pliCount ?? 0) + Number(s.firCount ?? 0);
            }
          } catch {}
        }
      },
    );
    await pool(
      members.filter((m) => m.sender),
      8,
      async (m) => {
        const client = m.joined?.client as SignalingClient;
        for (const p of m.producers) {
          try {
            const { stats } = await client.request("get-stats", { target: "producer", id: p.producerId });
            for (const s of stats as Record<string, number | string>[]) {
              if (s.type === "inbound-rtp") sfuReceivedPackets += Number(s.packetCount ?? 0);
            }
          } catch {}
        }
      },
    );

    const inn = received();
    const fb = feedback();
    const sorted = [...joinTimes].sort((a, b) => a - b);
    const media = samples.filter((s) => s.phase === "media");
    const sfuCpus = media.map((s) => s.sfuCpuPct).filter((x): x is number => x !== null);
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    const mediaSeconds = o.duration;
    // CPU-seconds the SFU (host process and its workers) spent while the media flowed.
    const sfuCpuSeconds =
      mediaStart.sfu && mediaEnd.sfu ? mediaEnd.sfu.cpuSeconds - mediaStart.sfu.cpuSeconds : null;
    const mediaWall = (mediaEnd.at - mediaStart.at) / 1000;
    const loopMax = Math.max(0, ...media.map((s) => s.genLoopP99Ms));
    const genCpus = media.map((s) => s.genCpuPct);
    const report: Report = {
      options: {
        meetings: o.meetings,
        publishers: o.publishers,
        subscribers: o.subscribers,
        duration: o.duration,
        videoKbps: o.videoKbps,
        publishersReceive: o.publishersReceive,
        url: o.url,
        tenant: o.tenant,
        workers: o.workers,
        joinConcurrency: o.joinConcurrency,
      },
      url: auth.url,
      startedAt,
      clip: {
        videoKbps: clip.videoKbps,
        videoPacketsPerSec: clip.video.length / clip.seconds,
        audioPacketsPerSec: clip.audio.length / clip.seconds,
        loopSeconds: clip.seconds,
      },
      joins: {
        ok: joinTimes.length,
        failed: joinFailed,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1) ?? 0,
        errors: joinErrors,
        phases: joinPhases(members.filter((m) => m.joinMs !== undefined && m.joined)),
      },
      totals: {
        publisherSentPackets: pacer.sentPackets,
        publisherSentBytes: pacer.sentBytes,
        expectedPerPublisherPackets: perPublisher.video + perPublisher.audio,
        expectedReceivedPackets,
        receivedPackets: inn.p,
        receivedBytes: inn.b,
        sfuSentPackets,
        sfuSentBytes,
        sfuReceivedPackets,
        lossFraction:
          expectedReceivedPackets > 0
            ? Math.max(0, expectedReceivedPackets - inn.p) / expectedReceivedPackets
            : 0,
        ingressLossFraction:
          pacer.sentPackets > 0 ? Math.max(0, pacer.sentPackets - sfuReceivedPackets) / pacer.sentPackets : 0,
        egressLossFraction: sfuSentPackets > 0 ? Math.max(0, sfuSentPackets - inn.p) / sfuSentPackets : 0,
        udpRcvbufErrors: udpBefore && udpAfter ? udpAfter.rcvbufErrors - udpBefore.rcvbufErrors : null,
        sfuSocketDrops:
          sfuDropsBefore !== null && sfuDropsAfter !== null ? sfuDropsAfter - sfuDropsBefore : null,
        receiverNacks,
        receiverPlis,
        publisherNacks: fb.nacks,
        publisherPlis: fb.plis,
        mediaSeconds,
        outboundPacketsPerSec: sfuSentPackets / mediaSeconds,
      },
      sfu: {
        cpuPctAvg: sfuCpuSeconds !== null && mediaWall > 0 ? (sfuCpuSeconds / mediaWall) * 100 : null,
        cpuPctMax: sfuCpus.length ? Math.max(...sfuCpus) : null,
        rssMbMax: sfuPid ? Math.max(0, ...samples.map((s) => s.sfuRssMb ?? 0)) : null,
        cpuSecondsPerMillionPackets:
          sfuCpuSeconds !== null && sfuSentPackets > 0 ? sfuCpuSeconds / (sfuSentPackets / 1e6) : null,
      },
      generator: {
        cpuPctAvg: avg(genCpus),
        cpuPctMax: Math.max(0, ...genCpus),
        rssMbMax: Math.max(0, ...samples.map((s) => s.genRssMb)),
        loopP99MsMax: loopMax,
        // The pacer runs on the event loop: a loop that stalls for 100 ms cannot hold real-time pace.
        saturated: loopMax > 100 || pacer.refused > 0,
      },
      machine: { cores: availableParallelism(), loadAvgStart, loadAvgEnd: loadavg()[0] as number },
      samples,
    };
    return report;
  } finally {
    clearInterval(ticker);
    loop.disable();
    pacer.stop();
    for (const m of members) {
      m.sender?.close();
      m.sub?.receiver.close();
      try {
        m.joined?.client.close();
      } catch {}
    }
    for (const meeting of meetingIds) await endMeeting(auth, meeting.hostToken, meeting.id);
    if (service) await stopService(service.child);
  }
}
