import type { SignalingClient } from "@nexus/shared/signaling/client";
import type { MediaSource } from "@nexus/shared/signaling/peer";
import type { AckData } from "@nexus/shared/signaling/requests";
import { Device, type types as mc } from "mediasoup-client";
import { CAMERA_ENCODINGS } from "./wire.js";

export interface MediaLinkOptions {
  /** The signaling connection in use now (a reconnect replaces it; the transports keep asking this). */
  signaling: () => SignalingClient;
  /** mediasoup-client handler ("Chrome111" in Node on @roamhq/wrtc); detected in a browser. */
  handlerName?: mc.BuiltinHandlerName;
  /** TURN/STUN from the join answer, for every transport created from now on. */
  iceServers: () => RTCIceServer[] | undefined;
  /** ICE is restarted only while this says so (the signaling is up and the peer in the room). */
  canRestartIce: () => boolean;
}

/**
 * This participant's side of the SFU: the mediasoup-client device, one send and one receive transport
 * wired to the signaling protocol (connect, produce, ICE restarts), and our producers by source. Consumers
 * belong to whoever shows them (MeetingClient's peers); consume() only makes them.
 */
export class MediaLink {
  device: Device | null = null;
  send: mc.Transport | null = null;
  recv: mc.Transport | null = null;
  readonly producers = new Map<MediaSource, mc.Producer>();

  constructor(private readonly options: MediaLinkOptions) {}

  private get signaling(): SignalingClient {
    return this.options.signaling();
  }

  /** A new device for a router (a first join, a page reload, a router moved to another worker). */
  async load(capabilities: mc.RtpCapabilities): Promise<void> {
    this.device = new Device(this.options.handlerName ? { handlerName: this.options.handlerName } : {});
    await this.device.load({ routerRtpCapabilities: capabilities });
  }

  /** Loads the device and opens both transports. */
  async open(capabilities: mc.RtpCapabilities): Promise<void> {
    await this.load(capabilities);
    [this.send, this.recv] = await Promise.all([this.createTransport("send"), this.createTransport("recv")]);
  }

  async createTransport(direction: "send" | "recv"): Promise<mc.Transport> {
    if (!this.device) throw new Error("no device loaded");
    const ack = await this.signaling.request("create-transport", { direction });
    const iceServers = this.options.iceServers();
    const options: mc.TransportOptions = {
      id: ack.transport_id,
      iceParameters: ack.ice_parameters as mc.IceParameters,
      iceCandidates: ack.ice_candidates as mc.IceCandidate[],
      dtlsParameters: ack.dtls_parameters as mc.DtlsParameters,
      // TURN from control, when the deployment has one: it carries media where UDP to the host cannot go.
      ...(iceServers ? { iceServers } : {}),
    };
    const transport =
      direction === "send"
        ? this.device.createSendTransport(options)
        : this.device.createRecvTransport(options);
    transport.on("connect", ({ dtlsParameters }, done, fail) => {
      this.signaling
        .request("connect-transport", { transport_id: transport.id, dtls_parameters: dtlsParameters })
        .then(() => done(), fail);
    });
    transport.on("produce", ({ kind, rtpParameters, appData }, done, fail) => {
      this.signaling
        .request("produce", {
          transport_id: transport.id,
          kind,
          rtp_parameters: rtpParameters,
          source: appData.source as MediaSource,
          paused: appData.paused === true,
        })
        .then(({ producer_id }) => done({ id: producer_id }), fail);
    });
    let stalled: ReturnType<typeof setTimeout> | undefined;
    transport.on("connectionstatechange", (state) => {
      clearTimeout(stalled);
      if (state === "failed") void this.restartIce(transport);
      // "disconnected" often heals by itself (a lost packet or two); one that lasts gets a restart.
      else if (state === "disconnected")
        stalled = setTimeout(() => {
          if (transport.connectionState === "disconnected") void this.restartIce(transport);
        }, 2000);
    });
    return transport;
  }

  /** New ICE credentials from the host, so the transport finds a path again (a new network, say). */
  async restartIce(transport: mc.Transport, force = false): Promise<void> {
    if (transport.closed || !(force || this.options.canRestartIce())) return;
    try {
      const { ice_parameters } = await this.signaling.request("restart-ice", { transport_id: transport.id });
      await transport.restartIce({ iceParameters: ice_parameters as mc.IceParameters });
    } catch {
      // The next reconnect re-creates what cannot be restarted.
    }
  }

  /** Restarts ICE on the transports that lost their path while the signaling was down. */
  async restartStalled(): Promise<void> {
    for (const transport of [this.send, this.recv]) {
      const state = transport?.connectionState;
      if (transport && (state === "failed" || state === "disconnected"))
        await this.restartIce(transport, true);
    }
  }

  async produce(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<mc.Producer> {
    if (!this.send) throw new Error("not joined");
    const producer = await this.send.produce({
      track,
      // Simulcast for the camera only: a screen is mostly still text that should stay sharp.
      ...(source === "camera" ? { encodings: CAMERA_ENCODINGS } : {}),
      ...(source === "screen" ? { encodings: [{ maxBitrate: 2_500_000 }] } : {}),
      codecOptions: source === "screen" ? { videoGoogleStartBitrate: 1000 } : {},
      stopTracks: false,
      zeroRtpOnPause: true,
      disableTrackOnPause: true,
      appData: { source, paused },
    });
    if (paused) producer.pause();
    this.producers.set(source, producer);
    return producer;
  }

  closeProducer(source: MediaSource): void {
    this.producers.get(source)?.close();
    this.producers.delete(source);
  }

  closeProducers(): void {
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
  }

  /** Asks the host for a consumer of `producerId` on the receive transport and makes it here (paused there). */
  async consume(
    producerId: string,
  ): Promise<{ consumer: mc.Consumer; ack: AckData<"consume">; transport: mc.Transport }> {
    const transport = this.recv;
    if (!transport || !this.device) throw new Error("not joined");
    const ack = await this.signaling.request("consume", {
      transport_id: transport.id,
      producer_id: producerId,
      rtp_capabilities: this.device.recvRtpCapabilities,
    });
    const consumer = await transport.consume({
      id: ack.consumer_id,
      producerId: ack.producer_id,
      kind: ack.kind,
      rtpParameters: ack.rtp_parameters as mc.RtpParameters,
      appData: { source: ack.source, participantId: ack.participant_id },
    });
    return { consumer, ack, transport };
  }

  /** Idempotent: closes our producers and both transports (their consumers with them). */
  close(): void {
    this.closeProducers();
    this.send?.close();
    this.recv?.close();
    this.send = null;
    this.recv = null;
  }
}
