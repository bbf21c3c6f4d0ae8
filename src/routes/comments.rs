//! `POST /v1/comments` (intake), `PUT /v1/comments/{id}` (edits) and `GET /v1/comments/{id}`.

use super::utc;
use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::intake::{CommentRequest, EditRequest};
use crate::domain::{CommentId, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::{self, comments as store_comments};

/// A comment as Vigie holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    /// Vigie's id.
    pub id: i64,
    /// The site's id.
    pub external_id: String,
    /// The site's id of the thread (article).
    pub thread_id: String,
    /// The site's id of the parent comment, for a reply.
    pub parent_id: Option<String>,
    pub author: AuthorResponse,
    pub body: String,
    pub lang: Option<String>,
    /// `pending`, `published`, `approved`, `rejected` or `deleted`.
    pub status: String,
    pub revision: i32,
    /// The scoring verdict; `null` until the comment has been scored.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorResponse {
    /// The site's id of the author.
    pub id: String,
    pub name: Option<String>,
}

impl From<store_comments::CommentView> for CommentResponse {
    fn from(v: store_comments::CommentView) -> Self {
        let c = v.comment;
        CommentResponse {
            id: c.id.0,
            external_id: c.external_id,
            thread_id: v.thread_external_id,
            parent_id: v.parent_external_id,
            author: AuthorResponse {
                id: v.author_external_id,
                name: v.author_name,
            },
            body: c.body,
            lang: c.lang,
            status: c.status.to_string(),
            revision: c.revision,
            verdict: c.verdict.and_then(|v| serde_json::from_str(&v).ok()),
            created_at: utc(c.created_at),
            updated_at: utc(c.updated_at),
        }
    }
}

/// Submit a comment. The site comes from the ingest key; a resend of the same `external_id`
/// answers 200 with the stored comment and creates nothing. The comment is committed before
/// the answer.
#[utoipa::path(post, path = "/v1/comments", tag = "comments",
    request_body = CommentRequest,
    security(("bearer" = ["ingest", "admin"])),
    responses(
        (status = 201, description = "created", body = CommentResponse),
        (status = 200, description = "already received under this external_id", body = CommentResponse),
        (status = 409, description = "the thread is closed", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/v1/comments")]
#[tracing::instrument(name = "submit_comment", skip_all, fields(key_id = caller.key_id.0))]
pub async fn submit(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let submission = request.validate(state.settings.max_body_chars)?;
    let outcome = crate::intake::take_in(&state, caller.site_id, submission).await?;
    match outcome {
        Ok(store_comments::Intake::Created(view)) => {
            tracing::info!(comment_id = view.comment.id.0, status = %view.comment.status, "comment received");
            Ok(answer_intake(HttpResponse::Created(), view))
        }
        Ok(store_comments::Intake::Existing(view)) => Ok(answer_intake(HttpResponse::Ok(), view)),
        Err(e) => Err(e.into()),
    }
}

/// The intake answer, with the labels the metrics middleware counts it by.
fn answer_intake(
    mut builder: actix_web::HttpResponseBuilder,
    view: store_comments::CommentView,
) -> HttpResponse {
    let body = CommentResponse::from(view);
    let labels = crate::metrics::IntakeLabels::of(&body.status, body.verdict.as_ref());
    let mut response = builder.json(body);
    response.extensions_mut().insert(labels);
    response
}

/// One comment of the key's site, whatever its status.
#[utoipa::path(get, path = "/v1/comments/{id}", tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "Vigie's comment id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CommentResponse),
    ))]
#[get("/v1/comments/{id}")]
#[tracing::instrument(name = "get_comment", skip_all, fields(key_id = caller.key_id.0))]
pub async fn get_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = CommentId(id.into_inner());
    // A moderator opening a comment is the first human knowledge of it (press law, art. 93-3).
    let seen_by = matches!(caller.role, Role::Moderator | Role::Admin).then_some(caller.key_id);
    let site = caller.site_id;
    let view = store::run(&state.pool, move |conn| {
        let view = store_comments::view(conn, id)?;
        if let (Some(key), Some(v)) = (seen_by, &view) {
            if v.comment.site_id == site && v.comment.first_seen_at.is_none() {
                store::decisions::mark_seen(conn, &[id], key, store::now())?;
            }
        }
        Ok(view)
    })
    .await?;
    match view {
        // Another site's comment is reported as absent: its existence is not revealed.
        Some(v) if v.comment.site_id == caller.site_id => {
            Ok(HttpResponse::Ok().json(CommentResponse::from(v)))
        }
        _ => Err(ApiError::NotFound(format!("comment {id}"))),
    }
}

/// Replace a comment's text after its author edited it (ingest key of its site). The new text
/// is scored; the previous one is kept for moderators (history and queues). A published or
/// approved comment whose new text would be held (verdict `review` or `reject`, pre-moderation,
/// a held author) goes back to `pending`, with an automated decision and a `comment.held`
/// event; a pending comment stays pending with the new verdict; a rejected one stays rejected.
/// The same text again changes nothing (200, same revision).
#[utoipa::path(put, path = "/v1/comments/{id}", tag = "comments",
    params(("id" = i64, Path, description = "Vigie's comment id")),
    request_body = EditRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the comment with its new text (or unchanged)", body = CommentResponse),
        (status = 400, description = "malformed JSON or invalid UTF-8", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the comment is deleted, or holds a later edit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a field is missing or invalid", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[put("/v1/comments/{id}")]
#[tracing::instrument(name = "edit_comment", skip_all, fields(key_id = caller.key_id.0))]
pub async fn edit(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<EditRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let id = CommentId(id.into_inner());
    let edit = request.validate(state.settings.max_body_chars)?;
    let outcome = crate::intake::edit(&state, caller.site_id, id, edit)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("comment {id}")))?;
    use store::edits::Edit;
    match outcome {
        Ok(Edit::Edited(view)) => {
            tracing::info!(comment_id = id.0, status = %view.comment.status, revision = view.comment.revision, "comment edited");
            Ok(HttpResponse::Ok().json(CommentResponse::from(view)))
        }
        Ok(Edit::Unchanged(view)) => Ok(HttpResponse::Ok().json(CommentResponse::from(view))),
        Err(e) => Err(e.into()),
    }
}
