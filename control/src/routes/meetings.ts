import { meetings } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import {
  CreateMeetingBodySchema,
  DEFAULT_MEETING_SETTINGS,
  ListMeetingsQuerySchema,
  UpdateMeetingBodySchema,
} from "@nexus/shared/rest/meetings";
import { and, count, eq, ne } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { uuidParam, valid } from "../http.js";
import { DEFAULT_PAGE_SIZE, decodeCursor, pageOf } from "../services/cursor.js";
import {
  assertCanCreate,
  assertCanManage,
  loadMeeting,
  type MeetingRow,
  publishMeetingEvent,
  releasePlacement,
} from "../services/meetings.js";
import { hashPassword } from "../services/password.js";
import type { MeetingQueries } from "../services/queries.js";
import { meetingView } from "../services/views.js";

const toDate = (s: string | null | undefined): Date | null | undefined =>
  s === undefined ? undefined : s === null ? null : new Date(s);

function assertScheduleOrder(start: Date | null | undefined, end: Date | null | undefined): void {
  if (start && end && end.getTime() <= start.getTime()) {
    throw new AppError("validation_failed", "invalid request json", [
      { path: "scheduled_end", message: "must be after scheduled_start" },
    ]);
  }
}

/** Why a conditional state change matched nothing: gone, or in the wrong state. */
async function transitionFailure(
  queries: MeetingQueries,
  tenantId: string,
  id: string,
  wanted: string,
): Promise<never> {
  const current = await loadMeeting(queries, tenantId, id);
  throw new AppError("invalid_state", `cannot ${wanted} a meeting that is ${current.status}`);
}

/**
 * Start or end: a caller who may manage the meeting moves it out of `from` in one conditional update
 * (a concurrent call that got there first leaves nothing to match), or learns why it could not.
 */
async function transition(
  c: Context<AppEnv>,
  wanted: "start" | "end",
  from: MeetingRow["status"],
  set: (at: Date) => Partial<typeof meetings.$inferInsert>,
): Promise<MeetingRow> {
  const { db, now } = c.get("deps");
  const user = c.get("user");
  const id = uuidParam(c);
  assertCanManage(user, await loadMeeting(c.get("queries"), user.tenant_id, id));
  const [row] = await db
    .update(meetings)
    .set(set(now()))
    .where(and(eq(meetings.tenantId, user.tenant_id), eq(meetings.id, id), eq(meetings.status, from)))
    .returning();
  return row ?? transitionFailure(c.get("queries"), user.tenant_id, id, wanted);
}

export const meetingRoutes = () =>
  new Hono<AppEnv>()
    .get("/", valid("query", ListMeetingsQuerySchema), async (c) => {
      const q = c.req.valid("query");
      const limit = q.limit ?? DEFAULT_PAGE_SIZE;
      const rows = await c.get("queries").list({
        tenantId: c.get("user").tenant_id,
        limit: limit + 1,
        status: q.status,
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        cursor: q.cursor ? decodeCursor(q.cursor) : undefined,
      });
      const { page, next_cursor } = pageOf(rows, limit, (r) => r.createdAt);
      return c.json({ data: page.map(meetingView), next_cursor }, 200);
    })
    .get("/:id", async (c) => {
      const meeting = await loadMeeting(c.get("queries"), c.get("user").tenant_id, uuidParam(c));
      return c.json(meetingView(meeting), 200);
    })
    .post("/", valid("json", CreateMeetingBodySchema), async (c) => {
      const { now, randomId, db, config } = c.get("deps");
      const user = c.get("user");
      assertCanCreate(user);
      const body = c.req.valid("json");
      // A soft cap (checked, then inserted): nobody fills a tenant with meetings.
      const [open] = await db
        .select({ n: count() })
        .from(meetings)
        .where(
          and(
            eq(meetings.tenantId, user.tenant_id),
            eq(meetings.createdBy, user.sub),
            ne(meetings.status, "ended"),
          ),
        );
      if ((open?.n ?? 0) >= config.maxOpenMeetingsPerUser) {
        throw new AppError(
          "rate_limited",
          `at most ${config.maxOpenMeetingsPerUser} meetings not yet ended per user; end or delete some`,
        );
      }
      const scheduledStart = toDate(body.scheduled_start) ?? null;
      const scheduledEnd = toDate(body.scheduled_end) ?? null;
      assertScheduleOrder(scheduledStart, scheduledEnd);
      const at = now();
      const row = await c.get("queries").insert({
        id: randomId(),
        tenantId: user.tenant_id,
        title: body.title,
        description: body.description ?? null,
        scheduledStart,
        scheduledEnd,
        maxParticipants: body.max_participants,
        isPublic: body.is_public,
        lobbyEnabled: body.lobby_enabled,
        passwordHash: body.password ? await hashPassword(body.password) : null,
        settings: { ...DEFAULT_MEETING_SETTINGS, ...body.settings },
        invitees: body.invitees,
        createdBy: user.sub,
        at,
      });
      c.get("log").info({ meeting_id: row.id }, "meeting created");
      return c.json(meetingView(row), 201);
    })
    .put("/:id", valid("json", UpdateMeetingBodySchema), async (c) => {
      const { db, bus, now } = c.get("deps");
      const user = c.get("user");
      const id = uuidParam(c);
      const body = c.req.valid("json");
      const current = await loadMeeting(c.get("queries"), user.tenant_id, id);
      assertCanManage(user, current);
      if (current.status === "ended")
        throw new AppError("invalid_state", "an ended meeting cannot be updated");

      const set: Partial<MeetingRow> = { updatedAt: now() };
      if (body.title !== undefined) set.title = body.title;
      if (body.description !== undefined) set.description = body.description;
      if (body.scheduled_start !== undefined) set.scheduledStart = toDate(body.scheduled_start);
      if (body.scheduled_end !== undefined) set.scheduledEnd = toDate(body.scheduled_end);
      if (body.max_participants !== undefined) set.maxParticipants = body.max_participants;
      if (body.is_public !== undefined) set.isPublic = body.is_public;
      if (body.lobby_enabled !== undefined) set.lobbyEnabled = body.lobby_enabled;
      if (body.locked !== undefined) set.locked = body.locked;
      if (body.password !== undefined)
        set.passwordHash = body.password ? await hashPassword(body.password) : null;
      if (body.invitees !== undefined) set.invitees = body.invitees;
      if (body.settings)
        set.settings = { ...DEFAULT_MEETING_SETTINGS, ...current.settings, ...body.settings };
      assertScheduleOrder(
        set.scheduledStart === undefined ? current.scheduledStart : set.scheduledStart,
        set.scheduledEnd === undefined ? current.scheduledEnd : set.scheduledEnd,
      );

      // Conditional on "not ended" so an update racing an end cannot resurrect settings of a dead meeting.
      const [row] = await db
        .update(meetings)
        .set(set)
        .where(and(eq(meetings.tenantId, user.tenant_id), eq(meetings.id, id), ne(meetings.status, "ended")))
        .returning();
      if (!row) return transitionFailure(c.get("queries"), user.tenant_id, id, "update");

      const changes: Record<string, unknown> = {};
      if (body.title !== undefined) changes.title = row.title;
      if (body.max_participants !== undefined) changes.max_participants = row.maxParticipants;
      if (body.lobby_enabled !== undefined) changes.lobby_enabled = row.lobbyEnabled;
      if (body.locked !== undefined) changes.locked = row.locked;
      await publishMeetingEvent(bus, c.get("log"), {
        type: "meeting-updated",
        tenant_id: row.tenantId,
        meeting_id: row.id,
        changes,
      });
      return c.json(meetingView(row), 200);
    })
    .delete("/:id", async (c) => {
      const { db, bus, registry, now } = c.get("deps");
      const user = c.get("user");
      const id = uuidParam(c);
      const current = await loadMeeting(c.get("queries"), user.tenant_id, id);
      assertCanManage(user, current);
      if (current.status === "active") {
        const [ended] = await db
          .update(meetings)
          .set({ status: "ended", endedAt: now(), updatedAt: now() })
          .where(
            and(eq(meetings.tenantId, user.tenant_id), eq(meetings.id, id), eq(meetings.status, "active")),
          )
          .returning({ id: meetings.id });
        // Only the call that actually ended it tells the rooms; a concurrent /end already did.
        if (ended) {
          await publishMeetingEvent(bus, c.get("log"), {
            type: "meeting-ended",
            tenant_id: user.tenant_id,
            meeting_id: id,
            reason: "deleted",
          });
        }
        await releasePlacement(registry, c.get("log"), id);
      }
      await db.delete(meetings).where(and(eq(meetings.tenantId, user.tenant_id), eq(meetings.id, id)));
      c.get("log").info({ meeting_id: id }, "meeting deleted");
      return c.body(null, 204);
    })
    .post("/:id/start", async (c) => {
      const row = await transition(c, "start", "scheduled", (at) => ({
        status: "active",
        startedAt: at,
        updatedAt: at,
      }));
      c.get("log").info({ meeting_id: row.id }, "meeting started");
      return c.json(meetingView(row), 200);
    })
    .post("/:id/end", async (c) => {
      const { bus, registry } = c.get("deps");
      const row = await transition(c, "end", "active", (at) => ({
        status: "ended",
        endedAt: at,
        updatedAt: at,
      }));
      await publishMeetingEvent(bus, c.get("log"), {
        type: "meeting-ended",
        tenant_id: row.tenantId,
        meeting_id: row.id,
        reason: "ended_by_host",
      });
      await releasePlacement(registry, c.get("log"), row.id);
      c.get("log").info({ meeting_id: row.id }, "meeting ended");
      return c.json(meetingView(row), 200);
    });
