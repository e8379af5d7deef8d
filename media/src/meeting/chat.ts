import { chatMessages, type Db, meetingStats, participants } from "@nexus/drizzle";
import type { Logger } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";
import type { MeetingRole } from "@nexus/shared/meeting";
import type { ChatMessageWire } from "@nexus/shared/signaling/meeting";
import { and, desc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Peer } from "../sfu/peer.js";
import type { Room } from "../sfu/room.js";

export interface ChatOptions {
  db: Db;
  logger: Logger;
  now: () => Date;
  randomId: () => string;
  /** Resolves once a participant's row exists (rows are written behind the join path); none: rows exist. */
  participantRow?: (participantId: string) => Promise<void>;
  /** Token bucket per participant: sustained messages per second and burst. */
  ratePerSec?: number;
  burst?: number;
}

type Row = typeof chatMessages.$inferSelect;

const toWire = (row: Row, role: MeetingRole | null): ChatMessageWire => ({
  id: row.id,
  seq: row.seq,
  sender: {
    participant_id: row.senderParticipantId,
    user_id: row.senderUserId,
    name: row.senderName,
    ...(role ? { role } : {}),
  },
  text: row.content,
  reply_to: row.replyTo,
  to: row.recipientParticipantId,
  created_at: row.createdAt.toISOString(),
});

/** At most this many queued messages of one meeting are stored in one transaction. */
const MAX_BATCH = 64;

interface Queued {
  room: Room;
  peer: Peer;
  text: string;
  replyTo: string | null;
  recipient: Peer | null;
  done(message: ChatMessageWire): void;
  failed(error: unknown): void;
}

/**
 * Chat of the rooms on this host. A message is stored (with the meeting's message count, in one
 * transaction) before anyone hears of it, and each meeting's messages are stored and announced in order,
 * so the order participants receive is the seq order of the table.
 *
 * Messages that arrive while a meeting's previous write is in flight wait and are then stored together, in
 * one transaction, and announced together: under a burst that is one database round trip per batch rather
 * than four per message, and the room's broadcasts of one batch leave in one write per socket (uWS corks a
 * socket's pending topic messages). Each sender's ack still follows its own message.
 */
export class ChatService {
  private readonly buckets = new WeakMap<Peer, { tokens: number; at: number }>();
  /** Per meeting: messages waiting for the write in flight; present while a write is in flight. */
  private readonly queues = new Map<string, Queued[]>();
  private readonly ratePerSec: number;
  private readonly burst: number;

  constructor(private readonly options: ChatOptions) {
    this.ratePerSec = options.ratePerSec ?? 2;
    this.burst = options.burst ?? 10;
  }

  async send(
    room: Room,
    peer: Peer,
    input: { text: string; reply_to?: string | undefined; to?: string | undefined },
  ): Promise<ChatMessageWire> {
    if (!room.meeting.settings.allow_chat)
      throw new AppError("forbidden", "chat is disabled in this meeting");
    let recipient: Peer | null = null;
    if (input.to !== undefined) {
      if (input.to === peer.id) throw new AppError("bad_request", "a direct message needs someone else");
      recipient = room.peers.get(input.to) ?? null;
      if (!recipient) throw new AppError("not_found", "no such participant in this meeting");
    }
    if (!this.take(peer)) throw new AppError("rate_limited", "too many chat messages, slow down");
    if (input.reply_to !== undefined) await this.assertReplyTarget(room, peer, input.reply_to);
    return new Promise<ChatMessageWire>((done, failed) => {
      const queued = {
        room,
        peer,
        text: input.text,
        replyTo: input.reply_to ?? null,
        recipient,
        done,
        failed,
      };
      const waiting = this.queues.get(room.id);
      if (waiting) {
        waiting.push(queued);
        return;
      }
      this.queues.set(room.id, []);
      void this.write(room.id, [queued]);
    });
  }

  /** Stores and announces `batch`, then whatever queued up meanwhile, until the meeting's queue is empty. */
  private async write(meetingId: string, first: Queued[]): Promise<void> {
    let batch = first;
    while (batch.length > 0) {
      try {
        await this.storeAndAnnounce(batch);
      } catch (error) {
        // Never leave the meeting's queue stuck behind a write that blew up (a settled promise ignores this).
        this.options.logger.error({ err: error }, "chat write failed");
        for (const queued of batch) queued.failed(new AppError("internal", "internal error"));
      }
      const waiting = this.queues.get(meetingId) ?? [];
      batch = waiting.splice(0, MAX_BATCH);
    }
    this.queues.delete(meetingId);
  }

  private async storeAndAnnounce(batch: Queued[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await this.store(batch);
    } catch (error) {
      // One message the database refuses must not sink the others stored with it.
      if (batch.length > 1) {
        for (const one of batch) await this.storeAndAnnounce([one]);
        return;
      }
      this.options.logger.error({ err: error }, "chat database call failed");
      batch[0]?.failed(new AppError("unavailable", "chat is unavailable right now, try again"));
      return;
    }
    const announced = batch.map((queued, i) => [queued, toWire(rows[i] as Row, queued.peer.role)] as const);
    announced.sort(([, a], [, b]) => a.seq - b.seq);
    // Every broadcast of the batch first, then the acks: each ack follows its own message.
    for (const [{ room, peer, recipient }, message] of announced) {
      if (recipient) {
        peer.notify("new-message", message);
        recipient.notify("new-message", message);
      } else {
        room.broadcast("new-message", message);
      }
    }
    for (const [queued, message] of announced) queued.done(message);
  }

  /** The newest `limit` messages before seq `before` this peer may see, oldest first. */
  async history(
    room: Room,
    peer: Peer,
    query: { before?: number | undefined; limit: number },
  ): Promise<{ messages: ChatMessageWire[]; has_more: boolean }> {
    const { db } = this.options;
    const { tenantId, id: meetingId } = room.meeting;
    // Direct messages belong to the people, not to one connection: a rejoin keeps its conversations.
    const mine = db
      .select({ id: participants.id })
      .from(participants)
      .where(
        and(
          eq(participants.tenantId, tenantId),
          eq(participants.meetingId, meetingId),
          eq(participants.userId, peer.userId),
        ),
      );
    const where: (SQL | undefined)[] = [
      eq(chatMessages.tenantId, tenantId),
      eq(chatMessages.meetingId, meetingId),
      or(
        isNull(chatMessages.recipientParticipantId),
        eq(chatMessages.senderUserId, peer.userId),
        eq(chatMessages.recipientParticipantId, peer.id),
        inArray(chatMessages.recipientParticipantId, mine),
      ),
    ];
    if (query.before !== undefined) where.push(lt(chatMessages.seq, query.before));
    const rows = await this.unavailableOnFailure(() =>
      db
        .select({ message: chatMessages, role: participants.role })
        .from(chatMessages)
        .leftJoin(
          participants,
          and(
            eq(participants.tenantId, chatMessages.tenantId),
            eq(participants.id, chatMessages.senderParticipantId),
          ),
        )
        .where(and(...where))
        .orderBy(desc(chatMessages.seq))
        .limit(query.limit + 1),
    );
    const page = rows.slice(0, query.limit).reverse();
    return { messages: page.map((r) => toWire(r.message, r.role)), has_more: rows.length > query.limit };
  }

  /** A reply names a message of this meeting its sender may see (not another pair's direct message). */
  private async assertReplyTarget(room: Room, peer: Peer, replyTo: string): Promise<void> {
    const { db } = this.options;
    const { tenantId, id: meetingId } = room.meeting;
    const [target] = await this.unavailableOnFailure(() =>
      db
        .select({ to: chatMessages.recipientParticipantId, from: chatMessages.senderUserId })
        .from(chatMessages)
        .where(
          and(
            eq(chatMessages.tenantId, tenantId),
            eq(chatMessages.meetingId, meetingId),
            eq(chatMessages.id, replyTo),
          ),
        )
        .limit(1),
    );
    const visible =
      target &&
      (target.to === null ||
        target.from === peer.userId ||
        target.to === peer.id ||
        room.peers.get(target.to)?.userId === peer.userId);
    if (!visible) throw new AppError("not_found", "no such message to reply to in this meeting");
  }

  /** One transaction: the messages (rows returned in the batch's order) and the meeting's count. */
  private async store(batch: Queued[]): Promise<Row[]> {
    const { db, now, randomId } = this.options;
    const head = batch[0];
    if (!head) return [];
    const { tenantId, id: meetingId } = head.room.meeting;
    // A sender who has just joined may still have their row in the recorder's queue.
    const { participantRow } = this.options;
    if (participantRow) await Promise.all([...new Set(batch.map((q) => q.peer.id))].map(participantRow));
    const at = now();
    const values = batch.map((q) => ({
      id: randomId(),
      tenantId,
      meetingId,
      senderParticipantId: q.peer.id,
      senderUserId: q.peer.userId,
      senderName: q.peer.displayName,
      recipientParticipantId: q.recipient?.id ?? null,
      replyTo: q.replyTo,
      content: q.text,
      createdAt: at,
    }));
    return db.transaction(async (tx) => {
      const inserted = await tx.insert(chatMessages).values(values).returning();
      await tx
        .insert(meetingStats)
        .values({ meetingId, tenantId, messagesCount: batch.length, updatedAt: at })
        .onConflictDoUpdate({
          target: meetingStats.meetingId,
          set: { messagesCount: sql`${meetingStats.messagesCount} + ${batch.length}`, updatedAt: at },
        });
      const byId = new Map(inserted.map((row) => [row.id, row]));
      const rows = values.map((v) => byId.get(v.id));
      if (rows.some((row) => !row)) throw new Error("insert returned fewer rows than it was given");
      return rows as Row[];
    });
  }

  /** A message that cannot be stored is not acknowledged: the sender learns, nobody else hears of it. */
  private async unavailableOnFailure<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.options.logger.error({ err: error }, "chat database call failed");
      throw new AppError("unavailable", "chat is unavailable right now, try again");
    }
  }

  private take(peer: Peer): boolean {
    const now = this.options.now().getTime();
    const bucket = this.buckets.get(peer) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSec);
    bucket.at = now;
    this.buckets.set(peer, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
