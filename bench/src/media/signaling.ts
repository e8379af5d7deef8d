/**
 * Signaling at scale, our uWebSockets.js media host against the same logic on the `ws` package
 * (signaling/server-ws.ts), each server a separate process pinned to its own core, clients in this process
 * on the other core, everything on 127.0.0.1:
 *   1. 5,000 idle authenticated WebSockets: server RSS growth per connection.
 *   2. Fan-out in a 500-member room (every member joined with join-meeting), deliveries counted at the
 *      members: (i) chat, `send-message` (ours stores each message in PostgreSQL before broadcasting: the real
 *      chat path; the baseline does not store), (ii) a pure broadcast, `toggle-hand` -> participant-updated
 *      to everybody (ours also queues a participant row update, not awaited).
 *   Server CPU per delivery is the figure that does not depend on whether the clients keep up.
 *   RSS is read twice: as it is (garbage not yet collected included) and right after a full GC (both servers
 *   run with --expose-gc and collect on SIGUSR2, the same way), with the live JS heap (heapUsed) then.
 *
 *   npm run bench:signaling -- [--idle 5000] [--members 500] [--senders 50] [--rounds 2] [--warmup 1000]
 *   --warmup: sockets opened and closed before the idle baseline is read (0: none, as before).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { BENCH_DIR } from "../build.js";
import { LOAD_CPUS, median, pinned, pinSelf, SERVER_CPUS, stopChild } from "../proc.js";
import { JOIN_SECRET, loadLine, realPostgres, spread, threadsCpuNs } from "./common.js";
import { memberToken } from "./tokens.js";

const { values: args } = parseArgs({
  options: {
    idle: { type: "string", default: "5000" },
    members: { type: "string", default: "500" },
    senders: { type: "string", default: "50" },
    rounds: { type: "string", default: "2" },
    warmup: { type: "string", default: "1000" },
  },
});
const IDLE = Number(args.idle);
const MEMBERS = Number(args.members);
const SENDERS = Number(args.senders);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
/** Chat messages per sender: the chat service's burst allowance per participant. */
const CHATS_EACH = 10;
/** Hand toggles per sender: inside the signaling rate limit's burst of 100. */
const TOGGLES_EACH = 20;

type Kind = "ours" | "ws";
interface Info {
  port: number;
  meetingId: string;
  tenantId: string;
  hostId: string;
}

const rssKb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let serversStarted = 0;

interface Server {
  child: ChildProcess;
  info: Info;
  /** Runs a full garbage collection in the server; resolves with its memory use right after. */
  gc(): Promise<NodeJS.MemoryUsage>;
}

async function startServer(kind: Kind, databaseUrl: string): Promise<Server> {
  const file = join(BENCH_DIR, "src/media/signaling", kind === "ours" ? "server-ours.ts" : "server-ws.ts");
  // node --import tsx keeps the server in one process, so its pid is the one whose CPU and RSS are read.
  const argv = pinned(SERVER_CPUS, [process.execPath, "--expose-gc", "--import", "tsx", file]);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: BENCH_DIR,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NODE_ENV: "production",
      // Below the ephemeral range (32768+): the 5,000 client sockets of the previous round may still hold
      // (TIME_WAIT) a port up there, and the worker's WebRtcServer then cannot listen on it.
      BENCH_RTC_MIN_PORT: String(24_000 + 10 * serversStarted++),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once("line", resolve)),
    sleep(60_000).then(() => {
      throw new Error(`${kind} server did not start within 60 s`);
    }),
  ]);
  const gc = () =>
    new Promise<NodeJS.MemoryUsage>((resolve) => {
      lines.once("line", (answer) => resolve((JSON.parse(answer) as { memory: NodeJS.MemoryUsage }).memory));
      child.kill("SIGUSR2");
    });
  return { child, info: JSON.parse(line) as Info, gc };
}

const token = (info: Info) => memberToken(info, { secret: JOIN_SECRET, ttlSeconds: 900 });

interface Member {
  ws: WebSocket;
  acks: Map<number, () => void>;
  next: number;
}

function open(info: Info, tok: string, counters?: Record<string, number>): Promise<Member> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${info.port}/?token=${encodeURIComponent(tok)}`, {
      perMessageDeflate: false,
    });
    const m: Member = { ws, acks: new Map(), next: 1 };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("connect timeout"));
    }, 30_000);
    ws.on("message", (raw: Buffer) => {
      // Only the first bytes are looked at: the client must stay cheap next to the server it measures.
      if (counters) {
        for (const [prefix, buf] of PREFIXES)
          if (raw.subarray(0, buf.length).equals(buf)) counters[prefix]!++;
      }
      if (raw[2] === 0x69 /* {"id": an ack */) {
        const id = Number(/^\{"id":(\d+)/.exec(raw.subarray(0, 24).toString())?.[1]);
        m.acks.get(id)?.();
        m.acks.delete(id);
      }
    });
    ws.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.once("open", () => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

const PREFIXES: [string, Buffer][] = [
  ["new-message", Buffer.from('{"type":"new-message"')],
  ["participant-updated", Buffer.from('{"type":"participant-updated"')],
];

function request(m: Member, type: string, data: unknown): Promise<void> {
  const id = m.next++;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      m.acks.delete(id);
      reject(new Error(`${type}: no ack in 30 s`));
    }, 30_000);
    m.acks.set(id, () => {
      clearTimeout(t);
      resolve();
    });
    m.ws.send(JSON.stringify({ id, type, data }));
  });
}

async function inBatches<T>(n: number, batch: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => make(i + j)))));
  }
  return out;
}

async function closeAll(ms: Member[]): Promise<void> {
  await Promise.all(
    ms.map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.ws.readyState === WebSocket.CLOSED) return resolve();
          const t = setTimeout(() => {
            m.ws.terminate();
            resolve();
          }, 5_000);
          m.ws.once("close", () => {
            clearTimeout(t);
            resolve();
          });
          m.ws.close(1000);
        }),
    ),
  );
}

interface Result {
  kind: Kind;
  rssPerConnKb: number;
  rssPerConnKbAfterGc: number;
  heapPerConnKb: number;
  idleOpened: number;
  chatPerSec: number;
  chatCpuUs: number;
  chatDelivered: number;
  bcastPerSec: number;
  bcastCpuUs: number;
  bcastDelivered: number;
  clientCores: number;
}

async function fanout(
  pid: number,
  members: Member[],
  counters: Record<string, number>,
  key: string,
  expected: number,
  fire: () => Promise<unknown>,
): Promise<{ perSec: number; cpuUsPerDelivery: number; delivered: number; clientCores: number }> {
  counters[key] = 0;
  const cpu0 = threadsCpuNs(pid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const acked = fire();
  const deadline = Date.now() + 60_000;
  while (counters[key]! < expected && Date.now() < deadline) await sleep(5);
  const dt = (performance.now() - t0) / 1000;
  await acked.catch((e) => console.log(`  (some requests failed: ${String(e)})`));
  const got = counters[key]!;
  const c = process.cpuUsage(client0);
  void members;
  return {
    perSec: got / dt,
    cpuUsPerDelivery: (threadsCpuNs(pid) - cpu0) / 1000 / got,
    delivered: got / expected,
    clientCores: (c.user + c.system) / 1e6 / dt,
  };
}

async function oneRound(kind: Kind, databaseUrl: string): Promise<Result> {
  const { child, info, gc } = await startServer(kind, databaseUrl);
  const pid = child.pid!;
  try {
    // One-time costs (code paged in, JIT, pools and heap sized for a burst) are paid by a first burst of
    // WARMUP sockets, opened the same way and closed, so the growth below is what the idle sockets hold.
    const warm = await inBatches(WARMUP, 200, async () => open(info, await token(info)).catch(() => null));
    await closeAll(warm.filter((m): m is Member => m !== null));
    await sleep(1000);
    const rss0 = rssKb(pid);
    const mem0 = await gc();
    const rss0gc = rssKb(pid);
    const tokens = await inBatches(IDLE, 500, () => token(info));
    const idle = await inBatches(IDLE, 200, (i) => open(info, tokens[i]!).catch(() => null));
    const opened = idle.filter((m): m is Member => m !== null);
    await sleep(2000);
    const rss1 = rssKb(pid);
    const mem1 = await gc();
    const rss1gc = rssKb(pid);
    await closeAll(opened);
    await sleep(1000);

    const counters: Record<string, number> = { "new-message": 0, "participant-updated": 0 };
    const memberTokens = await inBatches(MEMBERS, 500, () => token(info));
    const members = await inBatches(MEMBERS, 50, (i) => open(info, memberTokens[i]!, counters));
    await inBatches(MEMBERS, 25, (i) => request(members[i]!, "join-meeting", {}));
    await sleep(1000);
    const senders = members.slice(0, SENDERS);
    const chat = await fanout(pid, members, counters, "new-message", SENDERS * CHATS_EACH * MEMBERS, () =>
      Promise.all(
        senders.flatMap((m, s) =>
          Array.from({ length: CHATS_EACH }, (_, k) =>
            request(m, "send-message", { text: `bench ${s}.${k}` }),
          ),
        ),
      ),
    );
    await sleep(1000);
    const bcast = await fanout(
      pid,
      members,
      counters,
      "participant-updated",
      SENDERS * TOGGLES_EACH * MEMBERS,
      () =>
        Promise.all(
          senders.flatMap((m) => Array.from({ length: TOGGLES_EACH }, () => request(m, "toggle-hand", {}))),
        ),
    );
    await closeAll(members);
    const r: Result = {
      kind,
      rssPerConnKb: (rss1 - rss0) / opened.length,
      rssPerConnKbAfterGc: (rss1gc - rss0gc) / opened.length,
      heapPerConnKb: (mem1.heapUsed - mem0.heapUsed) / 1024 / opened.length,
      idleOpened: opened.length,
      chatPerSec: chat.perSec,
      chatCpuUs: chat.cpuUsPerDelivery,
      chatDelivered: chat.delivered,
      bcastPerSec: bcast.perSec,
      bcastCpuUs: bcast.cpuUsPerDelivery,
      bcastDelivered: bcast.delivered,
      clientCores: Math.max(chat.clientCores, bcast.clientCores),
    };
    console.log(
      `  ${kind.padEnd(4)}: idle ${opened.length}/${IDLE} open, RSS +${((rss1 - rss0) / 1024).toFixed(1)} MB = ${r.rssPerConnKb.toFixed(2)} KB/conn ` +
        `(after GC ${r.rssPerConnKbAfterGc.toFixed(2)}, live JS heap ${r.heapPerConnKb.toFixed(2)}); ` +
        `chat ${chat.perSec.toFixed(0)} deliveries/s, ${chat.cpuUsPerDelivery.toFixed(2)} server CPU-µs each (${(chat.delivered * 100).toFixed(1)}% delivered); ` +
        `broadcast ${bcast.perSec.toFixed(0)}/s, ${bcast.cpuUsPerDelivery.toFixed(2)} µs each (${(bcast.delivered * 100).toFixed(1)}%); ` +
        `clients ${(r.clientCores * 100).toFixed(0)}% core`,
    );
    return r;
  } finally {
    await stopChild(child);
  }
}

async function main() {
  pinSelf(LOAD_CPUS);
  console.log(
    `signaling: servers on CPU ${SERVER_CPUS}, clients + PostgreSQL on CPU ${LOAD_CPUS}; ${loadLine()}`,
  );
  const pg = await realPostgres();
  const results: Result[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order: Kind[] = round % 2 === 0 ? ["ours", "ws"] : ["ws", "ours"];
      for (const kind of order) results.push(await oneRound(kind, pg.url));
    }
  } finally {
    await pg.stop();
  }
  console.log(`\nmedians of ${ROUNDS} rounds (spread min-max); ${loadLine()}`);
  console.log("| figure | ours (uWS host) | ws baseline | ours/ws |");
  console.log("| --- | --- | --- | --- |");
  const row = (label: string, f: (r: Result) => number, digits = 2) => {
    const o = results.filter((r) => r.kind === "ours").map(f);
    const w = results.filter((r) => r.kind === "ws").map(f);
    console.log(
      `| ${label} | ${median(o).toFixed(digits)} [${spread(o)}] | ${median(w).toFixed(digits)} [${spread(w)}] | ${(median(o) / median(w)).toFixed(2)} |`,
    );
  };
  row(`RSS per idle connection, KB (${IDLE} open)`, (r) => r.rssPerConnKb);
  row("RSS per idle connection after a full GC, KB", (r) => r.rssPerConnKbAfterGc);
  row("live JS heap per idle connection after a full GC, KB", (r) => r.heapPerConnKb);
  row(
    `chat send-message deliveries/s (${MEMBERS} members, ${SENDERS}x${CHATS_EACH} msgs)`,
    (r) => r.chatPerSec,
    0,
  );
  row("chat server CPU-µs per delivery", (r) => r.chatCpuUs);
  row(`pure broadcast (toggle-hand) deliveries/s (${SENDERS}x${TOGGLES_EACH})`, (r) => r.bcastPerSec, 0);
  row("broadcast server CPU-µs per delivery", (r) => r.bcastCpuUs);
  row("client process cores (max of the two phases)", (r) => r.clientCores);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
