DROP TABLE appeals;
DROP TABLE statements;
ALTER TABLE sites DROP COLUMN report_hide_threshold;
DROP INDEX comments_reported;
ALTER TABLE comments DROP COLUMN first_reported_at;
ALTER TABLE comments DROP COLUMN report_weight;
ALTER TABLE comments DROP COLUMN open_reports;
DROP TABLE reports;
DROP TABLE reporters;
