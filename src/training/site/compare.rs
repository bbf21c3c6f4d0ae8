//! Validating a site model: base vs site on the holdout, per category, language and reason
//! code, and the precision/recall rows `vigie serve` reads.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{category_of, SiteRow};
use crate::scoring::model::{Model, CATEGORIES};
use crate::scoring::{RuleSet, Scorer, Thresholds};
use crate::training::metrics::{self, AtThreshold};

/// Ranking and precision/recall of one model on one slice of the holdout.
#[derive(Debug, Serialize)]
pub struct SliceMetrics {
    pub roc_auc: Option<f32>,
    pub review: AtThreshold,
    pub reject: AtThreshold,
}

/// Base vs site on one slice of the holdout (all rows, a language, a reason code).
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub slice: String,
    pub category: &'static str,
    pub n: usize,
    pub positives: usize,
    pub base: SliceMetrics,
    pub site: SliceMetrics,
}

/// Base vs site model on the holdout rows, at the thresholds `th`.
pub(super) fn holdout_comparison(
    base: &Model,
    site: &Model,
    holdout: &[SiteRow],
    rules: &RuleSet,
    th: &Thresholds,
) -> Vec<Comparison> {
    let holdout: Vec<&SiteRow> = holdout.iter().collect();
    let base_scores = holdout_scores(base, &holdout, rules);
    let site_scores = holdout_scores(site, &holdout, rules);
    compare(&holdout, &base_scores, &site_scores, th)
}

/// Scores of the holdout rows (toxicity, spam) by one model.
fn holdout_scores(model: &Model, rows: &[&SiteRow], rules: &RuleSet) -> Vec<[f32; 2]> {
    let scorer = Scorer::from_model(model.clone());
    rows.iter()
        .map(|r| {
            let (s, _) = scorer.scores_only(&r.text, Some(r.lang), rules);
            [s.toxicity, s.spam]
        })
        .collect()
}

/// ROC AUC and precision/recall at `(review, reject)` of one model's scores on one slice.
fn slice_metrics(scores: &[f32], y: &[bool], th: (f32, f32)) -> SliceMetrics {
    SliceMetrics {
        roc_auc: metrics::roc_auc(scores, y),
        review: metrics::at_threshold(scores, y, th.0),
        reject: metrics::at_threshold(scores, y, th.1),
    }
}

/// Base vs site on the holdout: every labelled category, each language, each reason code
/// (its rejections against all approvals).
fn compare(
    rows: &[&SiteRow],
    base: &[[f32; 2]],
    site: &[[f32; 2]],
    th: &Thresholds,
) -> Vec<Comparison> {
    let th_of = |c: usize| {
        let t = if c == 0 { th.toxicity } else { th.spam };
        (t.review, t.reject)
    };
    let mut out = Vec::new();
    let mut push = |slice: String, c: usize, keep: &dyn Fn(&SiteRow) -> bool| {
        let sel: Vec<usize> = (0..rows.len())
            .filter(|&k| rows[k].labels[c] >= 0 && keep(rows[k]))
            .collect();
        let y: Vec<bool> = sel.iter().map(|&k| rows[k].labels[c] == 1).collect();
        let positives = y.iter().filter(|&&v| v).count();
        if positives == 0 {
            return;
        }
        let sb: Vec<f32> = sel.iter().map(|&k| base[k][c]).collect();
        let ss: Vec<f32> = sel.iter().map(|&k| site[k][c]).collect();
        out.push(Comparison {
            slice,
            category: CATEGORIES[c],
            n: sel.len(),
            positives,
            base: slice_metrics(&sb, &y, th_of(c)),
            site: slice_metrics(&ss, &y, th_of(c)),
        });
    };
    for c in 0..CATEGORIES.len() {
        push("all".into(), c, &|_| true);
    }
    let langs: BTreeSet<&str> = rows.iter().map(|r| r.lang).collect();
    for l in langs {
        for c in 0..CATEGORIES.len() {
            push(format!("lang {l}"), c, &|r| r.lang == l);
        }
    }
    let reasons: BTreeSet<&str> = rows.iter().filter_map(|r| r.reason.as_deref()).collect();
    for reason in reasons {
        let c = category_of(Some(reason));
        push(format!("reason {reason}"), c, &|r| {
            r.labels[c] == 0 || r.reason.as_deref() == Some(reason)
        });
    }
    out
}

/// The site model's rows in the form `vigie serve` reads (`Judge::measured_at_thresholds`).
pub(super) fn at_threshold_rows(comparison: &[Comparison]) -> Vec<String> {
    let mut out = Vec::new();
    for c in comparison {
        let lang = match c.slice.as_str() {
            "all" => "all",
            s => match s.strip_prefix("lang ") {
                Some(l) => l,
                None => continue,
            },
        };
        for (step, a) in [("review", &c.site.review), ("reject", &c.site.reject)] {
            out.push(format!(
                "| {} | {lang} | {step} {:.3} | {} | {:.3} | {:.3} | {:.3} |",
                c.category, a.threshold, c.n, a.precision, a.recall, a.f1
            ));
        }
    }
    out
}
