-- Moderators' free notes about an author of a site (the console's author panel): seen by
-- moderators and admins only, included in the author's export, deleted by the author's erasure.
CREATE TABLE author_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    author_id BIGINT NOT NULL REFERENCES authors (id),
    text TEXT NOT NULL,
    -- The name and key of the moderator who wrote it.
    created_by TEXT NOT NULL,
    created_by_key_id BIGINT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX author_notes_author ON author_notes (author_id, id);
