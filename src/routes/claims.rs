//! Claims: a moderator takes items of a queue for a lease, so two moderators never work on one
//! comment; releases.

use super::queues::{parse_order, parse_queue, queue_items, ClaimSummary, QueueItem};
use super::{moderator, utc};
use actix_web::{delete, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{CommentId, Queue};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::decisions::ClaimError;
use crate::store::queues::Order;
use crate::store::records::CommentRecord;
use crate::store::{self, now};

/// Default and longest claim lease.
pub const DEFAULT_LEASE_SECONDS: i64 = 300;

pub const MAX_LEASE_SECONDS: i64 = 3600;

/// Most items one claim call hands out.
pub const MAX_CLAIM_COUNT: i64 = 50;

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
#[tracing::instrument(name = "claim", skip_all, fields(key_id = caller.key_id.0))]
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
        let ids = store::decisions::claim_next(conn, site, queue, &actor, count, order, until)?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = store::comments::site_comment(conn, site, id)? {
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
        let ctx = store::queues::context(conn, &rows)?;
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
        store::decisions::release_all_of(conn, actor.key_id)
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

fn claim_error(e: ClaimError, id: CommentId) -> ApiError {
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
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    let name = actor.name.clone();
    store::run(&state.pool, move |conn| {
        Ok(store::decisions::claim_one(
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
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    store::run(&state.pool, move |conn| {
        Ok(store::decisions::release_one(conn, site, id, &actor))
    })
    .await?
    .map_err(|e| claim_error(e, id))?;
    Ok(HttpResponse::NoContent().finish())
}
