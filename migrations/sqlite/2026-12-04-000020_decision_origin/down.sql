DROP TRIGGER decisions_append_only_update;
CREATE TRIGGER decisions_append_only_update BEFORE UPDATE ON decisions
WHEN NOT (
    NEW.id IS OLD.id
    AND NEW.comment_id IS OLD.comment_id
    AND NEW.site_id IS OLD.site_id
    AND NEW.actor IS OLD.actor
    AND NEW.actor_key_id IS OLD.actor_key_id
    AND NEW.source IS OLD.source
    AND NEW.from_status IS OLD.from_status
    AND NEW.to_status IS OLD.to_status
    AND NEW.reason IS OLD.reason
    AND NEW.created_at IS OLD.created_at
    AND NEW.action IS OLD.action
    AND (NEW.note IS NULL OR NEW.note IS OLD.note)
    AND (NEW.note_to_author IS NULL OR NEW.note_to_author IS OLD.note_to_author)
    AND (NEW.verdict IS NULL OR NEW.verdict IS OLD.verdict)
)
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: only note, note_to_author and verdict may be cleared');
END;
DROP INDEX decisions_origin_network;
ALTER TABLE decisions DROP COLUMN origin_network;
ALTER TABLE decisions DROP COLUMN origin;
