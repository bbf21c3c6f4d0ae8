//! What a backtest reports: outcomes before and after the change, the comments it moves (with
//! examples), and agreement with moderators' decisions overall, per language and per category.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{CommentId, CommentStatus};
use crate::scoring::{Action, Decision, RuleCategory, Thresholds, Verdict};

use super::MAX_EXAMPLES;

/// Where a comment landed: visible, held for review, rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Published,
    Held,
    Rejected,
}

impl Outcome {
    pub(super) fn of_status(status: CommentStatus) -> Outcome {
        match status {
            CommentStatus::Pending => Outcome::Held,
            CommentStatus::Rejected => Outcome::Rejected,
            CommentStatus::Published | CommentStatus::Approved | CommentStatus::Deleted => {
                Outcome::Published
            }
        }
    }

    pub(super) fn of_decision(d: Decision) -> Outcome {
        match d {
            Decision::Allow => Outcome::Published,
            Decision::Review => Outcome::Held,
            Decision::Reject => Outcome::Rejected,
        }
    }
}

/// Counts of each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub published: u64,
    pub held: u64,
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Published => self.published += 1,
            Outcome::Held => self.held += 1,
            Outcome::Rejected => self.rejected += 1,
        }
    }
}

/// Comments whose outcome changed to one kind, and what moderators decided of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub count: u64,
    /// Of these, the ones a moderator's last decision rejected…
    pub moderators_rejected: u64,
    /// …and approved (or restored).
    pub moderators_approved: u64,
}

/// Precision and recall against moderators' decisions (a rejection is a positive; a comment
/// held or rejected is predicted positive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Comments with a human decision.
    pub labelled: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub true_negatives: u64,
    /// `null` when nothing was predicted positive.
    pub precision: Option<f64>,
    /// `null` when moderators rejected nothing.
    pub recall: Option<f64>,
}

impl Agreement {
    pub(super) fn add(&mut self, predicted: bool, actual: bool) {
        self.labelled += 1;
        match (predicted, actual) {
            (true, true) => self.true_positives += 1,
            (true, false) => self.false_positives += 1,
            (false, true) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    pub(super) fn finish(&mut self) {
        let ratio = |a: u64, b: u64| (a + b > 0).then(|| a as f64 / (a + b) as f64);
        self.precision = ratio(self.true_positives, self.false_positives);
        self.recall = ratio(self.true_positives, self.false_negatives);
    }
}

/// Agreement of what happened and of the change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BeforeAfter {
    pub before: Agreement,
    pub after: Agreement,
}

/// One comment whose outcome the change moves, with the new explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub comment_id: CommentId,
    pub before: Outcome,
    pub after: Outcome,
    /// `rejected` or `approved`: the last moderator decision, if any.
    pub moderators: Option<String>,
    pub decision: Decision,
    pub toxicity: f32,
    pub spam: f32,
    /// Ids of the rules that fired under the change.
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
    pub language: String,
}

/// Up to [`MAX_EXAMPLES`] of each kind of difference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Examples {
    pub newly_held: Vec<Example>,
    pub newly_published: Vec<Example>,
    pub newly_rejected: Vec<Example>,
}

/// What a backtest found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Comments re-scored.
    pub comments: u64,
    /// Outcomes at intake (what really happened).
    pub before: Counts,
    /// Outcomes under the change.
    pub after: Counts,
    /// Comments whose outcome differs.
    pub changed: u64,
    pub newly_held: Difference,
    pub newly_published: Difference,
    pub newly_rejected: Difference,
    /// Against moderators' last decisions, overall…
    pub human: BeforeAfter,
    /// …per language the scoring saw…
    pub by_language: BTreeMap<String, BeforeAfter>,
    /// …and per category (`toxicity`, `spam`: a moderator's `spam` rejection is a spam
    /// positive, any other reason a toxicity one; a held or rejected comment is predicted in
    /// the category that weighed most in its verdict).
    pub by_category: BTreeMap<String, BeforeAfter>,
    pub examples: Examples,
    /// The model and rule set the change scored with.
    pub model_version: String,
    pub rules_version: String,
    pub thresholds: Option<Thresholds>,
}

impl Report {
    pub(super) fn finish(&mut self) {
        for ba in std::iter::once(&mut self.human)
            .chain(self.by_language.values_mut())
            .chain(self.by_category.values_mut())
        {
            ba.before.finish();
            ba.after.finish();
        }
    }
}

/// The category that weighed most in a verdict: its first blocking or holding rule's, else
/// the higher score's.
fn verdict_category(v: &Verdict) -> &'static str {
    let rule = v
        .rules
        .iter()
        .find(|h| h.action != Action::Flag && h.category != RuleCategory::Behaviour)
        .map(|h| h.category);
    match rule {
        Some(RuleCategory::Spam) => "spam",
        Some(_) => "toxicity",
        None if v.scores.spam > v.scores.toxicity => "spam",
        None => "toxicity",
    }
}

/// A moderator's last decision on a comment: rejected (true) or approved, and the reason code
/// of a rejection.
pub(super) type Label = (bool, Option<String>);

/// One re-scored comment, as [`Report::record`] counts it.
pub(super) struct Rescored<'a> {
    pub comment_id: CommentId,
    /// Where it landed at intake…
    pub before: Outcome,
    /// …and where the change puts it.
    pub after: Outcome,
    /// The verdict under the change…
    pub verdict: &'a Verdict,
    /// …and the one stored at intake, if any.
    pub stored: Option<&'a Verdict>,
    pub label: Option<&'a Label>,
}

impl Report {
    /// Counts one re-scored comment.
    pub(super) fn record(&mut self, r: &Rescored<'_>) {
        self.comments += 1;
        self.before.add(r.before);
        self.after.add(r.after);
        if r.before != r.after {
            self.record_change(r);
        }
        if let Some(label) = r.label {
            self.record_label(r, label);
        }
    }

    /// A comment whose outcome the change moves: its difference, and an example while fewer
    /// than [`MAX_EXAMPLES`] are kept.
    fn record_change(&mut self, r: &Rescored<'_>) {
        self.changed += 1;
        let (diff, examples) = match r.after {
            Outcome::Held => (&mut self.newly_held, &mut self.examples.newly_held),
            Outcome::Published => (
                &mut self.newly_published,
                &mut self.examples.newly_published,
            ),
            Outcome::Rejected => (&mut self.newly_rejected, &mut self.examples.newly_rejected),
        };
        diff.count += 1;
        match r.label {
            Some((true, _)) => diff.moderators_rejected += 1,
            Some((false, _)) => diff.moderators_approved += 1,
            None => {}
        }
        if examples.len() < MAX_EXAMPLES {
            let verdict = r.verdict;
            examples.push(Example {
                comment_id: r.comment_id,
                before: r.before,
                after: r.after,
                moderators: r
                    .label
                    .map(|(rejected, _)| if *rejected { "rejected" } else { "approved" }.into()),
                decision: verdict.decision,
                toxicity: verdict.scores.toxicity,
                spam: verdict.scores.spam,
                rules: verdict.rules.iter().map(|h| h.id.clone()).collect(),
                reasons: verdict.reasons.clone(),
                language: verdict.language.clone(),
            });
        }
    }

    /// A comment a moderator decided: agreement before and after, overall, for its language
    /// and per category.
    fn record_label(&mut self, r: &Rescored<'_>, (rejected, reason): &Label) {
        let caught_before = r.before != Outcome::Published;
        let caught_after = r.after != Outcome::Published;
        self.human.before.add(caught_before, *rejected);
        self.human.after.add(caught_after, *rejected);
        let lang = self
            .by_language
            .entry(r.verdict.language.clone())
            .or_default();
        lang.before.add(caught_before, *rejected);
        lang.after.add(caught_after, *rejected);
        let actual = rejected.then(|| {
            if reason.as_deref() == Some("spam") {
                "spam"
            } else {
                "toxicity"
            }
        });
        let before_category = r.stored.map(verdict_category);
        let after_category = verdict_category(r.verdict);
        for category in ["toxicity", "spam"] {
            let entry = self.by_category.entry(category.to_owned()).or_default();
            let is_actual = actual == Some(category);
            entry.before.add(
                caught_before && before_category == Some(category),
                is_actual,
            );
            entry
                .after
                .add(caught_after && after_category == category, is_actual);
        }
    }
}
