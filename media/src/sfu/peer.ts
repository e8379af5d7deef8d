import { randomBytes } from "node:crypto";
import type { NotificationData, NotificationType } from "@nexus/shared/signaling/index";
import type { MediaSource, ParticipantState, PeerInfo } from "@nexus/shared/signaling/peer";
import type { JoinClaims } from "@nexus/shared/tokens";
import type { types as ms } from "mediasoup";

/** What a room needs of a client connection; the signal server supplies it. */
export interface Connection {
  readonly id: number;
  /** True once the connection closed, from either side; sends are then dropped. */
  readonly closed: boolean;
  notify<T extends NotificationType>(type: T, data: NotificationData<T>): void;
  /** A notification already serialized: a room broadcast encodes once for all its peers (LoopChannel). */
  sendSerialized(text: string): void;
  close(code: number, reason: string): void;
}

export interface OwnedProducer {
  producer: ms.Producer;
  source: MediaSource;
}

/** One participant in one room: their connection (null while in the reconnect grace period) and media. */
export class Peer {
  readonly id: string;
  readonly userId: string;
  readonly displayName: string;
  readonly claims: JoinClaims;
  /** Secret that lets a new connection take this peer over after a drop. */
  readonly resumeToken = randomBytes(24).toString("base64url");
  conn: Connection | null;
  graceTimer: ReturnType<typeof setTimeout> | null = null;
  readonly transports = new Map<string, ms.WebRtcTransport>();
  readonly producers = new Map<string, OwnedProducer>();
  readonly consumers = new Map<string, ms.Consumer>();
  /** The visible state; changed only through update() (the room's methods), read by anyone. */
  private readonly s: Omit<ParticipantState, "participant_id">;

  constructor(claims: JoinClaims, conn: Connection, initial: { muted: boolean; videoOn: boolean }) {
    this.claims = claims;
    this.id = claims.participant_id;
    this.userId = claims.user_id;
    this.displayName = claims.name;
    this.conn = conn;
    this.s = {
      is_muted: initial.muted,
      is_video_on: initial.videoOn,
      is_screen_sharing: false,
      hand_raised_at: null,
      role: claims.role,
      mic_locked: false,
    };
  }

  get state(): Readonly<Omit<ParticipantState, "participant_id">> {
    return this.s;
  }

  /** Changes visible state; the room announces it (Room.announce). */
  update(changes: Partial<Omit<ParticipantState, "participant_id">>): void {
    Object.assign(this.s, changes);
  }

  /** The peer holds the transport until it closes (its own close, the router's, or closeMedia). */
  addTransport(transport: ms.WebRtcTransport): void {
    this.transports.set(transport.id, transport);
    transport.observer.on("close", () => this.transports.delete(transport.id));
  }

  addProducer(producer: ms.Producer, source: MediaSource): void {
    this.producers.set(producer.id, { producer, source });
    producer.observer.on("close", () => this.producers.delete(producer.id));
  }

  addConsumer(consumer: ms.Consumer): void {
    this.consumers.set(consumer.id, consumer);
    consumer.observer.on("close", () => this.consumers.delete(consumer.id));
  }

  /** Starts as the token's role; a host may promote a member to cohost. */
  get role(): JoinClaims["role"] {
    return this.s.role;
  }

  notify<T extends NotificationType>(type: T, data: NotificationData<T>): void {
    this.conn?.notify(type, data);
  }

  // Built field by field rather than by spreading `state`: a join-meeting ack lists every other peer, so
  // info() runs once per peer per join, and the two object spreads it made were a visible part of that.
  participantState(): ParticipantState {
    const s = this.s;
    return {
      participant_id: this.id,
      is_muted: s.is_muted,
      is_video_on: s.is_video_on,
      is_screen_sharing: s.is_screen_sharing,
      hand_raised_at: s.hand_raised_at,
      role: s.role,
      mic_locked: s.mic_locked,
    };
  }

  info(): PeerInfo {
    return Object.assign(this.participantState(), {
      connection: this.conn ? ("connected" as const) : ("reconnecting" as const),
      user_id: this.userId,
      display_name: this.displayName,
      producers: [...this.producers.values()].map(({ producer, source }) => ({
        producer_id: producer.id,
        participant_id: this.id,
        kind: producer.kind,
        source,
        paused: producer.paused,
      })),
    });
  }

  producersOf(source: MediaSource): ms.Producer[] {
    return [...this.producers.values()].filter((p) => p.source === source).map((p) => p.producer);
  }

  clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  /**
   * Closing the transports cascades to every producer and consumer on them. Idempotent. `beforeClose` sees
   * each transport just before it closes (the host reads its byte counters one last time).
   */
  closeMedia(beforeClose?: (transport: ms.WebRtcTransport) => void): void {
    for (const transport of this.transports.values()) {
      beforeClose?.(transport);
      transport.close();
    }
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
