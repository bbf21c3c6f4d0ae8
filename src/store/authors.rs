//! Authors on a site: the status moderators give them (premod, ban, with an end date), their
//! history of actions, and their record.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::decisions::{decide_in_tx, Actor, DecideError, DecisionInput};
use super::records::{AuthorActionRecord, AuthorRecord, CommentRecord, NewAuthorAction};
use super::schema::{author_actions, authors, comments};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{Action, AuthorId, AuthorStatus, CommentId, CommentStatus, ReasonCode, SiteId};

/// A change of an author's status as asked.
#[derive(Debug, Clone)]
pub struct AuthorStatusInput {
    pub status: AuthorStatus,
    pub until: Option<NaiveDateTime>,
    pub reason: ReasonCode,
    pub note: Option<String>,
    pub reject_pending: bool,
}

/// Sets an author's status, logs it, and optionally rejects their pending comments (each with
/// its own decision row). `None` when the site has no such author.
pub fn set_author_status(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
    actor: &Actor,
    input: &AuthorStatusInput,
) -> Result<Option<(AuthorRecord, Vec<CommentId>)>, DecideError> {
    write_tx(conn, |conn| {
        let Some(author) = authors::table
            .filter(authors::site_id.eq(site_id))
            .filter(authors::external_id.eq(author_external_id))
            .select(AuthorRecord::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        if author.status == AuthorStatus::Deleted {
            return Err(DecideError::Conflict(
                "the author was erased; their record can no longer change".into(),
            ));
        }
        change_status(conn, site_id, &author, actor, input)?;
        record_restriction(conn, &author, input)?;
        emit_status_changed(conn, site_id, &author, input)?;
        let rejected = if input.reject_pending {
            reject_pending(conn, site_id, author.id, actor, input)?
        } else {
            Vec::new()
        };
        let author = authors::table
            .find(author.id)
            .select(AuthorRecord::as_select())
            .first(conn)?;
        Ok(Some((author, rejected)))
    })
}

/// Writes the new status on the author and a row in their status log.
fn change_status(
    conn: &mut DbConnection,
    site_id: SiteId,
    author: &AuthorRecord,
    actor: &Actor,
    input: &AuthorStatusInput,
) -> Result<(), DecideError> {
    let t = now();
    diesel::update(authors::table.find(author.id))
        .set((
            authors::status.eq(input.status),
            authors::status_until.eq(input.until),
        ))
        .execute(conn)?;
    diesel::insert_into(author_actions::table)
        .values(NewAuthorAction {
            author_id: author.id,
            site_id,
            actor: &actor.name,
            actor_key_id: Some(actor.key_id),
            from_status: author.status,
            to_status: input.status,
            until: input.until,
            reason: input.reason.as_str(),
            note: input.note.as_deref(),
            created_at: t,
        })
        .execute(conn)?;
    Ok(())
}

/// The statement of reasons of an account restriction (ban, pre-moderation), hung on the
/// author's latest comment; nothing when the status restricts nothing or there is no comment.
fn record_restriction(
    conn: &mut DbConnection,
    author: &AuthorRecord,
    input: &AuthorStatusInput,
) -> Result<(), DecideError> {
    let restriction = match input.status {
        AuthorStatus::Banned => Some(crate::domain::dsa::Restriction::AccountSuspended),
        AuthorStatus::Premod => Some(crate::domain::dsa::Restriction::AccountPremoderated),
        AuthorStatus::Active | AuthorStatus::Deleted => None,
    };
    let latest: Option<CommentRecord> = comments::table
        .filter(comments::author_id.eq(author.id))
        .order(comments::id.desc())
        .select(CommentRecord::as_select())
        .first(conn)
        .optional()?;
    if let (Some(restriction), Some(latest)) = (restriction, &latest) {
        super::statements::record_statement(
            conn,
            latest,
            None,
            Some(author.id),
            super::statements::StatementParts {
                restriction,
                reason: input.reason,
                note_to_author: input.note.as_deref(),
                automated_detection: false,
                automated_decision: false,
                notice: false,
            },
        )?;
    }
    Ok(())
}

/// The `author.status_changed` event.
fn emit_status_changed(
    conn: &mut DbConnection,
    site_id: SiteId,
    author: &AuthorRecord,
    input: &AuthorStatusInput,
) -> Result<(), DecideError> {
    super::outbox::emit(
        conn,
        site_id,
        crate::domain::events::EventType::AuthorStatusChanged,
        &format!("author:{}", author.id),
        |_| {
            Ok(serde_json::json!({
                "author": { "id": author.external_id },
                "from_status": author.status,
                "to_status": input.status.as_str(),
                "until": input.until.map(|u| u.and_utc().to_rfc3339()),
                "reason": input.reason.as_str(),
            }))
        },
    )?;
    Ok(())
}

/// Rejects the author's pending comments, oldest first, each by its own decision (as an
/// admin, over any claim). Returns their ids.
fn reject_pending(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_id: AuthorId,
    actor: &Actor,
    input: &AuthorStatusInput,
) -> Result<Vec<CommentId>, DecideError> {
    let pending: Vec<CommentId> = comments::table
        .filter(comments::author_id.eq(author_id))
        .filter(comments::status.eq(CommentStatus::Pending))
        .select(comments::id)
        .order(comments::id)
        .load(conn)?;
    let decision = DecisionInput {
        action: Action::Reject,
        reason: Some(input.reason),
        note_to_author: None,
        internal_note: Some(format!("author set to {}", input.status)),
        expected_revision: None,
        override_claim: true,
    };
    let as_admin = Actor {
        is_admin: true,
        ..actor.clone()
    };
    let mut rejected = Vec::new();
    for id in pending {
        decide_in_tx(conn, site_id, id, &as_admin, &decision)?;
        rejected.push(id);
    }
    Ok(rejected)
}

/// The author status actions of an author, oldest first.
pub fn author_history(
    conn: &mut DbConnection,
    author_id: AuthorId,
) -> Result<Vec<AuthorActionRecord>, StoreError> {
    Ok(author_actions::table
        .filter(author_actions::author_id.eq(author_id))
        .order(author_actions::id)
        .select(AuthorActionRecord::as_select())
        .load(conn)?)
}

/// An author, their recent comments, `(approved, rejected, pending)` counts and status actions.
pub type AuthorRecordView = (
    AuthorRecord,
    Vec<CommentRecord>,
    (i64, i64, i64),
    Vec<AuthorActionRecord>,
);

/// An author of the site with their recent comments (newest first) and status actions.
pub fn author_record(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
    recent: i64,
) -> Result<Option<AuthorRecordView>, StoreError> {
    let Some(author) = authors::table
        .filter(authors::site_id.eq(site_id))
        .filter(authors::external_id.eq(author_external_id))
        .select(AuthorRecord::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let comments_of: Vec<CommentRecord> = comments::table
        .filter(comments::author_id.eq(author.id))
        .order(comments::id.desc())
        .limit(recent)
        .select(CommentRecord::as_select())
        .load(conn)?;
    let mut counts = (0, 0, 0);
    for (status, n) in comments::table
        .filter(comments::author_id.eq(author.id))
        .group_by(comments::status)
        .select((comments::status, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
    {
        match status.as_str() {
            "approved" => counts.0 += n,
            "rejected" => counts.1 += n,
            "pending" => counts.2 += n,
            _ => {}
        }
    }
    let actions = author_history(conn, author.id)?;
    Ok(Some((author, comments_of, counts, actions)))
}
