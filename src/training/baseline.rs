//! Baselines the shipped model is compared with: TF-IDF + logistic regression, and linfa alone
//! on dense hashed features.

use std::collections::BTreeMap;
use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};

use crate::scoring::hash::FxHashMap;

use super::data::Doc;
use super::metrics;
use super::sparse::shuffle;
use super::stacker::Ctx;

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
