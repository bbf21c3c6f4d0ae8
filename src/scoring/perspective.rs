//! Perspective API attributes from a Vigie verdict, and the calibration that turns the model's
//! toxicity into "the probability that a moderator would remove this comment".
//!
//! No I/O: the calibration is read by the caller (`models/<version>/perspective_calibration.json`,
//! written by `vigie perspective-calibrate`).
//!
//! How each attribute is computed (the README's "Replacing Perspective API" says the same):
//! - `TOXICITY`: the model's toxicity probability through the isotonic calibration of the
//!   comment's language; at least [`HOLD_FLOOR`] when a toxicity rule with action `hold` fired
//!   and [`BLOCK_FLOOR`] for `block` (a site's own word list counts as a moderator's judgement).
//! - `SEVERE_TOXICITY`: `TOXICITY` when a `hold` or `block` toxicity rule fired, else its square
//!   (high only when the model is very sure).
//! - `INSULT`, `THREAT`, `IDENTITY_ATTACK`, `PROFANITY`: from the rules of that kind (by rule
//!   id, see [`kind_of_rule`]): when one fired, `TOXICITY` raised to at least [`FLAG_FLOOR`],
//!   [`HOLD_FLOOR`] or [`BLOCK_FLOOR`] by its action; otherwise half of `TOXICITY` (the model
//!   tells toxic from not, not which kind).
//! - `SPAM` (a Vigie extension): the model's spam probability (fitted by its logistic stacker,
//!   not recalibrated), with the same floors for spam rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::{Action, RuleCategory};
use super::{Category, Verdict};

/// The threshold the README recommends for Coral (Coral holds a comment when
/// `TOXICITY > threshold`); its precision and recall per language are in the README's table.
pub const RECOMMENDED_THRESHOLD: f32 = 0.8;
/// At least this when a `block` rule of the attribute's kind fired.
pub const BLOCK_FLOOR: f32 = 0.95;
/// At least this when a `hold` rule of the attribute's kind fired: above the threshold the
/// README recommends for Coral, so what Vigie's rules hold, Coral holds too.
pub const HOLD_FLOOR: f32 = 0.9;
/// At least this when a `flag` rule of the attribute's kind fired (kind attributes only).
pub const FLAG_FLOOR: f32 = 0.6;
/// A kind attribute without a rule of its kind: this share of `TOXICITY`.
pub const UNKINDED_SHARE: f32 = 0.5;
/// Name of the calibration file in a model directory.
pub const CALIBRATION_FILE: &str = "perspective_calibration.json";
/// Pseudo-counts added to each isotonic block (Laplace): no calibrated value is exactly 0 or 1.
const PSEUDO_COUNT: f64 = 1.0;

/// The attributes Vigie answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribute {
    Toxicity,
    SevereToxicity,
    Insult,
    Threat,
    IdentityAttack,
    Profanity,
    Spam,
}

impl Attribute {
    pub const ALL: [Attribute; 7] = [
        Attribute::Toxicity,
        Attribute::SevereToxicity,
        Attribute::Insult,
        Attribute::Threat,
        Attribute::IdentityAttack,
        Attribute::Profanity,
        Attribute::Spam,
    ];

    /// Perspective's name.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Toxicity => "TOXICITY",
            Attribute::SevereToxicity => "SEVERE_TOXICITY",
            Attribute::Insult => "INSULT",
            Attribute::Threat => "THREAT",
            Attribute::IdentityAttack => "IDENTITY_ATTACK",
            Attribute::Profanity => "PROFANITY",
            Attribute::Spam => "SPAM",
        }
    }

    /// Perspective's name, exactly (Perspective's names are upper case).
    pub fn parse(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The kind of a toxicity rule, by its id: `slur`, `hate`, `homophob`, `identity`, `racis` →
/// identity attack; `threat`, `violence` → threat; `insult` → insult; `vulgar`, `profan`,
/// `obscen` → profanity. Sites naming their rules so get the same mapping.
pub fn kind_of_rule(id: &str) -> Option<Attribute> {
    let id = id.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| id.contains(w));
    if has(&["slur", "hate", "homophob", "identity", "racis"]) {
        Some(Attribute::IdentityAttack)
    } else if has(&["threat", "violence"]) {
        Some(Attribute::Threat)
    } else if has(&["insult"]) {
        Some(Attribute::Insult)
    } else if has(&["vulgar", "profan", "obscen"]) {
        Some(Attribute::Profanity)
    } else {
        None
    }
}

/// A monotone map from the model's probability to a calibrated one: points `[raw, value]`
/// sorted by `raw`, linear between them, flat beyond the ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsotonicMap {
    pub points: Vec<[f32; 2]>,
}

impl IsotonicMap {
    /// Applies the map (the identity when it has no point).
    pub fn apply(&self, raw: f32) -> f32 {
        let p = &self.points;
        let (Some(first), Some(last)) = (p.first(), p.last()) else {
            return raw;
        };
        if raw <= first[0] {
            return first[1];
        }
        if raw >= last[0] {
            return last[1];
        }
        let i = p.partition_point(|q| q[0] <= raw);
        let (a, b) = (p[i - 1], p[i]);
        if b[0] <= a[0] {
            return b[1];
        }
        a[1] + (b[1] - a[1]) * (raw - a[0]) / (b[0] - a[0])
    }

    /// Pool-adjacent-violators fit of `labels` on `raw` scores (Laplace-smoothed blocks, each
    /// block one point at its mean score).
    pub fn fit(raw: &[f32], labels: &[bool]) -> IsotonicMap {
        let mut pairs: Vec<(f32, bool)> = raw.iter().copied().zip(labels.iter().copied()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        // blocks: (sum of raw, positives, count)
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (x, y) in pairs {
            blocks.push((x as f64, if y { 1.0 } else { 0.0 }, 1.0));
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (b, a) = (blocks[n - 1], blocks[n - 2]);
                if a.1 / a.2 >= b.1 / b.2 {
                    blocks.pop();
                    blocks[n - 2] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
                } else {
                    break;
                }
            }
        }
        let mut points: Vec<[f32; 2]> = Vec::with_capacity(blocks.len());
        let mut floor = 0f32;
        for (sx, pos, n) in blocks {
            let value = ((pos + PSEUDO_COUNT * 0.5) / (n + PSEUDO_COUNT)) as f32;
            // smoothing can undo the order of small blocks: keep the map monotone
            floor = floor.max(value);
            points.push([(sx / n) as f32, floor]);
        }
        IsotonicMap { points }
    }
}

/// The calibration of one model: an isotonic map per language (`all` for the others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The model it was fitted on; a calibration of another model is not used.
    pub model_version: String,
    pub method: String,
    /// What it was fitted on and when (free text, for people).
    #[serde(default)]
    pub fitted_on: Vec<String>,
    #[serde(default)]
    pub created: String,
    pub toxicity: BTreeMap<String, IsotonicMap>,
}

impl Calibration {
    /// No calibration: the model's probabilities as they are.
    pub fn identity(model_version: &str) -> Calibration {
        Calibration {
            model_version: model_version.to_owned(),
            method: "identity".into(),
            fitted_on: Vec::new(),
            created: String::new(),
            toxicity: BTreeMap::new(),
        }
    }

    /// The calibrated toxicity for a comment of `lang`.
    pub fn toxicity(&self, raw: f32, lang: &str) -> f32 {
        match self.toxicity.get(lang).or_else(|| self.toxicity.get("all")) {
            Some(map) => map.apply(raw),
            None => raw,
        }
    }
}

/// Every attribute's summary score and the spans behind it (character offsets, end exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeScores {
    values: [f32; 7],
    spans: [Vec<(usize, usize)>; 7],
}

impl AttributeScores {
    pub fn value(&self, a: Attribute) -> f32 {
        self.values[a.index()]
    }

    /// Spans of the original text behind `a`: the words that weighed most (toxicity or spam)
    /// and the rules of its kind that matched text; sorted, without duplicates.
    pub fn spans(&self, a: Attribute) -> &[(usize, usize)] {
        &self.spans[a.index()]
    }
}

fn floor_for(action: Action, kind_rule: bool) -> f32 {
    match action {
        Action::Block => BLOCK_FLOOR,
        Action::Hold => HOLD_FLOOR,
        Action::Flag if kind_rule => FLAG_FLOOR,
        Action::Flag => 0.0,
    }
}

/// Character offset of byte offset `b` of `text` (offsets not on a boundary are rounded down).
fn char_offset(text: &str, b: usize) -> usize {
    let mut b = b.min(text.len());
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    text[..b].chars().count()
}

/// The attributes of a comment from its verdict (scored with the site's rules).
pub fn attribute_scores(
    verdict: &Verdict,
    body: &str,
    calibration: &Calibration,
) -> AttributeScores {
    let mut values = [0f32; 7];
    let mut spans: [Vec<(usize, usize)>; 7] = Default::default();
    let span_of = |start: u32, end: u32| {
        let (s, e) = (
            char_offset(body, start as usize),
            char_offset(body, end as usize),
        );
        (s < e).then_some((s, e))
    };
    let mut toxicity = calibration.toxicity(verdict.scores.toxicity, &verdict.language);
    let mut spam = verdict.scores.spam;
    let mut severe_rule = false;
    for hit in &verdict.rules {
        let floor = floor_for(hit.action, false);
        match hit.category {
            RuleCategory::Toxicity => {
                toxicity = toxicity.max(floor);
                severe_rule |= hit.action >= Action::Hold;
            }
            RuleCategory::Spam => spam = spam.max(floor),
            RuleCategory::Behaviour => {}
        }
    }
    values[Attribute::Toxicity.index()] = toxicity;
    values[Attribute::SevereToxicity.index()] = if severe_rule {
        toxicity
    } else {
        toxicity * toxicity
    };
    values[Attribute::Spam.index()] = spam;
    for kind in [
        Attribute::Insult,
        Attribute::Threat,
        Attribute::IdentityAttack,
        Attribute::Profanity,
    ] {
        let mut value = toxicity * UNKINDED_SHARE;
        for hit in &verdict.rules {
            if hit.category == RuleCategory::Toxicity && kind_of_rule(&hit.id) == Some(kind) {
                value = value.max(toxicity.max(floor_for(hit.action, true)));
                if let (Some(s), Some(e)) = (hit.start, hit.end) {
                    spans[kind.index()].extend(span_of(s, e));
                }
            }
        }
        values[kind.index()] = value;
    }
    for hit in &verdict.rules {
        let target = match hit.category {
            RuleCategory::Toxicity => Attribute::Toxicity,
            RuleCategory::Spam => Attribute::Spam,
            RuleCategory::Behaviour => continue,
        };
        if let (Some(s), Some(e)) = (hit.start, hit.end) {
            spans[target.index()].extend(span_of(s, e));
        }
    }
    for term in &verdict.top_terms {
        let target = match term.category {
            Category::Toxicity => Attribute::Toxicity,
            Category::Spam => Attribute::Spam,
        };
        spans[target.index()].extend(span_of(term.start, term.end));
    }
    // severe toxicity points at the same words as toxicity
    spans[Attribute::SevereToxicity.index()] = spans[Attribute::Toxicity.index()].clone();
    for s in &mut spans {
        s.sort_unstable();
        s.dedup();
    }
    for v in &mut values {
        *v = v.clamp(0.0, 1.0);
    }
    AttributeScores { values, spans }
}

/// Precision and recall at one threshold, counted as Coral compares (`score > threshold`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Caught {
    pub threshold: f32,
    /// Comments above the threshold.
    pub flagged: usize,
    pub precision: Option<f32>,
    pub recall: Option<f32>,
}

/// What `threshold` catches among `scores` with `labels` (true: a moderator would remove it).
pub fn caught(scores: &[f32], labels: &[bool], threshold: f32) -> Caught {
    let flagged = scores.iter().filter(|&&s| s > threshold).count();
    let tp = scores
        .iter()
        .zip(labels)
        .filter(|(&s, &l)| s > threshold && l)
        .count();
    let pos = labels.iter().filter(|&&l| l).count();
    Caught {
        threshold,
        flagged,
        precision: (flagged > 0).then(|| tp as f32 / flagged as f32),
        recall: (pos > 0).then(|| tp as f32 / pos as f32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{Decision, RuleHit, Scores, TopTerm};

    fn verdict(toxicity: f32, rules: Vec<RuleHit>) -> Verdict {
        Verdict {
            decision: Decision::Allow,
            scores: Scores {
                toxicity,
                spam: 0.01,
            },
            rules,
            top_terms: vec![TopTerm {
                term: "idiot".into(),
                start: 7,
                end: 12,
                category: Category::Toxicity,
                weight: 1.0,
            }],
            model_version: "m".into(),
            rules_version: "r".into(),
            language: "fr".into(),
            reasons: vec![],
        }
    }

    fn hit(id: &str, action: Action, start: u32, end: u32) -> RuleHit {
        RuleHit {
            id: id.into(),
            action,
            category: RuleCategory::Toxicity,
            term: None,
            start: Some(start),
            end: Some(end),
        }
    }

    #[test]
    fn isotonic_fit_is_monotone_and_never_zero_or_one() {
        let raw = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
        let labels = [
            false, false, true, false, false, true, true, false, true, true,
        ];
        let map = IsotonicMap::fit(&raw, &labels);
        let mut last = 0.0;
        for i in 0..=100 {
            let v = map.apply(i as f32 / 100.0);
            assert!(v >= last && v > 0.0 && v < 1.0, "{i}: {v}");
            last = v;
        }
        assert!(map.apply(0.0) < 0.4 && map.apply(1.0) > 0.6, "{map:?}");
    }

    #[test]
    fn an_empty_calibration_is_the_identity() {
        let c = Calibration::identity("m");
        assert_eq!(c.toxicity(0.42, "fr"), 0.42);
        assert_eq!(IsotonicMap { points: vec![] }.apply(0.3), 0.3);
    }

    #[test]
    fn rules_of_a_kind_raise_their_attribute_and_point_at_their_words() {
        // "Quel idiot, je vais te tuer" — spans in bytes; é makes chars differ from bytes.
        let body = "Éh toi idiot, je vais te tuer";
        let v = verdict(
            0.3,
            vec![
                hit("fr-threat", Action::Hold, 15, 31),
                hit("fr-insult-mild", Action::Flag, 8, 13),
            ],
        );
        let a = attribute_scores(&v, body, &Calibration::identity("m"));
        assert_eq!(a.value(Attribute::Toxicity), HOLD_FLOOR);
        assert_eq!(a.value(Attribute::Threat), HOLD_FLOOR);
        assert_eq!(a.value(Attribute::Insult), HOLD_FLOOR.max(FLAG_FLOOR));
        assert_eq!(
            a.value(Attribute::IdentityAttack),
            HOLD_FLOOR * UNKINDED_SHARE
        );
        assert_eq!(a.value(Attribute::SevereToxicity), HOLD_FLOOR);
        assert_eq!(a.spans(Attribute::Threat), &[(14, 29)]);
        assert_eq!(a.spans(Attribute::Insult), &[(7, 12)]);
        assert!(a.spans(Attribute::Toxicity).contains(&(6, 11)));
    }

    #[test]
    fn without_rules_severe_toxicity_is_the_square_and_kinds_half() {
        let a = attribute_scores(&verdict(0.6, vec![]), "x", &Calibration::identity("m"));
        assert!((a.value(Attribute::SevereToxicity) - 0.36).abs() < 1e-6);
        assert!((a.value(Attribute::Insult) - 0.3).abs() < 1e-6);
    }

    #[test]
    fn rule_ids_map_to_kinds() {
        assert_eq!(kind_of_rule("fr-slur"), Some(Attribute::IdentityAttack));
        assert_eq!(
            kind_of_rule("hate-violence-en"),
            Some(Attribute::IdentityAttack)
        );
        assert_eq!(kind_of_rule("en-threat"), Some(Attribute::Threat));
        assert_eq!(kind_of_rule("fr-insult-strong"), Some(Attribute::Insult));
        assert_eq!(kind_of_rule("en-vulgar"), Some(Attribute::Profanity));
        assert_eq!(kind_of_rule("links-any"), None);
    }

    #[test]
    fn caught_counts_strictly_above() {
        let c = caught(&[0.8, 0.81, 0.2], &[true, true, false], 0.8);
        assert_eq!(c.flagged, 1);
        assert_eq!(c.precision, Some(1.0));
        assert_eq!(c.recall, Some(0.5));
    }
}
