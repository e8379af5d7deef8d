import { bigint, foreignKey, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { meetings } from "./meetings.js";
import { participants } from "./participants.js";

export const chatMessages = pgTable(
  "chat_messages",
  {
    id: uuid("id").primaryKey(),
    /** One total order for everyone in a meeting: the database hands out the sequence, not the clock. */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity().notNull(),
    tenantId: text("tenant_id").notNull(),
    meetingId: uuid("meeting_id").notNull(),
    senderParticipantId: uuid("sender_participant_id"),
    senderUserId: text("sender_user_id").notNull(),
    senderName: text("sender_name").notNull(),
    /** Set for a direct (private) message; null means everyone in the meeting. */
    recipientParticipantId: uuid("recipient_participant_id"),
    replyTo: uuid("reply_to"),
    content: text("content").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      columns: [t.meetingId],
      foreignColumns: [meetings.id],
      name: "chat_messages_meeting_fk",
    }).onDelete("cascade"),
    foreignKey({
      columns: [t.senderParticipantId],
      foreignColumns: [participants.id],
      name: "chat_messages_sender_fk",
    }).onDelete("set null"),
    index("chat_messages_tenant_meeting_seq_idx").on(t.tenantId, t.meetingId, t.seq),
  ],
);
