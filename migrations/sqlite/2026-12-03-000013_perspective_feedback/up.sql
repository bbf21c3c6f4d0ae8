-- Moderators' decisions sent by Perspective API clients (Coral Talk's "send feedback") through
-- POST /perspective/v1alpha1/comments:suggestscore: one labelled example per site, attribute and
-- client token (the latest label wins; requests without a token are all kept). Personal data:
-- purged after the site's retention, erased with an author whose comment text matches
-- (text_hash), exported with that author's data.
CREATE TABLE perspective_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    client_token TEXT,
    attribute TEXT NOT NULL,
    -- The score the client suggested (Coral: 0 approved, 1 rejected) and its label (score >= 0.5).
    score DOUBLE PRECISION NOT NULL,
    label INTEGER NOT NULL,
    text TEXT NOT NULL,
    -- Same hash as comments.body_hash (SHA-256 of the trimmed, lower-cased text).
    text_hash TEXT NOT NULL,
    lang TEXT,
    community_id TEXT,
    coral_comment_id TEXT,
    coral_parent_id TEXT,
    story_url TEXT,
    key_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, client_token, attribute)
);
CREATE INDEX perspective_feedback_site_updated ON perspective_feedback (site_id, updated_at);
CREATE INDEX perspective_feedback_text_hash ON perspective_feedback (site_id, text_hash);
CREATE INDEX perspective_feedback_updated ON perspective_feedback (updated_at);
