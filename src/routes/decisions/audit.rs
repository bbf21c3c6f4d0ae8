//! The audit side of decisions: one comment's history, and the site's decision log.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{Action, CommentId, DecisionId, DecisionSource};
use crate::error::ApiError;
use crate::routes::queues::{RevisionEntry, DEFAULT_PAGE, MAX_PAGE};
use crate::routes::{moderator, optional_time, threads, utc};
use crate::state::AppState;
use crate::store;

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionEntry {
    pub id: i64,
    pub comment_id: i64,
    /// Key name of the moderator, or `policy` for automated decisions.
    pub actor: String,
    /// `automated` or `human`.
    pub source: String,
    pub action: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub internal_note: Option<String>,
    pub note_to_author: Option<String>,
    /// The verdict current at this step.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    /// Where a moderator's decision came from: `console` or `api` (null when automated).
    pub origin: Option<String>,
    /// The network the moderator's request came from (IPv4 /24, IPv6 /48, e.g.
    /// `192.0.2.0/24`): for admins only, kept `ip_retention_days`.
    pub network: Option<String>,
}

impl DecisionEntry {
    /// The entry as `caller` may see it: the origin is for admins.
    fn for_caller(d: store::records::DecisionRecord, caller: &Caller) -> DecisionEntry {
        let mut entry = DecisionEntry::from(d);
        if caller.role != crate::domain::Role::Admin {
            entry.network = None;
        }
        entry
    }
}

impl From<store::records::DecisionRecord> for DecisionEntry {
    fn from(d: store::records::DecisionRecord) -> Self {
        DecisionEntry {
            origin: d.origin,
            network: d.origin_network,
            id: d.id.0,
            comment_id: d.comment_id.0,
            actor: d.actor,
            source: d.source,
            action: d.action,
            from_status: d.from_status.map(|s| s.to_string()),
            to_status: d.to_status.to_string(),
            reason: d.reason,
            internal_note: d.note,
            note_to_author: d.note_to_author,
            verdict: d
                .verdict
                .as_deref()
                .and_then(|v| serde_json::from_str(v).ok()),
            created_at: utc(d.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub comment_id: i64,
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Key name of the first moderator who opened, claimed or decided the comment.
    pub first_seen_by: Option<String>,
    /// When the first reader report on the comment was received (`null` if never reported).
    pub first_reported_at: Option<DateTime<Utc>>,
    pub decisions: Vec<DecisionEntry>,
    /// The texts the comment had before its edits, newest first (empty if never edited).
    pub revisions: Vec<RevisionEntry>,
}

/// The decision log of one comment, oldest first, with the verdict current at each step and
/// the first human knowledge of it.
#[utoipa::path(get, path = "/v1/comments/{id}/history", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = History)))]
#[get("/v1/comments/{id}/history")]
pub async fn history(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    let found = store::run(&state.pool, move |conn| {
        let Some(c) = store::comments::site_comment(conn, site, id)? else {
            return Ok(None);
        };
        let log = store::comments::decisions_of(conn, id)?;
        let revisions = store::edits::revisions_of(conn, id)?;
        let seen_by = match c.first_seen_by {
            Some(k) => store::keys::name_of(conn, k)?,
            None => None,
        };
        Ok(Some((c, log, seen_by, revisions)))
    })
    .await?;
    let (c, log, first_seen_by, revisions) =
        found.ok_or_else(|| ApiError::NotFound(format!("comment {id}")))?;
    Ok(HttpResponse::Ok().json(History {
        comment_id: c.id.0,
        first_seen_at: c.first_seen_at.map(utc),
        first_seen_by,
        first_reported_at: c.first_reported_at.map(utc),
        decisions: log
            .into_iter()
            .map(|d| DecisionEntry::for_caller(d, &caller))
            .collect(),
        revisions: revisions.into_iter().map(RevisionEntry::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DecisionLogQuery {
    /// A moderator's key name or key id.
    pub moderator: Option<String>,
    /// `automated` or `human`.
    pub source: Option<DecisionSource>,
    /// At or after (RFC 3339, or a date YYYY-MM-DD).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Before (RFC 3339, or a date YYYY-MM-DD).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// The moderator's action: `approve`, `reject`, `escalate` or `restore`.
    pub action: Option<Action>,
    /// Decisions on the comments of this author (the site's author id).
    pub author: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl DecisionLogQuery {
    /// The store's filter, or 422 for an unreadable date.
    pub(super) fn filter(&self) -> Result<store::decisions::DecisionFilter, ApiError> {
        Ok(store::decisions::DecisionFilter {
            moderator: self.moderator.clone(),
            source: self.source,
            from: optional_time("from", self.from.as_deref())?,
            to: optional_time("to", self.to.as_deref())?,
            action: self.action,
            author: self.author.clone(),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionLogPage {
    pub items: Vec<DecisionEntry>,
    pub next_cursor: Option<String>,
}

/// The site's decision log, newest first, filtered by moderator, source, action, author and
/// dates.
#[utoipa::path(get, path = "/v1/decisions", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(DecisionLogQuery),
    responses((status = 200, body = DecisionLogPage)))]
#[get("/v1/decisions")]
pub async fn decision_log(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<DecisionLogQuery>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(
            ValidationError::new("limit", format!("must be between 1 and {MAX_PAGE}")).into(),
        );
    }
    let before = q
        .cursor
        .as_deref()
        .map(|c| threads::decode_cursor(c).map(DecisionId))
        .transpose()?;
    let filter = q.filter()?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::decisions::decision_log(conn, site, &filter, before, limit + 1)
    })
    .await?;
    let has_more = rows.len() as i64 > limit;
    let items: Vec<DecisionEntry> = rows
        .into_iter()
        .take(limit as usize)
        .map(|d| DecisionEntry::for_caller(d, &caller))
        .collect();
    let next_cursor = if has_more {
        items.last().map(|d| threads::encode_cursor(d.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(DecisionLogPage { items, next_cursor }))
}
