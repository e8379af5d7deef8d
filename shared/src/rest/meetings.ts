import * as v from "valibot";
import {
  DEFAULT_MEETING_SETTINGS,
  MEETING_STATUSES,
  type MeetingSettings,
  MeetingSettingsSchema,
  MeetingStatusSchema,
  MEETING_SETTINGS_FIELDS as settingsFields,
} from "../meeting.js";
import { noNul } from "../text.js";
import { IsoTimestampSchema, PageQuerySchema, pageOf } from "./common.js";

export { DEFAULT_MEETING_SETTINGS, MeetingSettingsSchema, MeetingStatusSchema };
export const MEETING_STATUS_VALUES = MEETING_STATUSES;
export type MeetingSettingsBody = MeetingSettings;

/** Every field optional: on create the defaults fill the gaps, on update the stored values do. */
export const MeetingSettingsPatchSchema = v.partial(v.strictObject(settingsFields));

const title = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200), noNul());
const description = v.nullable(v.pipe(v.string(), v.maxLength(5000), noNul()));
const maxParticipants = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000));
const password = v.pipe(v.string(), v.minLength(1), v.maxLength(128), noNul());
/** Whom the calendar invitation names as attendees; stored lowercase, each once. */
export const MAX_INVITEES = 500;
const invitees = v.pipe(
  v.array(v.pipe(v.string(), v.trim(), v.maxLength(254), v.email(), v.toLowerCase())),
  v.maxLength(MAX_INVITEES),
  v.transform((list) => [...new Set(list)]),
);

export const CreateMeetingBodySchema = v.strictObject({
  title,
  description: v.optional(description),
  scheduled_start: v.optional(v.nullable(IsoTimestampSchema)),
  scheduled_end: v.optional(v.nullable(IsoTimestampSchema)),
  max_participants: v.optional(maxParticipants, 100),
  is_public: v.optional(v.boolean(), false),
  lobby_enabled: v.optional(v.boolean(), false),
  password: v.optional(v.nullable(password)),
  settings: v.optional(MeetingSettingsPatchSchema),
  invitees: v.optional(invitees, []),
});
export type CreateMeetingBody = v.InferOutput<typeof CreateMeetingBodySchema>;

/** Partial update: absent means unchanged; `password: null` clears the password. */
export const UpdateMeetingBodySchema = v.strictObject({
  title: v.optional(title),
  description: v.optional(description),
  scheduled_start: v.optional(v.nullable(IsoTimestampSchema)),
  scheduled_end: v.optional(v.nullable(IsoTimestampSchema)),
  max_participants: v.optional(maxParticipants),
  is_public: v.optional(v.boolean()),
  lobby_enabled: v.optional(v.boolean()),
  locked: v.optional(v.boolean()),
  password: v.optional(v.nullable(password)),
  settings: v.optional(MeetingSettingsPatchSchema),
  /** Replaces the list. */
  invitees: v.optional(invitees),
});
export type UpdateMeetingBody = v.InferOutput<typeof UpdateMeetingBodySchema>;

export const ListMeetingsQuerySchema = v.object({
  ...PageQuerySchema.entries,
  status: v.optional(MeetingStatusSchema),
  /** Inclusive bounds on scheduled_start. */
  from: v.optional(IsoTimestampSchema),
  to: v.optional(IsoTimestampSchema),
});

export const MeetingSchema = v.object({
  id: v.string(),
  tenant_id: v.string(),
  title: v.string(),
  description: v.nullable(v.string()),
  status: MeetingStatusSchema,
  scheduled_start: v.nullable(v.string()),
  scheduled_end: v.nullable(v.string()),
  started_at: v.nullable(v.string()),
  ended_at: v.nullable(v.string()),
  max_participants: v.number(),
  is_public: v.boolean(),
  lobby_enabled: v.boolean(),
  locked: v.boolean(),
  has_password: v.boolean(),
  settings: MeetingSettingsSchema,
  invitees: v.array(v.string()),
  created_by: v.string(),
  created_at: v.string(),
  updated_at: v.string(),
});
export type Meeting = v.InferOutput<typeof MeetingSchema>;

export const MeetingPageSchema = pageOf(MeetingSchema);
