-- The decision log is append-only, enforced by the database: a row may only lose its free
-- texts and verdict (set to NULL, as the erasure and the retention purge do); any other change,
-- and any delete, is refused. A column added to `decisions` later must be added here too.
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

CREATE TRIGGER decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: rows cannot be deleted');
END;

-- Where a site's restrictions apply (statements of reasons' `territorial_scope`): country codes
-- separated by spaces; NULL means the 27 EU member states.
ALTER TABLE sites ADD COLUMN territorial_scope TEXT;

-- The per-author rate counts an author's comments of the last minute.
CREATE INDEX comments_author_time ON comments (author_id, created_at);
