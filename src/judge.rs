//! The scoring pipeline as the service uses it: the shipped model, each site's active and
//! shadow models (from the registry, `store::models`; loaded once per version and shared), the
//! default rule set, each site's own rule set (versioned in the database, reloaded when its
//! version changes, so every replica follows), and the site's thresholds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::domain::{ModelId, SiteId, UnscoredLanguage};
use crate::scoring::perspective::Calibration;
use crate::scoring::{AuthorHistory, Decision, RuleSet, ScoreInput, Scorer, Thresholds, Verdict};
use crate::store::{DbConnection, StoreError};

/// Finds the model directory: `dir` itself when it holds a model, else `dir/<DEFAULT>`.
pub fn resolve_model_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.join("model.json").exists() {
        return Ok(dir.to_path_buf());
    }
    let pointer = dir.join("DEFAULT");
    let version = std::fs::read_to_string(&pointer).with_context(|| {
        format!(
            "no model: {} has neither model.json nor a DEFAULT file naming a model version",
            dir.display()
        )
    })?;
    let version = version.trim();
    anyhow::ensure!(
        !version.is_empty() && !version.contains(['/', '\\']) && version != "..",
        "{} does not name a model version",
        pointer.display()
    );
    Ok(dir.join(version))
}

/// Model, rules and thresholds, shared by every worker.
pub struct Judge {
    scorer: Arc<Scorer>,
    /// Registered models loaded so far, by [`crate::store::models::ModelRecord::cache_key`].
    loaded: RwLock<HashMap<String, Loaded>>,
    site_models: RwLock<HashMap<SiteId, (SiteModels, Instant)>>,
    /// Precision and recall at the shipped thresholds, per category and language, from the
    /// model's `validation.json` (what `vigie train` measured).
    at_thresholds: Vec<serde_json::Value>,
    default_rules: Arc<RuleSet>,
    site_rules: RwLock<HashMap<SiteId, CachedRules>>,
}

/// A loaded registered model and its Perspective calibration (if fitted on it).
type Loaded = (Arc<Scorer>, Option<Arc<Calibration>>);

/// The Perspective calibration in a model directory, when it was fitted on `version`.
fn perspective_calibration(dir: &Path, version: &str) -> Option<Calibration> {
    let text =
        std::fs::read_to_string(dir.join(crate::scoring::perspective::CALIBRATION_FILE)).ok()?;
    serde_json::from_str::<Calibration>(&text)
        .ok()
        .filter(|c| c.model_version == version)
}

/// The models scoring a site's comments.
#[derive(Clone)]
pub struct SiteModels {
    /// Scores and decides: the site's active model, or the shipped one.
    pub active: Arc<Scorer>,
    /// The active model's Perspective calibration, for a registered model that has one (the
    /// shipped model's is read at start by `routes::perspective`).
    pub active_calibration: Option<Arc<Calibration>>,
    /// Scores beside it without deciding: the shadow model's registry id and the model.
    pub shadow: Option<(ModelId, Arc<Scorer>)>,
}

/// How long a site's active and shadow models are trusted before the registry is asked again:
/// a model activated on one replica scores on every replica within this delay.
pub const MODELS_RECHECK: Duration = Duration::from_secs(2);

/// A model directory that passed the integrity check.
pub struct CheckedModel {
    pub scorer: Scorer,
    /// SHA-256 of `model.json`.
    pub sha256: String,
}

/// The integrity check of a model directory before it is registered (and again when it is
/// loaded): `model.json` parses and is valid, the weights' SHA-256 matches the one it
/// records, and, when the directory has a `MODEL_CARD.md`, every file the card lists with a
/// SHA-256 matches it. The error says what failed.
pub fn check_model_dir(dir: &Path) -> Result<CheckedModel, String> {
    use sha2::{Digest, Sha256};
    let scorer = Scorer::load(dir).map_err(|e| e.to_string())?;
    let meta_path = dir.join(crate::scoring::model::META_FILE);
    let meta = std::fs::read(&meta_path).map_err(|e| format!("{}: {e}", meta_path.display()))?;
    let sha256 = hex::encode(Sha256::digest(&meta));
    let card = dir.join(CARD_FILE);
    if let Ok(text) = std::fs::read_to_string(&card) {
        for (file, recorded) in card_hashes(&text) {
            let path = dir.join(&file);
            let bytes = std::fs::read(&path).map_err(|e| {
                format!("{} lists {file}, which cannot be read: {e}", card.display())
            })?;
            let actual = hex::encode(Sha256::digest(&bytes));
            if actual != recorded {
                return Err(format!(
                    "{file}: sha256 {actual} does not match {recorded} recorded in {}",
                    card.display()
                ));
            }
        }
    }
    Ok(CheckedModel { scorer, sha256 })
}

/// The model card `vigie train` writes beside a model.
pub const CARD_FILE: &str = "MODEL_CARD.md";

/// `(file, sha256)` rows of a model card's files table (each row: the file name in backticks, its size, its hash in backticks);
/// file names with a path separator are ignored.
fn card_hashes(card: &str) -> Vec<(String, String)> {
    card.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            let [file, bytes, sha] = cells.as_slice() else {
                return None;
            };
            let file = file.strip_prefix('`')?.strip_suffix('`')?;
            let sha = sha.strip_prefix('`')?.strip_suffix('`')?;
            let plain = !file.is_empty() && !file.contains(['/', '\\']) && file != "..";
            let is_sha = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            (plain && is_sha && bytes.parse::<u64>().is_ok())
                .then(|| (file.to_owned(), sha.to_ascii_lowercase()))
        })
        .collect()
}

/// A site's rule-set version, its compiled rules, and when the version was last checked.
type CachedRules = (Option<i32>, Arc<RuleSet>, Instant);

/// How long a site's rule-set version is trusted before the database is asked again: a new
/// rule set reaches every replica within this delay.
pub const RULES_RECHECK: Duration = Duration::from_secs(2);

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("model", &self.scorer.model_version())
            .finish()
    }
}

impl Judge {
    /// Loads the model (a missing or corrupt file stops start-up with its path and reason) and
    /// the default rules (`rules_file`, or the built-in set).
    pub fn load(model_dir: &Path, rules_file: Option<&Path>) -> anyhow::Result<Judge> {
        let dir = resolve_model_dir(model_dir)?;
        let scorer = Scorer::load(&dir)
            .with_context(|| format!("cannot load the model in {}", dir.display()))?;
        let default_rules = match rules_file {
            None => crate::scoring::default_rules(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read rule file {}", path.display()))?;
                RuleSet::from_toml(&text, &path.display().to_string())
                    .map_err(|e| anyhow::anyhow!("rule file refused: {e}"))?
            }
        };
        let at_thresholds = std::fs::read_to_string(dir.join("validation.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map(|v| parse_at_thresholds(&v))
            .unwrap_or_default();
        Ok(Judge {
            scorer: Arc::new(scorer),
            loaded: RwLock::new(HashMap::new()),
            site_models: RwLock::new(HashMap::new()),
            at_thresholds,
            default_rules: Arc::new(default_rules),
            site_rules: RwLock::new(HashMap::new()),
        })
    }

    /// `[{category, lang, step, threshold, n, precision, recall, f1}]` from the validation.
    pub fn measured_at_thresholds(&self) -> &[serde_json::Value] {
        &self.at_thresholds
    }

    pub fn model_version(&self) -> &str {
        self.scorer.model_version()
    }

    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    pub fn default_rules(&self) -> Arc<RuleSet> {
        self.default_rules.clone()
    }

    /// The site's rule set: its latest stored version, or the default rules. The version is
    /// looked up at most every [`RULES_RECHECK`].
    pub fn rules_for(
        &self,
        conn: &mut DbConnection,
        site_id: SiteId,
    ) -> Result<(Option<i32>, Arc<RuleSet>), StoreError> {
        let cached = self
            .site_rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&site_id)
            .cloned();
        if let Some((v, rules, checked)) = &cached {
            if checked.elapsed() < RULES_RECHECK {
                return Ok((*v, rules.clone()));
            }
        }
        let latest = crate::store::rules::latest_version(conn, site_id)?;
        let rules = match (latest, cached) {
            (None, _) => self.default_rules.clone(),
            (Some(version), Some((Some(v), rules, _))) if v == version => rules,
            (Some(version), _) => {
                let source = crate::store::rules::source_of(conn, site_id, version)?;
                // Stored sets were validated when saved; a set that no longer compiles (after
                // an upgrade) falls back to the defaults rather than refusing every comment.
                match RuleSet::from_toml(&source, &format!("site {site_id} rules v{version}")) {
                    Ok(r) => Arc::new(r),
                    Err(e) => {
                        tracing::error!(site_id = site_id.0, version, error = %e, "stored rule set does not compile; using the default rules");
                        self.default_rules.clone()
                    }
                }
            }
        };
        self.site_rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(site_id, (latest, rules.clone(), Instant::now()));
        Ok((latest, rules))
    }

    /// Forgets the cached rule set of a site (after this process replaced it).
    pub fn forget_rules(&self, site_id: SiteId) {
        self.site_rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&site_id);
    }

    /// Thresholds from a site's stored JSON, or `model`'s recommended ones.
    pub fn thresholds_from(&self, stored: Option<&str>, model: &Scorer) -> Thresholds {
        stored
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_else(|| model.recommended_thresholds())
    }

    /// The site's thresholds, or its active model's recommended ones.
    pub fn thresholds_for(
        &self,
        conn: &mut DbConnection,
        site_id: SiteId,
    ) -> Result<Thresholds, StoreError> {
        let models = self.models_for(conn, site_id)?;
        let stored = crate::store::sites::stored_thresholds(conn, site_id)?;
        Ok(self.thresholds_from(stored.as_deref(), &models.active))
    }

    /// The site's active model (the shipped one when it has none registered) and its shadow
    /// model, if any. The registry is asked at most every [`MODELS_RECHECK`], so a model
    /// activated through any replica scores here within that delay; each version is loaded
    /// once and shared by every site that uses it. A registered model that no longer loads
    /// (its files changed or went away) is logged and replaced by the shipped model (active)
    /// or by nothing (shadow), rather than refusing comments.
    pub fn models_for(
        &self,
        conn: &mut DbConnection,
        site_id: SiteId,
    ) -> Result<SiteModels, StoreError> {
        if let Some((models, checked)) = self
            .site_models
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&site_id)
        {
            if checked.elapsed() < MODELS_RECHECK {
                return Ok(models.clone());
            }
        }
        let (active, shadow) = crate::store::models::in_use(conn, site_id)?;
        let (active, active_calibration) = active
            .as_ref()
            .and_then(|r| self.load_registered(r))
            .unwrap_or_else(|| (self.scorer.clone(), None));
        let models = SiteModels {
            active,
            active_calibration,
            shadow: shadow
                .as_ref()
                .and_then(|r| Some((r.id, self.load_registered(r)?.0))),
        };
        self.site_models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(site_id, (models.clone(), Instant::now()));
        Ok(models)
    }

    /// Forgets the cached models of a site (after this process changed them).
    pub fn forget_models(&self, site_id: SiteId) {
        self.site_models
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&site_id);
    }

    /// A registered model, from the cache or loaded (and checked again) from its directory.
    fn load_registered(&self, record: &crate::store::models::ModelRecord) -> Option<Loaded> {
        let key = record.cache_key();
        if let Some(s) = self
            .loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return Some(s.clone());
        }
        match check_model_dir(Path::new(&record.path)) {
            Ok(checked) if checked.sha256 == record.sha256 => {
                let calibration = perspective_calibration(Path::new(&record.path), &record.version);
                let loaded = (Arc::new(checked.scorer), calibration.map(Arc::new));
                tracing::info!(version = %record.version, site_id = record.site_id.0, "registered model loaded");
                self.loaded
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(key, loaded.clone());
                Some(loaded)
            }
            Ok(_) => {
                tracing::error!(version = %record.version, path = %record.path,
                    "registered model's model.json changed since it was registered; not used");
                None
            }
            Err(e) => {
                tracing::error!(version = %record.version, path = %record.path, error = %e,
                    "registered model does not load; not used");
                None
            }
        }
    }

    /// The model registered for the site under `version`, loaded (or from the cache); `None`
    /// when the site has no such version or its directory no longer passes the check.
    pub fn registered_model(
        &self,
        conn: &mut DbConnection,
        site_id: SiteId,
        version: &str,
    ) -> Result<Option<Arc<Scorer>>, StoreError> {
        Ok(crate::store::models::by_version(conn, site_id, version)?
            .and_then(|record| self.load_registered(&record))
            .map(|(scorer, _)| scorer))
    }

    /// Scores one comment with `model` (a site's active or shadow model).
    #[allow(clippy::too_many_arguments)]
    pub fn verdict_by(
        &self,
        model: &Scorer,
        body: &str,
        lang: Option<&str>,
        author: AuthorHistory,
        rules: &RuleSet,
        thresholds: &Thresholds,
        unscored: UnscoredLanguage,
    ) -> Verdict {
        let unscored = match unscored {
            UnscoredLanguage::Review => Decision::Review,
            UnscoredLanguage::Allow => Decision::Allow,
            UnscoredLanguage::Reject => Decision::Reject,
        };
        model.score_with(
            &ScoreInput { body, lang, author },
            rules,
            thresholds,
            unscored,
        )
    }
}

/// Reads the `at_thresholds` rows of a `validation.json` (Markdown table rows:
/// `| category | lang | step threshold | n | precision | recall | f1 | …`; later columns, such as
/// the share of negatives held, are ignored).
fn parse_at_thresholds(v: &serde_json::Value) -> Vec<serde_json::Value> {
    let Some(rows) = v.get("at_thresholds").and_then(|r| r.as_array()) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|row| {
            let cells: Vec<&str> = row
                .as_str()?
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            let [category, lang, step, n, precision, recall, f1, ..] = cells.as_slice() else {
                return None;
            };
            let (step, threshold) = step.split_once(' ')?;
            let num = |s: &str| s.parse::<f64>().ok();
            Some(serde_json::json!({
                "category": category,
                "lang": lang,
                "step": step,
                "threshold": num(threshold)?,
                "n": n.parse::<u64>().ok()?,
                "precision": num(precision)?,
                "recall": num(recall)?,
                "f1": num(f1)?,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_cards_files_table_gives_each_files_hash() {
        let sha = "ab".repeat(32);
        let card = format!(
            "# Card\n| file | bytes | sha256 |\n|---|---|---|\n| `model.json` | 2805 | `{sha}` |\n\
             | `../x` | 1 | `{sha}` |\n| `weights.bin` | many | `{sha}` |\n| fr | 0.9 | 0.8 |\n"
        );
        assert_eq!(card_hashes(&card), [("model.json".to_owned(), sha)]);
    }
}
