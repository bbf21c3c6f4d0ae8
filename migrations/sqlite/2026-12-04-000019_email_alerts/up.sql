-- E-mail alerts: each person's choices, and the mail outbox (claimed, retried and given up like
-- webhook deliveries). A message names its account, not an address: the address is the
-- account's sealed e-mail, read when the message is sent (a disabled account gets nothing).
CREATE TABLE alert_preferences (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    -- Language of the messages: fr or en.
    language TEXT NOT NULL,
    -- A message for each report of illegal content, or from a trusted flagger or an authority.
    on_report BOOLEAN NOT NULL,
    -- A message when a queue's oldest item has waited this long (NULL: never).
    queue_wait_minutes INTEGER,
    -- The daily digest's hour, UTC (NULL: no digest).
    digest_hour INTEGER,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    -- report, queue_wait, digest or test.
    kind TEXT NOT NULL,
    -- What the message is about (comment:ID, queue:NAME, digest:DATE): the queue-wait checker
    -- spaces alerts per (account, subject).
    subject TEXT NOT NULL,
    -- Facts the message is written from at sending time (JSON, no comment text).
    payload TEXT NOT NULL,
    -- At most one message per key (a digest per account and day).
    dedup_key TEXT UNIQUE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    retry_until TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_recent ON mail_outbox (account_id, subject, created_at);
