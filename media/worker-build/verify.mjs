// Whether a mediasoup-worker binary works on this host.
import { checkRuns } from "./cache.mjs";
import { run } from "./run.mjs";

const VERIFY_TIMEOUT_MS = 30_000;

/**
 * A binary works when it starts on this host (exit 41 without
 * MEDIASOUP_VERSION) and, if the mediasoup package is at hand, when mediasoup
 * can start a Worker with it and create a Router. The Worker runs in a child
 * Node process so a failure cannot disturb the caller.
 */
export async function verifyWorker(bin, { msDir, env = process.env } = {}) {
  const runs = checkRuns(bin);
  if (!runs.ok || !msDir) return runs;
  const snippet = `
    const ms = require(process.env.NEXUS_VERIFY_MEDIASOUP);
    (async () => {
      const worker = await ms.createWorker({ workerBin: process.env.NEXUS_VERIFY_BIN, logLevel: "error" });
      await worker.createRouter({ mediaCodecs: [{ kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 }] });
      worker.close();
      process.stdout.write("worker-ok " + ms.version);
    })().catch((err) => { process.stdout.write("worker-failed " + (err && err.message)); process.exitCode = 1; });
  `;
  const childEnv = { ...env, NEXUS_VERIFY_BIN: bin, NEXUS_VERIFY_MEDIASOUP: msDir };
  delete childEnv.MEDIASOUP_WORKER_BIN;
  const res = await run(process.execPath, ["-e", snippet], { env: childEnv, timeoutMs: VERIFY_TIMEOUT_MS });
  if (res.code === 0 && res.stdout.startsWith("worker-ok")) return { ok: true };
  const why = `${res.stdout} ${res.stderr}`.trim().split("\n").slice(-3).join(" | ");
  return { ok: false, reason: `starting a mediasoup Worker failed (exit ${res.code ?? res.signal}): ${why}` };
}
