import { SignalingClient } from "@nexus/shared/signaling/client";
import type { MediaSource } from "@nexus/shared/signaling/peer";
import type { JoinedAck } from "@nexus/shared/signaling/requests";
import wrtc from "@roamhq/wrtc";
import { Device, type types as mc } from "mediasoup-client";
import WebSocket from "ws";

// mediasoup-client's Chrome111 handler uses the browser globals; @roamhq/wrtc provides them in Node.
const g = globalThis as Record<string, unknown>;
for (const name of [
  "RTCPeerConnection",
  "RTCSessionDescription",
  "RTCIceCandidate",
  "MediaStream",
  "MediaStreamTrack",
  "RTCRtpSender",
  "RTCRtpReceiver",
  "RTCRtpTransceiver",
] as const) {
  g[name] ??= (wrtc as Record<string, unknown>)[name];
}

const { RTCVideoSource, RTCAudioSource } = wrtc.nonstandard;

/** Opens a socket to the media host; resolves with the client once open, rejects with the HTTP status if refused. */
export function connect(url: string): Promise<{ client: SignalingClient; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () =>
        reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode, body })),
      );
    });
    ws.once("error", (err) => reject(err));
    ws.once("open", () => resolve({ client: new SignalingClient(ws), ws }));
  });
}

export interface Feed {
  stop(): void;
}

export function videoFeed(width: number, height: number): { track: MediaStreamTrack; feed: Feed } {
  const source = new RTCVideoSource();
  const track = source.createTrack();
  const data = new Uint8Array(width * height * 1.5);
  let n = 0;
  const timer = setInterval(() => {
    // A moving gradient so the encoder has something to say in every frame.
    n = (n + 7) % 255;
    for (let i = 0; i < width * height; i += 97) data[i] = (i + n) % 255;
    source.onFrame({ width, height, data });
  }, 100);
  return {
    track: track as unknown as MediaStreamTrack,
    feed: {
      stop() {
        clearInterval(timer);
        track.stop();
      },
    },
  };
}

export function audioFeed(): { track: MediaStreamTrack; feed: Feed } {
  const source = new RTCAudioSource();
  const track = source.createTrack();
  const samples = new Int16Array(480);
  let phase = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < samples.length; i++) {
      samples[i] = Math.round(Math.sin(phase) * 8000);
      phase += (2 * Math.PI * 440) / 48000;
    }
    source.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
  }, 10);
  return {
    track: track as unknown as MediaStreamTrack,
    feed: {
      stop() {
        clearInterval(timer);
        track.stop();
      },
    },
  };
}

/** Tests that expect to be let straight in fail loudly when a lobby holds them back. */
export function inRoom(ack: JoinedAck | { lobby: true }): JoinedAck {
  if (ack.lobby) throw new Error("held in the lobby");
  return ack;
}

/** A participant made of the real pieces: a WebSocket, the typed client, mediasoup-client on wrtc. */
export class Participant {
  device!: Device;
  joinAck!: JoinedAck;
  sendTransport: mc.Transport | null = null;
  recvTransport: mc.Transport | null = null;
  readonly producers = new Map<MediaSource, mc.Producer>();
  /** By producer id. */
  readonly consumers = new Map<string, mc.Consumer>();
  private readonly feeds: Feed[] = [];
  private autoConsume = false;
  /** What a join answer's ice_servers say (TURN), and "relay" to allow nothing but TURN; set before createTransports. */
  iceServers: RTCIceServer[] = [];
  iceTransportPolicy: RTCIceTransportPolicy = "all";

  constructor(
    public client: SignalingClient,
    public ws: WebSocket,
  ) {}

  static async join(url: string): Promise<Participant> {
    const { client, ws } = await connect(url);
    const p = new Participant(client, ws);
    await p.joinMeeting();
    return p;
  }

  get id(): string {
    return this.joinAck.participant_id;
  }

  async joinMeeting(): Promise<void> {
    this.joinAck = inRoom(await this.client.request("join-meeting", {}));
    this.device = new Device({ handlerName: "Chrome111" });
    await this.device.load({
      routerRtpCapabilities: this.joinAck.router_rtp_capabilities as mc.RtpCapabilities,
    });
  }

  async createTransports(): Promise<void> {
    this.sendTransport = await this.makeTransport("send");
    this.recvTransport = await this.makeTransport("recv");
  }

  private async makeTransport(direction: "send" | "recv"): Promise<mc.Transport> {
    const ack = await this.client.request("create-transport", { direction });
    const options = {
      id: ack.transport_id,
      iceParameters: ack.ice_parameters as mc.IceParameters,
      iceCandidates: ack.ice_candidates as mc.IceCandidate[],
      dtlsParameters: ack.dtls_parameters as mc.DtlsParameters,
      iceServers: this.iceServers,
      iceTransportPolicy: this.iceTransportPolicy,
    };
    const transport =
      direction === "send"
        ? this.device.createSendTransport(options)
        : this.device.createRecvTransport(options);
    transport.on("connect", ({ dtlsParameters }, done, fail) => {
      this.client
        .request("connect-transport", { transport_id: transport.id, dtls_parameters: dtlsParameters })
        .then(() => done(), fail);
    });
    transport.on("produce", ({ kind, rtpParameters, appData }, done, fail) => {
      this.client
        .request("produce", {
          transport_id: transport.id,
          kind,
          rtp_parameters: rtpParameters,
          source: appData.source as MediaSource,
        })
        .then(({ producer_id }) => done({ id: producer_id }), fail);
    });
    return transport;
  }

  async produceAudio(): Promise<mc.Producer> {
    const { track, feed } = audioFeed();
    this.feeds.push(feed);
    return this.produce("mic", { track });
  }

  async produceCamera(): Promise<mc.Producer> {
    // libwebrtc only sends three simulcast layers from 960x540 up.
    const { track, feed } = videoFeed(960, 540);
    this.feeds.push(feed);
    return this.produce("camera", {
      track,
      encodings: [
        { rid: "r0", maxBitrate: 100_000, scaleResolutionDownBy: 4 },
        { rid: "r1", maxBitrate: 300_000, scaleResolutionDownBy: 2 },
        { rid: "r2", maxBitrate: 900_000, scaleResolutionDownBy: 1 },
      ],
    });
  }

  async produceScreen(): Promise<mc.Producer> {
    await this.client.request("start-screen-share", {});
    const { track, feed } = videoFeed(640, 360);
    this.feeds.push(feed);
    return this.produce("screen", { track });
  }

  private async produce(source: MediaSource, options: mc.ProducerOptions): Promise<mc.Producer> {
    if (!this.sendTransport) throw new Error("no send transport");
    const producer = await this.sendTransport.produce({ ...options, appData: { source } });
    this.producers.set(source, producer);
    return producer;
  }

  /** Consumes every producer already in the room and every new one announced from now on. */
  async consumeAll(): Promise<void> {
    if (this.autoConsume) return;
    this.autoConsume = true;
    this.client.on("new-producer", (p) => {
      void this.consume(p.producer_id).catch(() => {});
    });
    this.client.on("consumer-closed", (c) => {
      this.consumers.get(c.producer_id)?.close();
      this.consumers.delete(c.producer_id);
    });
    for (const peer of this.joinAck.peers) for (const p of peer.producers) await this.consume(p.producer_id);
    for (const p of this.client.received("new-producer")) {
      if (!this.consumers.has(p.producer_id)) await this.consume(p.producer_id).catch(() => {});
    }
  }

  async consume(producerId: string): Promise<mc.Consumer> {
    const existing = this.consumers.get(producerId);
    if (existing) return existing;
    if (!this.recvTransport) throw new Error("no recv transport");
    const ack = await this.client.request("consume", {
      transport_id: this.recvTransport.id,
      producer_id: producerId,
      rtp_capabilities: this.device.recvRtpCapabilities,
    });
    const consumer = await this.recvTransport.consume({
      id: ack.consumer_id,
      producerId: ack.producer_id,
      kind: ack.kind,
      rtpParameters: ack.rtp_parameters as mc.RtpParameters,
      appData: { source: ack.source, participantId: ack.participant_id },
    });
    this.consumers.set(producerId, consumer);
    await this.client.request("resume-consumer", { consumer_id: consumer.id });
    return consumer;
  }

  /**
   * Inbound RTP stats of one consumer, matched by the SSRC the SFU assigned to it (the receive transport
   * also carries the probator stream, and wrtc has no per-receiver getStats).
   */
  async inbound(producerId: string): Promise<{ framesDecoded: number; packetsReceived: number }> {
    const consumer = this.consumers.get(producerId);
    if (!consumer || !this.recvTransport) return { framesDecoded: 0, packetsReceived: 0 };
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    const report = await this.recvTransport.getStats();
    let framesDecoded = 0;
    let packetsReceived = 0;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== "inbound-rtp" || s.ssrc !== ssrc) return;
      framesDecoded += Number(s.framesDecoded ?? 0);
      packetsReceived += Number(s.packetsReceived ?? 0);
    });
    return { framesDecoded, packetsReceived };
  }

  /**
   * The ICE candidate pair a transport uses, as libwebrtc reports it: the local candidate's type ("host",
   * "srflx", "relay") and protocol, and the remote port. null until a pair is selected.
   */
  async selectedPair(
    direction: "send" | "recv",
  ): Promise<{ localType: string; relayProtocol?: string; protocol: string; remotePort: number } | null> {
    const transport = direction === "send" ? this.sendTransport : this.recvTransport;
    if (!transport) return null;
    const report = await transport.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => {
      byId.set(String(s.id), s);
    });
    let pair: Record<string, unknown> | undefined;
    for (const s of byId.values()) {
      if (s.type === "transport" && s.selectedCandidatePairId)
        pair = byId.get(String(s.selectedCandidatePairId));
    }
    pair ??= [...byId.values()].find(
      (s) => s.type === "candidate-pair" && s.state === "succeeded" && s.nominated,
    );
    if (!pair) return null;
    const local = byId.get(String(pair.localCandidateId));
    const remote = byId.get(String(pair.remoteCandidateId));
    if (!local || !remote) return null;
    return {
      localType: String(local.candidateType),
      ...(local.relayProtocol ? { relayProtocol: String(local.relayProtocol) } : {}),
      protocol: String(local.protocol),
      remotePort: Number(remote.port),
    };
  }

  consumerOf(participantId: string, source: MediaSource): mc.Consumer | undefined {
    for (const c of this.consumers.values()) {
      if (c.appData.participantId === participantId && c.appData.source === source) return c;
    }
    return undefined;
  }

  /** Takes this peer back over a new socket after a drop; restarts ICE on the transports that survived. */
  async resume(baseUrl: string): Promise<JoinedAck> {
    const { client, ws } = await connect(`${baseUrl}/?resume=${this.joinAck.resume_token}`);
    this.client = client;
    this.ws = ws;
    const ack = inRoom(await client.request("join-meeting", {}));
    this.joinAck = ack;
    for (const transport of [this.sendTransport, this.recvTransport]) {
      if (!transport || !ack.transport_ids.includes(transport.id)) continue;
      const { ice_parameters } = await client.request("restart-ice", { transport_id: transport.id });
      await transport.restartIce({ iceParameters: ice_parameters as mc.IceParameters });
    }
    return ack;
  }

  /** After media-reset: everything on the old router is gone; start over on the new one. */
  async resetMedia(routerRtpCapabilities: unknown): Promise<void> {
    for (const feed of this.feeds.splice(0)) feed.stop();
    for (const consumer of this.consumers.values()) consumer.close();
    this.consumers.clear();
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.device = new Device({ handlerName: "Chrome111" });
    await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as mc.RtpCapabilities });
    await this.createTransports();
  }

  /** Idempotent: stops the synthetic sources, closes transports and the socket. */
  close(): void {
    for (const feed of this.feeds.splice(0)) feed.stop();
    for (const consumer of this.consumers.values()) consumer.close();
    this.consumers.clear();
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = null;
    this.recvTransport = null;
    this.client.close();
  }
}
