/**
 * The capacity search: runs one shape at growing sizes against one service until a quality limit breaks,
 * and says which limit broke first (the SFU's, or the generator's own when the generator could not keep up).
 */
import { type LoadOptions, type Report, runLoad, startService, stopService } from "./run.js";

export interface Limits {
  /** Largest acceptable loss fraction (default 0.01). */
  maxLoss: number;
  /** Largest acceptable join p99 in ms (default 1000). */
  maxJoinP99Ms: number;
  /** Largest acceptable SFU CPU as a fraction of its cores (default 0.85). */
  maxSfuCpuFraction: number;
}

export const DEFAULT_LIMITS: Limits = { maxLoss: 0.01, maxJoinP99Ms: 1000, maxSfuCpuFraction: 0.85 };

export interface CapacityOptions {
  /**
   * "meetings": meetings of meetingSize people, everyone publishing and receiving everyone else, stepped by
   * adding meetings (2 = 1:1 calls, 10, 50, ...). "webinar": one meeting, one publisher, stepped by adding
   * receive-only subscribers (startMeetings and stepMeetings then count subscribers).
   */
  shape?: "meetings" | "webinar";
  /** People per meeting; everyone publishes and receives everyone else (default 10). */
  meetingSize: number;
  /** Meetings in the first step, and how many each step adds (defaults 1 and 1). */
  startMeetings: number;
  stepMeetings: number;
  maxSteps: number;
  duration: number;
  videoKbps: number;
  /** mediasoup workers (= cores the SFU may use) of the service the search starts (default 1). */
  workers: number;
  /** Participants joining at once in each step (default 8, as in npm run load). */
  joinConcurrency?: number;
  url?: string;
  sfuPid?: number;
  jwtSecret?: string;
  limits?: Partial<Limits>;
  onStep?: (step: StepResult) => void;
  onLog?: (line: string) => void;
  onSample?: LoadOptions["onSample"];
  clipDir?: string;
}

export interface StepResult {
  meetings: number;
  participants: number;
  /** Outbound packets/s the SFU sent (its own counters over the media seconds). */
  outboundPacketsPerSec: number;
  lossFraction: number;
  joinP99Ms: number;
  joinFailed: number;
  sfuCpuPct: number | null;
  sfuRssMb: number | null;
  genCpuPct: number;
  genLoopP99MsMax: number;
  /** The limits this step broke, in words; empty when it passed. */
  broken: string[];
  /** Who the limit belongs to when one broke. */
  limitedBy: "sfu" | "generator" | null;
  report: Report;
}

export interface CapacityResult {
  shape: string;
  limits: Limits;
  steps: StepResult[];
  /** Largest step that passed; null when even the first broke. */
  largest: StepResult | null;
  /** Why the search stopped. */
  verdict: string;
}

export function judge(
  report: Report,
  limits: Limits,
  sfuCores: number,
): Omit<StepResult, "meetings" | "participants" | "report"> {
  const broken: string[] = [];
  let limitedBy: StepResult["limitedBy"] = null;
  const t = report.totals;
  if (report.generator.saturated) {
    broken.push(
      `generator saturated (event-loop lag p99 ${report.generator.loopP99MsMax.toFixed(0)} ms, ${report.generator.cpuPctAvg.toFixed(0)}% CPU)`,
    );
    limitedBy = "generator";
  }
  if (report.joins.ok === 0) broken.push("nobody joined");
  if (report.joins.failed > 0) {
    broken.push(`${report.joins.failed} join(s) failed: ${report.joins.errors[0] ?? ""}`);
  }
  if (t.lossFraction > limits.maxLoss) {
    // On loopback, what the SFU counted as sent but the receivers never read was dropped at the receivers'
    // sockets: the generator's side.
    const where =
      t.egressLossFraction > t.ingressLossFraction
        ? "mostly between the SFU and the receivers (the generator's sockets)"
        : "mostly between the publishers and the SFU (the SFU's ingress)";
    broken.push(
      `loss ${(t.lossFraction * 100).toFixed(2)}% > ${limits.maxLoss * 100}%, ${where}; UDP receive-buffer overflows: ${t.udpRcvbufErrors ?? "-"} (at the SFU's sockets: ${t.sfuSocketDrops ?? "-"})`,
    );
    if (t.egressLossFraction > t.ingressLossFraction) limitedBy = "generator";
  }
  if (report.joins.p99Ms > limits.maxJoinP99Ms) {
    const ph = report.joins.phases;
    broken.push(
      `join p99 ${report.joins.p99Ms.toFixed(0)} ms > ${limits.maxJoinP99Ms} ms (p99 of its parts: REST ${ph.rest.p99Ms.toFixed(0)}, socket ${ph.socket.p99Ms.toFixed(0)}, join-meeting ${ph.signal.p99Ms.toFixed(0)}, media setup ${ph.media.p99Ms.toFixed(0)} ms)`,
    );
  }
  const cpu = report.sfu.cpuPctAvg;
  if (cpu !== null && cpu > limits.maxSfuCpuFraction * 100 * sfuCores) {
    broken.push(
      `SFU CPU ${cpu.toFixed(0)}% > ${(limits.maxSfuCpuFraction * 100 * sfuCores).toFixed(0)}% (${sfuCores} core(s))`,
    );
  }
  if (broken.length > 0 && limitedBy === null) limitedBy = "sfu";
  return {
    outboundPacketsPerSec: t.outboundPacketsPerSec,
    lossFraction: t.lossFraction,
    joinP99Ms: report.joins.p99Ms,
    joinFailed: report.joins.failed,
    sfuCpuPct: cpu,
    sfuRssMb: report.sfu.rssMbMax,
    genCpuPct: report.generator.cpuPctAvg,
    genLoopP99MsMax: report.generator.loopP99MsMax,
    broken,
    limitedBy,
  };
}

export async function runCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.onLog ?? (() => {});
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let url = options.url;
  let sfuPid = options.sfuPid;
  if (!url) {
    log(`starting the one-process service (${options.workers} mediasoup worker(s))`);
    service = await startService(options.workers);
    url = service.url;
    sfuPid = service.pid;
  }
  const steps: StepResult[] = [];
  const webinar = options.shape === "webinar";
  const shape = webinar
    ? `a webinar: 1 publisher (VP8 ${options.videoKbps} kbit/s + Opus) to N receive-only subscribers`
    : `${options.meetingSize}-person meetings (everyone publishes VP8 ${options.videoKbps} kbit/s + Opus and receives everyone else)`;
  let verdict = `no limit broke within ${options.maxSteps} step(s)`;
  try {
    for (let i = 0; i < options.maxSteps; i++) {
      const size = options.startMeetings + i * options.stepMeetings;
      const meetings = webinar ? 1 : size;
      log(`step ${i + 1}: ${webinar ? `${size} subscribers in ${shape}` : `${meetings} x ${shape}`}`);
      const report = await runLoad({
        url,
        sfuPid,
        jwtSecret: options.jwtSecret,
        allowRemote: options.url !== undefined,
        meetings,
        publishers: webinar ? 1 : options.meetingSize,
        subscribers: webinar ? size : 0,
        publishersReceive: !webinar,
        duration: options.duration,
        videoKbps: options.videoKbps,
        workers: options.workers,
        joinConcurrency: options.joinConcurrency,
        onSample: options.onSample,
        clipDir: options.clipDir,
      });
      const step: StepResult = {
        meetings,
        participants: webinar ? size + 1 : meetings * options.meetingSize,
        ...judge(report, limits, options.workers),
        report,
      };
      steps.push(step);
      options.onStep?.(step);
      if (step.broken.length > 0) {
        verdict =
          step.limitedBy === "generator"
            ? `the generator, not the SFU, is the limit at ${meetings} meeting(s): ${step.broken.join("; ")}`
            : `the SFU's limit broke at ${meetings} meeting(s): ${step.broken.join("; ")}`;
        break;
      }
    }
  } finally {
    if (service) await stopService(service.child);
  }
  const passed = steps.filter((s) => s.broken.length === 0);
  return { shape, limits, steps, largest: passed.at(-1) ?? null, verdict };
}

export function stepLine(s: StepResult): string {
  return [
    `${String(s.meetings).padStart(3)} meeting(s) ${String(s.participants).padStart(4)} people`,
    `out ${s.outboundPacketsPerSec.toFixed(0).padStart(6)} pkt/s`,
    `loss ${(s.lossFraction * 100).toFixed(2)}%`,
    `join p99 ${s.joinP99Ms.toFixed(0)} ms`,
    `SFU ${s.sfuCpuPct === null ? "-" : s.sfuCpuPct.toFixed(0)}% CPU ${s.sfuRssMb === null ? "-" : s.sfuRssMb.toFixed(0)} MB`,
    `gen ${s.genCpuPct.toFixed(0)}% CPU lag ${s.genLoopP99MsMax.toFixed(0)} ms`,
    `load avg ${s.report.machine.loadAvgEnd.toFixed(1)}`,
    s.broken.length ? `BROKE: ${s.broken.join("; ")}` : "ok",
  ].join(" | ");
}
