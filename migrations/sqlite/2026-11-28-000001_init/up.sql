-- Foundation schema. Times are naive UTC, JSON is TEXT (one schema.rs for both backends).
CREATE TABLE instance_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    moderation_mode TEXT NOT NULL DEFAULT 'pre',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    external_id TEXT NOT NULL,
    url TEXT,
    title TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    moderation_mode TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, external_id)
);

CREATE TABLE authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    external_id TEXT NOT NULL,
    display_name TEXT,
    email_hash TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    status_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, external_id)
);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    thread_id BIGINT NOT NULL REFERENCES threads (id),
    parent_id BIGINT REFERENCES comments (id),
    author_id BIGINT NOT NULL REFERENCES authors (id),
    external_id TEXT NOT NULL,
    body TEXT NOT NULL,
    lang TEXT,
    status TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    verdict TEXT,
    verdict_decision TEXT,
    client_ip_hash TEXT,
    user_agent TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, external_id)
);
CREATE INDEX comments_thread_visible ON comments (thread_id, status, id);
CREATE INDEX comments_site_status ON comments (site_id, status, id);

-- Append-only: every status change, automated or human.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    comment_id BIGINT NOT NULL REFERENCES comments (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    actor TEXT NOT NULL,
    actor_key_id BIGINT REFERENCES api_keys (id),
    source TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX decisions_comment ON decisions (comment_id, id);
