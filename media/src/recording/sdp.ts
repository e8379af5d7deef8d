import type { types as ms } from "mediasoup";

/** The container a codec is copied into without re-encoding: WebM holds VP8, VP9 and Opus; MKV holds H264. */
export function containerFor(mimeType: string): { ext: "webm" | "mkv"; format: "webm" | "matroska" } {
  const codec = mimeType.toLowerCase();
  if (codec === "video/h264") return { ext: "mkv", format: "matroska" };
  return { ext: "webm", format: "webm" };
}

/**
 * What the recorder asks of a producer: its own codec only (no RTX, no header extensions), so the consumer
 * sends exactly one plain RTP stream that ffmpeg's RTP demuxer understands.
 */
export function recorderCapabilities(router: ms.RtpCapabilities, producer: ms.Producer): ms.RtpCapabilities {
  const wanted = producer.rtpParameters.codecs[0]?.mimeType.toLowerCase();
  const codecs = (router.codecs ?? [])
    .filter((c) => c.kind === producer.kind && c.mimeType.toLowerCase() === wanted)
    .map((c) => ({
      ...c,
      rtcpFeedback:
        producer.kind === "video"
          ? [
              { type: "nack", parameter: "pli" },
              { type: "ccm", parameter: "fir" },
            ]
          : [],
    }));
  return { codecs, headerExtensions: [] };
}

/** A one-stream SDP telling ffmpeg where the consumer's RTP arrives and what it carries. */
export function sdpFor(consumer: ms.Consumer, ip: string, rtpPort: number, rtcpPort: number): string {
  const codec = consumer.rtpParameters.codecs[0];
  if (!codec) throw new Error("consumer has no codec");
  const pt = codec.payloadType;
  const name = codec.mimeType.split("/")[1] ?? "";
  const channels = consumer.kind === "audio" && codec.channels ? `/${codec.channels}` : "";
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, val]) => `${k}=${val}`)
    .join(";");
  return [
    "v=0",
    `o=- 0 0 IN IP4 ${ip}`,
    "s=nexus-recording",
    `c=IN IP4 ${ip}`,
    "t=0 0",
    `m=${consumer.kind} ${rtpPort} RTP/AVP ${pt}`,
    `a=rtcp:${rtcpPort}`,
    `a=rtpmap:${pt} ${name}/${codec.clockRate}${channels}`,
    ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : []),
    "a=recvonly",
    "",
  ].join("\r\n");
}
