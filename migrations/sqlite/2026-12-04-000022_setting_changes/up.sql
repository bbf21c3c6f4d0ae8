-- The site's settings log (issue 18's audit log: "who decided what, when, from where", for the
-- settings beside the comments): every change of the site's settings, thresholds, rule file,
-- word lists and threads' settings, by whom, from where, with what changed.
CREATE TABLE setting_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
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
CREATE TRIGGER setting_changes_append_only_update BEFORE UPDATE ON setting_changes
WHEN NOT (
    NEW.id IS OLD.id
    AND NEW.site_id IS OLD.site_id
    AND NEW.actor IS OLD.actor
    AND NEW.actor_key_id IS OLD.actor_key_id
    AND NEW.origin IS OLD.origin
    AND NEW.setting IS OLD.setting
    AND NEW.summary IS OLD.summary
    AND NEW.created_at IS OLD.created_at
    AND (NEW.origin_network IS NULL OR NEW.origin_network IS OLD.origin_network)
)
BEGIN
    SELECT RAISE(ABORT, 'setting_changes are append-only: only origin_network may be cleared');
END;

CREATE TRIGGER setting_changes_append_only_delete BEFORE DELETE ON setting_changes
BEGIN
    SELECT RAISE(ABORT, 'setting_changes are append-only: rows cannot be deleted');
END;
