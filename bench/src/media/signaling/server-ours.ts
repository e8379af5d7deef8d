/**
 * Child process: our media host (createMediaHost, uWebSockets.js signaling) on the PostgreSQL database in
 * DATABASE_URL, one meeting for 600. Prints one JSON line with what the clients need, then serves until killed.
 */
import { createDb } from "@nexus/drizzle";
import { startOurHost } from "../common.js";

const db = createDb(process.env.DATABASE_URL!);
const ours = await startOurHost({
  // Each round's host gets its own port: the previous host's worker may still be exiting.
  rtcMinPort: Number(process.env.BENCH_RTC_MIN_PORT ?? 44_990),
  db,
  // Thousands of connections arrive within a second; the per-connection limits stay at their defaults.
  env: { MEDIA_CAPACITY: "10000" },
});
const meetingId = await ours.createMeeting(600);
console.log(
  JSON.stringify({ port: ours.host.port, meetingId, tenantId: ours.tenantId, hostId: ours.host.hostId }),
);
const stop = async () => {
  await ours.close();
  await db.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
// The bench asks for a full collection before it reads RSS (node --expose-gc); one line answers it.
process.on("SIGUSR2", () => {
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify({ gc: true, memory: process.memoryUsage() }));
});
