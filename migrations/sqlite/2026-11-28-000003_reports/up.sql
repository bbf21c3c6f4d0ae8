-- "Signaler un abus": reports (DSA Art. 16 notices), reporters and their weight, statements of
-- reasons (Art. 17), appeals (Art. 20), and first knowledge of a report (press law art. 93-3).
CREATE TABLE reporters (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    -- Keyed hash of the site's reporter id, else of the email, else of the IP.
    identity_hash TEXT NOT NULL,
    upheld INTEGER NOT NULL DEFAULT 0,
    dismissed INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, identity_hash)
);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    reporter_id BIGINT NOT NULL REFERENCES reporters (id),
    reference TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'reader',
    text TEXT,
    reporter_name TEXT,
    reporter_email_hash TEXT,
    ip_hash TEXT,
    legal_ground TEXT,
    explanation TEXT,
    good_faith BOOLEAN NOT NULL DEFAULT FALSE,
    snapshot_body TEXT NOT NULL,
    snapshot_revision INTEGER NOT NULL,
    weight DOUBLE PRECISION NOT NULL,
    brigading BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'open',
    outcome_at TIMESTAMP,
    decision_id BIGINT REFERENCES decisions (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (comment_id, reporter_id)
);
CREATE INDEX reports_open ON reports (comment_id, status);
CREATE INDEX reports_reporter_time ON reports (reporter_id, created_at);
CREATE INDEX reports_ip_time ON reports (site_id, ip_hash, created_at);
CREATE INDEX reports_site_time ON reports (site_id, created_at);

ALTER TABLE comments ADD COLUMN open_reports INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN report_weight DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN first_reported_at TIMESTAMP;
CREATE INDEX comments_reported ON comments (site_id, open_reports, report_weight DESC, id);

ALTER TABLE sites ADD COLUMN report_hide_threshold DOUBLE PRECISION NOT NULL DEFAULT 3;

CREATE TABLE statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    comment_id BIGINT REFERENCES comments (id),
    author_id BIGINT REFERENCES authors (id),
    decision_id BIGINT REFERENCES decisions (id),
    -- The statement in the DSA Transparency Database shape, as JSON; no personal data.
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX statements_site_time ON statements (site_id, created_at, id);
CREATE INDEX statements_comment ON statements (comment_id, id);

CREATE TABLE appeals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    appellant TEXT NOT NULL,
    report_id BIGINT REFERENCES reports (id),
    text TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    reply TEXT,
    decided_by BIGINT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (decision_id, appellant)
);
CREATE INDEX appeals_site_status ON appeals (site_id, status, id);
