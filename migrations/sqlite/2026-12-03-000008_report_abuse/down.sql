DROP INDEX comments_reported;
CREATE INDEX comments_reported ON comments (site_id, report_weight DESC, id) WHERE open_reports > 0;
ALTER TABLE comments DROP COLUMN report_priority;
ALTER TABLE reports DROP COLUMN site_bucket;
ALTER TABLE reports DROP COLUMN network_hash;
