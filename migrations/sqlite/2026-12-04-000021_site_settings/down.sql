ALTER TABLE sites DROP COLUMN appeal_text;
ALTER TABLE sites DROP COLUMN new_author_premod;
