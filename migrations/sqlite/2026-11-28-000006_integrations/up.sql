-- Webhooks: endpoints per site; every event is written to the outbox (one row per endpoint
-- that wants it) in the transaction of the change that causes it; the delivery worker of
-- any replica claims due rows, POSTs them and logs each attempt.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    url TEXT NOT NULL,
    description TEXT,
    -- Event types wanted, space-separated with a space at each end (' comment.held ').
    events TEXT NOT NULL,
    -- The signing secret sealed with a key derived from the instance key.
    secret_sealed TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_site ON webhook_endpoints (site_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    -- Stable across retries and endpoints: receivers de-duplicate on it.
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- Ordering key ('comment:42', 'author:7'): one endpoint gets a subject's events in order.
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending | delivered | failed (given up after retry_until)
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    retry_until TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, subject, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- Coral Talk's signing secrets for this site (sealed JSON list; several during a rotation).
ALTER TABLE sites ADD COLUMN coral_secrets TEXT;

-- Retention: the purge finds comments still holding connection data (IP, user agent) by age;
-- rows leave this partial index once purged, so it stays small.
CREATE INDEX comments_connection_data ON comments (created_at)
    WHERE client_ip_hash IS NOT NULL OR user_agent IS NOT NULL;
