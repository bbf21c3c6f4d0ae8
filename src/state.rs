//! What every handler shares, passed in `web::Data` (no globals, so tests run many apps at once).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Settings;
use crate::judge::Judge;
use crate::store::DbPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub judge: Arc<Judge>,
    /// SQLite only: the group-commit writer that intake writes go through.
    pub writer: Option<crate::store::writer::Writer>,
    hash_key: Arc<Vec<u8>>,
}

impl AppState {
    pub fn new(
        pool: DbPool,
        settings: Settings,
        hash_key: Vec<u8>,
        judge: Judge,
        writer: Option<crate::store::writer::Writer>,
    ) -> Self {
        AppState {
            pool,
            settings: Arc::new(settings),
            judge: Arc::new(judge),
            writer,
            hash_key: Arc::new(hash_key),
        }
    }

    /// The shipped classifier's measured figures at its thresholds (from its model card's
    /// validation), for the transparency report.
    pub fn classifier_metrics(&self) -> Option<serde_json::Value> {
        let meta = serde_json::to_value(&self.judge.scorer().model().meta).ok()?;
        Some(serde_json::json!({
            "model_version": self.judge.model_version(),
            "thresholds": meta.get("thresholds").cloned().unwrap_or(serde_json::Value::Null),
            "measured_at_thresholds": self.judge.measured_at_thresholds(),
        }))
    }

    /// Keyed hash (HMAC-SHA256, hex) of personal data such as an email or an IP address. The
    /// `purpose` keeps hashes of different kinds of data apart.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        keyed_hash_with(&self.hash_key, purpose, value)
    }

    /// A secret Vigie must read back later (a webhook signing secret, Coral's signing
    /// secret), sealed with XChaCha20-Poly1305 under a key derived from the instance key;
    /// `purpose` is bound as associated data, so a sealed value cannot be moved to another use.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        seal_with(&self.hash_key, purpose, plaintext)
    }

    /// Opens what [`AppState::seal`] sealed; `None` when it was sealed under another instance key
    /// or purpose, or altered.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        open_with(&self.hash_key, purpose, sealed)
    }

    /// What is kept of a reader's IP address, per `ip_storage`: a keyed hash (default), the
    /// network only (`/24` for IPv4, `/48` for IPv6), or nothing.
    pub fn ip_token(&self, ip: std::net::IpAddr) -> Option<String> {
        match self.settings.ip_storage {
            crate::config::IpStorage::Hash => Some(self.keyed_hash("ip", &ip.to_string())),
            crate::config::IpStorage::Truncate => Some(truncate_ip(ip)),
            crate::config::IpStorage::None => None,
        }
    }
}

/// [`AppState::keyed_hash`] with the instance key given (for the CLI, which has no state).
pub fn keyed_hash_with(hash_key: &[u8], purpose: &str, value: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(hash_key).expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// [`AppState::seal`] with the instance key given (for the CLI, which has no state).
pub fn seal_with(hash_key: &[u8], purpose: &str, plaintext: &[u8]) -> String {
    use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&sealing_key(hash_key).into());
    let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: purpose.as_bytes(),
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    format!("v1.{}", URL_SAFE_NO_PAD.encode(out))
}

/// [`AppState::open`] with the instance key given.
pub fn open_with(hash_key: &[u8], purpose: &str, sealed: &str) -> Option<Vec<u8>> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix("v1.")?).ok()?;
    if raw.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = raw.split_at(24);
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&sealing_key(hash_key).into());
    cipher
        .decrypt(
            chacha20poly1305::XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: purpose.as_bytes(),
            },
        )
        .ok()
}

fn sealing_key(hash_key: &[u8]) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(hash_key).expect("HMAC accepts keys of any length");
    mac.update(b"vigie/seal/v1");
    mac.finalize().into_bytes().into()
}

/// The network part of an address: `/24` of IPv4, `/48` of IPv6.
pub fn truncate_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{net}/48")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate_ip;

    #[test]
    fn truncated_addresses_keep_only_the_network() {
        assert_eq!(
            truncate_ip("203.0.113.77".parse().unwrap()),
            "203.0.113.0/24"
        );
        assert_eq!(
            truncate_ip("2001:db8:abcd:12:1:2:3:4".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
    }
}
