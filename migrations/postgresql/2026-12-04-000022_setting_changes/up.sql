-- The site's settings log (issue 18's audit log: "who decided what, when, from where", for the
-- settings beside the comments): every change of the site's settings, thresholds, rule file,
-- word lists and threads' settings, by whom, from where, with what changed.
CREATE TABLE setting_changes (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    actor TEXT NOT NULL,
    actor_key_id BIGINT,
    -- console | api, and the client's network (cleared after ip_retention_days)
    origin TEXT,
    origin_network TEXT,
    -- site | thresholds | rules | words | thread
    setting TEXT NOT NULL,
    -- What changed, in words (e.g. "new_author_premod: 0 → 2").
    summary TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX setting_changes_site ON setting_changes (site_id, id);
CREATE INDEX setting_changes_network ON setting_changes (created_at) WHERE origin_network IS NOT NULL;

-- Append-only, like the decision log (000009): only the network may be cleared.
CREATE FUNCTION setting_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'setting_changes are append-only: rows cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - 'origin_network') IS DISTINCT FROM (to_jsonb(OLD) - 'origin_network')
        OR (NEW.origin_network IS NOT NULL AND NEW.origin_network IS DISTINCT FROM OLD.origin_network) THEN
        RAISE EXCEPTION 'setting_changes are append-only: only origin_network may be cleared'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER setting_changes_append_only BEFORE UPDATE OR DELETE ON setting_changes
    FOR EACH ROW EXECUTE FUNCTION setting_changes_append_only();
CREATE TRIGGER setting_changes_no_truncate BEFORE TRUNCATE ON setting_changes
    FOR EACH STATEMENT EXECUTE FUNCTION setting_changes_append_only();
