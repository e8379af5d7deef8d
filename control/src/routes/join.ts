import { meetings, participants } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { JoinBodySchema } from "@nexus/shared/rest/join";
import { and, count, eq, isNull } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv, ControlDeps } from "../deps.js";
import { uuidParam, valid } from "../http.js";
import { loadMeeting, meetingRoleFor } from "../services/meetings.js";
import { verifyPassword } from "../services/password.js";
import {
  clientAddress,
  passwordAccepted,
  ThrottledError,
  takePasswordAttempt,
} from "../services/password-throttle.js";
import { placeMeeting } from "../services/placement.js";
import { iceServersFor } from "../services/turn.js";

async function wasRemoved(db: ControlDeps["db"], tenantId: string, meetingId: string, userId: string) {
  const [row] = await db
    .select({ id: participants.id })
    .from(participants)
    .where(
      and(
        eq(participants.tenantId, tenantId),
        eq(participants.meetingId, meetingId),
        eq(participants.userId, userId),
        eq(participants.status, "removed"),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/**
 * Control cannot hold sockets, so joining is two steps: here we check everything that needs the database
 * and place the meeting on a media host; the client then opens the WebSocket with a short token bound
 * to that host, and the host creates the participant row under the id we hand out.
 */
export const joinRoutes = () =>
  new Hono<AppEnv>().post("/:id/join", valid("json", JoinBodySchema), async (c) => {
    const { db, registry, config, now, randomId, joinSigner } = c.get("deps");
    const user = c.get("user");
    const id = uuidParam(c);
    const body = c.req.valid("json");
    const meeting = await loadMeeting(c.get("queries"), user.tenant_id, id);
    const role = meetingRoleFor(user, meeting);

    if (meeting.status === "ended") throw new AppError("invalid_state", "the meeting has ended");
    // A participant a host removed stays out of this meeting: a fresh token must not undo the removal.
    if (role !== "host" && (await wasRemoved(db, user.tenant_id, id, user.sub)))
      throw new AppError("forbidden", "a host removed you from this meeting");
    // The meeting's own hosts are let through a lock and a password: they are the ones who set them.
    if (role !== "host") {
      if (meeting.locked) throw new AppError("meeting_locked", "the meeting is locked");
      if (meeting.passwordHash) {
        if (body.password === undefined)
          throw new AppError("wrong_password", "this meeting needs a password");
        const key = { tenantId: user.tenant_id, meetingId: id, userId: user.sub, address: clientAddress(c) };
        try {
          // Counted before it is checked, atomically: parallel guesses cannot slip past the allowance.
          await takePasswordAttempt(db, key, now());
        } catch (error) {
          if (error instanceof ThrottledError) c.header("Retry-After", String(error.retryAfterSeconds));
          throw error;
        }
        if (!(await verifyPassword(body.password, meeting.passwordHash))) {
          throw new AppError("wrong_password", "wrong meeting password");
        }
        await passwordAccepted(db, key);
      }
    }
    const [present] = await db
      .select({ n: count() })
      .from(participants)
      .where(
        and(
          eq(participants.tenantId, user.tenant_id),
          eq(participants.meetingId, id),
          eq(participants.status, "joined"),
          isNull(participants.leftAt),
        ),
      );
    // A host is let through: the media host keeps them a seat (members cannot fill the last one).
    if (role !== "host" && (present?.n ?? 0) >= meeting.maxParticipants)
      throw new AppError("meeting_full", "the meeting is full");

    const at = now();
    const host = await placeMeeting(registry, id, {
      now: at.getTime(),
      maxAgeMs: config.hostMaxAgeMs,
      claimTtlMs: config.meetingClaimTtlMs,
    });
    if (meeting.mediaHostId !== host.id) {
      await db
        .update(meetings)
        .set({ mediaHostId: host.id })
        .where(and(eq(meetings.tenantId, user.tenant_id), eq(meetings.id, id)));
    }

    const participantId = randomId();
    const { token, expiresAt } = await joinSigner.sign(
      {
        jti: randomId(),
        meeting_id: id,
        participant_id: participantId,
        tenant_id: user.tenant_id,
        user_id: user.sub,
        name: body.display_name ?? user.name ?? user.sub,
        role,
        host_id: host.id,
      },
      at,
    );
    c.get("log").info({ meeting_id: id, participant_id: participantId, host_id: host.id }, "join placed");
    return c.json(
      {
        ws_url: host.ws_url,
        join_token: token,
        participant_id: participantId,
        meeting_id: id,
        host_id: host.id,
        role,
        expires_at: expiresAt.toISOString(),
        ...(config.turn ? { ice_servers: iceServersFor(config.turn, participantId, at) } : {}),
      },
      200,
    );
  });
