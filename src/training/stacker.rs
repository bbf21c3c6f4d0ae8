//! The linfa-logistic stacker over dense features, and fitting the whole model (sparse text
//! model + out-of-fold stacker) on a set of rows.

use anyhow::{bail, Context, Result};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};

use crate::scoring::features::DENSE_DIM;
use crate::scoring::hash::FxHashMap;
use crate::scoring::model::{sigmoid, Stacker};

use super::config::{Role, TrainConfig};
use super::data::{Doc, Prepared};
use super::sparse::{shuffle, train_sparse, Rows, Slots, SparseLr, SparseParams};

/// Fit a linfa-logistic regression on standardised dense features; export its coefficients.
pub fn fit_stacker(x: &[[f32; DENSE_DIM]], y: &[bool], alpha: f64) -> Result<Stacker> {
    fit_standardised(x.as_flattened(), DENSE_DIM, y, alpha, None)
}

/// A linfa-logistic regression on rows of `dim` features (`x` row after row), each feature
/// standardised, oriented towards `true`: a [`Stacker`] of width `dim`. `warm`, a stacker of
/// the same width fitted on similar rows, is where the solver starts instead of zero (the
/// optimum is the same, within the solver's tolerance; it is reached in fewer iterations).
pub fn fit_standardised(
    x: &[f32],
    dim: usize,
    y: &[bool],
    alpha: f64,
    warm: Option<&Stacker>,
) -> Result<Stacker> {
    let n = y.len();
    if n == 0 || x.len() != n * dim || y.iter().all(|&v| v) || y.iter().all(|&v| !v) {
        bail!("stacker needs both classes");
    }
    let mut mean = vec![0f64; dim];
    let mut var = vec![0f64; dim];
    for r in x.chunks_exact(dim) {
        for j in 0..dim {
            mean[j] += r[j] as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    for r in x.chunks_exact(dim) {
        for j in 0..dim {
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
    let mut xs = Array2::<f64>::zeros((n, dim).f());
    for (i, r) in x.chunks_exact(dim).enumerate() {
        for j in 0..dim {
            xs[[i, j]] = (r[j] as f64 - mean[j]) / std[j];
        }
    }
    let ys: Array1<bool> = y.iter().copied().collect();
    let ds = Dataset::new(xs, ys);
    let mut lr = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(300);
    if let Some(w) = warm.filter(|w| w.coef.len() == dim) {
        // linfa's positive class is the more frequent label (the first seen on a tie)
        let trues = y.iter().filter(|&&v| v).count();
        let true_is_pos = trues * 2 > n || (trues * 2 == n && y[0]);
        let sign = if true_is_pos { 1.0 } else { -1.0 };
        let init: Array1<f64> = w
            .coef
            .iter()
            .chain(std::iter::once(&w.intercept))
            .map(|&c| sign * f64::from(c))
            .collect();
        lr = lr.initial_params(init);
    }
    let fitted = lr.fit(&ds).context("linfa-logistic stacker fit")?;
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
    /// The comments' features as the sparse model trains on them.
    pub slots: Slots,
}

impl Ctx<'_> {
    fn params(&self, seed_off: u64) -> SparseParams {
        SparseParams {
            dim: 1 << self.cfg.features.hash_bits,
            epochs: self.cfg.epochs,
            lr: self.cfg.learning_rate,
            l2: self.cfg.l2,
            seed: self.cfg.seed.wrapping_add(seed_off),
            nonpositive: self.slots.to_slots(&self.cfg.features.neutral_buckets()),
            groups: if self.cfg.dataset_intercepts {
                self.docs.iter().map(|d| d.ds as u32).collect()
            } else {
                Vec::new()
            },
        }
    }

    fn rows(&self) -> Rows<'_> {
        Rows {
            idx: &self.slots.idx,
            val: None,
        }
    }

    fn labels(&self) -> Vec<[i8; 2]> {
        self.docs.iter().map(|d| d.labels).collect()
    }

    /// Sparse model on all `ids`, stacker on out-of-fold text logits; the stackers' solver
    /// starts from `warm`'s when given ([`fit_standardised`]).
    pub fn fit(
        &self,
        ids: &[usize],
        warm: Option<&[Stacker; 2]>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Fitted> {
        let labels = self.labels();
        let rows = self.rows();
        let k = self.cfg.folds.max(2);
        let mut shuffled = ids.to_vec();
        shuffle(&mut shuffled, self.cfg.seed ^ 0xabcdef);
        let mut oof: FxHashMap<usize, [f32; 2]> = FxHashMap::default();
        let mut fold_models = Vec::new();
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
            if self.cfg.average_fold_models {
                fold_models.push(m);
            }
            tick();
        }
        let mut sparse = train_sparse(&rows, &labels, &self.weights, ids, &self.params(99));
        sparse.average_with(&fold_models);
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
                fit_standardised(
                    x.as_flattened(),
                    DENSE_DIM,
                    &y,
                    self.cfg.stacker_alpha,
                    warm.map(|w| &w[c]),
                )
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

impl Ctx<'_> {
    /// Rows of the datasets with role `train`.
    pub fn train_ids(&self) -> Vec<usize> {
        (0..self.docs.len())
            .filter(|&i| self.cfg.datasets[self.docs[i].ds].role == Role::Train)
            .collect()
    }

    /// Indices of the datasets with role `train`.
    pub fn train_datasets(&self) -> Vec<usize> {
        (0..self.cfg.datasets.len())
            .filter(|&k| self.cfg.datasets[k].role == Role::Train)
            .collect()
    }

    /// The training datasets leave-dataset-out validation holds out: those with a category
    /// that has both positives and negatives. A dataset of one class (the benign news
    /// comments we wrote) has no ROC AUC to report, so fitting without it would measure
    /// nothing.
    pub fn lodo_datasets(&self) -> Vec<usize> {
        let mut counts = vec![[[0usize; 2]; 2]; self.cfg.datasets.len()];
        for d in self.docs {
            for (c, &l) in d.labels.iter().enumerate() {
                if l >= 0 {
                    counts[d.ds][c][(l == 1) as usize] += 1;
                }
            }
        }
        self.train_datasets()
            .into_iter()
            .filter(|&k| counts[k].iter().any(|n| n[0] > 0 && n[1] > 0))
            .collect()
    }
}

// ---------------------------------------------------------------- site layer

/// A site layer: a linfa-logistic regression over a trained stacker's logit and the same dense
/// features, fitted on a site's rows, folded back into one [`Stacker`] (the layer is linear in
/// the features, so the model format does not change).
pub fn fit_layer(
    base: &Stacker,
    x: &[[f32; DENSE_DIM]],
    y: &[bool],
    alpha: f64,
) -> Result<Stacker> {
    const D: usize = DENSE_DIM + 1;
    let mut flat = Vec::with_capacity(x.len() * D);
    for r in x {
        flat.push(base.logit(r));
        flat.extend_from_slice(r);
    }
    let Stacker {
        mean,
        std,
        coef,
        intercept,
    } = fit_standardised(&flat, D, y, alpha, None)?;
    // z = intercept + coef0 (zb - mean0) / std0 + Σ coef[j+1] (x_j - mean[j+1]) / std[j+1]
    // with zb = base.intercept + Σ base.coef_j (x_j - base.mean_j) / base.std_j
    let a = coef[0] / std[0];
    let mut folded = Stacker {
        mean: mean[1..].to_vec(),
        std: std[1..].to_vec(),
        coef: vec![0.0; DENSE_DIM],
        intercept: intercept - coef[0] * mean[0] / std[0] + a * base.intercept,
    };
    for j in 0..DENSE_DIM {
        let (m, s) = (mean[j + 1], std[j + 1]);
        folded.coef[j] = coef[j + 1] + a * base.coef[j] * s / base.std[j];
        folded.intercept += a * base.coef[j] * (m - base.mean[j]) / base.std[j];
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of random-looking features whose label follows features 0 and 7.
    fn rows(n: usize) -> (Vec<[f32; DENSE_DIM]>, Vec<bool>) {
        let mut s = 0x1234_5678_u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 10_000) as f32 / 5_000.0 - 1.0
        };
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let mut r = [0f32; DENSE_DIM];
            r.iter_mut().for_each(|v| *v = next() * 3.0);
            y.push(r[0] - 0.5 * r[7] + next() > 0.0);
            x.push(r);
        }
        (x, y)
    }

    #[test]
    fn a_site_layer_folds_into_one_stacker_that_predicts_what_the_layer_predicts() {
        let (x, y) = rows(300);
        let base = fit_stacker(&x[..150], &y[..150], 0.01).unwrap();
        let layer = fit_layer(&base, &x[150..], &y[150..], 1.0).unwrap();
        // the layer's own prediction, recomputed from an unfolded fit
        let mut flat = Vec::new();
        for r in &x[150..] {
            flat.push(base.logit(r));
            flat.extend_from_slice(r);
        }
        let Stacker {
            mean: m,
            std: s,
            coef: c,
            intercept: b,
        } = fit_standardised(&flat, DENSE_DIM + 1, &y[150..], 1.0, None).unwrap();
        for (r, u) in x[150..].iter().zip(flat.chunks_exact(DENSE_DIM + 1)) {
            let z: f32 = b
                + (0..=DENSE_DIM)
                    .map(|j| c[j] * (u[j] - m[j]) / s[j])
                    .sum::<f32>();
            assert!(
                (layer.logit(r) - z).abs() < 1e-3,
                "{} vs {z}",
                layer.logit(r)
            );
        }
        // and it learnt the direction of the labels
        assert!(
            layer.coef[0] > 0.0 && layer.coef[7] < 0.0,
            "{:?}",
            layer.coef
        );
    }

    #[test]
    fn a_warm_started_stacker_reaches_the_cold_started_ones_optimum() {
        let (x, y) = rows(2_000);
        // a neighbour's stacker as the start, in both orientations of linfa's classes
        let near = fit_stacker(&x[..1_500], &y[..1_500], 0.01).unwrap();
        for flip in [false, true] {
            let y: Vec<bool> = y.iter().map(|&v| v != flip).collect();
            let start = if flip {
                Stacker {
                    coef: near.coef.iter().map(|c| -c).collect(),
                    intercept: -near.intercept,
                    ..near.clone()
                }
            } else {
                near.clone()
            };
            let cold = fit_standardised(x[500..].as_flattened(), DENSE_DIM, &y[500..], 0.01, None)
                .unwrap();
            let warm = fit_standardised(
                x[500..].as_flattened(),
                DENSE_DIM,
                &y[500..],
                0.01,
                Some(&start),
            )
            .unwrap();
            for (a, b) in cold.coef.iter().zip(&warm.coef) {
                assert!((a - b).abs() < 1e-3, "{:?} vs {:?}", cold.coef, warm.coef);
            }
            assert!((cold.intercept - warm.intercept).abs() < 1e-3);
        }
    }
}
