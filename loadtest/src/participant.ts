/**
 * The two kinds of load participant: a publisher (send transport, one VP8 and one Opus producer fed from the
 * clip) and a subscriber (receive transport consuming every producer of its meeting's publishers).
 */
import type { SignalingClient } from "@nexus/shared/signaling/client";
import type { JoinedAck } from "@nexus/shared/signaling/requests";
import { type Clip, firstPictureId, framesPerLoop, pictureIdAt } from "./clip.js";
import { type ConsumerSpec, RtcReceiver, RtcSender, type TransportAck } from "./rtc.js";

const udpPorts = (t: TransportAck) => t.ice_candidates.filter((c) => c.protocol === "udp").map((c) => c.port);

export interface ProducerRef {
  producerId: string;
  kind: "audio" | "video";
}

export async function startPublisher(
  client: SignalingClient,
  name: string,
  ssrcBase: number,
): Promise<{ sender: RtcSender; producers: ProducerRef[]; sfuUdpPorts: number[] }> {
  const sender = new RtcSender(name, ssrcBase, ssrcBase + 1);
  try {
    const t = (await client.request("create-transport", { direction: "send" })) as TransportAck;
    const dtls = await sender.negotiate(t);
    await client.request("connect-transport", { transport_id: t.transport_id, dtls_parameters: dtls });
    await sender.opened();
    const producers: ProducerRef[] = [];
    for (const [kind, source] of [
      ["video", "camera"],
      ["audio", "mic"],
    ] as const) {
      const { producer_id } = await client.request("produce", {
        transport_id: t.transport_id,
        kind,
        rtp_parameters: sender.rtpParameters(kind) as never,
        source,
      });
      producers.push({ producerId: producer_id, kind });
    }
    return { sender, producers, sfuUdpPorts: udpPorts(t) };
  } catch (error) {
    sender.close();
    throw error;
  }
}

/** The router's VP8 and Opus, with the feedback these receivers handle and no header extensions. */
export function receiverCapabilities(ack: JoinedAck): Record<string, unknown> {
  const caps = ack.router_rtp_capabilities as { codecs?: Record<string, unknown>[] };
  const codecs = (caps.codecs ?? [])
    .filter((c) => {
      const mime = String(c.mimeType).toLowerCase();
      return mime === "video/vp8" || mime === "audio/opus";
    })
    .map((c) => ({
      ...c,
      rtcpFeedback:
        c.kind === "video"
          ? [
              { type: "nack", parameter: "" },
              { type: "nack", parameter: "pli" },
              { type: "ccm", parameter: "fir" },
            ]
          : [],
    }));
  return { codecs, headerExtensions: [] };
}

export interface Subscription {
  receiver: RtcReceiver;
  transportId: string;
  /** The SFU's UDP ports this transport talks to (from its ICE candidates). */
  sfuUdpPorts: number[];
  consumers: (ConsumerSpec & { producerId: string })[];
}

/** Consumes the given producers over one receive transport and resumes them once the transport is set. */
export async function startSubscriber(
  client: SignalingClient,
  ack: JoinedAck,
  name: string,
  producers: ProducerRef[],
): Promise<Subscription> {
  const receiver = new RtcReceiver(name);
  try {
    const t = (await client.request("create-transport", { direction: "recv" })) as TransportAck;
    const caps = receiverCapabilities(ack);
    const consumers: Subscription["consumers"] = [];
    for (const p of producers) {
      const c = await client.request("consume", {
        transport_id: t.transport_id,
        producer_id: p.producerId,
        rtp_capabilities: caps as never,
      });
      consumers.push({
        consumerId: c.consumer_id,
        producerId: p.producerId,
        kind: c.kind,
        rtpParameters: c.rtp_parameters as ConsumerSpec["rtpParameters"],
      });
    }
    const dtls = await receiver.negotiate(t, consumers);
    await client.request("connect-transport", { transport_id: t.transport_id, dtls_parameters: dtls });
    for (const c of consumers) await client.request("resume-consumer", { consumer_id: c.consumerId });
    return { receiver, transportId: t.transport_id, consumers, sfuUdpPorts: udpPorts(t) };
  } catch (error) {
    receiver.close();
    throw error;
  }
}

interface StreamState {
  list: Buffer[];
  due: Float64Array;
  clock: number;
  pt: number;
  ssrc: number;
  i: number;
  loop: number;
  seq: number;
  video: boolean;
}

interface Feed {
  sender: RtcSender;
  startedAt: number;
  streams: StreamState[];
  sentPackets: number;
  sentBytes: number;
  done: boolean;
}

/**
 * Replays the clip into every publisher's tracks at real-time pace from one timer. Each publisher sends
 * exactly the clip's packets due in its first `mediaSeconds`, so the packet count of a run is known from the
 * clip alone (packetsIn()).
 */
export class Pacer {
  private readonly feeds: Feed[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly framesPerLoop: number;
  private readonly firstPid: number;
  /** Sends that libdatachannel refused (track not open or closed). */
  refused = 0;

  constructor(
    private readonly clip: Clip,
    private readonly mediaSeconds: number,
  ) {
    this.framesPerLoop = framesPerLoop(clip);
    this.firstPid = firstPictureId(clip);
  }

  /**
   * Starts feeding this sender `delayMs` from now. Spreading the starts keeps the publishers' key frames
   * apart: real clients are not in lockstep, and a run whose publishers all send their key frame in the same
   * millisecond measures the burst, not the SFU.
   */
  add(sender: RtcSender, delayMs = 0): Feed {
    const t = sender.tracks;
    const feed: Feed = {
      sender,
      startedAt: performance.now() + delayMs,
      sentPackets: 0,
      sentBytes: 0,
      done: false,
      streams: [
        {
          list: this.clip.video,
          due: this.clip.videoDue,
          clock: 90_000,
          pt: t.videoPt,
          ssrc: t.videoSsrc,
          i: 0,
          loop: 0,
          seq: 1,
          video: true,
        },
        {
          list: this.clip.audio,
          due: this.clip.audioDue,
          clock: 48_000,
          pt: t.audioPt,
          ssrc: t.audioSsrc,
          i: 0,
          loop: 0,
          seq: 1,
          video: false,
        },
      ],
    };
    this.feeds.push(feed);
    this.timer ??= setInterval(() => this.tick(), 5);
    return feed;
  }

  get sentPackets(): number {
    return this.feeds.reduce((n, f) => n + f.sentPackets, 0);
  }
  get sentBytes(): number {
    return this.feeds.reduce((n, f) => n + f.sentBytes, 0);
  }
  /** True once every publisher has sent its whole share. */
  get finished(): boolean {
    return this.feeds.length > 0 && this.feeds.every((f) => f.done);
  }

  private tick(): void {
    const now = performance.now();
    const clip = this.clip;
    for (const f of this.feeds) {
      if (f.done) continue;
      if (now < f.startedAt) continue;
      const elapsed = Math.min((now - f.startedAt) / 1000, this.mediaSeconds);
      let ended = true;
      for (const s of f.streams) {
        for (;;) {
          const at = s.loop * clip.seconds + (s.due[s.i] as number);
          if (at >= this.mediaSeconds) break;
          ended = false;
          if (at > elapsed) break;
          const p = Buffer.from(s.list[s.i] as Buffer);
          p[1] = ((p[1] as number) & 0x80) | s.pt;
          p.writeUInt16BE(s.seq & 0xffff, 2);
          p.writeUInt32BE(Math.round(at * s.clock) >>> 0, 4);
          p.writeUInt32BE(s.ssrc, 8);
          if (s.video) {
            const pid = pictureIdAt(p);
            if (pid?.long) {
              const v = (p.readUInt16BE(pid.at) & 0x7fff) - this.firstPid + s.loop * this.framesPerLoop;
              p.writeUInt16BE(0x8000 | (v & 0x7fff), pid.at);
            } else if (pid) {
              p[pid.at] =
                (((p[pid.at] as number) & 0x7f) - this.firstPid + s.loop * this.framesPerLoop) & 0x7f;
            }
          }
          const track = s.video ? f.sender.tracks.video : f.sender.tracks.audio;
          let ok = false;
          try {
            ok = track.sendMessageBinary(p);
          } catch {}
          if (ok) {
            f.sentPackets++;
            f.sentBytes += p.length;
          } else {
            this.refused++;
          }
          s.seq++;
          s.i++;
          if (s.i === s.list.length) {
            s.i = 0;
            s.loop++;
          }
        }
      }
      if (ended) f.done = true;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
