//! The moderators' queues: counts, and pages of held comments with their context (thread,
//! parent, author's record, reports, revisions), keyset-paginated.

use super::{moderator, utc};
use actix_web::{get, web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{ApiKeyId, AuthorId, CommentId, Queue};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::queues::{Order, Position, QueueFilter, MAX_SEARCH_CHARS};
use crate::store::records::CommentRecord;
use crate::store::{self, now};

pub(super) const DEFAULT_PAGE: i64 = 50;

pub(super) const MAX_PAGE: i64 = 200;

pub(super) fn parse_queue(name: &str) -> Result<Queue, ApiError> {
    name.parse().map_err(|_| {
        let known: Vec<&str> = Queue::ALL.iter().map(|q| q.as_str()).collect();
        ApiError::BadRequest(format!(
            "unknown queue `{name}`; queues are {}",
            known.join(", ")
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Queues

/// Number of comments in each queue; a count above `capped_at` means "more than `capped_at`".
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    pub capped_at: i64,
    pub pending: i64,
    pub reported: i64,
    pub unmoderated: i64,
    pub rejected: i64,
    pub approved: i64,
    /// Open appeals.
    pub appeals: i64,
}

/// Counts per queue for the key's site.
#[utoipa::path(get, path = "/v1/queues", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    responses((status = 200, body = QueueCounts)))]
#[get("/v1/queues")]
pub async fn queue_counts(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let site = caller.site_id;
    let (counts, appeals) = store::run(&state.pool, move |conn| {
        Ok((
            store::queues::counts(conn, site)?,
            store::appeals::count_open_appeals(conn, site)?,
        ))
    })
    .await?;
    let get = |q: Queue| {
        counts
            .iter()
            .find(|(k, _)| *k == q)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    Ok(HttpResponse::Ok().json(QueueCounts {
        capped_at: store::queues::COUNT_CAP,
        pending: get(Queue::Pending),
        reported: get(Queue::Reported),
        unmoderated: get(Queue::Unmoderated),
        rejected: get(Queue::Rejected),
        approved: get(Queue::Approved),
        appeals,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// The site's thread id.
    pub thread: Option<String>,
    /// A rule id or reason the comment was queued for (e.g. `escalated`).
    pub reason: Option<String>,
    pub lang: Option<String>,
    /// `toxicity` (default) or `spam`, for `min_score`/`max_score`.
    #[param(inline, value_type = Option<crate::openapi::values::ScoreCategory>)]
    pub category: Option<String>,
    /// Between 0 and 1, at most `max_score`.
    #[param(minimum = 0, maximum = 1)]
    pub min_score: Option<f64>,
    #[param(minimum = 0, maximum = 1)]
    pub max_score: Option<f64>,
    /// The site's author id.
    pub author: Option<String>,
    /// Created at or after (RFC 3339, or a date YYYY-MM-DD).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Created before (RFC 3339, or a date YYYY-MM-DD).
    #[param(format = DateTime)]
    pub to: Option<String>,
    pub escalated: Option<bool>,
    /// Text the comment contains, case-insensitive (`%` and `_` are literal), 1 to 100
    /// characters.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// `risk` (highest score first) or `age` (oldest first, default).
    #[param(inline, value_type = Option<crate::openapi::values::QueueOrder>)]
    pub order: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub(super) fn parse_order(order: Option<&str>) -> Result<Order, ApiError> {
    match order {
        None | Some("age") => Ok(Order::Age),
        Some("risk") => Ok(Order::Risk),
        Some(other) => Err(ValidationError::new(
            "order",
            format!("must be `risk` or `age`, not `{other}`"),
        )
        .into()),
    }
}

fn encode_position(p: Position) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "q2:{}:{:016x}:{}",
        p.priority,
        p.risk.to_bits(),
        p.id
    ))
}

fn decode_position(cursor: &str) -> Result<Position, ApiError> {
    let bad = || ApiError::BadRequest("malformed cursor".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    // `q1` cursors (before the reported queue's priority) read as priority 0.
    let parts: Vec<&str> = text.split(':').collect();
    let (priority, bits, id) = match parts.as_slice() {
        ["q1", bits, id] => (0, *bits, *id),
        ["q2", priority, bits, id] => (priority.parse().map_err(|_| bad())?, *bits, *id),
        _ => return Err(bad()),
    };
    let risk = f64::from_bits(u64::from_str_radix(bits, 16).map_err(|_| bad())?);
    let id = CommentId(id.parse().map_err(|_| bad())?);
    if !risk.is_finite() {
        return Err(bad());
    }
    Ok(Position { priority, risk, id })
}

/// The `q` of a queue search: trimmed, 1 to [`MAX_SEARCH_CHARS`] characters, no NUL.
fn search_text(q: &str) -> Result<String, ApiError> {
    let q = q.trim();
    if q.is_empty() || q.chars().count() > MAX_SEARCH_CHARS || q.contains('\0') {
        return Err(ValidationError::new(
            "q",
            format!("must hold 1 to {MAX_SEARCH_CHARS} characters (no NUL)"),
        )
        .into());
    }
    Ok(q.to_owned())
}

impl QueueQuery {
    fn filter(&self) -> Result<QueueFilter, ApiError> {
        let score =
            if self.min_score.is_some() || self.max_score.is_some() || self.category.is_some() {
                let category = self.category.clone().unwrap_or_else(|| "toxicity".into());
                if !matches!(category.as_str(), "toxicity" | "spam") {
                    return Err(
                        ValidationError::new("category", "must be `toxicity` or `spam`").into(),
                    );
                }
                let min = self.min_score.unwrap_or(0.0);
                let max = self.max_score.unwrap_or(1.0);
                if !(0.0..=1.0).contains(&min) || !(0.0..=1.0).contains(&max) || min > max {
                    return Err(ValidationError::new(
                        "min_score",
                        "scores are between 0 and 1, min ≤ max",
                    )
                    .into());
                }
                Some((category, min, max))
            } else {
                None
            };
        Ok(QueueFilter {
            thread: self.thread.clone(),
            reason: self.reason.clone(),
            lang: self.lang.clone(),
            score,
            author: self.author.clone(),
            from: super::optional_time("from", self.from.as_deref())?,
            to: super::optional_time("to", self.to.as_deref())?,
            escalated: self.escalated,
            text: self.q.as_deref().map(search_text).transpose()?,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    pub comment: QueuedComment,
    pub thread: ThreadSummary,
    /// The comment this one replies to.
    pub parent: Option<ParentSummary>,
    /// Scores, rules fired and highlighted spans; `null` until scored.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<serde_json::Value>,
    /// Rule ids and reasons that put the comment here.
    pub reasons: Vec<String>,
    pub author: AuthorRecordSummary,
    pub claim: Option<ClaimSummary>,
    /// Reader reports on the comment, oldest first.
    pub reports: Vec<ReportSummary>,
    /// Open reports and their summed weight.
    pub open_reports: i32,
    /// The weight of the open reports: one vote per network, the heaviest reporter of each;
    /// reports of a burst count 0. Without its `illegal` reports, it is what hides the comment
    /// at the site's threshold.
    pub report_weight: f64,
    /// `authority`, `trusted_flagger` or `reader`: the most urgent open notice; the reported
    /// queue lists authorities', then trusted flaggers' first (DSA Art. 22). `null` without
    /// open reports.
    pub report_priority: Option<String>,
    /// Some open report is part of a burst of new reporters (counts 0 toward hiding; the
    /// comment is escalated instead).
    pub brigading: bool,
    /// The text before the last edit, for an edited comment (the history has them all).
    pub previous: Option<RevisionEntry>,
}

/// A text a comment had before an edit replaced it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionEntry {
    /// The comment's revision when this text was replaced.
    pub revision: i32,
    pub body: String,
    pub lang: Option<String>,
    /// The comment's status while it had this text.
    pub status: String,
    /// The verdict of this text.
    #[schema(value_type = Option<Object>)]
    pub verdict: Option<serde_json::Value>,
    /// The site's time of the edit that wrote this text (`null` for the text first received).
    pub edited_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub replaced_at: DateTime<Utc>,
}

impl From<store::records::RevisionRecord> for RevisionEntry {
    fn from(r: store::records::RevisionRecord) -> Self {
        RevisionEntry {
            revision: r.revision,
            body: r.body,
            lang: r.lang,
            status: r.status.to_string(),
            verdict: r
                .verdict
                .as_deref()
                .and_then(|v| serde_json::from_str(v).ok()),
            edited_at: r.edited_at.map(utc),
            received_at: utc(r.received_at),
            replaced_at: utc(r.replaced_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSummary {
    pub reference: String,
    pub category: String,
    pub source: String,
    pub text: Option<String>,
    pub legal_ground: Option<String>,
    pub explanation: Option<String>,
    /// `open`, `upheld` or `dismissed`.
    pub status: String,
    /// Weight of this report when filed.
    pub weight: f64,
    /// The reporter's weight now.
    pub reporter_weight: f64,
    pub brigading: bool,
    /// The comment's text when it was reported, when it has changed since.
    pub snapshot_body: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedComment {
    pub id: i64,
    pub external_id: String,
    pub body: String,
    pub lang: Option<String>,
    pub status: String,
    pub revision: i32,
    pub escalated: bool,
    pub risk: f64,
    pub score_toxicity: Option<f64>,
    pub score_spam: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub first_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadSummary {
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParentSummary {
    pub id: i64,
    pub external_id: String,
    pub body: String,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorRecordSummary {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub status_until: Option<DateTime<Utc>>,
    pub approved: i64,
    pub rejected: i64,
    pub pending: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimSummary {
    pub moderator: String,
    pub expires_at: DateTime<Utc>,
    /// Whether the caller holds it.
    pub mine: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub queue: String,
    pub items: Vec<QueueItem>,
    pub next_cursor: Option<String>,
}

/// The queue items of `rows` with their context; `me` is the caller's key (to tell its claims).
pub(super) fn queue_items(
    rows: Vec<CommentRecord>,
    ctx: &store::queues::Context,
    me: ApiKeyId,
) -> Vec<QueueItem> {
    let t = now();
    rows.into_iter()
        .map(|c| queue_item(c, ctx, me, t))
        .collect()
}

/// One comment of a queue with its thread, parent, author's record, claim, reports and
/// previous revision; `t` is now (an expired claim is none).
fn queue_item(
    c: CommentRecord,
    ctx: &store::queues::Context,
    me: ApiKeyId,
    t: chrono::NaiveDateTime,
) -> QueueItem {
    let (thread_ext, title, url) = ctx.threads.get(&c.thread_id).cloned().unwrap_or_default();
    QueueItem {
        thread: ThreadSummary {
            id: thread_ext,
            title,
            url,
        },
        parent: c
            .parent_id
            .and_then(|p| ctx.parents.get(&p))
            .map(|p| ParentSummary {
                id: p.id.0,
                external_id: p.external_id.clone(),
                body: p.body.clone(),
                status: p.status.to_string(),
            }),
        verdict: c
            .verdict
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok()),
        reasons: ctx.reasons.get(&c.id).cloned().unwrap_or_default(),
        author: author_summary(ctx, c.author_id),
        claim: active_claim(&c, ctx, me, t),
        reports: report_summaries(&c, ctx),
        open_reports: c.open_reports,
        report_weight: c.report_weight,
        report_priority: (c.open_reports > 0).then(|| {
            match c.report_priority {
                2.. => "authority",
                1 => "trusted_flagger",
                _ => "reader",
            }
            .to_owned()
        }),
        previous: ctx.previous.get(&c.id).cloned().map(RevisionEntry::from),
        brigading: ctx.reports.get(&c.id).is_some_and(|l| {
            l.iter()
                .any(|(r, _)| r.brigading && r.status == crate::domain::ReportStatus::Open)
        }),
        comment: QueuedComment {
            id: c.id.0,
            external_id: c.external_id,
            body: c.body,
            lang: c.lang,
            status: c.status.to_string(),
            revision: c.revision,
            escalated: c.escalated,
            risk: c.risk,
            score_toxicity: c.score_toxicity,
            score_spam: c.score_spam,
            created_at: utc(c.created_at),
            first_seen_at: c.first_seen_at.map(utc),
        },
    }
}

/// The record of author `author_id` (empty strings and zero counts when unknown).
fn author_summary(ctx: &store::queues::Context, author_id: AuthorId) -> AuthorRecordSummary {
    let author = ctx.authors.get(&author_id);
    let (approved, rejected, pending) = ctx
        .author_counts
        .get(&author_id)
        .copied()
        .unwrap_or_default();
    AuthorRecordSummary {
        id: author.map(|a| a.external_id.clone()).unwrap_or_default(),
        name: author.and_then(|a| a.display_name.clone()),
        status: author.map(|a| a.status.to_string()).unwrap_or_default(),
        status_until: author.and_then(|a| a.status_until).map(utc),
        approved,
        rejected,
        pending,
    }
}

/// The comment's claim, if it has not expired at `t`.
fn active_claim(
    c: &CommentRecord,
    ctx: &store::queues::Context,
    me: ApiKeyId,
    t: chrono::NaiveDateTime,
) -> Option<ClaimSummary> {
    match (c.claimed_by, c.claim_expires_at) {
        (Some(by), Some(until)) if until > t => Some(ClaimSummary {
            moderator: ctx
                .key_names
                .get(&by)
                .cloned()
                .unwrap_or_else(|| format!("key {by}")),
            expires_at: utc(until),
            mine: by == me,
        }),
        _ => None,
    }
}

/// The comment's reports, each with its reporter's weight now and, when the comment has been
/// edited since, the text that was reported.
fn report_summaries(c: &CommentRecord, ctx: &store::queues::Context) -> Vec<ReportSummary> {
    ctx.reports
        .get(&c.id)
        .map(|list| {
            list.iter()
                .map(|(r, w)| ReportSummary {
                    reference: r.reference.clone(),
                    category: r.category.clone(),
                    source: r.source.clone(),
                    text: r.text.clone(),
                    legal_ground: r.legal_ground.clone(),
                    explanation: r.explanation.clone(),
                    status: r.status.to_string(),
                    weight: r.weight,
                    reporter_weight: *w,
                    brigading: r.brigading,
                    snapshot_body: (r.snapshot_revision != c.revision)
                        .then(|| r.snapshot_body.clone()),
                    created_at: utc(r.created_at),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One page of a queue, with everything a moderator needs to decide each item.
#[utoipa::path(get, path = "/v1/queues/{queue}", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("queue" = crate::domain::Queue, Path), QueueQuery),
    responses((status = 200, body = QueuePage),
        (status = 400, description = "unknown queue or malformed cursor", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/v1/queues/{queue}")]
#[tracing::instrument(name = "queue_page", skip_all, fields(key_id = caller.key_id.0))]
pub async fn queue_page(
    caller: Caller,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let queue = parse_queue(&queue)?;
    let query = query.into_inner();
    let filter = query.filter()?;
    let order = parse_order(query.order.as_deref())?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(
            ValidationError::new("limit", format!("must be between 1 and {MAX_PAGE}")).into(),
        );
    }
    let after = query.cursor.as_deref().map(decode_position).transpose()?;
    let site = caller.site_id;
    let (rows, ctx) = store::run(&state.pool, move |conn| {
        let rows = store::queues::page(conn, site, queue, &filter, order, after, limit + 1)?;
        let ctx = store::queues::context(conn, &rows)?;
        Ok((rows, ctx))
    })
    .await?;
    let has_more = rows.len() as i64 > limit;
    let rows: Vec<CommentRecord> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = if has_more {
        rows.last().map(|c| {
            // The reported queue sorts on its priority and the weighted reports.
            encode_position(if queue == Queue::Reported {
                Position {
                    priority: c.report_priority,
                    risk: c.report_weight,
                    id: c.id,
                }
            } else {
                Position {
                    priority: 0,
                    risk: c.risk,
                    id: c.id,
                }
            })
        })
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(QueuePage {
        queue: queue.to_string(),
        items: queue_items(rows, &ctx, caller.key_id),
        next_cursor,
    }))
}
