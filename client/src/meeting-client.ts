import type { JoinAnswer } from "@nexus/shared/rest/join";
import { SignalingClient, SignalingError, type WebSocketLike } from "@nexus/shared/signaling/client";
import { CLOSE_CODES, isFinalClose } from "@nexus/shared/signaling/close-codes";
import type { MediaSource, ParticipantState, PeerInfo, ProducerInfo } from "@nexus/shared/signaling/peer";
import type { JoinedAck } from "@nexus/shared/signaling/requests";
import type { types as mc } from "mediasoup-client";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
import { Emitter } from "./emitter.js";
import { MediaLink } from "./media-link.js";
import { FINAL_JOIN_CODES } from "./rest.js";
import { type ChatMessage, signalingUrl, toChatMessage } from "./wire.js";

/*
 * A meeting as state plus actions, with no DOM: a UI renders its fields after each change, tests drive it
 * through the same methods. One instance per meeting; it survives dropped sockets on its own (resume within
 * the host's grace period, else a re-join through control) and says so through its connection events.
 */

export type Phase = "connecting" | "waiting" | "joined" | "denied" | "ended" | "removed" | "left" | "failed";

/** The connection as a UI shows it. */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected";

/** Why the client is disconnected for good (or until retry()). */
export type DisconnectReason = "left" | "ended" | "removed" | "denied" | "replaced" | "gave-up" | "failed";

export type ClientEvents = {
  connecting: [];
  connected: [];
  /** The socket dropped (`code`); attempt `attempt` to get back is under way. */
  reconnecting: [info: { attempt: number; code: number }];
  /** Back in: `resumed` when the host still had this peer, else re-joined as a new participant. */
  reconnected: [info: { resumed: boolean; attempts: number }];
  disconnected: [info: { reason: DisconnectReason; message: string }];
  /** Any field changed (a UI re-renders). */
  change: [];
};

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
  /** Their socket dropped and the host keeps them for a while: show it, they are not gone. */
  reconnecting: boolean;
  /** By producer id. */
  tracks: Map<string, RemoteTrack>;
}

export interface LobbyEntry {
  participantId: string;
  name: string;
  requestedAt: string;
}

export interface MeetingClientOptions {
  /** The answer of POST /api/meetings/:id/join (see restJoin). */
  join: JoinAnswer;
  /**
   * Gets a fresh join answer (restJoin with the same user): used when the host no longer has this peer.
   * Without it, a peer that cannot be resumed is disconnected.
   */
  rejoin?: () => Promise<JoinAnswer>;
  /** Camera and microphone to send (either may be missing). */
  audio?: MediaStreamTrack | null;
  video?: MediaStreamTrack | null;
  /** Opens the signaling socket; the global WebSocket by default (pass `ws`'s in Node 20). */
  openSocket?: (url: string) => WebSocketLike;
  /** The page's host name: a loopback ws_url is rewritten to it so other machines can reach the host. */
  pageHost?: string;
  /** Starts muted / with the camera off (the meeting's settings may also ask for it). */
  startMuted?: boolean;
  startVideoOff?: boolean;
  /** mediasoup-client handler ("Chrome111" in Node on @roamhq/wrtc); detected in a browser. */
  handlerName?: mc.BuiltinHandlerName;
  /** A resume token kept from an earlier page (sessionStorage): start by taking that peer back. */
  resumeToken?: string | null;
  reconnect?: BackoffOptions & {
    /** How long one attempt waits for the socket to open (default 5 s). */
    openTimeoutMs?: number;
  };
  /** Request timeout of the signaling client (default 15 s). */
  requestTimeoutMs?: number;
}

/** Milestones of a join as performance marks ("nexus:<name>"), for the join-to-first-frame benchmark. */
const mark = (name: string) => {
  if (typeof performance !== "undefined" && performance.getEntriesByName(`nexus:${name}`).length === 0) {
    performance.mark(`nexus:${name}`);
  }
};

/** A failed attempt the next one can fix (a socket that did not open, a host that did not answer). */
class RetryableError extends Error {}

/** Recovery stops: a refusal no retry changes. */
class FinalError extends Error {
  constructor(
    message: string,
    readonly phase: Phase = "failed",
  ) {
    super(message);
  }
}

const FINAL_CLOSE_TEXT: Partial<Record<number, [string, Phase, DisconnectReason]>> = {
  [CLOSE_CODES.meetingEnded]: ["The meeting has ended.", "ended", "ended"],
  [CLOSE_CODES.denied]: ["A host turned you away from the meeting.", "denied", "denied"],
  [CLOSE_CODES.replaced]: ["This meeting was opened in another tab or window.", "left", "replaced"],
  [CLOSE_CODES.rateLimited]: ["Disconnected: too many messages.", "failed", "failed"],
};

export class MeetingClient {
  phase: Phase = "connecting";
  connection: ConnectionState = "connecting";
  /** Why the meeting view closed or what failed last (shown to the person). */
  error: string | null = null;
  participantId: string;
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
  /** Takes this peer back after a drop (keep it in sessionStorage to survive a reload). */
  resumeToken: string | null;
  /** Reconnect attempts of the recovery under way (0 when connected). */
  attempt = 0;
  readonly events = new Emitter<ClientEvents>();

  private answer: JoinAnswer;
  private client!: SignalingClient;
  private readonly media: MediaLink;
  private readonly consuming = new Set<string>();
  private localAudio: MediaStreamTrack | null;
  private closing: Promise<void> | null = null;
  private recovering: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** How long the host keeps this peer after a drop (from the join ack; RECONNECT_GRACE_MS's default). */
  private graceMs = 15_000;
  private resumeWindowOpen = true;
  private readonly offOnline: () => void;

  constructor(private readonly options: MeetingClientOptions) {
    this.answer = options.join;
    this.participantId = options.join.participant_id;
    this.meetingId = options.join.meeting_id;
    this.role = options.join.role;
    this.localAudio = options.audio ?? null;
    this.localVideo = options.video ?? null;
    this.resumeToken = options.resumeToken ?? null;
    this.media = new MediaLink({
      signaling: () => this.client,
      handlerName: options.handlerName,
      iceServers: () => this.answer.ice_servers as RTCIceServer[] | undefined,
      canRestartIce: () => this.phase === "joined" && this.connection === "connected",
    });
    this.muted = !!options.startMuted;
    this.videoOn = !options.startVideoOff;
    // A network that comes back cuts the wait before the next attempt short.
    const online = () => this.wake?.();
    const w = globalThis as { addEventListener?: (t: string, l: () => void) => void };
    const wr = globalThis as { removeEventListener?: (t: string, l: () => void) => void };
    w.addEventListener?.("online", online);
    this.offOnline = () => wr.removeEventListener?.("online", online);
  }

  get isHost(): boolean {
    return this.role === "host" || this.role === "cohost";
  }

  /** The join answer in use (a re-join replaces it). */
  get joinAnswer(): JoinAnswer {
    return this.answer;
  }

  /** True after recovery gave up: retry() starts it again. */
  get canRetry(): boolean {
    return this.phase === "failed" && this.connection === "disconnected" && this.closing === null;
  }

  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  onChange(listener: () => void): () => void {
    return this.events.on("change", listener);
  }

  protected changed(): void {
    this.events.emit("change");
  }

  private setConnection(state: ConnectionState): void {
    if (this.connection === state) return;
    this.connection = state;
    this.changed();
  }

  /** The signaling client of the current connection (tests wait on its notifications). */
  get signaling(): SignalingClient {
    return this.client;
  }

  /** Connects, joins (or waits in the lobby), sets up transports, sends local media, consumes the others. */
  async start(): Promise<void> {
    mark("start");
    this.events.emit("connecting");
    if (this.resumeToken) {
      // A reload inside the grace period: take the old peer back; if it is gone, join again.
      try {
        if (await this.tryResume(true)) return this.connected();
      } catch {}
      this.resumeToken = null;
      try {
        await this.tryRejoin();
        return this.connected();
      } catch (error) {
        this.fail(error);
        throw error;
      }
    }
    try {
      await this.adopt(await this.connect(this.urlFor({ token: this.answer.join_token })));
      mark("socket-open");
      await this.joinRoom(!!this.options.startMuted, !!this.options.startVideoOff, true);
      this.connected();
    } catch (error) {
      if (this.phase === "connecting" || this.phase === "joined") this.fail(error);
      throw error;
    }
  }

  private connected(): void {
    this.setConnection("connected");
    this.events.emit("connected");
  }

  private urlFor(params: Record<string, string>): string {
    return signalingUrl(this.answer, params, this.options.pageHost);
  }

  /** Opens a socket and waits for it to open (rejects with RetryableError if it closes or takes too long). */
  private async connect(url: string): Promise<SignalingClient> {
    const socket =
      this.options.openSocket?.(url) ??
      (new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(
        url,
      ) as WebSocketLike);
    // A refused upgrade or a reset is an "error" event before the close; Node's `ws` throws one nobody hears.
    socket.addEventListener("error", () => {});
    const client = new SignalingClient(socket, { timeoutMs: this.options.requestTimeoutMs ?? 15_000 });
    const timeoutMs = this.options.reconnect?.openTimeoutMs ?? 5000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        client.opened(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      client.close();
      throw new RetryableError((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Makes `client` the connection of this session: its notifications and its close. */
  private async adopt(client: SignalingClient): Promise<void> {
    const previous = this.client;
    this.client = client;
    if (previous && previous !== client) previous.close();
    client.onClose((code, reason) => {
      if (this.client === client) this.onSocketClosed(code, reason);
    });
    this.listen(client);
  }

  private async joinRoom(startMuted: boolean, startVideoOff: boolean, first: boolean): Promise<void> {
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
    this.resumeToken = ack.resume_token;
    if (ack.reconnect_grace_ms !== undefined) this.graceMs = ack.reconnect_grace_ms;
    this.settings = ack.settings;
    if (ack.lobby_enabled !== undefined) this.lobbyEnabled = ack.lobby_enabled;
    if (ack.locked !== undefined) this.locked = ack.locked;
    for (const peer of ack.peers) this.addPeer(peer);
    await this.setupMedia(ack.router_rtp_capabilities as mc.RtpCapabilities);
    mark("transports");
    this.phase = "joined";
    this.changed();

    const muted = startMuted || (first && ack.settings.mute_on_join);
    const videoOff = startVideoOff || (first && ack.settings.video_off_on_join);
    // Seeing the others is what the person waits for: their consumers go first, so that the resume of
    // each does not queue on the host behind the slower creation of our own (simulcast) producers.
    await Promise.all(ack.peers.flatMap((peer) => peer.producers.map((p) => this.consume(p))));
    await this.produceLocal(muted, videoOff);
    if (muted || !this.localAudio) await this.setMuted(true).catch(() => {});
    if (videoOff || !this.localVideo) await this.setVideoOn(false).catch(() => {});
    this.loadChatHistory();
  }

  private setupMedia(capabilities: mc.RtpCapabilities): Promise<void> {
    return this.media.open(capabilities);
  }

  /** Sends camera and microphone; a failure is shown, not fatal: the person still sees and hears the others. */
  private async produceLocal(muted: boolean, videoOff: boolean): Promise<void> {
    const results = await Promise.allSettled([
      this.localAudio && !this.media.producers.has("mic")
        ? this.produce("mic", this.localAudio, muted)
        : null,
      this.localVideo && !this.media.producers.has("camera")
        ? this.produce("camera", this.localVideo, videoOff)
        : null,
    ]);
    const failed = results.find((r) => r.status === "rejected");
    // Removed or ended while sending started: the reason for that is what the person should read.
    if (failed && !this.closing && this.connection !== "reconnecting") {
      this.error = `Could not send your camera or microphone: ${(failed.reason as Error).message}`;
      this.changed();
    }
  }

  /** Everything on the host's side is gone (new router, or a re-join): close our side of it. */
  private dropMedia(): void {
    this.media.close();
    this.consuming.clear();
    for (const peer of this.peers.values()) {
      for (const track of peer.tracks.values()) track.consumer.close();
      peer.tracks.clear();
    }
  }

  /**
   * The room moved to another media worker: everything on the old router is gone. Rebuild transports,
   * send again; the others' producers come back as new-producer notifications when they do the same.
   */
  private async resetMedia(capabilities: mc.RtpCapabilities): Promise<void> {
    this.dropMedia();
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

  private listen(c: SignalingClient): void {
    c.on("participant-joined", (peer) => {
      this.addPeer(peer);
      for (const p of peer.producers) void this.consume(p);
      this.changed();
    });
    c.on("participant-left", ({ participant_id }) => this.removePeer(participant_id));
    c.on("participant-updated", (state) => this.applyState(state));
    c.on("participant-connection", ({ participant_id, state }) => {
      const peer = this.peers.get(participant_id);
      if (!peer) return;
      peer.reconnecting = state === "reconnecting";
      this.changed();
    });
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
      this.joinRoom(!!this.options.startMuted, !!this.options.startVideoOff, true).catch((error) =>
        this.fail(error),
      );
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
      reconnecting: info.connection === "reconnecting",
      tracks: prior?.tracks ?? new Map(),
    });
  }

  private removePeer(participantId: string): void {
    const peer = this.peers.get(participantId);
    if (peer)
      for (const t of peer.tracks.values()) {
        t.consumer.close();
        this.consuming.delete(t.producerId);
      }
    this.peers.delete(participantId);
    if (this.activeSpeaker === participantId) this.activeSpeaker = null;
    this.changed();
  }

  private dropTrack(participantId: string, producerId: string): void {
    const peer = this.peers.get(participantId);
    const track = peer?.tracks.get(producerId);
    if (!peer || !track) return;
    track.consumer.close();
    peer.tracks.delete(producerId);
    this.consuming.delete(producerId);
    this.changed();
  }

  private async produce(source: MediaSource, track: MediaStreamTrack, paused = false): Promise<mc.Producer> {
    const producer = await this.media.produce(source, track, paused);
    producer.on("trackended", () => {
      if (source === "screen") void this.stopScreenShare();
    });
    return producer;
  }

  private async consume(info: ProducerInfo): Promise<void> {
    if (!this.media.recv || info.participant_id === this.participantId) return;
    if (this.consuming.has(info.producer_id)) return;
    this.consuming.add(info.producer_id);
    try {
      const { consumer, ack, transport } = await this.media.consume(info.producer_id);
      mark("consumer");
      const peer = this.peers.get(ack.participant_id);
      // Gone meanwhile, or the receive transport was replaced (a reconnect): this consumer is stale.
      if (!peer || transport !== this.media.recv) {
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
      if (!(error instanceof SignalingError && (error.code === "not_found" || error.code === "unavailable")))
        console.warn("consume failed", error);
    }
  }

  private pauseLocal(source: MediaSource, paused: boolean): void {
    const producer = this.media.producers.get(source);
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

  /** Shares `screen` (a track from getDisplayMedia); refused when someone else already shares. */
  async startScreenShare(screen: MediaStreamTrack): Promise<void> {
    if (this.sharing) return;
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
    this.media.closeProducer("screen");
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

  // Host controls: the server checks the role; a UI shows the buttons to hosts only.
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

  /**
   * Per remote track: decoded frames so far, matched to the consumer by the SSRC the host gave it (the
   * receive transport also carries mediasoup's probator stream, which never decodes).
   */
  async stats(): Promise<
    {
      participantId: string;
      producerId: string;
      source: string;
      kind: string;
      framesDecoded: number;
      packetsReceived: number;
      mid: string | null;
    }[]
  > {
    const out = [];
    for (const peer of this.peers.values()) {
      for (const track of peer.tracks.values()) {
        let framesDecoded = 0;
        let packetsReceived = 0;
        const ssrc = track.consumer.rtpParameters.encodings?.[0]?.ssrc;
        try {
          // wrtc (Node) has no per-receiver stats: the transport's, narrowed by SSRC, say the same.
          const report = await track.consumer
            .getStats()
            .catch(() => this.media.recv?.getStats() ?? new Map());
          report.forEach(
            (s: { type: string; ssrc?: number; framesDecoded?: number; packetsReceived?: number }) => {
              if (s.type !== "inbound-rtp" || (ssrc !== undefined && s.ssrc !== undefined && s.ssrc !== ssrc))
                return;
              framesDecoded = Math.max(framesDecoded, s.framesDecoded ?? 0);
              packetsReceived = Math.max(packetsReceived, s.packetsReceived ?? 0);
            },
          );
        } catch {
          // A consumer closed between listing and asking has simply no more frames.
        }
        out.push({
          participantId: peer.id,
          producerId: track.producerId,
          source: track.source,
          kind: track.consumer.kind,
          framesDecoded,
          packetsReceived,
          mid: track.consumer.rtpParameters.mid ?? null,
        });
      }
    }
    return out;
  }

  /**
   * The page goes away (reload, closed tab) without leaving: the socket closes, the host keeps the peer for
   * its grace period, and a page that comes back with resumeToken takes it over.
   */
  suspend(): void {
    if (this.closing) return;
    this.client?.close(1000, "page closed");
  }

  /** Leaves the meeting; idempotent. */
  leave(): Promise<void> {
    return this.close("left");
  }

  close(phase: Phase = "left", reason?: DisconnectReason): Promise<void> {
    this.closing ??= (async () => {
      this.wake?.();
      if (phase === "left" && this.phase === "joined" && this.connection === "connected") {
        await this.client.request("leave-meeting", {}, { timeoutMs: 2000 }).catch(() => {});
      }
      this.phase = phase;
      this.resumeToken = null;
      this.dropMedia();
      this.localScreen?.stop();
      this.client?.close();
      this.offOnline();
      this.connection = "disconnected";
      this.changed();
      this.events.emit("disconnected", {
        reason:
          reason ?? (phase === "joined" || phase === "connecting" || phase === "waiting" ? "left" : phase),
        message: this.error ?? "",
      } as { reason: DisconnectReason; message: string });
    })();
    return this.closing;
  }

  private onSocketClosed(code: number, reason: string): void {
    if (this.closing) return;
    const final = FINAL_CLOSE_TEXT[code];
    if (final || isFinalClose(code)) {
      const [message, phase, why] = final ?? [`Disconnected: ${reason || code}`, "failed" as Phase, "failed"];
      this.error = message;
      void this.close(phase, why as DisconnectReason);
      return;
    }
    if (this.phase === "joined" || this.phase === "waiting") {
      void this.recover(code);
      return;
    }
    this.error = reason ? `Disconnected: ${reason}` : `Disconnected from the meeting (${code}).`;
    void this.close("failed", "failed");
  }

  /** Recovery gave up: retry() starts it again (a resume if the host still has us, else a re-join). */
  retry(): Promise<void> {
    if (!this.canRetry) return Promise.resolve();
    this.phase = "joined";
    this.error = null;
    return this.recover(0);
  }

  /**
   * Gets back into the meeting after the socket dropped: resume the peer while the host keeps it, else
   * re-join through control, with backoff between attempts; gives up after maxAttempts.
   */
  private recover(code: number): Promise<void> {
    this.recovering ??= this.runRecovery(code).finally(() => {
      this.recovering = null;
    });
    return this.recovering;
  }

  private async runRecovery(code: number): Promise<void> {
    const options = { ...DEFAULT_BACKOFF, ...this.options.reconnect };
    const droppedAt = Date.now();
    this.setConnection("reconnecting");
    // A host that shut down took its peers with it: go through control at once for a (new) host.
    if (code === CLOSE_CODES.shuttingDown) this.resumeWindowOpen = false;
    for (let n = 1; n <= options.maxAttempts; n++) {
      this.attempt = n;
      this.events.emit("reconnecting", { attempt: n, code });
      this.changed();
      await this.sleep(backoffDelay(n, options));
      if (this.closing) return;
      try {
        // While the host keeps the peer (its grace period, learnt in the join ack) a resume is tried: a
        // browser cannot tell a refused resume (401) from a host it cannot reach, so the clock decides.
        const inGrace = Date.now() - droppedAt < this.graceMs && this.resumeWindowOpen;
        if (this.resumeToken && this.phase === "joined" && inGrace) {
          if (await this.tryResume(false)) return this.recovered(true, n);
          // The host answered: that peer is gone. Re-join at once rather than after another wait.
          this.resumeToken = null;
        }
        await this.tryRejoin();
        return this.recovered(false, n);
      } catch (error) {
        if (this.closing) return;
        if (error instanceof FinalError) {
          this.error = error.message;
          void this.close(
            error.phase,
            error.phase === "failed" ? "failed" : (error.phase as DisconnectReason),
          );
          return;
        }
      }
    }
    this.giveUp();
  }

  private recovered(resumed: boolean, attempts: number): void {
    // Left (or ended) while the last attempt was finishing: the close already said so.
    if (this.closing) return;
    this.attempt = 0;
    this.resumeWindowOpen = true;
    this.setConnection("connected");
    this.events.emit("reconnected", { resumed, attempts });
    this.changed();
  }

  private giveUp(): void {
    if (this.closing) return;
    this.attempt = 0;
    this.dropMedia();
    this.client?.close();
    this.phase = "failed";
    this.error = "The connection to the meeting was lost and could not be restored.";
    this.connection = "disconnected";
    this.changed();
    this.events.emit("disconnected", { reason: "gave-up", message: this.error });
  }

  /** Waits `ms`, or less when the network comes back or the session closes. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /**
   * Takes this peer back over a new socket. True when resumed; false when the host says the peer is gone;
   * RetryableError when the socket did not open. `fresh`: a page that starts over (no media of its own yet).
   */
  private async tryResume(fresh: boolean): Promise<boolean> {
    const client = await this.connect(this.urlFor({ resume: this.resumeToken! }));
    let ack: Awaited<ReturnType<SignalingClient["request"]>>;
    try {
      ack = await client.request("join-meeting", {});
    } catch (error) {
      client.close();
      if (error instanceof SignalingError && error.code !== "unavailable") return false;
      throw new RetryableError((error as Error).message);
    }
    const joined = ack as JoinedAck;
    if ((ack as { lobby?: boolean }).lobby || !joined.resumed) {
      client.close();
      return false;
    }
    await this.adopt(client);
    if (fresh) {
      this.name = joined.display_name;
      this.role = joined.role;
      this.settings = joined.settings;
      if (joined.lobby_enabled !== undefined) this.lobbyEnabled = joined.lobby_enabled;
      if (joined.locked !== undefined) this.locked = joined.locked;
    }
    await this.applyResume(joined, fresh);
    return true;
  }

  /**
   * The host kept this peer: bring our side in line with what it has. Peers and producers that came or went
   * while we were away, transports or producers it no longer has (re-created), ICE restarted where needed,
   * chat messages we missed.
   */
  private async applyResume(ack: JoinedAck, fresh: boolean): Promise<void> {
    this.resumeToken = ack.resume_token;
    if (ack.reconnect_grace_ms !== undefined) this.graceMs = ack.reconnect_grace_ms;
    const live = new Map(ack.peers.map((p) => [p.participant_id, p]));
    for (const id of [...this.peers.keys()]) if (!live.has(id)) this.removePeer(id);
    for (const info of ack.peers) {
      this.addPeer(info);
      const peer = this.peers.get(info.participant_id)!;
      const now = new Map(info.producers.map((p) => [p.producer_id, p]));
      for (const [producerId, track] of [...peer.tracks]) {
        const p = now.get(producerId);
        if (!p) this.dropTrack(peer.id, producerId);
        else track.paused = p.paused;
      }
    }
    const kept = new Set(ack.transport_ids);
    const media = this.media;
    if (fresh || !media.recv || !kept.has(media.recv.id)) {
      // A reload (nothing of ours survives in the page) or a host that lost them: new transports.
      if (fresh || !media.device) await media.load(ack.router_rtp_capabilities as mc.RtpCapabilities);
      for (const peer of this.peers.values()) {
        for (const track of peer.tracks.values()) track.consumer.close();
        peer.tracks.clear();
      }
      this.consuming.clear();
      media.recv?.close();
      media.recv = await media.createTransport("recv");
    }
    if (fresh || !media.send || !kept.has(media.send.id)) {
      media.closeProducers();
      media.send?.close();
      media.send = await media.createTransport("send");
      // The old producers (a reload's) are still in the room: close them so ours replace them.
      for (const producerId of ack.producer_ids)
        await this.client.request("close-producer", { producer_id: producerId }).catch(() => {});
    } else {
      const held = new Set(ack.producer_ids);
      for (const [source, producer] of [...media.producers]) {
        if (held.has(producer.id)) continue;
        media.closeProducer(source);
        if (source === "screen") {
          this.sharing = false;
          this.localScreen?.stop();
          this.localScreen = null;
        }
      }
    }
    this.phase = "joined";
    this.changed();
    // A resume is the moment to repair what broke while the socket was down.
    await media.restartStalled();
    await Promise.all(ack.peers.flatMap((peer) => peer.producers.map((p) => this.consume(p))));
    if (fresh) {
      await this.produceLocal(!!this.options.startMuted, !!this.options.startVideoOff);
      await this.setMuted(!!this.options.startMuted || !this.localAudio).catch(() => {});
      await this.setVideoOn(!this.options.startVideoOff && !!this.localVideo).catch(() => {});
    } else {
      await this.produceLocal(this.muted, !this.videoOn);
    }
    this.loadChatHistory();
  }

  /** The host no longer has this peer: ask control for a new place and join as a new participant. */
  private async tryRejoin(): Promise<void> {
    if (!this.options.rejoin)
      throw new FinalError("The connection to the meeting was lost and this page cannot join again.");
    let answer: JoinAnswer;
    try {
      answer = await this.options.rejoin();
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (FINAL_JOIN_CODES.has(code)) throw new FinalError((error as Error).message);
      throw new RetryableError((error as Error).message);
    }
    this.answer = answer;
    // The host may still keep our old peer (it has not noticed the drop yet): this join takes its place.
    const params: Record<string, string> = { token: answer.join_token };
    if (this.resumeToken) params.replaces = this.resumeToken;
    const client = await this.connect(this.urlFor(params));
    this.dropMedia();
    this.peers.clear();
    this.activeSpeaker = null;
    this.participantId = answer.participant_id;
    this.role = answer.role;
    this.resumeToken = null;
    await this.adopt(client);
    const wasSharing = this.sharing;
    if (wasSharing) {
      this.sharing = false;
      this.localScreen?.stop();
      this.localScreen = null;
    }
    try {
      await this.joinRoom(this.muted, !this.videoOn, false);
    } catch (error) {
      if (error instanceof SignalingError && FINAL_JOIN_CODES.has(error.code))
        throw new FinalError(error.message);
      throw new RetryableError((error as Error).message);
    }
  }

  private fail(error: unknown): void {
    this.error = (error as Error).message ?? String(error);
    void this.close("failed", "failed");
  }
}
