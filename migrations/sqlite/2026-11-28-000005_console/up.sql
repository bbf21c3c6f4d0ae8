-- Moderator console sessions: a random token (stored as its SHA-256) turned from an API key,
-- with its CSRF token, interface language and expiry.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    key_id BIGINT NOT NULL REFERENCES api_keys (id),
    csrf_token TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'fr',
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- A moderator's interface language, kept across sessions.
CREATE TABLE console_preferences (
    key_id BIGINT PRIMARY KEY NOT NULL REFERENCES api_keys (id),
    language TEXT NOT NULL
);
