//! Named moderator accounts: e-mail addresses, display names and passwords as validated types,
//! and password hashing (argon2id). Nothing here does I/O.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::intake::ValidationError;
use super::Role;

/// Keyed-hash and sealing purpose of account e-mails (routes seal them, the mail worker opens
/// them).
pub const EMAIL_PURPOSE: &str = "account-email";

/// Shortest password accepted (characters).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (characters): argon2 takes any length, the limit keeps a request
/// from making the server hash megabytes.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest display name.
pub const MAX_NAME_CHARS: usize = 100;
/// How long an invitation (or a reset) stays valid.
pub const INVITATION_HOURS: i64 = 72;

/// The vendored list of common passwords (see the file's header for its source and licence).
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// An e-mail address, trimmed and lower-cased (the form that is hashed for look-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// One `@` between a non-empty local part and a domain with a dot; no spaces or control
    /// characters; at most [`MAX_EMAIL_CHARS`].
    pub fn parse(field: &str, raw: &str) -> Result<Email, ValidationError> {
        let email = raw.trim().to_lowercase();
        let invalid = |why: &str| Err(ValidationError::new(field, why.to_owned()));
        if email.is_empty() {
            return invalid("must not be empty");
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return invalid(&format!("must be at most {MAX_EMAIL_CHARS} characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain spaces or control characters");
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(Email(email))
            }
            _ => invalid("must be an e-mail address such as camille@example.fr"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, the default display name.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

/// A display name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub fn display_name(field: &str, raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// The roles an account may have: people moderate or administer; ingest is for machines.
pub fn account_role(field: &str, raw: &str) -> Result<Role, ValidationError> {
    match raw.parse::<Role>() {
        Ok(role @ (Role::Moderator | Role::Admin)) => Ok(role),
        _ => Err(ValidationError::new(field, "must be moderator or admin")),
    }
}

/// A new password that passed the policy; only ever hashed.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<hidden>)")
    }
}

impl NewPassword {
    /// [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters, not NUL, and not on the
    /// list of common passwords (compared without case).
    pub fn parse(field: &str, raw: String) -> Result<NewPassword, ValidationError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(ValidationError::new(
                field,
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        if raw.contains('\0') {
            return Err(ValidationError::new(
                field,
                "must not contain NUL characters",
            ));
        }
        if is_common(&raw) {
            return Err(ValidationError::new(
                field,
                "is one of the most common passwords; choose another",
            ));
        }
        Ok(NewPassword(raw))
    }

    /// The argon2id PHC string (random salt, the crate's default cost: 19 MiB, 2 passes).
    pub fn hash(&self) -> String {
        hash_password(&self.0)
    }
}

fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashes any password within MAX_PASSWORD_CHARS")
        .to_string()
}

/// Whether the password is on the common list (case-insensitive).
pub fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l.to_lowercase() == lowered)
}

/// Checks a password against a stored hash. With no hash (unknown e-mail, or an account
/// without a password) a dummy hash of the same cost is checked, so that the answer takes the
/// same time and an attacker cannot tell which e-mails have accounts.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("vigie-dummy-password-for-timing"));
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse("email", " Camille@Example.FR ")
                .unwrap()
                .as_str(),
            "camille@example.fr"
        );
        for bad in [
            "",
            "camille",
            "camille@",
            "@example.fr",
            "a b@example.fr",
            "a@b@c.fr",
            "a@fr",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert!(NewPassword::parse("password", "court".into()).is_err());
        let common = NewPassword::parse("password", "QWERTYQWERTY".into()).unwrap_err();
        assert!(common.detail.contains("common"), "{}", common.detail);
        assert!(NewPassword::parse("password", "le phare de la vigie 1903".into()).is_ok());
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = NewPassword::parse("password", "le phare de la vigie 1903".into())
            .unwrap()
            .hash();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(&hash), "le phare de la vigie 1903"));
        assert!(!verify_password(Some(&hash), "le phare de la vigie 1904"));
        assert!(!verify_password(None, "vigie-dummy-password-for-timing"));
    }

    #[test]
    fn ingest_is_not_a_role_for_people() {
        assert!(account_role("role", "ingest").is_err());
        assert_eq!(account_role("role", "admin").unwrap(), Role::Admin);
    }
}
