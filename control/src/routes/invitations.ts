import { meetingTombstones } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { uuidParam } from "../http.js";
import { type InvitationEvent, invitationIcs } from "../services/ics.js";

/** The web client opens a meeting at #/m/<id> (web/src/main.ts). */
const joinLink = (base: string, id: string) => `${base.replace(/\/+$/, "")}/#/m/${id}`;

export const invitationRoutes = () =>
  new Hono<AppEnv>().get("/:id/invite.ics", async (c) => {
    const { db, config, now } = c.get("deps");
    const user = c.get("user");
    const id = uuidParam(c);
    const base = config.invitations.publicUrl ?? new URL(c.req.url).origin;
    const organizer = { name: "NEXUS Meet", email: config.invitations.organizerEmail };
    const uid = `${id}@nexus-meet`;

    let event: InvitationEvent;
    const meeting = await c.get("queries").byId(user.tenant_id, id);
    if (meeting) {
      if (!meeting.scheduledStart)
        throw new AppError("invalid_state", "the meeting has no scheduled_start, so no calendar event");
      event = {
        uid,
        sequence: meeting.icsSequence,
        method: "REQUEST",
        start: meeting.scheduledStart,
        end: meeting.scheduledEnd,
        stamp: now(),
        created: meeting.createdAt,
        lastModified: meeting.updatedAt,
        summary: meeting.title,
        description: meeting.description,
        joinUrl: joinLink(base, id),
        organizer: { ...organizer, name: meeting.createdBy },
        attendees: meeting.invitees ?? [],
      };
    } else {
      const [gone] = await db
        .select()
        .from(meetingTombstones)
        .where(and(eq(meetingTombstones.tenantId, user.tenant_id), eq(meetingTombstones.id, id)))
        .limit(1);
      if (!gone?.scheduledStart) throw new AppError("not_found", "meeting not found");
      event = {
        uid,
        sequence: gone.icsSequence,
        method: "CANCEL",
        start: gone.scheduledStart,
        end: gone.scheduledEnd,
        stamp: now(),
        created: null,
        lastModified: gone.deletedAt,
        summary: gone.title,
        description: null,
        joinUrl: null,
        organizer: { ...organizer, name: gone.createdBy },
        attendees: gone.invitees,
      };
    }
    return c.body(invitationIcs(event), 200, {
      "Content-Type": `text/calendar; charset=utf-8; method=${event.method}`,
      "Content-Disposition": 'attachment; filename="invite.ics"',
      "Cache-Control": "no-store",
    });
  });
