-- Edits: the texts a comment had before, for moderators. A row is written when an edit
-- replaces the text; `revision` is the comment's revision at that moment (the comment's counter
-- then moves on). Erasure deletes an author's rows; the retention purge deletes rows replaced
-- longer ago than the retention.
CREATE TABLE comment_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    revision INTEGER NOT NULL,
    body TEXT NOT NULL,
    lang TEXT,
    verdict TEXT,
    verdict_decision TEXT,
    -- The comment's status when this text was replaced.
    status TEXT NOT NULL,
    -- The site's time of the edit that wrote this text (NULL for the text first received).
    edited_at TIMESTAMP,
    -- When Vigie received this text, and when an edit replaced it.
    received_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP NOT NULL,
    UNIQUE (comment_id, revision)
);
CREATE INDEX comment_revisions_replaced ON comment_revisions (replaced_at);

-- The site's time of the current text's edit (NULL until edited), and when Vigie received it.
ALTER TABLE comments ADD COLUMN edited_at TIMESTAMP;
ALTER TABLE comments ADD COLUMN body_received_at TIMESTAMP;
