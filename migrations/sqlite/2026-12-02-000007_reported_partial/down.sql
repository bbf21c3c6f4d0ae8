DROP INDEX comments_reported;
CREATE INDEX comments_reported ON comments (site_id, open_reports, report_weight DESC, id);
