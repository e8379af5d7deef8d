import type { Logger } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";
import type { RoomSettings } from "@nexus/shared/meeting";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { NotificationData, NotificationType } from "@nexus/shared/signaling/index";
import type {
  DtlsParametersWire,
  MediaKind,
  RtpCapabilitiesWire,
  RtpParametersWire,
} from "@nexus/shared/signaling/media-types";
import type { MediaSource, PeerInfo } from "@nexus/shared/signaling/peer";
import type { AckData } from "@nexus/shared/signaling/requests";
import type { JoinClaims } from "@nexus/shared/tokens";
import type { types as ms } from "mediasoup";
import { type Connection, Peer } from "./peer.js";
import { DEFAULT_PEER_LIMITS, type PeerLimits } from "./peer-limits.js";
import { LoopChannel, type RoomChannel } from "./room-channel.js";
import { TypedEmitter } from "./typed-emitter.js";
import type { WorkerSlot } from "./worker-pool.js";

const ABS_CAPTURE_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/**
 * A simulcast consumer only switches to a spatial layer whose capture clock the worker can map onto
 * the layer it started on. Once a producer negotiates abs-capture-time, mediasoup takes that mapping
 * from the extension alone, and libwebrtc senders (wrtc, older Chrome) rarely or never put it on video
 * packets: the consumer then stays on its first layer whatever the viewer prefers. Without the extension
 * the worker maps clocks from the RTCP Sender Reports every sender emits for every stream.
 */
function withoutAbsCaptureTime(rtpParameters: ms.RtpParameters): ms.RtpParameters {
  const headerExtensions = rtpParameters.headerExtensions?.filter((e) => e.uri !== ABS_CAPTURE_TIME);
  return { ...rtpParameters, headerExtensions };
}

export const MEDIA_CODECS: ms.RouterRtpCodecCapability[] = [
  { kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 },
  { kind: "video", mimeType: "video/VP8", clockRate: 90000, parameters: { "x-google-start-bitrate": 1000 } },
  { kind: "video", mimeType: "video/VP9", clockRate: 90000, parameters: { "profile-id": 0 } },
  {
    kind: "video",
    mimeType: "video/H264",
    clockRate: 90000,
    parameters: { "packetization-mode": 1, "profile-level-id": "42e01f", "level-asymmetry-allowed": 1 },
  },
];

export interface MeetingInfo {
  id: string;
  tenantId: string;
  maxParticipants: number;
  settings: RoomSettings;
}

/**
 * What a room announces; whoever keeps records subscribes (`room.events.on(...)`). Listeners run synchronously
 * and are never awaited on the media path; one that throws is logged and does not reach the room.
 */
export type RoomEvents = {
  /** `first`: the room was empty before. */
  peerjoined: [peer: Peer, first: boolean];
  /** Its visible state (mute, video, screen, hand, role, mic lock) changed. */
  peerupdated: [peer: Peer];
  peerleft: [peer: Peer];
  /** A transport the room is about to close (its final statistics can still be read). */
  transportclosing: [transport: ms.WebRtcTransport];
  /** A producer was added (the recorder consumes it). */
  producernew: [peer: Peer, producer: ms.Producer, source: MediaSource];
  close: [];
};

export interface RoomOptions {
  meeting: MeetingInfo;
  slot: WorkerSlot;
  logger: Logger;
  reconnectGraceMs: number;
  /** Where broadcasts go; default: one send per peer connection from JavaScript. */
  channel?: RoomChannel;
  /** What each peer may hold (default DEFAULT_PEER_LIMITS). */
  limits?: PeerLimits;
}

const transportOf = (peer: Peer, transportId: string, direction?: "send" | "recv"): ms.WebRtcTransport => {
  const transport = peer.transports.get(transportId);
  if (!transport) throw new AppError("not_found", "no such transport");
  if (direction && (transport.appData as { direction?: string }).direction !== direction) {
    throw new AppError(
      "bad_request",
      direction === "send" ? "produce needs a send transport" : "consume needs a receive transport",
    );
  }
  return transport;
};

/**
 * mediasoup's worker refuses a request it cannot carry out with a plain Error (its own classes, e.g. a closed
 * worker or object, are subclasses and keep their meaning). For the calls wrapped in it this is the client's
 * input: a repeated SSRC or MID, a second connect, parameters the worker does not take.
 */
async function workerRefusal<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.constructor === Error) {
      const again = /already (called|connected)/.test(error.message);
      throw new AppError(again ? "invalid_state" : "bad_request", `${what}: ${error.message}`);
    }
    throw error;
  }
}

const overLimit = (what: string, limit: number) =>
  new AppError("rate_limited", `at most ${limit} ${what} per participant`);

/**
 * One meeting on this host: a router on one worker, the peers, and everything they send and receive.
 * Closing cascades (router -> transports -> producers/consumers) and every close is idempotent.
 */
export class Room {
  readonly meeting: MeetingInfo;
  readonly peers = new Map<string, Peer>();
  private readonly removedUsers = new Set<string>();
  private router: ms.Router;
  private speakerObserver: ms.ActiveSpeakerObserver;
  private slotRef: WorkerSlot;
  private closedFlag = false;
  private readonly logger: Logger;
  /** Holds exactly the connections of the peers in the room that have one. */
  private readonly channel: RoomChannel;
  /** What happened in the room, for the records and the participant log (see RoomEvents). */
  readonly events: TypedEmitter<RoomEvents>;

  private constructor(
    private readonly options: RoomOptions,
    router: ms.Router,
    observer: ms.ActiveSpeakerObserver,
  ) {
    this.meeting = options.meeting;
    this.slotRef = options.slot;
    this.router = router;
    this.speakerObserver = observer;
    this.logger = options.logger.child({ meeting_id: options.meeting.id });
    this.channel = options.channel ?? new LoopChannel();
    this.events = new TypedEmitter<RoomEvents>((err, event) =>
      this.logger.error({ err, event }, "a room event listener failed"),
    );
    this.watchSpeaker(observer);
  }

  private readonly transportClosing = (transport: ms.WebRtcTransport): void =>
    this.events.emit("transportclosing", transport);

  static async create(options: RoomOptions): Promise<Room> {
    const { router, observer } = await Room.makeRouter(options.slot);
    return new Room(options, router, observer);
  }

  private static async makeRouter(slot: WorkerSlot) {
    const router = await slot.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    const observer = await router.createActiveSpeakerObserver({ interval: 300 });
    return { router, observer };
  }

  get id(): string {
    return this.meeting.id;
  }
  get closed(): boolean {
    return this.closedFlag;
  }
  get slot(): WorkerSlot {
    return this.slotRef;
  }
  /**
   * The router's capabilities, fixed for its lifetime. mediasoup's getter deep-clones them on every read,
   * which every join-meeting ack paid for; one copy per router is kept instead (nothing writes to it: it is
   * only serialized into acks).
   */
  get rtpCapabilities(): ms.RtpCapabilities {
    if (this.capsOf !== this.router) {
      this.caps = this.router.rtpCapabilities;
      this.capsOf = this.router;
    }
    return this.caps!;
  }
  private caps: ms.RtpCapabilities | null = null;
  private capsOf: ms.Router | null = null;
  get routerId(): string {
    return this.router.id;
  }

  /** To every peer with a connection, but `except`: encoded once, delivered by the channel. */
  broadcast<T extends NotificationType>(type: T, data: NotificationData<T>, except?: Peer): void {
    this.channel.publish(JSON.stringify({ type, data }), except?.conn ?? null);
  }

  othersOf(peer: Peer): PeerInfo[] {
    return [...this.peers.values()].filter((p) => p !== peer).map((p) => p.info());
  }

  /** Adds a participant, or hands an existing one (same participant id) to the new connection. */
  join(claims: JoinClaims, conn: Connection): { peer: Peer; resumed: boolean } {
    if (this.closedFlag) throw new AppError("unavailable", "room closed");
    // A token minted before a host removed this user (a second tab, say) must not undo the removal.
    if (this.removedUsers.has(claims.user_id) && claims.role !== "host")
      throw new AppError("forbidden", "a host removed you from this meeting");
    const existing = this.peers.get(claims.participant_id);
    if (existing) {
      this.resume(existing, conn);
      return { peer: existing, resumed: true };
    }
    this.assertSeat(claims);
    const peer = new Peer(claims, conn, {
      muted: this.meeting.settings.mute_on_join,
      videoOn: !this.meeting.settings.video_off_on_join,
    });
    const first = this.peers.size === 0;
    this.peers.set(peer.id, peer);
    this.slotRef.load += 1;
    this.broadcast("participant-joined", peer.info(), peer);
    this.channel.add(conn);
    this.events.emit("peerjoined", peer, first);
    return { peer, resumed: false };
  }

  /**
   * Whether a new peer fits: the meeting's seats, of which the last is kept for a host while none is in the
   * room (members cannot fill a meeting its host then cannot enter), and at most `peersPerUser` peers of one
   * user (one member cannot take every seat).
   */
  private assertSeat(claims: JoinClaims): void {
    const max = this.meeting.maxParticipants;
    if (this.peers.size >= max) throw new AppError("meeting_full", "meeting is full");
    let mine = 0;
    let hostIn = false;
    for (const p of this.peers.values()) {
      if (p.userId === claims.user_id) mine += 1;
      if (p.role === "host") hostIn = true;
    }
    if (claims.role !== "host" && !hostIn && max > 1 && this.peers.size >= max - 1) {
      throw new AppError("meeting_full", "meeting is full (the last seat is kept for a host)");
    }
    if (mine >= this.limits.peersPerUser) {
      throw new AppError("conflict", `you are already in this meeting ${mine} times; leave one first`);
    }
  }

  /** A host removed this peer: it leaves, and its user cannot join this room again. */
  remove(peer: Peer): void {
    this.removedUsers.add(peer.userId);
    this.leave(peer, "removed");
  }

  /** A new connection takes over a peer, cancelling the grace period; the old connection is closed. */
  resume(peer: Peer, conn: Connection): void {
    peer.clearGrace();
    const old = peer.conn;
    peer.conn = conn;
    if (old && old !== conn) {
      this.channel.remove(old);
      old.close(CLOSE_CODES.replaced, "replaced by a new connection");
    }
    // The others were told it was reconnecting (disconnected below): now it is back, the same participant.
    if (!old) this.broadcast("participant-connection", { participant_id: peer.id, state: "connected" });
    this.channel.add(conn);
  }

  /** The peer's connection dropped: keep it for the grace period, then remove it. */
  disconnected(peer: Peer, conn: Connection): void {
    if (peer.conn !== conn || !this.peers.has(peer.id)) return;
    this.channel.remove(conn);
    peer.conn = null;
    peer.clearGrace();
    if (this.options.reconnectGraceMs <= 0) {
      this.leave(peer, "disconnected");
      return;
    }
    // Not a leave: the peer keeps its place and media, and the others show it as reconnecting.
    this.broadcast("participant-connection", { participant_id: peer.id, state: "reconnecting" });
    peer.graceTimer = setTimeout(() => this.leave(peer, "timeout"), this.options.reconnectGraceMs);
  }

  /** Idempotent: removes the peer, closes its media, tells the others; closes the room when it empties. */
  leave(peer: Peer, reason: string): void {
    if (this.peers.get(peer.id) !== peer) return;
    peer.clearGrace();
    this.peers.delete(peer.id);
    if (peer.conn) this.channel.remove(peer.conn);
    this.slotRef.load = Math.max(0, this.slotRef.load - 1);
    peer.closeMedia(this.transportClosing);
    this.broadcast("participant-left", { participant_id: peer.id, reason });
    this.events.emit("peerleft", peer);
    if (this.peers.size === 0) this.close();
  }

  /** The meeting ended: everybody is told, disconnected and removed. */
  end(reason: string): void {
    if (this.closedFlag) return;
    for (const peer of [...this.peers.values()]) {
      peer.notify("meeting-ended", { reason });
      const conn = peer.conn;
      this.leave(peer, "meeting-ended");
      conn?.close(CLOSE_CODES.meetingEnded, "meeting ended");
    }
    this.close();
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const peer of this.peers.values()) {
      peer.clearGrace();
      peer.closeMedia(this.transportClosing);
      this.events.emit("peerleft", peer);
    }
    this.slotRef.load = Math.max(0, this.slotRef.load - this.peers.size);
    this.peers.clear();
    this.channel.close();
    this.router.close();
    this.events.emit("close");
    this.events.removeAll();
  }

  /**
   * The worker under this room died: its router, transports, producers and consumers are gone. Rebuild the
   * router on a live worker and tell every peer to set its media up again; the participants stay.
   */
  async moveTo(slot: WorkerSlot): Promise<void> {
    if (this.closedFlag) return;
    const { router, observer } = await Room.makeRouter(slot);
    if (this.closedFlag) {
      router.close();
      return;
    }
    this.router.close();
    slot.load += this.peers.size;
    this.slotRef = slot;
    this.router = router;
    this.speakerObserver = observer;
    this.watchSpeaker(observer);
    for (const peer of this.peers.values()) {
      peer.closeMedia(this.transportClosing);
      const sharing = peer.state.is_screen_sharing;
      peer.update({ is_screen_sharing: false });
      if (sharing) this.events.emit("peerupdated", peer);
    }
    this.broadcast("media-reset", {
      router_rtp_capabilities: router.rtpCapabilities as RtpCapabilitiesWire,
      reason: "media worker restarted",
    });
    this.logger.warn({ slot: slot.index, router_id: router.id }, "room moved to a new worker");
  }

  private get limits(): PeerLimits {
    return this.options.limits ?? DEFAULT_PEER_LIMITS;
  }

  async createTransport(peer: Peer, direction: "send" | "recv"): Promise<AckData<"create-transport">> {
    const { transports: limit } = this.limits;
    if (peer.transports.size >= limit) throw overLimit("transports", limit);
    const transport = await this.router.createWebRtcTransport({
      webRtcServer: this.slotRef.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      appData: { participantId: peer.id, direction },
    });
    if (!this.peers.has(peer.id) || this.closedFlag) {
      transport.close();
      throw new AppError("invalid_state", "left the meeting");
    }
    // Requests in parallel all passed the first check.
    if (peer.transports.size >= limit) {
      transport.close();
      throw overLimit("transports", limit);
    }
    peer.addTransport(transport);
    return {
      transport_id: transport.id,
      ice_parameters: transport.iceParameters,
      ice_candidates: transport.iceCandidates,
      dtls_parameters: transport.dtlsParameters,
    };
  }

  async connectTransport(peer: Peer, transportId: string, dtls: DtlsParametersWire): Promise<void> {
    const transport = transportOf(peer, transportId);
    await workerRefusal(
      () => transport.connect({ dtlsParameters: dtls as ms.DtlsParameters }),
      "connect refused",
    );
  }

  async restartIce(peer: Peer, transportId: string): Promise<AckData<"restart-ice">> {
    const transport = transportOf(peer, transportId);
    const iceParameters = await workerRefusal(() => transport.restartIce(), "ICE restart refused");
    return { ice_parameters: iceParameters };
  }

  async produce(
    peer: Peer,
    input: {
      transport_id: string;
      kind: MediaKind;
      rtp_parameters: RtpParametersWire;
      source: MediaSource;
      paused?: boolean | undefined;
    },
  ): Promise<ms.Producer> {
    const transport = transportOf(peer, input.transport_id, "send");
    const { producers: limit } = this.limits;
    if (peer.producers.size >= limit) throw overLimit("producers", limit);
    const isScreen = input.source === "screen" || input.source === "screen-audio";
    if (isScreen) this.claimScreenShare(peer);
    const expectedKind: MediaKind =
      input.source === "mic" || input.source === "screen-audio" ? "audio" : "video";
    if (input.kind !== expectedKind)
      throw new AppError("bad_request", `a ${input.source} producer carries ${expectedKind}`);
    // A host's mic lock holds for a microphone added later too.
    const paused =
      (input.source === "mic" && peer.state.mic_locked) ||
      input.paused ||
      (input.paused === undefined &&
        ((input.source === "mic" && peer.state.is_muted) ||
          (input.source === "camera" && !peer.state.is_video_on)));
    const producer = await workerRefusal(
      () =>
        transport.produce({
          kind: input.kind,
          rtpParameters: withoutAbsCaptureTime(input.rtp_parameters as ms.RtpParameters),
          paused,
          appData: { participantId: peer.id, source: input.source },
        }),
      "produce refused",
    );
    if (!this.peers.has(peer.id)) {
      producer.close();
      throw new AppError("invalid_state", "left the meeting");
    }
    if (peer.producers.size >= limit) {
      producer.close();
      throw overLimit("producers", limit);
    }
    peer.addProducer(producer, input.source);
    const router = this.router;
    producer.observer.on("close", () => {
      // A whole router closing (room end, worker death) is announced by its own events.
      if (!router.closed) {
        this.broadcast("producer-closed", {
          participant_id: peer.id,
          producer_id: producer.id,
          source: input.source,
        });
      }
    });
    if (input.kind === "audio") {
      this.speakerObserver.addProducer({ producerId: producer.id }).catch(() => {});
    }
    this.syncState(peer);
    this.events.emit("producernew", peer, producer, input.source);
    this.broadcast(
      "new-producer",
      {
        producer_id: producer.id,
        participant_id: peer.id,
        kind: producer.kind,
        source: input.source,
        paused: producer.paused,
      },
      peer,
    );
    return producer;
  }

  private assertConsumerRoom(peer: Peer, producerId: string): void {
    const { consumers, consumersPerProducer } = this.limits;
    if (peer.consumers.size >= consumers) throw overLimit("consumers", consumers);
    let ofThis = 0;
    for (const c of peer.consumers.values()) if (c.producerId === producerId) ofThis += 1;
    if (ofThis >= consumersPerProducer) throw overLimit("consumers of one producer", consumersPerProducer);
  }

  async consume(
    peer: Peer,
    input: { transport_id: string; producer_id: string; rtp_capabilities: RtpCapabilitiesWire },
  ): Promise<AckData<"consume">> {
    const transport = transportOf(peer, input.transport_id, "recv");
    const owner = this.producerOwner(input.producer_id);
    if (!owner) throw new AppError("not_found", "no such producer in this meeting");
    const { peer: producerPeer, source } = owner;
    if (producerPeer === peer) throw new AppError("bad_request", "cannot consume your own producer");
    this.assertConsumerRoom(peer, input.producer_id);
    const rtpCapabilities = input.rtp_capabilities as ms.RtpCapabilities;
    // No router.canConsume first: consume() makes the same check (validated capabilities, a non-RTX codec
    // in common) and the pre-check cost a deep clone of both sides on every consume. Its refusals are
    // answered as canConsume's were.
    let consumer: ms.Consumer;
    try {
      consumer = await transport.consume({
        producerId: input.producer_id,
        rtpCapabilities,
        paused: true,
        appData: { participantId: peer.id },
      });
    } catch (error) {
      if (error instanceof TypeError || (error as Error)?.name === "UnsupportedError") {
        throw new AppError("bad_request", "your device cannot receive this producer");
      }
      if (error instanceof Error && error.constructor === Error) {
        throw new AppError("bad_request", `consume refused: ${error.message}`);
      }
      throw error;
    }
    try {
      this.assertConsumerRoom(peer, input.producer_id);
    } catch (error) {
      consumer.close();
      throw error;
    }
    peer.addConsumer(consumer);
    consumer.on("producerclose", () => {
      peer.notify("consumer-closed", {
        consumer_id: consumer.id,
        producer_id: consumer.producerId,
        reason: "producer closed",
      });
    });
    consumer.on("producerpause", () =>
      peer.notify("consumer-paused", { consumer_id: consumer.id, producer_id: consumer.producerId }),
    );
    consumer.on("producerresume", () =>
      peer.notify("consumer-resumed", { consumer_id: consumer.id, producer_id: consumer.producerId }),
    );
    consumer.on("layerschange", (layers) =>
      peer.notify("consumer-layers-changed", {
        consumer_id: consumer.id,
        spatial_layer: layers?.spatialLayer ?? null,
        temporal_layer: layers?.temporalLayer ?? null,
      }),
    );
    return {
      consumer_id: consumer.id,
      producer_id: consumer.producerId,
      participant_id: producerPeer.id,
      kind: consumer.kind,
      source,
      rtp_parameters: consumer.rtpParameters as RtpParametersWire,
      type: consumer.type,
      producer_paused: consumer.producerPaused,
    };
  }

  async resumeConsumer(peer: Peer, consumerId: string): Promise<void> {
    const consumer = this.consumerOf(peer, consumerId);
    await whileOpen(consumer, () => consumer.resume());
  }

  async setPreferredLayers(peer: Peer, consumerId: string, spatialLayer: number, temporalLayer?: number) {
    const consumer = this.consumerOf(peer, consumerId);
    await whileOpen(consumer, () =>
      workerRefusal(() => consumer.setPreferredLayers({ spatialLayer, temporalLayer }), "layers refused"),
    );
  }

  async pauseProducer(peer: Peer, producerId: string): Promise<void> {
    const { producer, source } = this.ownProducer(peer, producerId);
    if (producer.paused) return;
    await producer.pause();
    this.broadcast("producer-paused", { participant_id: peer.id, producer_id: producer.id, source }, peer);
    this.syncState(peer);
  }

  async resumeProducer(peer: Peer, producerId: string): Promise<void> {
    const { producer, source } = this.ownProducer(peer, producerId);
    if (!producer.paused) return;
    if (source === "mic" && peer.state.mic_locked)
      throw new AppError("forbidden", "a host has locked your microphone");
    await producer.resume();
    this.broadcast("producer-resumed", { participant_id: peer.id, producer_id: producer.id, source }, peer);
    this.syncState(peer);
  }

  closeProducer(peer: Peer, producerId: string): void {
    const { producer } = this.ownProducer(peer, producerId);
    producer.close();
    this.syncState(peer);
  }

  /** Pauses or resumes every producer of a source, so "muted" means no RTP leaves for anyone. */
  async setSourcePaused(peer: Peer, source: MediaSource, paused: boolean): Promise<void> {
    for (const producer of peer.producersOf(source)) {
      if (paused) await this.pauseProducer(peer, producer.id);
      else await this.resumeProducer(peer, producer.id);
    }
  }

  async setMuted(peer: Peer, muted: boolean): Promise<void> {
    if (!muted && peer.state.mic_locked) throw new AppError("forbidden", "a host has locked your microphone");
    peer.update({ is_muted: muted });
    await this.setSourcePaused(peer, "mic", muted);
    this.announce(peer);
  }

  async setVideoOn(peer: Peer, videoOn: boolean): Promise<void> {
    peer.update({ is_video_on: videoOn });
    await this.setSourcePaused(peer, "camera", !videoOn);
    this.announce(peer);
  }

  startScreenShare(peer: Peer): void {
    this.claimScreenShare(peer);
    this.announce(peer);
  }

  stopScreenShare(peer: Peer): void {
    for (const producer of [...peer.producersOf("screen"), ...peer.producersOf("screen-audio")])
      producer.close();
    peer.update({ is_screen_sharing: false });
    this.announce(peer);
  }

  async stats(peer: Peer, target: "transport" | "producer" | "consumer", id: string): Promise<unknown[]> {
    if (target === "transport") return transportOf(peer, id).getStats();
    if (target === "producer") return this.ownProducer(peer, id).producer.getStats();
    return this.consumerOf(peer, id).getStats();
  }

  /**
   * A transport for a consumer inside this host (the recorder): on the current router, so it closes with it.
   * Whoever asks owns it and closes it.
   */
  async createPlainTransport(options: ms.PlainTransportOptions): Promise<ms.PlainTransport> {
    if (this.closedFlag) throw new AppError("invalid_state", "room closed");
    return this.router.createPlainTransport(options);
  }

  /** For hygiene checks and metrics. */
  async dump(): Promise<ms.RouterDump> {
    return this.router.dump();
  }

  private claimScreenShare(peer: Peer): void {
    if (!this.meeting.settings.allow_screen_share)
      throw new AppError("forbidden", "screen sharing is disabled");
    if (!this.meeting.settings.allow_multiple_screen_shares) {
      for (const other of this.peers.values()) {
        if (other !== peer && other.state.is_screen_sharing) {
          throw new AppError("conflict", "someone else is sharing their screen");
        }
      }
    }
    peer.update({ is_screen_sharing: true });
  }

  /** Derives the visible flags from the producers that exist, then tells everyone if they changed. */
  private syncState(peer: Peer): void {
    const mic = peer.producersOf("mic");
    const camera = peer.producersOf("camera");
    if (mic.length > 0) peer.update({ is_muted: mic.every((p) => p.paused) });
    if (camera.length > 0) peer.update({ is_video_on: camera.some((p) => !p.paused) });
    const screen = [...peer.producersOf("screen"), ...peer.producersOf("screen-audio")];
    if (screen.length > 0) peer.update({ is_screen_sharing: true });
    this.announce(peer);
  }

  /**
   * The time a hand goes up: the server's clock, but strictly later than the room's previous raise, so two
   * hands raised in the same millisecond still have an order that every client (and the stored row) agrees on.
   */
  handRaiseTime(now: Date): string {
    this.lastHandRaise = Math.max(now.getTime(), this.lastHandRaise + 1);
    return new Date(this.lastHandRaise).toISOString();
  }
  private lastHandRaise = 0;

  /** Raises or lowers the peer's hand (the room's clock orders raises); the raise time, or null. */
  setHand(peer: Peer, raised: boolean, now: Date): string | null {
    if (raised && peer.state.hand_raised_at === null)
      peer.update({ hand_raised_at: this.handRaiseTime(now) });
    else if (!raised) peer.update({ hand_raised_at: null });
    this.announce(peer);
    return peer.state.hand_raised_at;
  }

  /** A host mutes the peer, and with `locked` keeps the microphone off until unlocked. */
  async hostMute(peer: Peer, locked: boolean): Promise<void> {
    peer.update({ mic_locked: locked });
    await this.setMuted(peer, true);
    this.announce(peer);
  }

  /** A host makes a member a co-host; false when the peer was not a member. */
  promote(peer: Peer): boolean {
    if (peer.role !== "member") return false;
    peer.update({ role: "cohost" });
    this.announce(peer);
    return true;
  }

  /** State changed outside the media path (hand, role, mic lock): tell everyone and persist it. */
  refresh(peer: Peer): void {
    this.announce(peer);
  }

  private readonly lastAnnounced = new Map<string, string>();
  private announce(peer: Peer): void {
    const state = peer.participantState();
    const key = JSON.stringify(state);
    if (this.lastAnnounced.get(peer.id) === key) return;
    this.lastAnnounced.set(peer.id, key);
    this.broadcast("participant-updated", state);
    this.events.emit("peerupdated", peer);
  }

  private producerOwner(producerId: string): { peer: Peer; source: MediaSource } | null {
    for (const peer of this.peers.values()) {
      const owned = peer.producers.get(producerId);
      if (owned) return { peer, source: owned.source };
    }
    return null;
  }

  private ownProducer(peer: Peer, producerId: string) {
    const owned = peer.producers.get(producerId);
    if (owned) return owned;
    if (this.producerOwner(producerId)) throw new AppError("forbidden", "not your producer");
    throw new AppError("not_found", "no such producer");
  }

  private consumerOf(peer: Peer, consumerId: string): ms.Consumer {
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw new AppError("not_found", "no such consumer");
    return consumer;
  }

  private watchSpeaker(observer: ms.ActiveSpeakerObserver): void {
    observer.on("dominantspeaker", ({ producer }) => {
      const participantId =
        typeof producer.appData.participantId === "string" ? producer.appData.participantId : null;
      this.broadcast("active-speaker", { participant_id: participantId, producer_id: producer.id });
    });
  }
}

/**
 * A consumer can close in the worker (its producer left) while a request for it is in flight; the client
 * then gets consumer-closed, and its request a not_found answer rather than an internal error.
 */
async function whileOpen(consumer: ms.Consumer, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (consumer.closed) throw new AppError("not_found", "the consumer was closed");
    throw error;
  }
}
