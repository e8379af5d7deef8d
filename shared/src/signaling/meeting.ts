import * as v from "valibot";
import { noNul } from "../text.js";
import { MeetingRoleSchema } from "../tokens.js";

/*
 * The meeting experience on top of media: chat, hands, the lobby and what hosts may do to others.
 * requests.ts and notifications.ts spread these tables into the protocol, so the server's dispatch and the
 * typed client pick them up like any other message.
 */

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(128), noNul());
const Empty = v.object({});

/** Longest chat message, in UTF-16 code units (what a browser's `maxlength` counts). */
export const CHAT_MAX_CHARS = 4000;

/**
 * Who sent a message. Display names are not unique (anyone may call themselves "Host"): participant_id and
 * user_id say who it was, and role what they were in the meeting when they sent it (absent on messages of
 * participants whose record is gone), so a client can mark hosts.
 */
export const ChatSenderSchema = v.object({
  participant_id: v.nullable(v.string()),
  user_id: v.string(),
  name: v.string(),
  role: v.optional(MeetingRoleSchema),
});

/** A chat message as stored: seq is the one order every participant sees. */
export const ChatMessageWireSchema = v.object({
  id: v.string(),
  seq: v.number(),
  sender: ChatSenderSchema,
  text: v.string(),
  reply_to: v.nullable(v.string()),
  /** Recipient participant of a direct message; null when it went to everyone. */
  to: v.nullable(v.string()),
  /** Server time, ISO 8601. */
  created_at: v.string(),
});
export type ChatMessageWire = v.InferOutput<typeof ChatMessageWireSchema>;

/** Either one participant or everyone waiting. */
const LobbyTarget = v.union([v.object({ participant_id: Id }), v.object({ all: v.literal(true) })]);

const Target = v.object({ participant_id: Id });

export const MEETING_REQUESTS = {
  /** Stored before it is acknowledged; refused with `unavailable` (and not broadcast) if it cannot be. */
  "send-message": {
    data: v.object({
      text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(CHAT_MAX_CHARS), noNul()),
      reply_to: v.optional(v.pipe(v.string(), v.uuid())),
      /** A participant id: the message goes to them and the sender only. */
      to: v.optional(Id),
    }),
    ack: ChatMessageWireSchema,
  },
  /** Pages back through the history: the newest `limit` before seq `before`, oldest first. */
  "get-messages": {
    data: v.object({
      before: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER))),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)), 50),
    }),
    ack: v.object({ messages: v.array(ChatMessageWireSchema), has_more: v.boolean() }),
  },
  /** Absent `raised` flips the hand. */
  "toggle-hand": {
    data: v.object({ raised: v.optional(v.boolean()) }),
    ack: v.object({ raised: v.boolean(), hand_raised_at: v.nullable(v.string()) }),
  },
  /** Host only. Disabling the lobby lets everyone waiting in. */
  "set-lobby": { data: v.object({ enabled: v.boolean() }), ack: v.object({ enabled: v.boolean() }) },
  "lobby-admit": { data: LobbyTarget, ack: v.object({ participant_ids: v.array(v.string()) }) },
  "lobby-deny": { data: LobbyTarget, ack: v.object({ participant_ids: v.array(v.string()) }) },
  /** Host only. `lock: true` keeps the target muted until a host mutes them again with `lock: false`. */
  "mute-participant": {
    data: v.object({ participant_id: Id, lock: v.optional(v.boolean()) }),
    ack: Empty,
  },
  "stop-video": { data: Target, ack: Empty },
  "remove-participant": { data: Target, ack: Empty },
  "lower-hand": { data: Target, ack: Empty },
  /** Same effect as POST /api/meetings/:id/end. */
  "end-meeting": { data: Empty, ack: Empty },
  /** No new joins while locked (control answers 423; the media host refuses late tokens too). */
  "lock-meeting": { data: v.object({ locked: v.boolean() }), ack: v.object({ locked: v.boolean() }) },
  /** Makes a member a co-host, with the host controls that come with it. */
  promote: { data: Target, ack: v.object({ role: MeetingRoleSchema }) },
} as const satisfies Record<string, { data: v.GenericSchema; ack: v.GenericSchema }>;

export const MEETING_NOTIFICATIONS = {
  "new-message": ChatMessageWireSchema,
  /** To hosts: someone waits in the lobby (sent again to a host who arrives later). */
  "lobby-request": v.object({
    participant_id: v.string(),
    user_id: v.string(),
    name: v.string(),
    requested_at: v.string(),
  }),
  /** To hosts: someone is no longer waiting (admitted, denied, or gone). */
  "lobby-left": v.object({
    participant_id: v.string(),
    reason: v.picklist(["admitted", "denied", "left"]),
  }),
  /** To the waiting participant: send join-meeting again to enter. */
  "lobby-admitted": v.object({ meeting_id: v.string() }),
  /** To the waiting participant, just before the host closes the connection. */
  "lobby-denied": v.object({ meeting_id: v.string() }),
  /** To the target of a host action, so the page can say who did what. */
  moderated: v.object({
    action: v.picklist(["mute", "stop-video", "lower-hand", "promote"]),
    by: v.string(),
    locked: v.optional(v.boolean()),
  }),
  /** To a removed participant, just before the host closes the connection. */
  removed: v.object({ by: v.string() }),
  "meeting-updated": v.object({ lobby_enabled: v.optional(v.boolean()), locked: v.optional(v.boolean()) }),
} as const satisfies Record<string, v.GenericSchema>;
