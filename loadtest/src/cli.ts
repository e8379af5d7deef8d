/**
 * npm run load -- --meetings M --publishers P --subscribers S --duration T --video-kbps K
 *                 [--publishers-receive] [--url http://...] [--jwt-secret S] [--workers W] [--out DIR]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MissingToolError } from "./clip.js";
import { progressLine, samplesCsv, summaryTable } from "./format.js";
import { htmlReport } from "./html.js";
import { runLoad } from "./run.js";

const usage = `usage: npm run load -- --meetings M --publishers P --subscribers S --duration SECONDS --video-kbps K
  [--publishers-receive]   publishers also receive every other publisher of their meeting
  [--url http://host:port] a running deployment (default: start the one-process service on free ports;
                           a host other than loopback is only loaded when named here)
  [--jwt-secret SECRET]    sign user tokens with the deployment's JWT_SECRET (default: its /dev/token)
  [--tenant ID] [--workers W] [--join-concurrency N] [--sfu-pid PID] [--out DIR] [--clip-dir DIR] [--quiet]`;

function main(): Promise<void> | void {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        meetings: { type: "string", default: "1" },
        publishers: { type: "string", default: "2" },
        subscribers: { type: "string", default: "2" },
        duration: { type: "string", default: "10" },
        "video-kbps": { type: "string", default: "500" },
        "publishers-receive": { type: "boolean", default: false },
        url: { type: "string" },
        "jwt-secret": { type: "string" },
        tenant: { type: "string", default: "loadtest" },
        workers: { type: "string", default: "1" },
        "join-concurrency": { type: "string", default: "8" },
        "sfu-pid": { type: "string" },
        out: { type: "string", default: "loadtest-report" },
        "clip-dir": { type: "string" },
        quiet: { type: "boolean", default: false },
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
    if (!Number.isFinite(x)) {
      console.error(`--${name} must be a number (got ${values[name]})`);
      process.exit(2);
    }
    return x;
  };
  const url = values.url as string | undefined;
  return runLoad({
    meetings: num("meetings"),
    publishers: num("publishers"),
    subscribers: num("subscribers"),
    duration: num("duration"),
    videoKbps: num("video-kbps"),
    publishersReceive: values["publishers-receive"] as boolean,
    url,
    allowRemote: url !== undefined,
    jwtSecret: (values["jwt-secret"] as string | undefined) ?? process.env.JWT_SECRET,
    tenant: values.tenant as string,
    workers: num("workers"),
    joinConcurrency: num("join-concurrency"),
    sfuPid: values["sfu-pid"] ? num("sfu-pid") : undefined,
    clipDir: values["clip-dir"] as string | undefined,
    onSample: values.quiet ? undefined : (s) => console.log(progressLine(s)),
    onLog: (line) => console.log(`# ${line}`),
  }).then((report) => {
    console.log(`\n${summaryTable(report)}`);
    const dir = values.out as string;
    mkdirSync(dir, { recursive: true });
    const stamp = report.startedAt.replace(/[:.]/g, "-");
    const json = join(dir, `load-${stamp}.json`);
    const csv = join(dir, `load-${stamp}.csv`);
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(csv, samplesCsv(report.samples));
    const html = join(dir, `load-${stamp}.html`);
    writeFileSync(html, htmlReport(report));
    console.log(`\nreport: ${json}\nper-second samples: ${csv}\nplots: ${html}`);
  });
}

try {
  await main();
  process.exit(0);
} catch (error) {
  if (error instanceof MissingToolError) console.error(error.message);
  else console.error(`load test failed: ${(error as Error).message}`);
  process.exit(1);
}
