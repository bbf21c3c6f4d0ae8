//! The retention purge: one function per retention rule, each clearing one kind of personal
//! data past its cutoff, in bounded batches.

use chrono::NaiveDateTime;
use diesel::dsl::{IsNotNull, Or};
use diesel::prelude::*;
use serde::Serialize;

use crate::domain::{AuthorId, CommentId, DecisionId, ReportId, ReporterId, RevisionId};
use crate::store::schema::{
    appeals, author_actions, authors, comment_revisions, comments, decisions, reporters, reports,
};
use crate::store::{write_tx, DbConnection, StoreError};

/// Rows changed per transaction by the purge, so that SQLite's write lock is never held long.
const BATCH: i64 = 1_000;
/// Webhook delivery logs are kept at most this long (and never longer than the retention).
const DELIVERY_LOG_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy)]
pub struct RetentionPolicy {
    pub retention: chrono::Duration,
    pub ip_retention: chrono::Duration,
}

/// What one purge changed, per kind of data.
#[derive(Debug, Default, Clone, Serialize)]
pub struct PurgeCounts {
    pub comment_ip: usize,
    pub comment_user_agent: usize,
    pub report_ip: usize,
    pub report_identity: usize,
    pub reporters: usize,
    pub decision_notes: usize,
    /// Moderators' networks in the audit log, older than the IP retention.
    pub decision_networks: usize,
    /// The same in the settings log.
    pub setting_change_networks: usize,
    pub author_action_notes: usize,
    pub appeals: usize,
    pub authors: usize,
    pub webhook_deliveries: usize,
    /// Earlier texts of edited comments, replaced before the retention.
    pub revisions: usize,
    /// Perspective API feedback examples (`comments:suggestscore`) last updated before it.
    pub perspective_feedback: usize,
}

impl PurgeCounts {
    pub fn total(&self) -> usize {
        self.comment_ip
            + self.comment_user_agent
            + self.report_ip
            + self.report_identity
            + self.reporters
            + self.decision_notes
            + self.decision_networks
            + self.setting_change_networks
            + self.author_action_notes
            + self.appeals
            + self.authors
            + self.webhook_deliveries
            + self.revisions
            + self.perspective_feedback
    }
}

/// Runs `step` (one bounded transaction, returning rows changed) until it changes fewer than
/// a batch.
fn in_batches(
    conn: &mut DbConnection,
    mut step: impl FnMut(&mut DbConnection) -> Result<usize, diesel::result::Error>,
) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let n = write_tx(conn, &mut step)?;
        total += n;
        if (n as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Purges personal data past its retention, as of `t`. The rules run one after the other,
/// each in its own transactions.
pub fn purge(
    conn: &mut DbConnection,
    policy: &RetentionPolicy,
    t: NaiveDateTime,
) -> Result<PurgeCounts, StoreError> {
    let ip_cutoff = t - policy.ip_retention;
    let cutoff = t - policy.retention;
    let log_cutoff = t - policy
        .retention
        .min(chrono::Duration::days(DELIVERY_LOG_DAYS));
    // Fields are evaluated in the order written: the order the rules run in.
    Ok(PurgeCounts {
        comment_ip: in_batches(conn, |conn| comment_ip(conn, ip_cutoff))?,
        comment_user_agent: in_batches(conn, |conn| comment_user_agent(conn, cutoff))?,
        decision_networks: in_batches(conn, |conn| decision_networks(conn, ip_cutoff))?,
        setting_change_networks: in_batches(conn, |conn| {
            crate::store::changes::purge_networks(conn, ip_cutoff, BATCH)
        })?,
        report_ip: in_batches(conn, |conn| report_ip(conn, ip_cutoff))?,
        report_identity: in_batches(conn, |conn| report_identity(conn, cutoff))?,
        reporters: in_batches(conn, |conn| reporter_identities(conn, cutoff))?,
        decision_notes: in_batches(conn, |conn| decision_notes(conn, cutoff))?,
        author_action_notes: write_tx(conn, |conn| author_action_notes(conn, cutoff))?,
        appeals: write_tx(conn, |conn| appeal_texts(conn, cutoff))?,
        authors: in_batches(conn, |conn| author_identities(conn, cutoff))?,
        revisions: in_batches(conn, |conn| revisions(conn, cutoff))?,
        webhook_deliveries: crate::store::outbox::purge_old(conn, log_cutoff)?,
        perspective_feedback: crate::store::feedback::purge(conn, cutoff)?,
    })
}

/// Comments holding connection data (an IP hash or a user agent). The filter repeats the
/// partial index's condition so both backends use it.
fn has_connection_data() -> Or<IsNotNull<comments::client_ip_hash>, IsNotNull<comments::user_agent>>
{
    comments::client_ip_hash
        .is_not_null()
        .or(comments::user_agent.is_not_null())
}

/// One batch: comments' IP data older than the IP retention.
fn comment_ip(conn: &mut DbConnection, ip_cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<CommentId> = comments::table
        .filter(has_connection_data())
        .select(comments::id)
        .limit(BATCH)
        .filter(comments::created_at.lt(ip_cutoff))
        .filter(comments::client_ip_hash.is_not_null())
        .load(conn)?;
    diesel::update(comments::table.filter(comments::id.eq_any(&ids)))
        .set(comments::client_ip_hash.eq(None::<String>))
        .execute(conn)
}

/// One batch: comments' user agents older than the retention.
fn comment_user_agent(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<CommentId> = comments::table
        .filter(has_connection_data())
        .select(comments::id)
        .limit(BATCH)
        .filter(comments::created_at.lt(cutoff))
        .filter(comments::user_agent.is_not_null())
        .load(conn)?;
    diesel::update(comments::table.filter(comments::id.eq_any(&ids)))
        .set(comments::user_agent.eq(None::<String>))
        .execute(conn)
}

/// One batch: moderators' networks in the decision log older than the IP retention.
fn decision_networks(conn: &mut DbConnection, ip_cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<DecisionId> = decisions::table
        .filter(decisions::origin_network.is_not_null())
        .filter(decisions::created_at.lt(ip_cutoff))
        .select(decisions::id)
        .limit(BATCH)
        .load(conn)?;
    diesel::update(decisions::table.filter(decisions::id.eq_any(&ids)))
        .set(decisions::origin_network.eq(None::<String>))
        .execute(conn)
}

/// One batch: reports' IP and network hashes older than the IP retention.
fn report_ip(conn: &mut DbConnection, ip_cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<ReportId> = reports::table
        .filter(reports::created_at.lt(ip_cutoff))
        .filter(
            reports::ip_hash
                .is_not_null()
                .or(reports::network_hash.is_not_null()),
        )
        .select(reports::id)
        .limit(BATCH)
        .load(conn)?;
    diesel::update(reports::table.filter(reports::id.eq_any(&ids)))
        .set((
            reports::ip_hash.eq(None::<String>),
            reports::network_hash.eq(None::<String>),
        ))
        .execute(conn)
}

/// One batch: reporters' names and email hashes, and the free texts of reports, older than
/// the retention.
fn report_identity(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<ReportId> = reports::table
        .filter(reports::created_at.lt(cutoff))
        .filter(
            reports::reporter_name
                .is_not_null()
                .or(reports::reporter_email_hash.is_not_null())
                .or(reports::text.is_not_null())
                .or(reports::explanation.is_not_null()),
        )
        .select(reports::id)
        .limit(BATCH)
        .load(conn)?;
    diesel::update(reports::table.filter(reports::id.eq_any(&ids)))
        .set((
            reports::reporter_name.eq(None::<String>),
            reports::reporter_email_hash.eq(None::<String>),
            reports::text.eq(None::<String>),
            reports::explanation.eq(None::<String>),
        ))
        .execute(conn)
}

/// One batch: reporters not heard from within the retention keep their counters (report
/// weights are aggregates) but lose the keyed hash that links them to a person.
fn reporter_identities(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let recent = reports::table
        .filter(reports::created_at.ge(cutoff))
        .select(reports::reporter_id);
    let ids: Vec<ReporterId> = reporters::table
        .filter(reporters::created_at.lt(cutoff))
        .filter(reporters::identity_hash.not_like("purged:%"))
        .filter(reporters::id.ne_all(recent))
        .select(reporters::id)
        .limit(BATCH)
        .load(conn)?;
    for id in &ids {
        diesel::update(reporters::table.find(id))
            .set(reporters::identity_hash.eq(format!("purged:{id}")))
            .execute(conn)?;
    }
    Ok(ids.len())
}

/// One batch: moderators' notes (internal and to the author) in the decision log older than
/// the retention.
fn decision_notes(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<DecisionId> = decisions::table
        .filter(decisions::created_at.lt(cutoff))
        .filter(
            decisions::note
                .is_not_null()
                .or(decisions::note_to_author.is_not_null()),
        )
        .select(decisions::id)
        .limit(BATCH)
        .load(conn)?;
    diesel::update(decisions::table.filter(decisions::id.eq_any(&ids)))
        .set((
            decisions::note.eq(None::<String>),
            decisions::note_to_author.eq(None::<String>),
        ))
        .execute(conn)
}

/// Notes of author status actions older than the retention (all at once).
fn author_action_notes(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        author_actions::table
            .filter(author_actions::created_at.lt(cutoff))
            .filter(author_actions::note.is_not_null()),
    )
    .set(author_actions::note.eq(None::<String>))
    .execute(conn)
}

/// Texts and replies of decided appeals older than the retention (all at once).
fn appeal_texts(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        appeals::table
            .filter(appeals::created_at.lt(cutoff))
            .filter(appeals::status.ne(crate::domain::AppealStatus::Open))
            .filter(appeals::text.ne("")),
    )
    .set((appeals::text.eq(""), appeals::reply.eq(None::<String>)))
    .execute(conn)
}

/// One batch: authors silent for the whole retention period keep their id (their comments
/// need one) but lose their name and email hash.
fn author_identities(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let recent = comments::table
        .filter(comments::created_at.ge(cutoff))
        .select(comments::author_id);
    let ids: Vec<AuthorId> = authors::table
        .filter(authors::created_at.lt(cutoff))
        .filter(
            authors::display_name
                .is_not_null()
                .or(authors::email_hash.is_not_null()),
        )
        .filter(authors::id.ne_all(recent))
        .select(authors::id)
        .limit(BATCH)
        .load(conn)?;
    diesel::update(authors::table.filter(authors::id.eq_any(&ids)))
        .set((
            authors::display_name.eq(None::<String>),
            authors::email_hash.eq(None::<String>),
        ))
        .execute(conn)
}

/// One batch: earlier texts of edited comments replaced before the retention, deleted.
fn revisions(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    let ids: Vec<RevisionId> = comment_revisions::table
        .filter(comment_revisions::replaced_at.lt(cutoff))
        .select(comment_revisions::id)
        .limit(BATCH)
        .load(conn)?;
    diesel::delete(comment_revisions::table.filter(comment_revisions::id.eq_any(&ids)))
        .execute(conn)
}
