//! What every handler shares, passed in `web::Data` (no globals, so tests run many apps at once).

use std::sync::Arc;

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
    hash_key: Arc<Vec<u8>>,
}

impl AppState {
    pub fn new(pool: DbPool, settings: Settings, hash_key: Vec<u8>, judge: Judge) -> Self {
        AppState {
            pool,
            settings: Arc::new(settings),
            judge: Arc::new(judge),
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
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.hash_key)
            .expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}
