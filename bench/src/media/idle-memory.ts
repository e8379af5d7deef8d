/**
 * Memory of idle authenticated sockets, step by step: the server of bench:signaling (ours or the ws
 * baseline, its own process, --expose-gc) gets `--step` sockets, then `--step` more, opened `--batch` at a
 * time; after each step it runs a full GC and the growth per socket is printed: VmRSS, the JS heap in use
 * (heapUsed) and the heap V8 keeps (heapTotal). The first step pays one-time costs (heap sized for the
 * burst); the second is the marginal cost of one more idle socket.
 *
 *   npx tsx src/media/idle-memory.ts [--step 4000] [--batch 200]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { BENCH_DIR } from "../build.js";
import { LOAD_CPUS, pinned, pinSelf, SERVER_CPUS, stopChild } from "../proc.js";
import { JOIN_SECRET, loadLine, realPostgres } from "./common.js";
import { memberToken } from "./tokens.js";

const { values: args } = parseArgs({
  options: { step: { type: "string", default: "4000" }, batch: { type: "string", default: "200" } },
});
const STEP = Number(args.step);
const BATCH = Number(args.batch);

async function measure(kind: "ours" | "ws", databaseUrl: string, port: number): Promise<string> {
  const file = join(BENCH_DIR, "src/media/signaling", `server-${kind}.ts`);
  const argv = pinned(SERVER_CPUS, [process.execPath, "--expose-gc", "--import", "tsx", file]);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: BENCH_DIR,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NODE_ENV: "production",
      BENCH_RTC_MIN_PORT: String(port),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const nextLine = () => new Promise<string>((resolve) => lines.once("line", resolve));
  const sockets: WebSocket[] = [];
  try {
    const info = JSON.parse(await nextLine()) as {
      port: number;
      meetingId: string;
      tenantId: string;
      hostId: string;
    };
    const snapshot = async () => {
      const answer = nextLine();
      child.kill("SIGUSR2");
      const { memory } = JSON.parse(await answer) as { memory: NodeJS.MemoryUsage };
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]);
      return { rss: rssKb, heapUsed: memory.heapUsed / 1024, heapTotal: memory.heapTotal / 1024 };
    };
    const openOne = async () => {
      const token = await memberToken(info, { secret: JOIN_SECRET, ttlSeconds: 900, label: "Idle" });
      const ws = new WebSocket(`ws://127.0.0.1:${info.port}/?token=${token}`, { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      sockets.push(ws);
    };
    const step = async () => {
      for (let i = 0; i < STEP; i += BATCH)
        await Promise.all(Array.from({ length: Math.min(BATCH, STEP - i) }, openOne));
      await new Promise((r) => setTimeout(r, 2000));
      return snapshot();
    };
    await new Promise((r) => setTimeout(r, 1000));
    const s0 = await snapshot();
    const s1 = await step();
    const s2 = await step();
    const per = (a: typeof s0, b: typeof s0) =>
      `RSS ${((b.rss - a.rss) / STEP).toFixed(2)}, heapUsed ${((b.heapUsed - a.heapUsed) / STEP).toFixed(2)}, ` +
      `heapTotal ${((b.heapTotal - a.heapTotal) / STEP).toFixed(2)}`;
    return `${kind.padEnd(4)}: KB per socket, first ${STEP}: ${per(s0, s1)}; next ${STEP}: ${per(s1, s2)}`;
  } finally {
    for (const ws of sockets) ws.terminate();
    await stopChild(child);
  }
}

pinSelf(LOAD_CPUS);
console.log(`idle memory: ${STEP} + ${STEP} sockets, ${BATCH} at a time; ${loadLine()}`);
const pg = await realPostgres();
try {
  console.log(await measure("ours", pg.url, 24_600));
  console.log(await measure("ws", pg.url, 24_610));
} finally {
  await pg.stop();
}
process.exit(0);
