//! Author actions (premod, ban, with an end date) and an author's record on the site.

use super::decisions::{bounded_note, decide_error};
use super::{moderator, parse_time, utc};
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{AuthorStatus, CommentId, NoteId, ReasonCode};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::authors::AuthorStatusInput;
use crate::store::{self, now};

// ---------------------------------------------------------------------------------------------
// Authors

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthorStatusRequest {
    /// `active`, `premod` (every comment held) or `banned` (every comment rejected).
    #[schema(inline, value_type = crate::openapi::values::SettableAuthorStatus)]
    pub status: AuthorStatus,
    /// When the status ends (RFC 3339, in the future; not for `active`); absent means until
    /// changed.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub until: Option<String>,
    pub reason: ReasonCode,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
    /// Also reject the author's pending comments.
    #[serde(default)]
    pub reject_pending: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorStatusResponse {
    pub id: String,
    pub status: String,
    pub status_until: Option<DateTime<Utc>>,
    /// Ids of the pending comments rejected with this action.
    pub rejected_comments: Vec<i64>,
}

/// Pre-moderate, ban (optionally until a date) or reinstate an author.
#[utoipa::path(post, path = "/v1/authors/{id}/status", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's author id")), request_body = AuthorStatusRequest,
    responses((status = 200, body = AuthorStatusResponse)))]
#[post("/v1/authors/{id}/status")]
#[tracing::instrument(name = "author_status", skip_all, fields(key_id = caller.key_id.0))]
pub async fn author_status(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    ApiJson(request): ApiJson<AuthorStatusRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let until = request
        .until
        .as_deref()
        .map(|v| parse_time("until", v))
        .transpose()?;
    if until.is_some_and(|u| u <= now()) {
        return Err(ValidationError::new("until", "must be in the future").into());
    }
    if request.status == AuthorStatus::Deleted {
        return Err(ValidationError::new(
            "status",
            "an author is deleted only by erasure (POST /v1/authors/{id}/erase)",
        )
        .into());
    }
    if until.is_some() && request.status == AuthorStatus::Active {
        return Err(ValidationError::new("until", "an active status has no end").into());
    }
    let input = AuthorStatusInput {
        status: request.status,
        until,
        reason: request.reason,
        note: bounded_note("note", request.note)?,
        reject_pending: request.reject_pending,
    };
    let author_id = id.into_inner();
    let site = caller.site_id;
    let wanted = author_id.clone();
    let result = store::run(&state.pool, move |conn| {
        Ok(store::authors::set_author_status(
            conn, site, &wanted, &actor, &input,
        ))
    })
    .await?
    .map_err(|e| decide_error(e, CommentId(0)))?
    .ok_or_else(|| ApiError::NotFound(format!("author `{author_id}`")))?;
    let (author, rejected) = result;
    tracing::info!(author = author.id.0, status = %author.status, rejected = rejected.len(), "author status changed");
    Ok(HttpResponse::Ok().json(AuthorStatusResponse {
        id: author.external_id,
        status: author.status.to_string(),
        status_until: author.status_until.map(utc),
        rejected_comments: rejected.into_iter().map(|c| c.0).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorComment {
    pub id: i64,
    pub thread_id: i64,
    /// The first 280 characters.
    pub excerpt: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorAction {
    pub actor: String,
    pub from_status: String,
    pub to_status: String,
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorView {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub status_until: Option<DateTime<Utc>>,
    pub approved: i64,
    pub rejected: i64,
    pub pending: i64,
    /// The author's latest comments (10, or as many as asked) with their outcomes, newest
    /// first.
    pub recent: Vec<AuthorComment>,
    /// Status changes (pre-moderation, bans), oldest first.
    pub actions: Vec<AuthorAction>,
}

/// Comments an author's record lists unless asked otherwise.
const DEFAULT_AUTHOR_COMMENTS: i64 = 10;

/// Most comments an author's record lists (the console's author panel asks for this many).
pub const MAX_AUTHOR_COMMENTS: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuthorViewQuery {
    /// How many of the author's latest comments to list, 1 to 200 (default 10).
    #[param(minimum = 1, maximum = 200)]
    pub comments: Option<i64>,
}

/// An author's record: counts, recent comments with their outcomes, status actions.
#[utoipa::path(get, path = "/v1/authors/{id}", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's author id"), AuthorViewQuery),
    responses((status = 200, body = AuthorView)))]
#[get("/v1/authors/{id}")]
pub async fn author_view(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<AuthorViewQuery>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let limit = query.comments.unwrap_or(DEFAULT_AUTHOR_COMMENTS);
    if !(1..=MAX_AUTHOR_COMMENTS).contains(&limit) {
        return Err(ValidationError::new(
            "comments",
            format!("must be between 1 and {MAX_AUTHOR_COMMENTS}"),
        )
        .into());
    }
    let author_id = id.into_inner();
    let site = caller.site_id;
    let wanted = author_id.clone();
    let (author, recent, (approved, rejected, pending), actions) =
        store::run(&state.pool, move |conn| {
            store::authors::author_record(conn, site, &wanted, limit)
        })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("author `{author_id}`")))?;
    Ok(HttpResponse::Ok().json(AuthorView {
        id: author.external_id,
        name: author.display_name,
        status: author.status.to_string(),
        status_until: author.status_until.map(utc),
        approved,
        rejected,
        pending,
        recent: recent
            .into_iter()
            .map(|c| AuthorComment {
                id: c.id.0,
                thread_id: c.thread_id.0,
                excerpt: c.body.chars().take(280).collect(),
                status: c.status.to_string(),
                created_at: utc(c.created_at),
            })
            .collect(),
        actions: actions
            .into_iter()
            .map(|a| AuthorAction {
                actor: a.actor,
                from_status: a.from_status.to_string(),
                to_status: a.to_status.to_string(),
                until: a.until.map(utc),
                reason: a.reason,
                note: a.note,
                created_at: utc(a.created_at),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Notes about an author (moderators only)

/// Longest note about an author, in characters.
pub const MAX_AUTHOR_NOTE_CHARS: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAuthorNote {
    /// 1 to 2,000 characters.
    #[schema(min_length = 1, max_length = 2000, pattern = r"^[^\x00]*$")]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorNote {
    pub id: i64,
    pub text: String,
    /// The moderator who wrote it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Whether the caller may delete it (its writer, or an admin).
    pub deletable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorNotes {
    /// Newest first (at most 200 are kept).
    pub items: Vec<AuthorNote>,
}

fn note_view(n: store::notes::NoteRecord, caller: &Caller) -> AuthorNote {
    AuthorNote {
        deletable: caller.role == crate::domain::Role::Admin
            || n.created_by_key_id == Some(caller.key_id),
        id: n.id.0,
        text: n.text,
        created_by: n.created_by,
        created_at: utc(n.created_at),
    }
}

fn note_error(e: store::notes::NoteError, author: &str) -> ApiError {
    use store::notes::NoteError;
    match e {
        NoteError::NotFound => ApiError::NotFound(format!("author `{author}` or note")),
        NoteError::Full | NoteError::Erased => ApiError::Conflict(e.to_string()),
        NoteError::NotYours => ApiError::Forbidden(e.to_string()),
        NoteError::Store(e) => e.into(),
    }
}

/// Moderators' notes about an author, newest first.
#[utoipa::path(get, path = "/v1/authors/{id}/notes", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's author id")),
    responses((status = 200, body = AuthorNotes),
        (status = 404, description = "no such author", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/v1/authors/{id}/notes")]
pub async fn list_notes(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let author = id.into_inner();
    let site = caller.site_id;
    let wanted = author.clone();
    let notes = store::run(&state.pool, move |conn| {
        store::notes::list(conn, site, &wanted)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("author `{author}`")))?;
    Ok(HttpResponse::Ok().json(AuthorNotes {
        items: notes.into_iter().map(|n| note_view(n, &caller)).collect(),
    }))
}

/// Add a note about an author (seen by moderators and admins only; in the author's export,
/// deleted by erasure).
#[utoipa::path(post, path = "/v1/authors/{id}/notes", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's author id")),
    request_body = NewAuthorNote,
    responses((status = 201, body = AuthorNote),
        (status = 404, description = "no such author", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the author has 200 notes, or was erased", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/authors/{id}/notes")]
#[tracing::instrument(name = "add_author_note", skip_all, fields(key_id = caller.key_id.0))]
pub async fn add_note(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    ApiJson(note): ApiJson<NewAuthorNote>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let text = super::optional_text("text", Some(note.text), MAX_AUTHOR_NOTE_CHARS)?
        .ok_or_else(|| ValidationError::new("text", "must not be empty"))?;
    let author = id.into_inner();
    let site = caller.site_id;
    let wanted = author.clone();
    let note = store::run(&state.pool, move |conn| {
        Ok(store::notes::add(conn, site, &wanted, &actor, &text))
    })
    .await?
    .map_err(|e| note_error(e, &author))?;
    tracing::info!(note = note.id.0, "author note added");
    Ok(HttpResponse::Created().json(note_view(note, &caller)))
}

/// Delete a note about an author: its writer, or an admin.
#[utoipa::path(delete, path = "/v1/authors/{id}/notes/{note_id}", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's author id"), ("note_id" = i64, Path, minimum = 1)),
    responses((status = 204, description = "deleted"),
        (status = 403, description = "another moderator's note", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such author or note", body = crate::error::Problem, content_type = "application/problem+json")))]
#[delete("/v1/authors/{id}/notes/{note_id}")]
#[tracing::instrument(name = "delete_author_note", skip_all, fields(key_id = caller.key_id.0))]
pub async fn delete_note(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let (author, note_id) = path.into_inner();
    let site = caller.site_id;
    let wanted = author.clone();
    store::run(&state.pool, move |conn| {
        Ok(store::notes::delete(
            conn,
            site,
            &wanted,
            NoteId(note_id),
            &actor,
        ))
    })
    .await?
    .map_err(|e| note_error(e, &author))?;
    tracing::info!(note = note_id, "author note deleted");
    Ok(HttpResponse::NoContent().finish())
}
