//! The shadow report of a model, compared with the active one: how often their decisions
//! agree, which would change (with examples carrying both explanations), and both models
//! against the moderators' decisions.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::SHADOW_EXAMPLES;
use crate::scoring::recalibrate::{self, Agreement};
use crate::scoring::{Decision, Verdict};
use crate::store::models::{ModelRecord, ModelStatus, ShadowRow};

/// What a model said of a comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowSide {
    pub model_version: String,
    /// `publish`, `hold` or `reject`.
    pub decision: String,
    pub toxicity: f64,
    pub spam: f64,
    pub reasons: Vec<String>,
}

/// A comment whose decision would change, and what each model said of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowExample {
    pub comment_id: i64,
    /// The moderators' last decision: `rejected`, `approved`, or `null` (none yet).
    pub label: Option<String>,
    pub active: ShadowSide,
    pub shadow: ShadowSide,
}

/// How many decisions would change from one outcome to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionChange {
    /// The active model's decision: `publish`, `hold` or `reject`.
    pub from: String,
    /// The shadow model's.
    pub to: String,
    pub count: usize,
}

/// The shadow report of a model (`GET /v1/models/{version}/shadow-report`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowReport {
    pub version: String,
    pub status: ModelStatus,
    /// Comments the model scored in shadow (at most the newest 100,000).
    pub comments_scored: usize,
    /// Share of them where its decision equals the active model's (`null`: none scored).
    pub agreement_rate: Option<f64>,
    /// How many decisions would change, by kind (`publish` → `hold`, …).
    pub changes: Vec<DecisionChange>,
    /// Up to 50 comments whose decision would change, newest first, with both explanations.
    pub examples: Vec<ShadowExample>,
    /// The active model against the moderators' decisions taken since (held or rejected counts
    /// as flagged, a rejection as positive).
    pub active: Agreement,
    /// The shadow model against the same decisions.
    pub shadow: Agreement,
}

/// What a decision does to a comment, in the report's words.
fn outcome(decision: &str) -> &'static str {
    match decision {
        d if d == Decision::Allow.as_str() => "publish",
        d if d == Decision::Review.as_str() => "hold",
        _ => "reject",
    }
}

/// The report of `model` from its shadow verdicts, newest first.
pub(super) fn report(model: ModelRecord, rows: &[ShadowRow]) -> ShadowReport {
    let mut changes: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut examples = Vec::new();
    let mut agreed = 0usize;
    let mut active_pairs = Vec::new();
    let mut shadow_pairs = Vec::new();
    for row in rows {
        let s = &row.score;
        if let Some(label) = row.label {
            active_pairs.push((outcome(&s.active_decision) != "publish", label == 1));
            shadow_pairs.push((outcome(&s.decision) != "publish", label == 1));
        }
        let (from, to) = (outcome(&s.active_decision), outcome(&s.decision));
        if from == to {
            agreed += 1;
            continue;
        }
        *changes.entry((from, to)).or_default() += 1;
        if examples.len() < SHADOW_EXAMPLES {
            examples.push(example(row, (from, to), &model.version));
        }
    }
    let n = rows.len();
    ShadowReport {
        status: model.status(),
        version: model.version,
        comments_scored: n,
        agreement_rate: (n > 0).then(|| agreed as f64 / n as f64),
        changes: changes
            .into_iter()
            .map(|((from, to), count)| DecisionChange {
                from: from.to_owned(),
                to: to.to_owned(),
                count,
            })
            .collect(),
        examples,
        active: recalibrate::agreement(active_pairs),
        shadow: recalibrate::agreement(shadow_pairs),
    }
}

/// A comment whose decision would change from `from` (the active model's) to `to` (the shadow
/// model's, `version`), with both explanations.
fn example(row: &ShadowRow, (from, to): (&str, &str), version: &str) -> ShadowExample {
    let s = &row.score;
    let active: Option<Verdict> = row
        .active_verdict
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok());
    ShadowExample {
        comment_id: s.comment_id.0,
        label: row
            .label
            .map(|l| if l == 1 { "rejected" } else { "approved" }.to_owned()),
        active: ShadowSide {
            model_version: s.active_version.clone(),
            decision: from.to_owned(),
            toxicity: active
                .as_ref()
                .map_or(0.0, |v| f64::from(v.scores.toxicity)),
            spam: active.as_ref().map_or(0.0, |v| f64::from(v.scores.spam)),
            reasons: active.map(|v| v.reasons).unwrap_or_default(),
        },
        shadow: ShadowSide {
            model_version: version.to_owned(),
            decision: to.to_owned(),
            toxicity: s.toxicity,
            spam: s.spam,
            reasons: serde_json::from_str(&s.reasons).unwrap_or_default(),
        },
    }
}
