//! Training: data loading with declared label mappings, the sparse AdaGrad logistic model, the
//! linfa-logistic stacker, validation protocols, baselines, and the model card.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};
use serde::{Deserialize, Serialize};

use super::features::{self, FeatureConfig, SparseFeatures, DENSE_DIM};
use super::hash::FxHashMap;
use super::metrics;
use super::model::{sigmoid, Model, ModelMeta, Stacker, CATEGORIES, FORMAT, WEIGHTS_FILE};
use super::normalise::normalise;
use super::policy::{CategoryThresholds, Thresholds};
use super::rules::{RuleInput, RuleSet};
use super::AuthorHistory;

// ---------------------------------------------------------------- config

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

// ---------------------------------------------------------------- data

#[derive(Debug, Clone)]
pub struct Doc {
    pub text: String,
    pub lang: &'static str,
    pub ds: usize,
    /// -1 unknown, 0 negative, 1 positive (per category).
    pub labels: [i8; 2],
    pub functionality: Option<String>,
}

fn cat_index(name: &str) -> Option<usize> {
    CATEGORIES.iter().position(|c| *c == name)
}

/// Read one dataset with its label mapping.
pub fn load_dataset(base: &Path, d: &DatasetConfig) -> Result<Vec<Doc>> {
    let path = base.join(&d.path);
    let lang: &'static str = match d.lang.as_str() {
        "fr" => "fr",
        "en" => "en",
        other => bail!("dataset {}: unknown lang {other}", d.name),
    };
    let mut cats = Vec::new();
    for c in &d.categories {
        cats.push(
            cat_index(c).with_context(|| format!("dataset {}: unknown category {c}", d.name))?,
        );
    }
    let mut pos_map: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, v) in &d.positive {
        let mut ids = Vec::new();
        for c in v {
            ids.push(
                cat_index(c)
                    .with_context(|| format!("dataset {}: unknown category {c}", d.name))?,
            );
        }
        pos_map.insert(k.clone(), ids);
    }
    let delim = match d.delimiter.as_deref() {
        None | Some(",") => b',',
        Some("\t") | Some("tab") => b'\t',
        Some(other) => bail!("dataset {}: unsupported delimiter {other:?}", d.name),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .quoting(d.quoting)
        .flexible(true)
        .from_path(&path)
        .with_context(|| format!("dataset {}: cannot open {}", d.name, path.display()))?;
    let headers = rdr.byte_headers()?.clone();
    let col = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}') == name)
            .with_context(|| {
                format!(
                    "dataset {}: no column `{name}` in {}",
                    d.name,
                    path.display()
                )
            })
    };
    let tc = col(&d.text_column)?;
    let lc = col(&d.label_column)?;
    let fc = match &d.functionality_column {
        Some(f) => Some(col(f)?),
        None => None,
    };
    let mut out = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec)? {
        let (Some(t), Some(l)) = (rec.get(tc), rec.get(lc)) else {
            continue;
        };
        let text = String::from_utf8_lossy(t).into_owned();
        let label = String::from_utf8_lossy(l).trim().to_string();
        let positives = pos_map
            .get(&label)
            .or_else(|| pos_map.get("*"))
            .with_context(|| format!("dataset {}: label `{label}` has no mapping", d.name))?;
        let mut labels = [-1i8; 2];
        for &c in &cats {
            labels[c] = positives.contains(&c) as i8;
        }
        out.push(Doc {
            text,
            lang,
            ds: 0,
            labels,
            functionality: fc
                .and_then(|f| rec.get(f))
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- prepared features

pub struct Prepared {
    pub idx: Vec<Vec<u32>>,
    /// Dense features with the two text logits left at 0.
    pub dense: Vec<[f32; DENSE_DIM]>,
}

pub fn prepare(docs: &[Doc], cfg: &FeatureConfig, rules: &RuleSet) -> Prepared {
    let mut sf = SparseFeatures::default();
    let mut hits = Vec::new();
    let author = AuthorHistory {
        approved_count: u32::MAX,
        ..Default::default()
    };
    let mut idx = Vec::with_capacity(docs.len());
    let mut dense = Vec::with_capacity(docs.len());
    for d in docs {
        let n = normalise(&d.text);
        features::extract(&n, cfg, &mut sf);
        idx.push(sf.idx.clone());
        let sh = features::shape(&d.text);
        hits.clear();
        rules.evaluate(
            &RuleInput {
                original: &d.text,
                norm: &n,
                lang: d.lang,
                author: &author,
                links: sh.links,
                letters: sh.letters,
                upper: sh.upper,
            },
            &mut hits,
        );
        dense.push(features::dense(
            [0.0, 0.0],
            &hits,
            &sh,
            d.lang,
            n.is_empty(),
        ));
    }
    Prepared { idx, dense }
}

// ---------------------------------------------------------------- sparse AdaGrad logistic

/// Rows of sparse features: indices and optional explicit values (else all `1/sqrt(n)`).
pub struct Rows<'a> {
    pub idx: &'a [Vec<u32>],
    pub val: Option<&'a [Vec<f32>]>,
}

impl Rows<'_> {
    #[inline]
    fn row(&self, i: usize) -> (&[u32], Option<&[f32]>, f32) {
        let ix = &self.idx[i];
        let scale = if ix.is_empty() {
            0.0
        } else {
            1.0 / (ix.len() as f32).sqrt()
        };
        (ix, self.val.map(|v| v[i].as_slice()), scale)
    }
}

pub struct SparseParams {
    pub dim: usize,
    pub epochs: u32,
    pub lr: f32,
    pub l2: f32,
    pub seed: u64,
}

/// Interleaved weights `[c0, c1]` per feature and the two intercepts.
pub struct SparseLr {
    pub w: Vec<f32>,
    pub bias: [f32; 2],
}

fn shuffle(v: &mut [usize], seed: u64) {
    let mut s = seed ^ 0x2545_f491_4f6c_dd1d;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let j = (s % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

pub fn train_sparse(
    rows: &Rows<'_>,
    labels: &[[i8; 2]],
    weights: &[f32],
    ids: &[usize],
    p: &SparseParams,
) -> SparseLr {
    let mut w = vec![0f32; 2 * p.dim];
    let mut g = vec![1e-6f32; 2 * p.dim];
    let mut bias = [0f32; 2];
    let mut gb = [1e-6f32; 2];
    // start the intercepts at the log-odds of each category
    for (c, b) in bias.iter_mut().enumerate() {
        let (mut pos, mut n) = (0f32, 0f32);
        for &i in ids {
            if labels[i][c] >= 0 {
                n += 1.0;
                pos += labels[i][c] as f32;
            }
        }
        if n > 0.0 {
            let r = ((pos + 1.0) / (n + 2.0)).clamp(1e-3, 1.0 - 1e-3);
            *b = (r / (1.0 - r)).ln();
        }
    }
    let mut order = ids.to_vec();
    for ep in 0..p.epochs {
        shuffle(&mut order, p.seed.wrapping_add(ep as u64 * 7919));
        for &i in &order {
            let (ix, val, scale) = rows.row(i);
            let lab = labels[i];
            let sw = weights[i];
            let mut z = bias;
            match val {
                None => {
                    for &k in ix {
                        let k = 2 * k as usize;
                        z[0] += w[k] * scale;
                        z[1] += w[k + 1] * scale;
                    }
                }
                Some(v) => {
                    for (&k, &x) in ix.iter().zip(v) {
                        let k = 2 * k as usize;
                        z[0] += w[k] * x;
                        z[1] += w[k + 1] * x;
                    }
                }
            }
            let mut err = [0f32; 2];
            for (c, e) in err.iter_mut().enumerate() {
                if lab[c] >= 0 {
                    *e = sw * (sigmoid(z[c]) - lab[c] as f32);
                    gb[c] += *e * *e;
                    bias[c] -= p.lr * *e / gb[c].sqrt();
                }
            }
            if err == [0.0, 0.0] {
                continue;
            }
            for (n, &k) in ix.iter().enumerate() {
                let x = match val {
                    None => scale,
                    Some(v) => v[n],
                };
                let k = 2 * k as usize;
                for c in 0..2 {
                    if lab[c] < 0 {
                        continue;
                    }
                    let gr = err[c] * x + p.l2 * w[k + c];
                    g[k + c] += gr * gr;
                    w[k + c] -= p.lr * gr / g[k + c].sqrt();
                }
            }
        }
    }
    SparseLr { w, bias }
}

impl SparseLr {
    pub fn margins(&self, rows: &Rows<'_>, i: usize) -> [f32; 2] {
        let (ix, val, scale) = rows.row(i);
        let mut z = self.bias;
        for (n, &k) in ix.iter().enumerate() {
            let x = val.map_or(scale, |v| v[n]);
            let k = 2 * k as usize;
            z[0] += self.w[k] * x;
            z[1] += self.w[k + 1] * x;
        }
        z
    }
}

// ---------------------------------------------------------------- linfa stacker

/// Fit a linfa-logistic regression on standardised dense features; export its coefficients.
pub fn fit_stacker(x: &[[f32; DENSE_DIM]], y: &[bool], alpha: f64) -> Result<Stacker> {
    let n = x.len();
    if n == 0 || y.iter().all(|&v| v) || y.iter().all(|&v| !v) {
        bail!("stacker needs both classes");
    }
    let mut mean = [0f64; DENSE_DIM];
    let mut var = [0f64; DENSE_DIM];
    for r in x {
        for j in 0..DENSE_DIM {
            mean[j] += r[j] as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    for r in x {
        for j in 0..DENSE_DIM {
            var[j] += (r[j] as f64 - mean[j]).powi(2);
        }
    }
    let std: Vec<f64> = var
        .iter()
        .map(|v| {
            let s = (v / n as f64).sqrt();
            if s < 1e-6 {
                1.0
            } else {
                s
            }
        })
        .collect();
    // column-major design matrix: linfa-logistic is much faster with it
    let mut xs = Array2::<f64>::zeros((n, DENSE_DIM).f());
    for (i, r) in x.iter().enumerate() {
        for j in 0..DENSE_DIM {
            xs[[i, j]] = (r[j] as f64 - mean[j]) / std[j];
        }
    }
    let ys: Array1<bool> = y.iter().copied().collect();
    let ds = Dataset::new(xs, ys);
    let fitted = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(300)
        .fit(&ds)
        .context("linfa-logistic stacker fit")?;
    // linfa's "positive" class is the more frequent label: orient towards `true`
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let coef: Vec<f32> = fitted.params().iter().map(|&c| (sign * c) as f32).collect();
    let intercept = (sign * fitted.intercept()) as f32;
    Ok(Stacker {
        mean: mean.iter().map(|&m| m as f32).collect(),
        std: std.iter().map(|&s| s as f32).collect(),
        coef,
        intercept,
    })
}

// ---------------------------------------------------------------- pipeline fit / predict

pub struct Fitted {
    pub sparse: SparseLr,
    pub stackers: [Stacker; 2],
}

pub struct Ctx<'a> {
    pub cfg: &'a TrainConfig,
    pub docs: &'a [Doc],
    pub prep: &'a Prepared,
    pub weights: Vec<f32>,
}

impl Ctx<'_> {
    fn params(&self, seed_off: u64) -> SparseParams {
        SparseParams {
            dim: 1 << self.cfg.features.hash_bits,
            epochs: self.cfg.epochs,
            lr: self.cfg.learning_rate,
            l2: self.cfg.l2,
            seed: self.cfg.seed.wrapping_add(seed_off),
        }
    }

    fn rows(&self) -> Rows<'_> {
        Rows {
            idx: &self.prep.idx,
            val: None,
        }
    }

    fn labels(&self) -> Vec<[i8; 2]> {
        self.docs.iter().map(|d| d.labels).collect()
    }

    /// Sparse model on all `ids`, stacker on out-of-fold text logits.
    pub fn fit(&self, ids: &[usize], tick: &(dyn Fn() + Sync)) -> Result<Fitted> {
        let labels = self.labels();
        let rows = self.rows();
        let k = self.cfg.folds.max(2);
        let mut shuffled = ids.to_vec();
        shuffle(&mut shuffled, self.cfg.seed ^ 0xabcdef);
        let mut oof: FxHashMap<usize, [f32; 2]> = FxHashMap::default();
        for f in 0..k {
            let tr: Vec<usize> = shuffled
                .iter()
                .enumerate()
                .filter(|(j, _)| j % k != f)
                .map(|(_, &i)| i)
                .collect();
            let m = train_sparse(&rows, &labels, &self.weights, &tr, &self.params(f as u64));
            for (_, &i) in shuffled.iter().enumerate().filter(|(j, _)| j % k == f) {
                oof.insert(i, m.margins(&rows, i));
            }
            tick();
        }
        let sparse = train_sparse(&rows, &labels, &self.weights, ids, &self.params(99));
        tick();
        let mut stackers = Vec::new();
        #[allow(clippy::needless_range_loop)]
        for c in 0..2 {
            let mut x = Vec::new();
            let mut y = Vec::new();
            for &i in ids {
                if labels[i][c] < 0 {
                    continue;
                }
                let mut d = self.prep.dense[i];
                let m = oof[&i];
                d[0] = m[0];
                d[1] = m[1];
                x.push(d);
                y.push(labels[i][c] == 1);
            }
            stackers.push(
                fit_stacker(&x, &y, self.cfg.stacker_alpha)
                    .unwrap_or_else(|_| Stacker::passthrough(c)),
            );
        }
        tick();
        let [s0, s1]: [Stacker; 2] = stackers
            .try_into()
            .map_err(|_| anyhow::anyhow!("stackers"))?;
        Ok(Fitted {
            sparse,
            stackers: [s0, s1],
        })
    }

    /// (stacked probabilities, sparse-only probabilities)
    pub fn predict(&self, f: &Fitted, i: usize) -> ([f32; 2], [f32; 2]) {
        let m = f.sparse.margins(&self.rows(), i);
        let mut d = self.prep.dense[i];
        d[0] = m[0];
        d[1] = m[1];
        (
            [f.stackers[0].prob(&d), f.stackers[1].prob(&d)],
            [sigmoid(m[0]), sigmoid(m[1])],
        )
    }
}

// ---------------------------------------------------------------- TF-IDF baseline

/// scikit-learn-like `TfidfVectorizer()` (lower-case, tokens `\w\w+`, unigrams, smooth idf,
/// L2 norm) + L2 logistic regression (C=1, approximated by AdaGrad SGD with l2 = 1/n).
pub struct Tfidf {
    vocab: FxHashMap<String, u32>,
    idf: Vec<f32>,
}

fn sk_tokens(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
}

impl Tfidf {
    pub fn fit(docs: &[Doc], ids: &[usize]) -> Tfidf {
        let mut df: FxHashMap<String, u32> = FxHashMap::default();
        for &i in ids {
            let mut seen: Vec<String> = sk_tokens(&docs[i].text).collect();
            seen.sort();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        let n = ids.len() as f32;
        let mut vocab = FxHashMap::default();
        let mut idf = Vec::new();
        let mut keys: Vec<_> = df.into_iter().collect();
        keys.sort();
        for (w, d) in keys {
            vocab.insert(w, idf.len() as u32);
            idf.push(((1.0 + n) / (1.0 + d as f32)).ln() + 1.0);
        }
        Tfidf { vocab, idf }
    }
    pub fn dim(&self) -> usize {
        self.idf.len().max(1)
    }
    pub fn transform(&self, text: &str) -> (Vec<u32>, Vec<f32>) {
        let mut counts: BTreeMap<u32, f32> = BTreeMap::new();
        for w in sk_tokens(text) {
            if let Some(&k) = self.vocab.get(&w) {
                *counts.entry(k).or_default() += 1.0;
            }
        }
        let mut idx = Vec::with_capacity(counts.len());
        let mut val = Vec::with_capacity(counts.len());
        for (k, c) in counts {
            idx.push(k);
            val.push(c * self.idf[k as usize]);
        }
        let norm = val.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            val.iter_mut().for_each(|v| *v /= norm);
        }
        (idx, val)
    }
}

// ---------------------------------------------------------------- dense linfa-only comparison

pub const DENSE_HASH_BITS: u32 = 10;

fn dense_hashed(idx: &[u32], bits: u32) -> Vec<(usize, f32)> {
    let mask = (1u32 << bits) - 1;
    let scale = if idx.is_empty() {
        0.0
    } else {
        1.0 / (idx.len() as f32).sqrt()
    };
    idx.iter().map(|&k| ((k & mask) as usize, scale)).collect()
}

// ---------------------------------------------------------------- evaluation records

#[derive(Debug, Clone, Serialize)]
pub struct SetMetrics {
    pub protocol: String,
    pub set: String,
    pub lang: String,
    pub category: String,
    pub n: usize,
    pub positives: usize,
    pub auc_stacked: Option<f32>,
    pub auc_sparse: Option<f32>,
    pub auc_tfidf: Option<f32>,
    pub ap_stacked: Option<f32>,
    pub ap_tfidf: Option<f32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionalResult {
    pub suite: String,
    pub functionality: String,
    pub n: usize,
    pub expected_hateful: bool,
    pub pass_rate: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: String,
    pub created: String,
    pub n_train: usize,
    pub train_seconds: f32,
    pub metrics: Vec<SetMetrics>,
    pub functional: Vec<FunctionalResult>,
    pub thresholds: Thresholds,
    pub threshold_notes: Vec<String>,
    pub dense_linfa: Option<String>,
    pub at_thresholds: Vec<String>,
}

/// doc index -> (stacked, sparse-only, tfidf) probabilities
type PredMap = FxHashMap<usize, ([f32; 2], [f32; 2], [f32; 2])>;

struct Preds {
    stacked: Vec<[f32; 2]>,
    sparse: Vec<[f32; 2]>,
    tfidf: Vec<[f32; 2]>,
}

fn group_metrics(
    protocol: &str,
    set: &str,
    lang: &str,
    docs: &[Doc],
    ids: &[usize],
    p: &PredMap,
    out: &mut Vec<SetMetrics>,
) {
    for (c, cat) in CATEGORIES.iter().enumerate() {
        let sel: Vec<usize> = ids
            .iter()
            .copied()
            .filter(|&i| docs[i].labels[c] >= 0)
            .collect();
        if sel.is_empty() {
            continue;
        }
        let y: Vec<bool> = sel.iter().map(|&i| docs[i].labels[c] == 1).collect();
        let pos = y.iter().filter(|&&v| v).count();
        if pos == 0 || pos == y.len() {
            continue;
        }
        let s: Vec<f32> = sel.iter().map(|i| p[i].0[c]).collect();
        let sp: Vec<f32> = sel.iter().map(|i| p[i].1[c]).collect();
        let tf: Vec<f32> = sel.iter().map(|i| p[i].2[c]).collect();
        out.push(SetMetrics {
            protocol: protocol.into(),
            set: set.into(),
            lang: lang.into(),
            category: cat.to_string(),
            n: sel.len(),
            positives: pos,
            auc_stacked: metrics::roc_auc(&s, &y),
            auc_sparse: metrics::auc_rank(&sp, &y),
            auc_tfidf: metrics::auc_rank(&tf, &y),
            ap_stacked: metrics::average_precision(&s, &y),
            ap_tfidf: metrics::average_precision(&tf, &y),
        });
    }
}

/// Run fit on `train`, predict `test`, with the TF-IDF baseline alongside.
fn run_split(
    cx: &Ctx<'_>,
    train: &[usize],
    test: &[usize],
    tick: &(dyn Fn() + Sync),
) -> Result<(Fitted, Preds)> {
    let f = cx.fit(train, tick)?;
    let tf = Tfidf::fit(cx.docs, train);
    let mut tidx = Vec::with_capacity(cx.docs.len());
    let mut tval = Vec::with_capacity(cx.docs.len());
    let needed: std::collections::HashSet<usize> = train.iter().chain(test).copied().collect();
    for (i, d) in cx.docs.iter().enumerate() {
        if needed.contains(&i) {
            let (a, b) = tf.transform(&d.text);
            tidx.push(a);
            tval.push(b);
        } else {
            tidx.push(Vec::new());
            tval.push(Vec::new());
        }
    }
    let rows = Rows {
        idx: &tidx,
        val: Some(&tval),
    };
    let labels: Vec<[i8; 2]> = cx.docs.iter().map(|d| d.labels).collect();
    let ones = vec![1.0f32; cx.docs.len()];
    let base = train_sparse(
        &rows,
        &labels,
        &ones,
        train,
        &SparseParams {
            dim: tf.dim(),
            epochs: 10,
            lr: 0.5,
            l2: 1.0 / train.len().max(1) as f32,
            seed: cx.cfg.seed,
        },
    );
    tick();
    let mut preds = Preds {
        stacked: Vec::new(),
        sparse: Vec::new(),
        tfidf: Vec::new(),
    };
    for &i in test {
        let (a, b) = cx.predict(&f, i);
        let m = base.margins(&rows, i);
        preds.stacked.push(a);
        preds.sparse.push(b);
        preds.tfidf.push([sigmoid(m[0]), sigmoid(m[1])]);
    }
    Ok((f, preds))
}

fn to_map(test: &[usize], p: &Preds) -> PredMap {
    test.iter()
        .enumerate()
        .map(|(k, &i)| (i, (p.stacked[k], p.sparse[k], p.tfidf[k])))
        .collect()
}

/// Choose thresholds: the lowest score with validation precision >= target in every language
/// that has both classes (max over languages), else on the pooled set.
fn choose(scores: &[(f32, bool, &str)], target: f32) -> (Option<f32>, String) {
    let mut per = Vec::new();
    for lang in ["fr", "en"] {
        let s: Vec<f32> = scores.iter().filter(|x| x.2 == lang).map(|x| x.0).collect();
        let y: Vec<bool> = scores.iter().filter(|x| x.2 == lang).map(|x| x.1).collect();
        let pos = y.iter().filter(|&&v| v).count();
        if pos < 20 || pos == y.len() {
            continue;
        }
        per.push((lang, metrics::threshold_for_precision(&s, &y, target)));
    }
    if per.is_empty() {
        let s: Vec<f32> = scores.iter().map(|x| x.0).collect();
        let y: Vec<bool> = scores.iter().map(|x| x.1).collect();
        let t = metrics::threshold_for_precision(&s, &y, target);
        return (t, format!("pooled: {t:?}"));
    }
    let note = per
        .iter()
        .map(|(l, t)| {
            format!(
                "{l}: {}",
                t.map_or("never reached".to_string(), |t| format!("{t:.3}"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    if per.iter().any(|(_, t)| t.is_none()) {
        return (None, note);
    }
    (per.iter().filter_map(|(_, t)| *t).reduce(f32::max), note)
}

// ---------------------------------------------------------------- main entry

pub struct TrainOutcome {
    pub dir: PathBuf,
    pub version: String,
    pub report: Report,
}

pub fn load_config(path: &Path) -> Result<TrainConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid training config {}", path.display()))
}

/// Train on the configured data, validate, and write `output_dir/<version>/`.
pub fn run(
    cfg: &TrainConfig,
    base: &Path,
    progress: &indicatif::ProgressBar,
) -> Result<TrainOutcome> {
    let t0 = Instant::now();
    let now = chrono::Utc::now();
    let version = cfg
        .version
        .clone()
        .unwrap_or_else(|| format!("vigie-{}", now.format("%Y%m%d-%H%M")));
    let rules = match &cfg.rules {
        Some(p) => {
            let p = base.join(p);
            let t = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            RuleSet::from_toml(&t, &p.display().to_string())?
        }
        None => super::rules::default_rules(),
    };
    progress.set_message("reading datasets");
    let mut docs = Vec::new();
    let mut ds_rows = Vec::new();
    for (k, d) in cfg.datasets.iter().enumerate() {
        let mut v = load_dataset(base, d)?;
        v.iter_mut().for_each(|x| x.ds = k);
        ds_rows.push(v.len());
        docs.extend(v);
    }
    progress.set_message("normalising and hashing");
    let prep = prepare(&docs, &cfg.features, &rules);
    let weights: Vec<f32> = docs.iter().map(|d| cfg.datasets[d.ds].weight).collect();
    let cx = Ctx {
        cfg,
        docs: &docs,
        prep: &prep,
        weights,
    };
    let train_ids: Vec<usize> = (0..docs.len())
        .filter(|&i| cfg.datasets[docs[i].ds].role == Role::Train)
        .collect();
    let lodo: Vec<usize> = (0..cfg.datasets.len())
        .filter(|&k| cfg.datasets[k].role == Role::Train)
        .collect();
    let per_fit = cfg.folds.max(2) as u64 + 2;
    let steps = if cfg.validate {
        per_fit * (2 + lodo.len() as u64) + 2
    } else {
        per_fit
    };
    progress.set_length(steps);
    let tick = || progress.inc(1);

    let mut metrics_out = Vec::new();
    let mut thresholds = Thresholds::default();
    let mut threshold_notes = Vec::new();
    let mut at_thr = Vec::new();
    let mut dense_linfa = None;
    if cfg.validate {
        // 1. random split, stratified by dataset
        progress.set_message("validation: random split");
        let mut val = Vec::new();
        let mut tr = Vec::new();
        for k in 0..cfg.datasets.len() {
            let mut ids: Vec<usize> = train_ids
                .iter()
                .copied()
                .filter(|&i| docs[i].ds == k)
                .collect();
            shuffle(&mut ids, cfg.seed + k as u64);
            let nv = (ids.len() as f32 * cfg.validation_fraction).round() as usize;
            val.extend_from_slice(&ids[..nv]);
            tr.extend_from_slice(&ids[nv..]);
        }
        let (_, preds) = run_split(&cx, &tr, &val, &tick)?;
        let pm = to_map(&val, &preds);
        for k in 0..cfg.datasets.len() {
            let ids: Vec<usize> = val.iter().copied().filter(|&i| docs[i].ds == k).collect();
            if !ids.is_empty() {
                group_metrics(
                    "random 80/20",
                    &cfg.datasets[k].name,
                    &cfg.datasets[k].lang,
                    &docs,
                    &ids,
                    &pm,
                    &mut metrics_out,
                );
            }
        }
        for lang in ["fr", "en"] {
            let ids: Vec<usize> = val
                .iter()
                .copied()
                .filter(|&i| docs[i].lang == lang)
                .collect();
            group_metrics(
                "random 80/20",
                &format!("all {lang}"),
                lang,
                &docs,
                &ids,
                &pm,
                &mut metrics_out,
            );
        }
        // thresholds from this validation set
        let mut chosen = [CategoryThresholds {
            review: 1.01,
            reject: 1.01,
        }; 2];
        for (c, cat) in CATEGORIES.iter().enumerate() {
            let sc: Vec<(f32, bool, &str)> = val
                .iter()
                .enumerate()
                .filter(|(_, &i)| docs[i].labels[c] >= 0)
                .map(|(k, &i)| (preds.stacked[k][c], docs[i].labels[c] == 1, docs[i].lang))
                .collect();
            let (rej, n1) = choose(&sc, 0.95);
            let (rev, n2) = choose(&sc, 0.80);
            chosen[c].reject = rej.unwrap_or(1.01);
            chosen[c].review = rev.unwrap_or(1.01).min(chosen[c].reject);
            threshold_notes.push(format!(
                "{cat}: lowest threshold with validation precision >= 0.95 per language ({n1}) -> reject = {:.3}; >= 0.80 ({n2}) -> review = {:.3}",
                chosen[c].reject, chosen[c].review
            ));
            let s: Vec<f32> = sc.iter().map(|x| x.0).collect();
            let y: Vec<bool> = sc.iter().map(|x| x.1).collect();
            for lang in ["fr", "en", "all"] {
                let sel: Vec<usize> = (0..sc.len())
                    .filter(|&k| lang == "all" || sc[k].2 == lang)
                    .collect();
                let ss: Vec<f32> = sel.iter().map(|&k| s[k]).collect();
                let yy: Vec<bool> = sel.iter().map(|&k| y[k]).collect();
                if yy.iter().filter(|&&v| v).count() == 0 {
                    continue;
                }
                for (name, t) in [("review", chosen[c].review), ("reject", chosen[c].reject)] {
                    let a = metrics::at_threshold(&ss, &yy, t);
                    at_thr.push(format!(
                        "| {cat} | {lang} | {name} {t:.3} | {} | {:.3} | {:.3} | {:.3} |",
                        yy.len(),
                        a.precision,
                        a.recall,
                        a.f1
                    ));
                }
            }
        }
        thresholds = Thresholds {
            toxicity: chosen[0],
            spam: chosen[1],
        };
        // linfa-only on small dense hashes (toxicity), same split
        if cfg.compare_dense_linfa {
            progress.set_message("validation: linfa-only dense comparison");
            let t = Instant::now();
            let bits = DENSE_HASH_BITS;
            let dim = 1usize << bits;
            let mut trc: Vec<usize> = tr
                .iter()
                .copied()
                .filter(|&i| docs[i].labels[0] >= 0)
                .collect();
            shuffle(&mut trc, cfg.seed + 5);
            trc.truncate(12_000);
            let mk = |ids: &[usize]| {
                let mut x = Array2::<f64>::zeros((ids.len(), dim).f());
                for (r, &i) in ids.iter().enumerate() {
                    for (k, v) in dense_hashed(&prep.idx[i], bits) {
                        x[[r, k]] += v as f64;
                    }
                }
                x
            };
            let x = mk(&trc);
            let y: Array1<bool> = trc.iter().map(|&i| docs[i].labels[0] == 1).collect();
            let fitted = LogisticRegression::default()
                .alpha(1e-2)
                .max_iterations(100)
                .fit(&Dataset::new(x, y));
            match fitted {
                Ok(m) => {
                    let mut parts = Vec::new();
                    for lang in ["fr", "en"] {
                        let te: Vec<usize> = val
                            .iter()
                            .copied()
                            .filter(|&i| docs[i].labels[0] >= 0 && docs[i].lang == lang)
                            .collect();
                        let p = m.predict_probabilities(&mk(&te));
                        let sign_pos = m.labels().pos.class;
                        let s: Vec<f32> = p
                            .iter()
                            .map(|&v| if sign_pos { v as f32 } else { 1.0 - v as f32 })
                            .collect();
                        let yy: Vec<bool> = te.iter().map(|&i| docs[i].labels[0] == 1).collect();
                        parts.push(format!(
                            "{lang} AUC {:.3}",
                            metrics::auc_rank(&s, &yy).unwrap_or(f32::NAN)
                        ));
                    }
                    dense_linfa = Some(format!(
                        "linfa-logistic alone on 2^{bits} dense hashed features (same word + char n-grams folded), trained on a {}-row sample of the random-split training part (memory: dense matrix), toxicity: {}; fit took {:.1} s",
                        trc.len(),
                        parts.join(", "),
                        t.elapsed().as_secs_f32()
                    ));
                }
                Err(e) => dense_linfa = Some(format!("linfa-only dense fit failed: {e}")),
            }
        }
        tick();
        // 2. leave one dataset out (whole datasets; each YouTube video is its own dataset)
        // run on `threads` workers (each fit is single-threaded)
        let threads = cfg.threads.max(1);
        let results: Vec<Result<Vec<SetMetrics>>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..threads)
                .map(|w| {
                    let cx = &cx;
                    let lodo = &lodo;
                    let train_ids = &train_ids;
                    let docs = &docs;
                    let tick = &tick;
                    sc.spawn(move || -> Result<Vec<SetMetrics>> {
                        let mut out = Vec::new();
                        for &k in lodo.iter().skip(w).step_by(threads) {
                            let tr: Vec<usize> = train_ids
                                .iter()
                                .copied()
                                .filter(|&i| docs[i].ds != k)
                                .collect();
                            let te: Vec<usize> = train_ids
                                .iter()
                                .copied()
                                .filter(|&i| docs[i].ds == k)
                                .collect();
                            let (_, preds) = run_split(cx, &tr, &te, tick)?;
                            let pm = to_map(&te, &preds);
                            group_metrics(
                                "leave-dataset-out",
                                &cfg.datasets[k].name,
                                &cfg.datasets[k].lang,
                                docs,
                                &te,
                                &pm,
                                &mut out,
                            );
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("validation worker panicked")))
                })
                .collect()
        });
        progress.set_message("validation: leave-dataset-out");
        let mut lodo_metrics = Vec::new();
        for r in results {
            lodo_metrics.extend(r?);
        }
        let order: Vec<&str> = lodo
            .iter()
            .map(|&k| cfg.datasets[k].name.as_str())
            .collect();
        lodo_metrics.sort_by_key(|m| order.iter().position(|n| *n == m.set));
        metrics_out.extend(lodo_metrics);
    }

    // final model on all training data
    progress.set_message("final model");
    let fitted = cx.fit(&train_ids, &tick)?;
    let meta = ModelMeta {
        format: FORMAT,
        version: version.clone(),
        created: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        features: cfg.features,
        categories: CATEGORIES.iter().map(|s| s.to_string()).collect(),
        sparse_bias: fitted.sparse.bias,
        stackers: fitted.stackers.to_vec(),
        thresholds,
        weights_file: WEIGHTS_FILE.into(),
        weights_sha256: String::new(),
        rules: rules.name().to_string(),
    };
    let mut model = Model::from_f32(meta, &fitted.sparse.w);
    // held-out and functional sets, scored by the final model through the real pipeline
    let scorer = super::Scorer::from_model(model.clone());
    let mut functional = Vec::new();
    for (k, d) in cfg.datasets.iter().enumerate() {
        if d.role == Role::Train {
            continue;
        }
        let ids: Vec<usize> = (0..docs.len()).filter(|&i| docs[i].ds == k).collect();
        let mut pm = FxHashMap::default();
        let mut flagged_by_pipeline: FxHashMap<usize, bool> = FxHashMap::default();
        for &i in &ids {
            let v = scorer.score(
                &super::ScoreInput {
                    body: &docs[i].text,
                    lang: Some(docs[i].lang),
                    author: AuthorHistory {
                        approved_count: u32::MAX,
                        ..Default::default()
                    },
                },
                &rules,
                &thresholds,
            );
            let p = [v.scores.toxicity, v.scores.spam];
            pm.insert(i, (p, p, [0.5, 0.5]));
            flagged_by_pipeline.insert(i, v.decision != super::Decision::Allow);
        }
        let proto = if d.role == Role::Functional {
            "functional suite (never trained)"
        } else {
            "held-out set (never trained)"
        };
        group_metrics(proto, &d.name, &d.lang, &docs, &ids, &pm, &mut metrics_out);
        if d.role == Role::Functional {
            let mut by: BTreeMap<String, (usize, usize, bool)> = BTreeMap::new();
            for &i in &ids {
                let f = docs[i].functionality.clone().unwrap_or_default();
                let hateful = docs[i].labels[0] == 1;
                // the whole pipeline decides: scores against thresholds AND hold/block rules
                let flagged = flagged_by_pipeline[&i];
                let e = by.entry(f).or_insert((0, 0, hateful));
                e.0 += 1;
                e.1 += (flagged == hateful) as usize;
            }
            for (f, (n, pass, h)) in by {
                functional.push(FunctionalResult {
                    suite: d.name.clone(),
                    functionality: f,
                    n,
                    expected_hateful: h,
                    pass_rate: pass as f32 / n as f32,
                });
            }
        }
    }
    tick();
    let dir = base.join(&cfg.output_dir).join(&version);
    let files = model
        .save(&dir)
        .with_context(|| format!("cannot write {}", dir.display()))?;
    let report = Report {
        version: version.clone(),
        created: model.meta.created.clone(),
        n_train: train_ids.len(),
        train_seconds: t0.elapsed().as_secs_f32(),
        metrics: metrics_out,
        functional,
        thresholds,
        threshold_notes,
        dense_linfa,
        at_thresholds: at_thr,
    };
    std::fs::write(
        dir.join("validation.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    let card = model_card(cfg, &ds_rows, &report, &files, &rules, &dir)?;
    std::fs::write(dir.join("MODEL_CARD.md"), card)?;
    progress.finish_with_message(format!("model {version} written to {}", dir.display()));
    Ok(TrainOutcome {
        dir,
        version,
        report,
    })
}

fn fmt_opt(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

fn model_card(
    cfg: &TrainConfig,
    rows: &[usize],
    r: &Report,
    files: &[(String, String)],
    rules: &RuleSet,
    dir: &Path,
) -> Result<String> {
    use std::fmt::Write;
    let mut s = String::new();
    writeln!(s, "# Vigie model card — `{}`\n", r.version)?;
    // The time of one run depends on the machine's load: the reference measurement (figure and
    // command) is kept in one place, docs/benchmarks.md.
    writeln!(s, "Created {} by `vigie train` ({} training rows; training time: see docs/benchmarks.md, \"Scoring\").\n", r.created, r.n_train)?;
    writeln!(s, "## What it is\n")?;
    writeln!(s, "Two categories, `toxicity` (insults, harassment, hate, obscenity, threats) and `spam`, French and English.\n")?;
    writeln!(s, "1. **Normaliser** (NFKD + case and accent folding, leetspeak, repeated letters, split letters, look-alikes).")?;
    writeln!(
        s,
        "2. **Sparse text model** (Vigie's own): logistic regression trained by AdaGrad over 2^{} hashed features — word unigrams, word bigrams and byte 3–{}-grams inside padded tokens — one weight per category per bucket, L2-normalised counts. {} epochs, learning rate {}, L2 {}.",
        cfg.features.hash_bits, cfg.features.char_max, cfg.epochs, cfg.learning_rate, cfg.l2
    )?;
    writeln!(
        s,
        "3. **linfa-logistic stacker**, one per category, over {} dense features: the two text logits (out-of-fold, {} folds, so the stacker learns how much to trust them), rule evidence from rule set `{}` (counts of flag/hold/block hits per category), and comment shape (length, links, caps ratio, digits, punctuation, other symbols, language, empty-after-normalisation, mentions). Its coefficients are exported from the fitted linfa model into `model.json` and evaluated as a dot product at scoring time. Features: `{}`.",
        DENSE_DIM,
        cfg.folds,
        rules.name(),
        features::DENSE_NAMES.join("`, `")
    )?;
    writeln!(
        s,
        "4. **Policy**: thresholds below; `block`/`hold` rules force `reject`/`review`.\n"
    )?;
    writeln!(s, "## Data and label mapping\n")?;
    writeln!(
        s,
        "Read from `../shared/datasets/` at train time (never copied into this repository).\n"
    )?;
    writeln!(s, "| dataset | lang | role | rows | label column | mapping (value → positive categories; categories labelled) | weight |")?;
    writeln!(s, "|---|---|---|---|---|---|---|")?;
    for (d, n) in cfg.datasets.iter().zip(rows) {
        let map = d
            .positive
            .iter()
            .map(|(k, v)| {
                format!(
                    "`{k}`→{}",
                    if v.is_empty() {
                        "none".into()
                    } else {
                        v.join("+")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            s,
            "| {} (`{}`) | {} | {:?} | {} | `{}` | {}; labels {} | {} |",
            d.name,
            d.path.display(),
            d.lang,
            d.role,
            n,
            d.label_column,
            map,
            d.categories.join("+"),
            d.weight
        )?;
    }
    writeln!(s, "\nCaveats: all sets are keyword-sampled or balanced (30–90 % positive); real comment sections have a few percent abusive comments, so precision in production will be lower than the validation precision below at the same threshold. Labels mean different things across sets (offensive, hateful, racist); all are mapped to `toxicity`. Tweets dominate; there is no French spam data, so `spam` in French rests on English spam plus French negatives.\n")?;
    writeln!(s, "## Validation protocol\n")?;
    writeln!(s, "- **random 80/20**: stratified by dataset (seed {}); the whole pipeline (out-of-fold stacker included) is fitted on the 80 %.", cfg.seed)?;
    writeln!(s, "- **leave-dataset-out**: for every training dataset, fit on all the others and score it (whole datasets held out; each YouTube video is its own dataset, so this is also leave-one-video-out).")?;
    writeln!(s, "- **held-out / functional sets** (role `holdout`/`functional`) are never trained on and are scored by the final model through the real pipeline; functional suites report a pass rate per functionality (pass = the pipeline's verdict is `review` or `reject` (score thresholds and hold/block rules) iff the case is hateful).")?;
    writeln!(s, "- **Designs compared** on the same splits: `stacked` (shipped: sparse + linfa stacker), `sparse` (sparse text model alone), `tfidf` (baseline: scikit-learn-style TF-IDF unigrams + L2 logistic regression, reimplemented in Rust, trained on the same training part).\n")?;
    writeln!(s, "ROC AUC through linfa (`BinaryClassification::roc`) for `stacked`; rank AUC (Mann–Whitney) for the others; AP = average precision.\n")?;
    writeln!(s, "| protocol | set | lang | category | n | pos | AUC stacked | AUC sparse | AUC tfidf | AP stacked | AP tfidf |")?;
    writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|")?;
    for m in &r.metrics {
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            m.protocol,
            m.set,
            m.lang,
            m.category,
            m.n,
            m.positives,
            fmt_opt(m.auc_stacked),
            fmt_opt(m.auc_sparse),
            fmt_opt(m.auc_tfidf),
            fmt_opt(m.ap_stacked),
            fmt_opt(m.ap_tfidf)
        )?;
    }
    writeln!(s, "\n(For held-out and functional sets only the shipped model is scored; the sparse/tfidf columns repeat it or are not computed.)\n")?;
    if let Some(d) = &r.dense_linfa {
        writeln!(s, "Third design tried: {d}.\n")?;
    }
    writeln!(s, "## Thresholds\n")?;
    writeln!(s, "Chosen on the random-split validation predictions of the stacked model. `reject` = the lowest score from which validation precision is ≥ 0.95 **in each language** that has enough positives (the higher of the per-language values); `review` = the same at ≥ 0.80. Rule: reject only where validation precision ≥ 0.95.\n")?;
    for n in &r.threshold_notes {
        writeln!(s, "- {n}")?;
    }
    writeln!(
        s,
        "\n```json\n{}\n```\n",
        serde_json::to_string_pretty(&r.thresholds)?
    )?;
    writeln!(
        s,
        "Precision / recall / F1 at the shipped thresholds (random-split validation):\n"
    )?;
    writeln!(s, "| category | lang | threshold | n | precision | recall | F1 |\n|---|---|---|---|---|---|---|")?;
    for l in &r.at_thresholds {
        writeln!(s, "{l}")?;
    }
    if !r.functional.is_empty() {
        writeln!(s, "\n## Functional suites (never trained on)\n")?;
        writeln!(
            s,
            "| suite | functionality | gold | n | pass rate |\n|---|---|---|---|---|"
        )?;
        for f in &r.functional {
            writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} |",
                f.suite,
                f.functionality,
                if f.expected_hateful {
                    "hateful"
                } else {
                    "non-hateful"
                },
                f.n,
                f.pass_rate
            )?;
        }
    }
    writeln!(s, "\n## Files\n")?;
    writeln!(s, "| file | bytes | sha256 |\n|---|---|---|")?;
    for (f, sha) in files {
        let len = std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        writeln!(s, "| `{f}` | {len} | `{sha}` |")?;
    }
    writeln!(
        s,
        "\n`validation.json` holds every number above in machine-readable form.\n"
    )?;
    writeln!(s, "## Sources and licences\n")?;
    writeln!(s, "MLMA (MIT), FTR (MIT), OLID v1.0 (citation requested), Davidson et al. 2017 (MIT), Measuring Hate Speech / Kennedy et al. 2020 (CC BY 4.0), YouTube Spam Collection and SMS Spam Collection (CC BY 4.0, UCI), HateCheck and Multilingual HateCheck (CC BY 4.0, evaluation only). The default rule set was written for Vigie after reading LDNOOBW (CC BY 4.0) and french-badwords-list (MIT). Texts are third-party content and are not distributed with the model; the weights are hashed n-gram statistics.")?;
    Ok(s)
}
