-- The reported queue's index holds only comments with open reports: most comments never get
-- one, so intake no longer updates it, and a lookup by site no longer mistakes it (on a table
-- without statistics yet) for the way to find a comment by its external id.
DROP INDEX comments_reported;
CREATE INDEX comments_reported ON comments (site_id, report_weight DESC, id) WHERE open_reports > 0;
