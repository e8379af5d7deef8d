import type { HostRegistry } from "@nexus/platform";
import { AppError } from "@nexus/shared/errors";

/**
 * A host serves a meeting only if the registry says it owns it (claiming it when nobody does), so two hosts
 * never each run half of one meeting even if a stale token points at the wrong one.
 */
export async function ensureOwnership(
  registry: HostRegistry,
  meetingId: string,
  hostId: string,
  ttlMs: number,
): Promise<void> {
  const owner =
    (await registry.meetingOwner(meetingId)) ?? (await registry.claimMeeting(meetingId, hostId, ttlMs));
  if (owner !== hostId) throw new AppError("forbidden", "this meeting is hosted elsewhere");
}
