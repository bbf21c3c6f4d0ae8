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
//!
//! The parts: `errors` (Google's error shape and the middleware that keeps it), `key` (the
//! key in `?key=` or `X-Goog-Api-Key`, and its site), `request` (Google-shaped requests and
//! their validation), `answer` (scoring a validated `comments:analyze` request).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::{ApiKeyId, FeedbackId, Role, SiteId};
use crate::error::ApiError;
use crate::extract::{parse_json, JsonBytes};
use crate::metrics::Metrics;
use crate::scoring::perspective::{Attribute, Calibration, CALIBRATION_FILE};
use crate::state::AppState;
use crate::store::{self, feedback};

mod answer;
mod errors;
mod key;
mod request;

pub use answer::{AnalyzeResponse, AttributeScores, Score, SpanScore};
pub use errors::{
    google_errors, too_large_before_body, GoogleError, GoogleErrorBody, GoogleErrorResponses,
};
pub use key::key_out_of_url;
pub use request::{
    AnalyzeRequest, AttributeParameters, Context, SuggestRequest, SuggestedScore, SuggestedScores,
    TextEntry,
};

use answer::score;
use key::{api_key, key_site};
use request::{analysis, suggestion, Suggestion};

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

/// The answer of `comments:suggestscore`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub requested_languages: Vec<String>,
    pub detected_languages: Vec<String>,
}

/// Counts a Perspective request by operation and outcome (`ok` or the lower-cased error type).
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

/// `result`, counted by [`count`].
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

/// [`analyze`] before it is counted.
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

/// [`suggest_score`] before it is counted.
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
        let rows = feedback_rows(&s, site, key_id, t);
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

/// The feedback rows of a suggestion, one per attribute scored, for `site` and the key `key_id`.
fn feedback_rows(
    s: &Suggestion,
    site: SiteId,
    key_id: ApiKeyId,
    t: chrono::NaiveDateTime,
) -> Vec<feedback::NewFeedback> {
    let lang = s.languages.first().cloned().unwrap_or(s.detected.clone());
    s.scores
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
        .collect()
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
#[tracing::instrument(name = "feedback_list", skip_all, fields(key_id = caller.key_id.0))]
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
    let (site, before) = (caller.site_id, query.before.map(FeedbackId));
    let (items, counts) = store::run(&state.pool, move |conn| {
        feedback::list(conn, site, before, limit)
    })
    .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id.0))
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
