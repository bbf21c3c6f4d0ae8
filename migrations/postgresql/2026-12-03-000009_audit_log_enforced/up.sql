-- The decision log is append-only, enforced by the database: a row may only lose its free
-- texts and verdict (set to NULL, as the erasure and the retention purge do); any other change
-- (of any column, including ones added later), any delete and any truncation is refused.
CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'decisions are append-only: rows cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - 'note' - 'note_to_author' - 'verdict')
            IS DISTINCT FROM (to_jsonb(OLD) - 'note' - 'note_to_author' - 'verdict')
        OR (NEW.note IS NOT NULL AND NEW.note IS DISTINCT FROM OLD.note)
        OR (NEW.note_to_author IS NOT NULL AND NEW.note_to_author IS DISTINCT FROM OLD.note_to_author)
        OR (NEW.verdict IS NOT NULL AND NEW.verdict IS DISTINCT FROM OLD.verdict) THEN
        RAISE EXCEPTION 'decisions are append-only: only note, note_to_author and verdict may be cleared'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION decisions_append_only();

-- Where a site's restrictions apply (statements of reasons' `territorial_scope`): country codes
-- separated by spaces; NULL means the 27 EU member states.
ALTER TABLE sites ADD COLUMN territorial_scope TEXT;

-- The per-author rate counts an author's comments of the last minute.
CREATE INDEX comments_author_time ON comments (author_id, created_at);
