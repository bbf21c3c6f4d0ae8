CREATE OR REPLACE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP INDEX decisions_origin_network;
ALTER TABLE decisions DROP COLUMN origin_network;
ALTER TABLE decisions DROP COLUMN origin;
