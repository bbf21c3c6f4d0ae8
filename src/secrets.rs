//! The instance key's uses: keyed hashes of personal data (emails, IP addresses, reporter
//! identities), sealing of secrets Vigie must read back (webhook and Coral signing secrets), and
//! what is kept of a reader's IP address. Nothing here logs or displays the key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::IpStorage;

/// Length of an XChaCha20-Poly1305 nonce, stored in front of each sealed value.
const NONCE_BYTES: usize = 24;
/// Version prefix of sealed values, so a later scheme can be told apart.
const SEALED_PREFIX: &str = "v1.";
/// Derivation label of the sealing key (kept apart from the keyed-hash key).
const SEALING_KEY_LABEL: &[u8] = b"vigie/seal/v1";

/// The instance key (loaded or created at startup, stored in the database).
pub struct Secrets {
    key: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    pub fn new(key: Vec<u8>) -> Self {
        Secrets { key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    /// Keyed hash (HMAC-SHA256, hex) of personal data such as an email or an IP address. The
    /// `purpose` keeps hashes of different kinds of data apart.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A secret Vigie must read back later (a webhook signing secret, Coral's signing
    /// secret), sealed with XChaCha20-Poly1305 under a key derived from the instance key;
    /// `purpose` is bound as associated data, so a sealed value cannot be moved to another use.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.sealing_key().into());
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
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`Secrets::seal`] sealed; `None` when it was sealed under another instance key
    /// or purpose, or altered.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let raw = URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED_PREFIX)?)
            .ok()?;
        if raw.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_BYTES);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.sealing_key().into());
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

    fn sealing_key(&self) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(SEALING_KEY_LABEL);
        mac.finalize().into_bytes().into()
    }

    /// What is kept of a reader's IP address, per `ip_storage`: a keyed hash (default), the
    /// network only (`/24` for IPv4, `/48` for IPv6), or nothing.
    pub fn ip_token(&self, storage: IpStorage, ip: std::net::IpAddr) -> Option<String> {
        match storage {
            IpStorage::Hash => Some(self.keyed_hash("ip", &ip.to_string())),
            IpStorage::Truncate => Some(truncate_ip(ip)),
            IpStorage::None => None,
        }
    }
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
    use super::*;

    fn secrets(key: &[u8]) -> Secrets {
        Secrets::new(key.to_vec())
    }

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

    #[test]
    fn keyed_hashes_differ_by_purpose_and_by_key() {
        let a = secrets(b"instance a");
        let email = a.keyed_hash("email", "x@example.fr");
        assert_eq!(email, a.keyed_hash("email", "x@example.fr"));
        assert_eq!(email.len(), 64);
        assert_ne!(email, a.keyed_hash("reporter-email", "x@example.fr"));
        assert_ne!(
            email,
            secrets(b"instance b").keyed_hash("email", "x@example.fr")
        );
    }

    #[test]
    fn sealed_values_open_only_under_the_same_key_and_purpose() {
        let a = secrets(b"instance a");
        let sealed = a.seal("webhook", b"s3cret");
        assert!(sealed.starts_with(SEALED_PREFIX));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(a.open("webhook", &sealed).as_deref(), Some(&b"s3cret"[..]));
        assert_eq!(a.open("coral", &sealed), None);
        assert_eq!(secrets(b"instance b").open("webhook", &sealed), None);
        assert_eq!(a.open("webhook", "v1.AAAA"), None);
        assert_eq!(a.open("webhook", "not sealed"), None);
    }

    #[test]
    fn ip_storage_decides_what_is_kept() {
        let a = secrets(b"k");
        let ip = "192.0.2.10".parse().unwrap();
        assert_eq!(
            a.ip_token(IpStorage::Hash, ip),
            Some(a.keyed_hash("ip", "192.0.2.10"))
        );
        assert_eq!(
            a.ip_token(IpStorage::Truncate, ip).as_deref(),
            Some("192.0.2.0/24")
        );
        assert_eq!(a.ip_token(IpStorage::None, ip), None);
    }
}
