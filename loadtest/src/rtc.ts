/**
 * Lightweight real WebRTC endpoints on node-datachannel (libdatachannel: libjuice ICE, OpenSSL DTLS, libsrtp
 * SRTP/SRTCP) speaking to mediasoup the way mediasoup-client does, but with SDP written here from the
 * transport parameters the host answers, and no codec anywhere:
 *
 * - a publisher's send PeerConnection carries one VP8 and one Opus track whose RTP comes from the
 *   pre-encoded clip (clip.ts); a NACK responder on the video track retransmits what mediasoup asks for;
 * - a receiver's PeerConnection takes every consumer of one subscriber in one BUNDLE, counts RTP by SSRC
 *   (packets, bytes, sequence gaps) and answers with RTCP receiver reports (RtcpReceivingSession), from which
 *   mediasoup computes the RTT and loss it reports.
 */
import nodeDataChannel, { type PeerConnection, type Track } from "node-datachannel";

export interface IceParams {
  usernameFragment: string;
  password: string;
}
export interface IceCand {
  foundation: string;
  priority: number;
  address: string;
  protocol: "udp" | "tcp";
  port: number;
  type: string;
}
export interface DtlsParams {
  [key: string]: unknown;
  role?: "auto" | "client" | "server";
  fingerprints: { [key: string]: unknown; algorithm: string; value: string }[];
}
export interface TransportAck {
  transport_id: string;
  ice_parameters: IceParams;
  ice_candidates: IceCand[];
  dtls_parameters: DtlsParams;
}

/** One codec as the router offers it (a subset of mediasoup's RtpCodecCapability). */
export interface RouterCodec {
  kind: "audio" | "video";
  mimeType: string;
  clockRate: number;
  channels?: number;
  preferredPayloadType?: number;
  parameters?: Record<string, unknown>;
}

const FEEDBACK_VIDEO = [
  { type: "nack", parameter: "" },
  { type: "nack", parameter: "pli" },
  { type: "ccm", parameter: "fir" },
];

let quietLogs = false;
/** libdatachannel logs warnings to stderr by default; the load tester keeps only errors. */
export function quietRtcLogs(): void {
  if (quietLogs) return;
  quietLogs = true;
  nodeDataChannel.initLogger("Error", (_level, message) => process.stderr.write(`[rtc] ${message}\n`));
}

function fingerprintOf(sdp: string): string {
  const m = /a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/.exec(sdp);
  if (!m?.[1]) throw new Error("local SDP has no sha-256 fingerprint");
  return m[1];
}

function setupOf(sdp: string): string {
  return /a=setup:(\w+)/.exec(sdp)?.[1] ?? "active";
}

function sessionLines(mids: string[]): string[] {
  return [
    "v=0",
    `o=mediasoup ${Math.floor(Math.random() * 1e9)} 1 IN IP4 0.0.0.0`,
    "s=-",
    "t=0 0",
    "a=ice-lite",
    `a=group:BUNDLE ${mids.join(" ")}`,
    "a=msid-semantic: WMS *",
  ];
}

function transportLines(t: TransportAck, setup: string): string[] {
  const fp = t.dtls_parameters.fingerprints.find((f) => f.algorithm === "sha-256");
  if (!fp) throw new Error("the host offered no sha-256 DTLS fingerprint");
  const lines = [
    "c=IN IP4 0.0.0.0",
    `a=ice-ufrag:${t.ice_parameters.usernameFragment}`,
    `a=ice-pwd:${t.ice_parameters.password}`,
    `a=fingerprint:sha-256 ${fp.value}`,
    `a=setup:${setup}`,
    "a=rtcp-mux",
    "a=rtcp-rsize",
  ];
  for (const c of t.ice_candidates) {
    if (c.protocol !== "udp") continue; // libjuice speaks ICE over UDP only
    lines.push(`a=candidate:${c.foundation} 1 udp ${c.priority} ${c.address} ${c.port} typ ${c.type}`);
  }
  lines.push("a=end-of-candidates");
  return lines;
}

function codecLines(pt: number, codec: { mimeType: string; clockRate: number; channels?: number }) {
  const name = codec.mimeType.split("/")[1] ?? codec.mimeType;
  const lines = [`a=rtpmap:${pt} ${name}/${codec.clockRate}${codec.channels ? `/${codec.channels}` : ""}`];
  if (codec.mimeType.toLowerCase() === "video/vp8") {
    for (const fb of FEEDBACK_VIDEO)
      lines.push(`a=rtcp-fb:${pt} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ""}`);
  }
  if (codec.mimeType.toLowerCase() === "audio/opus") lines.push(`a=fmtp:${pt} minptime=10;useinbandfec=1`);
  return lines;
}

function waitFor<T>(
  register: (done: (value: T) => void) => void,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)),
      timeoutMs,
    );
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

const RTCP_NACK = 205;
const RTCP_PSFB = 206;

/** Counts what arrives on a send track: RTCP feedback from the SFU (NACKs, PLIs, FIRs). */
function countFeedback(msg: Buffer, into: { nacks: number; plis: number; firs: number }): void {
  // A compound RTCP packet: walk its parts.
  for (let at = 0; at + 4 <= msg.length; ) {
    const fmt = (msg[at] as number) & 0x1f;
    const pt = msg[at + 1] as number;
    const len = (msg.readUInt16BE(at + 2) + 1) * 4;
    if (pt === RTCP_NACK && fmt === 1) into.nacks++;
    if (pt === RTCP_PSFB && fmt === 1) into.plis++;
    if (pt === RTCP_PSFB && fmt === 4) into.firs++;
    if (len <= 0) break;
    at += len;
  }
}

export interface SendingTracks {
  video: Track;
  audio: Track;
  videoPt: number;
  audioPt: number;
  videoSsrc: number;
  audioSsrc: number;
  /** RTCP feedback received from the SFU on this publisher's tracks. */
  feedback: { nacks: number; plis: number; firs: number };
}

/** A publisher's send transport: returns the tracks once DTLS is up and the rtp_parameters to produce with. */
export class RtcSender {
  readonly pc: PeerConnection;
  readonly tracks: SendingTracks;
  private readonly cname: string;

  constructor(name: string, videoSsrc: number, audioSsrc: number, videoPt = 96, audioPt = 111) {
    quietRtcLogs();
    this.cname = `load-${name}`;
    this.pc = new nodeDataChannel.PeerConnection(name, { iceServers: [], disableAutoNegotiation: true });
    const video = new nodeDataChannel.Video("0", "SendOnly");
    video.addVP8Codec(videoPt);
    video.addSSRC(videoSsrc, this.cname, `${name}-stream`, `${name}-video`);
    const audio = new nodeDataChannel.Audio("1", "SendOnly");
    audio.addOpusCodec(audioPt);
    audio.addSSRC(audioSsrc, this.cname, `${name}-stream`, `${name}-audio`);
    const vt = this.pc.addTrack(video);
    const at = this.pc.addTrack(audio);
    // Keeps the last packets sent and resends the ones a NACK names.
    vt.setMediaHandler(new nodeDataChannel.RtcpNackResponder(1024));
    const feedback = { nacks: 0, plis: 0, firs: 0 };
    vt.onMessage((m) => countFeedback(m, feedback));
    at.onMessage((m) => countFeedback(m, feedback));
    this.tracks = { video: vt, audio: at, videoPt, audioPt, videoSsrc, audioSsrc, feedback };
  }

  /** Our offer, answered with the host's parameters; resolves with the DTLS parameters for connect-transport. */
  async negotiate(t: TransportAck, timeoutMs = 30_000): Promise<DtlsParams> {
    const offer = waitFor<string>(
      (done) => this.pc.onLocalDescription((sdp) => done(sdp)),
      "local offer",
      timeoutMs,
    );
    this.pc.setLocalDescription("offer");
    const sdp = await offer;
    const fingerprint = fingerprintOf(sdp);
    // We are the DTLS client (active), as mediasoup-client's send transports are.
    const lines = sessionLines(["0", "1"]);
    const { videoPt, audioPt } = this.tracks;
    lines.push(`m=video 7 UDP/TLS/RTP/SAVPF ${videoPt}`, ...transportLines(t, "passive"));
    lines.push("a=mid:0", "a=recvonly", ...codecLines(videoPt, { mimeType: "video/VP8", clockRate: 90_000 }));
    lines.push(`m=audio 7 UDP/TLS/RTP/SAVPF ${audioPt}`, ...transportLines(t, "passive"));
    lines.push(
      "a=mid:1",
      "a=recvonly",
      ...codecLines(audioPt, { mimeType: "audio/opus", clockRate: 48_000, channels: 2 }),
    );
    this.pc.setRemoteDescription(`${lines.join("\r\n")}\r\n`, "answer");
    return { role: "client", fingerprints: [{ algorithm: "sha-256", value: fingerprint }] };
  }

  /** rtp_parameters of the produce requests, matching the SSRCs and payload types the tracks send. */
  rtpParameters(kind: "video" | "audio"): Record<string, unknown> {
    const t = this.tracks;
    if (kind === "video") {
      return {
        mid: "0",
        codecs: [
          { mimeType: "video/VP8", payloadType: t.videoPt, clockRate: 90_000, rtcpFeedback: FEEDBACK_VIDEO },
        ],
        headerExtensions: [],
        encodings: [{ ssrc: t.videoSsrc }],
        rtcp: { cname: this.cname, reducedSize: true },
      };
    }
    return {
      mid: "1",
      codecs: [
        {
          mimeType: "audio/opus",
          payloadType: t.audioPt,
          clockRate: 48_000,
          channels: 2,
          parameters: { minptime: 10, useinbandfec: 1 },
          rtcpFeedback: [],
        },
      ],
      headerExtensions: [],
      encodings: [{ ssrc: t.audioSsrc }],
      rtcp: { cname: this.cname, reducedSize: true },
    };
  }

  opened(timeoutMs = 30_000): Promise<void> {
    const open = (track: Track) =>
      track.isOpen()
        ? Promise.resolve()
        : waitFor<void>((done) => track.onOpen(() => done()), "send track open (ICE + DTLS)", timeoutMs);
    return Promise.all([open(this.tracks.video), open(this.tracks.audio)]).then(() => {});
  }

  close(): void {
    try {
      this.pc.close();
    } catch {}
  }
}

/** What a receiver counted on one SSRC. */
export interface StreamCount {
  kind: "audio" | "video";
  packets: number;
  bytes: number;
  /** First extended sequence number seen and the highest. */
  firstSeq: number;
  maxSeq: number;
  /** Wall time (performance.now()) of the first packet. */
  firstAt: number;
}

export interface ConsumerSpec {
  consumerId: string;
  kind: "audio" | "video";
  /** The consumer's rtp_parameters as the host answered them. */
  rtpParameters: {
    mid?: string;
    codecs: { mimeType: string; payloadType: number; clockRate: number; channels?: number }[];
    encodings?: { ssrc?: number; rtx?: { ssrc: number } }[];
    rtcp?: { cname?: string };
  };
}

/** The receive transport of one subscriber: every consumer in one offer, counted by SSRC. */
export class RtcReceiver {
  readonly pc: PeerConnection;
  readonly streams = new Map<number, StreamCount>();
  readonly tracks: Track[] = [];
  /** Packets that were RTCP (sender reports) rather than media. */
  rtcpPackets = 0;
  private kindBySsrc = new Map<number, "audio" | "video">();

  constructor(name: string) {
    quietRtcLogs();
    this.pc = new nodeDataChannel.PeerConnection(name, { iceServers: [], disableAutoNegotiation: false });
    this.pc.onTrack((track) => this.attach(track));
  }

  private attach(track: Track): void {
    this.tracks.push(track);
    // Sends receiver reports (and answers the SFU's sender reports) for what arrives.
    track.setMediaHandler(new nodeDataChannel.RtcpReceivingSession());
    track.onMessage((msg) => this.count(msg));
  }

  private count(msg: Buffer): void {
    if (msg.length < 12) return;
    const pt = (msg[1] as number) & 0x7f;
    const b1 = msg[1] as number;
    if (b1 >= 192 && b1 <= 223) {
      this.rtcpPackets++;
      return;
    }
    const ssrc = msg.readUInt32BE(8);
    const seq = msg.readUInt16BE(2);
    let s = this.streams.get(ssrc);
    if (!s) {
      s = {
        kind: this.kindBySsrc.get(ssrc) ?? (pt >= 96 && pt < 100 ? "video" : "audio"),
        packets: 0,
        bytes: 0,
        firstSeq: seq,
        maxSeq: seq,
        firstAt: performance.now(),
      };
      this.streams.set(ssrc, s);
    }
    s.packets++;
    s.bytes += msg.length;
    // Extend the 16-bit sequence number around the highest seen so far.
    const cycles = s.maxSeq - (s.maxSeq & 0xffff);
    let ext = cycles + seq;
    if (ext < s.maxSeq - 0x8000) ext += 0x10000;
    else if (ext > s.maxSeq + 0x8000) ext -= 0x10000;
    if (ext > s.maxSeq) s.maxSeq = ext;
    if (ext < s.firstSeq) s.firstSeq = ext;
  }

  /** Applies the host's offer for these consumers; resolves with the DTLS parameters for connect-transport. */
  async negotiate(t: TransportAck, consumers: ConsumerSpec[], timeoutMs = 30_000): Promise<DtlsParams> {
    const mids = consumers.map((c, i) => c.rtpParameters.mid ?? String(i));
    const lines = sessionLines(mids);
    consumers.forEach((c, i) => {
      const codec = c.rtpParameters.codecs[0];
      if (!codec) throw new Error(`consumer ${c.consumerId} has no codec`);
      const enc = c.rtpParameters.encodings?.[0];
      if (enc?.ssrc !== undefined) this.kindBySsrc.set(enc.ssrc, c.kind);
      lines.push(`m=${c.kind} 7 UDP/TLS/RTP/SAVPF ${codec.payloadType}`, ...transportLines(t, "actpass"));
      lines.push(`a=mid:${mids[i]}`, "a=sendonly", ...codecLines(codec.payloadType, codec));
      if (enc?.ssrc !== undefined) {
        const cname = c.rtpParameters.rtcp?.cname ?? "sfu";
        lines.push(`a=ssrc:${enc.ssrc} cname:${cname}`, `a=msid:${cname} ${c.consumerId}`);
      }
    });
    const answer = waitFor<string>(
      (done) => this.pc.onLocalDescription((sdp, type) => type === "answer" && done(sdp)),
      "local answer",
      timeoutMs,
    );
    this.pc.setRemoteDescription(`${lines.join("\r\n")}\r\n`, "offer");
    const sdp = this.pc.localDescription()?.sdp ?? (await answer);
    const role = setupOf(sdp) === "passive" ? "server" : "client";
    return { role, fingerprints: [{ algorithm: "sha-256", value: fingerprintOf(sdp) }] };
  }

  /** Asks the SFU for a key frame on every video track (PLI). */
  requestKeyframes(): number {
    let n = 0;
    for (const t of this.tracks) if (t.type() === "video" && t.requestKeyframe()) n++;
    return n;
  }

  totals(): { packets: number; bytes: number; expected: number; firstPacketAt: number | null } {
    let packets = 0;
    let bytes = 0;
    let expected = 0;
    let firstPacketAt: number | null = null;
    for (const s of this.streams.values()) {
      packets += s.packets;
      bytes += s.bytes;
      expected += s.maxSeq - s.firstSeq + 1;
      if (firstPacketAt === null || s.firstAt < firstPacketAt) firstPacketAt = s.firstAt;
    }
    return { packets, bytes, expected, firstPacketAt };
  }

  close(): void {
    try {
      this.pc.close();
    } catch {}
  }
}
