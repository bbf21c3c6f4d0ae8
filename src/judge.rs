//! The scoring pipeline as the service uses it: the loaded model, the default rule set, each
//! site's own rule set (versioned in the database, reloaded when its version changes, so every
//! replica follows), and the site's thresholds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::domain::UnscoredLanguage;
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
    scorer: Scorer,
    /// Precision and recall at the shipped thresholds, per category and language, from the
    /// model's `validation.json` (what `vigie train` measured).
    at_thresholds: Vec<serde_json::Value>,
    default_rules: Arc<RuleSet>,
    site_rules: RwLock<HashMap<i64, CachedRules>>,
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
            scorer,
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
        site_id: i64,
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
                        tracing::error!(site_id, version, error = %e, "stored rule set does not compile; using the default rules");
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
    pub fn forget_rules(&self, site_id: i64) {
        self.site_rules
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&site_id);
    }

    /// Thresholds from a site's stored JSON, or the model's recommended ones.
    pub fn thresholds_from(&self, stored: Option<&str>) -> Thresholds {
        stored
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_else(|| self.scorer.recommended_thresholds())
    }

    /// The site's thresholds, or the model's recommended ones.
    pub fn thresholds_for(
        &self,
        conn: &mut DbConnection,
        site_id: i64,
    ) -> Result<Thresholds, StoreError> {
        let stored = crate::store::sites::stored_thresholds(conn, site_id)?;
        Ok(self.thresholds_from(stored.as_deref()))
    }

    /// Scores one comment.
    pub fn verdict(
        &self,
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
        self.scorer.score_with(
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
