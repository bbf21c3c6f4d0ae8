DROP INDEX comments_author_body;
ALTER TABLE comments DROP COLUMN body_hash;
ALTER TABLE sites DROP COLUMN thresholds;
DROP TABLE rule_sets;
