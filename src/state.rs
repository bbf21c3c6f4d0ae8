//! What every handler shares, passed in `web::Data` (no globals, so tests run many apps at once).

use std::sync::Arc;

use crate::config::Settings;
use crate::judge::Judge;
use crate::secrets::Secrets;
use crate::store::DbPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub judge: Arc<Judge>,
    /// SQLite only: the group-commit writer that intake writes go through.
    pub writer: Option<crate::store::writer::Writer>,
    /// The instance key's uses (keyed hashes, sealing); never logged.
    pub secrets: Arc<Secrets>,
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
            secrets: Arc::new(Secrets::new(hash_key)),
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

    /// Keyed hash of personal data: see [`Secrets::keyed_hash`].
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        self.secrets.keyed_hash(purpose, value)
    }

    /// Seals a secret Vigie must read back: see [`Secrets::seal`].
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        self.secrets.seal(purpose, plaintext)
    }

    /// Opens a sealed secret: see [`Secrets::open`].
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        self.secrets.open(purpose, sealed)
    }

    /// What is kept of a reader's IP address under this instance's `ip_storage`.
    pub fn ip_token(&self, ip: std::net::IpAddr) -> Option<String> {
        self.secrets.ip_token(self.settings.ip_storage, ip)
    }
}
