import { createHash, randomBytes } from "node:crypto";
import type { guestLinks } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import type { GuestLink } from "@nexus/shared/rest/guest-links";

export type GuestLinkRow = typeof guestLinks.$inferSelect;

/** 24 random bytes: unguessable, so the public endpoints need no rate limit to stay closed. */
export const newGuestToken = (): string => `gl_${randomBytes(24).toString("base64url")}`;
export const hashGuestToken = (token: string): string => createHash("sha256").update(token).digest("hex");

/** The web client's guest page (web/src/main.ts routes #/g/<token>). */
export const guestUrl = (base: string, token: string): string => `${base.replace(/\/+$/, "")}/#/g/${token}`;

/** Why a link lets nobody in now, or null when it does. */
export function refusal(link: GuestLinkRow, at: Date): AppError | null {
  if (link.revokedAt) return new AppError("forbidden", "this guest link was revoked");
  if (link.expiresAt.getTime() <= at.getTime())
    return new AppError("forbidden", "this guest link has expired");
  if (link.maxUses !== null && link.uses >= link.maxUses)
    return new AppError("forbidden", "this guest link has been used up");
  return null;
}

export const guestLinkView = (l: GuestLinkRow, at: Date): GuestLink => ({
  id: l.id,
  meeting_id: l.meetingId,
  label: l.label,
  expires_at: l.expiresAt.toISOString(),
  max_uses: l.maxUses,
  uses: l.uses,
  lobby: l.lobby,
  revoked_at: l.revokedAt ? l.revokedAt.toISOString() : null,
  active: refusal(l, at) === null,
  created_by: l.createdBy,
  created_at: l.createdAt.toISOString(),
});
