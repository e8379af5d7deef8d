/**
 * CPU and memory of processes from /proc (Linux): the SFU's Node process with its mediasoup workers when the
 * service runs on this machine, and the generator itself.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on every Linux build this runs on
const PAGE = 4096;

export interface ProcSample {
  /** CPU seconds (user + system) so far. */
  cpuSeconds: number;
  rssBytes: number;
}

function readStat(pid: number): { cpu: number; rss: number; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { cpu: (utime + stime) / TICKS_PER_SECOND, rss: rssPages * PAGE, ppid };
  } catch {
    return null;
  }
}

/** The process and its children (mediasoup workers are children of the media host). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(name));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Sums CPU and RSS over a set of pids; a pid that has exited counts as nothing. */
export function sampleProcesses(pids: number[]): ProcSample {
  let cpuSeconds = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const s = readStat(pid);
    if (!s) continue;
    cpuSeconds += s.cpu;
    rssBytes += s.rss;
  }
  return { cpuSeconds, rssBytes };
}

export function selfSample(): ProcSample {
  const u = process.cpuUsage();
  return { cpuSeconds: (u.user + u.system) / 1e6, rssBytes: process.memoryUsage.rss() };
}
