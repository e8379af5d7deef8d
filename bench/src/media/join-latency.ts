/**
 * Join latency over our real signaling: a WebSocket to the uWS host with a join token, then join-meeting,
 * create-transport (recv), consume of the producer already in the room, resume-consumer. The figure is
 * join-meeting sent -> resume-consumer acked ("first consumer ready"); the WebSocket upgrade (token check,
 * meeting lookup) is reported beside it. Baseline in the same run: the same mediasoup steps called in-process
 * on a bare Worker/Router/WebRtcServer (no signaling, no room logic), so what signaling and our handlers add
 * is visible.
 *
 *   npm run bench:join -- [--sequential 100] [--concurrent 20] [--waves 5]
 *
 * Our host uses a real PostgreSQL (testkit) for its meeting lookup and participant rows, as in production.
 * Clients are minimal ws clients (JSON, ack matched by id) in this process; the router's RTP capabilities
 * from the join-meeting ack are used as the client's (no mediasoup-client Device, no DTLS/ICE).
 */
import { parseArgs } from "node:util";
import { resolveWorkerBin } from "@nexus/media/worker-bin";
import type { types as ms } from "mediasoup";
import * as mediasoup from "mediasoup";
import WebSocket from "ws";
import { LOAD_CPUS, pinSelf, SERVER_CPUS } from "../proc.js";
import {
  countingConnection,
  loadLine,
  pct,
  pinPid,
  plainTransportInRoom,
  realPostgres,
  startOurHost,
} from "./common.js";

const { values: args } = parseArgs({
  options: {
    sequential: { type: "string", default: "100" },
    concurrent: { type: "string", default: "20" },
    waves: { type: "string", default: "5" },
  },
});
const SEQ = Number(args.sequential);
const CONC = Number(args.concurrent);
const WAVES = Number(args.waves);

interface Sample {
  connectMs: number;
  joinAckMs: number;
  readyMs: number;
}

/** A bare-bones protocol client: requests `{ id, type, data }`, acks matched by id, notifications ignored. */
function openClient(url: string): Promise<{
  request(type: string, data: unknown): Promise<Record<string, unknown>>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const pending = new Map<number, { ok: (d: Record<string, unknown>) => void; ko: (e: Error) => void }>();
    let next = 1;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("connect timeout"));
    }, 10_000);
    ws.on("message", (raw) => {
      const msg = JSON.parse(String(raw)) as {
        id?: number;
        success?: boolean;
        data?: unknown;
        error?: unknown;
      };
      if (msg.id === undefined) return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.success) p.ok(msg.data as Record<string, unknown>);
      else p.ko(new Error(JSON.stringify(msg.error)));
    });
    ws.once("error", reject);
    ws.once("open", () => {
      clearTimeout(timer);
      resolve({
        request(type, data) {
          const id = next++;
          return new Promise((ok, ko) => {
            const t = setTimeout(() => {
              pending.delete(id);
              ko(new Error(`${type}: no ack in 10 s`));
            }, 10_000);
            pending.set(id, {
              ok: (d) => {
                clearTimeout(t);
                ok(d);
              },
              ko: (e) => {
                clearTimeout(t);
                ko(e);
              },
            });
            ws.send(JSON.stringify({ id, type, data }));
          });
        },
        close: () => ws.close(1000),
      });
    });
  });
}

async function oursJoin(wsUrl: string, token: string): Promise<Sample> {
  const t0 = performance.now();
  const c = await openClient(`${wsUrl}/?token=${encodeURIComponent(token)}`);
  const t1 = performance.now();
  const joined = await c.request("join-meeting", {});
  const t2 = performance.now();
  const peers = joined.peers as { producers: { producer_id: string; kind: string }[] }[];
  const producer = peers.flatMap((p) => p.producers).find((p) => p.kind === "video");
  if (!producer) throw new Error("no video producer in the room");
  const transport = await c.request("create-transport", { direction: "recv" });
  const consumer = await c.request("consume", {
    transport_id: transport.transport_id,
    producer_id: producer.producer_id,
    rtp_capabilities: joined.router_rtp_capabilities,
  });
  await c.request("resume-consumer", { consumer_id: consumer.consumer_id });
  const t3 = performance.now();
  c.close();
  return { connectMs: t1 - t0, joinAckMs: t2 - t1, readyMs: t3 - t1 };
}

async function bareJoin(router: ms.Router, server: ms.WebRtcServer, producerId: string): Promise<Sample> {
  const t1 = performance.now();
  const transport = await router.createWebRtcTransport({
    webRtcServer: server,
    enableUdp: true,
    enableTcp: true,
    preferUdp: true,
  });
  const consumer = await transport.consume({
    producerId,
    rtpCapabilities: router.rtpCapabilities,
    paused: true,
  });
  await consumer.resume();
  const t3 = performance.now();
  transport.close();
  return { connectMs: 0, joinAckMs: 0, readyMs: t3 - t1 };
}

const VIDEO_PARAMS = {
  codecs: [{ mimeType: "video/VP8", payloadType: 96, clockRate: 90_000 }],
  encodings: [{ ssrc: 11_111_111 }],
};

function line(label: string, xs: number[]): string {
  const f = (x: number) => x.toFixed(2).padStart(7);
  return `| ${label} | ${xs.length} | ${f(pct(50, xs))} | ${f(pct(99, xs))} | ${f(Math.max(...xs))} |`;
}

async function main() {
  pinSelf(LOAD_CPUS);
  const workerBin = resolveWorkerBin();
  console.log(
    `join latency; node (server + clients) on CPU ${LOAD_CPUS}, workers on CPU ${SERVER_CPUS}; ${loadLine()}`,
  );

  const pg = await realPostgres();
  const ours = await startOurHost({ rtcMinPort: 41_990, db: pg.db });
  pinPid(ours.host.pool.workers[0]!.pid, SERVER_CPUS);
  const meetingId = await ours.createMeeting(CONC + 10);
  const { room, peer } = await ours.host.rooms.join(ours.claims(meetingId), countingConnection(0));
  const ingress = await plainTransportInRoom(room, peer, {
    listenInfo: { protocol: "udp", ip: "127.0.0.1", portRange: { min: 42_000, max: 42_999 } },
    rtcpMux: true,
    comedia: true,
  });
  await room.produce(peer, {
    transport_id: ingress.id,
    kind: "video",
    source: "camera",
    rtp_parameters: VIDEO_PARAMS as never,
  });

  const worker = await mediasoup.createWorker({ workerBin, logLevel: "warn" });
  pinPid(worker.pid, SERVER_CPUS);
  const router = await worker.createRouter({
    mediaCodecs: [
      { kind: "audio", mimeType: "audio/opus", clockRate: 48_000, channels: 2 },
      { kind: "video", mimeType: "video/VP8", clockRate: 90_000 },
    ],
  });
  const server = await worker.createWebRtcServer({
    listenInfos: [
      { protocol: "udp", ip: "127.0.0.1", port: 43_000 },
      { protocol: "tcp", ip: "127.0.0.1", port: 43_000 },
    ],
  });
  const bareIn = await router.createPlainTransport({
    listenInfo: { protocol: "udp", ip: "127.0.0.1", portRange: { min: 43_001, max: 43_999 } },
    rtcpMux: true,
    comedia: true,
  });
  const bareProducer = await bareIn.produce({
    kind: "video",
    rtpParameters: VIDEO_PARAMS as ms.RtpParameters,
  });

  const tokens = async (n: number) => Promise.all(Array.from({ length: n }, () => ours.token(meetingId)));
  // Warm both paths (JIT, first transport on the WebRtcServer) before anything is recorded.
  for (const t of await tokens(5)) await oursJoin(ours.host.wsUrl, t);
  for (let i = 0; i < 5; i++) await bareJoin(router, server, bareProducer.id);

  const oursSeq: Sample[] = [];
  const bareSeq: Sample[] = [];
  const oursConc: Sample[] = [];
  const bareConc: Sample[] = [];
  // Alternate in blocks of ten so drifting machine load lands on both.
  for (let block = 0; block < SEQ / 10; block++) {
    for (const t of await tokens(10)) oursSeq.push(await oursJoin(ours.host.wsUrl, t));
    for (let i = 0; i < 10; i++) bareSeq.push(await bareJoin(router, server, bareProducer.id));
  }
  for (let wave = 0; wave < WAVES; wave++) {
    const ts = await tokens(CONC);
    oursConc.push(...(await Promise.all(ts.map((t) => oursJoin(ours.host.wsUrl, t)))));
    bareConc.push(
      ...(await Promise.all(Array.from({ length: CONC }, () => bareJoin(router, server, bareProducer.id)))),
    );
    // Our peers leave on close (grace 0); let the room settle before the next wave.
    const deadline = Date.now() + 10_000;
    while (room.peers.size > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  console.log(`\n${loadLine()}`);
  console.log("| path | joins | p50 ms | p99 ms | max ms |");
  console.log("| --- | --- | --- | --- | --- |");
  console.log(
    line(
      `ours, ${SEQ} sequential: join-meeting -> consumer resumed`,
      oursSeq.map((s) => s.readyMs),
    ),
  );
  console.log(
    line(
      "  of which join-meeting ack",
      oursSeq.map((s) => s.joinAckMs),
    ),
  );
  console.log(
    line(
      "  WebSocket upgrade (token, meeting lookup) before it",
      oursSeq.map((s) => s.connectMs),
    ),
  );
  console.log(
    line(
      `bare mediasoup in-process, ${SEQ} sequential: transport+consume+resume`,
      bareSeq.map((s) => s.readyMs),
    ),
  );
  console.log(
    line(
      `ours, ${CONC} concurrent x ${WAVES} waves: join-meeting -> consumer resumed`,
      oursConc.map((s) => s.readyMs),
    ),
  );
  console.log(
    line(
      "  of which join-meeting ack",
      oursConc.map((s) => s.joinAckMs),
    ),
  );
  console.log(
    line(
      "  WebSocket upgrade before it",
      oursConc.map((s) => s.connectMs),
    ),
  );
  console.log(
    line(
      `bare mediasoup in-process, ${CONC} concurrent x ${WAVES}`,
      bareConc.map((s) => s.readyMs),
    ),
  );
  console.log(
    `p50 ratio ours/bare: sequential ${(
      pct(
        50,
        oursSeq.map((s) => s.readyMs),
      ) /
        pct(
          50,
          bareSeq.map((s) => s.readyMs),
        )
    ).toFixed(2)}, ` +
      `concurrent ${(
        pct(
          50,
          oursConc.map((s) => s.readyMs),
        ) /
          pct(
            50,
            bareConc.map((s) => s.readyMs),
          )
      ).toFixed(2)}`,
  );
  worker.close();
  await ours.close();
  await pg.stop();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
