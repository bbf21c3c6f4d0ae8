DROP INDEX comments_author_time;
ALTER TABLE sites DROP COLUMN territorial_scope;
DROP TRIGGER decisions_no_truncate ON decisions;
DROP TRIGGER decisions_append_only ON decisions;
DROP FUNCTION decisions_append_only();
