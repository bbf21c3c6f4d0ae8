ALTER TABLE sites DROP COLUMN unscored_language;
