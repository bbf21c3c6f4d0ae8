-- Moderator work: scores for risk ordering, claims, escalation, first human knowledge, the
-- reasons a comment is in a queue, author actions, and the verdict at each decision.
ALTER TABLE comments ADD COLUMN risk DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN score_toxicity DOUBLE PRECISION;
ALTER TABLE comments ADD COLUMN score_spam DOUBLE PRECISION;
ALTER TABLE comments ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN claimed_by BIGINT;
ALTER TABLE comments ADD COLUMN claim_expires_at TIMESTAMP;
ALTER TABLE comments ADD COLUMN first_seen_at TIMESTAMP;
ALTER TABLE comments ADD COLUMN first_seen_by BIGINT;

CREATE INDEX comments_queue_age ON comments (site_id, status, created_at, id);
CREATE INDEX comments_queue_risk ON comments (site_id, status, risk DESC, id);
CREATE INDEX comments_author ON comments (author_id, status);

-- Why a comment is where it is: rule ids and categories, filled by scoring and escalation.
CREATE TABLE comment_reasons (
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    reason TEXT NOT NULL,
    PRIMARY KEY (comment_id, reason)
);
CREATE INDEX comment_reasons_reason ON comment_reasons (reason, comment_id);

ALTER TABLE decisions ADD COLUMN verdict TEXT;
ALTER TABLE decisions ADD COLUMN action TEXT;
ALTER TABLE decisions ADD COLUMN note_to_author TEXT;
CREATE INDEX decisions_site_time ON decisions (site_id, created_at, id);

CREATE TABLE author_actions (
    id BIGSERIAL PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES authors (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    actor TEXT NOT NULL,
    actor_key_id BIGINT REFERENCES api_keys (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    until TIMESTAMP,
    reason TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX author_actions_author ON author_actions (author_id, id);
