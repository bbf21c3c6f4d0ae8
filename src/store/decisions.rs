//! Moderator decisions: claims (`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on
//! SQLite), single and bulk decisions, and the decision log (audit). Status changes are
//! optimistic (`WHERE revision = ?`) so no two decisions apply to one revision.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::comments::site_comment;
use super::queues::{has_open_reports, Order};
use super::records::{CommentRecord, DecisionRecord, NewDecision};
use super::schema::{api_keys, comment_reasons, comments, decisions};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{
    transition, Action, ApiKeyId, CommentId, CommentStatus, DecisionId, DecisionSource, Queue,
    ReasonCode, SiteId,
};

/// Who acts: a moderator's or admin's key.
#[derive(Debug, Clone)]
pub struct Actor {
    pub key_id: ApiKeyId,
    pub name: String,
    pub is_admin: bool,
    /// Where the request came from, for the audit log: `console` or `api`…
    pub origin: Option<&'static str>,
    /// …and the client's network (IPv4 /24, IPv6 /48).
    pub network: Option<String>,
}

/// Hands `actor` up to `count` unclaimed comments of `queue` with a lease until `until`.
/// Two callers, in one process or in several on one PostgreSQL, never get the same comment.
pub fn claim_next(
    conn: &mut DbConnection,
    site_id: SiteId,
    queue: Queue,
    actor: &Actor,
    count: i64,
    order: Order,
    until: NaiveDateTime,
) -> Result<Vec<CommentId>, StoreError> {
    let claim = Claim {
        site_id,
        reported: queue == Queue::Reported,
        // For `reported`, the status is unused: the condition is on open reports.
        status: queue.status().unwrap_or(CommentStatus::Published),
        actor,
        count,
        order,
        until,
        t: now(),
    };
    match conn {
        DbConnection::Pg(pg) => Ok(claim_on_postgres(pg, &claim)?),
        DbConnection::Sqlite(_) => write_tx(conn, |conn| claim_on_sqlite(conn, &claim)),
    }
}

/// What [`claim_next`] asks of either backend.
struct Claim<'a> {
    site_id: SiteId,
    /// The `reported` queue (open reports) rather than a status.
    reported: bool,
    status: CommentStatus,
    actor: &'a Actor,
    count: i64,
    order: Order,
    until: NaiveDateTime,
    t: NaiveDateTime,
}

/// [`claim_next`] on PostgreSQL: one `UPDATE` over a subquery taking free rows with
/// `FOR UPDATE SKIP LOCKED`; the claimed ids, sorted.
fn claim_on_postgres(
    pg: &mut diesel::PgConnection,
    claim: &Claim<'_>,
) -> QueryResult<Vec<CommentId>> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = BigInt)]
        id: CommentId,
    }
    let order_sql = match (claim.order, claim.reported) {
        (Order::Age, false) => "id ASC",
        (Order::Risk, false) => "risk DESC, id ASC",
        (Order::Age, true) => "report_priority DESC, id ASC",
        (Order::Risk, true) => "report_priority DESC, report_weight DESC, id ASC",
    };
    let queue_sql = if claim.reported {
        "open_reports > 0 AND status <> 'deleted' AND $5 = $5"
    } else {
        "status = $5"
    };
    // The order is one of four fixed strings; every value is a bind parameter.
    let sql = format!(
        "UPDATE comments SET claimed_by = $1, claim_expires_at = $2, \
           first_seen_at = COALESCE(first_seen_at, $3), \
           first_seen_by = COALESCE(first_seen_by, $1) \
         WHERE id IN (SELECT id FROM comments \
           WHERE site_id = $4 AND {queue_sql} \
             AND (claimed_by IS NULL OR claim_expires_at < $3) \
           ORDER BY {order_sql} LIMIT $6 FOR UPDATE SKIP LOCKED) \
         RETURNING id"
    );
    let mut ids: Vec<CommentId> = diesel::sql_query(sql)
        .bind::<BigInt, _>(claim.actor.key_id)
        .bind::<Timestamp, _>(claim.until)
        .bind::<Timestamp, _>(claim.t)
        .bind::<BigInt, _>(claim.site_id)
        .bind::<Text, _>(claim.status.as_str())
        .bind::<BigInt, _>(claim.count)
        .load::<Claimed>(pg)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// [`claim_next`] on SQLite, inside a write transaction (which holds the database): the free
/// ids in the queue's order, then claimed.
fn claim_on_sqlite(
    conn: &mut DbConnection,
    claim: &Claim<'_>,
) -> Result<Vec<CommentId>, StoreError> {
    let free = comments::table
        .filter(comments::site_id.eq(claim.site_id))
        .into_boxed();
    let free = if claim.reported {
        free.filter(has_open_reports())
            .filter(comments::status.ne(CommentStatus::Deleted))
    } else {
        free.filter(comments::status.eq(claim.status))
    };
    let free = free
        .filter(
            comments::claimed_by
                .is_null()
                .or(comments::claim_expires_at.lt(claim.t)),
        )
        .select(comments::id)
        .limit(claim.count);
    let free = match (claim.order, claim.reported) {
        (Order::Age, false) => free.order(comments::id.asc()),
        (Order::Risk, false) => free.order((comments::risk.desc(), comments::id.asc())),
        (Order::Age, true) => free.order((comments::report_priority.desc(), comments::id.asc())),
        (Order::Risk, true) => free.order((
            comments::report_priority.desc(),
            comments::report_weight.desc(),
            comments::id.asc(),
        )),
    };
    let ids: Vec<CommentId> = free.load(conn)?;
    claim_ids(conn, &ids, claim.actor, claim.until, claim.t)?;
    Ok(ids)
}

fn claim_ids(
    conn: &mut DbConnection,
    ids: &[CommentId],
    actor: &Actor,
    until: NaiveDateTime,
    t: NaiveDateTime,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(comments::table.filter(comments::id.eq_any(ids)))
        .set((
            comments::claimed_by.eq(Some(actor.key_id)),
            comments::claim_expires_at.eq(Some(until)),
        ))
        .execute(conn)?;
    mark_seen(conn, ids, actor.key_id, t)
}

/// Records the first human knowledge of comments that no moderator had seen yet.
pub fn mark_seen(
    conn: &mut DbConnection,
    ids: &[CommentId],
    key_id: ApiKeyId,
    t: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        comments::table
            .filter(comments::id.eq_any(ids))
            .filter(comments::first_seen_at.is_null()),
    )
    .set((
        comments::first_seen_at.eq(Some(t)),
        comments::first_seen_by.eq(Some(key_id)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Why one comment's claim could not be taken or released.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("comment not found")]
    NotFound,
    #[error("comment {id} is claimed by {by} until {until}")]
    ClaimedByOther {
        id: CommentId,
        by: String,
        until: NaiveDateTime,
    },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes or renews the claim on one comment (an admin may take over another's claim).
pub fn claim_one(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: CommentId,
    actor: &Actor,
    until: NaiveDateTime,
    take_over: bool,
) -> Result<CommentRecord, ClaimError> {
    write_tx(conn, |conn| {
        let c = site_comment(conn, site_id, id)?.ok_or(ClaimError::NotFound)?;
        let t = now();
        check_claim(conn, &c, actor, take_over, t)?;
        claim_ids(conn, &[id], actor, until, t)?;
        site_comment(conn, site_id, id)?.ok_or(ClaimError::NotFound)
    })
}

/// Releases the caller's claim on one comment (admins may release anyone's).
pub fn release_one(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: CommentId,
    actor: &Actor,
) -> Result<(), ClaimError> {
    write_tx(conn, |conn| {
        let c = site_comment(conn, site_id, id)?.ok_or(ClaimError::NotFound)?;
        check_claim(conn, &c, actor, actor.is_admin, now())?;
        release(conn, &[id])?;
        Ok(())
    })
}

/// Releases every claim held by one key (a moderator leaving, or a replica shutting down).
pub fn release_all_of(conn: &mut DbConnection, key_id: ApiKeyId) -> Result<usize, StoreError> {
    Ok(
        diesel::update(comments::table.filter(comments::claimed_by.eq(Some(key_id))))
            .set((
                comments::claimed_by.eq(None::<ApiKeyId>),
                comments::claim_expires_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
    )
}

fn release(conn: &mut DbConnection, ids: &[CommentId]) -> Result<(), diesel::result::Error> {
    diesel::update(comments::table.filter(comments::id.eq_any(ids)))
        .set((
            comments::claimed_by.eq(None::<ApiKeyId>),
            comments::claim_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

fn check_claim(
    conn: &mut DbConnection,
    c: &CommentRecord,
    actor: &Actor,
    take_over: bool,
    t: NaiveDateTime,
) -> Result<(), ClaimError> {
    match (c.claimed_by, c.claim_expires_at) {
        (Some(by), Some(until)) if by != actor.key_id && until > t && !take_over => {
            let name = api_keys::table
                .find(by)
                .select(api_keys::name)
                .first::<String>(conn)
                .optional()?
                .unwrap_or_else(|| format!("key {by}"));
            Err(ClaimError::ClaimedByOther {
                id: c.id,
                by: name,
                until,
            })
        }
        _ => Ok(()),
    }
}

/// A moderator's decision as asked.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub action: Action,
    pub reason: Option<ReasonCode>,
    pub note_to_author: Option<String>,
    pub internal_note: Option<String>,
    pub expected_revision: Option<i32>,
    /// Admins only: act on a comment another moderator has claimed.
    pub override_claim: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("comment not found")]
    NotFound,
    #[error("cannot {action} a comment that is {from}{}", if *.escalated { " (escalated)" } else { "" })]
    InvalidTransition {
        action: Action,
        from: CommentStatus,
        escalated: bool,
    },
    #[error("the comment is at revision {current}, not {expected}: reload it")]
    StaleRevision { current: i32, expected: i32 },
    /// Another moderator's claim, or an erased author: 409 with this message.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ClaimError> for DecideError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::NotFound => DecideError::NotFound,
            ClaimError::ClaimedByOther { .. } => DecideError::Conflict(e.to_string()),
            ClaimError::Db(e) => DecideError::Db(e),
            ClaimError::Store(e) => DecideError::Store(e),
        }
    }
}

/// Applies a moderator's decision in one transaction: status change, decision log row with the
/// verdict of the moment, claim released, first human knowledge recorded.
pub fn decide(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: CommentId,
    actor: &Actor,
    input: &DecisionInput,
) -> Result<CommentRecord, DecideError> {
    write_tx(conn, |conn| decide_in_tx(conn, site_id, id, actor, input))
}

pub fn decide_in_tx(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: CommentId,
    actor: &Actor,
    input: &DecisionInput,
) -> Result<CommentRecord, DecideError> {
    let c = site_comment(conn, site_id, id)?.ok_or(DecideError::NotFound)?;
    let from = c.status;
    if let Some(expected) = input.expected_revision {
        if expected != c.revision {
            return Err(DecideError::StaleRevision {
                current: c.revision,
                expected,
            });
        }
    }
    let t = now();
    check_claim(conn, &c, actor, input.override_claim && actor.is_admin, t)?;
    let to = transition(input.action, from, c.escalated).ok_or(DecideError::InvalidTransition {
        action: input.action,
        from,
        escalated: c.escalated,
    })?;
    let escalated = input.action == Action::Escalate;
    // Optimistic: a concurrent decision on the same revision makes this one match no row.
    let changed = diesel::update(
        comments::table
            .filter(comments::id.eq(id))
            .filter(comments::revision.eq(c.revision)),
    )
    .set((
        comments::status.eq(to),
        comments::revision.eq(c.revision + 1),
        comments::escalated.eq(escalated),
        comments::updated_at.eq(t),
        comments::claimed_by.eq(None::<ApiKeyId>),
        comments::claim_expires_at.eq(None::<NaiveDateTime>),
        comments::first_seen_at.eq(c.first_seen_at.unwrap_or(t)),
        comments::first_seen_by.eq(c.first_seen_by.or(Some(actor.key_id))),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(DecideError::StaleRevision {
            current: c.revision + 1,
            expected: c.revision,
        });
    }
    if escalated {
        mark_escalated(conn, id)?;
    }
    let decision_id = log_decision(conn, &c, actor, input, (from, to), t)?;
    let had_reports = c.open_reports > 0;
    super::reports::resolve_reports(conn, site_id, id, to, decision_id, t)?;
    if to == CommentStatus::Rejected {
        super::statements::record_statement(
            conn,
            &c,
            Some(decision_id),
            None,
            super::statements::StatementParts {
                restriction: crate::domain::dsa::Restriction::Removed,
                reason: input.reason.unwrap_or(ReasonCode::Other),
                note_to_author: input.note_to_author.as_deref(),
                automated_detection: c.verdict.is_some() && !had_reports,
                automated_decision: false,
                notice: had_reports,
            },
        )?;
    }
    site_comment(conn, site_id, id)?.ok_or(DecideError::NotFound)
}

/// The decision log row of a moderator's decision and its webhook event; the row's id.
fn log_decision(
    conn: &mut DbConnection,
    c: &CommentRecord,
    actor: &Actor,
    input: &DecisionInput,
    (from, to): (CommentStatus, CommentStatus),
    t: NaiveDateTime,
) -> Result<DecisionId, DecideError> {
    let decision_id = diesel::insert_into(decisions::table)
        .values(NewDecision {
            comment_id: c.id,
            site_id: c.site_id,
            actor: &actor.name,
            actor_key_id: Some(actor.key_id),
            source: DecisionSource::Human.as_str(),
            from_status: Some(from),
            to_status: to,
            reason: input.reason.map(|r| r.as_str()),
            note: input.internal_note.as_deref(),
            created_at: t,
            verdict: c.verdict.as_deref(),
            action: Some(input.action.as_str()),
            note_to_author: input.note_to_author.as_deref(),
            origin: actor.origin,
            origin_network: actor.network.as_deref(),
        })
        .returning(decisions::id)
        .get_result::<DecisionId>(conn)?;
    super::outbox::emit_status_change(
        conn,
        c.site_id,
        c.id,
        Some(from),
        to,
        super::outbox::decision_ref(
            decision_id,
            DecisionSource::Human,
            Some(input.action.as_str()),
            input.reason.map(|r| r.as_str()),
        ),
    )?;
    Ok(decision_id)
}

/// Files the comment in the `escalated` queue reason (once).
fn mark_escalated(conn: &mut DbConnection, id: CommentId) -> Result<(), DecideError> {
    diesel::insert_into(comment_reasons::table)
        .values((
            comment_reasons::comment_id.eq(id),
            comment_reasons::reason.eq("escalated"),
        ))
        .execute(conn)
        .or_else(|e| {
            if super::is_unique_violation(&e) {
                Ok(0)
            } else {
                Err(e)
            }
        })?;
    Ok(())
}

/// The outcome of one item of a bulk decision.
#[derive(Debug)]
pub enum BulkOutcome {
    Done(Box<CommentRecord>),
    Conflict(String),
    NotFound,
}

/// Applies one decision to many comments, each in its own transaction.
pub fn decide_many(
    conn: &mut DbConnection,
    site_id: SiteId,
    ids: &[CommentId],
    actor: &Actor,
    input: &DecisionInput,
) -> Result<Vec<(CommentId, BulkOutcome)>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let outcome = match decide(conn, site_id, id, actor, input) {
            Ok(c) => BulkOutcome::Done(Box::new(c)),
            Err(DecideError::NotFound) => BulkOutcome::NotFound,
            Err(
                e @ (DecideError::InvalidTransition { .. }
                | DecideError::StaleRevision { .. }
                | DecideError::Conflict(_)),
            ) => BulkOutcome::Conflict(e.to_string()),
            Err(DecideError::Db(e)) => return Err(e.into()),
            Err(DecideError::Store(e)) => return Err(e),
        };
        out.push((id, outcome));
    }
    Ok(out)
}

/// Filter of the site's decision log.
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    /// A key's name or id.
    pub moderator: Option<String>,
    pub source: Option<DecisionSource>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// The moderator's action (`approve`, `reject`, …).
    pub action: Option<Action>,
    /// Decisions on the comments of this author (the site's author id).
    pub author: Option<String>,
}

/// The site's decisions, newest first, before the decision id `before`.
pub fn decision_log(
    conn: &mut DbConnection,
    site_id: SiteId,
    filter: &DecisionFilter,
    before: Option<DecisionId>,
    limit: i64,
) -> Result<Vec<DecisionRecord>, StoreError> {
    let mut q = decisions::table
        .filter(decisions::site_id.eq(site_id))
        .select(DecisionRecord::as_select())
        .into_boxed();
    if let Some(m) = &filter.moderator {
        q = match m.parse::<i64>() {
            Ok(key_id) => q.filter(decisions::actor_key_id.eq(ApiKeyId(key_id))),
            Err(_) => q.filter(decisions::actor.eq(m.clone())),
        };
    }
    if let Some(source) = filter.source {
        q = q.filter(decisions::source.eq(source.as_str()));
    }
    if let Some(from) = filter.from {
        q = q.filter(decisions::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(decisions::created_at.lt(to));
    }
    if let Some(action) = filter.action {
        q = q.filter(decisions::action.eq(action.as_str()));
    }
    if let Some(author) = &filter.author {
        use super::schema::authors;
        q = q.filter(
            decisions::comment_id.eq_any(
                comments::table
                    .filter(
                        comments::author_id.eq_any(
                            authors::table
                                .filter(authors::site_id.eq(site_id))
                                .filter(authors::external_id.eq(author.clone()))
                                .select(authors::id),
                        ),
                    )
                    .select(comments::id),
            ),
        );
    }
    if let Some(before) = before {
        q = q.filter(decisions::id.lt(before));
    }
    Ok(q.order(decisions::id.desc()).limit(limit).load(conn)?)
}
