-- Named moderator and admin accounts. Each acts through a principal row of api_keys that has no
-- usable secret (its secret_hash is not a SHA-256): decisions, claims and console preferences
-- keep naming api_keys, and the key's role, name and site are the account's.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    key_id BIGINT NOT NULL UNIQUE REFERENCES api_keys (id),
    -- Keyed hash of the lower-cased e-mail (sign-in looks it up), and the e-mail sealed for display.
    email_hash TEXT NOT NULL UNIQUE,
    email_sealed TEXT NOT NULL,
    -- argon2id PHC string; NULL until the invitation is accepted (or after a reset).
    password_hash TEXT,
    disabled_at TIMESTAMP,
    last_sign_in_at TIMESTAMP,
    -- Second factor (RFC 6238): the secret sealed (pending until totp_enabled_at), and the last
    -- time step whose code was accepted (a code works once).
    totp_secret_sealed TEXT,
    totp_enabled_at TIMESTAMP,
    totp_last_step BIGINT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- One-time invitations (and resets): the token's SHA-256, valid until expires_at, used once.
CREATE TABLE account_invitations (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_invitations_account ON account_invitations (account_id);

-- Single-use recovery codes of the second factor, as keyed hashes.
CREATE TABLE account_recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_recovery_codes_account ON account_recovery_codes (account_id);

-- Failed sign-ins, per keyed hash of the e-mail and of the client IP, for rate limiting.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    scope TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_scope ON sign_in_failures (scope, created_at);

-- Idle timeout of console sessions: when the session was last used (NULL: since created_at).
ALTER TABLE console_sessions ADD COLUMN last_seen_at TIMESTAMP;
