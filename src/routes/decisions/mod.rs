//! Decisions on comments (one, or bulk), a comment's history, and the decision log (audit).
//!
//! - this module: deciding on one comment or many;
//! - [`audit`]: a comment's history and the site's decision log;
//! - [`export`]: the decision log as CSV.

use actix_web::{post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::comments::CommentResponse;
use super::moderator;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{Action, CommentId, ReasonCode};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::decisions::{Actor, BulkOutcome, DecideError, DecisionInput};
use crate::store::{self};

pub mod audit;
pub mod export;

pub use audit::{decision_log, history, DecisionEntry, DecisionLogPage, DecisionLogQuery, History};
pub use export::{decision_log_csv, spreadsheet_safe, AUDIT_CSV_HEADER};

/// Most ids in one bulk decision.
pub const MAX_BULK_IDS: usize = 500;

/// Longest note (to the author or internal).
pub const MAX_NOTE_CHARS: usize = 2000;

/// An optional note of at most [`MAX_NOTE_CHARS`] characters (see [`super::optional_text`]).
pub(super) fn bounded_note(field: &str, note: Option<String>) -> Result<Option<String>, ApiError> {
    super::optional_text(field, note, MAX_NOTE_CHARS)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionRequest {
    /// `approve`, `reject`, `escalate` or `restore`.
    pub action: Action,
    /// Reason code; required to reject.
    #[serde(default)]
    pub reason: Option<ReasonCode>,
    /// Shown to the author (statement of reasons), at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub note_to_author: Option<String>,
    /// For moderators only, at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub internal_note: Option<String>,
    /// The revision the moderator saw; a different current revision answers 409.
    #[serde(default)]
    pub expected_revision: Option<i32>,
    /// Admins only: decide although another moderator holds the claim.
    #[serde(default)]
    pub override_claim: bool,
}

impl DecisionRequest {
    /// The decision as the store takes it: a reason to reject, an admin to override a claim,
    /// notes bounded.
    fn validate(self, actor: &Actor) -> Result<DecisionInput, ApiError> {
        if self.action == Action::Reject && self.reason.is_none() {
            return Err(ValidationError::new("reason", "a rejection needs a reason code").into());
        }
        if self.override_claim && !actor.is_admin {
            return Err(ApiError::Forbidden(
                "only an admin may override a claim".into(),
            ));
        }
        Ok(DecisionInput {
            action: self.action,
            reason: self.reason,
            note_to_author: bounded_note("note_to_author", self.note_to_author)?,
            internal_note: bounded_note("internal_note", self.internal_note)?,
            expected_revision: self.expected_revision,
            override_claim: self.override_claim,
        })
    }
}

/// A refused decision as the answer to give (404, 409, or the store's error).
pub(super) fn decide_error(e: DecideError, id: CommentId) -> ApiError {
    match e {
        DecideError::NotFound => ApiError::NotFound(format!("comment {id}")),
        DecideError::InvalidTransition { .. }
        | DecideError::StaleRevision { .. }
        | DecideError::Conflict(_) => ApiError::Conflict(e.to_string()),
        DecideError::Db(e) => store::StoreError::from(e).into(),
        DecideError::Store(e) => e.into(),
    }
}

/// Approve, reject, escalate or restore a comment. Invalid transitions, stale revisions and
/// another moderator's claim answer 409.
#[utoipa::path(post, path = "/v1/comments/{id}/decisions", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = DecisionRequest,
    responses((status = 200, body = CommentResponse),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/comments/{id}/decisions")]
#[tracing::instrument(name = "decide", skip_all, fields(key_id = caller.key_id.0, comment_id = %id))]
pub async fn decide(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let input = request.validate(&actor)?;
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    let action = input.action;
    let view = store::run(&state.pool, move |conn| {
        Ok(
            match store::decisions::decide(conn, site, id, &actor, &input) {
                Ok(_) => Ok(store::comments::view(conn, id)?),
                Err(e) => Err(e),
            },
        )
    })
    .await?
    .map_err(|e| decide_error(e, id))?
    .ok_or_else(|| ApiError::NotFound(format!("comment {id}")))?;
    tracing::info!(%action, status = %view.comment.status, "decision");
    Ok(HttpResponse::Ok().json(CommentResponse::from(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkRequest {
    /// 1 to 500 comment ids.
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<i64>,
    pub action: Action,
    /// Reason code; required to reject.
    #[serde(default)]
    pub reason: Option<ReasonCode>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub note_to_author: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub internal_note: Option<String>,
    #[serde(default)]
    pub override_claim: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkItem {
    pub id: i64,
    /// `done`, `conflict` or `not_found`.
    pub result: &'static str,
    pub status: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    pub done: usize,
    pub conflict: usize,
    pub not_found: usize,
    pub items: Vec<BulkItem>,
}

/// Applies one action to up to 500 comments, each in its own transaction; answers per item.
#[utoipa::path(post, path = "/v1/decisions/bulk", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    request_body = BulkRequest,
    responses((status = 200, body = BulkResponse)))]
#[post("/v1/decisions/bulk")]
#[tracing::instrument(name = "bulk_decide", skip_all, fields(key_id = caller.key_id.0))]
pub async fn bulk(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<BulkRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    if request.ids.is_empty() || request.ids.len() > MAX_BULK_IDS {
        return Err(
            ValidationError::new("ids", format!("must hold 1 to {MAX_BULK_IDS} ids")).into(),
        );
    }
    // The same id twice is one decision (answered once, in first-seen order).
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<CommentId> = request
        .ids
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .map(CommentId)
        .collect();
    let input = DecisionRequest {
        action: request.action,
        reason: request.reason,
        note_to_author: request.note_to_author,
        internal_note: request.internal_note,
        expected_revision: None,
        override_claim: request.override_claim,
    }
    .validate(&actor)?;
    let site = caller.site_id;
    let outcomes = store::run(&state.pool, move |conn| {
        store::decisions::decide_many(conn, site, &ids, &actor, &input)
    })
    .await?;
    let mut response = BulkResponse {
        done: 0,
        conflict: 0,
        not_found: 0,
        items: Vec::new(),
    };
    for (id, outcome) in outcomes {
        response.items.push(match outcome {
            BulkOutcome::Done(c) => {
                response.done += 1;
                BulkItem {
                    id: id.0,
                    result: "done",
                    status: Some(c.status.to_string()),
                    detail: None,
                }
            }
            BulkOutcome::Conflict(detail) => {
                response.conflict += 1;
                BulkItem {
                    id: id.0,
                    result: "conflict",
                    status: None,
                    detail: Some(detail),
                }
            }
            BulkOutcome::NotFound => {
                response.not_found += 1;
                BulkItem {
                    id: id.0,
                    result: "not_found",
                    status: None,
                    detail: None,
                }
            }
        });
    }
    tracing::info!(
        done = response.done,
        conflict = response.conflict,
        not_found = response.not_found,
        "bulk decision"
    );
    Ok(HttpResponse::Ok().json(response))
}
