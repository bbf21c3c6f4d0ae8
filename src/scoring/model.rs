//! The trained model: a sparse hashed logistic model (text evidence, one weight pair per bucket)
//! and, per category, a linfa-logistic stacker over text logits, rule evidence and comment shape.
//!
//! On disk, `models/<version>/`: `model.json` (metadata, stacker coefficients exported from
//! linfa, thresholds, sha256 of the weights) and `weights.bin` (bincode [`QuantWeights`]: one
//! byte per bucket per category, decoded through a 256-entry codebook per category built from
//! quantiles of the trained weights — 4× smaller than f32: 0.5 MB at 2^18 buckets, which fits in
//! a core's L2 cache, 2 MB at 2^20, which does not on a 1 MB L2: the scoring bench lost about 7 %
//! on a quiet machine, 13 % on a busy one; docs/benchmarks.md, 2026-12-05).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::features::{FeatureConfig, SparseFeatures, DENSE_DIM};
use super::policy::Thresholds;

pub const CATEGORIES: [&str; 2] = ["toxicity", "spam"];
pub const FORMAT: u32 = 1;
pub const META_FILE: &str = "model.json";
pub const WEIGHTS_FILE: &str = "weights.bin";
/// Refuse weight files above this size (the spec caps model files at 64 MB).
pub const MAX_WEIGHTS_BYTES: u64 = 64 << 20;

/// Errors from loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error("model directory {0} does not exist (train one with `vigie train`, or point to models/<version>)")]
    MissingDir(PathBuf),
    #[error("model file {0} is missing")]
    MissingFile(PathBuf),
    #[error("model file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A logistic regression over standardised dense features, fitted with linfa-logistic and
/// exported as plain coefficients (`params()` / `intercept()` of the fitted linfa model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stacker {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub coef: Vec<f32>,
    pub intercept: f32,
}

impl Stacker {
    /// Identity-like stacker: probability = sigmoid(text logit of category `c`).
    pub fn passthrough(c: usize) -> Stacker {
        let mut coef = vec![0.0; DENSE_DIM];
        coef[c] = 1.0;
        Stacker {
            mean: vec![0.0; DENSE_DIM],
            std: vec![1.0; DENSE_DIM],
            coef,
            intercept: 0.0,
        }
    }

    #[inline]
    pub fn logit(&self, x: &[f32; DENSE_DIM]) -> f32 {
        let mut z = self.intercept;
        for (((&xi, &c), &m), &s) in x.iter().zip(&self.coef).zip(&self.mean).zip(&self.std) {
            z += c * (xi - m) / s;
        }
        z
    }

    #[inline]
    pub fn prob(&self, x: &[f32; DENSE_DIM]) -> f32 {
        sigmoid(self.logit(x))
    }

    fn check(&self) -> Result<(), String> {
        if self.mean.len() != DENSE_DIM
            || self.std.len() != DENSE_DIM
            || self.coef.len() != DENSE_DIM
        {
            return Err(format!(
                "stacker has wrong dimension (expected {DENSE_DIM})"
            ));
        }
        if self
            .mean
            .iter()
            .chain(&self.std)
            .chain(&self.coef)
            .chain(std::iter::once(&self.intercept))
            .any(|v| !v.is_finite())
            || self.std.iter().any(|&s| s <= 0.0)
        {
            return Err("stacker has non-finite values".into());
        }
        Ok(())
    }
}

#[inline]
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub format: u32,
    pub version: String,
    pub created: String,
    pub features: FeatureConfig,
    pub categories: Vec<String>,
    /// Intercepts of the sparse text model, per category.
    pub sparse_bias: [f32; 2],
    /// One stacker per category (same order as `categories`).
    pub stackers: Vec<Stacker>,
    /// Thresholds chosen on validation data.
    pub thresholds: Thresholds,
    pub weights_file: String,
    pub weights_sha256: String,
    /// Name of the rule set whose hits were used as evidence during training.
    pub rules: String,
}

/// Quantised sparse weights as stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantWeights {
    /// 256 values for toxicity then 256 for spam.
    pub codebook: Vec<f32>,
    /// Interleaved per bucket: `[toxicity, spam]`, length `2 << hash_bits`.
    pub codes: Vec<u8>,
}

/// Build a codebook for one category: code 0 = 0.0, codes 1..=255 = means of equal-count bins of
/// the sorted non-zero weights; each weight gets the nearest code.
fn quantise(w: &[f32], stride: usize, off: usize, codes: &mut [u8]) -> Vec<f32> {
    let mut nz: Vec<f32> = w
        .iter()
        .skip(off)
        .step_by(stride)
        .copied()
        .filter(|v| *v != 0.0)
        .collect();
    nz.sort_by(|a, b| a.total_cmp(b));
    let mut book = vec![0f32; 256];
    if !nz.is_empty() {
        let bins = 255usize;
        for (k, slot) in book.iter_mut().enumerate().skip(1) {
            let lo = (k - 1) * nz.len() / bins;
            let hi = (k * nz.len() / bins).max(lo + 1).min(nz.len());
            let lo = lo.min(hi - 1);
            *slot = nz[lo..hi].iter().sum::<f32>() / (hi - lo) as f32;
        }
    }
    // sorted (value, code) for nearest lookup
    let mut sorted: Vec<(f32, u8)> = book
        .iter()
        .enumerate()
        .map(|(k, &v)| (v, k as u8))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (i, &v) in w.iter().skip(off).step_by(stride).enumerate() {
        let code = if v == 0.0 {
            0
        } else {
            let p = sorted.partition_point(|x| x.0 < v);
            let cand = [p.saturating_sub(1), p.min(sorted.len() - 1)];
            let best = cand
                .iter()
                .min_by(|&&a, &&b| (sorted[a].0 - v).abs().total_cmp(&(sorted[b].0 - v).abs()))
                .copied()
                .unwrap_or(0);
            sorted[best].1
        };
        codes[i * stride + off] = code;
    }
    book
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct Model {
    pub meta: ModelMeta,
    pub weights: QuantWeights,
}

impl Model {
    /// Quantise trained f32 weights (interleaved `[toxicity, spam]` per bucket).
    pub fn from_f32(meta: ModelMeta, w: &[f32]) -> Model {
        let mut codes = vec![0u8; w.len()];
        let mut codebook = quantise(w, 2, 0, &mut codes);
        codebook.extend(quantise(w, 2, 1, &mut codes));
        Model {
            meta,
            weights: QuantWeights { codebook, codes },
        }
    }

    pub fn n_buckets(&self) -> usize {
        1usize << self.meta.features.hash_bits
    }

    /// Text logits per category; optionally accumulates per-token contributions (toxicity,
    /// spam) into `contrib` (length = number of tokens).
    #[inline]
    pub fn margins(&self, f: &SparseFeatures, contrib: Option<&mut Vec<[f32; 2]>>) -> [f32; 2] {
        let w = &self.weights.codes;
        let (b0, b1) = self.weights.codebook.split_at(256);
        let (b0, b1): (&[f32; 256], &[f32; 256]) = match (b0.try_into(), b1.try_into()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return self.meta.sparse_bias,
        };
        let scale = f.scale();
        let mut s0 = 0f32;
        let mut s1 = 0f32;
        match contrib {
            None => {
                for &i in &f.idx {
                    let k = 2 * i as usize;
                    s0 += b0[w[k] as usize];
                    s1 += b1[w[k + 1] as usize];
                }
            }
            Some(c) => {
                for (t, x) in c.iter_mut().enumerate().take(f.tok_start.len()) {
                    let (mut a, mut b) = (0f32, 0f32);
                    for &i in &f.idx[f.token_range(t)] {
                        let k = 2 * i as usize;
                        a += b0[w[k] as usize];
                        b += b1[w[k + 1] as usize];
                    }
                    x[0] = a * scale;
                    x[1] = b * scale;
                    s0 += a;
                    s1 += b;
                }
            }
        }
        [
            self.meta.sparse_bias[0] + s0 * scale,
            self.meta.sparse_bias[1] + s1 * scale,
        ]
    }

    /// Calibrated probabilities per category from the dense stacker features.
    #[inline]
    pub fn probs(&self, x: &[f32; DENSE_DIM]) -> [f32; 2] {
        [self.meta.stackers[0].prob(x), self.meta.stackers[1].prob(x)]
    }

    /// Write `model.json` + `weights.bin` into `dir`; returns (file name, sha256) pairs.
    pub fn save(&mut self, dir: &Path) -> std::io::Result<Vec<(String, String)>> {
        std::fs::create_dir_all(dir)?;
        let bytes = bincode::serde::encode_to_vec(&self.weights, bincode::config::standard())
            .map_err(std::io::Error::other)?;
        let wsha = hex::encode(Sha256::digest(&bytes));
        self.meta.weights_sha256 = wsha.clone();
        self.meta.weights_file = WEIGHTS_FILE.into();
        std::fs::write(dir.join(WEIGHTS_FILE), &bytes)?;
        let meta = serde_json::to_vec_pretty(&self.meta).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(META_FILE), &meta)?;
        Ok(vec![
            (META_FILE.into(), hex::encode(Sha256::digest(&meta))),
            (WEIGHTS_FILE.into(), wsha),
        ])
    }

    /// Load and verify a model directory.
    pub fn load(dir: &Path) -> Result<Model, ScoringError> {
        if !dir.is_dir() {
            return Err(ScoringError::MissingDir(dir.to_path_buf()));
        }
        let mp = dir.join(META_FILE);
        let meta_bytes = read(&mp)?;
        let meta: ModelMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| corrupt(&mp, format!("invalid JSON: {e}")))?;
        check_meta(&meta, &mp)?;
        let weights = read_weights(&dir.join(&meta.weights_file), &meta)?;
        Ok(Model { meta, weights })
    }
}

/// A model file that cannot be used, and why.
fn corrupt(path: &Path, reason: String) -> ScoringError {
    ScoringError::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

/// Refuses a `model.json` (at `mp`) this build cannot score with: another format, other
/// categories, a feature configuration out of range, broken stackers, or a weights file name
/// that is not a plain file name.
fn check_meta(meta: &ModelMeta, mp: &Path) -> Result<(), ScoringError> {
    if meta.format != FORMAT {
        return Err(corrupt(
            mp,
            format!("unsupported format {} (expected {FORMAT})", meta.format),
        ));
    }
    if meta.categories != CATEGORIES {
        return Err(corrupt(
            mp,
            format!("unexpected categories {:?}", meta.categories),
        ));
    }
    if !(8..=24).contains(&meta.features.hash_bits)
        || meta.features.char_min == 0
        || meta.features.char_max < meta.features.char_min
        || meta.features.char_max > 8
        || meta.features.neutral_window > super::features::MAX_NEUTRAL_WINDOW
    {
        return Err(corrupt(mp, "invalid feature configuration".into()));
    }
    if meta.stackers.len() != 2 {
        return Err(corrupt(mp, "expected one stacker per category".into()));
    }
    for s in &meta.stackers {
        s.check().map_err(|e| corrupt(mp, e))?;
    }
    if meta.weights_file.contains('/')
        || meta.weights_file.contains('\\')
        || meta.weights_file.contains("..")
    {
        return Err(corrupt(mp, "weights_file must be a plain file name".into()));
    }
    Ok(())
}

/// Reads the weights file `wp` and checks it against `meta`: size limit, sha256, a complete
/// decoding, the number of codes for the hash size, finite codebook values.
fn read_weights(wp: &Path, meta: &ModelMeta) -> Result<QuantWeights, ScoringError> {
    match std::fs::metadata(wp) {
        Ok(m) if m.len() > MAX_WEIGHTS_BYTES => {
            return Err(corrupt(
                wp,
                format!(
                    "{} bytes is above the {} byte limit",
                    m.len(),
                    MAX_WEIGHTS_BYTES
                ),
            ))
        }
        _ => {}
    }
    let wb = read(wp)?;
    let sha = hex::encode(Sha256::digest(&wb));
    if sha != meta.weights_sha256 {
        return Err(corrupt(
            wp,
            format!(
                "sha256 {sha} does not match {} recorded in {META_FILE}",
                meta.weights_sha256
            ),
        ));
    }
    let (weights, used): (QuantWeights, usize) =
        bincode::serde::decode_from_slice(&wb, bincode::config::standard())
            .map_err(|e| corrupt(wp, format!("cannot decode: {e}")))?;
    if used != wb.len() {
        return Err(corrupt(wp, "trailing bytes".into()));
    }
    let expect = 2usize << meta.features.hash_bits;
    if weights.codes.len() != expect || weights.codebook.len() != 512 {
        return Err(corrupt(
            wp,
            format!(
                "{} codes / {} codebook entries, expected {expect} / 512",
                weights.codes.len(),
                weights.codebook.len()
            ),
        ));
    }
    if weights.codebook.iter().any(|w| !w.is_finite()) {
        return Err(corrupt(wp, "non-finite weight".into()));
    }
    Ok(weights)
}

fn read(p: &Path) -> Result<Vec<u8>, ScoringError> {
    std::fs::read(p).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ScoringError::MissingFile(p.to_path_buf())
        } else {
            ScoringError::Io {
                path: p.to_path_buf(),
                source: e,
            }
        }
    })
}

#[cfg(test)]
pub(crate) fn tiny_model() -> Model {
    let mut features = FeatureConfig::default();
    features.hash_bits = 10;
    let mut weights = vec![0f32; 2 << features.hash_bits];
    for (i, w) in weights.iter_mut().enumerate() {
        *w = ((i * 7919) % 13) as f32 / 13.0 - 0.5;
    }
    Model::from_f32(
        ModelMeta {
            format: FORMAT,
            version: "test-0".into(),
            created: "2026-11-28".into(),
            features,
            categories: CATEGORIES.iter().map(|s| s.to_string()).collect(),
            sparse_bias: [-1.0, -2.0],
            stackers: vec![Stacker::passthrough(0), Stacker::passthrough(1)],
            thresholds: Thresholds::default(),
            weights_file: WEIGHTS_FILE.into(),
            weights_sha256: String::new(),
            rules: "default".into(),
        },
        &weights,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vigie-scoring-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn save_load_roundtrip() {
        let mut m = tiny_model();
        let d = tmpdir("rt");
        m.save(&d).unwrap();
        let back = Model::load(&d).unwrap();
        assert_eq!(back.meta, m.meta);
        assert_eq!(back.weights, m.weights);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_and_corrupt() {
        let d = tmpdir("missing");
        let e = Model::load(&d).unwrap_err();
        assert!(matches!(e, ScoringError::MissingDir(_)), "{e}");
        let mut m = tiny_model();
        m.save(&d).unwrap();
        let w = d.join(WEIGHTS_FILE);
        let mut bytes = std::fs::read(&w).unwrap();
        bytes[100] ^= 0xff;
        std::fs::write(&w, &bytes).unwrap();
        let e = Model::load(&d).unwrap_err();
        assert!(
            e.to_string().contains("corrupt") && e.to_string().contains("sha256"),
            "{e}"
        );
        std::fs::remove_file(&w).unwrap();
        let e = Model::load(&d).unwrap_err();
        assert!(matches!(e, ScoringError::MissingFile(_)), "{e}");
        std::fs::write(d.join(META_FILE), b"{not json").unwrap();
        let e = Model::load(&d).unwrap_err();
        assert!(e.to_string().contains("invalid JSON"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
