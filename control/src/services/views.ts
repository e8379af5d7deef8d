import type { chatMessages, meetings, participants, recordings } from "@nexus/drizzle";
import type { Meeting } from "@nexus/shared/rest/meetings";
import { DEFAULT_MEETING_SETTINGS } from "@nexus/shared/rest/meetings";
import type { ChatMessage } from "@nexus/shared/rest/messages";
import type { Participant } from "@nexus/shared/rest/participants";
import type { Recording } from "@nexus/shared/rest/recordings";

type MeetingRow = typeof meetings.$inferSelect;
type ParticipantRow = typeof participants.$inferSelect;
type ChatRow = typeof chatMessages.$inferSelect;
type RecordingRow = typeof recordings.$inferSelect;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The public face of a meeting row: the password hash and placement internals never leave. */
export const meetingView = (m: MeetingRow): Meeting => ({
  id: m.id,
  tenant_id: m.tenantId,
  title: m.title,
  description: m.description,
  status: m.status,
  scheduled_start: iso(m.scheduledStart),
  scheduled_end: iso(m.scheduledEnd),
  started_at: iso(m.startedAt),
  ended_at: iso(m.endedAt),
  max_participants: m.maxParticipants,
  is_public: m.isPublic,
  lobby_enabled: m.lobbyEnabled,
  locked: m.locked,
  has_password: m.passwordHash !== null,
  settings: { ...DEFAULT_MEETING_SETTINGS, ...m.settings },
  invitees: m.invitees ?? [],
  created_by: m.createdBy,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

export const participantView = (p: ParticipantRow): Participant => ({
  id: p.id,
  meeting_id: p.meetingId,
  user_id: p.userId,
  display_name: p.displayName,
  role: p.role,
  status: p.status,
  is_muted: p.isMuted,
  is_video_on: p.isVideoOn,
  is_screen_sharing: p.isScreenSharing,
  hand_raised_at: iso(p.handRaisedAt),
  joined_at: p.joinedAt.toISOString(),
  left_at: iso(p.leftAt),
});

export const messageView = (m: ChatRow): ChatMessage => ({
  id: m.id,
  seq: m.seq,
  meeting_id: m.meetingId,
  sender_participant_id: m.senderParticipantId,
  sender_user_id: m.senderUserId,
  sender_name: m.senderName,
  recipient_participant_id: m.recipientParticipantId,
  reply_to: m.replyTo,
  content: m.content,
  created_at: m.createdAt.toISOString(),
});

export const recordingView = (r: RecordingRow): Recording => ({
  id: r.id,
  meeting_id: r.meetingId,
  status: r.status,
  file_url: r.fileUrl,
  size_bytes: r.sizeBytes,
  duration_seconds: r.durationSeconds,
  started_at: r.startedAt.toISOString(),
  ended_at: iso(r.endedAt),
  started_by: r.startedBy,
  failure_reason: r.failureReason,
  storage: r.storage,
  tracks: r.tracks,
});
