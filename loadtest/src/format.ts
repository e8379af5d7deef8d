/** The progress line, the summary table and the CSV of a load run. */
import type { Report, Sample } from "./run.js";

const n = (x: number | null, digits = 0) => (x === null ? "-" : x.toFixed(digits));
const k = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));

export function progressLine(s: Sample): string {
  return [
    `[${s.t.toFixed(0).padStart(4)}s ${s.phase.padEnd(5)}]`,
    `joined ${s.joined}${s.joinFailed ? ` (${s.joinFailed} failed)` : ""} p50/p99 ${n(s.joinP50Ms)}/${n(s.joinP99Ms)} ms`,
    `out ${k(s.pktOutPerSec)} pkt/s ${s.mbpsOut.toFixed(1)} Mb/s`,
    `in ${k(s.pktInPerSec)} pkt/s ${s.mbpsIn.toFixed(1)} Mb/s`,
    `loss ${(s.lossFraction * 100).toFixed(2)}%`,
    `nack/pli ${s.nacks}/${s.plis}`,
    `rtt sig ${n(s.signalingRttMs, 1)} media ${n(s.mediaRttMs, 1)} ms`,
    `sfu ${n(s.sfuCpuPct)}% ${n(s.sfuRssMb)} MB`,
    `gen ${s.genCpuPct.toFixed(0)}% ${s.genRssMb.toFixed(0)} MB lag ${s.genLoopP99Ms.toFixed(0)} ms`,
  ].join(" | ");
}

export function summaryTable(r: Report): string {
  const o = r.options;
  const t = r.totals;
  const rows: [string, string][] = [
    [
      "shape",
      `${o.meetings} meeting(s) x (${o.publishers} publishers + ${o.subscribers} subscribers)${o.publishersReceive ? ", publishers receive each other" : ""}`,
    ],
    [
      "clip",
      `VP8 ${r.clip.videoKbps} kbit/s (${r.clip.videoPacketsPerSec.toFixed(1)} pkt/s) + Opus (${r.clip.audioPacketsPerSec.toFixed(1)} pkt/s), ${t.mediaSeconds} s`,
    ],
    ["target", r.url],
    [
      "joins",
      `${r.joins.ok} ok, ${r.joins.failed} failed; p50 ${r.joins.p50Ms.toFixed(0)} ms, p99 ${r.joins.p99Ms.toFixed(0)} ms, max ${r.joins.maxMs.toFixed(0)} ms`,
    ],
    [
      "join parts p50/p99",
      (["rest", "socket", "signal", "media"] as const)
        .map((k) => `${k} ${r.joins.phases[k].p50Ms.toFixed(0)}/${r.joins.phases[k].p99Ms.toFixed(0)} ms`)
        .join(", "),
    ],
    [
      "publishers sent",
      `${t.publisherSentPackets} pkt (${(t.publisherSentBytes / 1e6).toFixed(1)} MB); clip says ${t.expectedPerPublisherPackets} each`,
    ],
    ["SFU received", `${t.sfuReceivedPackets} pkt (producer counters)`],
    [
      "SFU sent",
      `${t.sfuSentPackets} pkt (${(t.sfuSentBytes / 1e6).toFixed(1)} MB), ${t.outboundPacketsPerSec.toFixed(0)} pkt/s`,
    ],
    [
      "receivers got",
      `${t.receivedPackets} pkt (${(t.receivedBytes / 1e6).toFixed(1)} MB) of ${t.expectedReceivedPackets} expected`,
    ],
    [
      "loss",
      `${(t.lossFraction * 100).toFixed(3)}% (publishers -> SFU ${(t.ingressLossFraction * 100).toFixed(3)}%, SFU -> receivers ${(t.egressLossFraction * 100).toFixed(3)}%); UDP receive-buffer overflows on this machine meanwhile: ${t.udpRcvbufErrors ?? "-"}, at the SFU's sockets: ${t.sfuSocketDrops ?? "-"}`,
    ],
    [
      "NACK / PLI",
      `receivers -> SFU ${t.receiverNacks} / ${t.receiverPlis}; SFU -> publishers ${t.publisherNacks} / ${t.publisherPlis}`,
    ],
    [
      "SFU CPU",
      `${n(r.sfu.cpuPctAvg)}% avg, ${n(r.sfu.cpuPctMax)}% max (100% = one core); RSS max ${n(r.sfu.rssMbMax)} MB`,
    ],
    [
      "SFU CPU per Mpkt",
      r.sfu.cpuSecondsPerMillionPackets === null
        ? "-"
        : `${r.sfu.cpuSecondsPerMillionPackets.toFixed(2)} CPU-s per million outbound packets`,
    ],
    [
      "generator",
      `${r.generator.cpuPctAvg.toFixed(0)}% avg, ${r.generator.cpuPctMax.toFixed(0)}% max CPU; RSS max ${r.generator.rssMbMax.toFixed(0)} MB; loop lag p99 max ${r.generator.loopP99MsMax.toFixed(0)} ms${r.generator.saturated ? " (SATURATED)" : ""}`,
    ],
    [
      "machine",
      `${r.machine.cores} cores, load average ${r.machine.loadAvgStart.toFixed(1)} -> ${r.machine.loadAvgEnd.toFixed(1)} (other processes share these cores)`,
    ],
  ];
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${a.padEnd(w)}  ${b}`).join("\n");
}

export function samplesCsv(samples: Sample[]): string {
  const cols = Object.keys(samples[0] ?? {}) as (keyof Sample)[];
  const lines = [cols.join(",")];
  for (const s of samples) lines.push(cols.map((c) => (s[c] === null ? "" : String(s[c]))).join(","));
  return `${lines.join("\n")}\n`;
}
