//! `POST /v1/comments` (intake), `PUT /v1/comments/{id}` (edits) and `GET /v1/comments/{id}`.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::intake::{CommentRequest, EditRequest, ValidationError};
use crate::domain::{ModerationMode, Role};
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

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

impl From<store_comments::CommentView> for CommentResponse {
    fn from(v: store_comments::CommentView) -> Self {
        let c = v.comment;
        CommentResponse {
            id: c.id,
            external_id: c.external_id,
            thread_id: v.thread_external_id,
            parent_id: v.parent_external_id,
            author: AuthorResponse {
                id: v.author_external_id,
                name: v.author_name,
            },
            body: c.body,
            lang: c.lang,
            status: c.status,
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
#[tracing::instrument(name = "submit_comment", skip_all, fields(key_id = caller.key_id))]
pub async fn submit(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let submission = request.validate(state.settings.max_body_chars)?;
    let outcome = take_in(&state, caller.site_id, submission).await?;
    match outcome {
        Ok(store_comments::Intake::Created(view)) => {
            tracing::info!(comment_id = view.comment.id, status = %view.comment.status, "comment received");
            Ok(answer_intake(HttpResponse::Created(), view))
        }
        Ok(store_comments::Intake::Existing(view)) => Ok(answer_intake(HttpResponse::Ok(), view)),
        Err(e) => Err(intake_error(e)),
    }
}

/// Scores a validated comment with its site's rules and thresholds and stores it with its
/// first decision, in one transaction (intake, and the Coral Talk phase).
pub(crate) async fn take_in(
    state: &AppState,
    site_id: i64,
    submission: crate::domain::intake::CommentSubmission,
) -> Result<Result<store_comments::Intake, store_comments::IntakeError>, store::StoreError> {
    let (ctx, submission) = score_for_intake(state, site_id, submission).await?;
    store_intake(state, ctx, submission).await
}

/// The reading half of intake: the site, its rules and thresholds, the author's history, the
/// verdict. Nothing is written.
pub async fn score_for_intake(
    state: &AppState,
    site_id: i64,
    submission: crate::domain::intake::CommentSubmission,
) -> Result<
    (
        store_comments::IntakeContext,
        crate::domain::intake::CommentSubmission,
    ),
    store::StoreError,
> {
    let body_hash = store_comments::body_hash(&submission.body);
    let ctx = store_comments::IntakeContext {
        body_hash: Some(body_hash.clone()),
        verdict: None,
        author_rate: None,
        site_id,
        site_mode: ModerationMode::Pre,
        email_hash: submission
            .author_email
            .as_deref()
            .map(|e| state.keyed_hash("email", e)),
        ip_hash: submission.client_ip.and_then(|ip| state.ip_token(ip)),
    };
    let judge = state.judge.clone();
    let repeat_window = chrono::Duration::seconds(state.settings.repeat_window_secs.max(0));
    store::run(&state.pool, move |conn| {
        let site = store::sites::by_id(conn, ctx.site_id)?
            .ok_or_else(|| store::StoreError::Other(anyhow::anyhow!("key without site")))?;
        let (_, rules) = judge.rules_for(conn, site.id)?;
        let thresholds = judge.thresholds_from(site.thresholds.as_deref());
        let history = store_comments::author_history(
            conn,
            site.id,
            &submission.author_id,
            &body_hash,
            repeat_window,
        )?;
        let verdict = judge.verdict(
            &submission.body,
            submission.lang.as_deref(),
            history,
            &rules,
            &thresholds,
            judge.unscored_from(&site.unscored_language)?,
        );
        let ctx = store_comments::IntakeContext {
            site_mode: site.moderation_mode.parse().unwrap_or(ModerationMode::Pre),
            verdict: Some(store_comments::Scored::new(verdict, &thresholds)),
            author_rate: rules.author_rate().cloned(),
            ..ctx
        };
        Ok((ctx, submission))
    })
    .await
}

/// The writing half of intake: the comment and its first decision, through the group-commit
/// writer on SQLite, in a transaction of its own on PostgreSQL; answered once durable.
pub async fn store_intake(
    state: &AppState,
    ctx: store_comments::IntakeContext,
    submission: crate::domain::intake::CommentSubmission,
) -> Result<Result<store_comments::Intake, store_comments::IntakeError>, store::StoreError> {
    match &state.writer {
        Some(writer) => {
            writer
                .write(move |conn| store_comments::submit(conn, &ctx, &submission))
                .await
        }
        None => {
            store::run(&state.pool, move |conn| {
                Ok(store_comments::submit(conn, &ctx, &submission))
            })
            .await
        }
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

pub(crate) fn intake_error(e: store_comments::IntakeError) -> ApiError {
    use store_comments::IntakeError;
    match e {
        IntakeError::ThreadClosed(_) => ApiError::Conflict(e.to_string()),
        IntakeError::ParentNotFound(_) | IntakeError::ParentInOtherThread(_) => {
            ApiError::Validation(ValidationError::new("parent_id", e.to_string()))
        }
        IntakeError::Db(e) => store::StoreError::from(e).into(),
        IntakeError::Store(e) => e.into(),
    }
}

/// One comment of the key's site, whatever its status.
#[utoipa::path(get, path = "/v1/comments/{id}", tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "Vigie's comment id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CommentResponse),
    ))]
#[get("/v1/comments/{id}")]
#[tracing::instrument(name = "get_comment", skip_all, fields(key_id = caller.key_id))]
pub async fn get_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    // A moderator opening a comment is the first human knowledge of it (press law, art. 93-3).
    let seen_by = matches!(caller.role, Role::Moderator | Role::Admin).then_some(caller.key_id);
    let site = caller.site_id;
    let view = store::run(&state.pool, move |conn| {
        let view = store_comments::view(conn, id)?;
        if let (Some(key), Some(v)) = (seen_by, &view) {
            if v.comment.site_id == site && v.comment.first_seen_at.is_none() {
                store::moderation::mark_seen(conn, &[id], key, store::now())?;
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
#[tracing::instrument(name = "edit_comment", skip_all, fields(key_id = caller.key_id))]
pub async fn edit(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<EditRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let id = id.into_inner();
    let edit = request.validate(state.settings.max_body_chars)?;
    let site_id = caller.site_id;
    let judge = state.judge.clone();
    let repeat_window = chrono::Duration::seconds(state.settings.repeat_window_secs.max(0));
    // The reading half: the comment, its site's rules, the author's history, the verdict.
    let scored = store::run(&state.pool, move |conn| {
        let Some(current) = store_comments::view(conn, id)? else {
            return Ok(None);
        };
        if current.comment.site_id != site_id {
            return Ok(None);
        }
        let site = store::sites::by_id(conn, site_id)?
            .ok_or_else(|| store::StoreError::Other(anyhow::anyhow!("key without site")))?;
        let (_, rules) = judge.rules_for(conn, site_id)?;
        let thresholds = judge.thresholds_from(site.thresholds.as_deref());
        let body_hash = store_comments::body_hash(&edit.body);
        let history = store_comments::author_history(
            conn,
            site_id,
            &current.author_external_id,
            &body_hash,
            repeat_window,
        )?;
        let lang = edit.lang.as_deref().or(current.comment.lang.as_deref());
        let verdict = judge.verdict(
            &edit.body,
            lang,
            history,
            &rules,
            &thresholds,
            judge.unscored_from(&site.unscored_language)?,
        );
        let ctx = store_comments::EditContext {
            site_id,
            comment_id: id,
            site_mode: site.moderation_mode.parse().unwrap_or(ModerationMode::Pre),
            body_hash,
            scored: store_comments::Scored::new(verdict, &thresholds),
        };
        Ok(Some((ctx, edit)))
    })
    .await?;
    let (ctx, edit) = scored.ok_or_else(|| ApiError::NotFound(format!("comment {id}")))?;
    let outcome = match &state.writer {
        Some(writer) => {
            writer
                .write(move |conn| store_comments::edit(conn, &ctx, &edit))
                .await?
        }
        None => {
            store::run(&state.pool, move |conn| {
                Ok(store_comments::edit(conn, &ctx, &edit))
            })
            .await?
        }
    };
    use store_comments::{Edit, EditError};
    match outcome {
        Ok(Edit::Edited(view)) => {
            tracing::info!(comment_id = id, status = %view.comment.status, revision = view.comment.revision, "comment edited");
            Ok(HttpResponse::Ok().json(CommentResponse::from(view)))
        }
        Ok(Edit::Unchanged(view)) => Ok(HttpResponse::Ok().json(CommentResponse::from(view))),
        Err(e @ EditError::NotFound(_)) => Err(ApiError::NotFound(e.to_string())),
        Err(e @ (EditError::Deleted(_) | EditError::Stale(..))) => {
            Err(ApiError::Conflict(e.to_string()))
        }
        Err(EditError::Db(e)) => Err(store::StoreError::from(e).into()),
        Err(EditError::Store(e)) => Err(e.into()),
    }
}
