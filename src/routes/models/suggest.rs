//! Thresholds suggested for the site's active model from its moderators' decisions: per
//! category, the lowest score at which held and rejected comments reach the asked precision
//! (the pure search is [`crate::scoring::recalibrate`]).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::intake::ValidationError;
use crate::scoring::recalibrate::{self, Cut, MIN_LABELS, MIN_PER_CLASS, OFF};
use crate::scoring::{CategoryThresholds, Thresholds};
use crate::store::models::LabelledScore;

/// The precision targets of `GET /v1/site/thresholds/suggestion`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SuggestionQuery {
    /// Share of held comments moderators should reject (default 0.8), above 0 and at most 1.
    #[param(minimum = 0.01, maximum = 1)]
    pub precision_review: Option<f64>,
    /// Share of rejected comments moderators should reject (default 0.95), above 0 and at
    /// most 1.
    #[param(minimum = 0.01, maximum = 1)]
    pub precision_reject: Option<f64>,
}

/// Default precision target of a suggestion's `review` step.
pub const DEFAULT_PRECISION_REVIEW: f64 = 0.8;
/// Default precision target of the `reject` step.
pub const DEFAULT_PRECISION_REJECT: f64 = 0.95;

/// One category's suggestion and what it rests on.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategorySuggestion {
    /// Comments moderators rejected for this category (`spam` for spam, any other reason for
    /// toxicity).
    pub rejected: usize,
    /// Comments moderators approved.
    pub approved: usize,
    /// The lowest threshold holding comments at `precision_review` (`null`: none reaches it;
    /// the suggestion then turns the step off, 1.01).
    pub review: Option<Cut>,
    /// The lowest threshold rejecting comments at `precision_reject`.
    pub reject: Option<Cut>,
    /// Set when the category's thresholds are kept as they are, and why.
    pub kept: Option<String>,
}

/// The suggested thresholds and what they rest on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdSuggestion {
    /// The active model the thresholds are for (only comments it scored count).
    pub model_version: String,
    pub precision_review: f64,
    pub precision_reject: f64,
    /// Labelled comments scored by the active model (each comment's last human decision).
    pub labels: usize,
    /// Labelled comments scored by other models, not used.
    pub labels_other_models: usize,
    pub approved: usize,
    pub rejected: usize,
    /// Ready for `PUT /v1/site/thresholds`.
    pub thresholds: Thresholds,
    pub toxicity: CategorySuggestion,
    pub spam: CategorySuggestion,
}

/// The precision targets asked: `review`, then `reject`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Precisions {
    pub(super) review: f64,
    pub(super) reject: f64,
}

impl Precisions {
    /// The query's targets (or their defaults), each above 0 and at most 1.
    pub(super) fn parse(query: &SuggestionQuery) -> Result<Precisions, ValidationError> {
        let precision = |name: &str, v: Option<f64>, default: f64| {
            let v = v.unwrap_or(default);
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(v)
            } else {
                Err(ValidationError::new(name, "must be above 0 and at most 1"))
            }
        };
        Ok(Precisions {
            review: precision(
                "precision_review",
                query.precision_review,
                DEFAULT_PRECISION_REVIEW,
            )?,
            reject: precision(
                "precision_reject",
                query.precision_reject,
                DEFAULT_PRECISION_REJECT,
            )?,
        })
    }
}

/// The suggestion for the active model `version` from the site's labelled comments (only those
/// it scored count), starting from the thresholds `in_force`; refused below [`MIN_LABELS`]
/// labelled comments or [`MIN_PER_CLASS`] of either class.
pub(super) fn suggest(
    version: String,
    in_force: Thresholds,
    labelled: Vec<LabelledScore>,
    precisions: Precisions,
) -> Result<ThresholdSuggestion, ValidationError> {
    let total = labelled.len();
    let labelled: Vec<_> = labelled
        .into_iter()
        .filter(|l| l.model_version.as_deref() == Some(version.as_str()))
        .collect();
    let rejected = labelled.iter().filter(|l| l.label == 1).count();
    let approved = labelled.len() - rejected;
    if labelled.len() < MIN_LABELS || rejected < MIN_PER_CLASS || approved < MIN_PER_CLASS {
        return Err(ValidationError::new(
            "labels",
            format!(
                "too few labelled comments scored by {version}: {} ({approved} approved, {rejected} rejected; {} more scored by other models); a suggestion needs at least {MIN_LABELS}, with at least {MIN_PER_CLASS} of each",
                labelled.len(),
                total - labelled.len()
            ),
        ));
    }
    let (toxicity_at, toxicity) =
        category(&labelled, false, in_force.toxicity, approved, precisions);
    let (spam_at, spam) = category(&labelled, true, in_force.spam, approved, precisions);
    Ok(ThresholdSuggestion {
        model_version: version,
        precision_review: precisions.review,
        precision_reject: precisions.reject,
        labels: labelled.len(),
        labels_other_models: total - labelled.len(),
        approved,
        rejected,
        thresholds: Thresholds {
            toxicity: toxicity_at,
            spam: spam_at,
        },
        toxicity,
        spam,
    })
}

/// One category's thresholds (spam, or toxicity for every other reason) and their suggestion;
/// the thresholds in force are kept when the category has too few rejections.
fn category(
    labelled: &[LabelledScore],
    is_spam: bool,
    current: CategoryThresholds,
    approved: usize,
    precisions: Precisions,
) -> (CategoryThresholds, CategorySuggestion) {
    let scored: Vec<(f64, bool)> = labelled
        .iter()
        .filter(|l| l.label == 0 || (l.reason.as_deref() == Some("spam")) == is_spam)
        .map(|l| (if is_spam { l.spam } else { l.toxicity }, l.label == 1))
        .collect();
    let positives = scored.iter().filter(|(_, p)| *p).count();
    let suggestion = CategorySuggestion {
        rejected: positives,
        approved,
        review: None,
        reject: None,
        kept: None,
    };
    if positives < MIN_PER_CLASS {
        return (
            current,
            CategorySuggestion {
                kept: Some(format!(
                    "{positives} rejections in this category; at least {MIN_PER_CLASS} are needed"
                )),
                ..suggestion
            },
        );
    }
    let review = recalibrate::lowest_threshold_with_precision(&scored, precisions.review);
    let reject = recalibrate::lowest_threshold_with_precision(&scored, precisions.reject);
    let reject_at = reject.map_or(OFF, |c| c.threshold);
    let review_at = review.map_or(OFF, |c| c.threshold).min(reject_at);
    (
        CategoryThresholds {
            review: review_at,
            reject: reject_at,
        },
        CategorySuggestion {
            review,
            reject,
            ..suggestion
        },
    )
}
