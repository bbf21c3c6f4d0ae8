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
    AND NEW.origin IS OLD.origin
    AND (NEW.origin_network IS NULL OR NEW.origin_network IS OLD.origin_network)
)
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: only note, note_to_author, verdict and origin_network may be cleared');
END;
