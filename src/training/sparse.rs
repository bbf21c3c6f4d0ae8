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

/// The sparse model's buckets renumbered by falling frequency ("slots"): the hashed n-grams
/// most comments share sit together in memory and stay in cache, where the hash spread them
/// one to a cache line. Training on slots does the same arithmetic in the same order as on
/// buckets (each row keeps its order), so the weights are the same bit for bit, only found
/// sooner.
pub struct Slots {
    /// Each comment's features, as slots.
    pub idx: Vec<Vec<u32>>,
    /// slot -> bucket
    bucket: Vec<u32>,
    /// bucket -> slot
    slot: Vec<u32>,
}

impl Slots {
    /// Slots for rows of buckets in `[0, dim)`, numbered by how often the rows hold each bucket
    /// (ties in bucket order).
    pub fn new(rows: &[Vec<u32>], dim: usize) -> Slots {
        let mut count = vec![0u32; dim];
        for r in rows {
            for &b in r {
                count[b as usize] += 1;
            }
        }
        let mut bucket: Vec<u32> = (0..dim as u32).collect();
        bucket.sort_by_key(|&b| std::cmp::Reverse(count[b as usize]));
        let mut slot = vec![0u32; dim];
        for (s, &b) in bucket.iter().enumerate() {
            slot[b as usize] = s as u32;
        }
        let idx = rows.iter().map(|r| slot_of(&slot, r)).collect();
        Slots { idx, bucket, slot }
    }

    pub fn to_slots(&self, buckets: &[u32]) -> Vec<u32> {
        slot_of(&self.slot, buckets)
    }

    /// Weights trained on slots (`[c0, c1]` per slot), back in bucket order.
    pub fn bucket_weights(&self, w: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; w.len()];
        for (pair, &b) in w.chunks_exact(2).zip(&self.bucket) {
            out[2 * b as usize..2 * b as usize + 2].copy_from_slice(pair);
        }
        out
    }
}

fn slot_of(slot: &[u32], buckets: &[u32]) -> Vec<u32> {
    buckets.iter().map(|&b| slot[b as usize]).collect()
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
    /// Each row's group (its dataset) when every group trains an intercept of its own (empty:
    /// one intercept for all rows); the model keeps their mean over the training rows.
    pub groups: Vec<u32>,
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
        sgd(rows, labels, weights, ids, p, &mut m, ws.g0, Some(ws), None);
        return m;
    }
    let mut m = SparseLr {
        w: vec![0f32; 2 * p.dim],
        bias: log_odds(labels, ids.iter().copied()),
    };
    if p.groups.is_empty() {
        sgd(rows, labels, weights, ids, p, &mut m, 1e-6, None, None);
        return m;
    }
    let n_groups = ids
        .iter()
        .map(|&i| p.groups[i] as usize + 1)
        .max()
        .unwrap_or(0);
    let mut intercepts: Vec<[f32; 2]> = (0..n_groups)
        .map(|g| {
            let members = ids.iter().copied().filter(|&i| p.groups[i] as usize == g);
            log_odds(labels, members)
        })
        .collect();
    sgd(
        rows,
        labels,
        weights,
        ids,
        p,
        &mut m,
        1e-6,
        None,
        Some(&mut intercepts),
    );
    // the shipped intercept: the groups' mean over the rows each category labels
    for c in 0..2 {
        let (mut sum, mut n) = (0f64, 0f64);
        for &i in ids {
            if labels[i][c] >= 0 {
                sum += f64::from(intercepts[p.groups[i] as usize][c]);
                n += 1.0;
            }
        }
        if n > 0.0 {
            m.bias[c] = (sum / n) as f32;
        }
    }
    m
}

/// The smoothed log-odds of each category over `rows` (0 where none is labelled).
fn log_odds(labels: &[[i8; 2]], rows: impl Iterator<Item = usize>) -> [f32; 2] {
    let (mut pos, mut n) = ([0f32; 2], [0f32; 2]);
    for i in rows {
        for c in 0..2 {
            if labels[i][c] >= 0 {
                n[c] += 1.0;
                pos[c] += labels[i][c] as f32;
            }
        }
    }
    let mut b = [0f32; 2];
    for c in 0..2 {
        if n[c] > 0.0 {
            let r = ((pos[c] + 1.0) / (n[c] + 2.0)).clamp(1e-3, 1.0 - 1e-3);
            b[c] = (r / (1.0 - r)).ln();
        }
    }
    b
}

/// AdaGrad epochs over `ids`, updating `m`; every squared-gradient sum starts at `g0`. With
/// `intercepts` (one per group of `p.groups`), each row's margin starts from its group's
/// intercept, trained in place of `m.bias`.
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
    intercepts: Option<&mut Vec<[f32; 2]>>,
) {
    let SparseLr { w, bias } = m;
    // each intercept with its two squared-gradient sums
    let mut icpt: Vec<[f32; 4]> = match &intercepts {
        Some(v) => v.iter().map(|b| [b[0], b[1], g0, g0]).collect(),
        None => vec![[bias[0], bias[1], g0, g0]],
    };
    let grouped = intercepts.is_some();
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
            let b = &mut icpt[if grouped { p.groups[i] as usize } else { 0 }];
            let mut z = [b[0], b[1]];
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
                    b[2 + c] += *e * *e;
                    b[c] -= p.lr * *e / b[2 + c].sqrt();
                }
            }
            if err == [0.0, 0.0] {
                continue;
            }
            let step = Step {
                err,
                labelled: [lab[0] >= 0, lab[1] >= 0],
                lr: p.lr,
                l2: p.l2,
                warm,
            };
            let mut n0 = 0;
            while n0 < ix.len() {
                let n1 = (n0 + LANES).min(ix.len());
                let ks = &ix[n0..n1];
                let xs: [f32; LANES] = match val {
                    None => [scale; LANES],
                    Some(v) => std::array::from_fn(|j| v.get(n0 + j).copied().unwrap_or(0.0)),
                };
                match <&[u32; LANES]>::try_from(ks) {
                    Ok(ks) if !repeats(ks) => step.lanes(&mut wg, ks, &xs),
                    _ => {
                        for (&k, &x) in ks.iter().zip(&xs) {
                            step.one(&mut wg[k as usize], k, x);
                        }
                    }
                }
                n0 = n1;
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
    match intercepts {
        Some(v) => v
            .iter_mut()
            .zip(&icpt)
            .for_each(|(b, e)| b.copy_from_slice(&e[..2])),
        None => bias.copy_from_slice(&icpt[0][..2]),
    }
}

/// Features updated together by [`Step::lanes`].
const LANES: usize = 8;

/// Whether a bucket occurs twice among `ks` (a row holds a bucket once per occurrence of its
/// n-gram, and the second update must see the first).
#[inline]
fn repeats(ks: &[u32; LANES]) -> bool {
    (1..LANES).any(|a| ks[a..].contains(&ks[a - 1]))
}

/// One AdaGrad step of a row's features: its error per category and the parameters.
struct Step<'a> {
    err: [f32; 2],
    labelled: [bool; 2],
    lr: f32,
    l2: f32,
    warm: Option<&'a WarmStart<'a>>,
}

impl Step<'_> {
    /// The step of one feature of value `x` in bucket `k` (`e`: its weights and squared
    /// gradient sums).
    #[inline]
    fn one(&self, e: &mut [f32; 4], k: u32, x: f32) {
        for c in 0..2 {
            if !self.labelled[c] {
                continue;
            }
            let mut gr = self.err[c] * x + self.l2 * e[c];
            if let Some(ws) = self.warm {
                gr += ws.prior_l2 * (e[c] - ws.w[2 * k as usize + c]);
            }
            e[2 + c] += gr * gr;
            e[c] -= self.lr * gr / e[2 + c].sqrt();
        }
    }

    /// [`Step::one`] on `LANES` distinct buckets at once: the same operations in the same
    /// order for each bucket (so the same bits), written so that the square roots and
    /// divisions, most of the step's time, run several to an instruction.
    #[inline]
    fn lanes(&self, wg: &mut [[f32; 4]], ks: &[u32; LANES], xs: &[f32; LANES]) {
        let mut e: [[f32; 4]; LANES] = std::array::from_fn(|j| wg[ks[j] as usize]);
        for c in 0..2 {
            if !self.labelled[c] {
                continue;
            }
            let mut w: [f32; LANES] = std::array::from_fn(|j| e[j][c]);
            let mut g: [f32; LANES] = std::array::from_fn(|j| e[j][2 + c]);
            let mut gr = [0f32; LANES];
            for j in 0..LANES {
                gr[j] = self.err[c] * xs[j] + self.l2 * w[j];
            }
            if let Some(ws) = self.warm {
                for j in 0..LANES {
                    gr[j] += ws.prior_l2 * (w[j] - ws.w[2 * ks[j] as usize + c]);
                }
            }
            for j in 0..LANES {
                g[j] += gr[j] * gr[j];
                w[j] -= self.lr * gr[j] / g[j].sqrt();
            }
            for j in 0..LANES {
                e[j][c] = w[j];
                e[j][2 + c] = g[j];
            }
        }
        for (j, &k) in ks.iter().enumerate() {
            wg[k as usize] = e[j];
        }
    }
}

impl SparseLr {
    /// Replaces the weights and intercepts by their mean with those of `others` (models of the
    /// same size); nothing changes when `others` is empty.
    pub fn average_with(&mut self, others: &[SparseLr]) {
        if others.is_empty() {
            return;
        }
        assert!(
            others.iter().all(|o| o.w.len() == self.w.len()),
            "averaged models must have the same number of buckets"
        );
        let n = (others.len() + 1) as f32;
        for (k, w) in self.w.iter_mut().enumerate() {
            *w = (*w + others.iter().map(|o| o.w[k]).sum::<f32>()) / n;
        }
        for c in 0..2 {
            self.bias[c] = (self.bias[c] + others.iter().map(|o| o.bias[c]).sum::<f32>()) / n;
        }
    }

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
    use proptest::prelude::*;

    #[test]
    fn a_model_averaged_with_others_holds_their_mean() {
        let mut a = SparseLr {
            w: vec![1.0, -2.0, 0.5, 0.0],
            bias: [0.2, -1.0],
        };
        let others = [
            SparseLr {
                w: vec![3.0, 0.0, 0.5, 1.0],
                bias: [0.4, -3.0],
            },
            SparseLr {
                w: vec![2.0, -1.0, -1.0, 2.0],
                bias: [0.0, -2.0],
            },
        ];
        let before = a.w.clone();
        a.average_with(&[]);
        assert_eq!(a.w, before);
        a.average_with(&others);
        assert_eq!(a.w, vec![2.0, -1.0, 0.0, 1.0]);
        assert!((a.bias[0] - 0.2).abs() < 1e-6 && (a.bias[1] + 2.0).abs() < 1e-6);
    }

    proptest! {
        /// The batched step gives the bits of the one-feature step applied in row order, with
        /// any labels, values and warm start.
        #[test]
        fn eight_features_at_once_give_the_bits_of_one_at_a_time(
            state in proptest::collection::vec(
                (-2.0f32..2.0, -2.0f32..2.0, 1e-6f32..5.0, 1e-6f32..5.0), 16),
            order in Just((0u32..16).collect::<Vec<u32>>()).prop_shuffle(),
            xs in proptest::array::uniform8(0.0f32..1.5),
            err in (-1.0f32..1.0, -1.0f32..1.0),
            labelled in (any::<bool>(), any::<bool>()),
            prior in proptest::option::of(proptest::collection::vec(-1.0f32..1.0, 32)),
        ) {
            let ks: [u32; LANES] = std::array::from_fn(|j| order[j]);
            let wg: Vec<[f32; 4]> = state.iter().map(|&(a, b, c, d)| [a, b, c, d]).collect();
            let ws = prior.as_ref().map(|w| WarmStart { w, bias: [0.0; 2], g0: 1e-6, prior_l2: 0.01 });
            let step = Step {
                err: [err.0, err.1],
                labelled: [labelled.0, labelled.1],
                lr: 0.25,
                l2: 1e-6,
                warm: ws.as_ref(),
            };
            let mut one = wg.clone();
            for (&k, &x) in ks.iter().zip(&xs) {
                step.one(&mut one[k as usize], k, x);
            }
            let mut lanes = wg;
            step.lanes(&mut lanes, &ks, &xs);
            let bits = |v: &[[f32; 4]]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&one), bits(&lanes));
        }
    }

    #[test]
    fn a_repeated_bucket_is_seen() {
        assert!(repeats(&[1, 2, 3, 4, 5, 6, 7, 1]));
        assert!(repeats(&[1, 2, 3, 4, 5, 6, 7, 7]));
        assert!(!repeats(&[1, 2, 3, 4, 5, 6, 7, 8]));
    }

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
            groups: Vec::new(),
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

    #[test]
    fn training_on_slots_gives_the_weights_of_training_on_buckets_bit_for_bit() {
        // 300 rows over 64 buckets, rare and common ones mixed, some repeated within a row;
        // bucket 5 is kept non-positive
        let mut s = 7u64;
        let mut next = |m: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % m
        };
        let idx: Vec<Vec<u32>> = (0..300)
            .map(|_| {
                let n = 1 + next(12);
                (0..n)
                    .map(|_| {
                        let top = 1 + next(64);
                        next(top) as u32
                    })
                    .collect()
            })
            .collect();
        let labels: Vec<[i8; 2]> = (0..300)
            .map(|_| [next(2) as i8, next(3) as i8 - 1])
            .collect();
        let ids: Vec<usize> = (0..300).filter(|i| i % 7 != 0).collect();
        let params = |nonpositive| SparseParams {
            dim: 64,
            epochs: 3,
            lr: 0.3,
            l2: 1e-3,
            seed: 9,
            nonpositive,
            groups: Vec::new(),
        };
        let on = |idx: &[Vec<u32>], p: &SparseParams| {
            let rows = Rows { idx, val: None };
            train_sparse(&rows, &labels, &[1.0; 300], &ids, p)
        };
        let buckets = on(&idx, &params(vec![5]));
        let slots = Slots::new(&idx, 64);
        assert_ne!(slots.idx, idx, "the numbering changed");
        let trained = on(&slots.idx, &params(slots.to_slots(&[5])));
        let bits = |w: &[f32]| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&slots.bucket_weights(&trained.w)), bits(&buckets.w));
        assert_eq!(trained.bias, buckets.bias);
    }

    #[test]
    fn dataset_intercepts_keep_a_datasets_share_of_positives_out_of_its_words() {
        // two datasets of 200 rows: the first 90 % toxic, the second 10 %; bucket 1 (a word of
        // the first one's language) is in 80 % of the first's rows and 20 % of the second's,
        // whatever their label; an insult (bucket 4) is in half the toxic rows of both, a
        // friendly word (bucket 5) in half the others; bucket 6 is in every row
        let first = |i: usize| i < 200;
        let toxic = |i: usize| first(i) == (i % 10 != 0);
        let idx: Vec<Vec<u32>> = (0..400)
            .map(|i| {
                let mut r = vec![6];
                if first(i) == ((i / 10) % 5 != 0) {
                    r.push(1);
                }
                if (i / 50) % 2 == 0 {
                    r.push(if toxic(i) { 4 } else { 5 });
                }
                r
            })
            .collect();
        let labels: Vec<[i8; 2]> = (0..400).map(|i| [i8::from(toxic(i)), -1]).collect();
        let ids: Vec<usize> = (0..400).collect();
        let rows = Rows {
            idx: &idx,
            val: None,
        };
        let params = |groups| SparseParams {
            dim: 8,
            epochs: 5,
            lr: 0.5,
            l2: 0.0,
            seed: 1,
            nonpositive: Vec::new(),
            groups,
        };
        let pooled = train_sparse(&rows, &labels, &[1.0; 400], &ids, &params(Vec::new()));
        let groups: Vec<u32> = (0..400).map(|i| u32::from(!first(i))).collect();
        let grouped = train_sparse(&rows, &labels, &[1.0; 400], &ids, &params(groups));
        let w1 = |m: &SparseLr| m.w[2];
        assert!(
            w1(&pooled) > 0.5,
            "one intercept: the word carries its dataset's share ({})",
            w1(&pooled)
        );
        assert!(
            w1(&grouped).abs() < w1(&pooled) / 3.0,
            "an intercept per dataset: it carries much less ({})",
            w1(&grouped)
        );
        // the insult and the friendly word still weigh either way
        assert!(grouped.w[8] > 0.5 && grouped.w[10] < -0.5);
        // the shipped intercept is the datasets' mean: between the two
        let (lo, hi) = (grouped.bias[0] - 1.0, grouped.bias[0] + 1.0);
        assert!(lo < 0.0 && hi > 0.0, "{}", grouped.bias[0]);
    }
}
