-- Where a moderator's decision came from (issue 18's audit log: "who decided what, when,
-- from where"): `origin` is `console` or `api`; `origin_network` the client's network (IPv4
-- /24, IPv6 /48), cleared after `ip_retention_days` like readers' addresses. NULL for
-- automated decisions and for rows written before.
ALTER TABLE decisions ADD COLUMN origin TEXT;
ALTER TABLE decisions ADD COLUMN origin_network TEXT;
-- The purge's condition (store::privacy::purge).
CREATE INDEX decisions_origin_network ON decisions (created_at) WHERE origin_network IS NOT NULL;

-- The decision log stays append-only (000009): the origin never changes, the network may only
-- be cleared.
CREATE OR REPLACE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'decisions are append-only: rows cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - 'note' - 'note_to_author' - 'verdict' - 'origin_network')
            IS DISTINCT FROM (to_jsonb(OLD) - 'note' - 'note_to_author' - 'verdict' - 'origin_network')
        OR (NEW.note IS NOT NULL AND NEW.note IS DISTINCT FROM OLD.note)
        OR (NEW.note_to_author IS NOT NULL AND NEW.note_to_author IS DISTINCT FROM OLD.note_to_author)
        OR (NEW.verdict IS NOT NULL AND NEW.verdict IS DISTINCT FROM OLD.verdict)
        OR (NEW.origin_network IS NOT NULL AND NEW.origin_network IS DISTINCT FROM OLD.origin_network) THEN
        RAISE EXCEPTION 'decisions are append-only: only note, note_to_author, verdict and origin_network may be cleared'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
