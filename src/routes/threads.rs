//! What the site displays under an article, and thread settings.

use actix_web::{get, patch, web, HttpResponse};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::comments::CommentResponse;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{CommentId, ModerationMode, Role, ThreadStatus};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store;

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    pub items: Vec<CommentResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Opaque keyset cursors: the last id seen, wrapped so clients do not build them.
pub fn encode_cursor(last_id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c1:{last_id}"))
}

pub fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::BadRequest("malformed cursor".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("c1:")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .ok_or_else(bad)
}

/// The visible comments (published or approved) of a thread, oldest first; replies carry
/// their `parent_id`.
#[utoipa::path(get, path = "/v1/threads/{thread_id}/comments", tag = "threads",
    params(("thread_id" = String, Path, min_length = 1, description = "the site's id of the thread"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CommentPage),
        (status = 400, description = "malformed cursor", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[get("/v1/threads/{thread_id}/comments")]
#[tracing::instrument(name = "thread_comments", skip_all, fields(key_id = caller.key_id.0))]
pub async fn visible_comments(
    caller: Caller,
    state: web::Data<AppState>,
    thread_id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(
            ValidationError::new("limit", format!("must be between 1 and {MAX_PAGE}")).into(),
        );
    }
    let after = query
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c).map(CommentId))
        .transpose()?;
    let thread_id = thread_id.into_inner();
    let site_id = caller.site_id;
    let wanted = thread_id.clone();
    let page = store::run(&state.pool, move |conn| {
        store::comments::visible_in_thread(conn, site_id, &wanted, after, limit + 1)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("thread `{thread_id}`")))?;
    let has_more = page.len() as i64 > limit;
    let items: Vec<CommentResponse> = page
        .into_iter()
        .take(limit as usize)
        .map(CommentResponse::from)
        .collect();
    let next_cursor = has_more
        .then(|| items.last().map(|c| encode_cursor(c.id)))
        .flatten();
    Ok(HttpResponse::Ok().json(CommentPage { items, next_cursor }))
}

/// Present-and-null (`Some(None)`) differs from absent (`None`) in a PATCH.
pub(super) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ThreadUpdate {
    /// `open` or `closed` (a closed thread refuses new comments with 409).
    #[serde(default)]
    pub status: Option<ThreadStatus>,
    /// `pre`, `post`, or `null` to follow the site's mode again.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ModerationMode>)]
    pub moderation_mode: Option<Option<ModerationMode>>,
    /// The article's address (http or https, at most 2,048 characters); sets it, and names the
    /// article of a thread created by this request.
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// The article's title (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub title: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadResponse {
    pub id: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub status: String,
    /// The thread's own mode; `null` follows the site's.
    pub moderation_mode: Option<String>,
}

/// Close or reopen a thread, or give it its own moderation mode (moderator or admin). An
/// unknown thread is created (201): an article can be closed or pre-moderated before its first
/// comment.
#[utoipa::path(patch, path = "/v1/threads/{thread_id}", tag = "threads",
    params(("thread_id" = String, Path, min_length = 1, description = "the site's id of the thread")),
    request_body = ThreadUpdate,
    security(("bearer" = ["moderator", "admin"])),
    responses(
        (status = 200, body = ThreadResponse),
        (status = 201, description = "the thread did not exist: created with these settings", body = ThreadResponse),
    ))]
#[patch("/v1/threads/{thread_id}")]
#[tracing::instrument(name = "update_thread", skip_all, fields(key_id = caller.key_id.0))]
pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    thread_id: web::Path<String>,
    ApiJson(update): ApiJson<ThreadUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    use crate::domain::intake::{http_url, identifier, optional_text, MAX_TITLE_CHARS};
    let thread_id = identifier("thread_id", thread_id.into_inner())?;
    let url = update.url.map(|u| http_url("url", u)).transpose()?;
    let title = optional_text("title", update.title, MAX_TITLE_CHARS)?;
    let site_id = caller.site_id;
    let wanted = thread_id.clone();
    let actor = caller.actor();
    let mut what = Vec::new();
    if let Some(s) = update.status {
        what.push(format!("status {s}"));
    }
    match update.moderation_mode {
        Some(Some(m)) => what.push(format!("moderation mode {m}")),
        Some(None) => what.push("the site's moderation mode".to_owned()),
        None => {}
    }
    if url.is_some() || title.is_some() {
        what.push("address or title".to_owned());
    }
    let (thread, created) = store::run(&state.pool, move |conn| {
        // the change and its entry in the settings log, together
        store::write_tx(conn, |conn| {
            let changed = store::sites::update_thread(
                conn,
                site_id,
                &wanted,
                update.status,
                update.moderation_mode,
                store::sites::ThreadAbout {
                    url: url.as_deref(),
                    title: title.as_deref(),
                },
            )?;
            if let Some((_, created)) = &changed {
                let set_up = if *created {
                    "set up before its first comment"
                } else {
                    "changed"
                };
                let summary = format!("thread `{wanted}` {set_up}: {}", what.join(", "));
                store::changes::record(conn, site_id, &actor, "thread", &summary)?;
            }
            Ok::<_, store::StoreError>(changed)
        })
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("thread `{thread_id}`")))?;
    tracing::info!(thread = thread.id.0, created, status = %thread.status, mode = ?thread.moderation_mode.map(ModerationMode::as_str), "thread updated");
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(ThreadResponse {
        id: thread.external_id,
        url: thread.url,
        title: thread.title,
        status: thread.status.to_string(),
        moderation_mode: thread.moderation_mode.map(|m| m.to_string()),
    }))
}
