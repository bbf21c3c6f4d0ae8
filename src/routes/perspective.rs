//! A drop-in for Google's Perspective API (`commentanalyzer.googleapis.com/v1alpha1`): Coral
//! Talk and other Perspective clients switch to Vigie by changing the endpoint URL and the key.
//!
//! - `POST /perspective/v1alpha1/comments:analyze`: scores a text with the site's active model
//!   and rules ([`crate::scoring::perspective`] says how each attribute is computed). Stateless:
//!   nothing of the text is stored, whatever `doNotStore` says; only counters in `/metrics`.
//! - `POST /perspective/v1alpha1/comments:suggestscore`: a moderator's decision sent back as a
//!   labelled example of the key's site ([`crate::store::feedback`]).
//! - `GET /v1/feedback` (admin, a Vigie route): those examples with counts per label.
//!
//! The key is a Vigie key of the site (role `ingest`; `admin` passes too), in `?key=` or the
//! `X-Goog-Api-Key` header. Every error under `/perspective/` is Google's JSON
//! (`{"error": {"code", "message", "status", "details": [{"@type", "errorType"}]}}`), never
//! `application/problem+json`: the handlers answer so, and [`google_errors`] rewrites the
//! problems answered before them (query string with NUL, unknown path, other method).

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::{Role, UnscoredLanguage};
use crate::error::ApiError;
use crate::extract::{parse_json, JsonBytes};
use crate::metrics::Metrics;
use crate::scoring::perspective::{attribute_scores, Attribute, Calibration, CALIBRATION_FILE};
use crate::scoring::{lang, normalise, AuthorHistory, Thresholds};
use crate::state::AppState;
use crate::store::{self, feedback};

/// Where the Perspective-compatible routes live (the "endpoint" set in Coral's admin).
pub const SCOPE: &str = "/perspective/v1alpha1";
/// Longest comment text, in bytes: Perspective's own documented limit.
pub const MAX_TEXT_BYTES: usize = 20_480;
/// Longest `clientToken`, `communityId`, `sessionId` and language tag accepted.
pub const MAX_TOKEN_CHARS: usize = 512;
/// Most languages in `languages`.
pub const MAX_LANGUAGES: usize = 8;
/// Most context entries read (the rest are ignored; they are never stored).
pub const MAX_CONTEXT_ENTRIES: usize = 16;
/// Longest story URL or Coral comment id kept from a feedback's context.
pub const MAX_CONTEXT_FIELD_CHARS: usize = 2_048;
/// The `@type` of Perspective's error details.
const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error";
/// Perspective's one score type.
const PROBABILITY: &str = "PROBABILITY";
/// Languages the model scores.
const SCORED: [&str; 2] = ["fr", "en"];

/// The calibration of the loaded model, read once at start from its model directory.
pub struct PerspectiveCalibration(pub Calibration);

impl PerspectiveCalibration {
    /// `perspective_calibration.json` of the loaded model's directory, if it was fitted on that
    /// model; otherwise the model's probabilities as they are (logged).
    pub fn load(state: &AppState) -> PerspectiveCalibration {
        let version = state.judge.model_version();
        let dir = crate::judge::resolve_model_dir(std::path::Path::new(&state.settings.model_dir));
        let path = dir.map(|d| d.join(CALIBRATION_FILE));
        let read = path
            .as_ref()
            .map_err(|e| e.to_string())
            .and_then(|p| std::fs::read_to_string(p).map_err(|e| e.to_string()))
            .and_then(|t| serde_json::from_str::<Calibration>(&t).map_err(|e| e.to_string()));
        match read {
            Ok(c) if c.model_version == version => PerspectiveCalibration(c),
            Ok(c) => {
                tracing::warn!(model = version, calibrated = c.model_version,
                    "the Perspective calibration is of another model: TOXICITY is not calibrated (run scripts/perspective_calibration.sh)");
                PerspectiveCalibration(Calibration::identity(version))
            }
            Err(e) => {
                tracing::warn!(model = version, error = %e,
                    "no Perspective calibration for this model: TOXICITY is not calibrated (run scripts/perspective_calibration.sh)");
                PerspectiveCalibration(Calibration::identity(version))
            }
        }
    }
}

/// An error in Google's shape.
#[derive(Debug, Clone)]
pub struct GoogleError {
    pub code: StatusCode,
    /// Google's canonical status (`INVALID_ARGUMENT`, `PERMISSION_DENIED`, …).
    pub status: &'static str,
    /// Perspective's `errorType` (`COMMENT_EMPTY`, `LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`, …).
    pub error_type: &'static str,
    pub message: String,
}

impl GoogleError {
    fn invalid(error_type: &'static str, message: impl Into<String>) -> GoogleError {
        GoogleError {
            code: StatusCode::BAD_REQUEST,
            status: "INVALID_ARGUMENT",
            error_type,
            message: message.into(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {
            "code": self.code.as_u16(),
            "message": self.message,
            "status": self.status,
            "details": [{"@type": ERROR_DETAIL_TYPE, "errorType": self.error_type}],
        }})
    }

    /// The same failure as Vigie's API would name it, in Google's words.
    pub fn from_api(e: &ApiError) -> GoogleError {
        let message = match e {
            ApiError::Internal(_) => "internal error; it was logged".to_owned(),
            ApiError::Validation(v) => {
                format!("Invalid JSON payload received: {}: {}", v.field, v.detail)
            }
            ApiError::MalformedJson(m) => format!("Invalid JSON payload received: {m}"),
            other => other.to_string(),
        };
        google_error(e.status_code(), message)
    }
}

impl std::fmt::Display for GoogleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.error_type, self.message)
    }
}

impl ResponseError for GoogleError {
    fn status_code(&self) -> StatusCode {
        self.code
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.code);
        match self.code {
            StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            StatusCode::REQUEST_TIMEOUT => {
                response.force_close();
            }
            _ => {}
        }
        response
            .content_type("application/json; charset=UTF-8")
            .body(self.body().to_string())
    }
}

impl From<ApiError> for GoogleError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Internal(cause) = &e {
            tracing::error!(error = ?cause, "perspective request failed");
        }
        GoogleError::from_api(&e)
    }
}

impl From<store::StoreError> for GoogleError {
    fn from(e: store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

/// Middleware: under `/perspective/`, a problem document answered before the handlers (a NUL
/// in the query string, an unknown path, another method, an extractor) becomes Google's JSON
/// with the same status and message.
pub async fn google_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.path().starts_with("/perspective/") {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    }
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        // Rare (errors are answered where they occur): rendered by whoever is outside, so
        // rendered as Google's error.
        Err(e) => {
            let code = e.as_response_error().status_code();
            return Err(google_error(code, e.to_string()).into());
        }
    };
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == crate::error::PROBLEM_JSON.as_bytes());
    if !is_problem {
        return Ok(res);
    }
    let (request, response) = res.into_parts();
    let code = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|p| p["detail"].as_str().map(str::to_owned))
        .unwrap_or_else(|| code.canonical_reason().unwrap_or("error").to_owned());
    let mut answer = google_error(code, detail).error_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ServiceResponse::new(request, answer))
}

/// The key a Perspective client sent in `?key=`, taken out of the URL by [`key_out_of_url`].
#[derive(Debug, Clone)]
struct QueryKey(String);

/// Middleware, outermost (before the request is logged): under `/perspective/`, a `key` query
/// parameter is moved out of the URL into the request's extensions, so that the secret never
/// reaches the request span's `http.target` nor any log line. A value that is not clean text
/// (NUL, invalid UTF-8) is left where it is, for the edge's 400.
pub async fn key_out_of_url(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let query = req.uri().query().unwrap_or("");
    if req.path().starts_with("/perspective/") && query.split('&').any(|p| p.starts_with("key=")) {
        let mut key = None;
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let value = pair.strip_prefix("key=").and_then(|v| {
                let plus = v.replace('+', " ");
                percent_encoding::percent_decode_str(&plus)
                    .decode_utf8()
                    .ok()
                    .filter(|v| !v.chars().any(char::is_control))
                    .map(|v| v.into_owned())
            });
            match value {
                Some(v) if key.is_none() => key = Some(v),
                Some(_) => {}
                None => kept.push(pair.to_owned()),
            }
        }
        if let Some(key) = key {
            let path = req.path().to_owned();
            let uri = if kept.is_empty() {
                path
            } else {
                format!("{path}?{}", kept.join("&"))
            };
            if let Ok(uri) = uri.parse() {
                req.head_mut().uri = uri;
                req.extensions_mut().insert(QueryKey(key));
            }
        }
    }
    next.call(req).await
}

/// Google's error for an HTTP status answered by the rest of the app.
fn google_error(code: StatusCode, message: String) -> GoogleError {
    let (status, error_type) = match code.as_u16() {
        400 => ("INVALID_ARGUMENT", "INVALID_REQUEST"),
        401 => ("INVALID_ARGUMENT", "API_KEY_INVALID"),
        403 => ("PERMISSION_DENIED", "PERMISSION_DENIED"),
        404 => ("NOT_FOUND", "NOT_FOUND"),
        405 => ("UNIMPLEMENTED", "METHOD_NOT_ALLOWED"),
        408 => ("DEADLINE_EXCEEDED", "REQUEST_TIMEOUT"),
        413 => ("INVALID_ARGUMENT", "COMMENT_TOO_LONG"),
        415 => ("INVALID_ARGUMENT", "INVALID_CONTENT_TYPE"),
        422 => ("INVALID_ARGUMENT", "INVALID_REQUEST"),
        429 => ("RESOURCE_EXHAUSTED", "RATE_LIMITED"),
        503 => ("UNAVAILABLE", "UNAVAILABLE"),
        _ => ("INTERNAL", "INTERNAL"),
    };
    let code = match code.as_u16() {
        401 | 413 | 415 | 422 => StatusCode::BAD_REQUEST,
        _ => code,
    };
    GoogleError {
        code,
        status,
        error_type,
        message,
    }
}

/// `Expect: 100-continue` with a declared length over the limit, under `/perspective/`: the
/// answer sent before the body comes (see [`crate::extract::expect_continue`]).
pub fn too_large_before_body(limit: usize) -> HttpResponse {
    GoogleError::invalid(
        "COMMENT_TOO_LONG",
        format!("request body is larger than {limit} bytes"),
    )
    .error_response()
}

// ---------------------------------------------------------------- requests and answers

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

/// The answer of `comments:suggestscore`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub requested_languages: Vec<String>,
    pub detected_languages: Vec<String>,
}

/// Google's error body (documentation only).
#[derive(Debug, Serialize, ToSchema)]
pub struct GoogleErrorBody {
    #[schema(value_type = Object)]
    pub error: Value,
}

/// The errors of the Perspective routes, documented once for both.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum GoogleErrorResponses {
    /// Google's error: a wrong key (`API_KEY_INVALID`) or a bad request (`COMMENT_EMPTY`,
    /// `COMMENT_TOO_LONG`, `NO_REQUESTED_ATTRIBUTES`, `ATTRIBUTE_NOT_SUPPORTED`,
    /// `LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`, `INVALID_SCORE_TYPE`, `INVALID_REQUEST`,
    /// `INVALID_CONTENT_TYPE`).
    #[response(status = 400)]
    BadRequest(#[to_schema] GoogleErrorBody),
    /// Google's error: no key, or a key whose role is not ingest or admin.
    #[response(status = 403)]
    PermissionDenied(#[to_schema] GoogleErrorBody),
    /// Google's error: the body did not arrive within `body_read_timeout_secs`.
    #[response(status = 408)]
    DeadlineExceeded(#[to_schema] GoogleErrorBody),
    /// Google's error: the database is unavailable (`Retry-After`).
    #[response(status = 503)]
    Unavailable(#[to_schema] GoogleErrorBody),
}

// ---------------------------------------------------------------- validation

/// The key of the request: `?key=` or `X-Goog-Api-Key`.
fn api_key(req: &HttpRequest) -> Result<String, GoogleError> {
    #[derive(Deserialize)]
    struct KeyQuery {
        key: Option<String>,
    }
    let moved = req.extensions().get::<QueryKey>().map(|k| k.0.clone());
    let from_query = web::Query::<KeyQuery>::from_query(req.query_string())
        .map_err(|e| GoogleError::invalid("INVALID_REQUEST", format!("invalid query string: {e}")))?
        .into_inner()
        .key
        .or(moved);
    let from_header = req
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match from_query.or(from_header).map(|k| k.trim().to_owned()) {
        Some(k) if !k.is_empty() && k.len() <= MAX_TOKEN_CHARS => Ok(k),
        Some(k) if !k.is_empty() => Err(key_invalid()),
        _ => Err(GoogleError {
            code: StatusCode::FORBIDDEN,
            status: "PERMISSION_DENIED",
            error_type: "API_KEY_MISSING",
            message: "The request is missing a valid API key.".into(),
        }),
    }
}

fn key_invalid() -> GoogleError {
    GoogleError::invalid(
        "API_KEY_INVALID",
        "API key not valid. Please pass a valid API key.",
    )
}

/// The site and id of a valid ingest (or admin) key.
fn key_site(
    conn: &mut store::DbConnection,
    key: &str,
) -> Result<Result<(i64, i64), GoogleError>, store::StoreError> {
    let Some(record) = store::keys::authenticate(conn, key)? else {
        return Ok(Err(key_invalid()));
    };
    let role: Role = record
        .role
        .parse()
        .map_err(|e| store::StoreError::Other(anyhow::anyhow!("key {}: {e}", record.id)))?;
    if matches!(role, Role::Ingest | Role::Admin) {
        Ok(Ok((record.site_id, record.id)))
    } else {
        Ok(Err(GoogleError {
            code: StatusCode::FORBIDDEN,
            status: "PERMISSION_DENIED",
            error_type: "PERMISSION_DENIED",
            message: format!(
                "this key has role {role}; the Perspective API takes a site's ingest key"
            ),
        }))
    }
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
fn languages(tags: Option<Vec<String>>) -> Result<Vec<String>, GoogleError> {
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
type Requested = Vec<(Attribute, Option<f64>)>;

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
struct Analysis {
    text: String,
    attributes: Requested,
    languages: Vec<String>,
    spans: bool,
    drop_unsupported: bool,
    client_token: Option<String>,
}

fn analysis(request: AnalyzeRequest) -> Result<Analysis, GoogleError> {
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

/// The language a text is scored in and the detected one: the first requested language, else
/// the detected one. `Err` names the first language the model does not score.
fn scoring_language(text: &str, requested: &[String]) -> (Result<String, String>, String) {
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

fn count(metrics: Option<&web::Data<Metrics>>, operation: &'static str, outcome: &str) {
    if let Some(m) = metrics {
        let outcome = outcome.to_ascii_lowercase();
        m.record(|| {
            metrics::counter!("vigie_perspective_requests_total",
                "operation" => operation, "outcome" => outcome)
            .increment(1)
        });
    }
}

fn counted<T>(
    metrics: Option<&web::Data<Metrics>>,
    operation: &'static str,
    result: Result<T, GoogleError>,
) -> Result<T, GoogleError> {
    count(
        metrics,
        operation,
        match &result {
            Ok(_) => "ok",
            Err(e) => e.error_type,
        },
    );
    result
}

// ---------------------------------------------------------------- handlers

/// Perspective's `comments:analyze`: scores of the requested attributes for a text, from the
/// site's active model and rules. Nothing of the text is stored. Errors are Google's JSON.
#[utoipa::path(post, path = "/perspective/v1alpha1/comments:analyze", tag = "perspective",
    security(("perspective_key" = []), ("perspective_key_header" = [])),
    request_body = AnalyzeRequest,
    responses((status = 200, description = "the scores", body = AnalyzeResponse), GoogleErrorResponses))]
#[post("/perspective/v1alpha1/comments:analyze")]
#[tracing::instrument(name = "perspective_analyze", skip_all)]
pub async fn analyze(
    req: HttpRequest,
    state: web::Data<AppState>,
    calibration: Option<web::Data<PerspectiveCalibration>>,
    metrics: Option<web::Data<Metrics>>,
    body: Result<JsonBytes, ApiError>,
) -> Result<HttpResponse, GoogleError> {
    let result = analyze_inner(&req, &state, calibration, metrics.as_ref(), body).await;
    counted(metrics.as_ref(), "analyze", result)
}

async fn analyze_inner(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    calibration: Option<web::Data<PerspectiveCalibration>>,
    metrics: Option<&web::Data<Metrics>>,
    body: Result<JsonBytes, ApiError>,
) -> Result<HttpResponse, GoogleError> {
    let key = api_key(req)?;
    // The key is judged first; the request's own faults come after it.
    let request = body
        .map_err(GoogleError::from)
        .and_then(|b| parse_json::<AnalyzeRequest>(&b.0).map_err(GoogleError::from))
        .and_then(analysis);
    let judge = state.judge.clone();
    let version = judge.model_version().to_owned();
    let calibration = calibration.map(|c| c.into_inner()).unwrap_or_else(|| {
        std::sync::Arc::new(PerspectiveCalibration(Calibration::identity(&version)))
    });
    let answer = store::run(&state.pool, move |conn| {
        let site = match key_site(conn, &key)? {
            Ok((site, _)) => site,
            Err(e) => return Ok(Err(e)),
        };
        let request = match request {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let (_, rules) = judge.rules_for(conn, site)?;
        // the site's active model; a registered one brings its own calibration (or none)
        let models = judge.models_for(conn, site)?;
        let identity;
        let calibration = match &models.active_calibration {
            Some(c) => c.as_ref(),
            None if models.active.model_version() == calibration.0.model_version => &calibration.0,
            None => {
                identity = Calibration::identity(models.active.model_version());
                &identity
            }
        };
        Ok(score(&request, &judge, &models.active, &rules, calibration))
    })
    .await??;
    if let Some(m) = metrics {
        m.record(|| {
            for name in answer.attribute_scores.keys() {
                metrics::counter!("vigie_perspective_attributes_total", "attribute" => name.clone())
                    .increment(1);
            }
        });
    }
    Ok(HttpResponse::Ok().json(answer))
}

/// Scores a validated request (pure: the rules are the site's).
fn score(
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
    let lang = match chosen {
        Ok(l) => l,
        Err(_) if request.drop_unsupported => {
            return Ok(AnalyzeResponse {
                attribute_scores: BTreeMap::new(),
                languages,
                detected_languages: vec![detected],
                client_token: request.client_token.clone(),
            })
        }
        Err(l) => {
            let attribute = request.attributes[0].0.name();
            let mut e = GoogleError::invalid(
                "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                format!("Attribute {attribute} does not support request languages: {l}"),
            );
            e.message
                .push_str(&format!(" (Vigie scores {})", SCORED.join(", ")));
            return Err(e);
        }
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
    let mut attribute_scores_out = BTreeMap::new();
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
        attribute_scores_out.insert(
            attribute.name().to_owned(),
            AttributeScores {
                summary_score: summary,
                span_scores,
            },
        );
    }
    Ok(AnalyzeResponse {
        attribute_scores: attribute_scores_out,
        languages,
        detected_languages: vec![detected],
        client_token: request.client_token.clone(),
    })
}

/// What Coral writes in `context.entries[].text`: a JSON object with the comment's URL (the
/// story's, with `?commentID=`), its id and its parent's id.
#[derive(Debug, Default, PartialEq)]
struct CoralContext {
    story_url: Option<String>,
    comment_id: Option<String>,
    parent_id: Option<String>,
}

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

/// Perspective's `comments:suggestscore`: a moderator's decision on a comment (Coral: score 0
/// approved, 1 rejected), kept as a labelled example of the key's site; a suggestion with the
/// same `clientToken` replaces the previous one.
#[utoipa::path(post, path = "/perspective/v1alpha1/comments:suggestscore", tag = "perspective",
    security(("perspective_key" = []), ("perspective_key_header" = [])),
    request_body = SuggestRequest,
    responses((status = 200, description = "stored", body = SuggestResponse), GoogleErrorResponses))]
#[post("/perspective/v1alpha1/comments:suggestscore")]
#[tracing::instrument(name = "perspective_suggestscore", skip_all)]
pub async fn suggest_score(
    req: HttpRequest,
    state: web::Data<AppState>,
    metrics: Option<web::Data<Metrics>>,
    body: Result<JsonBytes, ApiError>,
) -> Result<HttpResponse, GoogleError> {
    let result = suggest_inner(&req, &state, metrics.as_ref(), body).await;
    counted(metrics.as_ref(), "suggestscore", result)
}

/// A validated suggestion, before it has a site.
struct Suggestion {
    text: String,
    scores: Vec<(Attribute, f64)>,
    languages: Vec<String>,
    detected: String,
    community_id: Option<String>,
    client_token: Option<String>,
    context: CoralContext,
}

fn suggestion(request: SuggestRequest) -> Result<Suggestion, GoogleError> {
    let text = comment_text(request.comment)?;
    let scores = request.attribute_scores.unwrap_or_default();
    if scores.is_empty() {
        return Err(GoogleError::invalid(
            "NO_REQUESTED_ATTRIBUTES",
            "attributeScores must hold at least one attribute",
        ));
    }
    let mut out = Vec::new();
    for (name, s) in scores {
        let attribute = Attribute::parse(&name).ok_or_else(|| {
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
        out.push((attribute, value));
    }
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

async fn suggest_inner(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    metrics: Option<&web::Data<Metrics>>,
    body: Result<JsonBytes, ApiError>,
) -> Result<HttpResponse, GoogleError> {
    let key = api_key(req)?;
    let request = body
        .map_err(GoogleError::from)
        .and_then(|b| parse_json::<SuggestRequest>(&b.0).map_err(GoogleError::from))
        .and_then(suggestion);
    let answer = store::run(&state.pool, move |conn| {
        let (site, key_id) = match key_site(conn, &key)? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        let s = match request {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let t = store::now();
        let lang = s.languages.first().cloned().unwrap_or(s.detected.clone());
        let rows: Vec<feedback::NewFeedback> = s
            .scores
            .iter()
            .map(|&(attribute, score)| feedback::NewFeedback {
                site_id: site,
                client_token: s.client_token.clone(),
                attribute: attribute.name().to_owned(),
                score,
                label: i32::from(score >= 0.5),
                text: s.text.clone(),
                text_hash: store::comments::body_hash(&s.text),
                lang: Some(lang.clone()),
                community_id: s.community_id.clone(),
                coral_comment_id: s.context.comment_id.clone(),
                coral_parent_id: s.context.parent_id.clone(),
                story_url: s.context.story_url.clone(),
                key_id: Some(key_id),
                updated_at: t,
            })
            .collect();
        feedback::record_latest_wins(conn, &rows, t)?;
        let labels: Vec<(&'static str, i32)> = rows
            .iter()
            .map(|r| {
                (
                    Attribute::parse(&r.attribute).map_or("", |a| a.name()),
                    r.label,
                )
            })
            .collect();
        Ok(Ok((
            SuggestResponse {
                client_token: s.client_token,
                requested_languages: s.languages,
                detected_languages: vec![s.detected],
            },
            labels,
        )))
    })
    .await??;
    let (answer, labels) = answer;
    if let Some(m) = metrics {
        m.record(|| {
            for (attribute, label) in labels {
                metrics::counter!("vigie_perspective_feedback_total",
                    "attribute" => attribute, "label" => label.to_string())
                .increment(1);
            }
        });
    }
    Ok(HttpResponse::Ok().json(answer))
}

// ---------------------------------------------------------------- the site's feedback

/// Most examples on one page of `GET /v1/feedback`.
pub const MAX_FEEDBACK_PAGE: i64 = 200;
const DEFAULT_FEEDBACK_PAGE: i64 = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackQuery {
    /// 1 to 200 (50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_before` of the previous page.
    #[param(minimum = 1)]
    pub before: Option<i64>,
}

/// A page of feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackPage {
    /// Newest first: `id`, `client_token`, `attribute`, `score`, `label` (1 removed, 0 kept),
    /// `text`, `lang`, `community_id`, `coral_comment_id`, `coral_parent_id`, `story_url`,
    /// `created_at`, `updated_at`.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// All the site's examples by attribute and label.
    pub counts: Vec<feedback::LabelCount>,
    /// Pass as `before` for the next page; `null` on the last.
    pub next_before: Option<i64>,
}

/// The site's Perspective feedback (admin): the moderators' decisions Coral (or another
/// Perspective client) sent to `comments:suggestscore`, newest first, with counts per label.
#[utoipa::path(get, path = "/v1/feedback", tag = "perspective", security(("bearer" = ["admin"])),
    params(FeedbackQuery),
    responses((status = 200, body = FeedbackPage)))]
#[get("/v1/feedback")]
#[tracing::instrument(name = "feedback_list", skip_all, fields(key_id = caller.key_id))]
pub async fn list_feedback(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<FeedbackQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let limit = query.limit.unwrap_or(DEFAULT_FEEDBACK_PAGE);
    if !(1..=MAX_FEEDBACK_PAGE).contains(&limit) {
        return Err(crate::domain::intake::ValidationError::new(
            "limit",
            format!("must be between 1 and {MAX_FEEDBACK_PAGE}"),
        )
        .into());
    }
    if query.before.is_some_and(|b| b < 1) {
        return Err(
            crate::domain::intake::ValidationError::new("before", "must be at least 1").into(),
        );
    }
    let (site, before) = (caller.site_id, query.before);
    let (items, counts) = store::run(&state.pool, move |conn| {
        feedback::list(conn, site, before, limit)
    })
    .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(HttpResponse::Ok().json(FeedbackPage {
        items: items.iter().map(feedback::to_json).collect(),
        counts,
        next_before,
    }))
}

/// The OpenAPI security schemes of the Perspective routes (the key in `?key=` or
/// `X-Goog-Api-Key`).
pub struct Docs;

impl utoipa::Modify for Docs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "perspective_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "key",
                "a Vigie key of the site (role ingest), as Perspective clients send it",
            ))),
        );
        components.add_security_scheme(
            "perspective_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Goog-Api-Key",
                "the same key in Google's header",
            ))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn google_errors_have_code_status_message_and_error_type() {
        let e = GoogleError::from_api(&ApiError::UnsupportedMediaType);
        let body = e.body();
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(body["error"]["details"][0]["@type"], ERROR_DETAIL_TYPE);
        assert_eq!(
            body["error"]["details"][0]["errorType"],
            "INVALID_CONTENT_TYPE"
        );
    }
}
