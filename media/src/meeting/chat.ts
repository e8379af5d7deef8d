import { chatMessages, type Db, meetingStats, participants } from "@nexus/drizzle";
import type { Logger } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";
import type { ChatMessageWire } from "@nexus/shared/signaling/meeting";
import { and, desc, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Peer } from "../peer.js";
import type { Room } from "../room.js";

export interface ChatOptions {
  db: Db;
  logger: Logger;
  now: () => Date;
  randomId: () => string;
  /** Token bucket per participant: sustained messages per second and burst. */
  ratePerSec?: number;
  burst?: number;
}

type Row = typeof chatMessages.$inferSelect;

const toWire = (row: Row): ChatMessageWire => ({
  id: row.id,
  seq: row.seq,
  sender: { participant_id: row.senderParticipantId, user_id: row.senderUserId, name: row.senderName },
  text: row.content,
  reply_to: row.replyTo,
  to: row.recipientParticipantId,
  created_at: row.createdAt.toISOString(),
});

/**
 * Chat of the rooms on this host. A message is stored (with the meeting's message count, in one
 * transaction) before anyone hears of it, and each meeting's messages are stored and announced one at a
 * time, so the order participants receive is the seq order of the table.
 */
export class ChatService {
  private readonly buckets = new WeakMap<Peer, { tokens: number; at: number }>();
  private readonly queues = new Map<string, Promise<unknown>>();
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
    return this.inOrder(room.id, async () => {
      const message = toWire(await this.store(room, peer, input.text, input.reply_to ?? null, recipient));
      if (recipient) {
        peer.notify("new-message", message);
        recipient.notify("new-message", message);
      } else {
        room.broadcast("new-message", message);
      }
      return message;
    });
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
        .select()
        .from(chatMessages)
        .where(and(...where))
        .orderBy(desc(chatMessages.seq))
        .limit(query.limit + 1),
    );
    const page = rows.slice(0, query.limit).reverse();
    return { messages: page.map(toWire), has_more: rows.length > query.limit };
  }

  private async store(
    room: Room,
    peer: Peer,
    text: string,
    replyTo: string | null,
    recipient: Peer | null,
  ): Promise<Row> {
    const { db, now, randomId } = this.options;
    const { tenantId, id: meetingId } = room.meeting;
    const at = now();
    return this.unavailableOnFailure(() =>
      db.transaction(async (tx) => {
        const [row] = await tx
          .insert(chatMessages)
          .values({
            id: randomId(),
            tenantId,
            meetingId,
            senderParticipantId: peer.id,
            senderUserId: peer.userId,
            senderName: peer.displayName,
            recipientParticipantId: recipient?.id ?? null,
            replyTo,
            content: text,
            createdAt: at,
          })
          .returning();
        await tx
          .insert(meetingStats)
          .values({ meetingId, tenantId, messagesCount: 1, updatedAt: at })
          .onConflictDoUpdate({
            target: meetingStats.meetingId,
            set: { messagesCount: sql`${meetingStats.messagesCount} + 1`, updatedAt: at },
          });
        if (!row) throw new Error("insert returned no row");
        return row;
      }),
    );
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

  private inOrder<T>(meetingId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(meetingId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => {});
    this.queues.set(meetingId, settled);
    void settled.then(() => {
      if (this.queues.get(meetingId) === settled) this.queues.delete(meetingId);
    });
    return next;
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
