/**
 * Recovery after a fault, seen by the people in the call: two @nexus/client participants on
 * mediasoup-client + wrtc, each sending a camera, in one room of our media host (createMediaHost, PGlite in
 * memory, like the tests). The subject's signaling goes through a TCP proxy this process owns.
 *
 *   npm run bench:recovery -- [--faults 10] [--fresh 10]
 *
 * Faults, each `--faults` times:
 *  - socket drop (resume): the proxy resets the subject's signaling connection; the host keeps the peer
 *    (RECONNECT_GRACE_MS 15 s) and the client resumes it over a new socket;
 *  - socket drop (re-join): the same on a host with RECONNECT_GRACE_MS 0, where the peer is gone at once
 *    and the client re-joins through its rejoin() (a fresh join token, standing in for control's POST /join);
 * and beside them, in the same run, a fresh join: a new participant's start() until both decode each other.
 *
 * Figures per fault: fault -> `reconnected` (the client is back in), and fault -> a new decoded frame on
 * both sides after the client is back (framesDecoded of the consumer matched by its SSRC, not the
 * probator); for the fresh join, start() -> first decoded frame on both sides. A signaling drop alone does
 * not stop the media (ICE and DTLS run beside the socket), so for a resume the second figure is the first
 * one plus a frame interval (10 fps here); after a re-join it includes new transports and consumers.
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { MeetingClient } from "@nexus/client";
import { signJoinToken } from "@nexus/platform/join-token";
import type { JoinAnswer } from "@nexus/shared/rest/join";
import type { WebSocketLike } from "@nexus/shared/signaling/client";
import { startTcpProxy, type TcpProxy } from "@nexus/testkit";
import WebSocket from "ws";
// Importing the media tests' participant installs @roamhq/wrtc as the browser globals mediasoup-client reads.
import { videoFeed } from "../../../media/test/support/participant.js";
import { median } from "../proc.js";
import { JOIN_SECRET, loadLine, type OurHost, pct, startOurHost } from "./common.js";

const { values: args } = parseArgs({
  options: { faults: { type: "string", default: "10" }, fresh: { type: "string", default: "10" } },
});
const FAULTS = Number(args.faults);
const FRESH = Number(args.fresh);

interface Person {
  name: string;
  client: MeetingClient;
  stop(): void;
}

async function person(
  our: OurHost,
  meetingId: string,
  name: string,
  wsUrl: string,
): Promise<{ person: Person; started: Promise<void> }> {
  const userId = `user-${name.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`;
  const answer = async (): Promise<JoinAnswer> => {
    const participantId = crypto.randomUUID();
    const { token, expiresAt } = await signJoinToken(
      {
        jti: crypto.randomUUID(),
        meeting_id: meetingId,
        participant_id: participantId,
        tenant_id: our.tenantId,
        user_id: userId,
        name,
        role: "member",
        host_id: our.host.hostId,
      },
      { secret: JOIN_SECRET, now: new Date(), ttlSeconds: 600 },
    );
    return {
      ws_url: wsUrl,
      join_token: token,
      participant_id: participantId,
      meeting_id: meetingId,
      host_id: our.host.hostId,
      role: "member",
      expires_at: expiresAt.toISOString(),
    };
  };
  const { track, feed } = videoFeed(640, 360);
  const client = new MeetingClient({
    join: await answer(),
    rejoin: answer,
    video: track,
    audio: null,
    handlerName: "Chrome111",
    openSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    reconnect: { maxAttempts: 30 },
  });
  const p: Person = {
    name,
    client,
    stop() {
      feed.stop();
    },
  };
  return { person: p, started: client.start() };
}

async function framesOf(viewer: Person, of: Person): Promise<number> {
  const stats = await viewer.client.stats();
  const camera = stats.find((s) => s.participantId === of.client.participantId && s.source === "camera");
  return camera?.framesDecoded ?? 0;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until both decode a frame of the other they had not decoded at the start of the wait. */
async function bothDecodeNew(a: Person, b: Person): Promise<void> {
  const [ab, ba] = [await framesOf(a, b), await framesOf(b, a)];
  await until("both decode again", async () => (await framesOf(a, b)) > ab && (await framesOf(b, a)) > ba);
}

async function socketDrops(graceMs: number, count: number) {
  const our = await startOurHost({ rtcMinPort: 23100, env: { RECONNECT_GRACE_MS: String(graceMs) } });
  const proxy: TcpProxy = await startTcpProxy({ port: our.host.port });
  const meetingId = await our.createMeeting(10);
  const observer = await person(our, meetingId, "Bob", our.host.wsUrl);
  await observer.started;
  const subject = await person(our, meetingId, "Alice", `ws://127.0.0.1:${proxy.port}`);
  await subject.started;
  const [a, b] = [subject.person, observer.person];
  await until("first frames", async () => (await framesOf(a, b)) > 0 && (await framesOf(b, a)) > 0);
  const back: number[] = [];
  const frames: number[] = [];
  let resumed = 0;
  const fresh: number[] = [];
  for (let i = 0; i < count; i++) {
    let backAt = 0;
    let wasResumed = false;
    const off = a.client.on("reconnected", (info) => {
      backAt = performance.now();
      wasResumed = info.resumed;
    });
    const t0 = performance.now();
    proxy.cut();
    await until("reconnected", () => backAt > 0);
    off();
    await bothDecodeNew(a, b);
    back.push(backAt - t0);
    frames.push(performance.now() - t0);
    if (wasResumed) resumed++;
    await new Promise((r) => setTimeout(r, 300));
  }
  // The fresh-join baseline on the same host, in the same minutes.
  if (graceMs > 0) {
    for (let i = 0; i < FRESH; i++) {
      const t0 = performance.now();
      const newcomer = await person(our, meetingId, "Carol", our.host.wsUrl);
      await newcomer.started;
      const c = newcomer.person;
      await until("fresh join decodes", async () => (await framesOf(c, b)) > 0 && (await framesOf(b, c)) > 0);
      fresh.push(performance.now() - t0);
      await c.client.leave();
      c.stop();
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  await a.client.leave();
  await b.client.leave();
  a.stop();
  b.stop();
  await proxy.close();
  await our.close();
  return { back, frames, resumed, fresh };
}

const row = (label: string, xs: number[]) =>
  `| ${label} | ${xs.length} | ${median(xs).toFixed(0)} | ${pct(95, xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;

console.log(`recovery bench: ${FAULTS} faults per kind, ${FRESH} fresh joins; ${loadLine()}`);
const resume = await socketDrops(15_000, FAULTS);
const rejoin = await socketDrops(0, FAULTS);
console.log(
  `\nresumed ${resume.resumed}/${FAULTS} (grace 15 s), ${rejoin.resumed}/${FAULTS} (grace 0: re-joins)`,
);
console.log("\n| ms | n | p50 | p95 | max |\n| --- | --- | --- | --- | --- |");
console.log(row("socket drop, resume: fault -> reconnected", resume.back));
console.log(row("socket drop, resume: fault -> new frame both sides", resume.frames));
console.log(row("socket drop, re-join: fault -> reconnected", rejoin.back));
console.log(row("socket drop, re-join: fault -> new frame both sides", rejoin.frames));
console.log(row("fresh join: start -> first frame both sides", resume.fresh));
console.log(`\n${loadLine()}`);
process.exit(0);
