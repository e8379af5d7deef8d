import type { Logger } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";
import type { JoinClaims } from "@nexus/shared/tokens";
import type { MeetingLoader, MeetingSnapshot } from "../meeting/meeting-loader.js";
import type { Connection, Peer } from "./peer.js";
import type { PeerLimits } from "./peer-limits.js";
import { Room } from "./room.js";
import type { RoomChannel } from "./room-channel.js";
import { TypedEmitter } from "./typed-emitter.js";
import type { WorkerPool } from "./worker-pool.js";

export interface RoomManagerOptions {
  pool: WorkerPool;
  meetings: MeetingLoader;
  logger: Logger;
  reconnectGraceMs: number;
  /** What each peer may hold (default DEFAULT_PEER_LIMITS). */
  limits?: PeerLimits;
  /** A fresh broadcast channel for each room; default: a loop over the peers' connections. */
  channel?: (meetingId: string) => RoomChannel;
}

/**
 * The rooms of this host, one per meeting. Creation goes through a per-meeting promise, so concurrent first
 * joins share one room instead of racing to make two.
 */
export class RoomManager {
  private readonly rooms = new Map<string, Room>();
  private readonly creating = new Map<string, Promise<Room>>();
  private readonly byResumeToken = new Map<string, { room: Room; peer: Peer }>();
  private draining = false;
  private closed = false;
  private readonly drainWaiters: (() => void)[] = [];
  private readonly unwatchDeaths: () => void;
  /** `newroom`: a room was made; whoever keeps records subscribes to its events there (before anyone joins). */
  readonly observer: TypedEmitter<{ newroom: [room: Room] }>;

  constructor(private readonly options: RoomManagerOptions) {
    this.unwatchDeaths = options.pool.onWorkerDeath((index) => this.onWorkerDeath(index));
    this.observer = new TypedEmitter((err) => options.logger.error({ err }, "a new-room listener failed"));
  }

  get size(): number {
    return this.rooms.size;
  }
  /** How long a dropped peer is kept for a resume (clients learn it in the join-meeting ack). */
  get reconnectGraceMs(): number {
    return this.options.reconnectGraceMs;
  }
  get isDraining(): boolean {
    return this.draining;
  }
  all(): Room[] {
    return [...this.rooms.values()];
  }
  get(meetingId: string): Room | undefined {
    return this.rooms.get(meetingId);
  }
  peerCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.peers.size;
    return n;
  }

  resumable(token: string): { room: Room; peer: Peer } | null {
    const found = this.byResumeToken.get(token);
    if (!found || found.room.closed || found.room.peers.get(found.peer.id) !== found.peer) return null;
    return found;
  }

  /** `meeting`: the row the caller just read, so a first join does not read it again to make the room. */
  async join(
    claims: JoinClaims,
    conn: Connection,
    meeting?: MeetingSnapshot,
  ): Promise<{ room: Room; peer: Peer; resumed: boolean }> {
    // A room closing between lookup and join (its last peer just left) is replaced by a fresh one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const room = await this.roomFor(
        claims.tenant_id,
        claims.meeting_id,
        attempt === 0 ? meeting : undefined,
      );
      if (room.closed) continue;
      const { peer, resumed } = room.join(claims, conn);
      this.byResumeToken.set(peer.resumeToken, { room, peer });
      return { room, peer, resumed };
    }
    throw new AppError("unavailable", "room is restarting, try again");
  }

  /** Stops taking new meetings; resolves when the last room has closed. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.rooms.size === 0 && this.creating.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  endMeeting(meetingId: string, reason: string): boolean {
    const room = this.rooms.get(meetingId);
    if (!room) return false;
    room.end(reason);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    this.unwatchDeaths();
    for (const room of [...this.rooms.values()]) room.close();
  }

  private roomFor(tenantId: string, meetingId: string, known?: MeetingSnapshot): Promise<Room> {
    const existing = this.rooms.get(meetingId);
    if (existing && !existing.closed) return Promise.resolve(existing);
    const inFlight = this.creating.get(meetingId);
    if (inFlight) return inFlight;
    const promise = this.createRoom(tenantId, meetingId, known).finally(() =>
      this.creating.delete(meetingId),
    );
    this.creating.set(meetingId, promise);
    return promise;
  }

  private async createRoom(tenantId: string, meetingId: string, known?: MeetingSnapshot): Promise<Room> {
    if (this.draining) throw new AppError("unavailable", "this media host is draining");
    const meeting =
      known && known.tenantId === tenantId && known.id === meetingId
        ? known
        : await this.options.meetings.load(tenantId, meetingId);
    if (!meeting) throw new AppError("not_found", "meeting not found");
    if (meeting.status === "ended") throw new AppError("invalid_state", "meeting has ended");
    const slot = await this.options.pool.pick();
    const room = await Room.create({
      // The room keeps only what it acts on; status and the lobby/lock gate are read where they are checked.
      meeting: {
        id: meeting.id,
        tenantId: meeting.tenantId,
        maxParticipants: meeting.maxParticipants,
        settings: meeting.settings,
      },
      slot,
      logger: this.options.logger,
      reconnectGraceMs: this.options.reconnectGraceMs,
      channel: this.options.channel?.(meetingId),
      limits: this.options.limits,
    });
    // Subscribed before anyone else: the manager's own bookkeeping runs first.
    room.events.on("peerleft", (p) => this.byResumeToken.delete(p.resumeToken));
    room.events.on("close", () => this.onRoomClosed(room));
    this.observer.emit("newroom", room);
    if (this.closed) {
      room.close();
      throw new AppError("unavailable", "media host shutting down");
    }
    this.rooms.set(meetingId, room);
    this.options.logger.info({ meeting_id: meetingId, worker_slot: slot.index }, "room created");
    return room;
  }

  private onRoomClosed(room: Room): void {
    if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
    this.options.logger.info({ meeting_id: room.id }, "room closed");
    if (this.draining && this.rooms.size === 0) for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private onWorkerDeath(index: number): void {
    for (const room of this.rooms.values()) {
      if (room.slot.index !== index || room.closed) continue;
      void this.options.pool
        .pick()
        .then((slot) => room.moveTo(slot))
        .catch((err) => {
          this.options.logger.error(
            { err, meeting_id: room.id },
            "could not rebuild room after worker death",
          );
          room.end("media failure");
        });
    }
  }
}
