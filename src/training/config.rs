//! Training configuration (`training.toml`): datasets, label mappings and hyper-parameters.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::scoring::features::{FeatureConfig, MAX_NEUTRAL_WINDOW};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Used for training (and held out in turn for validation).
    #[default]
    Train,
    /// Never trained on; evaluated as a held-out set.
    Holdout,
    /// Functional test suite (HateCheck style): never trained on; pass rate per functionality.
    Functional,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    pub name: String,
    /// CSV/TSV file, relative to the config file's directory.
    pub path: PathBuf,
    /// "fr" or "en".
    pub lang: String,
    /// "," (default) or "\t".
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Set false for files that must be read without quote handling (OLID, SMS).
    #[serde(default = "yes")]
    pub quoting: bool,
    pub text_column: String,
    pub label_column: String,
    /// Categories this dataset gives labels for (a row not positive for one is negative).
    pub categories: Vec<String>,
    /// Label value → categories it is positive for. `"*"` = any other value.
    pub positive: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub role: Role,
    /// Datasets of the same group are reported together (e.g. the four YouTube videos).
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub functionality_column: Option<String>,
    /// A column giving each row's language (`fr` or `en`) in a set that mixes both; `lang`
    /// is then only the dataset's label in reports.
    #[serde(default)]
    pub lang_column: Option<String>,
    /// Sample weight of every row of this dataset during training.
    #[serde(default = "one")]
    pub weight: f32,
    /// Share (0–1) of the rows never trained on: they form the held-out dataset
    /// `<name>_holdout`, chosen by a hash of the text ([`held_out`]), so identical texts stay
    /// on one side and scripts can pick the same rows.
    #[serde(default)]
    pub holdout_share: Option<f32>,
    /// Labels from per-annotator votes in another file (`label_column` names the boolean vote
    /// column there): a row's label value is `"true"` when a strict majority of its votes are
    /// true, else `"false"`; rows without votes are skipped.
    #[serde(default)]
    pub votes: Option<VotesConfig>,
    /// Which rows of a dataset with `holdout_share` this entry reads (set by
    /// [`TrainConfig::resolve`], never in the file).
    #[serde(skip)]
    pub part: Option<Part>,
}

/// Per-annotator vote file of a dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VotesConfig {
    /// CSV file, relative to the config file's directory.
    pub path: PathBuf,
    /// Column naming the row in both files (e.g. `comment_id`).
    pub key_column: String,
    /// Annotated spans of the rows, for measuring explanations (model card, "Explanations").
    #[serde(default)]
    pub spans: Option<SpansConfig>,
}

/// Character spans that annotators marked in a row's text (e.g. the toxic words), one per line
/// of a CSV file; each names the vote it came from, and the vote file names the row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpansConfig {
    /// CSV file, relative to the config file's directory.
    pub path: PathBuf,
    /// Column naming the vote in both the vote file and this file (e.g. `annotation`).
    pub vote_column: String,
    /// Columns of the span's first character and of the character after its last (offsets in
    /// characters, from 0).
    #[serde(default = "start")]
    pub start_column: String,
    #[serde(default = "end")]
    pub end_column: String,
}

fn start() -> String {
    "start".into()
}

fn end() -> String {
    "end".into()
}

/// The side of a [`DatasetConfig::holdout_share`] split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Trained,
    HeldOut,
}

/// Whether `text` falls in the held-out share of its dataset: the first two bytes of its
/// SHA-256, big-endian, divided by 65,536, are below `share` (Python:
/// `int.from_bytes(hashlib.sha256(t.encode()).digest()[:2], "big") / 65536 < share`).
pub fn held_out(text: &str, share: f32) -> bool {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(text.as_bytes());
    (u16::from_be_bytes([h[0], h[1]]) as f32 / 65536.0) < share
}

fn yes() -> bool {
    true
}
fn one() -> f32 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Model version; default `vigie-YYYYMMDD-HHMM`.
    #[serde(default)]
    pub version: Option<String>,
    /// Where `<version>/` is written, relative to the config file.
    #[serde(default = "default_output")]
    pub output_dir: PathBuf,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub features: FeatureConfig,
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    #[serde(default = "default_lr")]
    pub learning_rate: f32,
    #[serde(default = "default_l2")]
    pub l2: f32,
    /// Folds for out-of-fold text scores fed to the stacker.
    #[serde(default = "default_folds")]
    pub folds: usize,
    #[serde(default = "default_valfrac")]
    pub validation_fraction: f32,
    /// L2 penalty of the linfa stacker.
    #[serde(default = "default_alpha")]
    pub stacker_alpha: f64,
    /// While the sparse text model trains, each dataset has an intercept of its own, so the
    /// word weights learn what tells toxic from benign inside a dataset rather than what tells
    /// one dataset's share of positives from another's (French function words weighing like
    /// evidence because most French rows are toxic tweets). The shipped model keeps one
    /// intercept: the row-weighted mean of the datasets'.
    #[serde(default)]
    pub dataset_intercepts: bool,
    /// The shipped sparse model is the mean of the weights of the fit on every row and of the
    /// out-of-fold fits the stacker's inputs come from (`folds` + 1 models, no extra fit): the
    /// order of the steps, which the seed sets, then moves the figures less.
    #[serde(default)]
    pub average_fold_models: bool,
    /// Rule file whose hits are evidence (default: the embedded default rules).
    #[serde(default)]
    pub rules: Option<PathBuf>,
    /// Run the validation protocols (random split, leave-one-dataset-out, baselines).
    #[serde(default = "yes")]
    pub validate: bool,
    /// Worker threads for the leave-dataset-out validation fits.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Also fit a linfa-only logistic regression on dense hashed features for comparison.
    #[serde(default = "yes")]
    pub compare_dense_linfa: bool,
    /// Thresholds to ship in `model.json` instead of those the validation rule chooses (the
    /// card reports both, and the figures at the shipped ones). For an operating point chosen
    /// on data the validation sets do not resemble (ordinary comment sections).
    #[serde(default)]
    pub thresholds: Option<crate::scoring::Thresholds>,
    #[serde(rename = "dataset")]
    pub datasets: Vec<DatasetConfig>,
}

impl TrainConfig {
    /// Check `[thresholds]`, and replace every dataset with a `holdout_share` by its trained
    /// part and, right after it, its held-out part `<name>_holdout` (role `holdout`).
    pub fn resolve(&mut self) -> anyhow::Result<()> {
        if let Some(t) = self.thresholds {
            for (cat, c) in [("toxicity", t.toxicity), ("spam", t.spam)] {
                anyhow::ensure!(
                    (0.0..=1.0).contains(&c.review)
                        && (0.0..=1.0).contains(&c.reject)
                        && c.review <= c.reject,
                    "[thresholds] {cat}: need 0 <= review <= reject <= 1, got review = {}, reject = {}",
                    c.review,
                    c.reject
                );
            }
        }
        let bad = self.features.invalid_neutral_terms();
        anyhow::ensure!(
            bad.is_empty(),
            "[features] neutral_terms: each term must be one word, not {bad:?}"
        );
        anyhow::ensure!(
            self.features.neutral_window <= MAX_NEUTRAL_WINDOW,
            "[features] neutral_window: at most {MAX_NEUTRAL_WINDOW} tokens, not {}",
            self.features.neutral_window
        );
        let mut out = Vec::with_capacity(self.datasets.len());
        for d in self.datasets.drain(..) {
            match d.holdout_share {
                Some(share) if !(share > 0.0 && share < 1.0) => anyhow::bail!(
                    "dataset {}: holdout_share must be between 0 and 1 (exclusive), not {share}",
                    d.name
                ),
                Some(_) if d.role != Role::Train => anyhow::bail!(
                    "dataset {}: holdout_share only applies to a dataset with role `train`",
                    d.name
                ),
                Some(_) => {
                    let mut held = d.clone();
                    held.name = format!("{}_holdout", d.name);
                    held.role = Role::Holdout;
                    held.part = Some(Part::HeldOut);
                    out.push(DatasetConfig {
                        part: Some(Part::Trained),
                        ..d
                    });
                    out.push(held);
                }
                None => out.push(d),
            }
        }
        self.datasets = out;
        Ok(())
    }
}

fn default_threads() -> usize {
    2
}
fn default_output() -> PathBuf {
    PathBuf::from("models")
}
fn default_seed() -> u64 {
    42
}
fn default_epochs() -> u32 {
    6
}
fn default_lr() -> f32 {
    0.25
}
fn default_l2() -> f32 {
    1e-6
}
fn default_folds() -> usize {
    4
}
fn default_valfrac() -> f32 {
    0.2
}
fn default_alpha() -> f64 {
    1e-2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_out_share_is_the_one_python_computes() {
        // int.from_bytes(hashlib.sha256(t.encode()).digest()[:2], "big") / 65536
        // 0.1708, 0.6404 and 0.8477 for these three texts
        assert!(held_out("Bonjour à tous", 0.2));
        assert!(!held_out("Bonjour à tous", 0.17));
        assert!(held_out("You are an idiot.", 0.65));
        assert!(!held_out("You are an idiot.", 0.64));
        assert!(!held_out("Merci pour l’article", 0.8));
    }

    /// The repository's own `training.toml` reads and resolves, names each dataset once, and
    /// every file it names inside the repository (not under `../shared`) exists.
    #[test]
    fn the_repository_training_config_resolves() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("training.toml")).unwrap();
        let mut cfg: TrainConfig = toml::from_str(&text).unwrap();
        cfg.resolve().unwrap();
        let mut names = std::collections::HashSet::new();
        for d in &cfg.datasets {
            assert!(names.insert(d.name.as_str()), "dataset {} twice", d.name);
            if !d.path.starts_with("..") {
                assert!(root.join(&d.path).is_file(), "{}: {:?}", d.name, d.path);
            }
        }
    }

    fn config(extra: &str) -> TrainConfig {
        toml::from_str(&format!(
            "[[dataset]]\nname = \"forum\"\npath = \"f.csv\"\nlang = \"fr\"\n\
             text_column = \"t\"\nlabel_column = \"l\"\ncategories = [\"toxicity\"]\n\
             positive = {{ \"1\" = [\"toxicity\"] }}\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn a_holdout_share_splits_a_dataset_in_two() {
        let mut cfg = config("holdout_share = 0.4\n");
        cfg.resolve().unwrap();
        let parts: Vec<_> = cfg
            .datasets
            .iter()
            .map(|d| (d.name.as_str(), d.role, d.part))
            .collect();
        assert_eq!(
            parts,
            [
                ("forum", Role::Train, Some(Part::Trained)),
                ("forum_holdout", Role::Holdout, Some(Part::HeldOut)),
            ]
        );
        let mut plain = config("");
        plain.resolve().unwrap();
        assert_eq!(plain.datasets.len(), 1);
        assert_eq!(plain.datasets[0].part, None);
    }

    #[test]
    fn neutral_terms_of_more_than_one_word_or_unknown_feature_keys_are_refused() {
        let with = |features: &str| {
            toml::from_str::<TrainConfig>(&format!(
                "[features]\nhash_bits = 18\nchar_min = 3\nchar_max = 5\nword_bigrams = true\n\
                 {features}\n[[dataset]]\nname = \"x\"\npath = \"x\"\nlang = \"fr\"\n\
                 text_column = \"t\"\nlabel_column = \"l\"\ncategories = []\npositive = {{}}\n"
            ))
        };
        let mut cfg = with("neutral_terms = [\"Réfugiés\", \"gens du voyage\"]").unwrap();
        let err = cfg.resolve().unwrap_err().to_string();
        assert!(
            err.contains("neutral_terms") && err.contains("gens du voyage"),
            "{err}"
        );
        assert!(!err.contains("Réfugiés"), "{err}");
        let mut cfg = with("neutral_terms = [\"femmes\"]\nneutral_window = 3").unwrap();
        cfg.resolve().unwrap();
        assert_eq!(cfg.features.neutral_buckets().len(), 1);
        let mut cfg = with("neutral_terms = [\"femmes\"]\nneutral_window = 33").unwrap();
        let err = cfg.resolve().unwrap_err().to_string();
        assert!(err.contains("at most 32 tokens, not 33"), "{err}");
        let err = with("neutral_term = [\"femmes\"]").unwrap_err().to_string();
        assert!(err.contains("neutral_term"), "{err}");
    }

    #[test]
    fn a_share_outside_zero_to_one_or_on_a_held_out_set_is_refused() {
        for extra in [
            "holdout_share = 1.0\n",
            "holdout_share = 0.0\n",
            "holdout_share = -0.5\n",
        ] {
            let err = config(extra).resolve().unwrap_err().to_string();
            assert!(err.contains("between 0 and 1"), "{err}");
        }
        let err = toml::from_str::<TrainConfig>(
            "[thresholds]\ntoxicity = { review = 0.9, reject = 0.8 }\n\
             spam = { review = 0.3, reject = 0.5 }\n[[dataset]]\nname = \"x\"\npath = \"x\"\n\
             lang = \"fr\"\ntext_column = \"t\"\nlabel_column = \"l\"\ncategories = []\n\
             positive = {}\n",
        )
        .unwrap()
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(err.contains("review <= reject"), "{err}");
        let err = config("holdout_share = 0.3\nrole = \"holdout\"\n")
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(err.contains("role `train`"), "{err}");
    }
}
