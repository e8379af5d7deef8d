/**
 * The one-process service in a child process of the load tester, so its CPU and memory (and its mediasoup
 * workers') are measured apart from the generator's. Prints one JSON line {url, pid} once it listens; stops on
 * SIGTERM or when its parent goes away.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded } from "@nexus/server/embedded";

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

const workers = Number(process.env.LOADTEST_WORKERS ?? "1");
const dataDir = mkdtempSync(join(tmpdir(), "nexus-load-"));
let app: Awaited<ReturnType<typeof startEmbedded>> | undefined;
let lastError: unknown;
for (let attempt = 0; attempt < 8 && !app; attempt++) {
  // The workers' WebRtcServer ports: a free TCP port is very likely a free UDP port too; retry if not.
  const rtc = await freeTcpPort();
  if (rtc + workers > 65_535) continue;
  try {
    app = await startEmbedded({
      port: 0,
      mediaPort: 0,
      host: "127.0.0.1",
      dataDir,
      rtcMinPort: rtc,
      rtcMaxPort: rtc + workers - 1,
      numWorkers: workers,
      handleSignals: false,
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? "error",
        LOG_DIR: "-",
        MEDIA_CAPACITY: process.env.MEDIA_CAPACITY ?? "100000",
        // The tester polls stats over signaling; lift the per-connection limit a browser would never reach.
        MEDIA_RATE_PER_SEC: process.env.MEDIA_RATE_PER_SEC ?? "1000",
        MEDIA_RATE_BURST: process.env.MEDIA_RATE_BURST ?? "2000",
      },
    });
  } catch (error) {
    lastError = error;
  }
}
if (!app) {
  console.error(`cannot start the service: ${(lastError as Error)?.message ?? lastError}`);
  process.exit(1);
}
const running = app;
process.stdout.write(`${JSON.stringify({ url: running.url, pid: process.pid })}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await running.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// The tester closes our stdin when it exits, however it exits.
process.stdin.on("end", () => void stop());
process.stdin.resume();
