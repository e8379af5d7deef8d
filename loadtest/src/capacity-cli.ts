/**
 * npm run capacity -- [--meeting-size 10] [--start 1] [--step 1] [--max-steps 20] [--duration 10]
 *                     [--video-kbps 500] [--workers 1] [--url http://...] [--out DIR] [--progress]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCapacity, stepLine } from "./capacity.js";
import { MissingToolError } from "./clip.js";
import { progressLine } from "./format.js";

const usage = `usage: npm run capacity -- [--shape meetings|webinar] [--meeting-size N] [--start M] [--step M] [--max-steps K] [--duration S]
  [--video-kbps K] [--workers W] [--join-concurrency N]
  [--max-loss-pct 1] [--max-join-p99-ms 1000] [--max-sfu-cpu-pct 85] [--url http://host:port] [--jwt-secret S] [--sfu-pid PID] [--out DIR] [--progress]
Steps up the number of N-person meetings (everyone publishes and receives everyone else) until loss > 1%,
join p99 > 1 s, SFU CPU > 85% of its cores, or the generator saturates. --meeting-size 2 steps 1:1 calls,
50 steps 50-person meetings; --shape webinar steps the subscribers of one publisher (--start 50 --step 50).`;

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        shape: { type: "string", default: "meetings" },
        "meeting-size": { type: "string", default: "10" },
        start: { type: "string", default: "1" },
        step: { type: "string", default: "1" },
        "max-steps": { type: "string", default: "20" },
        duration: { type: "string", default: "10" },
        "video-kbps": { type: "string", default: "500" },
        workers: { type: "string", default: "1" },
        "join-concurrency": { type: "string", default: "8" },
        url: { type: "string" },
        "jwt-secret": { type: "string" },
        "sfu-pid": { type: "string" },
        out: { type: "string", default: "loadtest-report" },
        progress: { type: "boolean", default: false },
        "max-loss-pct": { type: "string", default: "1" },
        "max-join-p99-ms": { type: "string", default: "1000" },
        "max-sfu-cpu-pct": { type: "string", default: "85" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    console.error((error as Error).message);
    console.error(usage);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const num = (name: string) => {
    const x = Number(values[name]);
    if (!Number.isInteger(x) || x < 1) {
      console.error(`--${name} must be a whole number >= 1 (got ${values[name]})`);
      process.exit(2);
    }
    return x;
  };
  const positive = (name: string) => {
    const x = Number(values[name]);
    if (!Number.isFinite(x) || x <= 0) {
      console.error(`--${name} must be a positive number (got ${values[name]})`);
      process.exit(2);
    }
    return x;
  };
  const shape = values.shape;
  if (shape !== "meetings" && shape !== "webinar") {
    console.error(`--shape must be meetings or webinar (got ${shape})`);
    process.exit(2);
  }
  const result = await runCapacity({
    shape,
    meetingSize: num("meeting-size"),
    startMeetings: num("start"),
    stepMeetings: num("step"),
    maxSteps: num("max-steps"),
    duration: num("duration"),
    videoKbps: num("video-kbps"),
    workers: num("workers"),
    joinConcurrency: num("join-concurrency"),
    url: values.url as string | undefined,
    sfuPid: values["sfu-pid"] ? num("sfu-pid") : undefined,
    jwtSecret: (values["jwt-secret"] as string | undefined) ?? process.env.JWT_SECRET,
    limits: {
      maxLoss: positive("max-loss-pct") / 100,
      maxJoinP99Ms: positive("max-join-p99-ms"),
      maxSfuCpuFraction: positive("max-sfu-cpu-pct") / 100,
    },
    onLog: (line) => console.log(`# ${line}`),
    onStep: (s) => console.log(stepLine(s)),
    onSample: values.progress ? (s) => console.log(`    ${progressLine(s)}`) : undefined,
  });
  console.log(`\nshape: ${result.shape}`);
  console.log(
    result.largest
      ? `largest passing size: ${result.largest.meetings} meeting(s), ${result.largest.participants} people, ${result.largest.outboundPacketsPerSec.toFixed(0)} outbound pkt/s`
      : "largest passing size: none (the first step already broke a limit)",
  );
  console.log(
    `limits: loss <= ${result.limits.maxLoss * 100}%, join p99 <= ${result.limits.maxJoinP99Ms} ms, SFU CPU <= ${result.limits.maxSfuCpuFraction * 100}% of its cores`,
  );
  console.log(`verdict: ${result.verdict}`);
  const dir = values.out as string;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `capacity-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  // The per-second samples of every step stay in the file; the console shows one line per step.
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`report: ${file}`);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  if (error instanceof MissingToolError) console.error(error.message);
  else console.error(`capacity search failed: ${(error as Error).message}`);
  process.exit(1);
}
