// The host's byte counters (TransportBytes) against a real worker: a transport's traffic since the last
// periodic read is counted when it closes, and a WebRTC transport whose ICE never started (a listen-only
// participant's send transport, say) is closed without a stats request, as it has moved nothing.
import type { Router, Worker } from "mediasoup/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TransportBytes } from "../../src/sfu/transport-bytes.js";
import { LOOPBACK, rtcRange, sendRtp, startWorker, waitFor } from "./helpers.js";

let worker: Worker;
let router: Router;

beforeAll(async () => {
  ({ worker, router } = await startWorker(await rtcRange(50)));
});

afterAll(() => {
  worker?.close();
});

describe("TransportBytes", () => {
  it("counts on close what a transport received after the last periodic read", async () => {
    const bytes = new TransportBytes();
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: "udp", ip: LOOPBACK },
      rtcpMux: true,
      comedia: true,
    });
    const port = transport.tuple.localPort;
    await sendRtp({ port, payloadType: 100, ssrc: 1111, count: 5, intervalMs: 1 });
    await waitFor("the first packets to be counted", async () => {
      const [s] = await transport.getStats();
      return (s?.bytesReceived ?? 0) > 0;
    });
    await bytes.sample([transport]);
    const sampled = bytes.received;
    expect(sampled).toBeGreaterThan(0);

    await sendRtp({ port, payloadType: 100, ssrc: 1111, count: 5, intervalMs: 1 });
    await waitFor("the later packets to reach the transport", async () => {
      const [s] = await transport.getStats();
      return (s?.bytesReceived ?? 0) > sampled;
    });
    const [final] = await transport.getStats();
    bytes.beforeClose(transport);
    transport.close();
    await waitFor("the final read", () => bytes.received === final!.bytesReceived);
    // Read once more by a later sample (the transport is gone): nothing is counted twice.
    await bytes.sample([]);
    expect(bytes.received).toBe(final!.bytesReceived);
  });

  it("closes a WebRTC transport whose ICE never started without asking the worker for its stats", async () => {
    const bytes = new TransportBytes();
    const server = await worker.createWebRtcServer({
      listenInfos: [{ protocol: "udp", ip: LOOPBACK, port: 21459 }],
    });
    try {
      const transport = await router.createWebRtcTransport({ webRtcServer: server });
      await bytes.sample([transport]);
      expect(transport.iceState).toBe("new");
      const [stats] = await transport.getStats();
      expect(stats).toMatchObject({ bytesReceived: 0, bytesSent: 0 });
      let reads = 0;
      const getStats = transport.getStats.bind(transport);
      transport.getStats = () => {
        reads += 1;
        return getStats();
      };
      bytes.beforeClose(transport);
      transport.close();
      expect(reads).toBe(0);
      expect(bytes.received).toBe(0);
      expect(bytes.sent).toBe(0);
    } finally {
      server.close();
    }
  });
});
