//! Baselines the shipped model is compared with: the strong TF-IDF + logistic regression of
//! issue 15, and linfa alone on dense hashed features.

use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};

use crate::scoring::hash;
use crate::scoring::model::{sigmoid, CATEGORIES};

use super::data::Doc;
use super::metrics;
use super::sparse::shuffle;
use super::stacker::Ctx;

// ---------------------------------------------------------------- the strong TF-IDF baseline

/// Buckets per block: word n-grams hash into `[0, 2^BLOCK_BITS)`, character n-grams into
/// `[2^BLOCK_BITS, 2^(BLOCK_BITS+1))`.
pub const BLOCK_BITS: u32 = 20;
/// The regularisation grid searched by cross-validation (scikit-learn's `C`).
pub const C_GRID: [f32; 3] = [0.5, 2.0, 8.0];
/// Passes of dual coordinate descent at most (it stops earlier once the largest projected
/// gradient of a pass is under `DUAL_EPS`, liblinear's default stopping rule).
pub const MAX_PASSES: u32 = 8;
const DUAL_EPS: f64 = 0.1;

/// Issue 15's strong baseline: scikit-learn's `TfidfVectorizer(ngram_range=(1, 2))` (lower-case,
/// tokens `\w\w+`) beside `TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))`, both with
/// sublinear tf, smooth idf, `min_df=2` and L2 normalisation, hashed instead of a vocabulary;
/// logistic regression by AdaGrad with `l2 = 1/(C n)`. The per-comment counts are computed
/// once; idf depends on each fit's training rows.
pub struct StrongTfidf {
    /// Per comment: sorted distinct buckets and their sublinear tf (`1 + ln count`).
    idx: Vec<Vec<u32>>,
    tf: Vec<Vec<f32>>,
}

/// scikit-learn's default token pattern `(?u)\b\w\w+\b` on lower-cased text.
fn word_tokens(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.chars().nth(1).is_some())
}

fn bucket(block: u32, seed: u64, bytes: &[u8]) -> u32 {
    let mask = (1u64 << BLOCK_BITS) - 1;
    (block << BLOCK_BITS) | (hash::finish(hash::hash_bytes(seed, bytes)) & mask) as u32
}

/// The buckets of one comment, with repeats (word 1–2-grams, then `char_wb` 2–5-grams).
pub fn strong_terms(text: &str, out: &mut Vec<u32>) {
    let lower = text.to_lowercase();
    let mut prev: Option<&str> = None;
    let mut pair = String::new();
    for w in word_tokens(&lower) {
        out.push(bucket(0, 1, w.as_bytes()));
        if let Some(p) = prev {
            pair.clear();
            pair.push_str(p);
            pair.push(' ');
            pair.push_str(w);
            out.push(bucket(0, 2, pair.as_bytes()));
        }
        prev = Some(w);
    }
    // char_wb: each whitespace-separated word padded with one space on each side; a word
    // shorter than n yields itself once (scikit-learn's `_char_wb_ngrams`)
    let mut padded = String::new();
    let mut ends: Vec<usize> = Vec::new();
    for w in lower.split_whitespace() {
        padded.clear();
        padded.push(' ');
        padded.push_str(w);
        padded.push(' ');
        ends.clear();
        ends.extend(padded.char_indices().map(|(b, _)| b));
        ends.push(padded.len());
        let chars = ends.len() - 1;
        for n in 2..=5usize {
            if chars <= n {
                out.push(bucket(1, 3, padded.as_bytes()));
                break;
            }
            for s in 0..=chars - n {
                out.push(bucket(1, 3, &padded.as_bytes()[ends[s]..ends[s + n]]));
            }
        }
    }
}

impl StrongTfidf {
    /// Every comment's buckets and sublinear tf, on `threads` threads.
    pub fn extract(docs: &[Doc], threads: usize) -> StrongTfidf {
        let chunk = docs.len().div_ceil(threads.max(1)).max(1);
        let parts: Vec<StrongTfidf> = std::thread::scope(|sc| {
            let hs: Vec<_> = docs
                .chunks(chunk)
                .map(|part| {
                    sc.spawn(move || {
                        let mut terms = Vec::new();
                        let mut idx = Vec::with_capacity(part.len());
                        let mut tf = Vec::with_capacity(part.len());
                        for d in part {
                            terms.clear();
                            strong_terms(&d.text, &mut terms);
                            terms.sort_unstable();
                            let (mut ix, mut t) = (Vec::new(), Vec::new());
                            for run in terms.chunk_by(|a, b| a == b) {
                                ix.push(run[0]);
                                t.push(1.0 + (run.len() as f32).ln());
                            }
                            idx.push(ix);
                            tf.push(t);
                        }
                        StrongTfidf { idx, tf }
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("tf-idf extraction thread"))
                .collect()
        });
        let (mut idx, mut tf) = (Vec::new(), Vec::new());
        for p in parts {
            idx.extend(p.idx);
            tf.extend(p.tf);
        }
        StrongTfidf { idx, tf }
    }

    pub fn dim() -> usize {
        1 << (BLOCK_BITS + 1)
    }

    /// The TF-IDF matrix of every comment with the idf of `train` (smooth; a bucket in fewer
    /// than two training comments is dropped, as `min_df=2`), each block L2-normalised, its
    /// columns renumbered densely.
    fn matrix(&self, train: &[usize]) -> Csr {
        let mut df = vec![0u32; Self::dim()];
        for &i in train {
            for &k in &self.idx[i] {
                df[k as usize] += 1;
            }
        }
        let n = train.len() as f32;
        let mut column = vec![u32::MAX; Self::dim()];
        let mut idf = Vec::new();
        for (k, &d) in df.iter().enumerate() {
            if d >= 2 {
                column[k] = idf.len() as u32;
                idf.push(((1.0 + n) / (1.0 + d as f32)).ln() + 1.0);
            }
        }
        let mut m = Csr {
            start: Vec::with_capacity(self.idx.len() + 1),
            col: Vec::new(),
            val: Vec::new(),
            dim: idf.len(),
        };
        m.start.push(0);
        for (ix, tf) in self.idx.iter().zip(&self.tf) {
            let from = m.col.len();
            // buckets are sorted: the word block comes first
            let mut words_end = from;
            for (&k, &t) in ix.iter().zip(tf) {
                let j = column[k as usize];
                if j != u32::MAX {
                    m.col.push(j);
                    m.val.push(t * idf[j as usize]);
                    if k < 1 << BLOCK_BITS {
                        words_end = m.col.len();
                    }
                }
            }
            let (words, chars) = m.val[from..].split_at_mut(words_end - from);
            for part in [words, chars] {
                let norm = part.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    part.iter_mut().for_each(|x| *x /= norm);
                }
            }
            m.start.push(m.col.len());
        }
        m
    }

    /// Fit on `train` (one L2 logistic regression per category `k` with `fit[k]`, `C = c[k]`)
    /// and return the probabilities of `test` (0 for a category not fitted).
    pub fn fit_predict(
        &self,
        docs: &[Doc],
        train: &[usize],
        test: &[usize],
        c: [f32; 2],
        seed: u64,
        fit: [bool; 2],
    ) -> Vec<[f32; 2]> {
        let m = self.matrix(train);
        let mut out = vec![[0f32; 2]; test.len()];
        for k in (0..2).filter(|&k| fit[k]) {
            let rows: Vec<(usize, bool)> = train
                .iter()
                .filter(|&&i| docs[i].labels[k] >= 0)
                .map(|&i| (i, docs[i].labels[k] == 1))
                .collect();
            if rows.is_empty() {
                continue;
            }
            let (w, b) = dual_cd(&m, &rows, c[k] as f64, seed, MAX_PASSES);
            for (o, &i) in out.iter_mut().zip(test) {
                o[k] = sigmoid((b + m.dot(i, &w)) as f32);
            }
        }
        out
    }

    /// `C` per category by 3-fold cross-validation on `train` (the mean ROC AUC over the folds,
    /// the highest wins), the grid's fits on `threads` threads; and a note of the AUCs.
    pub fn choose_c(
        &self,
        docs: &[Doc],
        train: &[usize],
        seed: u64,
        threads: usize,
    ) -> ([f32; 2], String) {
        let mut ids = train.to_vec();
        shuffle(&mut ids, seed ^ 0x7f1d);
        let fold = |f: usize, held: bool| -> Vec<usize> {
            ids.iter()
                .enumerate()
                .filter(|(j, _)| (j % 3 == f) == held)
                .map(|(_, &i)| i)
                .collect()
        };
        let jobs: Vec<(usize, usize)> = (0..3)
            .flat_map(|f| (0..C_GRID.len()).map(move |g| (f, g)))
            .collect();
        let threads = threads.max(1);
        let aucs: Vec<(usize, [f32; 2])> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..threads)
                .map(|t| {
                    let (jobs, fold) = (&jobs, &fold);
                    sc.spawn(move || {
                        let mut out = Vec::new();
                        for &(f, g) in jobs.iter().skip(t).step_by(threads) {
                            let (tr, te) = (fold(f, false), fold(f, true));
                            let c = C_GRID[g];
                            let p = self.fit_predict(docs, &tr, &te, [c, c], seed, [true; 2]);
                            let mut auc = [0f32; 2];
                            for (k, a) in auc.iter_mut().enumerate() {
                                let (s, y): (Vec<f32>, Vec<bool>) = te
                                    .iter()
                                    .zip(&p)
                                    .filter(|(&i, _)| docs[i].labels[k] >= 0)
                                    .map(|(&i, p)| (p[k], docs[i].labels[k] == 1))
                                    .unzip();
                                *a = metrics::auc_rank(&s, &y).unwrap_or(0.0);
                            }
                            out.push((g, auc));
                        }
                        out
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().expect("C search thread"))
                .collect()
        });
        let mut mean = [[0f32; 2]; C_GRID.len()];
        for (g, auc) in aucs {
            for k in 0..2 {
                mean[g][k] += auc[k] / 3.0;
            }
        }
        let mut best = [0usize; 2];
        for (k, b) in best.iter_mut().enumerate() {
            for g in 0..C_GRID.len() {
                if mean[g][k] > mean[*b][k] {
                    *b = g;
                }
            }
        }
        let note = (0..2)
            .map(|k| {
                let grid: Vec<String> = C_GRID
                    .iter()
                    .zip(&mean)
                    .map(|(c, m)| format!("C = {c}: {:.4}", m[k]))
                    .collect();
                format!("{} {}", CATEGORIES[k], grid.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ");
        ([C_GRID[best[0]], C_GRID[best[1]]], note)
    }
}

/// L2-regularised logistic regression, `min ½‖w‖² + C Σ log(1 + exp(−y wᵀx))` with an
/// intercept feature of value 1 (regularised, as liblinear's), by dual coordinate descent (Yu,
/// Huang and Lin 2011; liblinear's `solve_l2r_lr_dual`): the same optimum as scikit-learn's
/// `LogisticRegression(solver="liblinear")`. Returns the weights over the buckets and the
/// intercept.
fn dual_cd(m: &Csr, rows: &[(usize, bool)], c: f64, seed: u64, passes: u32) -> (Vec<f64>, f64) {
    let n = rows.len();
    let mut w = vec![0f64; m.dim];
    let mut b = 0f64;
    // alpha[2r] is row r's dual variable, alpha[2r+1] = C - alpha[2r]
    let mut alpha = vec![0f64; 2 * n];
    let mut xx = Vec::with_capacity(n);
    for (r, &(i, y)) in rows.iter().enumerate() {
        let (_, val) = m.row(i);
        xx.push(1.0 + val.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>());
        alpha[2 * r] = (0.001 * c).min(1e-8);
        alpha[2 * r + 1] = c - alpha[2 * r];
        let d = if y { alpha[2 * r] } else { -alpha[2 * r] };
        m.add(i, d, &mut w);
        b += d;
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut inner_eps = 1e-2f64;
    for pass in 0..passes {
        shuffle(&mut order, seed.wrapping_add(pass as u64 * 7919));
        let mut gmax = 0f64;
        let mut newton_steps = 0usize;
        for &r in &order {
            let (i, y) = rows[r];
            let ys = if y { 1.0 } else { -1.0 };
            let (a, yz) = (xx[r], ys * (b + m.dot(i, &w)));
            let (mut i1, mut i2, mut sign) = (2 * r, 2 * r + 1, 1.0);
            if 0.5 * a * (alpha[i2] - alpha[i1]) + yz < 0.0 {
                (i1, i2, sign) = (2 * r + 1, 2 * r, -1.0);
            }
            let old = alpha[i1];
            let mut z = old;
            if c - z < 0.5 * c {
                z *= 0.1;
            }
            let mut gp = a * (z - old) + sign * yz + (z / (c - z)).ln();
            gmax = gmax.max(gp.abs());
            let mut inner = 0;
            while inner <= 100 && gp.abs() >= inner_eps {
                let gpp = a + c / (c - z) / z;
                let next = z - gp / gpp;
                z = if next <= 0.0 { z * 0.1 } else { next };
                gp = a * (z - old) + sign * yz + (z / (c - z)).ln();
                inner += 1;
                newton_steps += 1;
            }
            if inner > 0 {
                alpha[i1] = z;
                alpha[i2] = c - z;
                let d = sign * (z - old) * ys;
                m.add(i, d, &mut w);
                b += d;
            }
        }
        if gmax < DUAL_EPS {
            break;
        }
        if newton_steps <= n / 10 {
            inner_eps = (0.1 * inner_eps).max(1e-8);
        }
    }
    (w, b)
}

/// Rows of TF-IDF values (compressed sparse rows), one per comment.
struct Csr {
    start: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f32>,
    dim: usize,
}

impl Csr {
    #[inline]
    fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.start[i]..self.start[i + 1];
        (&self.col[r.clone()], &self.val[r])
    }

    /// Row `i` times `w`, summed in four lanes: one running sum waited on each addition's
    /// latency, and this product is most of the baseline's time (the sums differ from a serial
    /// one in the last bits only).
    #[inline]
    fn dot(&self, i: usize, w: &[f64]) -> f64 {
        let (col, val) = self.row(i);
        let mut lanes = [0f64; 4];
        let (mut cols, mut vals) = (col.chunks_exact(4), val.chunks_exact(4));
        for (c, v) in cols.by_ref().zip(vals.by_ref()) {
            for k in 0..4 {
                lanes[k] += w[c[k] as usize] * v[k] as f64;
            }
        }
        for (&j, &x) in cols.remainder().iter().zip(vals.remainder()) {
            lanes[0] += w[j as usize] * x as f64;
        }
        (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    }

    #[inline]
    fn add(&self, i: usize, d: f64, w: &mut [f64]) {
        let (col, val) = self.row(i);
        for (&j, &x) in col.iter().zip(val) {
            w[j as usize] += d * x as f64;
        }
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

/// linfa-logistic alone on small dense hashes (toxicity), trained on a sample of the random
/// split's training part and scored on its validation part: one line for the model card.
pub fn dense_linfa_comparison(cx: &Ctx<'_>, tr: &[usize], val: &[usize]) -> String {
    let docs = cx.docs;
    let t = Instant::now();
    let bits = DENSE_HASH_BITS;
    let dim = 1usize << bits;
    let mut trc: Vec<usize> = tr
        .iter()
        .copied()
        .filter(|&i| docs[i].labels[0] >= 0)
        .collect();
    shuffle(&mut trc, cx.cfg.seed + 5);
    trc.truncate(12_000);
    let mk = |ids: &[usize]| {
        let mut x = Array2::<f64>::zeros((ids.len(), dim).f());
        for (r, &i) in ids.iter().enumerate() {
            for (k, v) in dense_hashed(&cx.prep.idx[i], bits) {
                x[[r, k]] += v as f64;
            }
        }
        x
    };
    let y: Array1<bool> = trc.iter().map(|&i| docs[i].labels[0] == 1).collect();
    let fitted = LogisticRegression::default()
        .alpha(1e-2)
        .max_iterations(100)
        .fit(&Dataset::new(mk(&trc), y));
    let m = match fitted {
        Ok(m) => m,
        Err(e) => return format!("linfa-only dense fit failed: {e}"),
    };
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
    format!(
        "linfa-logistic alone on 2^{bits} dense hashed features (same word + char n-grams folded), trained on a {}-row sample of the random-split training part (memory: dense matrix), toxicity: {}; fit took {:.1} s",
        trc.len(),
        parts.join(", "),
        t.elapsed().as_secs_f32()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_scikit_learns_word_bigrams_and_char_wb_ngrams() {
        let mut got = Vec::new();
        strong_terms("Ab  cd-x", &mut got);
        // words (\w\w+): "ab", "cd" ("x" is too short); one bigram
        let mut want = vec![
            bucket(0, 1, b"ab"),
            bucket(0, 1, b"cd"),
            bucket(0, 2, b"ab cd"),
        ];
        // char_wb: " ab " gives 2-grams, 3-grams and itself once; " cd-x " every 2–5-gram
        for g in [" a", "ab", "b ", " ab", "ab ", " ab "] {
            want.push(bucket(1, 3, g.as_bytes()));
        }
        for g in [
            " c", "cd", "d-", "-x", "x ", " cd", "cd-", "d-x", "-x ", " cd-", "cd-x", "d-x ",
            " cd-x", "cd-x ",
        ] {
            want.push(bucket(1, 3, g.as_bytes()));
        }
        assert_eq!(got, want);
    }

    /// At the optimum of `½‖w‖² + C Σ log(1 + exp(−y (wᵀx + b)))` (the intercept regularised
    /// like a weight), the primal gradient `w − C Σ σ(−y z) y x` is zero.
    #[test]
    fn dual_coordinate_descent_reaches_the_primal_optimum() {
        let mut s = 7u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 1000) as f32 / 1000.0
        };
        let n = 300;
        let mut m = Csr {
            start: vec![0],
            col: Vec::new(),
            val: Vec::new(),
            dim: 6,
        };
        let mut rows = Vec::new();
        for i in 0..n {
            for j in 0..6u32 {
                if next() < 0.5 {
                    m.col.push(j);
                    m.val.push(next());
                }
            }
            m.start.push(m.col.len());
            // noisy labels: feature 0 and 1 pull up, 2 down
            let (c, v) = m.row(i);
            let z: f32 = c
                .iter()
                .zip(v)
                .map(|(&j, &x)| [2.0, 1.0, -2.0, 0.0, 0.0, 0.0][j as usize] * x)
                .sum();
            rows.push((i, z + next() - 0.8 > 0.0));
        }
        let c = 2.0;
        let objective = |w: &[f64], b: f64| {
            let reg = 0.5 * (w.iter().map(|v| v * v).sum::<f64>() + b * b);
            reg + c * rows
                .iter()
                .map(|&(i, y)| {
                    let ys = if y { 1.0 } else { -1.0 };
                    (1.0 + (-ys * (b + m.dot(i, w))).exp()).ln()
                })
                .sum::<f64>()
        };
        let (w, b) = dual_cd(&m, &rows, c, 1, 200);
        let mut grad = [0f64; 7];
        grad[..6].copy_from_slice(&w);
        grad[6] = b;
        for &(i, y) in &rows {
            let ys = if y { 1.0 } else { -1.0 };
            let z = b + m.dot(i, &w);
            let g = c * ys / (1.0 + (ys * z).exp());
            let (col, val) = m.row(i);
            for (&j, &x) in col.iter().zip(val) {
                grad[j as usize] -= g * x as f64;
            }
            grad[6] -= g;
        }
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        // liblinear's stopping rule (dual projected gradient under 0.1) leaves a primal gradient
        // of that order, against terms of up to C = 2 per comment over 300 comments
        assert!(norm < 0.2, "primal gradient {grad:?}");
        // the passes `vigie train` runs get within 0.1 % of the optimum's objective
        let (w8, b8) = dual_cd(&m, &rows, c, 1, MAX_PASSES);
        let (best, capped) = (objective(&w, b), objective(&w8, b8));
        assert!(
            capped >= best - 1e-9 && capped < best * 1.001,
            "{capped} vs {best}"
        );
        assert!(w[0] > 0.5 && w[2] < -0.5, "{w:?}");
    }
}
