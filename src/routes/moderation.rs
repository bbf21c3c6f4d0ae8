//! The moderators' surface: queues, claims, decisions, bulk decisions, author actions, audit.

use actix_web::{delete, get, post, web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::comments::CommentResponse;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{Action, AuthorStatus, DecisionSource, Queue, ReasonCode, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::moderation::{
    self as m, Actor, AuthorStatusInput, BulkOutcome, ClaimError, DecideError, DecisionInput,
    Order, Position, QueueFilter,
};
use crate::store::records::CommentRecord;
use crate::store::{self, now};

/// Default and longest claim lease.
pub const DEFAULT_LEASE_SECONDS: i64 = 300;
pub const MAX_LEASE_SECONDS: i64 = 3600;
/// Most items one claim call hands out.
pub const MAX_CLAIM_COUNT: i64 = 50;
/// Most ids in one bulk decision.
pub const MAX_BULK_IDS: usize = 500;
/// Longest note (to the author or internal).
pub const MAX_NOTE_CHARS: usize = 2000;
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;

fn moderator(caller: &Caller) -> Result<Actor, ApiError> {
    caller.require(&[Role::Moderator])?;
    Ok(Actor {
        key_id: caller.key_id,
        name: caller.name.clone(),
        is_admin: caller.role == Role::Admin,
    })
}

fn parse_queue(name: &str) -> Result<Queue, ApiError> {
    name.parse().map_err(|_| {
        let known: Vec<&str> = Queue::ALL.iter().map(|q| q.as_str()).collect();
        ApiError::BadRequest(format!(
            "unknown queue `{name}`; queues are {}",
            known.join(", ")
        ))
    })
}

/// An RFC 3339 time or a date (midnight UTC), or 422 naming `field`.
pub(crate) fn parse_time(field: &str, value: &str) -> Result<NaiveDateTime, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.naive_utc())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| {
            ValidationError::new(field, "must be an RFC 3339 time or a date (YYYY-MM-DD)").into()
        })
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn bounded_note(field: &str, note: Option<String>) -> Result<Option<String>, ApiError> {
    super::optional_text(field, note, MAX_NOTE_CHARS)
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
            m::counts(conn, site)?,
            store::reports::count_open_appeals(conn, site)?,
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
        capped_at: m::COUNT_CAP,
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
    /// `risk` (highest score first) or `age` (oldest first, default).
    #[param(inline, value_type = Option<crate::openapi::values::QueueOrder>)]
    pub order: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn parse_order(order: Option<&str>) -> Result<Order, ApiError> {
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
    let id = id.parse().map_err(|_| bad())?;
    if !risk.is_finite() {
        return Err(bad());
    }
    Ok(Position { priority, risk, id })
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
            from: self
                .from
                .as_deref()
                .map(|v| parse_time("from", v))
                .transpose()?,
            to: self
                .to
                .as_deref()
                .map(|v| parse_time("to", v))
                .transpose()?,
            escalated: self.escalated,
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
            status: r.status,
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

fn queue_items(rows: Vec<CommentRecord>, ctx: &m::Context, me: i64) -> Vec<QueueItem> {
    let t = now();
    rows.into_iter()
        .map(|c| {
            let (thread_ext, title, url) =
                ctx.threads.get(&c.thread_id).cloned().unwrap_or_default();
            let author = ctx.authors.get(&c.author_id);
            let (approved, rejected, pending) = ctx
                .author_counts
                .get(&c.author_id)
                .copied()
                .unwrap_or_default();
            let active_claim = match (c.claimed_by, c.claim_expires_at) {
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
            };
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
                        id: p.id,
                        external_id: p.external_id.clone(),
                        body: p.body.clone(),
                        status: p.status.clone(),
                    }),
                verdict: c
                    .verdict
                    .as_deref()
                    .and_then(|v| serde_json::from_str(v).ok()),
                reasons: ctx.reasons.get(&c.id).cloned().unwrap_or_default(),
                author: AuthorRecordSummary {
                    id: author.map(|a| a.external_id.clone()).unwrap_or_default(),
                    name: author.and_then(|a| a.display_name.clone()),
                    status: author.map(|a| a.status.clone()).unwrap_or_default(),
                    status_until: author.and_then(|a| a.status_until).map(utc),
                    approved,
                    rejected,
                    pending,
                },
                claim: active_claim,
                reports: ctx
                    .reports
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
                                status: r.status.clone(),
                                weight: r.weight,
                                reporter_weight: *w,
                                brigading: r.brigading,
                                snapshot_body: (r.snapshot_revision != c.revision)
                                    .then(|| r.snapshot_body.clone()),
                                created_at: utc(r.created_at),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
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
                brigading: ctx
                    .reports
                    .get(&c.id)
                    .is_some_and(|l| l.iter().any(|(r, _)| r.brigading && r.status == "open")),
                comment: QueuedComment {
                    id: c.id,
                    external_id: c.external_id,
                    body: c.body,
                    lang: c.lang,
                    status: c.status,
                    revision: c.revision,
                    escalated: c.escalated,
                    risk: c.risk,
                    score_toxicity: c.score_toxicity,
                    score_spam: c.score_spam,
                    created_at: utc(c.created_at),
                    first_seen_at: c.first_seen_at.map(utc),
                },
            }
        })
        .collect()
}

/// One page of a queue, with everything a moderator needs to decide each item.
#[utoipa::path(get, path = "/v1/queues/{queue}", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("queue" = crate::domain::Queue, Path), QueueQuery),
    responses((status = 200, body = QueuePage),
        (status = 400, description = "unknown queue or malformed cursor", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/v1/queues/{queue}")]
#[tracing::instrument(name = "queue_page", skip_all, fields(key_id = caller.key_id))]
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
        let rows = m::page(conn, site, queue, &filter, order, after, limit + 1)?;
        let ctx = m::context(conn, &rows)?;
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

// ---------------------------------------------------------------------------------------------
// Claims

#[derive(Debug, Deserialize, ToSchema)]
pub struct ClaimRequest {
    /// How many items, 1 to 50.
    #[schema(minimum = 1, maximum = 50)]
    pub count: i64,
    /// Lease, 30 to 3600 seconds (default 300).
    #[serde(default)]
    #[schema(minimum = 30, maximum = 3600)]
    pub lease_seconds: Option<i64>,
    /// `age` (default) or `risk`.
    #[serde(default)]
    #[schema(inline, value_type = Option<crate::openapi::values::QueueOrder>)]
    pub order: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimResponse {
    pub queue: String,
    pub expires_at: DateTime<Utc>,
    pub items: Vec<QueueItem>,
}

fn lease(seconds: Option<i64>) -> Result<NaiveDateTime, ApiError> {
    let s = seconds.unwrap_or(DEFAULT_LEASE_SECONDS);
    if !(30..=MAX_LEASE_SECONDS).contains(&s) {
        return Err(ValidationError::new(
            "lease_seconds",
            format!("must be between 30 and {MAX_LEASE_SECONDS}"),
        )
        .into());
    }
    Ok(now() + chrono::Duration::seconds(s))
}

/// Hands the caller the next unclaimed items of a queue with a lease. Two moderators, or two
/// replicas on one PostgreSQL, never receive the same comment; expired claims return.
#[utoipa::path(post, path = "/v1/queues/{queue}/claims", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("queue" = crate::domain::Queue, Path)), request_body = ClaimRequest,
    responses((status = 200, body = ClaimResponse)))]
#[post("/v1/queues/{queue}/claims")]
#[tracing::instrument(name = "claim", skip_all, fields(key_id = caller.key_id))]
pub async fn claim(
    caller: Caller,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    ApiJson(request): ApiJson<ClaimRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let queue = parse_queue(&queue)?;
    if !(1..=MAX_CLAIM_COUNT).contains(&request.count) {
        return Err(ValidationError::new(
            "count",
            format!("must be between 1 and {MAX_CLAIM_COUNT}"),
        )
        .into());
    }
    let until = lease(request.lease_seconds)?;
    let order = parse_order(request.order.as_deref())?;
    let site = caller.site_id;
    let count = request.count;
    let (rows, ctx) = store::run(&state.pool, move |conn| {
        let ids = m::claim_next(conn, site, queue, &actor, count, order, until)?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = m::site_comment(conn, site, id)? {
                rows.push(c);
            }
        }
        if order == Order::Risk {
            let key = |c: &CommentRecord| {
                if queue == Queue::Reported {
                    c.report_weight
                } else {
                    c.risk
                }
            };
            rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.id.cmp(&b.id)));
        }
        let ctx = m::context(conn, &rows)?;
        Ok((rows, ctx))
    })
    .await?;
    tracing::info!(queue = %queue, claimed = rows.len(), "claimed");
    Ok(HttpResponse::Ok().json(ClaimResponse {
        queue: queue.to_string(),
        expires_at: utc(until),
        items: queue_items(rows, &ctx, caller.key_id),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Released {
    pub released: usize,
}

/// Releases every claim the caller holds.
#[utoipa::path(delete, path = "/v1/claims", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    responses((status = 200, body = Released)))]
#[delete("/v1/claims")]
pub async fn release_mine(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let released = store::run(&state.pool, move |conn| {
        m::release_all_of(conn, actor.key_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Released { released }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ClaimOneRequest {
    /// Lease, 30 to 3600 seconds (default 300).
    #[serde(default)]
    #[schema(minimum = 30, maximum = 3600)]
    pub lease_seconds: Option<i64>,
    /// Admins only: take over another moderator's claim.
    #[serde(default)]
    pub take_over: bool,
}

fn claim_error(e: ClaimError, id: i64) -> ApiError {
    match e {
        ClaimError::NotFound => ApiError::NotFound(format!("comment {id}")),
        ClaimError::ClaimedByOther { .. } => ApiError::Conflict(e.to_string()),
        ClaimError::Db(e) => store::StoreError::from(e).into(),
        ClaimError::Store(e) => e.into(),
    }
}

/// Takes or renews the claim on one comment (as the console does when a moderator moves to it).
#[utoipa::path(post, path = "/v1/comments/{id}/claim", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = ClaimOneRequest,
    responses((status = 200, body = ClaimSummary),
        (status = 409, description = "claimed by another moderator", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/comments/{id}/claim")]
pub async fn claim_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<ClaimOneRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    if request.take_over && !actor.is_admin {
        return Err(ApiError::Forbidden(
            "only an admin may take over a claim".into(),
        ));
    }
    let until = lease(request.lease_seconds)?;
    let id = id.into_inner();
    let site = caller.site_id;
    let name = actor.name.clone();
    store::run(&state.pool, move |conn| {
        Ok(m::claim_one(
            conn,
            site,
            id,
            &actor,
            until,
            request.take_over,
        ))
    })
    .await?
    .map_err(|e| claim_error(e, id))?;
    Ok(HttpResponse::Ok().json(ClaimSummary {
        moderator: name,
        expires_at: utc(until),
        mine: true,
    }))
}

/// Releases the caller's claim on one comment.
#[utoipa::path(delete, path = "/v1/comments/{id}/claim", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 204),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[delete("/v1/comments/{id}/claim")]
pub async fn release_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let actor = moderator(&caller)?;
    let id = id.into_inner();
    let site = caller.site_id;
    store::run(&state.pool, move |conn| {
        Ok(m::release_one(conn, site, id, &actor))
    })
    .await?
    .map_err(|e| claim_error(e, id))?;
    Ok(HttpResponse::NoContent().finish())
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

fn decide_error(e: DecideError, id: i64) -> ApiError {
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
        Ok(match m::decide(conn, site, id, &actor, &input) {
            Ok(_) => Ok(store::comments::view(conn, id)?),
            Err(e) => Err(e),
        })
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
        m::decide_many(conn, site, &ids, &actor, &input)
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
}

impl From<store::records::DecisionRecord> for DecisionEntry {
    fn from(d: store::records::DecisionRecord) -> Self {
        DecisionEntry {
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
        let Some(c) = m::site_comment(conn, site, id)? else {
            return Ok(None);
        };
        let log = store::comments::decisions_of(conn, id)?;
        let revisions = store::comments::revisions_of(conn, id)?;
        let seen_by = match c.first_seen_by {
            Some(k) => {
                use diesel::prelude::*;
                store::schema::api_keys::table
                    .find(k)
                    .select(store::schema::api_keys::name)
                    .first::<String>(conn)
                    .optional()?
            }
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
        decisions: log.into_iter().map(DecisionEntry::from).collect(),
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
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionLogPage {
    pub items: Vec<DecisionEntry>,
    pub next_cursor: Option<String>,
}

/// The site's decision log, newest first.
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
    let filter = m::DecisionFilter {
        moderator: q.moderator,
        source: q.source,
        from: q
            .from
            .as_deref()
            .map(|v| parse_time("from", v))
            .transpose()?,
        to: q.to.as_deref().map(|v| parse_time("to", v)).transpose()?,
    };
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        m::decision_log(conn, site, &filter, before, limit + 1)
    })
    .await?;
    let has_more = rows.len() as i64 > limit;
    let items: Vec<DecisionEntry> = rows
        .into_iter()
        .take(limit as usize)
        .map(DecisionEntry::from)
        .collect();
    let next_cursor = if has_more {
        items.last().map(|d| super::threads::encode_cursor(d.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(DecisionLogPage { items, next_cursor }))
}

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
#[tracing::instrument(name = "author_status", skip_all, fields(key_id = caller.key_id))]
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
        Ok(m::set_author_status(conn, site, &wanted, &actor, &input))
    })
    .await?
    .map_err(|e| decide_error(e, 0))?
    .ok_or_else(|| ApiError::NotFound(format!("author `{author_id}`")))?;
    let (author, rejected) = result;
    tracing::info!(author = author.id, status = %author.status, rejected = rejected.len(), "author status changed");
    Ok(HttpResponse::Ok().json(AuthorStatusResponse {
        id: author.external_id,
        status: author.status,
        status_until: author.status_until.map(utc),
        rejected_comments: rejected,
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
    /// The author's last 10 comments with their outcomes, newest first.
    pub recent: Vec<AuthorComment>,
    /// Status changes (pre-moderation, bans), oldest first.
    pub actions: Vec<AuthorAction>,
}

/// An author's record: counts, recent comments with their outcomes, status actions.
#[utoipa::path(get, path = "/v1/authors/{id}", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's author id")),
    responses((status = 200, body = AuthorView)))]
#[get("/v1/authors/{id}")]
pub async fn author_view(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    moderator(&caller)?;
    let author_id = id.into_inner();
    let site = caller.site_id;
    let wanted = author_id.clone();
    let (author, recent, (approved, rejected, pending), actions) =
        store::run(&state.pool, move |conn| {
            m::author_record(conn, site, &wanted, 10)
        })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("author `{author_id}`")))?;
    Ok(HttpResponse::Ok().json(AuthorView {
        id: author.external_id,
        name: author.display_name,
        status: author.status,
        status_until: author.status_until.map(utc),
        approved,
        rejected,
        pending,
        recent: recent
            .into_iter()
            .map(|c| AuthorComment {
                id: c.id,
                thread_id: c.thread_id,
                excerpt: c.body.chars().take(280).collect(),
                status: c.status,
                created_at: utc(c.created_at),
            })
            .collect(),
        actions: actions
            .into_iter()
            .map(|a| AuthorAction {
                actor: a.actor,
                from_status: a.from_status,
                to_status: a.to_status,
                until: a.until.map(utc),
                reason: a.reason,
                note: a.note,
                created_at: utc(a.created_at),
            })
            .collect(),
    }))
}
