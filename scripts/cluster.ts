// `npm run cluster`: the production topology as real processes on this machine (see scripts/cluster/topology.ts).
import { buildWeb, webBuildIsStale } from "../web/build.mjs";
import { startCluster } from "./cluster/topology.js";

const hostsArg = process.argv.indexOf("--media-hosts");
const mediaHosts = hostsArg >= 0 ? Number(process.argv[hostsArg + 1]) : 2;
if (!Number.isInteger(mediaHosts) || mediaHosts < 1) {
  console.error("--media-hosts must be a whole number of at least 1");
  process.exit(1);
}
if (await webBuildIsStale()) await buildWeb();

const cluster = await startCluster({ mediaHosts, env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" } });
console.log(
  [
    "",
    `  NEXUS Meet cluster at ${cluster.origin} (caddy's internal CA; trust it or accept the warning)`,
    `  CA root (PEM): save it and import it into the browser to trust the origin:`,
    cluster.caPem.trim(),
    `  Chromium without importing: --ignore-certificate-errors-spki-list=${cluster.caSpki.join(",")}`,
    `  TURN: ${cluster.turn.host}:${cluster.turn.port} (UDP, TCP); control on 127.0.0.1:${cluster.control.port}`,
    ...cluster.media.map(
      (m) => `  ${m.id}: ${m.publicUrl} (signaling 127.0.0.1:${m.port}, media UDP/TCP ${m.webRtcPort})`,
    ),
    "  Development sign-in as in `npm start`. Ctrl+C stops everything and deletes its data.",
    "",
  ].join("\n"),
);
// The servers are unref'd children (their owner must be able to exit); this keeps the command running.
const keepAlive = setInterval(() => {}, 1 << 30);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(keepAlive);
  void cluster.stop().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
