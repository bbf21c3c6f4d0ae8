//! Webhooks in the database: endpoints, the outbox of deliveries (written in the transaction of
//! the change that causes them), claims by the delivery worker and the attempt log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use serde_json::{json, Value};

use super::schema::{comments, threads, webhook_attempts, webhook_deliveries, webhook_endpoints};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::events::EventType;
use crate::domain::{
    CommentId, CommentStatus, DecisionId, DeliveryId, DeliveryStatus, EndpointId, SiteId,
};

mod endpoints;

pub use endpoints::{
    create_endpoint, delete_endpoint, endpoint, endpoints, update_endpoint, EndpointChanges,
    EndpointError, NewEndpoint,
};

/// At most this many endpoints per site.
pub const MAX_ENDPOINTS_PER_SITE: i64 = 10;
/// Retries are spaced by at most this much.
pub const MAX_RETRY_DELAY_SECS: i64 = 3600;
/// A delivery is retried for this long, then marked `failed` (manual redelivery remains).
pub const RETRY_WINDOW_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRecord {
    pub id: EndpointId,
    pub site_id: SiteId,
    pub url: String,
    pub description: Option<String>,
    pub events: String,
    pub secret_sealed: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRecord {
    pub fn event_types(&self) -> Vec<EventType> {
        self.events
            .split_whitespace()
            .filter_map(|e| e.parse().ok())
            .collect()
    }

    fn wants(&self, event: EventType) -> bool {
        self.events.contains(&format!(" {} ", event.as_str()))
    }
}

/// How event types are stored: space-separated with a space at each end.
pub fn events_column(events: &[EventType]) -> String {
    let mut out = String::from(" ");
    for e in events {
        out.push_str(e.as_str());
        out.push(' ');
    }
    out
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub endpoint_id: EndpointId,
    pub site_id: SiteId,
    pub event_id: String,
    pub event_type: String,
    pub subject: String,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub retry_until: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRecord {
    pub id: i64,
    pub delivery_id: DeliveryId,
    pub endpoint_id: EndpointId,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: NaiveDateTime,
}

/// Writes one event to the outbox: a delivery row per endpoint of the site that wants it
/// (paused ones included), all with one event id. `data` is built only when some endpoint wants the event. Runs
/// inside the caller's transaction.
pub fn emit(
    conn: &mut DbConnection,
    site_id: SiteId,
    event: EventType,
    subject: &str,
    data: impl FnOnce(&mut DbConnection) -> Result<Value, diesel::result::Error>,
) -> Result<usize, diesel::result::Error> {
    // Paused endpoints get their events too: they wait until the endpoint is resumed.
    let endpoints: Vec<EndpointRecord> = super::on_backend!(conn, |c| webhook_endpoints::table
        .filter(webhook_endpoints::site_id.eq(site_id))
        .select(EndpointRecord::as_select())
        .load(c))?;
    let wanting: Vec<EndpointId> = endpoints
        .iter()
        .filter(|e| e.wants(event))
        .map(|e| e.id)
        .collect();
    if wanting.is_empty() {
        return Ok(0);
    }
    let t = now();
    let event_id = uuid::Uuid::new_v4().to_string();
    let payload = json!({
        "id": event_id,
        "type": event.as_str(),
        "created_at": t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data(conn)?,
    })
    .to_string();
    let retry_until = t + chrono::Duration::hours(RETRY_WINDOW_HOURS);
    // One insert per endpoint: batch inserts are not available on the multi-backend connection.
    for &endpoint_id in &wanting {
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::endpoint_id.eq(endpoint_id),
                webhook_deliveries::site_id.eq(site_id),
                webhook_deliveries::event_id.eq(&event_id),
                webhook_deliveries::event_type.eq(event.as_str()),
                webhook_deliveries::subject.eq(subject),
                webhook_deliveries::payload.eq(&payload),
                webhook_deliveries::status.eq(DeliveryStatus::Pending),
                webhook_deliveries::next_attempt_at.eq(t),
                webhook_deliveries::retry_until.eq(retry_until),
                webhook_deliveries::created_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(wanting.len())
}

/// The event of a comment's status change (if the change is one readers would notice).
/// `decision` describes the decision row that made it.
pub fn emit_status_change(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    from: Option<CommentStatus>,
    to: CommentStatus,
    decision: Value,
) -> Result<usize, diesel::result::Error> {
    let Some(event) = EventType::of_status_change(from, to) else {
        return Ok(0);
    };
    emit(conn, site_id, event, &comment_subject(comment_id), |conn| {
        Ok(json!({
            "comment": comment_ref(conn, comment_id)?,
            "from_status": from.map(CommentStatus::as_str),
            "to_status": to.as_str(),
            "decision": decision,
        }))
    })
}

/// How an event describes a decision row.
pub fn decision_ref(
    id: DecisionId,
    source: crate::domain::DecisionSource,
    action: Option<&str>,
    reason: Option<&str>,
) -> Value {
    json!({ "id": id, "source": source.as_str(), "action": action, "reason": reason })
}

/// The ordering key of a comment's events.
pub fn comment_subject(comment_id: CommentId) -> String {
    format!("comment:{comment_id}")
}

/// How events name a comment: ids and status only, never its text or its author's personal
/// data (the site knows its own comment by `external_id`).
pub fn comment_ref(
    conn: &mut DbConnection,
    comment_id: CommentId,
) -> Result<Value, diesel::result::Error> {
    let (external_id, thread, status, revision): (String, String, String, i32) = comments::table
        .inner_join(threads::table)
        .filter(comments::id.eq(comment_id))
        .select((
            comments::external_id,
            threads::external_id,
            comments::status,
            comments::revision,
        ))
        .first(conn)?;
    Ok(json!({
        "id": comment_id,
        "external_id": external_id,
        "thread_id": thread,
        "status": status,
        "revision": revision,
    }))
}

/// A delivery claimed by a worker, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery: DeliveryRecord,
    pub url: String,
    pub secret_sealed: String,
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// [`claim_due`] on PostgreSQL: `$1` the lease's end, `$2` now, `$3` the limit.
const CLAIM_DUE_POSTGRES: &str = "UPDATE webhook_deliveries SET locked_until = $1 WHERE id IN ( \
       SELECT d.id FROM webhook_deliveries d \
       WHERE d.status = 'pending' AND d.next_attempt_at <= $2 \
         AND (d.locked_until IS NULL OR d.locked_until < $2) \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.active) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
             WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject \
               AND p.status = 'pending' AND p.id < d.id) \
       ORDER BY d.id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id";

/// [`claim_due`] on SQLite (numbered `?N` placeholders; no row locks: the write transaction
/// holds the database).
const CLAIM_DUE_SQLITE: &str = "UPDATE webhook_deliveries SET locked_until = ?1 WHERE id IN ( \
       SELECT d.id FROM webhook_deliveries d \
       WHERE d.status = 'pending' AND d.next_attempt_at <= ?2 \
         AND (d.locked_until IS NULL OR d.locked_until < ?2) \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.active) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
             WHERE p.endpoint_id = d.endpoint_id AND p.subject = d.subject \
               AND p.status = 'pending' AND p.id < d.id) \
       ORDER BY d.id LIMIT ?3) RETURNING id";

/// Runs a claim statement (`postgres` or `sqlite`, the same but for placeholders and row
/// locks; `$1`/`?1` the lease's end, `$2`/`?2` now, `$3`/`?3` the limit, returning `id`) in a
/// write transaction: the ids now leased. Shared by webhook deliveries and the mail outbox.
pub(super) fn claim_ids(
    conn: &mut DbConnection,
    postgres: &str,
    sqlite: &str,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let t = now();
    let until = t + lease;
    let sql = match conn {
        DbConnection::Pg(_) => postgres,
        DbConnection::Sqlite(_) => sqlite,
    };
    Ok(write_tx(conn, |conn| {
        diesel::sql_query(sql)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(t)
            .bind::<BigInt, _>(limit)
            .load::<ClaimedId>(conn)
    })?
    .into_iter()
    .map(|c| c.id)
    .collect())
}

/// After a failed attempt at `t`: the next try at `t + retry_delay`, and whether that is past
/// `retry_until` (`true`: given up, the row becomes `failed`; else it stays `pending`).
pub(super) fn after_failure(
    t: NaiveDateTime,
    retry_delay: chrono::Duration,
    retry_until: NaiveDateTime,
) -> (bool, NaiveDateTime) {
    let next = t + retry_delay;
    (next > retry_until, next)
}

/// Claims up to `limit` due deliveries for `lease`: the oldest pending delivery of each
/// (endpoint, subject) whose time has come, so one subject's events go out in order. Rows are
/// taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL (replicas never take the same row) and
/// in a `BEGIN IMMEDIATE` transaction on SQLite.
pub fn claim_due(
    conn: &mut DbConnection,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<DueDelivery>, StoreError> {
    let ids = claim_ids(conn, CLAIM_DUE_POSTGRES, CLAIM_DUE_SQLITE, lease, limit)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(DeliveryRecord, String, String)> = webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::id.eq_any(&ids))
        .order(webhook_deliveries::id)
        .select((
            DeliveryRecord::as_select(),
            webhook_endpoints::url,
            webhook_endpoints::secret_sealed,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(delivery, url, secret_sealed)| DueDelivery {
            delivery,
            url,
            secret_sealed,
        })
        .collect())
}

/// What one attempt gave.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl AttemptOutcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// Records an attempt: delivered on a 2xx; otherwise the next try after `retry_delay`, or
/// `failed` once past the delivery's retry window.
pub fn record_attempt(
    conn: &mut DbConnection,
    delivery: &DeliveryRecord,
    outcome: &AttemptOutcome,
    retry_delay: chrono::Duration,
) -> Result<(), StoreError> {
    let t = now();
    let attempt = delivery.attempts + 1;
    let code = outcome.status_code.map(i32::from);
    let error = outcome.error.as_deref().map(|e| truncate(e, 500));
    write_tx(conn, |conn| {
        let target = webhook_deliveries::table.find(delivery.id);
        if outcome.succeeded() {
            diesel::update(target)
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Delivered),
                    webhook_deliveries::attempts.eq(attempt),
                    webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                    webhook_deliveries::last_status_code.eq(code),
                    webhook_deliveries::last_error.eq(None::<String>),
                    webhook_deliveries::delivered_at.eq(Some(t)),
                ))
                .execute(conn)?;
        } else {
            let (gave_up, next) = after_failure(t, retry_delay, delivery.retry_until);
            let status = if gave_up {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Pending
            };
            diesel::update(target)
                .set((
                    webhook_deliveries::status.eq(status),
                    webhook_deliveries::attempts.eq(attempt),
                    webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                    webhook_deliveries::next_attempt_at.eq(next),
                    webhook_deliveries::last_status_code.eq(code),
                    webhook_deliveries::last_error.eq(error.as_deref()),
                ))
                .execute(conn)?;
        }
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(delivery.id),
                webhook_attempts::endpoint_id.eq(delivery.endpoint_id),
                webhook_attempts::attempt.eq(attempt),
                webhook_attempts::status_code.eq(code),
                webhook_attempts::error.eq(error.as_deref()),
                webhook_attempts::duration_ms.eq(outcome.duration_ms),
                webhook_attempts::created_at.eq(t),
            ))
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The latest deliveries of an endpoint, newest first, each with its latest attempts.
pub fn deliveries(
    conn: &mut DbConnection,
    endpoint_id: EndpointId,
    status: Option<DeliveryStatus>,
    limit: i64,
) -> Result<Vec<(DeliveryRecord, Vec<AttemptRecord>)>, StoreError> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some(status) = status {
        q = q.filter(webhook_deliveries::status.eq(status));
    }
    let rows: Vec<DeliveryRecord> = q
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRecord::as_select())
        .load(conn)?;
    let ids: Vec<DeliveryId> = rows.iter().map(|d| d.id).collect();
    let attempts: Vec<AttemptRecord> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order(webhook_attempts::id.desc())
        .select(AttemptRecord::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let mine: Vec<AttemptRecord> = attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .take(10)
                .cloned()
                .collect();
            (d, mine)
        })
        .collect())
}

/// Queues a delivery again now (whatever its state), with a fresh retry window. `None` when
/// the endpoint has no such delivery.
pub fn redeliver(
    conn: &mut DbConnection,
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
) -> Result<Option<DeliveryRecord>, StoreError> {
    let t = now();
    let updated = write_tx(conn, |conn| {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery_id))
                .filter(webhook_deliveries::endpoint_id.eq(endpoint_id)),
        )
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending),
            webhook_deliveries::next_attempt_at.eq(t),
            webhook_deliveries::retry_until.eq(t + chrono::Duration::hours(RETRY_WINDOW_HOURS)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .returning(webhook_deliveries::all_columns)
        .get_result(conn)
        .optional()
    })?;
    Ok(updated)
}

/// Delivery bookkeeping older than `before` (delivered or given up) is dropped by the purge.
pub fn purge_old(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    let n = write_tx(conn, |conn| {
        let old = webhook_deliveries::table
            .filter(webhook_deliveries::created_at.lt(before))
            .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending))
            .select(webhook_deliveries::id);
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(old)))
            .execute(conn)?;
        diesel::delete(
            webhook_deliveries::table
                .filter(webhook_deliveries::created_at.lt(before))
                .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending)),
        )
        .execute(conn)
    })?;
    Ok(n)
}
