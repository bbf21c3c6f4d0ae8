//! The export of everything held about an author (GDPR Art. 15 and 20): what is loaded, then
//! one function per section of the JSON document.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::site_author;
use crate::domain::{AuthorId, CommentId, SiteId};
use crate::store::feedback::FeedbackRecord;
use crate::store::models::ShadowScore;
use crate::store::notes::NoteRecord;
use crate::store::records::{
    AppealRecord, AuthorActionRecord, AuthorRecord, CommentRecord, DecisionRecord, RevisionRecord,
};
use crate::store::schema::{
    appeals, comment_revisions, comments, decisions, reports, statements, threads,
};
use crate::store::{now, DbConnection, StoreError};

/// A report on one of the author's comments, as the export shows it: comment id, reference,
/// category, status and time (nothing about the reporter).
type ReportRow = (CommentId, String, String, String, NaiveDateTime);
/// A statement of reasons: uuid, comment id, JSON body and time.
type StatementRow = (String, Option<CommentId>, String, NaiveDateTime);

/// Everything held about one author, loaded for the export.
struct Held {
    author: AuthorRecord,
    /// The author's comments with their thread's external id, oldest first.
    comments: Vec<(CommentRecord, String)>,
    /// External ids of the comments they replied to.
    parents: Vec<(CommentId, String)>,
    decisions: Vec<DecisionRecord>,
    earlier_texts: Vec<RevisionRecord>,
    reports: Vec<ReportRow>,
    appeals: Vec<AppealRecord>,
    status_history: Vec<AuthorActionRecord>,
    statements: Vec<StatementRow>,
    feedback: Vec<FeedbackRecord>,
    notes: Vec<NoteRecord>,
    shadow: Vec<(ShadowScore, String)>,
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
    site_id: SiteId,
    author_external_id: &str,
) -> Result<Option<Value>, StoreError> {
    let Some(author) = site_author(conn, site_id, author_external_id)? else {
        return Ok(None);
    };
    let held = Held::load(conn, site_id, author)?;
    Ok(Some(json!({
        "exported_at": rfc3339(now()),
        "author": author_json(&held.author),
        "status_history": held.status_history.iter().map(status_action_json).collect::<Vec<_>>(),
        "comments": held.comments.iter().map(|(c, thread)| comment_json(&held, c, thread)).collect::<Vec<_>>(),
        "appeals": held.appeals.iter().map(appeal_json).collect::<Vec<_>>(),
        "perspective_feedback": held.feedback.iter().map(crate::store::feedback::to_json).collect::<Vec<_>>(),
        // Moderators' notes about the author; who wrote each is left out (moderators appear
        // only by role).
        "moderator_notes": held.notes.iter().map(|n| json!({
            "text": n.text,
            "created_at": rfc3339(n.created_at),
        })).collect::<Vec<_>>(),
        "statements_of_reasons": held.statements.iter().map(statement_json).collect::<Vec<_>>(),
    })))
}

impl Held {
    /// Loads, in this order, what the export shows about `author`.
    fn load(
        conn: &mut DbConnection,
        site_id: SiteId,
        author: AuthorRecord,
    ) -> Result<Held, StoreError> {
        let mine: Vec<(CommentRecord, String)> = comments::table
            .inner_join(threads::table)
            .filter(comments::author_id.eq(author.id))
            .order(comments::id)
            .select((CommentRecord::as_select(), threads::external_id))
            .load(conn)?;
        let ids: Vec<CommentId> = mine.iter().map(|(c, _)| c.id).collect();
        let parent_ids: Vec<CommentId> = mine.iter().filter_map(|(c, _)| c.parent_id).collect();
        let parents: Vec<(CommentId, String)> = comments::table
            .filter(comments::id.eq_any(parent_ids))
            .select((comments::id, comments::external_id))
            .load(conn)?;
        let decisions = decision_log(conn, &ids)?;
        let earlier_texts = earlier_texts(conn, &ids)?;
        let reports = reports_on(conn, &ids)?;
        let appeals = author_appeals(conn, &ids)?;
        let status_history = crate::store::authors::author_history(conn, author.id)?;
        let statements = statements_of(conn, &ids, author.id)?;
        let texts: Vec<String> = mine
            .iter()
            .map(|(c, _)| crate::store::comments::body_hash(&c.body))
            .collect();
        let feedback = crate::store::feedback::matching(conn, site_id, &texts)?;
        let notes = crate::store::notes::of_author(conn, author.id)?;
        let shadow = crate::store::models::shadow_of_comments(conn, &ids)?;
        Ok(Held {
            author,
            comments: mine,
            parents,
            decisions,
            earlier_texts,
            reports,
            appeals,
            status_history,
            statements,
            feedback,
            notes,
            shadow,
        })
    }
}

/// The decision log of the comments, oldest first.
fn decision_log(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<Vec<DecisionRecord>> {
    decisions::table
        .filter(decisions::comment_id.eq_any(ids))
        .order(decisions::id)
        .select(DecisionRecord::as_select())
        .load(conn)
}

/// Earlier texts of the comments, by comment and revision.
fn earlier_texts(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<Vec<RevisionRecord>> {
    comment_revisions::table
        .filter(comment_revisions::comment_id.eq_any(ids))
        .order((comment_revisions::comment_id, comment_revisions::revision))
        .select(RevisionRecord::as_select())
        .load(conn)
}

/// Reports on the comments, oldest first, without anything about their reporters.
fn reports_on(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<Vec<ReportRow>> {
    reports::table
        .filter(reports::comment_id.eq_any(ids))
        .order(reports::id)
        .select((
            reports::comment_id,
            reports::reference,
            reports::category,
            reports::status,
            reports::created_at,
        ))
        .load(conn)
}

/// The author's own appeals on the comments (not reporters').
fn author_appeals(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<Vec<AppealRecord>> {
    appeals::table
        .filter(appeals::comment_id.eq_any(ids))
        .filter(appeals::appellant.eq("author"))
        .order(appeals::id)
        .select(AppealRecord::as_select())
        .load(conn)
}

/// Statements of reasons on the comments or on the author's account.
fn statements_of(
    conn: &mut DbConnection,
    ids: &[CommentId],
    author_id: AuthorId,
) -> QueryResult<Vec<StatementRow>> {
    statements::table
        .filter(
            statements::comment_id
                .eq_any(ids)
                .or(statements::author_id.eq(author_id)),
        )
        .order(statements::id)
        .select((
            statements::uuid,
            statements::comment_id,
            statements::body,
            statements::created_at,
        ))
        .load(conn)
}

/// The `author` section: who they are, with only whether an email hash is held.
fn author_json(author: &AuthorRecord) -> Value {
    json!({
        "id": author.external_id,
        "name": author.display_name,
        "email": if author.email_hash.is_some() { "stored only as a keyed hash" } else { "not stored" },
        "status": author.status,
        "status_until": author.status_until.map(rfc3339),
        "first_seen_at": rfc3339(author.created_at),
    })
}

/// One entry of the `status_history` section.
fn status_action_json(a: &AuthorActionRecord) -> Value {
    json!({
        "at": rfc3339(a.created_at),
        "from_status": a.from_status,
        "to_status": a.to_status,
        "until": a.until.map(rfc3339),
        "reason": a.reason,
        "note": a.note,
    })
}

/// Who took a decision, by role only.
fn role(source: &str, actor: &str) -> &'static str {
    match (source, actor) {
        ("automated", "reports") => "reader reports",
        ("automated", _) => "automated",
        _ => "moderator",
    }
}

/// One entry of the `comments` section, with its earlier texts, decisions, reports and
/// shadow verdicts.
fn comment_json(held: &Held, c: &CommentRecord, thread: &str) -> Value {
    let parent = c.parent_id.and_then(|p| {
        held.parents
            .iter()
            .find(|(id, _)| *id == p)
            .map(|(_, e)| e.clone())
    });
    json!({
        "id": c.id,
        "external_id": c.external_id,
        "thread_id": thread,
        "parent_id": parent,
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
        "earlier_texts": held.earlier_texts.iter().filter(|r| r.comment_id == c.id).map(revision_json).collect::<Vec<_>>(),
        "decisions": held.decisions.iter().filter(|d| d.comment_id == c.id).map(decision_json).collect::<Vec<_>>(),
        "reports": held.reports.iter().filter(|r| r.0 == c.id).map(|r| json!({
            "reference": r.1, "category": r.2, "status": r.3, "at": rfc3339(r.4),
        })).collect::<Vec<_>>(),
        // What a candidate model in shadow mode said, which decided nothing.
        "shadow_verdicts": held.shadow.iter().filter(|(s, _)| s.comment_id == c.id).map(|(s, version)| shadow_json(s, version)).collect::<Vec<_>>(),
    })
}

/// An earlier text of a comment.
fn revision_json(r: &RevisionRecord) -> Value {
    json!({
        "revision": r.revision,
        "body": r.body,
        "lang": r.lang,
        "edited_at": r.edited_at.map(rfc3339),
        "received_at": rfc3339(r.received_at),
        "replaced_at": rfc3339(r.replaced_at),
    })
}

/// A decision on a comment; the moderator appears by role, their internal note not at all.
fn decision_json(d: &DecisionRecord) -> Value {
    json!({
        "at": rfc3339(d.created_at),
        "by": role(&d.source, &d.actor),
        "from_status": d.from_status,
        "to_status": d.to_status,
        "reason": d.reason,
        "note_to_author": d.note_to_author,
    })
}

/// A shadow model's verdict on a comment, with the model's version.
fn shadow_json(s: &ShadowScore, version: &str) -> Value {
    json!({
        "model_version": version,
        "decision": s.decision,
        "toxicity": s.toxicity,
        "spam": s.spam,
        "reasons": serde_json::from_str::<Value>(&s.reasons).unwrap_or(Value::Null),
        "at": rfc3339(s.created_at),
    })
}

/// One entry of the `appeals` section.
fn appeal_json(a: &AppealRecord) -> Value {
    json!({
        "id": a.id,
        "comment_id": a.comment_id,
        "text": a.text,
        "status": a.status,
        "reply": a.reply,
        "created_at": rfc3339(a.created_at),
        "decided_at": a.decided_at.map(rfc3339),
    })
}

/// One entry of the `statements_of_reasons` section.
fn statement_json((uuid, comment_id, body, at): &StatementRow) -> Value {
    json!({
        "uuid": uuid,
        "comment_id": comment_id,
        "created_at": rfc3339(*at),
        "statement": serde_json::from_str::<Value>(body).unwrap_or(Value::Null),
    })
}
