//! The optional second factor: time-based one-time codes (RFC 6238: HMAC-SHA1, 6 digits, 30 s
//! steps, one step of clock skew either way) and single-use recovery codes. Nothing here does I/O.

use totp_rs::{Algorithm, TOTP};

/// Digits of a code.
pub const DIGITS: usize = 6;
/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Steps of clock skew accepted either way.
const SKEW_STEPS: u64 = 1;
/// Secret length: 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (base32: 5 bits each, 50 bits).
const RECOVERY_CHARS: usize = 10;

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    rand::random::<[u8; SECRET_BYTES]>().to_vec()
}

fn totp(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        SKEW_STEPS as u8,
        STEP_SECS,
        secret.to_vec(),
    )
    .ok()
}

/// The secret as authenticator apps take it typed in (base32, no padding).
pub fn base32(secret: &[u8]) -> String {
    totp(secret)
        .map(|t| t.get_secret_base32())
        .unwrap_or_default()
}

/// The `otpauth://` URI authenticator apps read (from a QR code or pasted).
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    let label: String = url::form_urlencoded::byte_serialize(account.as_bytes()).collect();
    format!(
        "otpauth://totp/Vigie:{label}?secret={}&issuer=Vigie&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32(secret)
    )
}

/// The step (`unix time / 30`) whose code `code` is, within the skew around `now_secs`; the
/// caller refuses a step already used (a code works once).
pub fn matching_step(secret: &[u8], code: &str, now_secs: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret)?;
    let now = now_secs / STEP_SECS;
    (now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS)
        .find(|step| totp.generate(step * STEP_SECS) == code)
}

/// The current code (for tests and tools).
pub fn code_at(secret: &[u8], secs: u64) -> String {
    totp(secret).map(|t| t.generate(secs)).unwrap_or_default()
}

/// New recovery codes, shown once: `xxxxx-xxxxx` in lower-case base32.
pub fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = (0..RECOVERY_CHARS)
                .map(|_| ALPHABET[rand::random::<usize>() % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed (any case, with or without its dash or spaces) in its stored form;
/// `None` when it cannot be one.
pub fn recovery_code(typed: &str) -> Option<String> {
    let chars: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_lowercase();
    (chars.len() == RECOVERY_CHARS && chars.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("{}-{}", &chars[..5], &chars[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors_are_reproduced() {
        // RFC 6238 appendix B, SHA1, secret "12345678901234567890", 8 digits there: the last 6.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(code_at(secret, 1_111_111_109), "081804");
        assert_eq!(
            matching_step(secret, "081804", 1_111_111_109 + 30),
            Some(37_037_036)
        );
        assert_eq!(matching_step(secret, "081804", 1_111_111_109 + 90), None);
        assert_eq!(matching_step(secret, "08180", 1_111_111_109), None);
    }

    #[test]
    fn recovery_codes_are_read_in_any_case_with_or_without_dash() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let typed = codes[0].to_uppercase().replace('-', " ");
        assert_eq!(recovery_code(&typed).as_deref(), Some(codes[0].as_str()));
        assert_eq!(recovery_code("court"), None);
    }
}
