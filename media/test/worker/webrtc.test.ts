// A real WebRTC peer (libwebrtc via @roamhq/wrtc, driven by mediasoup-client's
// Chrome111 handler) sends a synthetic video track through the worker to a
// second peer: ICE + DTLS must complete on both WebRtcTransports (one of them
// behind a WebRtcServer) and the receiving peer must decode frames.
// This is the path that crashed the worker in SSL_read against Debian's
// OpenSSL 3 before patches/0001-dtls-bio-callback-return-value.patch.
import wrtc from "@roamhq/wrtc";
import type { Producer, Router, WebRtcServer, WebRtcTransport, Worker } from "mediasoup/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOOPBACK, rtcRange, startWorker, waitFor } from "./helpers.js";

// mediasoup-client's Chrome111 handler uses the browser globals.
Object.assign(globalThis, {
  RTCPeerConnection: wrtc.RTCPeerConnection,
  RTCSessionDescription: wrtc.RTCSessionDescription,
  RTCIceCandidate: wrtc.RTCIceCandidate,
  MediaStream: wrtc.MediaStream,
  MediaStreamTrack: wrtc.MediaStreamTrack,
  RTCRtpSender: wrtc.RTCRtpSender,
  RTCRtpReceiver: wrtc.RTCRtpReceiver,
  RTCRtpTransceiver: wrtc.RTCRtpTransceiver,
});
// Imported after the globals exist (its handlers read them at call time, but
// keep the order obvious).
const { Device } = await import("mediasoup-client");
type ClientTransport = ReturnType<InstanceType<typeof Device>["createSendTransport"]>;

let worker: Worker;
let router: Router;
let webRtcServer: WebRtcServer;

beforeAll(async () => {
  ({ worker, router } = await startWorker(await rtcRange(50)));
  webRtcServer = await worker.createWebRtcServer({ listenInfos: [{ protocol: "udp", ip: LOOPBACK }] });
});

afterAll(() => {
  worker?.close();
});

function wireTransport(client: ClientTransport, server: WebRtcTransport) {
  client.on("connect", ({ dtlsParameters }, callback, errback) => {
    server.connect({ dtlsParameters }).then(callback, errback);
  });
}

/** I420 frame whose luma moves every frame so the encoder has real work. */
function syntheticFrame(width: number, height: number, n: number) {
  const data = new Uint8Array((width * height * 3) / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = (x + y + n * 4) & 0xff;
  }
  data.fill(128, width * height);
  return { width, height, data };
}

describe("WebRtcTransport with a real WebRTC peer", () => {
  it("completes ICE and DTLS and the consuming peer decodes video frames", async () => {
    const source = new wrtc.nonstandard.RTCVideoSource();
    const track = source.createTrack();
    let frameNo = 0;
    const pump = setInterval(() => source.onFrame(syntheticFrame(320, 240, frameNo++)), 66);
    const clients: ClientTransport[] = [];
    try {
      // Sending side through the WebRtcServer, receiving side with its own port.
      const serverSend = await router.createWebRtcTransport({ webRtcServer });
      const serverRecv = await router.createWebRtcTransport({
        listenInfos: [{ protocol: "udp", ip: LOOPBACK }],
      });
      expect(serverSend.iceCandidates.every((c) => c.address === LOOPBACK)).toBe(true);
      expect(serverRecv.iceCandidates.every((c) => c.address === LOOPBACK)).toBe(true);

      const sendDevice = new Device({ handlerName: "Chrome111" });
      await sendDevice.load({ routerRtpCapabilities: router.rtpCapabilities });
      const recvDevice = new Device({ handlerName: "Chrome111" });
      await recvDevice.load({ routerRtpCapabilities: router.rtpCapabilities });

      const clientSend = sendDevice.createSendTransport({
        id: serverSend.id,
        iceParameters: serverSend.iceParameters,
        iceCandidates: serverSend.iceCandidates,
        dtlsParameters: serverSend.dtlsParameters,
      });
      clients.push(clientSend);
      wireTransport(clientSend, serverSend);
      let serverProducer: Producer | undefined;
      clientSend.on("produce", ({ kind, rtpParameters }, callback, errback) => {
        serverSend.produce({ kind, rtpParameters }).then((p) => {
          serverProducer = p;
          callback({ id: p.id });
        }, errback);
      });

      const clientProducer = await clientSend.produce({ track });

      const clientRecv = recvDevice.createRecvTransport({
        id: serverRecv.id,
        iceParameters: serverRecv.iceParameters,
        iceCandidates: serverRecv.iceCandidates,
        dtlsParameters: serverRecv.dtlsParameters,
      });
      clients.push(clientRecv);
      wireTransport(clientRecv, serverRecv);

      const serverConsumer = await serverRecv.consume({
        producerId: clientProducer.id,
        rtpCapabilities: recvDevice.rtpCapabilities,
        paused: true,
      });
      const clientConsumer = await clientRecv.consume({
        id: serverConsumer.id,
        producerId: serverConsumer.producerId,
        kind: serverConsumer.kind,
        rtpParameters: serverConsumer.rtpParameters,
      });
      await serverConsumer.resume();

      await waitFor("DTLS connected on both transports", () =>
        serverSend.dtlsState === "connected" && serverRecv.dtlsState === "connected" ? true : undefined,
      );
      expect(["connected", "completed"]).toContain(serverSend.iceState);
      expect(["connected", "completed"]).toContain(serverRecv.iceState);

      const mid = clientConsumer.rtpParameters.mid;
      const ssrc = clientConsumer.rtpParameters.encodings?.[0]?.ssrc;
      // The receive transport may also hold mediasoup-client's probator
      // receiver (mid "probator", ssrc 1234) that never decodes anything,
      // so pick the consumer's own inbound-rtp by mid / ssrc.
      const framesDecoded = await waitFor(
        "framesDecoded > 0 on the consumer's inbound-rtp",
        async () => {
          const report = await clientRecv.getStats();
          for (const s of report.values()) {
            if (s.type !== "inbound-rtp" || s.kind !== "video") continue;
            if (s.mid !== undefined ? s.mid !== mid : s.ssrc !== ssrc) continue;
            if ((s.framesDecoded ?? 0) > 0) return s.framesDecoded as number;
          }
          return 0;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(framesDecoded).toBeGreaterThan(0);

      const producerStats = (await serverProducer?.getStats()) ?? [];
      expect(producerStats.some((s) => s.type === "inbound-rtp" && s.packetCount > 0)).toBe(true);
      const consumerStats = await serverConsumer.getStats();
      expect(consumerStats.some((s) => s.type === "outbound-rtp" && s.packetCount > 0)).toBe(true);
    } finally {
      clearInterval(pump);
      track.stop();
      for (const c of clients) c.close();
    }
  });
});
