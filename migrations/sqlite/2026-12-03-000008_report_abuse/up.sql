-- Reports that cannot be abused (issue 14, sections 2 and 7).
-- The network a report came from: a keyed hash of the /24 (IPv4) or /48 (IPv6), or the
-- site's IP hash. Reports from one network count once toward hiding; purged with `ip_hash`.
ALTER TABLE reports ADD COLUMN network_hash TEXT;
-- Filed with neither IP nor an established reporter: counted in the site's own rate limit.
ALTER TABLE reports ADD COLUMN site_bucket BOOLEAN NOT NULL DEFAULT FALSE;
-- 2 while an authority's notice is open on the comment, 1 for a trusted flagger's (DSA
-- Art. 22), else 0: the reported queue sorts on it first.
ALTER TABLE comments ADD COLUMN report_priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX comments_reported;
CREATE INDEX comments_reported ON comments (site_id, report_priority DESC, report_weight DESC, id) WHERE open_reports > 0;
-- Notices already open keep their priority.
UPDATE comments SET report_priority = 1 WHERE open_reports > 0 AND id IN
    (SELECT comment_id FROM reports WHERE status = 'open' AND source = 'trusted_flagger');
UPDATE comments SET report_priority = 2 WHERE open_reports > 0 AND id IN
    (SELECT comment_id FROM reports WHERE status = 'open' AND source = 'authority');
