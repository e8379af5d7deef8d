import { chatMessages, meetingStats, participants, recordings } from "@nexus/drizzle";
import { PageQuerySchema } from "@nexus/shared/rest/common";
import { ListMessagesQuerySchema } from "@nexus/shared/rest/messages";
import { ListParticipantsQuerySchema } from "@nexus/shared/rest/participants";
import {
  type AnyColumn,
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  inArray,
  isNull,
  lt,
  or,
  type SQL,
} from "drizzle-orm";
import type { PgSelect } from "drizzle-orm/pg-core";
import { Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { uuidParam, valid } from "../http.js";
import { assertAttendee } from "../policy.js";
import { DEFAULT_PAGE_SIZE, decodeCursor, keysetOrder, pageOf, pastCursor } from "../services/cursor.js";
import { loadMeeting } from "../services/meetings.js";
import { messageView, participantView, recordingView } from "../services/views.js";

/**
 * One page of `query` (a dynamic select of one table) in (timestamp, id) keyset order: `where` plus
 * "past the cursor" when one is given, limit + 1 rows so pageOf can tell whether another page exists.
 */
async function keysetPage<Row extends { id: string }>(
  query: PgSelect & PromiseLike<Row[]>,
  q: { cursor?: string; limit?: number },
  where: (SQL | undefined)[],
  key: { at: AnyColumn; id: AnyColumn; direction: "asc" | "desc"; atOf: (row: Row) => Date },
): Promise<{ page: Row[]; next_cursor: string | null }> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  const past = q.cursor ? pastCursor(key.at, key.id, decodeCursor(q.cursor), key.direction) : undefined;
  // where, order and limit leave the selection, and so the row type, as it was.
  const rows = (await query
    .where(and(...where, past))
    .orderBy(...keysetOrder(key.at, key.id, key.direction))
    .limit(limit + 1)) as Row[];
  return pageOf(rows, limit, key.atOf);
}

/**
 * What a meeting left behind: who came, what was said, how it went, what was recorded. Read-only, and every
 * route here is `attendee` in ROUTE_POLICY (policy.ts): hosts, and the users the meeting admitted.
 */
export const historyRoutes = () =>
  new Hono<AppEnv>()
    .get("/:id/participants", valid("query", ListParticipantsQuerySchema), async (c) => {
      const { db } = c.get("deps");
      const tenant = c.get("user").tenant_id;
      const id = uuidParam(c);
      await assertAttendee(db, c.get("user"), await loadMeeting(c.get("queries"), tenant, id));
      const q = c.req.valid("query");
      const where: (SQL | undefined)[] = [eq(participants.tenantId, tenant), eq(participants.meetingId, id)];
      if (q.status) where.push(eq(participants.status, q.status));
      const { page, next_cursor } = await keysetPage(db.select().from(participants).$dynamic(), q, where, {
        at: participants.joinedAt,
        id: participants.id,
        direction: "asc",
        atOf: (r) => r.joinedAt,
      });
      return c.json({ data: page.map(participantView), next_cursor }, 200);
    })
    .get("/:id/stats", async (c) => {
      const { db, now } = c.get("deps");
      const tenant = c.get("user").tenant_id;
      const id = uuidParam(c);
      const meeting = await loadMeeting(c.get("queries"), tenant, id);
      await assertAttendee(db, c.get("user"), meeting);
      const [row] = await db
        .select()
        .from(meetingStats)
        .where(and(eq(meetingStats.tenantId, tenant), eq(meetingStats.meetingId, id)))
        .limit(1);
      const [present] = await db
        .select({ n: count() })
        .from(participants)
        .where(
          and(
            eq(participants.tenantId, tenant),
            eq(participants.meetingId, id),
            eq(participants.status, "joined"),
            isNull(participants.leftAt),
          ),
        );
      const duration = meeting.startedAt
        ? Math.max(0, Math.floor(((meeting.endedAt ?? now()).getTime() - meeting.startedAt.getTime()) / 1000))
        : (row?.durationSeconds ?? 0);
      return c.json(
        {
          meeting_id: id,
          peak_participants: row?.peakParticipants ?? 0,
          total_joins: row?.totalJoins ?? 0,
          joins_refused: row?.joinsRefused ?? 0,
          participant_seconds: row?.participantSeconds ?? 0,
          messages_count: row?.messagesCount ?? 0,
          screen_share_seconds: row?.screenShareSeconds ?? 0,
          duration_seconds: duration,
          current_participants: present?.n ?? 0,
          updated_at: row ? row.updatedAt.toISOString() : null,
        },
        200,
      );
    })
    .get("/:id/messages", valid("query", ListMessagesQuerySchema), async (c) => {
      const { db } = c.get("deps");
      const user = c.get("user");
      const id = uuidParam(c);
      await assertAttendee(db, user, await loadMeeting(c.get("queries"), user.tenant_id, id));
      const q = c.req.valid("query");
      const limit = q.limit ?? 50;
      // A direct message is visible to its sender and to the user behind its recipient participant.
      const mine = db
        .select({ id: participants.id })
        .from(participants)
        .where(
          and(
            eq(participants.tenantId, user.tenant_id),
            eq(participants.meetingId, id),
            eq(participants.userId, user.sub),
          ),
        );
      const where: (SQL | undefined)[] = [
        eq(chatMessages.tenantId, user.tenant_id),
        eq(chatMessages.meetingId, id),
        or(
          isNull(chatMessages.recipientParticipantId),
          eq(chatMessages.senderUserId, user.sub),
          inArray(chatMessages.recipientParticipantId, mine),
        ),
      ];
      if (q.after !== undefined) where.push(gt(chatMessages.seq, q.after));
      if (q.before !== undefined) where.push(lt(chatMessages.seq, q.before));
      // Forward from `after`; otherwise the newest window (before `before` when given), shown oldest first.
      const forward = q.after !== undefined;
      const rows = await db
        .select()
        .from(chatMessages)
        .where(and(...where))
        .orderBy(forward ? asc(chatMessages.seq) : desc(chatMessages.seq))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      if (!forward) page.reverse();
      return c.json({ data: page.map(messageView), has_more: rows.length > limit }, 200);
    })
    .get("/:id/recordings", valid("query", PageQuerySchema), async (c) => {
      const { db } = c.get("deps");
      const tenant = c.get("user").tenant_id;
      const id = uuidParam(c);
      await assertAttendee(db, c.get("user"), await loadMeeting(c.get("queries"), tenant, id));
      const { page, next_cursor } = await keysetPage(
        db.select().from(recordings).$dynamic(),
        c.req.valid("query"),
        [eq(recordings.tenantId, tenant), eq(recordings.meetingId, id)],
        { at: recordings.startedAt, id: recordings.id, direction: "desc", atOf: (r) => r.startedAt },
      );
      return c.json({ data: page.map(recordingView), next_cursor }, 200);
    });
