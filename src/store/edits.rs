//! Edits of a comment's text: the previous text kept as a revision, the new one scored, and
//! a visible comment held again when its new text would be.

use diesel::prelude::*;

use super::comments::{view, CommentView};
use super::records::{CommentRecord, NewDecision};
use super::schema::{authors, comments, decisions, threads};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::policy::{self, Scored};
use crate::domain::{
    AuthorStatus, CommentId, CommentStatus, DecisionId, DecisionSource, ModerationMode, SiteId,
};

/// What an edit needs besides the new text: the scored text, and the site's mode.
#[derive(Debug, Clone)]
pub struct EditContext {
    pub site_id: SiteId,
    pub comment_id: CommentId,
    pub site_mode: ModerationMode,
    pub body_hash: String,
    pub scored: Scored,
}

#[derive(Debug)]
pub enum Edit {
    /// The new text is stored; the previous one is kept as a revision.
    Edited(CommentView),
    /// The same text (and language) as stored: nothing was written.
    Unchanged(CommentView),
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("comment {0} not found")]
    NotFound(CommentId),
    #[error("comment {0} is deleted and can no longer be edited")]
    Deleted(CommentId),
    #[error("comment {0} holds a later edit (edited at {1}): this one is older")]
    Stale(CommentId, chrono::NaiveDateTime),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Replaces a comment's text with an edit, keeping the previous text as a revision. A visible
/// comment whose new text scoring would hold (or that its site, thread or author would hold
/// anyway: pre-moderation, a pre-moderated or banned author) goes back to `pending` with an
/// automated decision row and its webhook event; a pending comment stays in its queue with the
/// new verdict; a rejected one stays rejected; a deleted one cannot be edited.
pub fn edit(
    conn: &mut DbConnection,
    ctx: &EditContext,
    new: &crate::domain::intake::CommentEdit,
) -> Result<Edit, EditError> {
    let changed = write_tx(conn, |conn| edit_once(conn, ctx, new))?;
    let view = view(conn, ctx.comment_id)?.ok_or(EditError::NotFound(ctx.comment_id))?;
    Ok(if changed {
        Edit::Edited(view)
    } else {
        Edit::Unchanged(view)
    })
}

/// `true` when the text changed.
fn edit_once(
    conn: &mut DbConnection,
    ctx: &EditContext,
    new: &crate::domain::intake::CommentEdit,
) -> Result<bool, EditError> {
    let c = locked(conn, ctx)?;
    let from = c.status;
    if from == CommentStatus::Deleted {
        return Err(EditError::Deleted(c.id));
    }
    let lang = new.lang.as_deref().or(c.lang.as_deref());
    if new.body == c.body && lang == c.lang.as_deref() {
        return Ok(false);
    }
    if let (Some(edit), Some(stored)) = (new.edited_at, c.edited_at) {
        if edit <= stored {
            return Err(EditError::Stale(c.id, stored));
        }
    }
    let t = now();
    keep_revision(conn, &c, t)?;
    let held_by = held_by(conn, ctx, &c, t)?;
    let to = policy::status_after_edit(from, held_by.is_some());
    let verdict = &ctx.scored.verdict;
    let scores = verdict.scores;
    diesel::update(comments::table.find(c.id))
        .set((
            comments::body.eq(&new.body),
            comments::lang.eq(lang),
            comments::verdict.eq(ctx.scored.json.as_deref()),
            comments::verdict_decision.eq(verdict.decision.as_str()),
            comments::risk.eq(f64::from(scores.toxicity.max(scores.spam))),
            comments::score_toxicity.eq(f64::from(scores.toxicity)),
            comments::score_spam.eq(f64::from(scores.spam)),
            comments::body_hash.eq(&ctx.body_hash),
            comments::edited_at.eq(new.edited_at),
            comments::body_received_at.eq(t),
            comments::status.eq(to),
            comments::revision.eq(c.revision + 1),
            comments::updated_at.eq(t),
        ))
        .execute(conn)?;
    let mut reasons = ctx.scored.reasons.clone();
    if to != from {
        reasons.push("edited".to_owned());
    }
    requeue(conn, c.id, &reasons)?;
    if to != from {
        let note = format!(
            "text edited (revision {} replaced); held again: {}",
            c.revision,
            held_by.as_deref().unwrap_or_default()
        );
        record_hold(conn, ctx, &c, (from, to), &note, t)?;
    }
    Ok(true)
}

/// The comment being edited, locked on PostgreSQL: two edits (or an edit and a decision) of one
/// comment go one after the other. SQLite writes one transaction at a time.
fn locked(conn: &mut DbConnection, ctx: &EditContext) -> Result<CommentRecord, EditError> {
    macro_rules! query {
        () => {
            comments::table
                .filter(comments::id.eq(ctx.comment_id))
                .filter(comments::site_id.eq(ctx.site_id))
                .select(CommentRecord::as_select())
        };
    }
    let c: Option<CommentRecord> = match conn {
        DbConnection::Sqlite(c) => query!().first(c).optional(),
        DbConnection::Pg(c) => query!().for_no_key_update().first(c).optional(),
    }?;
    c.ok_or(EditError::NotFound(ctx.comment_id))
}

/// Keeps the text being replaced as a revision.
fn keep_revision(
    conn: &mut DbConnection,
    c: &CommentRecord,
    t: chrono::NaiveDateTime,
) -> Result<(), EditError> {
    use super::records::NewRevision;
    use super::schema::comment_revisions;
    diesel::insert_into(comment_revisions::table)
        .values(NewRevision {
            comment_id: c.id,
            site_id: c.site_id,
            revision: c.revision,
            body: &c.body,
            lang: c.lang.as_deref(),
            verdict: c.verdict.as_deref(),
            verdict_decision: c.verdict_decision.as_deref(),
            status: c.status,
            edited_at: c.edited_at,
            received_at: c.body_received_at.unwrap_or(c.created_at),
            replaced_at: t,
        })
        .execute(conn)?;
    Ok(())
}

/// Would the new text be held? The verdict, and what holds every comment of this thread or
/// author ([`policy::edit_held_by`]).
fn held_by(
    conn: &mut DbConnection,
    ctx: &EditContext,
    c: &CommentRecord,
    t: chrono::NaiveDateTime,
) -> Result<Option<String>, EditError> {
    let thread_mode: Option<ModerationMode> = threads::table
        .find(c.thread_id)
        .select(threads::moderation_mode)
        .first(conn)?;
    let (mode, _) = policy::effective_mode(thread_mode, ctx.site_mode);
    let (author_status, until): (AuthorStatus, Option<chrono::NaiveDateTime>) = authors::table
        .find(c.author_id)
        .select((authors::status, authors::status_until))
        .first(conn)?;
    let standing = policy::standing(author_status, until, t);
    Ok(policy::edit_held_by(&ctx.scored.verdict, mode, standing))
}

/// The reasons a comment is queued for are those of its current text (an escalation stays).
fn requeue(conn: &mut DbConnection, id: CommentId, reasons: &[String]) -> Result<(), EditError> {
    use super::schema::comment_reasons;
    diesel::delete(
        comment_reasons::table
            .filter(comment_reasons::comment_id.eq(id))
            .filter(comment_reasons::reason.ne("escalated")),
    )
    .execute(conn)?;
    for r in reasons {
        diesel::insert_into(comment_reasons::table)
            .values((
                comment_reasons::comment_id.eq(id),
                comment_reasons::reason.eq(r),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The automated decision (and its webhook event) that holds an edited comment again.
fn record_hold(
    conn: &mut DbConnection,
    ctx: &EditContext,
    c: &CommentRecord,
    (from, to): (CommentStatus, CommentStatus),
    note: &str,
    t: chrono::NaiveDateTime,
) -> Result<(), EditError> {
    let decision_id: DecisionId = diesel::insert_into(decisions::table)
        .values(NewDecision {
            comment_id: c.id,
            site_id: c.site_id,
            actor: "policy",
            actor_key_id: None,
            source: DecisionSource::Automated.as_str(),
            from_status: Some(from),
            to_status: to,
            reason: None,
            note: Some(note),
            created_at: t,
            verdict: ctx.scored.json.as_deref(),
            action: None,
            note_to_author: None,
            origin: None,
            origin_network: None,
        })
        .returning(decisions::id)
        .get_result(conn)?;
    super::outbox::emit_status_change(
        conn,
        c.site_id,
        c.id,
        Some(from),
        to,
        super::outbox::decision_ref(decision_id, DecisionSource::Automated, None, None),
    )?;
    Ok(())
}

/// The texts a comment had before its edits, newest first.
pub fn revisions_of(
    conn: &mut DbConnection,
    comment_id: CommentId,
) -> Result<Vec<super::records::RevisionRecord>, StoreError> {
    use super::records::RevisionRecord;
    use super::schema::comment_revisions;
    Ok(comment_revisions::table
        .filter(comment_revisions::comment_id.eq(comment_id))
        .order(comment_revisions::revision.desc())
        .select(RevisionRecord::as_select())
        .load(conn)?)
}
