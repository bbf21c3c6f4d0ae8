//! Vigie's sparse text model: a two-category logistic regression over hashed features, trained
//! by AdaGrad (linfa has no sparse classifier).

use crate::scoring::model::sigmoid;

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
    /// Buckets whose toxicity weight (category 0) is kept at or below zero after every step:
    /// the neutral-term feature ([`crate::scoring::features::FeatureConfig::neutral_buckets`]).
    pub nonpositive: Vec<u32>,
}

/// Interleaved weights `[c0, c1]` per feature and the two intercepts.
pub struct SparseLr {
    pub w: Vec<f32>,
    pub bias: [f32; 2],
}

pub fn shuffle(v: &mut [usize], seed: u64) {
    let mut s = seed ^ 0x2545_f491_4f6c_dd1d;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let j = (s % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Where a warm start begins: trained weights and intercepts, an AdaGrad history that damps the
/// first steps (as if each weight had already seen gradients summing to `g0` in square), and an
/// L2 pull of strength `prior_l2` towards the starting weights instead of towards zero.
pub struct WarmStart<'a> {
    pub w: &'a [f32],
    pub bias: [f32; 2],
    pub g0: f32,
    pub prior_l2: f32,
}

pub fn train_sparse(
    rows: &Rows<'_>,
    labels: &[[i8; 2]],
    weights: &[f32],
    ids: &[usize],
    p: &SparseParams,
) -> SparseLr {
    train_sparse_from(rows, labels, weights, ids, p, None)
}

/// [`train_sparse`] from zero, or from a trained model (`warm`).
pub fn train_sparse_from(
    rows: &Rows<'_>,
    labels: &[[i8; 2]],
    weights: &[f32],
    ids: &[usize],
    p: &SparseParams,
    warm: Option<&WarmStart<'_>>,
) -> SparseLr {
    if let Some(ws) = warm {
        let mut m = SparseLr {
            w: ws.w.to_vec(),
            bias: ws.bias,
        };
        sgd(rows, labels, weights, ids, p, &mut m, ws.g0, Some(ws));
        return m;
    }
    let mut bias = [0f32; 2];
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
    let mut m = SparseLr {
        w: vec![0f32; 2 * p.dim],
        bias,
    };
    sgd(rows, labels, weights, ids, p, &mut m, 1e-6, None);
    m
}

/// AdaGrad epochs over `ids`, updating `m`; every squared-gradient sum starts at `g0`.
#[allow(clippy::too_many_arguments)]
fn sgd(
    rows: &Rows<'_>,
    labels: &[[i8; 2]],
    weights: &[f32],
    ids: &[usize],
    p: &SparseParams,
    m: &mut SparseLr,
    g0: f32,
    warm: Option<&WarmStart<'_>>,
) {
    let SparseLr { w, bias } = m;
    let mut gb = [g0; 2];
    // each bucket's two weights and two squared-gradient sums side by side: one cache line
    // read per feature instead of two
    let mut wg: Vec<[f32; 4]> = w.chunks_exact(2).map(|w| [w[0], w[1], g0, g0]).collect();
    let mut order = ids.to_vec();
    for ep in 0..p.epochs {
        shuffle(&mut order, p.seed.wrapping_add(ep as u64 * 7919));
        for &i in &order {
            let (ix, val, scale) = rows.row(i);
            let lab = labels[i];
            let sw = weights[i];
            let mut z = *bias;
            match val {
                None => {
                    for &k in ix {
                        let e = &wg[k as usize];
                        z[0] += e[0] * scale;
                        z[1] += e[1] * scale;
                    }
                }
                Some(v) => {
                    for (&k, &x) in ix.iter().zip(v) {
                        let e = &wg[k as usize];
                        z[0] += e[0] * x;
                        z[1] += e[1] * x;
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
                let e = &mut wg[k as usize];
                for c in 0..2 {
                    if lab[c] < 0 {
                        continue;
                    }
                    let mut gr = err[c] * x + p.l2 * e[c];
                    if let Some(ws) = warm {
                        gr += ws.prior_l2 * (e[c] - ws.w[2 * k as usize + c]);
                    }
                    e[2 + c] += gr * gr;
                    e[c] -= p.lr * gr / e[2 + c].sqrt();
                }
            }
            for &b in &p.nonpositive {
                let e = &mut wg[b as usize];
                e[0] = e[0].min(0.0);
            }
        }
    }
    for (w, e) in w.chunks_exact_mut(2).zip(&wg) {
        w.copy_from_slice(&e[..2]);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonpositive_bucket_never_gains_toxicity_weight_and_keeps_its_spam_weight() {
        // bucket 1 is in every toxic and spam row, bucket 2 only in the toxic ones, bucket 3 in
        // the others
        let idx: Vec<Vec<u32>> = (0..200)
            .map(|i| if i % 2 == 0 { vec![1, 2] } else { vec![3] })
            .collect();
        let labels: Vec<[i8; 2]> = (0..200)
            .map(|i| if i % 2 == 0 { [1, 1] } else { [0, 0] })
            .collect();
        let ids: Vec<usize> = (0..200).collect();
        let rows = Rows {
            idx: &idx,
            val: None,
        };
        let params = |nonpositive| SparseParams {
            dim: 8,
            epochs: 5,
            lr: 0.5,
            l2: 0.0,
            seed: 1,
            nonpositive,
        };
        let free = train_sparse(&rows, &labels, &[1.0; 200], &ids, &params(Vec::new()));
        let clamped = train_sparse(&rows, &labels, &[1.0; 200], &ids, &params(vec![1]));
        assert!(
            free.w[2] > 0.5,
            "unconstrained, bucket 1 is evidence: {}",
            free.w[2]
        );
        assert!(clamped.w[2] <= 0.0, "{}", clamped.w[2]);
        assert!(clamped.w[4] > free.w[4], "the evidence moves to bucket 2");
        assert!(clamped.w[3] > 0.5, "spam weight is free: {}", clamped.w[3]);
        // the toxic rows are still told from the others
        let m = |i| clamped.margins(&rows, i)[0];
        assert!(m(0) > 0.0 && m(1) < 0.0);
    }
}
