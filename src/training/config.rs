//! Training configuration (`training.toml`): datasets, label mappings and hyper-parameters.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::scoring::features::FeatureConfig;

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
    /// Sample weight of every row of this dataset during training.
    #[serde(default = "one")]
    pub weight: f32,
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
    #[serde(rename = "dataset")]
    pub datasets: Vec<DatasetConfig>,
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
