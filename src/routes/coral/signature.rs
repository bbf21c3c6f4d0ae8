//! `X-Coral-Signature`: one HMAC-SHA256 of the exact body per active signing secret; the site
//! is the one whose configured secret verifies.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::SEAL_PURPOSE;
use crate::domain::SiteId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// Signatures looked at in one header, at most.
const MAX_SIGNATURES: usize = 8;

/// The signatures of an `X-Coral-Signature` header, decoded.
fn signatures(header: &str) -> Vec<Vec<u8>> {
    header
        .split(',')
        .take(MAX_SIGNATURES)
        .filter_map(|part| hex::decode(part.trim().strip_prefix("sha256=")?).ok())
        .collect()
}

/// Whether `signature` is the HMAC-SHA256 of `body` under `secret`.
fn verifies(secret: &str, body: &[u8], signature: &[u8]) -> bool {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(signature).is_ok() // constant-time comparison
}

/// The site whose Coral secret signed `body`.
pub(super) async fn signing_site(
    state: &AppState,
    body: &[u8],
    header: &str,
) -> Result<SiteId, ApiError> {
    let sigs = signatures(header);
    if sigs.is_empty() {
        return Err(ApiError::BadSignature(
            "X-Coral-Signature must hold sha256=<hex> signatures".into(),
        ));
    }
    let sites = store::run(&state.pool, store::sites::coral_sites).await?;
    for (site_id, sealed) in sites {
        let Some(secrets) = state
            .open(SEAL_PURPOSE, &sealed)
            .and_then(|raw| serde_json::from_slice::<Vec<String>>(&raw).ok())
        else {
            tracing::warn!(
                site_id = site_id.0,
                "Coral secrets cannot be opened with this instance key"
            );
            continue;
        };
        if secrets
            .iter()
            .any(|s| sigs.iter().any(|sig| verifies(s, body, sig)))
        {
            return Ok(site_id);
        }
    }
    Err(ApiError::BadSignature(
        "the signature matches no Coral secret configured in Vigie".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_against_any_listed_secret() {
        let body = b"{\n  \"action\": \"NEW\"\n}";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"second-secret-0123").unwrap();
        mac.update(body);
        let good = hex::encode(mac.finalize().into_bytes());
        let header = format!("sha256=00ff, sha256={good}");
        let sigs = signatures(&header);
        assert_eq!(sigs.len(), 2);
        assert!(sigs.iter().any(|s| verifies("second-secret-0123", body, s)));
        assert!(!sigs.iter().any(|s| verifies("first-secret-01234", body, s)));
        assert!(signatures("md5=abcd").is_empty());
    }
}
