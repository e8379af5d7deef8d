import * as v from "valibot";

/** A link lives a day unless the host says otherwise, at most 30 days. */
export const GUEST_LINK_DEFAULT_TTL_SECONDS = 86_400;
export const GUEST_LINK_MAX_TTL_SECONDS = 30 * 86_400;

export const CreateGuestLinkBodySchema = v.strictObject({
  expires_in_seconds: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(GUEST_LINK_MAX_TTL_SECONDS)),
    GUEST_LINK_DEFAULT_TTL_SECONDS,
  ),
  /** Joins the link allows; absent or null: no limit until it expires. */
  max_uses: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000))), null),
  /** Guests wait in the lobby even when the meeting's lobby is off (default); false: the meeting decides. */
  lobby: v.optional(v.boolean(), true),
  label: v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(100))), null),
});
export type CreateGuestLinkBody = v.InferOutput<typeof CreateGuestLinkBodySchema>;

export const GuestLinkSchema = v.object({
  id: v.string(),
  meeting_id: v.string(),
  label: v.nullable(v.string()),
  expires_at: v.string(),
  max_uses: v.nullable(v.number()),
  uses: v.number(),
  lobby: v.boolean(),
  revoked_at: v.nullable(v.string()),
  /** Not revoked, not expired, not used up. */
  active: v.boolean(),
  created_by: v.string(),
  created_at: v.string(),
});
export type GuestLink = v.InferOutput<typeof GuestLinkSchema>;

/** The create answer: the only time the token (and so the link) is shown. */
export const CreatedGuestLinkSchema = v.object({
  ...GuestLinkSchema.entries,
  token: v.string(),
  /** The web client's guest page for this link. */
  url: v.string(),
});
export type CreatedGuestLink = v.InferOutput<typeof CreatedGuestLinkSchema>;

export const GuestLinkListSchema = v.object({ data: v.array(GuestLinkSchema) });

const token = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

/** Public (no account): what the guest page shows before the guest picks a name. */
export const GuestLinkInfoBodySchema = v.strictObject({ token });
export const GuestLinkInfoSchema = v.object({
  meeting_id: v.string(),
  title: v.string(),
  scheduled_start: v.nullable(v.string()),
  status: v.string(),
  lobby: v.boolean(),
  expires_at: v.string(),
});

/** Public (no account): a guest link and a display name become a join (answered as JoinAnswer, role guest). */
export const GuestJoinBodySchema = v.strictObject({
  token,
  display_name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
});
export type GuestJoinBody = v.InferOutput<typeof GuestJoinBodySchema>;
