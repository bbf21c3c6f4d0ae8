//! Validation protocols (random split, leave-dataset-out, held-out and functional sets) and
//! threshold choice.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::scoring::hash::FxHashMap;
use crate::scoring::model::{Model, Stacker, CATEGORIES};
use crate::scoring::policy::{CategoryThresholds, Thresholds};
use crate::scoring::rules::RuleSet;
use crate::scoring::{AuthorHistory, Decision, ScoreInput, Scorer};

use super::baseline::{self, StrongTfidf};
use super::config::Role;
use super::data::Doc;
use super::explain::ExplanationRate;
use super::holds::{self, HoldRate};
use super::metrics;
use super::sparse::shuffle;
use super::stacker::{Ctx, Fitted};

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

/// The final model's results on the sets it never trained on.
#[derive(Debug, Default)]
pub struct HeldOutResults {
    pub functional: Vec<FunctionalResult>,
    pub holds: Vec<HoldRate>,
    pub explanations: Vec<ExplanationRate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: String,
    pub created: String,
    pub n_train: usize,
    pub train_seconds: f32,
    pub metrics: Vec<SetMetrics>,
    pub functional: Vec<FunctionalResult>,
    pub holds: Vec<HoldRate>,
    pub explanations: Vec<ExplanationRate>,
    pub thresholds: Thresholds,
    pub threshold_notes: Vec<String>,
    pub dense_linfa: Option<String>,
    pub baseline_note: Option<String>,
    pub at_thresholds: Vec<String>,
    /// Training datasets leave-dataset-out did not hold out (one class: no ROC AUC).
    pub not_left_out: Vec<String>,
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

/// The strong TF-IDF baseline's features and the `C` chosen for each category.
struct Baseline {
    tfidf: StrongTfidf,
    c: [f32; 2],
}

/// The protocol names of [`SetMetrics`] (the model card reads them).
pub const RANDOM_SPLIT: &str = "random 80/20";
const LEAVE_DATASET_OUT: &str = "leave-dataset-out";

/// Run fit on `train`, predict `test`, with the TF-IDF baseline alongside.
fn run_split(
    cx: &Ctx<'_>,
    base: &Baseline,
    train: &[usize],
    test: &[usize],
    warm: Option<&[Stacker; 2]>,
    tick: &(dyn Fn() + Sync),
) -> Result<(Fitted, Preds)> {
    let f = cx.fit(train, warm, tick)?;
    // The baseline is fitted only for the categories the test rows can be scored on (both
    // classes present): a dataset left out that has no spam reads no spam prediction.
    let both = |c: usize| {
        let mut seen = [false; 2];
        for &i in test {
            let l = cx.docs[i].labels[c];
            if l >= 0 {
                seen[(l == 1) as usize] = true;
            }
        }
        seen[0] && seen[1]
    };
    let tfidf = base.tfidf.fit_predict(
        cx.docs,
        train,
        test,
        base.c,
        cx.cfg.seed,
        [both(0), both(1)],
    );
    tick();
    let mut preds = Preds {
        stacked: Vec::new(),
        sparse: Vec::new(),
        tfidf,
    };
    for &i in test {
        let (a, b) = cx.predict(&f, i);
        preds.stacked.push(a);
        preds.sparse.push(b);
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

/// What validation produced, and the final model (fitted beside validation's last step).
#[derive(Default)]
pub struct Validation {
    pub metrics: Vec<SetMetrics>,
    pub thresholds: Thresholds,
    pub threshold_notes: Vec<String>,
    pub at_thresholds: Vec<String>,
    pub dense_linfa: Option<String>,
    /// The strong TF-IDF baseline fitted on every training row: its probabilities for the
    /// comments of the held-out and functional sets.
    pub baseline_held_out: FxHashMap<usize, [f32; 2]>,
    /// How the baseline's `C` was chosen, and what the baseline cost.
    pub baseline_note: Option<String>,
    /// Training datasets not held out by leave-dataset-out (one class).
    pub not_left_out: Vec<String>,
    /// The final model, fitted on every training row beside the baseline's last fit (the two
    /// are independent and each runs on one thread).
    pub fitted: Option<Fitted>,
}

/// Random split (metrics, thresholds, linfa-only comparison), then leave-dataset-out.
pub fn validate(
    cx: &Ctx<'_>,
    train_ids: &[usize],
    progress: &indicatif::ProgressBar,
    tick: &(dyn Fn() + Sync),
) -> Result<Validation> {
    let mut v = Validation::default();
    progress.set_message("validation: TF-IDF baseline's C");
    let t = Instant::now();
    let (tr, val) = random_split(cx, train_ids);
    let tfidf = StrongTfidf::extract(cx.docs, cx.cfg.threads);
    let (c, cv) = tfidf.choose_c(cx.docs, &tr, cx.cfg.seed, cx.cfg.threads);
    let base = Baseline { tfidf, c };
    let chosen = t.elapsed().as_secs_f32();
    progress.set_message("validation: random split (and the linfa-only dense comparison)");
    // Independent work, one thread each: the random split's fits and the dense comparison.
    let (split, dense) = std::thread::scope(|sc| {
        let dense = cx
            .cfg
            .compare_dense_linfa
            .then(|| sc.spawn(|| baseline::dense_linfa_comparison(cx, &tr, &val)));
        let split = run_split(cx, &base, &tr, &val, None, tick);
        (split, dense.map(|h| h.join()))
    });
    let (split_fit, preds) = split?;
    if let Some(dense) = dense {
        let dense = dense.map_err(|_| anyhow::anyhow!("dense comparison panicked"))?;
        v.dense_linfa = Some(dense);
    }
    let pm = to_map(&val, &preds);
    random_split_metrics(cx, &val, &pm, &mut v.metrics);
    choose_thresholds(cx.docs, &val, &preds, cx.cfg.thresholds, &mut v);
    tick();
    progress.set_message("validation: leave-dataset-out");
    let lodo = cx.lodo_datasets();
    v.not_left_out = cx
        .train_datasets()
        .into_iter()
        .filter(|k| !lodo.contains(k))
        .map(|k| cx.cfg.datasets[k].name.clone())
        .collect();
    v.metrics.extend(leave_dataset_out(
        cx,
        &base,
        train_ids,
        &lodo,
        &split_fit.stackers,
        tick,
    )?);
    progress.set_message("final model and TF-IDF baseline on every training row");
    let others: Vec<usize> = (0..cx.docs.len())
        .filter(|&i| cx.cfg.datasets[cx.docs[i].ds].role != Role::Train)
        .collect();
    let (fitted, p, baseline_secs) = std::thread::scope(|sc| {
        let final_fit = sc.spawn(|| cx.fit(train_ids, None, tick));
        let t = Instant::now();
        let p = base
            .tfidf
            .fit_predict(cx.docs, train_ids, &others, base.c, cx.cfg.seed, [true; 2]);
        let secs = t.elapsed().as_secs_f32();
        (final_fit.join(), p, secs)
    });
    let fitted = fitted.map_err(|_| anyhow::anyhow!("final fit panicked"))??;
    v.fitted = Some(fitted);
    v.baseline_held_out = others.into_iter().zip(p).collect();
    v.baseline_note = Some(format!(
        "C chosen by 3-fold cross-validation (mean ROC AUC) on the random split's training part: toxicity C = {}, spam C = {} ({cv}); features and C search {chosen:.1} s, fit on every training row {baseline_secs:.1} s (beside the final model's)",
        base.c[0],
        base.c[1],
    ));
    Ok(v)
}

/// 80/20 split stratified by dataset: (training part, validation part).
fn random_split(cx: &Ctx<'_>, train_ids: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut val = Vec::new();
    let mut tr = Vec::new();
    for k in 0..cx.cfg.datasets.len() {
        let mut ids: Vec<usize> = train_ids
            .iter()
            .copied()
            .filter(|&i| cx.docs[i].ds == k)
            .collect();
        shuffle(&mut ids, cx.cfg.seed + k as u64);
        let nv = (ids.len() as f32 * cx.cfg.validation_fraction).round() as usize;
        val.extend_from_slice(&ids[..nv]);
        tr.extend_from_slice(&ids[nv..]);
    }
    (tr, val)
}

fn random_split_metrics(cx: &Ctx<'_>, val: &[usize], pm: &PredMap, out: &mut Vec<SetMetrics>) {
    let docs = cx.docs;
    for (k, d) in cx.cfg.datasets.iter().enumerate() {
        let ids: Vec<usize> = val.iter().copied().filter(|&i| docs[i].ds == k).collect();
        if !ids.is_empty() {
            group_metrics(RANDOM_SPLIT, &d.name, &d.lang, docs, &ids, pm, out);
        }
    }
    for lang in ["fr", "en"] {
        let ids: Vec<usize> = val
            .iter()
            .copied()
            .filter(|&i| docs[i].lang == lang)
            .collect();
        let set = format!("all {lang}");
        group_metrics(RANDOM_SPLIT, &set, lang, docs, &ids, pm, out);
    }
}

/// Thresholds from the random-split validation predictions, with notes and the
/// precision/recall table at them.
fn choose_thresholds(
    docs: &[Doc],
    val: &[usize],
    preds: &Preds,
    configured: Option<Thresholds>,
    v: &mut Validation,
) {
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
        let (rev, n2) = review_for_false_holds(&sc);
        let (rev_p, n3) = choose(&sc, 0.80);
        chosen[c].reject = rej.unwrap_or(1.01);
        // both: few negatives held AND validation precision >= 0.80
        let review = match (rev, rev_p) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b).unwrap_or(1.01),
        };
        chosen[c].review = review.min(chosen[c].reject);
        v.threshold_notes.push(format!(
            "{cat}: lowest threshold with validation precision >= 0.95 per language ({n1}) -> reject = {:.3}; review: the higher of the score above which at most {:.1} % of the validation negatives of each language fall ({n2}) and of the lowest with precision >= 0.80 ({n3}) -> review = {:.3}",
            chosen[c].reject, REVIEW_FALSE_HOLDS * 100.0, chosen[c].review
        ));
        if let Some(t) = configured {
            chosen[c] = if c == 0 { t.toxicity } else { t.spam };
            v.threshold_notes.push(format!(
                "{cat}: shipped instead, as set in the training configuration's `[thresholds]`: review = {:.3}, reject = {:.3}",
                chosen[c].review, chosen[c].reject
            ));
        }
        at_threshold_rows(cat, &sc, chosen[c], &mut v.at_thresholds);
    }
    v.thresholds = Thresholds {
        toxicity: chosen[0],
        spam: chosen[1],
    };
}

/// Share of negatives the review threshold may hold on the validation sets. Real comment
/// sections are 2–5 % abusive, so a threshold chosen for precision on balanced sets holds far
/// too many benign comments; the rules add their own holds on top, hence the margin below 2 %.
const REVIEW_FALSE_HOLDS: f32 = 0.015;

/// Base rate of abuse at which precision is reported beside the balanced-set figures.
const BASE_RATE: f32 = 0.03;

/// Review threshold: the highest, over languages with at least 50 negatives, of the score
/// that `REVIEW_FALSE_HOLDS` of that language's validation negatives reach.
fn review_for_false_holds(sc: &[(f32, bool, &str)]) -> (Option<f32>, String) {
    let mut per = Vec::new();
    for lang in ["fr", "en"] {
        let mut neg: Vec<f32> = sc
            .iter()
            .filter(|x| x.2 == lang && !x.1)
            .map(|x| x.0)
            .collect();
        if neg.len() < 50 {
            continue;
        }
        neg.sort_by(|a, b| b.total_cmp(a));
        let k = ((neg.len() as f32 * REVIEW_FALSE_HOLDS).floor() as usize).min(neg.len() - 1);
        // just above the k-th highest negative: at most k negatives reach it
        per.push((lang, neg[k] + 1e-6));
    }
    let note = per
        .iter()
        .map(|(l, t)| format!("{l}: {t:.3}"))
        .collect::<Vec<_>>()
        .join(", ");
    (per.iter().map(|p| p.1).reduce(f32::max), note)
}

fn at_threshold_rows(
    cat: &str,
    sc: &[(f32, bool, &str)],
    chosen: CategoryThresholds,
    out: &mut Vec<String>,
) {
    for lang in ["fr", "en", "all"] {
        let sel: Vec<&(f32, bool, &str)> =
            sc.iter().filter(|x| lang == "all" || x.2 == lang).collect();
        let ss: Vec<f32> = sel.iter().map(|x| x.0).collect();
        let yy: Vec<bool> = sel.iter().map(|x| x.1).collect();
        if !yy.iter().any(|&v| v) {
            continue;
        }
        for (name, t) in [("review", chosen.review), ("reject", chosen.reject)] {
            let a = metrics::at_threshold(&ss, &yy, t);
            let neg = yy.iter().filter(|&&v| !v).count();
            let fp = ss.iter().zip(&yy).filter(|(&s, &y)| !y && s >= t).count();
            let fpr = fp as f32 / neg.max(1) as f32;
            let at_base =
                a.recall * BASE_RATE / (a.recall * BASE_RATE + fpr * (1.0 - BASE_RATE)).max(1e-9);
            out.push(format!(
                "| {cat} | {lang} | {name} {t:.3} | {} | {:.3} | {:.3} | {:.3} | {:.1} % | {:.3} |",
                yy.len(),
                a.precision,
                a.recall,
                a.f1,
                fpr * 100.0,
                at_base
            ));
        }
    }
}

/// Leave each dataset of `lodo` out ([`Ctx::lodo_datasets`]; each YouTube video is its own
/// dataset), on `threads` workers (each fit is single-threaded).
fn leave_dataset_out(
    cx: &Ctx<'_>,
    base: &Baseline,
    train_ids: &[usize],
    lodo: &[usize],
    warm: &[Stacker; 2],
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<SetMetrics>> {
    // the costliest fits first (the smallest datasets left out: the most rows left in), each
    // worker taking the next one when it is free, so that both finish close together
    let mut queue = lodo.to_vec();
    let size = |k: usize| train_ids.iter().filter(|&&i| cx.docs[i].ds == k).count();
    queue.sort_by_cached_key(|&k| size(k));
    let next = AtomicUsize::new(0);
    let threads = cx.cfg.threads.max(1);
    let results: Vec<Result<Vec<SetMetrics>>> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (queue, next) = (&queue, &next);
                sc.spawn(move || -> Result<Vec<SetMetrics>> {
                    let mut out = Vec::new();
                    while let Some(&k) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                        hold_out_dataset(cx, base, train_ids, k, warm, tick, &mut out)?;
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
    let mut lodo_metrics = Vec::new();
    for r in results {
        lodo_metrics.extend(r?);
    }
    let order: Vec<&str> = lodo
        .iter()
        .map(|&k| cx.cfg.datasets[k].name.as_str())
        .collect();
    lodo_metrics.sort_by_key(|m| order.iter().position(|n| *n == m.set));
    Ok(lodo_metrics)
}

fn hold_out_dataset(
    cx: &Ctx<'_>,
    base: &Baseline,
    train_ids: &[usize],
    k: usize,
    warm: &[Stacker; 2],
    tick: &(dyn Fn() + Sync),
    out: &mut Vec<SetMetrics>,
) -> Result<()> {
    let docs = cx.docs;
    let (te, tr): (Vec<usize>, Vec<usize>) = train_ids.iter().partition(|&&i| docs[i].ds == k);
    let (_, preds) = run_split(cx, base, &tr, &te, Some(warm), tick)?;
    let pm = to_map(&te, &preds);
    let d = &cx.cfg.datasets[k];
    group_metrics(LEAVE_DATASET_OUT, &d.name, &d.lang, docs, &te, &pm, out);
    Ok(())
}

/// Held-out and functional sets, scored by the final model through the real pipeline.
pub fn score_held_out(
    cx: &Ctx<'_>,
    model: &Model,
    rules: &RuleSet,
    thresholds: &Thresholds,
    baseline: &FxHashMap<usize, [f32; 2]>,
    metrics_out: &mut Vec<SetMetrics>,
) -> HeldOutResults {
    let docs = cx.docs;
    let scorer = Scorer::from_model(model.clone());
    let mut out = HeldOutResults::default();
    for (k, d) in cx.cfg.datasets.iter().enumerate() {
        if d.role == Role::Train {
            continue;
        }
        let ids: Vec<usize> = (0..docs.len()).filter(|&i| docs[i].ds == k).collect();
        let mut pm = FxHashMap::default();
        let mut flagged: FxHashMap<usize, bool> = FxHashMap::default();
        let mut explained = ExplanationRate::new(&d.name, &d.lang);
        for &i in &ids {
            let input = ScoreInput {
                body: &docs[i].text,
                lang: Some(docs[i].lang),
                author: AuthorHistory {
                    approved_count: u32::MAX,
                    ..Default::default()
                },
            };
            let v = scorer.score(&input, rules, thresholds);
            let p = [v.scores.toxicity, v.scores.spam];
            pm.insert(i, (p, p, baseline.get(&i).copied().unwrap_or(p)));
            flagged.insert(i, v.decision != Decision::Allow);
            explained.add(&docs[i], &v.top_terms);
        }
        if explained.comments > 0 {
            out.explanations.push(explained);
        }
        let proto = if d.role == Role::Functional {
            "functional suite (never trained)"
        } else {
            "held-out set (never trained)"
        };
        let first = metrics_out.len();
        // a set with a language column mixes French and English
        let lang = if d.lang_column.is_some() {
            "fr+en"
        } else {
            d.lang.as_str()
        };
        group_metrics(proto, &d.name, lang, docs, &ids, &pm, metrics_out);
        // the shipped pipeline and the baseline fitted on every training row score these sets:
        // no sparse-only figure, and no baseline figure when validation did not run
        for m in &mut metrics_out[first..] {
            m.auc_sparse = None;
            if baseline.is_empty() {
                m.auc_tfidf = None;
                m.ap_tfidf = None;
            }
        }
        out.holds
            .extend(holds::hold_rates(&d.name, docs, &ids, &flagged));
        if d.role == Role::Functional {
            out.functional
                .extend(functional_pass_rates(&d.name, docs, &ids, &flagged));
        }
    }
    out
}

/// Pass = the whole pipeline (score thresholds AND hold/block rules) flags iff hateful.
fn functional_pass_rates(
    suite: &str,
    docs: &[Doc],
    ids: &[usize],
    flagged: &FxHashMap<usize, bool>,
) -> Vec<FunctionalResult> {
    let mut by: BTreeMap<String, (usize, usize, bool)> = BTreeMap::new();
    for &i in ids {
        let f = docs[i].functionality.clone().unwrap_or_default();
        let hateful = docs[i].labels[0] == 1;
        let e = by.entry(f).or_insert((0, 0, hateful));
        e.0 += 1;
        e.1 += (flagged[&i] == hateful) as usize;
    }
    by.into_iter()
        .map(|(f, (n, pass, h))| FunctionalResult {
            suite: suite.to_string(),
            functionality: f,
            n,
            expected_hateful: h,
            pass_rate: pass as f32 / n as f32,
        })
        .collect()
}
