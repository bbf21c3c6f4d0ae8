//! Personal data over time: the retention purge, the erasure of an author, and the export of
//! everything held about one.
//!
//! What counts as personal data here: readers' IP data (hash or network) and user agents,
//! authors' names, email hashes and ids, reporters' names, email hashes and identities, the
//! free texts of reports, appeals and moderators' notes (they quote and name people), and the
//! comment bodies of an erased author. What survives: the rows themselves with their
//! categories, statuses, times and reason codes, which is all the transparency report counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use super::records::{AuthorRecord, CommentRecord};
use super::schema::{
    appeals, author_actions, authors, comment_revisions, comments, decisions, reporters, reports,
    statements, threads, webhook_deliveries,
};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{AuthorStatus, CommentStatus, DecisionSource};

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

/// Purges personal data past its retention, as of `t`.
pub fn purge(
    conn: &mut DbConnection,
    policy: &RetentionPolicy,
    t: NaiveDateTime,
) -> Result<PurgeCounts, StoreError> {
    let ip_cutoff = t - policy.ip_retention;
    let cutoff = t - policy.retention;
    let mut counts = PurgeCounts::default();
    // The filter repeats the partial index's condition so both backends use it.
    let connection_data = || {
        comments::table
            .filter(
                comments::client_ip_hash
                    .is_not_null()
                    .or(comments::user_agent.is_not_null()),
            )
            .select(comments::id)
            .limit(BATCH)
    };
    counts.comment_ip = in_batches(conn, |conn| {
        let ids: Vec<i64> = connection_data()
            .filter(comments::created_at.lt(ip_cutoff))
            .filter(comments::client_ip_hash.is_not_null())
            .load(conn)?;
        diesel::update(comments::table.filter(comments::id.eq_any(&ids)))
            .set(comments::client_ip_hash.eq(None::<String>))
            .execute(conn)
    })?;
    counts.comment_user_agent = in_batches(conn, |conn| {
        let ids: Vec<i64> = connection_data()
            .filter(comments::created_at.lt(cutoff))
            .filter(comments::user_agent.is_not_null())
            .load(conn)?;
        diesel::update(comments::table.filter(comments::id.eq_any(&ids)))
            .set(comments::user_agent.eq(None::<String>))
            .execute(conn)
    })?;
    counts.decision_networks = in_batches(conn, |conn| {
        let ids: Vec<i64> = decisions::table
            .filter(decisions::origin_network.is_not_null())
            .filter(decisions::created_at.lt(ip_cutoff))
            .select(decisions::id)
            .limit(BATCH)
            .load(conn)?;
        diesel::update(decisions::table.filter(decisions::id.eq_any(&ids)))
            .set(decisions::origin_network.eq(None::<String>))
            .execute(conn)
    })?;
    counts.setting_change_networks = in_batches(conn, |conn| {
        super::changes::purge_networks(conn, ip_cutoff, BATCH)
    })?;
    counts.report_ip = in_batches(conn, |conn| {
        let ids: Vec<i64> = reports::table
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
    })?;
    counts.report_identity = in_batches(conn, |conn| {
        let ids: Vec<i64> = reports::table
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
    })?;
    counts.reporters = in_batches(conn, |conn| {
        // Reporters not heard from within the retention keep their counters (report weights
        // are aggregates) but lose the keyed hash that links them to a person.
        let recent = reports::table
            .filter(reports::created_at.ge(cutoff))
            .select(reports::reporter_id);
        let ids: Vec<i64> = reporters::table
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
    })?;
    counts.decision_notes = in_batches(conn, |conn| {
        let ids: Vec<i64> = decisions::table
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
    })?;
    counts.author_action_notes = write_tx(conn, |conn| {
        diesel::update(
            author_actions::table
                .filter(author_actions::created_at.lt(cutoff))
                .filter(author_actions::note.is_not_null()),
        )
        .set(author_actions::note.eq(None::<String>))
        .execute(conn)
    })?;
    counts.appeals = write_tx(conn, |conn| {
        diesel::update(
            appeals::table
                .filter(appeals::created_at.lt(cutoff))
                .filter(appeals::status.ne("open"))
                .filter(appeals::text.ne("")),
        )
        .set((appeals::text.eq(""), appeals::reply.eq(None::<String>)))
        .execute(conn)
    })?;
    counts.authors = in_batches(conn, |conn| {
        // Authors silent for the whole retention period keep their id (their comments need
        // one) but lose their name and email hash.
        let recent = comments::table
            .filter(comments::created_at.ge(cutoff))
            .select(comments::author_id);
        let ids: Vec<i64> = authors::table
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
    })?;
    counts.revisions = in_batches(conn, |conn| {
        let ids: Vec<i64> = comment_revisions::table
            .filter(comment_revisions::replaced_at.lt(cutoff))
            .select(comment_revisions::id)
            .limit(BATCH)
            .load(conn)?;
        diesel::delete(comment_revisions::table.filter(comment_revisions::id.eq_any(&ids)))
            .execute(conn)
    })?;
    let log_cutoff = t - policy
        .retention
        .min(chrono::Duration::days(DELIVERY_LOG_DAYS));
    counts.webhook_deliveries = super::outbox::purge_old(conn, log_cutoff)?;
    counts.perspective_feedback = super::feedback::purge(conn, cutoff)?;
    Ok(counts)
}

/// What an erasure changed.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureCounts {
    /// Comments whose body and connection data were deleted.
    pub comments: usize,
    /// Reports on those comments whose copy of the text was deleted.
    pub reports: usize,
    /// Appeals of the author whose text was deleted.
    pub appeals: usize,
    /// Decision log rows of those comments kept without notes or verdict.
    pub decisions: usize,
    /// Earlier texts of those comments (edits), deleted.
    pub revisions: usize,
    /// Perspective API feedback examples repeating the text of one of those comments, deleted.
    pub perspective_feedback: usize,
    /// Moderators' notes about the author, deleted.
    pub author_notes: usize,
    /// Verdicts of a model in shadow mode on those comments (they quote the text), deleted.
    pub shadow_verdicts: usize,
}

/// Erases an author of a site: comment bodies, connection data, verdicts (they quote the
/// text), notes, the author's name, email hash and id (replaced by `erased:<uuid>`); status
/// `deleted`. Each comment gets a `deleted` row in the decision log, and the author's status
/// log a row; audit rows are kept without personal data. `reporter_identity` is the keyed
/// hash under which the same person may have filed reports, also unlinked. `None` when the
/// site has no such author.
pub fn erase_author(
    conn: &mut DbConnection,
    site_id: i64,
    author_external_id: &str,
    reporter_identity: &str,
    actor: &super::decisions::Actor,
) -> Result<Option<ErasureCounts>, StoreError> {
    let result = write_tx(conn, |conn| {
        let Some(author) = authors::table
            .filter(authors::site_id.eq(site_id))
            .filter(authors::external_id.eq(author_external_id))
            .select(AuthorRecord::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok::<_, diesel::result::Error>(None);
        };
        let t = now();
        let mine: Vec<CommentRecord> = comments::table
            .filter(comments::author_id.eq(author.id))
            .order(comments::id)
            .select(CommentRecord::as_select())
            .load(conn)?;
        let ids: Vec<i64> = mine.iter().map(|c| c.id).collect();
        let mut counts = ErasureCounts::default();
        let texts: Vec<String> = mine
            .iter()
            .map(|c| super::comments::body_hash(&c.body))
            .collect();
        counts.perspective_feedback = super::feedback::erase_matching(conn, site_id, &texts)?;
        for c in &mine {
            let from = c.status.as_str();
            diesel::update(comments::table.find(c.id))
                .set((
                    comments::body.eq(""),
                    comments::verdict.eq(None::<String>),
                    comments::client_ip_hash.eq(None::<String>),
                    comments::user_agent.eq(None::<String>),
                    comments::body_hash.eq(None::<String>),
                    comments::status.eq(CommentStatus::Deleted.as_str()),
                    comments::revision.eq(c.revision + 1),
                    comments::updated_at.eq(t),
                    comments::claimed_by.eq(None::<i64>),
                    comments::claim_expires_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            if from != CommentStatus::Deleted.as_str() {
                diesel::insert_into(decisions::table)
                    .values(super::records::NewDecision {
                        comment_id: c.id,
                        site_id,
                        actor: &actor.name,
                        actor_key_id: Some(actor.key_id),
                        source: DecisionSource::Human.as_str(),
                        from_status: Some(from),
                        to_status: CommentStatus::Deleted.as_str(),
                        reason: None,
                        note: Some("erased at the author's or the site's request"),
                        created_at: t,
                        verdict: None,
                        action: Some("erase"),
                        note_to_author: None,
                        origin: actor.origin,
                        origin_network: actor.network.as_deref(),
                    })
                    .execute(conn)?;
            }
            counts.comments += 1;
        }
        counts.decisions = diesel::update(
            decisions::table
                .filter(decisions::comment_id.eq_any(&ids))
                .filter(
                    decisions::action
                        .is_null()
                        .or(decisions::action.ne("erase")),
                ),
        )
        .set((
            decisions::verdict.eq(None::<String>),
            decisions::note.eq(None::<String>),
            decisions::note_to_author.eq(None::<String>),
        ))
        .execute(conn)?;
        counts.revisions = diesel::delete(
            comment_revisions::table.filter(comment_revisions::comment_id.eq_any(&ids)),
        )
        .execute(conn)?;
        counts.reports = diesel::update(reports::table.filter(reports::comment_id.eq_any(&ids)))
            .set((
                reports::snapshot_body.eq(""),
                reports::text.eq(None::<String>),
                reports::explanation.eq(None::<String>),
            ))
            .execute(conn)?;
        counts.appeals = diesel::update(
            appeals::table
                .filter(appeals::comment_id.eq_any(&ids))
                .filter(appeals::appellant.eq("author")),
        )
        .set((appeals::text.eq(""), appeals::reply.eq(None::<String>)))
        .execute(conn)?;
        // Statements keep their facts; the free-text explanations may quote the comment.
        let stmts: Vec<(i64, String)> = statements::table
            .filter(
                statements::comment_id
                    .eq_any(&ids)
                    .or(statements::author_id.eq(author.id)),
            )
            .select((statements::id, statements::body))
            .load(conn)?;
        for (id, body) in stmts {
            let mut v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                for key in [
                    "illegal_content_explanation",
                    "incompatible_content_explanation",
                ] {
                    if o.contains_key(key) {
                        o.insert(key.into(), Value::Null);
                    }
                }
            }
            diesel::update(statements::table.find(id))
                .set(statements::body.eq(v.to_string()))
                .execute(conn)?;
        }
        diesel::update(author_actions::table.filter(author_actions::author_id.eq(author.id)))
            .set(author_actions::note.eq(None::<String>))
            .execute(conn)?;
        counts.author_notes = super::notes::erase(conn, author.id)?;
        counts.shadow_verdicts = super::models::erase_shadow(conn, &ids)?;
        diesel::delete(
            webhook_deliveries::table
                .filter(webhook_deliveries::subject.eq(format!("author:{}", author.id))),
        )
        .execute(conn)?;
        for id in reporters::table
            .filter(reporters::site_id.eq(site_id))
            .filter(reporters::identity_hash.eq(reporter_identity))
            .select(reporters::id)
            .load::<i64>(conn)?
        {
            diesel::update(reporters::table.find(id))
                .set(reporters::identity_hash.eq(format!("purged:{id}")))
                .execute(conn)?;
        }
        if author.status != AuthorStatus::Deleted.as_str() {
            diesel::insert_into(author_actions::table)
                .values(super::records::NewAuthorAction {
                    author_id: author.id,
                    site_id,
                    actor: &actor.name,
                    actor_key_id: Some(actor.key_id),
                    from_status: &author.status,
                    to_status: AuthorStatus::Deleted.as_str(),
                    until: None,
                    reason: crate::domain::ReasonCode::Other.as_str(),
                    note: None,
                    created_at: t,
                })
                .execute(conn)?;
        }
        diesel::update(authors::table.find(author.id))
            .set((
                authors::external_id.eq(format!("erased:{}", uuid::Uuid::new_v4())),
                authors::display_name.eq(None::<String>),
                authors::email_hash.eq(None::<String>),
                authors::status.eq(AuthorStatus::Deleted.as_str()),
                authors::status_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(Some(counts))
    })?;
    Ok(result)
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Everything Vigie holds about an author of a site, as one JSON document (GDPR Art. 15 and
/// 20). Other people's data is left out: reporters appear only as a report's reference,
/// category and outcome; moderators only by role. `None` when the site has no such author.
pub fn export_author(
    conn: &mut DbConnection,
    site_id: i64,
    author_external_id: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(author) = authors::table
        .filter(authors::site_id.eq(site_id))
        .filter(authors::external_id.eq(author_external_id))
        .select(AuthorRecord::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mine: Vec<(CommentRecord, String)> = comments::table
        .inner_join(threads::table)
        .filter(comments::author_id.eq(author.id))
        .order(comments::id)
        .select((CommentRecord::as_select(), threads::external_id))
        .load(conn)?;
    let ids: Vec<i64> = mine.iter().map(|(c, _)| c.id).collect();
    let parents: Vec<(i64, String)> = comments::table
        .filter(
            comments::id.eq_any(
                mine.iter()
                    .filter_map(|(c, _)| c.parent_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .select((comments::id, comments::external_id))
        .load(conn)?;
    let log: Vec<super::records::DecisionRecord> = decisions::table
        .filter(decisions::comment_id.eq_any(&ids))
        .order(decisions::id)
        .select(super::records::DecisionRecord::as_select())
        .load(conn)?;
    let earlier: Vec<super::records::RevisionRecord> = comment_revisions::table
        .filter(comment_revisions::comment_id.eq_any(&ids))
        .order((comment_revisions::comment_id, comment_revisions::revision))
        .select(super::records::RevisionRecord::as_select())
        .load(conn)?;
    let reports_on: Vec<(i64, String, String, String, NaiveDateTime)> = reports::table
        .filter(reports::comment_id.eq_any(&ids))
        .order(reports::id)
        .select((
            reports::comment_id,
            reports::reference,
            reports::category,
            reports::status,
            reports::created_at,
        ))
        .load(conn)?;
    let my_appeals: Vec<super::records::AppealRecord> = appeals::table
        .filter(appeals::comment_id.eq_any(&ids))
        .filter(appeals::appellant.eq("author"))
        .order(appeals::id)
        .select(super::records::AppealRecord::as_select())
        .load(conn)?;
    let actions = super::authors::author_history(conn, author.id)?;
    let statements_of: Vec<(String, Option<i64>, String, NaiveDateTime)> = statements::table
        .filter(
            statements::comment_id
                .eq_any(&ids)
                .or(statements::author_id.eq(author.id)),
        )
        .order(statements::id)
        .select((
            statements::uuid,
            statements::comment_id,
            statements::body,
            statements::created_at,
        ))
        .load(conn)?;
    let texts: Vec<String> = mine
        .iter()
        .map(|(c, _)| super::comments::body_hash(&c.body))
        .collect();
    let feedback = super::feedback::matching(conn, site_id, &texts)?;
    let notes = super::notes::of_author(conn, author.id)?;
    let shadow = super::models::shadow_of_comments(conn, &ids)?;
    let role = |source: &str, actor: &str| -> &'static str {
        match (source, actor) {
            ("automated", "reports") => "reader reports",
            ("automated", _) => "automated",
            _ => "moderator",
        }
    };
    let comments_json: Vec<Value> = mine
        .iter()
        .map(|(c, thread)| {
            json!({
                "id": c.id,
                "external_id": c.external_id,
                "thread_id": thread,
                "parent_id": c.parent_id.and_then(|p| parents.iter().find(|(id, _)| *id == p).map(|(_, e)| e.clone())),
                "body": c.body,
                "lang": c.lang,
                "status": c.status,
                "revision": c.revision,
                "created_at": rfc3339(c.created_at),
                "updated_at": rfc3339(c.updated_at),
                "connection": {
                    "ip": if c.client_ip_hash.is_some() { "stored as a keyed hash or network prefix" } else { "not stored" },
                    "user_agent": c.user_agent,
                },
                "verdict": c.verdict.as_deref().and_then(|v| serde_json::from_str::<Value>(v).ok()),
                "edited_at": c.edited_at.map(rfc3339),
                "earlier_texts": earlier.iter().filter(|r| r.comment_id == c.id).map(|r| json!({
                    "revision": r.revision,
                    "body": r.body,
                    "lang": r.lang,
                    "edited_at": r.edited_at.map(rfc3339),
                    "received_at": rfc3339(r.received_at),
                    "replaced_at": rfc3339(r.replaced_at),
                })).collect::<Vec<_>>(),
                "decisions": log.iter().filter(|d| d.comment_id == c.id).map(|d| json!({
                    "at": rfc3339(d.created_at),
                    "by": role(&d.source, &d.actor),
                    "from_status": d.from_status,
                    "to_status": d.to_status,
                    "reason": d.reason,
                    "note_to_author": d.note_to_author,
                })).collect::<Vec<_>>(),
                "reports": reports_on.iter().filter(|r| r.0 == c.id).map(|r| json!({
                    "reference": r.1, "category": r.2, "status": r.3, "at": rfc3339(r.4),
                })).collect::<Vec<_>>(),
                // What a candidate model in shadow mode said, which decided nothing.
                "shadow_verdicts": shadow.iter().filter(|(s, _)| s.comment_id == c.id).map(|(s, version)| json!({
                    "model_version": version,
                    "decision": s.decision,
                    "toxicity": s.toxicity,
                    "spam": s.spam,
                    "reasons": serde_json::from_str::<Value>(&s.reasons).unwrap_or(Value::Null),
                    "at": rfc3339(s.created_at),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Some(json!({
        "exported_at": rfc3339(now()),
        "author": {
            "id": author.external_id,
            "name": author.display_name,
            "email": if author.email_hash.is_some() { "stored only as a keyed hash" } else { "not stored" },
            "status": author.status,
            "status_until": author.status_until.map(rfc3339),
            "first_seen_at": rfc3339(author.created_at),
        },
        "status_history": actions.iter().map(|a| json!({
            "at": rfc3339(a.created_at),
            "from_status": a.from_status,
            "to_status": a.to_status,
            "until": a.until.map(rfc3339),
            "reason": a.reason,
            "note": a.note,
        })).collect::<Vec<_>>(),
        "comments": comments_json,
        "appeals": my_appeals.iter().map(|a| json!({
            "id": a.id,
            "comment_id": a.comment_id,
            "text": a.text,
            "status": a.status,
            "reply": a.reply,
            "created_at": rfc3339(a.created_at),
            "decided_at": a.decided_at.map(rfc3339),
        })).collect::<Vec<_>>(),
        "perspective_feedback": feedback.iter().map(super::feedback::to_json).collect::<Vec<_>>(),
        // Moderators' notes about the author; who wrote each is left out (moderators appear
        // only by role).
        "moderator_notes": notes.iter().map(|n| json!({
            "text": n.text,
            "created_at": rfc3339(n.created_at),
        })).collect::<Vec<_>>(),
        "statements_of_reasons": statements_of.iter().map(|(uuid, comment_id, body, at)| json!({
            "uuid": uuid,
            "comment_id": comment_id,
            "created_at": rfc3339(*at),
            "statement": serde_json::from_str::<Value>(body).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
    })))
}
