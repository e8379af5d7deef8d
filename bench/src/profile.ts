/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the busy time went: self time per npm package
 * (or node internals, GC, our own bundle) and the hottest functions. Idle time is left out of the shares.
 * CLI: tsx bench/src/profile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  share: number;
}
export interface ProfileSummary {
  busyMs: number;
  byPackage: Share[];
  /** Time with the package anywhere on the stack: what it costs including what it calls. */
  onStack: Share[];
  byFunction: Share[];
  /** Time with each first-party function on the stack (inclusive): where our own code spends, callees included. */
  firstPartyOnStack: Share[];
}

function owner(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = url.slice(nm + "/node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith("node:internal/")) return url.split("/").slice(0, 3).join("/").replace(/\.js$/, "");
  if (url.startsWith("node:")) return url;
  return `first-party (${basename(url)})`;
}

const ranked = (m: Map<string, number>, busy: number): Share[] =>
  [...m.entries()]
    .map(([name, us]) => ({ name, ms: us / 1000, share: busy ? us / 1000 / busy : 0 }))
    .sort((a, b) => b.ms - a.ms);

export function summarize(file: string): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const pkg = new Map<string, number>();
  const fn = new Map<string, number>();
  const stack = new Map<string, number>();
  const ours = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    // Each sample accounts for the time until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") return;
    busyUs += us;
    const p = owner(node.callFrame);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
    const f = `${node.callFrame.functionName || "(anonymous)"} [${p}:${node.callFrame.lineNumber + 1}]`;
    fn.set(f, (fn.get(f) ?? 0) + us);
    const seen = new Set<string>();
    const seenOurs = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.functionName === "(root)") continue;
      const o = owner(frame);
      seen.add(o);
      if (o.startsWith("first-party")) seenOurs.add(`${frame.functionName || "(anonymous)"} [${o}]`);
    }
    for (const s of seen) stack.set(s, (stack.get(s) ?? 0) + us);
    for (const s of seenOurs) ours.set(s, (ours.get(s) ?? 0) + us);
  });
  const busyMs = busyUs / 1000;
  return {
    busyMs,
    byPackage: ranked(pkg, busyMs),
    onStack: ranked(stack, busyMs),
    byFunction: ranked(fn, busyMs),
    firstPartyOnStack: ranked(ours, busyMs),
  };
}

export function formatSummary(title: string, s: ProfileSummary, top = 12): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [`${title}: ${s.busyMs.toFixed(0)} ms busy`, "  self time by package:"];
  for (const p of s.byPackage.slice(0, top)) lines.push(`    ${pct(p.share)}  ${p.name}`);
  lines.push("  on the stack (package and what it calls):");
  for (const p of s.onStack.slice(0, top)) lines.push(`    ${pct(p.share)}  ${p.name}`);
  lines.push("  hottest functions (self):");
  for (const f of s.byFunction.slice(0, top)) lines.push(`    ${pct(f.share)}  ${f.name}`);
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: tsx bench/src/profile.ts <file.cpuprofile> [top]");
    process.exit(2);
  }
  console.log(formatSummary(basename(file), summarize(file), Number(process.argv[3] ?? 15)));
}
