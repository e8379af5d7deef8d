import { guestLinks, meetings, participants } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { GuestJoinBodySchema, GuestLinkInfoBodySchema } from "@nexus/shared/rest/guest-links";
import { and, count, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { valid } from "../http.js";
import { type GuestLinkRow, hashGuestToken, refusal } from "../services/guest-links.js";
import { loadMeeting } from "../services/meetings.js";
import { placeMeeting } from "../services/placement.js";
import { iceServersFor } from "../services/turn.js";

async function linkOf(c: Context<AppEnv>, token: string): Promise<GuestLinkRow> {
  const [link] = await c
    .get("deps")
    .db.select()
    .from(guestLinks)
    .where(eq(guestLinks.tokenHash, hashGuestToken(token)))
    .limit(1);
  if (!link) throw new AppError("not_found", "guest link not found");
  return link;
}

/**
 * The guest's side, without an account: the link's token is the only credential, and it reaches exactly
 * one meeting of one tenant. The join token it buys says role `guest`, which the media host never lets
 * moderate nor promote, and asks for the lobby unless the host turned that off on the link.
 */
export const guestRoutes = () =>
  new Hono<AppEnv>()
    .post("/link", valid("json", GuestLinkInfoBodySchema), async (c) => {
      const link = await linkOf(c, c.req.valid("json").token);
      const why = refusal(link, c.get("deps").now());
      if (why) throw why;
      const meeting = await loadMeeting(c.get("queries"), link.tenantId, link.meetingId);
      return c.json(
        {
          meeting_id: meeting.id,
          title: meeting.title,
          scheduled_start: meeting.scheduledStart?.toISOString() ?? null,
          status: meeting.status,
          lobby: link.lobby,
          expires_at: link.expiresAt.toISOString(),
        },
        200,
      );
    })
    .post("/join", valid("json", GuestJoinBodySchema), async (c) => {
      const { db, registry, config, now, randomId, joinSigner } = c.get("deps");
      const body = c.req.valid("json");
      const link = await linkOf(c, body.token);
      const at = now();
      const why = refusal(link, at);
      if (why) throw why;
      const meeting = await loadMeeting(c.get("queries"), link.tenantId, link.meetingId);
      if (meeting.status === "ended") throw new AppError("invalid_state", "the meeting has ended");
      if (meeting.locked) throw new AppError("meeting_locked", "the meeting is locked");
      const [present] = await db
        .select({ n: count() })
        .from(participants)
        .where(
          and(
            eq(participants.tenantId, link.tenantId),
            eq(participants.meetingId, meeting.id),
            eq(participants.status, "joined"),
            isNull(participants.leftAt),
          ),
        );
      if ((present?.n ?? 0) >= meeting.maxParticipants)
        throw new AppError("meeting_full", "the meeting is full");

      // One use, taken in one conditional update: two guests racing for the last use cannot both get it.
      const [taken] = await db
        .update(guestLinks)
        .set({ uses: sql`${guestLinks.uses} + 1` })
        .where(
          and(
            eq(guestLinks.id, link.id),
            isNull(guestLinks.revokedAt),
            gt(guestLinks.expiresAt, at),
            or(isNull(guestLinks.maxUses), lt(guestLinks.uses, guestLinks.maxUses)),
          ),
        )
        .returning({ id: guestLinks.id });
      if (!taken) throw refusal(await linkOf(c, body.token), at) ?? new AppError("conflict", "try again");

      let host: Awaited<ReturnType<typeof placeMeeting>>;
      try {
        host = await placeMeeting(registry, meeting.id, {
          now: at.getTime(),
          maxAgeMs: config.hostMaxAgeMs,
          claimTtlMs: config.meetingClaimTtlMs,
        });
      } catch (error) {
        // Nobody got in: the use goes back.
        await db
          .update(guestLinks)
          .set({ uses: sql`greatest(${guestLinks.uses} - 1, 0)` })
          .where(eq(guestLinks.id, link.id));
        throw error;
      }
      if (meeting.mediaHostId !== host.id) {
        await db
          .update(meetings)
          .set({ mediaHostId: host.id })
          .where(and(eq(meetings.tenantId, link.tenantId), eq(meetings.id, meeting.id)));
      }

      const participantId = randomId();
      const { token, expiresAt } = await joinSigner.sign(
        {
          jti: randomId(),
          meeting_id: meeting.id,
          participant_id: participantId,
          tenant_id: link.tenantId,
          // Not an account of the tenant: an id of its own, so no member's history or removal applies.
          user_id: `guest:${randomId()}`,
          name: body.display_name,
          role: "guest",
          host_id: host.id,
          ...(link.lobby ? { lobby: true } : {}),
        },
        at,
      );
      c.get("log").info(
        { meeting_id: meeting.id, participant_id: participantId, guest_link_id: link.id, host_id: host.id },
        "guest join placed",
      );
      return c.json(
        {
          ws_url: host.ws_url,
          join_token: token,
          participant_id: participantId,
          meeting_id: meeting.id,
          host_id: host.id,
          role: "guest" as const,
          expires_at: expiresAt.toISOString(),
          ...(config.turn ? { ice_servers: iceServersFor(config.turn, participantId, at) } : {}),
        },
        200,
      );
    });
