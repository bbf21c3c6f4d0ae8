//! Google-shaped requests of the Perspective routes (`AnalyzeCommentRequest`,
//! `SuggestCommentScoreRequest`) and their validation into [`Analysis`] and [`Suggestion`];
//! every refusal is a [`GoogleError`] with Perspective's `errorType`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    GoogleError, MAX_CONTEXT_ENTRIES, MAX_CONTEXT_FIELD_CHARS, MAX_LANGUAGES, MAX_TEXT_BYTES,
    MAX_TOKEN_CHARS, PROBABILITY,
};
use crate::scoring::perspective::Attribute;
use crate::scoring::{lang, normalise};

/// `comment` (and each context entry): the text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TextEntry {
    /// The comment's text; at most 20,480 bytes.
    #[schema(max_length = 20480)]
    pub text: Option<String>,
    /// `PLAIN_TEXT` or `HTML` (both are scored as they are).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Options of one requested attribute.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeParameters {
    /// `PROBABILITY` (the only type Vigie answers) or absent.
    pub score_type: Option<String>,
    /// Leave the attribute out of the answer when its score is below this (0 to 1).
    pub score_threshold: Option<f64>,
}

/// Perspective's `context`: accepted; only `entries[].text` of a feedback is read.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Context {
    pub entries: Option<Vec<TextEntry>>,
}

/// `comments:analyze` (Perspective's `AnalyzeCommentRequest`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeRequest {
    pub comment: Option<TextEntry>,
    /// Attribute names (`TOXICITY`, `SEVERE_TOXICITY`, `INSULT`, `THREAT`, `IDENTITY_ATTACK`,
    /// `PROFANITY`, `SPAM`) with their options, usually `{}`.
    #[schema(value_type = Object)]
    pub requested_attributes: Option<BTreeMap<String, Option<AttributeParameters>>>,
    /// Language tags of the comment (`fr`, `en`, `fr-FR`…); detected when absent.
    pub languages: Option<Vec<String>>,
    /// Accepted; Vigie never stores an analysed text, whatever it says.
    pub do_not_store: Option<bool>,
    /// Adds `spanScores` (the words behind each score, character offsets).
    pub span_annotations: Option<bool>,
    /// Echoed in the answer.
    pub client_token: Option<String>,
    /// Accepted, not used.
    pub community_id: Option<String>,
    /// Accepted, not used.
    pub session_id: Option<String>,
    /// Accepted, not used.
    pub context: Option<Context>,
    /// An unsupported language drops the attributes instead of answering 400.
    pub drop_unsupported_attributes: Option<bool>,
}

/// A suggested score (`summaryScore.value`: Coral sends 0 for approved, 1 for rejected).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedScores {
    pub summary_score: Option<SuggestedScore>,
}

/// The suggested value, 0 to 1.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SuggestedScore {
    pub value: Option<f64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `comments:suggestscore` (Perspective's `SuggestCommentScoreRequest`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestRequest {
    pub comment: Option<TextEntry>,
    #[schema(value_type = Object)]
    pub attribute_scores: Option<BTreeMap<String, Option<SuggestedScores>>>,
    pub languages: Option<Vec<String>>,
    /// `entries[].text`: Coral puts a JSON string with the comment's URL and ids there.
    pub context: Option<Context>,
    pub community_id: Option<String>,
    /// Deduplicates: the latest suggestion with a token wins.
    pub client_token: Option<String>,
    pub session_id: Option<String>,
}

/// `comment.text`: present, not blank, at most [`MAX_TEXT_BYTES`].
fn comment_text(comment: Option<TextEntry>) -> Result<String, GoogleError> {
    let text = comment
        .and_then(|c| c.text)
        .ok_or_else(|| GoogleError::invalid("COMMENT_EMPTY", "comment.text is required"))?;
    if text.trim().is_empty() {
        return Err(GoogleError::invalid(
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(GoogleError::invalid(
            "COMMENT_TOO_LONG",
            format!(
                "Comment text too long: {} bytes, at most {MAX_TEXT_BYTES}",
                text.len()
            ),
        ));
    }
    Ok(text)
}

/// An optional short text field, at most [`MAX_TOKEN_CHARS`].
fn short(field: &str, value: Option<String>) -> Result<Option<String>, GoogleError> {
    match value {
        Some(v) if v.chars().count() > MAX_TOKEN_CHARS => Err(GoogleError::invalid(
            "INVALID_REQUEST",
            format!("{field} must be at most {MAX_TOKEN_CHARS} characters"),
        )),
        other => Ok(other),
    }
}

/// The request's language tags as primary subtags (`fr-FR` → `fr`), in order, no duplicate.
pub(super) fn languages(tags: Option<Vec<String>>) -> Result<Vec<String>, GoogleError> {
    let tags = tags.unwrap_or_default();
    if tags.len() > MAX_LANGUAGES {
        return Err(GoogleError::invalid(
            "INVALID_REQUEST",
            format!("languages: at most {MAX_LANGUAGES}"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let primary = lang::primary_subtag(&tag);
        let valid = !primary.is_empty()
            && tag.len() <= MAX_TOKEN_CHARS
            && primary.chars().all(|c| c.is_ascii_alphabetic())
            && primary.len() <= 8;
        if !valid {
            return Err(GoogleError::invalid(
                "INVALID_REQUEST",
                format!("languages: {tag:?} is not a language tag"),
            ));
        }
        if !out.contains(&primary) {
            out.push(primary);
        }
    }
    Ok(out)
}

/// A requested attribute and the threshold under which it is left out.
pub(super) type Requested = Vec<(Attribute, Option<f64>)>;

/// `requestedAttributes`: at least one, each a known attribute with a `PROBABILITY` score type
/// and a threshold between 0 and 1.
fn requested(
    attributes: Option<BTreeMap<String, Option<AttributeParameters>>>,
) -> Result<Requested, GoogleError> {
    let attributes = attributes.unwrap_or_default();
    if attributes.is_empty() {
        return Err(GoogleError::invalid(
            "NO_REQUESTED_ATTRIBUTES",
            "requestedAttributes must name at least one attribute",
        ));
    }
    let mut out = Vec::new();
    for (name, params) in attributes {
        let attribute = Attribute::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = Attribute::ALL.iter().map(|a| a.name()).collect();
            GoogleError::invalid(
                "ATTRIBUTE_NOT_SUPPORTED",
                format!(
                    "Unknown attribute: {name}. Vigie scores {}",
                    known.join(", ")
                ),
            )
        })?;
        let params = params.unwrap_or_default();
        match params.score_type.as_deref() {
            None | Some("") | Some(PROBABILITY) => {}
            Some(other) => {
                return Err(GoogleError::invalid(
                    "INVALID_SCORE_TYPE",
                    format!(
                        "{name}: score type {other} is not supported; Vigie answers PROBABILITY"
                    ),
                ))
            }
        }
        if let Some(t) = params.score_threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(GoogleError::invalid(
                    "INVALID_REQUEST",
                    format!("{name}: scoreThreshold must be between 0 and 1"),
                ));
            }
        }
        out.push((attribute, params.score_threshold));
    }
    Ok(out)
}

/// A validated analyze request.
pub(super) struct Analysis {
    pub(super) text: String,
    pub(super) attributes: Requested,
    pub(super) languages: Vec<String>,
    pub(super) spans: bool,
    pub(super) drop_unsupported: bool,
    pub(super) client_token: Option<String>,
}

/// Validates a `comments:analyze` request.
pub(super) fn analysis(request: AnalyzeRequest) -> Result<Analysis, GoogleError> {
    let text = comment_text(request.comment)?;
    let attributes = requested(request.requested_attributes)?;
    short("communityId", request.community_id)?;
    short("sessionId", request.session_id)?;
    Ok(Analysis {
        text,
        attributes,
        languages: languages(request.languages)?,
        spans: request.span_annotations.unwrap_or(false),
        drop_unsupported: request.drop_unsupported_attributes.unwrap_or(false),
        client_token: short("clientToken", request.client_token)?,
    })
}

/// What Coral writes in `context.entries[].text`: a JSON object with the comment's URL (the
/// story's, with `?commentID=`), its id and its parent's id.
#[derive(Debug, Default, PartialEq)]
pub(super) struct CoralContext {
    pub(super) story_url: Option<String>,
    pub(super) comment_id: Option<String>,
    pub(super) parent_id: Option<String>,
}

/// The first story URL, comment id and parent id found in the context's entries (at most
/// [`MAX_CONTEXT_ENTRIES`] read; an entry that is not a JSON object is skipped).
fn coral_context(context: Option<Context>) -> CoralContext {
    let mut out = CoralContext::default();
    let entries = context.and_then(|c| c.entries).unwrap_or_default();
    for entry in entries.into_iter().take(MAX_CONTEXT_ENTRIES) {
        let Some(Value::Object(fields)) = entry
            .text
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        else {
            continue;
        };
        let field = |names: &[&str]| {
            names.iter().find_map(|n| {
                fields
                    .get(*n)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty() && s.chars().count() <= MAX_CONTEXT_FIELD_CHARS)
                    .map(str::to_owned)
            })
        };
        out.story_url = out
            .story_url
            .or_else(|| field(&["url", "story_url", "storyURL"]));
        out.comment_id = out
            .comment_id
            .or_else(|| field(&["Coral_comment_id", "comment_id", "commentID"]));
        out.parent_id = out.parent_id.or_else(|| {
            field(&[
                "reply_to_id_Coral_comment_id",
                "parent_id",
                "commentParentID",
            ])
        });
    }
    out
}

/// A validated suggestion, before it has a site.
pub(super) struct Suggestion {
    pub(super) text: String,
    pub(super) scores: Vec<(Attribute, f64)>,
    pub(super) languages: Vec<String>,
    pub(super) detected: String,
    pub(super) community_id: Option<String>,
    pub(super) client_token: Option<String>,
    pub(super) context: CoralContext,
}

/// Validates a `comments:suggestscore` request and detects the language of its text.
pub(super) fn suggestion(request: SuggestRequest) -> Result<Suggestion, GoogleError> {
    let text = comment_text(request.comment)?;
    let scores = request.attribute_scores.unwrap_or_default();
    if scores.is_empty() {
        return Err(GoogleError::invalid(
            "NO_REQUESTED_ATTRIBUTES",
            "attributeScores must hold at least one attribute",
        ));
    }
    let out = scores
        .into_iter()
        .map(|(name, s)| suggested_score(&name, s))
        .collect::<Result<Vec<_>, _>>()?;
    let languages = languages(request.languages)?;
    let detected = lang::detect(&normalise::normalise(&text), &text).to_owned();
    short("sessionId", request.session_id)?;
    Ok(Suggestion {
        text,
        scores: out,
        languages,
        detected,
        community_id: short("communityId", request.community_id)?,
        client_token: short("clientToken", request.client_token)?,
        context: coral_context(request.context),
    })
}

/// One entry of `attributeScores`: a known attribute and its suggested value, 0 to 1.
fn suggested_score(
    name: &str,
    s: Option<SuggestedScores>,
) -> Result<(Attribute, f64), GoogleError> {
    let attribute = Attribute::parse(name).ok_or_else(|| {
        GoogleError::invalid(
            "ATTRIBUTE_NOT_SUPPORTED",
            format!("Unknown attribute: {name}"),
        )
    })?;
    let summary = s.and_then(|s| s.summary_score).ok_or_else(|| {
        GoogleError::invalid(
            "INVALID_REQUEST",
            format!("attributeScores.{name}.summaryScore is required"),
        )
    })?;
    match summary.kind.as_deref() {
        None | Some("") | Some(PROBABILITY) => {}
        Some(other) => {
            return Err(GoogleError::invalid(
                "INVALID_SCORE_TYPE",
                format!("{name}: score type {other} is not supported; send PROBABILITY"),
            ))
        }
    }
    let value = summary.value.ok_or_else(|| {
        GoogleError::invalid(
            "INVALID_REQUEST",
            format!("attributeScores.{name}.summaryScore.value is required"),
        )
    })?;
    if !(0.0..=1.0).contains(&value) {
        return Err(GoogleError::invalid(
            "INVALID_REQUEST",
            format!("attributeScores.{name}.summaryScore.value must be between 0 and 1"),
        ));
    }
    Ok((attribute, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn corals_context_entry_gives_the_story_url_and_ids() {
        let text = json!({
            "url": "https://example.fr/a?commentID=c-2",
            "reply_to_id_Coral_comment_id": "c-1",
            "Coral_comment_id": "c-2",
        })
        .to_string();
        let c = coral_context(Some(Context {
            entries: Some(vec![
                TextEntry {
                    text: Some("not json".into()),
                    kind: None,
                },
                TextEntry {
                    text: Some(text),
                    kind: None,
                },
            ]),
        }));
        assert_eq!(
            c,
            CoralContext {
                story_url: Some("https://example.fr/a?commentID=c-2".into()),
                comment_id: Some("c-2".into()),
                parent_id: Some("c-1".into()),
            }
        );
    }
}
