-- Webhook events come from the rows themselves: whoever changes a meeting, participant, recording or chat
-- row (control's REST handlers, a media host's batched writes), the event is written in the same
-- transaction, and only when an enabled endpoint of the tenant wants it. The opt-in event (chat.message)
-- is spelled here as in shared/src/rest/webhooks.ts OPT_IN_WEBHOOK_EVENTS.
CREATE OR REPLACE FUNCTION nexus_iso(ts timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION nexus_webhook_wants(e webhook_endpoints, p_type text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT e.enabled AND CASE WHEN e.events IS NULL THEN p_type <> 'chat.message' ELSE p_type = ANY (e.events) END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION nexus_webhook_emit(p_tenant text, p_meeting uuid, p_type text, p_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  ev_id uuid;
  ev_seq bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = p_tenant AND nexus_webhook_wants(e, p_type)) THEN
    RETURN;
  END IF;
  ev_id := gen_random_uuid();
  INSERT INTO webhook_events (id, tenant_id, meeting_id, type, data)
    VALUES (ev_id, p_tenant, p_meeting, p_type, p_data) RETURNING seq INTO ev_seq;
  INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_seq, meeting_id)
    SELECT gen_random_uuid(), p_tenant, e.id, ev_id, ev_seq, p_meeting
    FROM webhook_endpoints e WHERE e.tenant_id = p_tenant AND nexus_webhook_wants(e, p_type);
END
$$;
--> statement-breakpoint
-- The REST face of a meeting (no password hash, no placement), timestamps as the API writes them.
CREATE OR REPLACE FUNCTION nexus_webhook_meeting(m meetings) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT (to_jsonb(m) - 'password_hash' - 'media_host_id') || jsonb_build_object(
    'has_password', m.password_hash IS NOT NULL,
    'scheduled_start', nexus_iso(m.scheduled_start),
    'scheduled_end', nexus_iso(m.scheduled_end),
    'started_at', nexus_iso(m.started_at),
    'ended_at', nexus_iso(m.ended_at),
    'created_at', nexus_iso(m.created_at),
    'updated_at', nexus_iso(m.updated_at))
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION nexus_webhook_meetings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.id, 'meeting.created',
      jsonb_build_object('meeting', nexus_webhook_meeting(NEW)));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM nexus_webhook_emit(OLD.tenant_id, OLD.id, 'meeting.deleted',
      jsonb_build_object('meeting', nexus_webhook_meeting(OLD)));
    RETURN OLD;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NEW.status = 'active' THEN
      PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.id, 'meeting.started',
        jsonb_build_object('meeting', nexus_webhook_meeting(NEW)));
    ELSIF NEW.status = 'ended' THEN
      PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.id, 'meeting.ended',
        jsonb_build_object('meeting', nexus_webhook_meeting(NEW)));
    END IF;
  ELSE
    -- Every column a user set, by name (new columns count without touching this), but not the
    -- bookkeeping ones; a password change is reported as "password", never its hash.
    SELECT array_agg(CASE WHEN n.key = 'password_hash' THEN 'password' ELSE n.key END ORDER BY n.key)
      INTO changed
      FROM jsonb_each(to_jsonb(NEW)) n
      WHERE n.key NOT IN ('updated_at', 'status', 'started_at', 'ended_at', 'media_host_id', 'created_at',
          'id', 'tenant_id', 'created_by', 'ics_sequence')
        AND n.value IS DISTINCT FROM (to_jsonb(OLD) -> n.key);
    IF changed IS NOT NULL THEN
      PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.id, 'meeting.updated',
        jsonb_build_object('meeting', nexus_webhook_meeting(NEW), 'changes', to_jsonb(changed)));
    END IF;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER nexus_webhook_meetings AFTER INSERT OR UPDATE OR DELETE ON meetings
  FOR EACH ROW EXECUTE FUNCTION nexus_webhook_meetings();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION nexus_webhook_participants() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  who jsonb;
BEGIN
  -- The media host's join and leave batches pass here row by row: a tenant without webhooks pays one
  -- index probe, nothing more.
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = NEW.tenant_id AND e.enabled) THEN
    RETURN NEW;
  END IF;
  who := jsonb_build_object('id', NEW.id, 'user_id', NEW.user_id, 'display_name', NEW.display_name,
    'role', NEW.role, 'joined_at', nexus_iso(NEW.joined_at), 'left_at', nexus_iso(NEW.left_at));
  IF NEW.status = 'joined' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'joined') THEN
    PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.meeting_id, 'participant.joined',
      jsonb_build_object('meeting_id', NEW.meeting_id, 'participant', who));
  ELSIF TG_OP = 'UPDATE' AND OLD.status = 'joined' AND NEW.status IN ('left', 'removed') THEN
    PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.meeting_id, 'participant.left',
      jsonb_build_object('meeting_id', NEW.meeting_id, 'participant', who, 'reason', NEW.status));
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Deferred to the commit: a media host's first join writes the participant row and starts the meeting in
-- one statement, and the receiver must hear meeting.started before that participant.joined.
CREATE CONSTRAINT TRIGGER nexus_webhook_participants AFTER INSERT OR UPDATE OF status ON participants
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION nexus_webhook_participants();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION nexus_webhook_recordings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  rec jsonb;
  kind text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    kind := 'recording.started';
  ELSIF NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('ready', 'failed') THEN
    kind := 'recording.' || NEW.status;
  ELSE
    RETURN NEW;
  END IF;
  rec := jsonb_build_object('id', NEW.id, 'status', NEW.status, 'file_url', NEW.file_url,
    'size_bytes', NEW.size_bytes, 'duration_seconds', NEW.duration_seconds,
    'started_at', nexus_iso(NEW.started_at), 'ended_at', nexus_iso(NEW.ended_at));
  PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.meeting_id, kind,
    jsonb_build_object('meeting_id', NEW.meeting_id, 'recording', rec));
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER nexus_webhook_recordings AFTER INSERT OR UPDATE OF status ON recordings
  FOR EACH ROW EXECUTE FUNCTION nexus_webhook_recordings();
--> statement-breakpoint
-- Messages to everyone only: a direct message stays between its two people.
CREATE OR REPLACE FUNCTION nexus_webhook_chat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = NEW.tenant_id AND e.enabled) THEN
    RETURN NEW;
  END IF;
  PERFORM nexus_webhook_emit(NEW.tenant_id, NEW.meeting_id, 'chat.message',
    jsonb_build_object('meeting_id', NEW.meeting_id, 'message', jsonb_build_object('id', NEW.id,
      'seq', NEW.seq, 'sender_participant_id', NEW.sender_participant_id, 'sender_user_id', NEW.sender_user_id,
      'sender_name', NEW.sender_name, 'reply_to', NEW.reply_to, 'content', NEW.content,
      'created_at', nexus_iso(NEW.created_at))));
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER nexus_webhook_chat AFTER INSERT ON chat_messages
  FOR EACH ROW WHEN (NEW.recipient_participant_id IS NULL) EXECUTE FUNCTION nexus_webhook_chat();
