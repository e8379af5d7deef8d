import type { JoinAnswer } from "@nexus/shared/rest/join";
import { SignalingClient, SignalingError, type WebSocketLike } from "@nexus/shared/signaling/client";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { ChatMessageWire } from "@nexus/shared/signaling/meeting";
import type { MediaSource, ParticipantState, PeerInfo, ProducerInfo } from "@nexus/shared/signaling/peer";
import type { JoinedAck } from "@nexus/shared/signaling/requests";
import { Device, type types as mc } from "mediasoup-client";

/*
 * The meeting as state plus actions, with no DOM: the UI renders `snapshot`-style fields after each
 * change notification, tests drive it through the same methods. One instance per joined meeting.
 */

export type Phase = "connecting" | "waiting" | "joined" | "denied" | "ended" | "removed" | "left" | "failed";

export interface RemoteTrack {
  producerId: string;
  consumer: mc.Consumer;
  source: MediaSource;
  paused: boolean;
}

export interface RemotePeer {
  id: string;
  userId: string;
  name: string;
  role: string;
  muted: boolean;
  videoOn: boolean;
  sharing: boolean;
  hand: boolean;
  handRaisedAt: string | null;
  micLocked: boolean;
  /** By producer id. */
  tracks: Map<string, RemoteTrack>;
}

export interface ChatMessage {
  id: string;
  seq: number;
  participantId: string | null;
  direct: boolean;
  name: string;
  content: string;
  at: string;
}

export interface LobbyEntry {
  participantId: string;
  name: string;
  requestedAt: string;
}

export interface SessionOptions {
  join: JoinAnswer;
  /** Camera and microphone chosen on the pre-join screen (either may be missing). */
  audio?: MediaStreamTrack | null;
  video?: MediaStreamTrack | null;
  /** Opens the signaling socket; the browser's WebSocket by default. */
  openSocket?: (url: string) => WebSocketLike;
  /** The page's host name: a loopback ws_url is rewritten to it so other machines can reach the host. */
  pageHost?: string;
  /** Starts muted / with the camera off (the meeting's settings may also ask for it). */
  startMuted?: boolean;
  startVideoOff?: boolean;
}

type Listener = () => void;

/** The three camera layers: a small one for thumbnails, a middle one, the full picture for the speaker. */
export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: "r0", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "r1", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "r2", scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export function signalingUrl(join: JoinAnswer, pageHost?: string): string {
  const url = new URL(join.ws_url);
  if (pageHost && LOOPBACK.has(url.hostname) && !LOOPBACK.has(pageHost)) url.hostname = pageHost;
  url.searchParams.set("token", join.join_token);
  return url.toString();
}

export const toChatMessage = (m: ChatMessageWire): ChatMessage => ({
  id: m.id,
  seq: m.seq,
  participantId: m.sender.participant_id,
  name: m.sender.name,
  content: m.text,
  at: m.created_at,
  direct: m.to !== null,
});

/** Milestones of a join as performance marks ("nexus:<name>"), for the join-to-first-frame benchmark. */
const mark = (name: string) => {
  if (typeof performance !== "undefined" && performance.getEntriesByName(`nexus:${name}`).length === 0) {
    performance.mark(`nexus:${name}`);
  }
};

export class MeetingSession {
  phase: Phase = "connecting";
  /** Why the meeting view closed or what failed last (shown to the person). */
  error: string | null = null;
  readonly participantId: string;
  readonly meetingId: string;
  role: string;
  name = "";
  muted = false;
  videoOn = true;
  sharing = false;
  hand = false;
  locked = false;
  activeSpeaker: string | null = null;
  readonly peers = new Map<string, RemotePeer>();
  readonly messages: ChatMessage[] = [];
  readonly lobby: LobbyEntry[] = [];
  micLocked = false;
  lobbyEnabled = false;
  /** The last thing a host did to this participant, to tell them ("Alice muted you"). */
  moderation: string | null = null;
  settings: JoinedAck["settings"] | null = null;
  /** The local camera and screen tracks, for self-view tiles. */
  localVideo: MediaStreamTrack | null;
  localScreen: MediaStreamTrack | null = null;

  private client!: SignalingClient;
  private device!: Device;
  private sendTransport: mc.Transport | null = null;
  private recvTransport: mc.Transport | null = null;
  private readonly producers = new Map<MediaSource, mc.Producer>();
  private readonly listeners = new Set<Listener>();
  private readonly consuming = new Set<string>();
  private localAudio: MediaStreamTrack | null;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: SessionOptions) {
    this.participantId = options.join.participant_id;
    this.meetingId = options.join.meeting_id;
    this.role = options.join.role;
    this.localAudio = options.audio ?? null;
    this.localVideo = options.video ?? null;
  }

  get isHost(): boolean {
    return this.role === "host" || this.role === "cohost";
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        console.error("render failed", error);
      }
    }
  }

  /** Connects, joins (or waits in the lobby), sets up transports, sends local media, consumes the others. */
  async start(): Promise<void> {
    mark("start");
    const url = signalingUrl(this.options.join, this.options.pageHost);
    const socket = this.options.openSocket?.(url) ?? (new WebSocket(url) as unknown as WebSocketLike);
    this.client = new SignalingClient(socket, { timeoutMs: 15_000 });
    this.client.onClose((code, reason) => this.onSocketClosed(code, reason));
    this.listen();
    try {
      await this.client.opened();
      mark("socket-open");
      await this.joinRoom();
    } catch (error) {
      if (this.phase === "connecting" || this.phase === "joined") this.fail(error);
      throw error;
    }
  }

  private async joinRoom(): Promise<void> {
    const ack = await this.client.request("join-meeting", {});
    mark("join-ack");
    this.name = ack.display_name;
    this.role = ack.role;
    if (ack.lobby) {
      // The host decides; lobby-admitted tells us to send join-meeting again.
      this.phase = "waiting";
      this.changed();
      return;
    }
    this.role = ack.role;
    this.settings = ack.settings;
    if (ack.lobby_enabled !== undefined) this.lobbyEnabled = ack.lobby_enabled;
    if (ack.locked !== undefined) this.locked = ack.locked;
    for (const peer of ack.peers) this.addPeer(peer);
    await this.setupMedia(ack.router_rtp_capabilities as mc.RtpCapabilities);
    mark("transports");
    this.phase = "joined";
    this.changed();

    const startMuted = this.options.startMuted || ack.settings.mute_on_join;
    const startVideoOff = this.options.startVideoOff || ack.settings.video_off_on_join;
    // Seeing the others is what the person waits for: their consumers go first, so that the resume of
    // each does not queue on the host behind the slower creation of our own (simulcast) producers.
    await Promise.all(ack.peers.flatMap((peer) => peer.producers.map((p) => this.consume(p))));
    await this.produceLocal(startMuted, startVideoOff);
    if (startMuted || !this.localAudio) await this.setMuted(true).catch(() => {});
    if (startVideoOff || !this.localVideo) await this.setVideoOn(false).catch(() => {});
    this.loadChatHistory();
  }

  private async setupMedia(capabilities: mc.RtpCapabilities): Promise<void> {
    this.device = new Device();
    await this.device.load({ routerRtpCapabilities: capabilities });
    [this.sendTransport, this.recvTransport] = await Promise.all([
      this.makeTransport("send"),
      this.makeTransport("recv"),
    ]);
  }

  /** Sends camera and microphone; a failure is shown, not fatal: the person still sees and hears the others. */
  private async produceLocal(muted: boolean, videoOff: boolean): Promise<void> {
    const results = await Promise.allSettled([
      this.localAudio ? this.produce("mic", this.localAudio, muted) : null,
      this.localVideo ? this.produce("camera", this.localVideo, videoOff) : null,
    ]);
    const failed = results.find((r) => r.status === "rejected");
    // Removed or ended while sending started: the reason for that is what the person should read.
    if (failed && !this.closing) {
      this.error = `Could not send your camera or microphone: ${(failed.reason as Error).message}`;
      this.changed();
    }
  }

  /**
   * The room moved to another media worker: everything on the old router is gone. Rebuild transports,
   * send again; the others' producers come back as new-producer notifications when they do the same.
   */
  private async resetMedia(capabilities: mc.RtpCapabilities): Promise<void> {
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.consuming.clear();
    for (const peer of this.peers.values()) peer.tracks.clear();
    this.changed();
    await this.setupMedia(capabilities);
    await this.produceLocal(this.muted, !this.videoOn);
    if (this.localScreen && this.sharing) {
      await this.client.request("start-screen-share", {}).catch(() => {});
      await this.produce("screen", this.localScreen).catch(() => {});
    }
    this.changed();
  }

  private loadChatHistory(): void {
    this.client
      .request("get-messages", { limit: 100 })
      .then(({ messages }) => {
        for (const m of messages) this.addMessage(toChatMessage(m));
      })
      .catch(() => {});
  }

  /** History and live messages may cross; seq is the order everyone sees, id removes duplicates. */
  private addMessage(message: ChatMessage): void {
    if (this.messages.some((m) => m.id === message.id)) return;
    let at = this.messages.length;
    while (at > 0 && this.messages[at - 1]!.seq > message.seq) at--;
    this.messages.splice(at, 0, message);
    this.changed();
  }

  private listen(): void {
    const c = this.client;
    c.on("participant-joined", (peer) => {
      this.addPeer(peer);
      for (const p of peer.producers) void this.consume(p);
      this.changed();
    });
    c.on("participant-left", ({ participant_id }) => {
      const peer = this.peers.get(participant_id);
      if (peer) for (const t of peer.tracks.values()) t.consumer.close();
      this.peers.delete(participant_id);
      if (this.activeSpeaker === participant_id) this.activeSpeaker = null;
      this.changed();
    });
    c.on("participant-updated", (state) => this.applyState(state));
    c.on("new-producer", (p) => void this.consume(p));
    c.on("producer-closed", ({ participant_id, producer_id }) => {
      this.dropTrack(participant_id, producer_id);
    });
    c.on("consumer-closed", ({ producer_id }) => {
      for (const peer of this.peers.values())
        if (peer.tracks.has(producer_id)) this.dropTrack(peer.id, producer_id);
    });
    const setPaused = (paused: boolean) => (e: { participant_id: string; producer_id: string }) => {
      const track = this.peers.get(e.participant_id)?.tracks.get(e.producer_id);
      if (track) {
        track.paused = paused;
        this.changed();
      }
    };
    c.on("producer-paused", setPaused(true));
    c.on("producer-resumed", setPaused(false));
    c.on("active-speaker", ({ participant_id }) => {
      this.activeSpeaker = participant_id;
      this.changed();
    });
    c.on("meeting-ended", ({ reason }) => {
      this.error = reason === "removed" ? "You were removed from the meeting." : "The meeting has ended.";
      void this.close(reason === "removed" ? "removed" : "ended");
    });
    c.on("media-reset", ({ router_rtp_capabilities }) => {
      if (this.phase !== "joined") return;
      this.resetMedia(router_rtp_capabilities as mc.RtpCapabilities).catch((error) => this.fail(error));
    });

    c.on("new-message", (m) => this.addMessage(toChatMessage(m)));
    c.on("lobby-request", (r) => {
      if (this.lobby.some((e) => e.participantId === r.participant_id)) return;
      this.lobby.push({ participantId: r.participant_id, name: r.name, requestedAt: r.requested_at });
      this.changed();
    });
    c.on("lobby-left", ({ participant_id }) => this.removeFromLobby(participant_id));
    c.on("lobby-admitted", () => {
      if (this.phase !== "waiting") return;
      this.phase = "connecting";
      this.changed();
      this.joinRoom().catch((error) => this.fail(error));
    });
    c.on("lobby-denied", () => {
      this.error = "The host did not let you in.";
      void this.close("denied");
    });
    c.on("removed", ({ by }) => {
      this.error = `You were removed from the meeting by ${this.nameOf(by)}.`;
      void this.close("removed");
    });
    c.on("moderated", ({ action, by, locked }) => {
      const what = {
        mute: locked ? "muted you (you cannot unmute until they allow it)" : "muted you",
        "stop-video": "turned your camera off",
        "lower-hand": "lowered your hand",
        promote: "made you a co-host",
      }[action];
      this.moderation = `${this.nameOf(by)} ${what}.`;
      if (action === "stop-video" && this.videoOn) {
        this.videoOn = false;
        this.pauseLocal("camera", true);
      }
      this.changed();
    });
    c.on("meeting-updated", ({ locked, lobby_enabled }) => {
      if (locked !== undefined) this.locked = locked;
      if (lobby_enabled !== undefined) this.lobbyEnabled = lobby_enabled;
      this.changed();
    });
  }

  /** Our own state as the server sees it wins (a host may have muted us); others' state is shown. */
  private applyState(state: ParticipantState): void {
    if (state.participant_id === this.participantId) {
      if (state.is_muted !== this.muted) {
        this.muted = state.is_muted;
        this.pauseLocal("mic", state.is_muted);
      }
      if (state.is_video_on !== this.videoOn && !state.is_video_on) {
        this.videoOn = false;
        this.pauseLocal("camera", true);
      }
      this.hand = state.hand_raised_at !== null;
      this.micLocked = state.mic_locked;
      this.role = state.role;
      this.changed();
      return;
    }
    const peer = this.peers.get(state.participant_id);
    if (!peer) return;
    peer.muted = state.is_muted;
    peer.videoOn = state.is_video_on;
    peer.sharing = state.is_screen_sharing;
    peer.hand = state.hand_raised_at !== null;
    peer.handRaisedAt = state.hand_raised_at;
    peer.micLocked = state.mic_locked;
    peer.role = state.role;
    this.changed();
  }

  /** `by` in moderation notices is a participant id; people know each other by name. */
  private nameOf(participantId: string): string {
    return this.peers.get(participantId)?.name ?? "A host";
  }

  private addPeer(info: PeerInfo): void {
    const prior = this.peers.get(info.participant_id);
    this.peers.set(info.participant_id, {
      id: info.participant_id,
      userId: info.user_id,
      name: info.display_name,
      role: info.role,
      muted: info.is_muted,
      videoOn: info.is_video_on,
      sharing: info.is_screen_sharing,
      hand: info.hand_raised_at !== null,
      handRaisedAt: info.hand_raised_at,
      micLocked: info.mic_locked,
      tracks: prior?.tracks ?? new Map(),
    });
  }

  private dropTrack(participantId: string, producerId: string): void {
    const peer = this.peers.get(participantId);
    const track = peer?.tracks.get(producerId);
    if (!peer || !track) return;
    track.consumer.close();
    peer.tracks.delete(producerId);
    this.changed();
  }

  private async makeTransport(direction: "send" | "recv"): Promise<mc.Transport> {
    const ack = await this.client.request("create-transport", { direction });
    const options: mc.TransportOptions = {
      id: ack.transport_id,
      iceParameters: ack.ice_parameters as mc.IceParameters,
      iceCandidates: ack.ice_candidates as mc.IceCandidate[],
      dtlsParameters: ack.dtls_parameters as mc.DtlsParameters,
      iceServers: this.options.join.ice_servers ?? [],
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
          paused: appData.paused === true,
        })
        .then(({ producer_id }) => done({ id: producer_id }), fail);
    });
    transport.on("connectionstatechange", (state) => {
      if (state === "failed" && this.phase === "joined") {
        this.client.request("restart-ice", { transport_id: transport.id }).then(
          ({ ice_parameters }) => transport.restartIce({ iceParameters: ice_parameters as mc.IceParameters }),
          () => {},
        );
      }
    });
    return transport;
  }

  private async produce(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<mc.Producer> {
    if (!this.sendTransport) throw new Error("not joined");
    const producer = await this.sendTransport.produce({
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
    producer.on("trackended", () => {
      if (source === "screen") void this.stopScreenShare();
    });
    return producer;
  }

  private async consume(info: ProducerInfo): Promise<void> {
    if (!this.recvTransport || info.participant_id === this.participantId) return;
    if (this.consuming.has(info.producer_id)) return;
    this.consuming.add(info.producer_id);
    try {
      const ack = await this.client.request("consume", {
        transport_id: this.recvTransport.id,
        producer_id: info.producer_id,
        rtp_capabilities: this.device.recvRtpCapabilities,
      });
      const consumer = await this.recvTransport.consume({
        id: ack.consumer_id,
        producerId: ack.producer_id,
        kind: ack.kind,
        rtpParameters: ack.rtp_parameters as mc.RtpParameters,
        appData: { source: ack.source, participantId: ack.participant_id },
      });
      mark("consumer");
      const peer = this.peers.get(ack.participant_id);
      if (!peer) {
        consumer.close();
        return;
      }
      peer.tracks.set(ack.producer_id, {
        producerId: ack.producer_id,
        consumer,
        source: ack.source,
        paused: ack.producer_paused,
      });
      this.changed();
      // Consumers start paused on the server so no keyframe is lost before the track is wired up.
      await this.client.request("resume-consumer", { consumer_id: consumer.id });
      mark("resumed");
    } catch (error) {
      this.consuming.delete(info.producer_id);
      if (!(error instanceof SignalingError && error.code === "not_found"))
        console.warn("consume failed", error);
    }
  }

  private pauseLocal(source: MediaSource, paused: boolean): void {
    const producer = this.producers.get(source);
    if (!producer) return;
    if (paused) producer.pause();
    else producer.resume();
  }

  async setMuted(muted: boolean): Promise<void> {
    if (!muted && !this.localAudio) throw new Error("no microphone");
    this.pauseLocal("mic", muted);
    const ack = await this.client.request("toggle-mute", { muted });
    this.muted = ack.muted;
    this.changed();
  }

  toggleMute(): Promise<void> {
    return this.setMuted(!this.muted);
  }

  async setVideoOn(on: boolean): Promise<void> {
    if (on && !this.localVideo) throw new Error("no camera");
    this.pauseLocal("camera", !on);
    const ack = await this.client.request("toggle-video", { video_on: on });
    this.videoOn = ack.video_on;
    this.changed();
  }

  toggleVideo(): Promise<void> {
    return this.setVideoOn(!this.videoOn);
  }

  async toggleHand(): Promise<void> {
    const ack = await this.client.request("toggle-hand", { raised: !this.hand });
    this.hand = ack.raised;
    this.changed();
  }

  /** Shares `track` (from getDisplayMedia by default); refused when someone else already shares. */
  async startScreenShare(track?: MediaStreamTrack): Promise<void> {
    if (this.sharing) return;
    let screen = track;
    if (!screen) {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
      screen = stream.getVideoTracks()[0];
      if (!screen) throw new Error("no screen was chosen");
    }
    try {
      await this.client.request("start-screen-share", {});
      await this.produce("screen", screen);
    } catch (error) {
      screen.stop();
      throw error;
    }
    this.localScreen = screen;
    this.sharing = true;
    this.changed();
  }

  async stopScreenShare(): Promise<void> {
    if (!this.sharing) return;
    this.sharing = false;
    this.producers.get("screen")?.close();
    this.producers.delete("screen");
    this.localScreen?.stop();
    this.localScreen = null;
    this.changed();
    await this.client.request("stop-screen-share", {}).catch(() => {});
  }

  /** With `to`, a direct message that only that participant and the sender see. */
  async sendMessage(content: string, to?: string): Promise<void> {
    const text = content.trim();
    if (!text) return;
    const data = to ? { text, to } : { text };
    this.addMessage(toChatMessage(await this.client.request("send-message", data)));
  }

  // Host controls: the server checks the role; the page shows the buttons to hosts only.
  async muteParticipant(participantId: string): Promise<void> {
    await this.client.request("mute-participant", { participant_id: participantId });
  }
  async removeParticipant(participantId: string): Promise<void> {
    await this.client.request("remove-participant", { participant_id: participantId });
  }
  async lowerHand(participantId: string): Promise<void> {
    await this.client.request("lower-hand", { participant_id: participantId });
  }
  async stopVideo(participantId: string): Promise<void> {
    await this.client.request("stop-video", { participant_id: participantId });
  }
  async promote(participantId: string): Promise<void> {
    const ack = await this.client.request("promote", { participant_id: participantId });
    const peer = this.peers.get(participantId);
    if (peer) peer.role = ack.role;
    this.changed();
  }
  async setLobby(enabled: boolean): Promise<void> {
    const ack = await this.client.request("set-lobby", { enabled });
    this.lobbyEnabled = ack.enabled;
    this.changed();
  }
  async endMeeting(): Promise<void> {
    await this.client.request("end-meeting", {});
  }
  async lockMeeting(locked: boolean): Promise<void> {
    const ack = await this.client.request("lock-meeting", { locked });
    this.locked = ack.locked;
    this.changed();
  }
  async admit(participantId: string): Promise<void> {
    await this.client.request("lobby-admit", { participant_id: participantId });
    this.removeFromLobby(participantId);
  }
  async deny(participantId: string): Promise<void> {
    await this.client.request("lobby-deny", { participant_id: participantId });
    this.removeFromLobby(participantId);
  }

  private removeFromLobby(participantId: string): void {
    const at = this.lobby.findIndex((e) => e.participantId === participantId);
    if (at >= 0) this.lobby.splice(at, 1);
    this.changed();
  }

  /** Per remote video: decoded frames so far, for tests and the stats overlay. */
  async stats(): Promise<
    {
      participantId: string;
      producerId: string;
      source: string;
      kind: string;
      framesDecoded: number;
      mid: string | null;
    }[]
  > {
    const out = [];
    for (const peer of this.peers.values()) {
      for (const track of peer.tracks.values()) {
        let framesDecoded = 0;
        try {
          const report = await track.consumer.getStats();
          report.forEach((s: { type: string; framesDecoded?: number }) => {
            if (s.type === "inbound-rtp") framesDecoded = Math.max(framesDecoded, s.framesDecoded ?? 0);
          });
        } catch {
          // A consumer closed between listing and asking has simply no more frames.
        }
        out.push({
          participantId: peer.id,
          producerId: track.producerId,
          source: track.source,
          kind: track.consumer.kind,
          framesDecoded,
          mid: track.consumer.rtpParameters.mid ?? null,
        });
      }
    }
    return out;
  }

  /** Leaves the meeting; idempotent. */
  leave(): Promise<void> {
    return this.close("left");
  }

  close(phase: Phase = "left"): Promise<void> {
    this.closing ??= (async () => {
      if (phase === "left" && this.phase === "joined") {
        await this.client.request("leave-meeting", {}, { timeoutMs: 2000 }).catch(() => {});
      }
      this.phase = phase;
      for (const producer of this.producers.values()) producer.close();
      this.producers.clear();
      this.sendTransport?.close();
      this.recvTransport?.close();
      this.localScreen?.stop();
      this.client?.close();
      this.changed();
    })();
    return this.closing;
  }

  private onSocketClosed(code: number, reason: string): void {
    if (this.closing) return;
    if (this.phase === "joined" || this.phase === "waiting" || this.phase === "connecting") {
      const told: Partial<Record<number, [string, Phase]>> = {
        [CLOSE_CODES.meetingEnded]: ["The meeting has ended.", "ended"],
        [CLOSE_CODES.denied]: ["A host turned you away from the meeting.", "denied"],
        [CLOSE_CODES.replaced]: ["This meeting was opened in another tab or window.", "left"],
        [CLOSE_CODES.shuttingDown]: ["The media server restarted. Join again.", "failed"],
        [CLOSE_CODES.rateLimited]: ["Disconnected: too many messages.", "failed"],
        [CLOSE_CODES.tooSlow]: ["Disconnected: the connection was too slow.", "failed"],
      };
      const [message, phase] = told[code] ?? [
        reason ? `Disconnected: ${reason}` : `Disconnected from the meeting (${code}).`,
        "failed" as Phase,
      ];
      this.error = message;
      void this.close(phase);
    }
  }

  private fail(error: unknown): void {
    this.error = (error as Error).message ?? String(error);
    void this.close("failed");
  }
}
