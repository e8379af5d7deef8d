import { guestLinks } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { isUuid } from "@nexus/shared/ids";
import { CreateGuestLinkBodySchema } from "@nexus/shared/rest/guest-links";
import { and, desc, eq, isNull } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { uuidParam, valid } from "../http.js";
import { guestLinkView, guestUrl, hashGuestToken, newGuestToken } from "../services/guest-links.js";
import { assertCanManage, loadMeeting, type MeetingRow } from "../services/meetings.js";

/** Guest links are a host action: the meeting's creator or a tenant admin (as for any change to it). */
async function managedMeeting(c: Context<AppEnv>): Promise<MeetingRow> {
  const user = c.get("user");
  const meeting = await loadMeeting(c.get("queries"), user.tenant_id, uuidParam(c));
  assertCanManage(user, meeting);
  return meeting;
}

export const guestLinkRoutes = () =>
  new Hono<AppEnv>()
    .post("/:id/guest-links", valid("json", CreateGuestLinkBodySchema), async (c) => {
      const { db, now, randomId, config } = c.get("deps");
      const meeting = await managedMeeting(c);
      if (meeting.status === "ended") throw new AppError("invalid_state", "the meeting has ended");
      const body = c.req.valid("json");
      const at = now();
      const token = newGuestToken();
      const [row] = await db
        .insert(guestLinks)
        .values({
          id: randomId(),
          tenantId: meeting.tenantId,
          meetingId: meeting.id,
          tokenHash: hashGuestToken(token),
          label: body.label || null,
          expiresAt: new Date(at.getTime() + body.expires_in_seconds * 1000),
          maxUses: body.max_uses,
          lobby: body.lobby,
          createdBy: c.get("user").sub,
          createdAt: at,
        })
        .returning();
      const base = config.invitations.publicUrl ?? new URL(c.req.url).origin;
      c.get("log").info({ meeting_id: meeting.id, guest_link_id: row!.id }, "guest link created");
      return c.json({ ...guestLinkView(row!, at), token, url: guestUrl(base, token) }, 201);
    })
    .get("/:id/guest-links", async (c) => {
      const meeting = await managedMeeting(c);
      const rows = await c
        .get("deps")
        .db.select()
        .from(guestLinks)
        .where(and(eq(guestLinks.tenantId, meeting.tenantId), eq(guestLinks.meetingId, meeting.id)))
        .orderBy(desc(guestLinks.createdAt), desc(guestLinks.id));
      const at = c.get("deps").now();
      return c.json({ data: rows.map((r) => guestLinkView(r, at)) }, 200);
    })
    .delete("/:id/guest-links/:linkId", async (c) => {
      const { db, now } = c.get("deps");
      const meeting = await managedMeeting(c);
      const linkId = c.req.param("linkId");
      if (!isUuid(linkId)) throw new AppError("not_found", "guest link not found");
      const where = and(
        eq(guestLinks.tenantId, meeting.tenantId),
        eq(guestLinks.meetingId, meeting.id),
        eq(guestLinks.id, linkId.toLowerCase()),
      );
      // Revoked, not deleted: the list keeps saying who was let in through it.
      const [revoked] = await db
        .update(guestLinks)
        .set({ revokedAt: now() })
        .where(and(where, isNull(guestLinks.revokedAt)))
        .returning({ id: guestLinks.id });
      if (!revoked) {
        const [exists] = await db.select({ id: guestLinks.id }).from(guestLinks).where(where).limit(1);
        if (!exists) throw new AppError("not_found", "guest link not found");
      }
      c.get("log").info({ meeting_id: meeting.id, guest_link_id: linkId }, "guest link revoked");
      return c.body(null, 204);
    });
