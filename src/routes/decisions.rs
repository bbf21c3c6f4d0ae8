//! Decisions on comments (one, or bulk), a comment's history, and the decision log (audit).

use super::queues::{RevisionEntry, DEFAULT_PAGE, MAX_PAGE};
use super::{moderator, utc};
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::comments::CommentResponse;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{Action, DecisionSource, ReasonCode};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::decisions::{Actor, BulkOutcome, DecideError, DecisionInput};
use crate::store::{self};

/// Most ids in one bulk decision.
pub const MAX_BULK_IDS: usize = 500;

/// Longest note (to the author or internal).
pub const MAX_NOTE_CHARS: usize = 2000;

pub(super) fn bounded_note(field: &str, note: Option<String>) -> Result<Option<String>, ApiError> {
    super::optional_text(field, note, MAX_NOTE_CHARS)
}

// ---------------------------------------------------------------------------------------------
// Decisions

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

pub(super) fn decide_error(e: DecideError, id: i64) -> ApiError {
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
#[tracing::instrument(name = "decide", skip_all, fields(key_id = caller.key_id, comment_id = %id))]
pub async fn decide(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let input = request.validate(&actor)?;
    let id = id.into_inner();
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
#[tracing::instrument(name = "bulk_decide", skip_all, fields(key_id = caller.key_id))]
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
    let ids: Vec<i64> = request
        .ids
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
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
                    id,
                    result: "done",
                    status: Some(c.status),
                    detail: None,
                }
            }
            BulkOutcome::Conflict(detail) => {
                response.conflict += 1;
                BulkItem {
                    id,
                    result: "conflict",
                    status: None,
                    detail: Some(detail),
                }
            }
            BulkOutcome::NotFound => {
                response.not_found += 1;
                BulkItem {
                    id,
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

// ---------------------------------------------------------------------------------------------
// Audit

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
            id: d.id,
            comment_id: d.comment_id,
            actor: d.actor,
            source: d.source,
            action: d.action,
            from_status: d.from_status,
            to_status: d.to_status,
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
    let id = id.into_inner();
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
        comment_id: c.id,
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
    fn filter(&self) -> Result<store::decisions::DecisionFilter, ApiError> {
        Ok(store::decisions::DecisionFilter {
            moderator: self.moderator.clone(),
            source: self.source,
            from: super::optional_time("from", self.from.as_deref())?,
            to: super::optional_time("to", self.to.as_deref())?,
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
        .map(super::threads::decode_cursor)
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
        items.last().map(|d| super::threads::encode_cursor(d.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(DecisionLogPage { items, next_cursor }))
}

// ---------------------------------------------------------------------------------------------
// The audit log as CSV

/// Decisions read per database round trip while streaming the CSV.
const CSV_PAGE: i64 = 500;

/// The CSV's columns.
pub const AUDIT_CSV_HEADER: [&str; 13] = [
    "id",
    "created_at",
    "actor",
    "source",
    "action",
    "from_status",
    "to_status",
    "reason",
    "comment_id",
    "internal_note",
    "note_to_author",
    "origin",
    "network",
];

/// A cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading `'` (OWASP "CSV injection").
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The rows as CSV; `networks` false leaves the network cells empty (moderators' keys).
fn audit_csv(
    rows: &[store::records::DecisionRecord],
    header: bool,
    networks: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if header {
        out.write_record(AUDIT_CSV_HEADER)?;
    }
    for d in rows {
        let created_at = utc(d.created_at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (id, comment_id) = (d.id.to_string(), d.comment_id.to_string());
        let network = if networks {
            d.origin_network.as_deref()
        } else {
            None
        };
        let cells: [&str; 13] = [
            &id,
            &created_at,
            &d.actor,
            &d.source,
            d.action.as_deref().unwrap_or(""),
            d.from_status.as_deref().unwrap_or(""),
            &d.to_status,
            d.reason.as_deref().unwrap_or(""),
            &comment_id,
            d.note.as_deref().unwrap_or(""),
            d.note_to_author.as_deref().unwrap_or(""),
            d.origin.as_deref().unwrap_or(""),
            network.unwrap_or(""),
        ];
        out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The site's decision log as CSV (same filters as `GET /v1/decisions`, without pages),
/// newest first, streamed; cells that a spreadsheet would read as a formula start with `'`.
#[utoipa::path(get, path = "/v1/decisions.csv", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(DecisionLogQuery),
    responses((status = 200, description = "CSV with the columns `id, created_at, actor, source, action, from_status, to_status, reason, comment_id, internal_note, note_to_author, origin, network` (the network for admins only)",
            content_type = "text/csv; charset=utf-8", body = String,
            headers(("content-disposition" = String, description = "attachment; filename=…")))))]
#[get("/v1/decisions.csv")]
#[tracing::instrument(name = "decision_log_csv", skip_all, fields(key_id = caller.key_id))]
pub async fn decision_log_csv(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<DecisionLogQuery>,
) -> Result<HttpResponse, ApiError> {
    use actix_web::web::Bytes;
    use futures_util::StreamExt;
    moderator(&caller)?;
    let q = query.into_inner();
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(ValidationError::new(
            if q.limit.is_some() { "limit" } else { "cursor" },
            "the CSV holds every matching decision: no pages",
        )
        .into());
    }
    let filter = std::sync::Arc::new(q.filter()?);
    let site = caller.site_id;
    // The first page before answering: a database that is down is a 503, not a cut stream.
    let first_filter = filter.clone();
    let first = store::run(&state.pool, move |conn| {
        store::decisions::decision_log(conn, site, &first_filter, None, CSV_PAGE)
    })
    .await?;
    let next = (first.len() as i64 == CSV_PAGE)
        .then(|| first.last().map(|d| d.id))
        .flatten();
    let networks = caller.role == crate::domain::Role::Admin;
    let head = audit_csv(&first, true, networks).map_err(|e| ApiError::Internal(e.into()))?;
    let pool = state.pool.clone();
    let rest = futures_util::stream::unfold(next, move |before| {
        let pool = pool.clone();
        let filter = filter.clone();
        async move {
            let before = before?;
            let page = store::run(&pool, move |conn| {
                store::decisions::decision_log(conn, site, &filter, Some(before), CSV_PAGE)
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|rows| {
                let next = (rows.len() as i64 == CSV_PAGE)
                    .then(|| rows.last().map(|d| d.id))
                    .flatten();
                Ok((audit_csv(&rows, false, networks)?, next))
            });
            Some(match page {
                Ok((bytes, next)) => (Ok(Bytes::from(bytes)), next),
                Err(e) => {
                    // The answer has begun: the client sees a cut stream, the log says why.
                    tracing::error!(error = %e, "audit log export failed mid-stream");
                    (
                        Err(actix_web::error::ErrorInternalServerError(
                            "audit log export failed",
                        )),
                        None,
                    )
                }
            })
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(head)) })
            .chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"vigie-decisions-{}.csv\"",
                chrono::Utc::now().format("%Y%m%d")
            ),
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_cells_are_quoted_and_others_left_alone() {
        for cell in ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
        }
        for cell in ["", "approve", "a=b", "Marie-Claire", "'quoted"] {
            assert_eq!(spreadsheet_safe(cell), cell);
        }
    }
}
