import * as v from "valibot";

/**
 * The meeting vocabulary, spelled once: statuses, roles and settings (schema and defaults). drizzle's
 * columns, control's REST schemas, the media host and the web client import these.
 */

export const MEETING_STATUSES = ["scheduled", "active", "ended"] as const;
export type MeetingStatus = (typeof MEETING_STATUSES)[number];
export const MeetingStatusSchema = v.picklist(MEETING_STATUSES);

/** A participant row's life: waiting in the lobby, in the room, and the three ways out. */
export const PARTICIPANT_STATUSES = ["lobby", "joined", "left", "removed", "denied"] as const;
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];

/** Roles of the user JWT (tenant-wide). */
export const ROLES = ["admin", "host", "member"] as const;
export const RoleSchema = v.picklist(ROLES);
export type Role = v.InferOutput<typeof RoleSchema>;

/**
 * Role a participant holds inside one meeting (a member can be promoted to cohost by a host). A `guest`
 * came through a guest link, has no account of the tenant, and is never promoted nor moderates.
 */
export const MEETING_ROLES = ["host", "cohost", "member", "guest"] as const;
export const MeetingRoleSchema = v.picklist(MEETING_ROLES);
export type MeetingRole = v.InferOutput<typeof MeetingRoleSchema>;

export const MEETING_SETTINGS_FIELDS = {
  mute_on_join: v.boolean(),
  video_off_on_join: v.boolean(),
  allow_screen_share: v.boolean(),
  allow_multiple_screen_shares: v.boolean(),
  allow_chat: v.boolean(),
  /** How long an empty live room waits before the media host ends it. */
  empty_timeout_seconds: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400)),
};

export const MeetingSettingsSchema = v.object(MEETING_SETTINGS_FIELDS);
export type MeetingSettings = v.InferOutput<typeof MeetingSettingsSchema>;

export const DEFAULT_MEETING_SETTINGS: Readonly<MeetingSettings> = {
  mute_on_join: false,
  video_off_on_join: false,
  allow_screen_share: true,
  allow_multiple_screen_shares: false,
  allow_chat: true,
  empty_timeout_seconds: 300,
};

/** The settings a live room acts on and sends to its participants (the join ack): all but the empty timeout. */
export const RoomSettingsSchema = v.omit(MeetingSettingsSchema, ["empty_timeout_seconds"]);
export type RoomSettings = v.InferOutput<typeof RoomSettingsSchema>;

/** Stored settings with any missing key (a row older than the key) filled from the defaults. */
export const withDefaultSettings = (
  stored: Partial<MeetingSettings> | null | undefined,
): MeetingSettings => ({
  ...DEFAULT_MEETING_SETTINGS,
  ...stored,
});
