//! The erasure of an author (GDPR Art. 17): one function per table it clears, called in order
//! inside one write transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::site_author;
use crate::domain::{
    ApiKeyId, AuthorId, AuthorStatus, CommentId, CommentStatus, DecisionSource, ReporterId, SiteId,
    StatementId,
};
use crate::store::decisions::Actor;
use crate::store::records::{AuthorRecord, CommentRecord, NewAuthorAction, NewDecision};
use crate::store::schema::{
    appeals, author_actions, authors, comment_revisions, comments, decisions, reporters, reports,
    statements, webhook_deliveries,
};
use crate::store::{now, write_tx, DbConnection, StoreError};

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
    site_id: SiteId,
    author_external_id: &str,
    reporter_identity: &str,
    actor: &Actor,
) -> Result<Option<ErasureCounts>, StoreError> {
    let result = write_tx(conn, |conn| {
        let Some(author) = site_author(conn, site_id, author_external_id)? else {
            return Ok::<_, diesel::result::Error>(None);
        };
        let t = now();
        let mine: Vec<CommentRecord> = comments::table
            .filter(comments::author_id.eq(author.id))
            .order(comments::id)
            .select(CommentRecord::as_select())
            .load(conn)?;
        let ids: Vec<CommentId> = mine.iter().map(|c| c.id).collect();
        let texts: Vec<String> = mine
            .iter()
            .map(|c| crate::store::comments::body_hash(&c.body))
            .collect();
        let mut counts = ErasureCounts {
            perspective_feedback: crate::store::feedback::erase_matching(conn, site_id, &texts)?,
            ..ErasureCounts::default()
        };
        for c in &mine {
            erase_comment(conn, site_id, c, actor, t)?;
            counts.comments += 1;
        }
        counts.decisions = strip_decisions(conn, &ids)?;
        counts.revisions = delete_revisions(conn, &ids)?;
        counts.reports = strip_reports(conn, &ids)?;
        counts.appeals = strip_appeals(conn, &ids)?;
        strip_statements(conn, &ids, author.id)?;
        strip_author_action_notes(conn, author.id)?;
        counts.author_notes = crate::store::notes::erase(conn, author.id)?;
        counts.shadow_verdicts = crate::store::models::erase_shadow(conn, &ids)?;
        delete_author_deliveries(conn, author.id)?;
        unlink_reporter(conn, site_id, reporter_identity)?;
        log_author_deleted(conn, site_id, &author, actor, t)?;
        anonymise_author(conn, author.id)?;
        Ok(Some(counts))
    })?;
    Ok(result)
}

/// Empties a comment (body, verdict, connection data, claim), sets it `deleted`, and logs a
/// decision unless it already was.
fn erase_comment(
    conn: &mut DbConnection,
    site_id: SiteId,
    c: &CommentRecord,
    actor: &Actor,
    t: NaiveDateTime,
) -> QueryResult<()> {
    let from = c.status;
    diesel::update(comments::table.find(c.id))
        .set((
            comments::body.eq(""),
            comments::verdict.eq(None::<String>),
            comments::client_ip_hash.eq(None::<String>),
            comments::user_agent.eq(None::<String>),
            comments::body_hash.eq(None::<String>),
            comments::status.eq(CommentStatus::Deleted),
            comments::revision.eq(c.revision + 1),
            comments::updated_at.eq(t),
            comments::claimed_by.eq(None::<ApiKeyId>),
            comments::claim_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if from == CommentStatus::Deleted {
        return Ok(());
    }
    diesel::insert_into(decisions::table)
        .values(NewDecision {
            comment_id: c.id,
            site_id,
            actor: &actor.name,
            actor_key_id: Some(actor.key_id),
            source: DecisionSource::Human.as_str(),
            from_status: Some(from),
            to_status: CommentStatus::Deleted,
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
    Ok(())
}

/// The earlier decision rows of the comments, kept without verdict or notes (the erasure's
/// own rows have none).
fn strip_decisions(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<usize> {
    diesel::update(
        decisions::table
            .filter(decisions::comment_id.eq_any(ids))
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
    .execute(conn)
}

/// The earlier texts of the comments, deleted.
fn delete_revisions(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<usize> {
    diesel::delete(comment_revisions::table.filter(comment_revisions::comment_id.eq_any(ids)))
        .execute(conn)
}

/// Reports on the comments, kept without their copy of the text or the reporter's texts.
fn strip_reports(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<usize> {
    diesel::update(reports::table.filter(reports::comment_id.eq_any(ids)))
        .set((
            reports::snapshot_body.eq(""),
            reports::text.eq(None::<String>),
            reports::explanation.eq(None::<String>),
        ))
        .execute(conn)
}

/// The author's appeals on the comments, kept without text or reply.
fn strip_appeals(conn: &mut DbConnection, ids: &[CommentId]) -> QueryResult<usize> {
    diesel::update(
        appeals::table
            .filter(appeals::comment_id.eq_any(ids))
            .filter(appeals::appellant.eq("author")),
    )
    .set((appeals::text.eq(""), appeals::reply.eq(None::<String>)))
    .execute(conn)
}

/// Statements of reasons on the comments or the author keep their facts; the free-text
/// explanations may quote the comment.
fn strip_statements(
    conn: &mut DbConnection,
    ids: &[CommentId],
    author_id: AuthorId,
) -> QueryResult<()> {
    let stmts: Vec<(StatementId, String)> = statements::table
        .filter(
            statements::comment_id
                .eq_any(ids)
                .or(statements::author_id.eq(author_id)),
        )
        .select((statements::id, statements::body))
        .load(conn)?;
    for (id, body) in stmts {
        diesel::update(statements::table.find(id))
            .set(statements::body.eq(without_explanations(&body)))
            .execute(conn)?;
    }
    Ok(())
}

/// A statement's JSON body with its free-text explanations set to null.
fn without_explanations(body: &str) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
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
    v.to_string()
}

/// The notes of the author's status actions, cleared.
fn strip_author_action_notes(conn: &mut DbConnection, author_id: AuthorId) -> QueryResult<usize> {
    diesel::update(author_actions::table.filter(author_actions::author_id.eq(author_id)))
        .set(author_actions::note.eq(None::<String>))
        .execute(conn)
}

/// Webhook deliveries about the author, deleted.
fn delete_author_deliveries(conn: &mut DbConnection, author_id: AuthorId) -> QueryResult<usize> {
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::subject.eq(format!("author:{author_id}"))),
    )
    .execute(conn)
}

/// The reporter under the same person's identity on the site loses the hash linking them.
fn unlink_reporter(
    conn: &mut DbConnection,
    site_id: SiteId,
    reporter_identity: &str,
) -> QueryResult<()> {
    for id in reporters::table
        .filter(reporters::site_id.eq(site_id))
        .filter(reporters::identity_hash.eq(reporter_identity))
        .select(reporters::id)
        .load::<ReporterId>(conn)?
    {
        diesel::update(reporters::table.find(id))
            .set(reporters::identity_hash.eq(format!("purged:{id}")))
            .execute(conn)?;
    }
    Ok(())
}

/// A row in the author's status log for the move to `deleted`, unless they already were.
fn log_author_deleted(
    conn: &mut DbConnection,
    site_id: SiteId,
    author: &AuthorRecord,
    actor: &Actor,
    t: NaiveDateTime,
) -> QueryResult<()> {
    if author.status == AuthorStatus::Deleted {
        return Ok(());
    }
    diesel::insert_into(author_actions::table)
        .values(NewAuthorAction {
            author_id: author.id,
            site_id,
            actor: &actor.name,
            actor_key_id: Some(actor.key_id),
            from_status: author.status,
            to_status: AuthorStatus::Deleted,
            until: None,
            reason: crate::domain::ReasonCode::Other.as_str(),
            note: None,
            created_at: t,
        })
        .execute(conn)?;
    Ok(())
}

/// The author's row: a fresh `erased:<uuid>` id, no name nor email hash, status `deleted`.
fn anonymise_author(conn: &mut DbConnection, author_id: AuthorId) -> QueryResult<usize> {
    diesel::update(authors::table.find(author_id))
        .set((
            authors::external_id.eq(format!("erased:{}", uuid::Uuid::new_v4())),
            authors::display_name.eq(None::<String>),
            authors::email_hash.eq(None::<String>),
            authors::status.eq(AuthorStatus::Deleted),
            authors::status_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::without_explanations;

    #[test]
    fn statements_lose_their_explanations_and_keep_their_facts() {
        let body =
            r#"{"decision_ground":"incompatible","incompatible_content_explanation":"quotes it"}"#;
        let v: serde_json::Value = serde_json::from_str(&without_explanations(body)).unwrap();
        assert_eq!(v["decision_ground"], "incompatible");
        assert!(v["incompatible_content_explanation"].is_null());
        assert!(v.get("illegal_content_explanation").is_none());
    }
}
