-- Backtests: "what would this rule set, these thresholds or this model have done to the site's
-- comments of a period?" One row per job; the parameters and the result are JSON text. At most
-- one queued or running job per site (the partial unique index answers a second one with 409).
CREATE TABLE backtests (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    progress_done BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    -- Touched after every batch: a running job not touched for a while was cut by a crash.
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX backtests_site ON backtests (site_id, id);
CREATE UNIQUE INDEX backtests_one_active ON backtests (site_id) WHERE status IN ('queued', 'running');
-- A backtest finds the first and last comment of its period, and counts them, from this index
-- (then walks the comments by id between the two).
CREATE INDEX comments_site_created ON comments (site_id, created_at, id);
