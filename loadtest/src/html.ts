/** A self-contained HTML page of one load run: the summary table and SVG plots of packets, CPU and loss. */
import { summaryTable } from "./format.js";
import type { Report, Sample } from "./run.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Series {
  name: string;
  color: string;
  value: (s: Sample) => number | null;
}

function plot(title: string, unit: string, samples: Sample[], series: Series[], minTop = 1e-9): string {
  const W = 720;
  const H = 220;
  const pad = { l: 60, r: 10, t: 24, b: 30 };
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const values = samples.flatMap((s) => series.map((x) => x.value(s) ?? 0));
  const yMax = Math.max(minTop, ...values) * 1.1;
  const x = (t: number) => pad.l + (t / tMax) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / yMax) * (H - pad.t - pad.b);
  const lines = series
    .map((ser) => {
      const pts = samples
        .map((s) => [s.t, ser.value(s)] as const)
        .filter((p): p is readonly [number, number] => p[1] !== null)
        .map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`)
        .join(" ");
      return `<polyline fill="none" stroke="${ser.color}" stroke-width="2" points="${pts}"/>`;
    })
    .join("");
  const legend = series
    .map((ser, i) => `<text x="${pad.l + 10 + i * 170}" y="16" fill="${ser.color}">${esc(ser.name)}</text>`)
    .join("");
  const ticks = [0, 0.5, 1]
    .map((f) => {
      const v = yMax * f;
      const label = v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(v < 10 ? 2 : 0);
      return `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${label}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`;
    })
    .join("");
  const xTicks = [0, tMax / 2, tMax]
    .map((t) => `<text x="${x(t)}" y="${H - pad.b + 14}" text-anchor="middle">${t.toFixed(0)}</text>`)
    .join("");
  return `<h2>${esc(title)}</h2><svg class="plot" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-size="12">
${ticks}${xTicks}<text x="${W / 2}" y="${H - 6}" text-anchor="middle">seconds since start (${esc(unit)})</text>${legend}${lines}</svg>`;
}

export function htmlReport(r: Report): string {
  const s = r.samples;
  return `<!doctype html><html><head><meta charset="utf-8"><title>NEXUS Meet load run ${esc(r.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body><h1>Load run ${esc(r.startedAt)}</h1><pre>${esc(summaryTable(r))}</pre>
${plot("Packets per second", "pkt/s", s, [
  { name: "sent by publishers", color: "#1f77b4", value: (x) => x.pktOutPerSec },
  { name: "received by receivers", color: "#ff7f0e", value: (x) => x.pktInPerSec },
])}
${plot("CPU", "% of one core", s, [
  { name: "SFU (host + workers)", color: "#d62728", value: (x) => x.sfuCpuPct },
  { name: "generator", color: "#2ca02c", value: (x) => x.genCpuPct },
])}
${plot(
  "Loss",
  "% of expected, cumulative",
  s,
  [{ name: "receivers' loss", color: "#9467bd", value: (x) => x.lossFraction * 100 }],
  1,
)}
</body></html>
`;
}
