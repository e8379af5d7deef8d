// Plain RTP and SRTP through the provisioned worker: ffmpeg (or a tiny RTP
// sender) feeds a PlainTransport producer, a consumer on a second
// PlainTransport forwards to a UDP socket that counts packets.
import { randomBytes } from "node:crypto";
import type {
  MediaKind,
  PlainTransport,
  Producer,
  Router,
  RtpParameters,
  SrtpCryptoSuite,
  Worker,
} from "mediasoup/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffmpeg, LOOPBACK, rtcRange, rtpCounter, sendRtp, startWorker, waitFor } from "./helpers.js";

let worker: Worker;
let router: Router;

beforeAll(async () => {
  ({ worker, router } = await startWorker(await rtcRange(50)));
});

afterAll(() => {
  worker?.close();
});

async function plainTransport(
  opts: { comedia?: boolean; enableSrtp?: boolean; srtpCryptoSuite?: SrtpCryptoSuite } = {},
) {
  return router.createPlainTransport({
    listenInfo: { protocol: "udp", ip: LOOPBACK },
    rtcpMux: true,
    ...opts,
  });
}

async function packetCount(producer: Producer): Promise<number> {
  const stats = await producer.getStats();
  return stats.reduce((n, s) => n + (s.type === "inbound-rtp" ? s.packetCount : 0), 0);
}

/** Consumes `producer` on a fresh PlainTransport that sends to a counting UDP socket. */
async function consumeToSocket(producer: Producer) {
  const counter = await rtpCounter();
  const transport = await plainTransport({ comedia: false });
  await transport.connect({ ip: LOOPBACK, port: counter.port });
  const consumer = await transport.consume({
    producerId: producer.id,
    rtpCapabilities: router.rtpCapabilities,
  });
  const pt = consumer.rtpParameters.codecs[0]!.payloadType;
  return {
    counter,
    pt,
    close() {
      transport.close();
      counter.close();
    },
  };
}

interface CodecCase {
  name: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
  ffmpegArgs: string[];
}

const SSRC = 0x1234_5678;

const CASES: CodecCase[] = [
  {
    name: "VP8",
    kind: "video",
    rtpParameters: {
      codecs: [{ mimeType: "video/VP8", payloadType: 101, clockRate: 90000 }],
      encodings: [{ ssrc: SSRC }],
    },
    ffmpegArgs: [
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=15",
      "-c:v",
      "libvpx",
      "-deadline",
      "realtime",
    ],
  },
  {
    name: "VP9",
    kind: "video",
    rtpParameters: {
      codecs: [
        { mimeType: "video/VP9", payloadType: 103, clockRate: 90000, parameters: { "profile-id": 0 } },
      ],
      encodings: [{ ssrc: SSRC }],
    },
    ffmpegArgs: [
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=15",
      "-c:v",
      "libvpx-vp9",
      "-deadline",
      "realtime",
      "-cpu-used",
      "8",
      // ffmpeg marks its VP9 RTP packetizer experimental.
      "-strict",
      "experimental",
    ],
  },
  {
    name: "H264",
    kind: "video",
    rtpParameters: {
      codecs: [
        {
          mimeType: "video/H264",
          payloadType: 105,
          clockRate: 90000,
          parameters: { "packetization-mode": 1, "profile-level-id": "42e01f" },
        },
      ],
      encodings: [{ ssrc: SSRC }],
    },
    ffmpegArgs: [
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=15",
      "-c:v",
      "libx264",
      "-profile:v",
      "baseline",
      "-pix_fmt",
      "yuv420p",
      "-tune",
      "zerolatency",
      "-preset",
      "ultrafast",
    ],
  },
  {
    name: "Opus",
    kind: "audio",
    rtpParameters: {
      codecs: [{ mimeType: "audio/opus", payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: SSRC }],
    },
    ffmpegArgs: ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "libopus", "-ac", "2"],
  },
];

function ffmpegRtpOut(c: CodecCase, port: number, extra: string[] = [], scheme = "rtp") {
  const pt = c.rtpParameters.codecs[0]!.payloadType;
  const gop = c.kind === "video" ? ["-g", "15", "-an"] : ["-vn"];
  return [
    "-re",
    ...c.ffmpegArgs,
    ...gop,
    "-t",
    "20",
    "-payload_type",
    String(pt),
    "-ssrc",
    String(SSRC),
    ...extra,
    // ffmpeg sends RTCP from a second local port; with comedia the transport
    // would lock onto whichever port speaks first, so send RTP only.
    "-rtpflags",
    "skip_rtcp",
    "-f",
    "rtp",
    `${scheme}://${LOOPBACK}:${port}?pkt_size=1200`,
  ];
}

describe("PlainTransport RTP", () => {
  it("router advertises VP8, VP9, H264 and Opus", () => {
    const mimeTypes = router.rtpCapabilities.codecs?.map((c) => c.mimeType) ?? [];
    expect(mimeTypes).toEqual(expect.arrayContaining(["audio/opus", "video/VP8", "video/VP9", "video/H264"]));
  });

  it.each(CASES)("forwards $name from an ffmpeg producer to a consumer", async (c) => {
    const ingress = await plainTransport({ comedia: true });
    const producer = await ingress.produce({ kind: c.kind, rtpParameters: c.rtpParameters });
    const out = await consumeToSocket(producer);
    const ff = ffmpeg(ffmpegRtpOut(c, ingress.tuple.localPort));
    try {
      await waitFor(
        () => `${c.name} packets at the consumer socket (ffmpeg: ${ff.stderr()})`,
        () => out.counter.count(out.pt) >= 20,
      );
      expect(await packetCount(producer)).toBeGreaterThan(0);
    } finally {
      await ff.stop();
      out.close();
      ingress.close();
    }
  });
});

describe("PlainTransport SRTP", () => {
  it("decrypts AES_CM_128_HMAC_SHA1_80 from ffmpeg's srtp muxer", async () => {
    const keyBase64 = randomBytes(30).toString("base64");
    const ingress = await plainTransport({
      comedia: true,
      enableSrtp: true,
      srtpCryptoSuite: "AES_CM_128_HMAC_SHA1_80",
    });
    await ingress.connect({ srtpParameters: { cryptoSuite: "AES_CM_128_HMAC_SHA1_80", keyBase64 } });
    const opus = CASES.find((c) => c.name === "Opus")!;
    const producer = await ingress.produce({ kind: "audio", rtpParameters: opus.rtpParameters });
    const out = await consumeToSocket(producer);
    const ff = ffmpeg(
      ffmpegRtpOut(
        opus,
        ingress.tuple.localPort,
        ["-srtp_out_suite", "AES_CM_128_HMAC_SHA1_80", "-srtp_out_params", keyBase64],
        "srtp",
      ),
    );
    try {
      await waitFor(
        () => `decrypted Opus at the consumer socket (ffmpeg: ${ff.stderr()})`,
        () => out.counter.count(out.pt) >= 20,
      );
      expect(await packetCount(producer)).toBeGreaterThan(0);
    } finally {
      await ff.stop();
      out.close();
      ingress.close();
    }
  });

  it.each<SrtpCryptoSuite>(["AES_CM_128_HMAC_SHA1_80", "AEAD_AES_256_GCM"])(
    "carries RTP between two PlainTransports connected with %s",
    async (suite) => {
      const transports: PlainTransport[] = [];
      let out: Awaited<ReturnType<typeof consumeToSocket>> | undefined;
      try {
        const ingress = await plainTransport({ comedia: true });
        const a = await plainTransport({ comedia: false, enableSrtp: true, srtpCryptoSuite: suite });
        const b = await plainTransport({ comedia: false, enableSrtp: true, srtpCryptoSuite: suite });
        transports.push(ingress, a, b);
        // Each side decrypts with the other's key.
        await a.connect({ ip: LOOPBACK, port: b.tuple.localPort, srtpParameters: b.srtpParameters });
        await b.connect({ ip: LOOPBACK, port: a.tuple.localPort, srtpParameters: a.srtpParameters });
        expect(a.srtpParameters?.cryptoSuite).toBe(suite);

        const opus = CASES.find((c) => c.name === "Opus")!;
        const source = await ingress.produce({ kind: "audio", rtpParameters: opus.rtpParameters });
        const sent = await a.consume({ producerId: source.id, rtpCapabilities: router.rtpCapabilities });
        const received = await b.produce({ kind: "audio", rtpParameters: sent.rtpParameters });
        out = await consumeToSocket(received);

        await sendRtp({
          port: ingress.tuple.localPort,
          payloadType: 100,
          ssrc: SSRC,
          count: 50,
          intervalMs: 10,
        });
        const counter = out.counter;
        const pt = out.pt;
        await waitFor("SRTP-relayed packets at the consumer socket", () => counter.count(pt) >= 40);
        expect(await packetCount(received)).toBeGreaterThanOrEqual(40);
      } finally {
        out?.close();
        for (const t of transports) t.close();
      }
    },
  );
});
