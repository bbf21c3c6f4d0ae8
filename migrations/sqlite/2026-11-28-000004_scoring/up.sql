-- Scoring: per-site rule sets (versioned, replaced through the admin API), per-site
-- thresholds, and a hash of each body to spot an author posting the same text again.
CREATE TABLE rule_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, version)
);

ALTER TABLE sites ADD COLUMN thresholds TEXT;
ALTER TABLE comments ADD COLUMN body_hash TEXT;
CREATE INDEX comments_author_body ON comments (author_id, body_hash, created_at);
