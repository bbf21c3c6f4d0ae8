//! The answer of `comments:analyze`: the language a text is scored in, the site's verdict on
//! it, and the requested attributes' scores (with their spans) in Perspective's shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::request::Analysis;
use super::{GoogleError, PROBABILITY, SCORED};
use crate::domain::UnscoredLanguage;
use crate::scoring::perspective::{
    attribute_scores, Attribute, AttributeScores as Computed, Calibration,
};
use crate::scoring::{lang, normalise, AuthorHistory, Thresholds};

/// A score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Score {
    pub value: f64,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// A span's score (character offsets into the text, end exclusive).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpanScore {
    pub begin: usize,
    pub end: usize,
    pub score: Score,
}

/// One attribute of the answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeScores {
    pub summary_score: Score,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span_scores: Option<Vec<SpanScore>>,
}

/// The answer of `comments:analyze` (Perspective's `AnalyzeCommentResponse`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeResponse {
    pub attribute_scores: BTreeMap<String, AttributeScores>,
    pub languages: Vec<String>,
    pub detected_languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// The language a text is scored in and the detected one: the first requested language, else
/// the detected one. `Err` names the first language the model does not score.
pub(super) fn scoring_language(
    text: &str,
    requested: &[String],
) -> (Result<String, String>, String) {
    let detected = lang::detect(&normalise::normalise(text), text).to_owned();
    let unsupported = |l: &str| !SCORED.contains(&l) && l != "und";
    let chosen = match requested.iter().find(|l| unsupported(l)) {
        Some(l) => Err(l.clone()),
        None => match requested.first() {
            Some(l) => Ok(l.clone()),
            None if unsupported(&detected) => Err(detected.clone()),
            None => Ok(detected.clone()),
        },
    };
    (chosen, detected)
}

/// Scores a validated request (pure: the rules are the site's).
pub(super) fn score(
    request: &Analysis,
    judge: &crate::judge::Judge,
    model: &crate::scoring::Scorer,
    rules: &crate::scoring::RuleSet,
    calibration: &Calibration,
) -> Result<AnalyzeResponse, GoogleError> {
    let (chosen, detected) = scoring_language(&request.text, &request.languages);
    let languages = if request.languages.is_empty() {
        vec![detected.clone()]
    } else {
        request.languages.clone()
    };
    let answer = |attribute_scores| AnalyzeResponse {
        attribute_scores,
        languages,
        detected_languages: vec![detected],
        client_token: request.client_token.clone(),
    };
    let lang = match chosen {
        Ok(l) => l,
        Err(_) if request.drop_unsupported => return Ok(answer(BTreeMap::new())),
        Err(l) => return Err(language_not_supported(request.attributes[0].0, &l)),
    };
    let verdict = judge.verdict_by(
        model,
        &request.text,
        Some(&lang),
        AuthorHistory {
            approved_count: u32::MAX,
            ..AuthorHistory::default()
        },
        rules,
        &Thresholds::default(),
        UnscoredLanguage::Review,
    );
    let scores = attribute_scores(&verdict, &request.text, calibration);
    Ok(answer(requested_scores(request, &scores)))
}

/// Perspective's refusal of a language the model does not score, naming the first attribute.
fn language_not_supported(attribute: Attribute, lang: &str) -> GoogleError {
    let attribute = attribute.name();
    let mut e = GoogleError::invalid(
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        format!("Attribute {attribute} does not support request languages: {lang}"),
    );
    e.message
        .push_str(&format!(" (Vigie scores {})", SCORED.join(", ")));
    e
}

/// The requested attributes' scores (spans when asked), leaving out those under their
/// threshold.
fn requested_scores(request: &Analysis, scores: &Computed) -> BTreeMap<String, AttributeScores> {
    let mut out = BTreeMap::new();
    for (attribute, threshold) in &request.attributes {
        let value = f64::from(scores.value(*attribute));
        // Perspective's scores carry a few digits; f32 noise is dropped.
        let value = (value * 1e6).round() / 1e6;
        if threshold.is_some_and(|t| value < t) {
            continue;
        }
        let summary = Score {
            value,
            kind: Some(PROBABILITY.into()),
        };
        let span_scores = request.spans.then(|| {
            scores
                .spans(*attribute)
                .iter()
                .map(|&(begin, end)| SpanScore {
                    begin,
                    end,
                    score: summary.clone(),
                })
                .collect()
        });
        out.insert(
            attribute.name().to_owned(),
            AttributeScores {
                summary_score: summary,
                span_scores,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::request::languages;
    use super::*;

    #[test]
    fn languages_are_primary_subtags_and_unscored_ones_are_named() {
        assert_eq!(
            languages(Some(vec!["fr-FR".into(), "fr".into(), "EN".into()])).unwrap(),
            ["fr", "en"]
        );
        assert!(languages(Some(vec!["1x".into()])).is_err());
        let (chosen, _) = scoring_language("Bonjour à tous", &["de".into()]);
        assert_eq!(chosen, Err("de".into()));
        let (chosen, detected) = scoring_language("Merci pour cet article très clair", &[]);
        assert_eq!((chosen, detected.as_str()), (Ok("fr".into()), "fr"));
    }
}
