//! Appeals against a decision (DSA art. 20): lodged by the author or the reporter, listed and
//! decided by an admin.

use super::utc;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::reports::MAX_TEXT_CHARS;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{AppealId, AppealStatus, CommentId, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::appeals::{AppealDecisionError, AppealError, Appellant};
use crate::store::{self};

// ---------------------------------------------------------------------------------------------
// Appeals

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealRequest {
    /// The author appealing, by the site's author id …
    #[serde(default)]
    pub author_id: Option<String>,
    /// … or the reference of a dismissed report, for the reporter appealing (exactly one of
    /// the two).
    #[serde(default)]
    pub report_reference: Option<String>,
    /// Not blank, at most 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealResponse {
    pub id: i64,
    pub comment_id: i64,
    pub decision_id: i64,
    /// `open`, `upheld` (the decision stands) or `reversed`.
    pub status: String,
    pub text: String,
    pub reply: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<crate::store::records::AppealRecord> for AppealResponse {
    fn from(a: crate::store::records::AppealRecord) -> Self {
        AppealResponse {
            id: a.id.0,
            comment_id: a.comment_id.0,
            decision_id: a.decision_id.0,
            status: a.status.to_string(),
            text: a.text,
            reply: a.reply,
            created_at: utc(a.created_at),
            decided_at: a.decided_at.map(utc),
        }
    }
}

/// Appeal a decision: by the comment's author (against a rejection or hiding) or by a reporter
/// whose report was dismissed. Open for `appeal_window_days` (at least six months).
#[utoipa::path(post, path = "/v1/comments/{id}/appeals", tag = "reports", security(("bearer" = ["ingest", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = AppealRequest,
    responses((status = 201, body = AppealResponse),
        (status = 403, description = "neither the author nor a dismissed reporter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "already appealed, or nothing to appeal", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "text too long or window closed", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/comments/{id}/appeals")]
#[tracing::instrument(name = "appeal", skip_all, fields(key_id = caller.key_id.0, comment_id = %id))]
pub async fn submit_appeal(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<AppealRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let text = super::optional_text("text", Some(request.text), MAX_TEXT_CHARS)?
        .ok_or_else(|| ValidationError::new("text", "must not be empty"))?;
    let who = match (request.author_id, request.report_reference) {
        (Some(a), None) => Appellant::Author(a),
        (None, Some(r)) => Appellant::Reporter(r),
        _ => {
            return Err(ValidationError::new(
                "author_id",
                "give exactly one of `author_id` or `report_reference`",
            )
            .into())
        }
    };
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    let window = state.settings.appeal_window_days;
    let appeal = store::run(&state.pool, move |conn| {
        Ok(store::appeals::appeal(conn, site, id, &who, &text, window))
    })
    .await?
    .map_err(|e| match e {
        AppealError::NotFound => ApiError::NotFound(format!("comment {id}")),
        AppealError::NotEntitled(_) => ApiError::Forbidden(e.to_string()),
        AppealError::NothingToAppeal(_) | AppealError::AlreadyAppealed => {
            ApiError::Conflict(e.to_string())
        }
        AppealError::WindowClosed(_) => {
            ApiError::Validation(ValidationError::new("decision", e.to_string()))
        }
        AppealError::Db(e) => store::StoreError::from(e).into(),
        AppealError::Store(e) => e.into(),
    })?;
    tracing::info!(appeal = appeal.id.0, "appeal received");
    Ok(HttpResponse::Created().json(AppealResponse::from(appeal)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AppealsQuery {
    /// `open` (default), `upheld` or `reversed`.
    #[param(inline, value_type = Option<AppealStatus>)]
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealItem {
    pub appeal: AppealResponse,
    /// `author` or `reporter`.
    pub appellant: String,
    pub comment_body: String,
    pub comment_status: String,
    pub decision_action: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: String,
    pub decision_at: DateTime<Utc>,
}

/// The appeals queue.
#[utoipa::path(get, path = "/v1/appeals", tag = "reports", security(("bearer" = ["moderator", "admin"])),
    params(AppealsQuery),
    responses((status = 200, body = Vec<AppealItem>)))]
#[get("/v1/appeals")]
pub async fn appeals(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AppealsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    let status = match query.into_inner().status {
        None => AppealStatus::Open,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("unknown appeal status `{s}`")))?,
    };
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::appeals::open_appeals(conn, site, status, 200)
    })
    .await?;
    let items: Vec<AppealItem> = rows
        .into_iter()
        .map(|(a, c, d)| AppealItem {
            appellant: if a.report_id.is_some() {
                "reporter".into()
            } else {
                "author".into()
            },
            comment_body: c.body,
            comment_status: c.status.to_string(),
            decision_action: d.action,
            decision_reason: d.reason,
            decided_by: d.actor,
            decision_at: utc(d.created_at),
            appeal: AppealResponse::from(a),
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealDecisionRequest {
    /// `uphold` (the decision stands) or `reverse`.
    #[schema(inline, value_type = crate::openapi::values::AppealOutcome)]
    pub outcome: String,
    /// The reasoned reply to the appellant: not blank, at most 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub reply: String,
}

/// Decide an appeal (a human, other than the one who took the decision).
#[utoipa::path(post, path = "/v1/appeals/{id}/decision", tag = "reports", security(("bearer" = ["moderator", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = AppealDecisionRequest,
    responses((status = 200, body = AppealResponse),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/appeals/{id}/decision")]
#[tracing::instrument(name = "decide_appeal", skip_all, fields(key_id = caller.key_id.0, appeal = %id))]
pub async fn decide_appeal(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<AppealDecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    let reverse = match request.outcome.as_str() {
        "uphold" => false,
        "reverse" => true,
        _ => return Err(ValidationError::new("outcome", "must be `uphold` or `reverse`").into()),
    };
    let reply =
        super::optional_text("reply", Some(request.reply), MAX_TEXT_CHARS)?.ok_or_else(|| {
            ValidationError::new("reply", "an appeal decision needs a reasoned reply")
        })?;
    let actor = caller.actor();
    let id = AppealId(id.into_inner());
    let site = caller.site_id;
    let appeal = store::run(&state.pool, move |conn| {
        Ok(store::appeals::decide_appeal(
            conn, site, id, &actor, reverse, &reply,
        ))
    })
    .await?
    .map_err(|e| match e {
        AppealDecisionError::NotFound => ApiError::NotFound(format!("appeal {id}")),
        AppealDecisionError::AlreadyDecided(_) => ApiError::Conflict(e.to_string()),
        AppealDecisionError::SameModerator => ApiError::Forbidden(e.to_string()),
        AppealDecisionError::Decide(d) => ApiError::Conflict(d.to_string()),
        AppealDecisionError::Db(e) => store::StoreError::from(e).into(),
    })?;
    tracing::info!(status = %appeal.status, "appeal decided");
    Ok(HttpResponse::Ok().json(AppealResponse::from(appeal)))
}
