//! Fitting a site model: the base's text weights warm-started on the site's rows (and the
//! shared rows of `--config`), then per category the site layer over the dense features.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::{Method, SiteRow, FOLDS, MIN_CLASS_FIT, SEED, SITE_WEIGHT, WARM_PRIOR_L2};
use crate::scoring::features::SparseFeatures;
use crate::scoring::model::{Model, CATEGORIES};
use crate::scoring::RuleSet;
use crate::training::cli::TrainArgs;
use crate::training::data::{prepare, Doc, Prepared};
use crate::training::sparse::{
    shuffle, train_sparse_from, Rows, SparseLr, SparseParams, WarmStart,
};
use crate::training::stacker::fit_layer;

/// The base model's trained text weights as floats, interleaved `[toxicity, spam]` per bucket.
fn dequantise(m: &Model) -> Vec<f32> {
    let book = &m.weights.codebook;
    m.weights
        .codes
        .iter()
        .enumerate()
        .map(|(k, &code)| book[(k % 2) * 256 + code as usize])
        .collect()
}

/// Everything a fit needs: the base model, the rows (site rows first, then shared rows with
/// `--config`) and their features.
pub(super) struct Fitter<'a> {
    base: &'a Model,
    base_w: Vec<f32>,
    prep: Prepared,
    labels: Vec<[i8; 2]>,
    weights: Vec<f32>,
    /// Indices of the shared rows (`--config`), added to every warm start.
    pub(super) shared: Vec<usize>,
    pub(super) tuning: Tuning,
}

/// The knobs of `--warm-lr`, `--warm-g0`, `--warm-epochs`, `--layer-alpha`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tuning {
    pub warm_lr: f32,
    pub warm_g0: f32,
    pub warm_epochs: u32,
    pub layer_alpha: f64,
}

impl<'a> Fitter<'a> {
    /// The fitter of `base` on the site's `rows` (and, with `--config`, the shared training
    /// rows, each site row weighing [`SITE_WEIGHT`] times a shared one), features prepared.
    pub(super) fn new(
        base: &'a Model,
        rows: &[SiteRow],
        args: &TrainArgs,
        rules: &RuleSet,
    ) -> Result<Fitter<'a>> {
        let mut docs: Vec<Doc> = rows
            .iter()
            .map(|r| Doc {
                text: r.text.clone(),
                lang: r.lang,
                ds: 0,
                labels: r.labels,
                functionality: None,
                spans: Vec::new(),
            })
            .collect();
        let mut weights = vec![1.0f32; docs.len()];
        let mut shared = Vec::new();
        if let Some(config) = &args.config {
            for (d, w) in shared_docs(config)? {
                shared.push(docs.len());
                docs.push(d);
                weights.push(w / SITE_WEIGHT);
            }
        }
        let prep = prepare(&docs, &base.meta.features, rules);
        Ok(Fitter {
            base,
            base_w: dequantise(base),
            labels: docs.iter().map(|d| d.labels).collect(),
            prep,
            weights,
            shared,
            tuning: Tuning {
                warm_lr: args.warm_lr,
                warm_g0: args.warm_g0,
                warm_epochs: args.warm_epochs,
                layer_alpha: args.layer_alpha,
            },
        })
    }
}

impl Fitter<'_> {
    /// The rows' sparse features, as the sparse trainer reads them.
    fn rows(&self) -> Rows<'_> {
        Rows {
            idx: &self.prep.idx,
            val: None,
        }
    }

    /// The base model's text logits of row `i`.
    fn base_margins(&self, i: usize) -> [f32; 2] {
        let sf = SparseFeatures {
            idx: self.prep.idx[i].clone(),
            tok_start: Vec::new(),
            ..SparseFeatures::default()
        };
        self.base.margins(&sf, None)
    }

    /// The base's text weights warm-started on the site rows `ids` and every shared row.
    fn warm(&self, ids: &[usize], seed_off: u64) -> SparseLr {
        let start = WarmStart {
            w: &self.base_w,
            bias: self.base.meta.sparse_bias,
            g0: self.tuning.warm_g0,
            prior_l2: WARM_PRIOR_L2,
        };
        let mut all = ids.to_vec();
        all.extend_from_slice(&self.shared);
        let params = SparseParams {
            dim: 1 << self.base.meta.features.hash_bits,
            epochs: self.tuning.warm_epochs,
            lr: self.tuning.warm_lr,
            l2: 0.0,
            seed: SEED.wrapping_add(seed_off),
            nonpositive: self.base.meta.features.neutral_buckets(),
            groups: Vec::new(),
        };
        train_sparse_from(
            &self.rows(),
            &self.labels,
            &self.weights,
            &all,
            &params,
            Some(&start),
        )
    }

    /// Out-of-fold text logits of the warm-started weights for the site rows `ids` (each
    /// fold's rows scored by the weights warm-started on the other folds).
    fn out_of_fold_margins(&self, ids: &[usize]) -> Vec<[f32; 2]> {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        shuffle(&mut order, SEED);
        let mut oof = vec![[0f32; 2]; ids.len()];
        for f in 0..FOLDS {
            let train: Vec<usize> = order
                .iter()
                .enumerate()
                .filter(|(j, _)| j % FOLDS != f)
                .map(|(_, &k)| ids[k])
                .collect();
            let m = self.warm(&train, f as u64);
            for (_, &k) in order.iter().enumerate().filter(|(j, _)| j % FOLDS == f) {
                oof[k] = m.margins(&self.rows(), ids[k]);
            }
        }
        oof
    }

    /// A site model fitted on the site rows `ids`.
    pub(super) fn fit(&self, method: Method, ids: &[usize], version: &str) -> Result<Model> {
        let (margins, sparse): (Vec<[f32; 2]>, Option<SparseLr>) = match method {
            Method::Layer => (ids.iter().map(|&i| self.base_margins(i)).collect(), None),
            Method::Warm => (self.out_of_fold_margins(ids), Some(self.warm(ids, 99))),
        };
        let mut stackers = Vec::with_capacity(CATEGORIES.len());
        for c in 0..CATEGORIES.len() {
            let mut x = Vec::new();
            let mut y = Vec::new();
            for (k, &i) in ids.iter().enumerate() {
                if self.labels[i][c] < 0 {
                    continue;
                }
                let mut d = self.prep.dense[i];
                d[0] = margins[k][0];
                d[1] = margins[k][1];
                x.push(d);
                y.push(self.labels[i][c] == 1);
            }
            let pos = y.iter().filter(|&&v| v).count();
            let base = &self.base.meta.stackers[c];
            stackers.push(if pos >= MIN_CLASS_FIT && y.len() - pos >= MIN_CLASS_FIT {
                fit_layer(base, &x, &y, self.tuning.layer_alpha)?
            } else {
                base.clone()
            });
        }
        let mut meta = self.base.meta.clone();
        meta.version = version.to_string();
        meta.created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        meta.stackers = stackers;
        meta.weights_sha256 = String::new();
        Ok(match sparse {
            Some(s) => {
                meta.sparse_bias = s.bias;
                Model::from_f32(meta, &s.w)
            }
            None => Model {
                meta,
                weights: self.base.weights.clone(),
            },
        })
    }
}

/// The shared training rows of `--config` (role `train`), with their datasets' weights.
fn shared_docs(config: &Path) -> Result<Vec<(Doc, f32)>> {
    let cfg = crate::training::load_config(config)?;
    let base = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (docs, _) = crate::training::load_all(&cfg, base)?;
    Ok(docs
        .into_iter()
        .filter(|d| cfg.datasets[d.ds].role == crate::training::Role::Train)
        .map(|d| {
            let w = cfg.datasets[d.ds].weight;
            (d, w)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::model::tiny_model;

    #[test]
    fn dequantised_weights_give_the_models_own_text_logits() {
        let m = tiny_model();
        let w = dequantise(&m);
        let lr = SparseLr {
            w,
            bias: m.meta.sparse_bias,
        };
        let idx = vec![vec![1u32, 7, 300, 1023], vec![], vec![5, 5, 9]];
        let rows = Rows {
            idx: &idx,
            val: None,
        };
        for (i, ix) in idx.iter().enumerate() {
            let sf = SparseFeatures {
                idx: ix.clone(),
                tok_start: Vec::new(),
                ..SparseFeatures::default()
            };
            let (a, b) = (lr.margins(&rows, i), m.margins(&sf, None));
            assert!((a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5);
        }
    }
}
