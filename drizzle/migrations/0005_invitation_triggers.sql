-- The calendar's view of a meeting: SEQUENCE goes up whenever what an invitation shows changes, whoever
-- changed it, and a deleted meeting leaves a tombstone so its invitation can still be cancelled.
CREATE OR REPLACE FUNCTION nexus_ics_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.title IS DISTINCT FROM OLD.title
    OR NEW.description IS DISTINCT FROM OLD.description
    OR NEW.scheduled_start IS DISTINCT FROM OLD.scheduled_start
    OR NEW.scheduled_end IS DISTINCT FROM OLD.scheduled_end
    OR NEW.invitees IS DISTINCT FROM OLD.invitees THEN
    NEW.ics_sequence := OLD.ics_sequence + 1;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER nexus_ics_sequence BEFORE UPDATE ON meetings
  FOR EACH ROW EXECUTE FUNCTION nexus_ics_sequence();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION nexus_meeting_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO meeting_tombstones (id, tenant_id, title, scheduled_start, scheduled_end, invitees, ics_sequence,
      created_by)
    VALUES (OLD.id, OLD.tenant_id, OLD.title, OLD.scheduled_start, OLD.scheduled_end, OLD.invitees,
      OLD.ics_sequence + 1, OLD.created_by)
    ON CONFLICT (id) DO NOTHING;
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER nexus_meeting_tombstone AFTER DELETE ON meetings
  FOR EACH ROW EXECUTE FUNCTION nexus_meeting_tombstone();
