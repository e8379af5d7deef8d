import type { MeetingRole } from "@nexus/shared/tokens";

/** Hosts and co-hosts moderate; the role comes from the join token (or a promotion), never from the client. */
export const moderates = (role: MeetingRole): boolean => role === "host" || role === "cohost";
