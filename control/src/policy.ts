import { participants } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import type { UserClaims } from "@nexus/shared/tokens";
import { and, eq, inArray } from "drizzle-orm";
import type { ControlDeps } from "./deps.js";
import type { MeetingRow } from "./services/meetings.js";

/**
 * Who may do what over REST, one table for every route (tenant isolation comes first and is not here: a
 * meeting of another tenant is not found, whatever the rule).
 *
 * - `tenant`: any signed-in user of the meeting's tenant (list, read a meeting's card, ask to join: the join
 *   route then applies the meeting's own rules: removal, lock, password, capacity, and the lobby on the host).
 * - `create`: tenant admins and users whose role is host.
 * - `manage`: a tenant admin, or the host who created the meeting.
 * - `attendee`: what the meeting left behind (who came, what was said, how it went, what was recorded) is
 *   for its hosts (admins and the creator) and for the users it admitted: a participants row that reached
 *   the room (`joined` or `left`). Waiting in the lobby is not admission; a user a host denied or removed
 *   reads nothing, whatever other rows they have.
 */
export type Rule = "tenant" | "create" | "manage" | "attendee" | "admin";

export const ROUTE_POLICY = {
  "GET /api/meetings": "tenant",
  "POST /api/meetings": "create",
  "GET /api/meetings/:id": "tenant",
  "PUT /api/meetings/:id": "manage",
  "DELETE /api/meetings/:id": "manage",
  "POST /api/meetings/:id/start": "manage",
  "POST /api/meetings/:id/end": "manage",
  "POST /api/meetings/:id/join": "tenant",
  "GET /api/meetings/:id/participants": "attendee",
  "GET /api/meetings/:id/stats": "attendee",
  "GET /api/meetings/:id/messages": "attendee",
  "GET /api/meetings/:id/recordings": "attendee",
} as const satisfies Record<string, Rule>;

export type PolicyRoute = keyof typeof ROUTE_POLICY;

/**
 * The rest of the API under /api, with the same rules. The matrix and fuzz suites walk ROUTE_POLICY (the
 * meeting routes); these have ids of their own (links, recordings, endpoints) and their rules are exercised by
 * their own suites (guest-links, recordings, webhooks, invitations tests). `admin`: tenant admins only.
 */
export const MORE_ROUTE_POLICY = {
  "GET /api/meetings/:id/invite.ics": "tenant",
  "GET /api/meetings/:id/guest-links": "manage",
  "POST /api/meetings/:id/guest-links": "manage",
  "DELETE /api/meetings/:id/guest-links/:linkId": "manage",
  "POST /api/meetings/:id/recordings": "manage",
  "POST /api/meetings/:id/recordings/:recordingId/stop": "manage",
  "GET /api/recordings/:recordingId": "attendee",
  "GET /api/recordings/:recordingId/file": "attendee",
  "DELETE /api/recordings/:recordingId": "manage",
  "GET /api/webhooks": "admin",
  "POST /api/webhooks": "admin",
  "GET /api/webhooks/:id": "admin",
  "PUT /api/webhooks/:id": "admin",
  "DELETE /api/webhooks/:id": "admin",
  "GET /api/webhooks/:id/deliveries": "admin",
  "POST /api/webhooks/:id/deliveries/:deliveryId/redeliver": "admin",
} as const satisfies Record<string, Rule>;

/** A caller of the meeting's own tenant, as the rules see them. */
export interface Caller {
  role: UserClaims["role"];
  /** Created the meeting (a creator keeps being its host in the meeting even if their role changed). */
  creator: boolean;
  /** Has a participants row that reached the room and none denied or removed. */
  admitted: boolean;
}

/** The rules of the table in one function: what the routes' asserts enforce, and what the matrix test expects. */
export function allows(rule: Rule, c: Caller): boolean {
  switch (rule) {
    case "tenant":
      return true;
    case "create":
      return c.role === "admin" || c.role === "host";
    case "manage":
      return c.role === "admin" || (c.role === "host" && c.creator);
    case "attendee":
      return c.role === "admin" || c.creator || c.admitted;
    case "admin":
      return c.role === "admin";
  }
}

/** Participant statuses that mean the room let this user in. */
const ADMITTED = ["joined", "left"] as const;
/** Statuses that take the meeting's history away from a user, whatever else they have. */
const EXCLUDED = ["removed", "denied"] as const;

/** Hosts of a meeting in the REST sense: tenant admins and its creator. */
export const isMeetingHost = (user: UserClaims, meeting: MeetingRow) =>
  user.role === "admin" || meeting.createdBy === user.sub;

/** Whether the user was admitted to the meeting and never denied or removed (one query). */
export async function wasAdmitted(
  db: ControlDeps["db"],
  user: UserClaims,
  meeting: MeetingRow,
): Promise<boolean> {
  const rows = await db
    .select({ status: participants.status })
    .from(participants)
    .where(
      and(
        eq(participants.tenantId, user.tenant_id),
        eq(participants.meetingId, meeting.id),
        eq(participants.userId, user.sub),
        inArray(participants.status, [...ADMITTED, ...EXCLUDED]),
      ),
    );
  const statuses = new Set(rows.map((r) => r.status));
  if (EXCLUDED.some((s) => statuses.has(s))) return false;
  return ADMITTED.some((s) => statuses.has(s));
}

/** Applies an `attendee` rule; `forbidden` otherwise (the meeting itself is visible to the tenant). */
export async function assertAttendee(
  db: ControlDeps["db"],
  user: UserClaims,
  meeting: MeetingRow,
): Promise<void> {
  if (isMeetingHost(user, meeting)) return;
  if (await wasAdmitted(db, user, meeting)) return;
  throw new AppError(
    "forbidden",
    "only the meeting's hosts and participants it admitted can read its history",
  );
}
