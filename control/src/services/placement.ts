import type { HostRegistry } from "@nexus/platform";
import type { HostInfo } from "@nexus/shared/bus";
import { AppError } from "@nexus/shared/errors";

export interface PlacementOptions {
  now: number;
  maxAgeMs: number;
  claimTtlMs: number;
}

const loadRatio = (h: HostInfo) => h.load / Math.max(h.capacity, 1);

/** Least loaded first; ties go to fewer rooms, then the id, so the choice is deterministic. */
export function leastLoaded(hosts: HostInfo[]): HostInfo | undefined {
  return hosts
    .filter((h) => h.load < h.capacity)
    .sort((a, b) => loadRatio(a) - loadRatio(b) || a.rooms - b.rooms || a.id.localeCompare(b.id))[0];
}

/**
 * Chooses the media host for a meeting. An already-assigned live owner is kept (even when draining) so a meeting never splits
 * across hosts; a dead owner's claim is released and the meeting moves. The registry's claim decides
 * races between concurrent control calls: whoever claimed first wins and everyone uses that answer.
 */
export async function placeMeeting(
  registry: HostRegistry,
  meetingId: string,
  opts: PlacementOptions,
): Promise<HostInfo> {
  const owner = await registry.meetingOwner(meetingId);
  if (owner) {
    // A draining owner still serves the rooms it has; only new meetings avoid it.
    const host = (await registry.list()).find((h) => h.id === owner);
    if (host && opts.now - host.heartbeat_at <= opts.maxAgeMs) return host;
    await registry.releaseMeeting(meetingId, owner);
  }
  const live = await registry.live(opts.now, opts.maxAgeMs);
  const byId = new Map(live.map((h) => [h.id, h]));
  const candidate = leastLoaded(live);
  if (!candidate) throw new AppError("no_media_host", "no media host is available");
  const winner = await registry.claimMeeting(meetingId, candidate.id, opts.claimTtlMs);
  const host = byId.get(winner);
  if (!host) throw new AppError("no_media_host", "the media host owning this meeting is not available");
  return host;
}
