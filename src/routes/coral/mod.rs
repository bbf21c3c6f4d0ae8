//! Coral Talk's external moderation phase (`POST /v1/integrations/coral/moderate`) and its
//! settings (`/v1/integrations/coral`, admin).
//!
//! Coral signs each request with `X-Coral-Signature: sha256=<hex>[,sha256=<hex>…]`, one HMAC
//! of the exact body per active signing secret. The site is the one whose configured secret
//! verifies; the comment is scored and recorded like any intake (queues, reports and figures
//! see it), and the answer is Coral's: a status, a rejection reason and flags, or `{}` ("no
//! opinion") for a comment Vigie lets through or could not judge within the deadline.
//!
//! - [`signature`]: which site's secret signed a request;
//! - [`text`]: Coral's HTML body as plain text;
//! - [`answer`](mod@answer): Coral's answer, from the comment's status and decision;
//! - [`settings`]: the site's signing secrets (admin).

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::domain::intake::{
    AuthorRequest, CommentRequest, CommentSubmission, ThreadRequest, ValidationError,
};
use crate::domain::SiteId;
use crate::error::ApiError;
use crate::extract::{parse_json, JsonBytes};
use crate::scoring::Verdict;
use crate::state::AppState;
use crate::store::{self, comments as store_comments};

pub mod answer;
pub mod settings;
pub mod signature;
pub mod text;

pub use answer::{answer, coral_code, AuthorHold, CoralFacts};
pub use settings::{
    delete_settings, get_settings, put_settings, CoralSettingsRequest, CoralSettingsResponse,
};
pub use text::html_to_text;

/// The `purpose` Coral secrets are sealed under.
const SEAL_PURPOSE: &str = "coral-secrets";

/// The request Coral sends (unknown fields are ignored, as Coral may add some).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralRequest {
    /// `NEW` or `EDIT`.
    pub action: String,
    pub comment: CoralComment,
    pub author: CoralAuthor,
    pub story: CoralStory,
    pub site: CoralSite,
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    #[serde(rename = "tenantDomain", default)]
    pub tenant_domain: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralComment {
    /// HTML or plain text, per the phase's format setting.
    pub body: String,
    #[serde(rename = "parentID", default)]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralAuthor {
    pub id: String,
    /// `COMMENTER`, `MEMBER`, `STAFF`, `MODERATOR` or `ADMIN`.
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralStory {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralSite {
    pub id: String,
}

/// Coral Talk's external moderation phase. Verifies `X-Coral-Signature`, scores and records
/// the comment, and answers in Coral's format: `REJECTED` with a rejection reason, or
/// `SYSTEM_WITHHELD` (held for review) / `PREMOD` with flags, or `{}` (no opinion) when Vigie
/// lets the comment through or cannot answer within `coral_deadline_ms`.
#[utoipa::path(post, path = "/v1/integrations/coral/moderate", tag = "integrations",
    request_body = CoralRequest, security(("coral_signature" = [])),
    responses((status = 200, description = "Coral's moderation answer, or `{}`", body = Object),
        (status = 401, description = "missing or wrong X-Coral-Signature", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/integrations/coral/moderate")]
#[tracing::instrument(name = "coral_moderate", skip_all)]
pub async fn moderate(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBytes(body): JsonBytes,
) -> Result<HttpResponse, ApiError> {
    let deadline = std::time::Duration::from_millis(state.settings.coral_deadline_ms);
    let started = std::time::Instant::now();
    let header = req
        .headers()
        .get("x-coral-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadSignature("X-Coral-Signature is missing".into()))?
        .to_owned();
    let site_id = signature::signing_site(&state, &body, &header).await?;
    let request: CoralRequest = parse_json(&body)?;
    let submission = submission(request, state.settings.max_body_chars)?;
    let remaining = deadline.saturating_sub(started.elapsed());
    let Some(outcome) = take_in_within(&state, site_id, submission, remaining).await? else {
        return Ok(no_opinion());
    };
    let view = match outcome {
        Ok(store_comments::Intake::Created(v) | store_comments::Intake::Existing(v)) => v,
        Err(store_comments::IntakeError::ThreadClosed(_)) => return Ok(no_opinion()),
        Err(e) => return Err(e.into()),
    };
    let facts = facts_of(&state, &view.comment).await?;
    Ok(HttpResponse::Ok().json(answer(&facts)))
}

/// Coral's "no opinion": `{}`.
fn no_opinion() -> HttpResponse {
    HttpResponse::Ok().json(json!({}))
}

/// Coral's request as an intake submission (the comment's text, a stable id), or 422 naming
/// Coral's fields.
fn submission(
    request: CoralRequest,
    max_body_chars: usize,
) -> Result<CommentSubmission, ValidationError> {
    if !matches!(request.action.as_str(), "NEW" | "EDIT") {
        return Err(ValidationError::new("action", "must be NEW or EDIT"));
    }
    let text = html_to_text(&request.comment.body);
    let external_id = external_id(&request);
    CommentRequest {
        external_id,
        thread: ThreadRequest {
            id: request.story.id,
            url: request.story.url,
            title: None,
        },
        parent_id: None,
        author: AuthorRequest {
            id: request.author.id,
            name: None,
            email: None,
        },
        body: text,
        lang: None,
        client: None,
    }
    .validate(max_body_chars)
    .map_err(coral_field)
}

/// Coral sends no comment id: the same request (a retry) maps to the same comment.
fn external_id(request: &CoralRequest) -> String {
    let mut h = Sha256::new();
    for part in [
        request.tenant_id.as_str(),
        request.site.id.as_str(),
        request.story.id.as_str(),
        request.author.id.as_str(),
        request.action.as_str(),
        request.comment.parent_id.as_deref().unwrap_or(""),
        request.comment.body.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("coral:{}", &hex::encode(h.finalize())[..32])
}

/// Names Coral's fields in validation errors rather than Vigie's intake fields.
fn coral_field(e: ValidationError) -> ValidationError {
    let field = match e.field.as_str() {
        "thread.id" => "story.id".to_owned(),
        "thread.url" => "story.url".to_owned(),
        "body" => "comment.body".to_owned(),
        other => other.to_owned(),
    };
    ValidationError::new(field, e.detail)
}

/// Takes the comment in, or `None` once `remaining` has passed: past the deadline Coral would
/// drop the answer anyway, so Vigie says "no opinion" in time. The intake runs as a task of its
/// own, so that it completes and is recorded even when the answer goes without it.
async fn take_in_within(
    state: &web::Data<AppState>,
    site_id: SiteId,
    submission: CommentSubmission,
    remaining: std::time::Duration,
) -> Result<Option<Result<store_comments::Intake, store_comments::IntakeError>>, ApiError> {
    let intake_state = state.clone();
    let intake = actix_web::rt::spawn(async move {
        crate::intake::take_in(&intake_state, site_id, submission).await
    });
    match actix_web::rt::time::timeout(remaining, intake).await {
        Ok(Ok(result)) => Ok(Some(result?)),
        Ok(Err(e)) => Err(ApiError::Internal(anyhow::anyhow!(
            "intake task failed: {e}"
        ))),
        Err(_) => {
            tracing::warn!(
                site_id = site_id.0,
                "Coral phase: deadline passed, answering no opinion"
            );
            Ok(None)
        }
    }
}

/// What the answer about a recorded comment is built from: its verdict and its last decision.
async fn facts_of(
    state: &AppState,
    comment: &store::records::CommentRecord,
) -> Result<CoralFacts, ApiError> {
    let comment_id = comment.id;
    let last = store::run(&state.pool, move |conn| {
        Ok(store_comments::decisions_of(conn, comment_id)?
            .into_iter()
            .last())
    })
    .await?;
    let verdict: Option<Verdict> = comment
        .verdict
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok());
    Ok(CoralFacts::of(comment, verdict.as_ref(), last.as_ref()))
}
