//! Per-site thresholds and the verdict decision.

use serde::{Deserialize, Serialize};

use super::rules::{Action, RuleHit};
use super::Scores;

/// Scores at or above `review` give `review`; at or above `reject` give `reject`.
/// A value above 1.0 disables that step. Through the API: 0 to 1.01, `review` ≤ `reject`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryThresholds {
    #[schema(minimum = 0, maximum = 1.01)]
    pub review: f32,
    #[schema(minimum = 0, maximum = 1.01)]
    pub reject: f32,
}

/// Per-site thresholds per category.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub toxicity: CategoryThresholds,
    pub spam: CategoryThresholds,
}

/// The thresholds of the shipped model `vigie-20261207-1419` (its `model.json`, set in
/// `training.toml`'s `[thresholds]`; why, and what the validation rule chose instead, in
/// `training.toml` and `models/vigie-20261207-1419/MODEL_CARD.md`). A model trained later
/// records its own in `model.json` ([`crate::scoring::Scorer::recommended_thresholds`]); these
/// apply to a model file without any.
pub const DEFAULT_THRESHOLDS: Thresholds = Thresholds {
    toxicity: CategoryThresholds {
        review: 0.56,
        reject: 0.982,
    },
    spam: CategoryThresholds {
        review: 0.30,
        reject: 0.90,
    },
};

impl Default for Thresholds {
    fn default() -> Self {
        DEFAULT_THRESHOLDS
    }
}

impl Default for CategoryThresholds {
    /// The toxicity defaults.
    fn default() -> Self {
        DEFAULT_THRESHOLDS.toxicity
    }
}

/// What the pipeline advises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Review,
    Reject,
}

impl Decision {
    /// The name stored and shown (`allow`, `review`, `reject`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Review => "review",
            Decision::Reject => "reject",
        }
    }
}

/// Turn scores and rule hits into a decision plus human-readable reasons.
pub fn decide(scores: &Scores, hits: &[RuleHit], th: &Thresholds) -> (Decision, Vec<String>) {
    let mut d = Decision::Allow;
    let mut reasons = Vec::new();
    // Flag rules do not change the decision but are part of the explanation.
    let mut flags = Vec::new();
    for h in hits {
        let what = match &h.term {
            Some(t) => format!("rule `{}` matched `{}` ({:?})", h.id, t, h.action),
            None => format!("rule `{}` fired ({:?})", h.id, h.action),
        }
        .to_lowercase();
        let step = match h.action {
            Action::Block => Decision::Reject,
            Action::Hold => Decision::Review,
            Action::Flag => {
                flags.push(what);
                continue;
            }
        };
        d = d.max(step);
        reasons.push(what);
    }
    for (name, s, t) in [
        ("toxicity", scores.toxicity, th.toxicity),
        ("spam", scores.spam, th.spam),
    ] {
        if s >= t.reject {
            d = d.max(Decision::Reject);
            reasons.push(format!(
                "{name} score {s:.3} >= reject threshold {:.3}",
                t.reject
            ));
        } else if s >= t.review {
            d = d.max(Decision::Review);
            reasons.push(format!(
                "{name} score {s:.3} >= review threshold {:.3}",
                t.review
            ));
        }
    }
    let decided = !reasons.is_empty();
    reasons.extend(flags.iter().cloned());
    if !decided {
        reasons.push(if flags.is_empty() {
            "no rule fired and all scores are below the review thresholds".into()
        } else {
            "only flag rules fired (they do not hold a comment) and all scores are below the \
             review thresholds"
                .into()
        });
    }
    (d, reasons)
}

/// The decision for a comment in a language the model does not score: its scores mean
/// nothing, so the rules decide, and the site's policy for the language is the least the
/// comment gets (`allow`: the rules alone). The verdict says which language it was.
pub fn decide_unscored(hits: &[RuleHit], lang: &str, policy: Decision) -> (Decision, Vec<String>) {
    let unknown = Scores {
        toxicity: f32::NEG_INFINITY,
        spam: f32::NEG_INFINITY,
    };
    let (by_rules, mut reasons) = if hits.iter().any(|h| h.action != Action::Flag) {
        decide(&unknown, hits, &Thresholds::default())
    } else {
        (Decision::Allow, Vec::new())
    };
    reasons.push(format!(
        "language {lang} is not scored (site policy: {})",
        policy.as_str()
    ));
    (by_rules.max(policy), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_serde_roundtrip_and_partial() {
        let t = Thresholds::default();
        let s = serde_json::to_string(&t).unwrap();
        let back: Thresholds = serde_json::from_str(&s).unwrap();
        assert_eq!(t, back);
        let partial: Thresholds =
            serde_json::from_str(r#"{"spam":{"review":0.5,"reject":2.0}}"#).unwrap();
        assert_eq!(partial.toxicity, Thresholds::default().toxicity);
        assert_eq!(partial.spam.review, 0.5);
    }

    /// `DEFAULT_THRESHOLDS` is written by hand: it must say what the shipped model's file says.
    #[test]
    fn default_thresholds_are_the_shipped_models() {
        let models = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
        let version = std::fs::read_to_string(format!("{models}/DEFAULT")).unwrap();
        let meta = std::fs::read_to_string(format!("{models}/{}/model.json", version.trim()));
        let meta: serde_json::Value = serde_json::from_str(&meta.unwrap()).unwrap();
        let shipped: Thresholds = serde_json::from_value(meta["thresholds"].clone()).unwrap();
        assert_eq!(shipped, DEFAULT_THRESHOLDS);
    }

    fn flag(id: &str, term: Option<&str>) -> RuleHit {
        RuleHit {
            id: id.into(),
            action: Action::Flag,
            category: super::super::rules::RuleCategory::Spam,
            term: term.map(Into::into),
            start: None,
            end: None,
        }
    }

    #[test]
    fn a_verdict_whose_flag_rules_fired_names_them_instead_of_saying_no_rule_fired() {
        let low = Scores {
            toxicity: 0.1,
            spam: 0.01,
        };
        let hits = [flag("links", None), flag("shouting", Some("ARRÊTEZ"))];
        let (decision, reasons) = decide(&low, &hits, &Thresholds::default());
        assert_eq!(decision, Decision::Allow);
        assert_eq!(
            reasons,
            [
                "rule `links` fired (flag)",
                "rule `shouting` matched `arrêtez` (flag)",
                "only flag rules fired (they do not hold a comment) and all scores are below \
                 the review thresholds",
            ]
        );
        assert!(!reasons.iter().any(|r| r.contains("no rule fired")));

        // Beside a deciding reason, the flags still appear (after it).
        let high = Scores {
            toxicity: 0.999,
            spam: 0.01,
        };
        let (decision, reasons) = decide(&high, &hits[..1], &Thresholds::default());
        assert_eq!(decision, Decision::Reject);
        assert!(reasons[0].starts_with("toxicity score 0.999 >= reject threshold"));
        assert_eq!(reasons[1], "rule `links` fired (flag)");
        assert_eq!(reasons.len(), 2);

        // Nothing at all: the old sentence, which is then true.
        let (_, reasons) = decide(&low, &[], &Thresholds::default());
        assert_eq!(
            reasons,
            ["no rule fired and all scores are below the review thresholds"]
        );
    }

    #[test]
    fn decisions() {
        // explicit values: the shipped model's review and reject thresholds may be equal
        let band = CategoryThresholds {
            review: 0.5,
            reject: 0.9,
        };
        let th = Thresholds {
            toxicity: band,
            spam: band,
        };
        let low = Scores {
            toxicity: 0.1,
            spam: 0.1,
        };
        assert_eq!(decide(&low, &[], &th).0, Decision::Allow);
        let high = Scores {
            toxicity: 0.999,
            spam: 0.1,
        };
        assert_eq!(decide(&high, &[], &th).0, Decision::Reject);
        let mid = Scores {
            toxicity: (th.toxicity.review + th.toxicity.reject) / 2.0,
            spam: 0.0,
        };
        assert_eq!(decide(&mid, &[], &th).0, Decision::Review);
    }

    #[test]
    fn unscored_languages_follow_the_site_policy_and_the_rules() {
        let block = RuleHit {
            id: "x-block".into(),
            action: Action::Block,
            category: crate::scoring::RuleCategory::Toxicity,
            term: None,
            start: None,
            end: None,
        };
        let (d, why) = decide_unscored(&[], "de", Decision::Review);
        assert_eq!(d, Decision::Review);
        assert_eq!(why, vec!["language de is not scored (site policy: review)"]);
        assert_eq!(
            decide_unscored(&[], "es", Decision::Allow).0,
            Decision::Allow
        );
        assert_eq!(
            decide_unscored(&[], "ar", Decision::Reject).0,
            Decision::Reject
        );
        let (d, why) = decide_unscored(std::slice::from_ref(&block), "de", Decision::Allow);
        assert_eq!(d, Decision::Reject);
        assert!(why[0].contains("x-block"), "{why:?}");
    }
}
