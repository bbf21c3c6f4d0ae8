ALTER TABLE comments DROP COLUMN body_received_at;
ALTER TABLE comments DROP COLUMN edited_at;
DROP TABLE comment_revisions;
