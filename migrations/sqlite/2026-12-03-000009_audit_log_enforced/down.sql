DROP INDEX comments_author_time;
ALTER TABLE sites DROP COLUMN territorial_scope;
DROP TRIGGER decisions_append_only_delete;
DROP TRIGGER decisions_append_only_update;
