ALTER TABLE console_sessions DROP COLUMN last_seen_at;
DROP TABLE sign_in_failures;
DROP TABLE account_recovery_codes;
DROP TABLE account_invitations;
DROP TABLE accounts;
