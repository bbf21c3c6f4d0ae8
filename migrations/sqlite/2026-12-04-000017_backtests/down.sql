DROP INDEX comments_site_created;
DROP TABLE backtests;
