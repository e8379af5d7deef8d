/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went while some code ran: the window is
 * the first to the last sample whose stack holds a frame matching `marker` (e.g. "hands.ts" for the
 * toggle-hand phase of bench:signaling), and every sample in it counts, native and idle time included.
 * Native work done under a JavaScript call (uWS publish, a socket write) is charged to that call's frame.
 *
 *   npx tsx src/media/profile-window.ts <file.cpuprofile> <marker> [top=20]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, marker, topArg] = process.argv.slice(2);
if (!file || !marker) {
  console.error("usage: profile-window.ts <file.cpuprofile> <marker> [top]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parents = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
const label = (n: ProfileNode) => {
  const where = n.callFrame.url.split("/").slice(-2).join("/");
  return `${n.callFrame.functionName || "(anonymous)"} ${where}:${n.callFrame.lineNumber + 1}`;
};
const marked = new Map<number, boolean>();
const isMarked = (id: number): boolean => {
  const known = marked.get(id);
  if (known !== undefined) return known;
  let found = false;
  for (let at: number | undefined = id; at !== undefined && !found; at = parents.get(at)) {
    const node = nodes.get(at);
    found = node !== undefined && label(node).includes(marker);
  }
  marked.set(id, found);
  return found;
};

const times: number[] = [];
let clock = profile.startTime;
for (const delta of profile.timeDeltas) {
  clock += delta;
  times.push(clock);
}
let from = Number.POSITIVE_INFINITY;
let to = Number.NEGATIVE_INFINITY;
profile.samples.forEach((id, i) => {
  if (!isMarked(id)) return;
  from = Math.min(from, times[i]!);
  to = Math.max(to, times[i]!);
});
const self = new Map<string, number>();
let busy = 0;
profile.samples.forEach((id, i) => {
  if (times[i]! < from || times[i]! > to) return;
  // A sample stands for the time until the next one.
  const span = profile.timeDeltas[i + 1] ?? 0;
  const name = label(nodes.get(id)!);
  self.set(name, (self.get(name) ?? 0) + span);
  if (!name.startsWith("(idle)")) busy += span;
});
console.log(
  `${((to - from) / 1000).toFixed(0)} ms window around '${marker}', ${(busy / 1000).toFixed(0)} ms busy`,
);
for (const [name, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 20))) {
  console.log(
    `${((us / busy) * 100).toFixed(1).padStart(5)}% of busy ${(us / 1000).toFixed(1).padStart(8)} ms  ${name}`,
  );
}
