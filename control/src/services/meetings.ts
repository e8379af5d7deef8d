import type { meetings } from "@nexus/drizzle";
import type { Bus, HostRegistry, Logger } from "@nexus/platform";
import { BUS_CHANNELS, type MeetingBusMessage } from "@nexus/shared/bus";
import { AppError } from "@nexus/shared/errors";
import type { UserClaims } from "@nexus/shared/tokens";
import type { MeetingQueries } from "./queries.js";

export type MeetingRow = typeof meetings.$inferSelect;

/** Every lookup carries the tenant: a meeting of another tenant is indistinguishable from no meeting. */
export async function loadMeeting(
  queries: MeetingQueries,
  tenantId: string,
  id: string,
): Promise<MeetingRow> {
  const row = await queries.byId(tenantId, id);
  if (!row) throw new AppError("not_found", "meeting not found");
  return row;
}

/**
 * Who may change a meeting: a tenant admin any meeting, a host only the meetings they created, a member
 * none. Members still read and join, so answering 403 (not 404) reveals nothing they could not GET.
 */
export function assertCanManage(user: UserClaims, meeting: MeetingRow): void {
  if (user.role === "admin") return;
  if (user.role === "host" && meeting.createdBy === user.sub) return;
  throw new AppError(
    "forbidden",
    user.role === "host" ? "only the meeting's creator or an admin" : "role not allowed",
  );
}

export function assertCanCreate(user: UserClaims): void {
  if (user.role !== "admin" && user.role !== "host") throw new AppError("forbidden", "role not allowed");
}

/** Inside a meeting: its creator and tenant admins are hosts, everyone else joins as a member. */
export const meetingRoleFor = (user: UserClaims, meeting: MeetingRow) =>
  user.role === "admin" || meeting.createdBy === user.sub ? ("host" as const) : ("member" as const);

/**
 * The database is the truth; the bus only tells live rooms sooner. A failed publish is logged, not
 * surfaced: the media host re-checks meeting status when it next touches the database.
 */
export async function publishMeetingEvent(bus: Bus, log: Logger, message: MeetingBusMessage): Promise<void> {
  try {
    await bus.publish(BUS_CHANNELS.meetings, message);
  } catch (err) {
    log.error({ err, bus_message: message.type, meeting_id: message.meeting_id }, "bus publish failed");
  }
}

export async function releasePlacement(
  registry: HostRegistry,
  log: Logger,
  meetingId: string,
): Promise<void> {
  try {
    const owner = await registry.meetingOwner(meetingId);
    if (owner) await registry.releaseMeeting(meetingId, owner);
  } catch (err) {
    log.error({ err, meeting_id: meetingId }, "placement release failed");
  }
}
