//! Comments: intake (thread and author created on first sight, idempotent by external id),
//! reads, and the thread display listing.

mod reads;

pub use reads::{by_external_id, decisions_of, site_comment, view, visible_in_thread, CommentView};

use diesel::prelude::*;

use super::records::{
    AuthorRecord, CommentRecord, NewAuthor, NewComment, NewDecision, ThreadRecord,
};
use super::schema::{authors, comments, decisions, threads};
use super::{is_unique_violation, now, write_tx, DbConnection, StoreError};
use crate::domain::intake::CommentSubmission;
use crate::domain::policy::{self, Placement, Scored};
use crate::domain::{
    AuthorId, AuthorStatus, CommentId, CommentStatus, DecisionId, DecisionSource, ModerationMode,
    ReasonCode, SiteId, ThreadId, ThreadStatus,
};

/// What intake needs besides the submission: who the site is, the hashed personal data and
/// the scoring verdict.
#[derive(Debug, Clone)]
pub struct IntakeContext {
    pub site_id: SiteId,
    pub site_mode: ModerationMode,
    pub email_hash: Option<String>,
    pub ip_hash: Option<String>,
    pub body_hash: Option<String>,
    pub verdict: Option<Scored>,
    /// The site's per-author rate rule, applied when the comment is written.
    pub author_rate: Option<crate::scoring::AuthorRate>,
    /// What the site's shadow model would have advised, stored with the comment.
    pub shadow: Option<super::models::ShadowVerdict>,
    /// `Some(n)`: the site pre-moderates new authors and this one has fewer than `n` approved
    /// comments.
    pub new_author: Option<u32>,
}

/// SHA-256 of the trimmed, lower-cased body, to spot an author posting the same text again.
pub fn body_hash(body: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(body.trim().to_lowercase().as_bytes()))
}

/// How long back a rejection counts as "recent" for an author's record.
const RECENT_REJECTIONS_DAYS: i64 = 30;

/// What the rules know of an author before a new comment: approved comments, recent
/// rejections, and whether the same text was posted within `repeat_window`.
///
/// One statement of scalar subqueries, each counted from an index that starts with the author
/// (`comments_author`, `comments_author_body`) whether or not the planner has statistics yet;
/// each finds the author again by its unique key (three index probes cost less than a round
/// trip).
/// A DSL query, so diesel keeps it prepared (a plain-SQL version was prepared again on every
/// intake, 40 % of the reading side's CPU under load); one statement rather than four because
/// on PostgreSQL each statement is a round trip (`docs/benchmarks.md`).
pub fn author_history(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
    body_hash: &str,
    repeat_window: chrono::Duration,
) -> Result<crate::scoring::AuthorHistory, StoreError> {
    use super::on_backend;
    use diesel::dsl::{count_star, select};
    let t = now();
    let recent = t - chrono::Duration::days(RECENT_REJECTIONS_DAYS);
    let window = t - repeat_window;
    // NULL for an author never seen: every count is then 0
    let author = authors::table
        .filter(authors::site_id.eq(site_id))
        .filter(authors::external_id.eq(author_external_id))
        .select(authors::id)
        .single_value();
    let of_author = comments::author_id.nullable().eq(author);
    let approved = comments::table
        .filter(of_author)
        .filter(comments::status.eq(CommentStatus::Approved))
        .select(count_star())
        .single_value();
    let rejected = comments::table
        .filter(of_author)
        .filter(comments::status.eq(CommentStatus::Rejected))
        .filter(comments::updated_at.ge(recent))
        .select(count_star())
        .single_value();
    let same = comments::table
        .filter(of_author)
        .filter(comments::body_hash.eq(body_hash))
        .filter(comments::created_at.ge(window))
        .select(comments::id)
        .single_value();
    let (approved, rejected, same): (Option<i64>, Option<i64>, Option<i64>) =
        on_backend!(conn, |c| select((approved, rejected, same)).get_result(c))?;
    let count = |n: Option<i64>| u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX);
    Ok(crate::scoring::AuthorHistory {
        approved_count: count(approved),
        recent_rejections: count(rejected),
        same_text_recently: same.is_some(),
    })
}

#[derive(Debug)]
pub enum Intake {
    Created(CommentView),
    /// The external id was seen before: nothing was created.
    Existing(CommentView),
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("thread `{0}` is closed to new comments")]
    ThreadClosed(String),
    #[error("parent comment `{0}` does not exist")]
    ParentNotFound(String),
    #[error("parent comment `{0}` belongs to another thread")]
    ParentInOtherThread(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores a new comment, or finds the one already stored under its external id. The comment,
/// its thread and author, and its first decision row are committed together.
pub fn submit(
    conn: &mut DbConnection,
    ctx: &IntakeContext,
    sub: &CommentSubmission,
) -> Result<Intake, IntakeError> {
    // Concurrent first sightings of the same comment, thread or author race on unique
    // constraints; the loser retries and then finds what the winner stored.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match write_tx(conn, |conn| submit_once(conn, ctx, sub)) {
            Err(IntakeError::Db(e)) if is_unique_violation(&e) && attempts < 4 => continue,
            Ok(Some(created)) => return Ok(Intake::Created(created)),
            Ok(None) => {
                let id =
                    by_external_id(conn, ctx.site_id, &sub.external_id)?.ok_or_else(missing)?;
                return Ok(Intake::Existing(view(conn, id)?.ok_or_else(missing)?));
            }
            Err(e) => return Err(e),
        }
    }
}

fn missing() -> StoreError {
    StoreError::Other(anyhow::anyhow!("comment vanished after intake"))
}

/// `Some` comment created, `None` when it already existed.
fn submit_once(
    conn: &mut DbConnection,
    ctx: &IntakeContext,
    sub: &CommentSubmission,
) -> Result<Option<CommentView>, IntakeError> {
    match insert_new(conn, ctx, sub) {
        // A resend of a stored comment is answered with it whatever changed since (thread
        // closed, parent gone): looked up on these rare paths only.
        Err(
            e @ (IntakeError::ThreadClosed(_)
            | IntakeError::ParentNotFound(_)
            | IntakeError::ParentInOtherThread(_)),
        ) => match by_external_id(conn, ctx.site_id, &sub.external_id)? {
            Some(_) => Ok(None),
            None => Err(e),
        },
        other => other,
    }
}

/// Inserts the comment unless its external id is known (`None`: nothing written after the
/// thread and author). The unique key decides (`ON CONFLICT DO NOTHING`) instead of a lookup
/// first: on a table without statistics yet PostgreSQL planned that lookup through another
/// index starting with `site_id` and read every comment of the site.
fn insert_new(
    conn: &mut DbConnection,
    ctx: &IntakeContext,
    sub: &CommentSubmission,
) -> Result<Option<CommentView>, IntakeError> {
    let t = now();
    let thread = find_or_create_thread(conn, ctx.site_id, sub, t)?;
    if thread.status == ThreadStatus::Closed {
        return Err(IntakeError::ThreadClosed(thread.external_id));
    }
    let parent_id = parent_of(
        conn,
        ctx.site_id,
        thread.id,
        sub.parent_external_id.as_ref(),
    )?;
    let author = find_or_create_author(conn, ctx, sub, t)?;
    let scored = with_author_rate(conn, ctx, author.id, t)?;
    let scored = scored.as_deref();

    let (mode, origin) = policy::effective_mode(thread.moderation_mode, ctx.site_mode);
    let author_standing = policy::standing(author.status, author.status_until, t);
    let placement = policy::place_new(mode, origin, scored, author_standing, ctx.new_author);
    let (toxicity, spam) = match scored {
        Some(s) => (
            Some(f64::from(s.verdict.scores.toxicity)),
            Some(f64::from(s.verdict.scores.spam)),
        ),
        None => (None, None),
    };
    let new_comment = NewComment {
        site_id: ctx.site_id,
        thread_id: thread.id,
        parent_id,
        author_id: author.id,
        external_id: &sub.external_id,
        body: &sub.body,
        lang: sub.lang.as_deref(),
        status: placement.status,
        revision: 1,
        verdict: scored.and_then(|s| s.json.as_deref()),
        verdict_decision: scored.map(|s| s.verdict.decision.as_str()),
        client_ip_hash: ctx.ip_hash.as_deref(),
        user_agent: sub.user_agent.as_deref(),
        created_at: t,
        updated_at: t,
        risk: toxicity.unwrap_or(0.0).max(spam.unwrap_or(0.0)),
        score_toxicity: toxicity,
        score_spam: spam,
        body_hash: ctx.body_hash.as_deref(),
    };
    let record: Option<CommentRecord> =
        super::on_backend!(conn, |c| diesel::insert_into(comments::table)
            .values(&new_comment)
            .on_conflict((comments::site_id, comments::external_id))
            .do_nothing()
            .returning(comments::all_columns)
            .get_result(c)
            .optional())?;
    let Some(record) = record else {
        return Ok(None);
    };
    record_placement(conn, &record, &placement, scored, t)?;
    if let Some(shadow) = &ctx.shadow {
        super::models::record_shadow(conn, record.id, shadow, t)?;
    }
    // What `view` would read back, from what was just written.
    Ok(Some(CommentView {
        comment: record,
        thread_external_id: thread.external_id,
        author_external_id: author.external_id,
        author_name: author.display_name,
        parent_external_id: sub.parent_external_id.clone(),
    }))
}

/// The id of the parent comment a reply names, which must be in the same thread.
fn parent_of(
    conn: &mut DbConnection,
    site_id: SiteId,
    thread_id: ThreadId,
    parent_external_id: Option<&String>,
) -> Result<Option<CommentId>, IntakeError> {
    let Some(parent_ext) = parent_external_id else {
        return Ok(None);
    };
    let parent: Option<(CommentId, ThreadId)> = comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(comments::external_id.eq(parent_ext))
        .select((comments::id, comments::thread_id))
        .first(conn)
        .optional()?;
    match parent {
        None => Err(IntakeError::ParentNotFound(parent_ext.clone())),
        Some((_, parent_thread)) if parent_thread != thread_id => {
            Err(IntakeError::ParentInOtherThread(parent_ext.clone()))
        }
        Some((id, _)) => Ok(Some(id)),
    }
}

/// The verdict with the site's per-author rate rule applied: it counts the author's recent
/// comments, so it runs in the writing transaction.
fn with_author_rate<'a>(
    conn: &mut DbConnection,
    ctx: &'a IntakeContext,
    author_id: AuthorId,
    t: chrono::NaiveDateTime,
) -> Result<Option<std::borrow::Cow<'a, Scored>>, IntakeError> {
    use std::borrow::Cow;
    let (Some(scored), Some(rate)) = (&ctx.verdict, &ctx.author_rate) else {
        return Ok(ctx.verdict.as_ref().map(Cow::Borrowed));
    };
    let since = t - chrono::Duration::seconds(i64::from(rate.window_secs));
    Ok(Some(
        match rate.check(recent_comments(conn, author_id, since)?) {
            Some(hit) => {
                let mut s = scored.clone();
                s.add_rule_hit(hit, rate.reason());
                Cow::Owned(s)
            }
            None => Cow::Borrowed(scored),
        },
    ))
}

/// What follows a new comment's placement: its automated decision, the webhook event, the
/// reasons it is queued for, and (when rejected) its statement of reasons.
fn record_placement(
    conn: &mut DbConnection,
    record: &CommentRecord,
    placement: &Placement,
    scored: Option<&Scored>,
    t: chrono::NaiveDateTime,
) -> Result<(), IntakeError> {
    let (id, site_id, status) = (record.id, record.site_id, placement.status);
    let reason = placement.reason.map(ReasonCode::as_str);
    let new_decision = NewDecision {
        comment_id: id,
        site_id,
        actor: "policy",
        actor_key_id: None,
        source: DecisionSource::Automated.as_str(),
        from_status: None,
        to_status: status,
        reason,
        note: Some(&placement.note),
        created_at: t,
        verdict: scored.and_then(|s| s.json.as_deref()),
        action: None,
        note_to_author: None,
        origin: None,
        origin_network: None,
    };
    let decision_id: DecisionId =
        super::on_backend!(conn, |c| diesel::insert_into(decisions::table)
            .values(&new_decision)
            .returning(decisions::id)
            .get_result(c))?;
    super::outbox::emit_status_change(
        conn,
        site_id,
        id,
        None,
        status,
        super::outbox::decision_ref(decision_id, DecisionSource::Automated, None, reason),
    )?;
    for r in scored.map(|s| s.reasons.as_slice()).unwrap_or_default() {
        super::on_backend!(conn, |c| diesel::insert_into(
            super::schema::comment_reasons::table
        )
        .values((
            super::schema::comment_reasons::comment_id.eq(id),
            super::schema::comment_reasons::reason.eq(r),
        ))
        .execute(c))?;
    }
    if status == CommentStatus::Rejected {
        super::statements::record_statement(
            conn,
            record,
            Some(decision_id),
            None,
            super::statements::StatementParts {
                restriction: crate::domain::dsa::Restriction::Removed,
                reason: placement.reason.unwrap_or(ReasonCode::Other),
                note_to_author: Some(&placement.note),
                automated_detection: true,
                automated_decision: true,
                notice: false,
            },
        )?;
    }
    Ok(())
}

fn find_or_create_thread(
    conn: &mut DbConnection,
    site_id: SiteId,
    sub: &CommentSubmission,
    t: chrono::NaiveDateTime,
) -> Result<ThreadRecord, IntakeError> {
    let existing = super::on_backend!(conn, |c| threads::table
        .filter(threads::site_id.eq(site_id))
        .filter(threads::external_id.eq(&sub.thread_id))
        .select(ThreadRecord::as_select())
        .first(c)
        .optional())?;
    if let Some(thread) = existing {
        return Ok(thread);
    }
    Ok(diesel::insert_into(threads::table)
        .values(super::records::NewThread {
            site_id,
            external_id: &sub.thread_id,
            url: sub.thread_url.as_deref(),
            title: sub.thread_title.as_deref(),
            status: ThreadStatus::Open,
            created_at: t,
        })
        .returning(threads::all_columns)
        .get_result::<ThreadRecord>(conn)?)
}

fn find_or_create_author(
    conn: &mut DbConnection,
    ctx: &IntakeContext,
    sub: &CommentSubmission,
    t: chrono::NaiveDateTime,
) -> Result<AuthorRecord, IntakeError> {
    // (a macro: `as_select` is typed by its backend)
    macro_rules! query {
        () => {
            authors::table
                .filter(authors::site_id.eq(ctx.site_id))
                .filter(authors::external_id.eq(&sub.author_id))
                .select(AuthorRecord::as_select())
        };
    }
    // With a per-author rate, one author's comments are written one after the other on
    // PostgreSQL (the row lock), so that each counts the ones committed before it. (SQLite
    // writes one transaction at a time anyway.) A new author's row is locked by its insert: a
    // concurrent first comment fails on the unique key, retries and then waits here.
    let existing = match conn {
        DbConnection::Sqlite(c) => query!().first(c).optional(),
        DbConnection::Pg(c) if ctx.author_rate.is_some() => {
            // NO KEY UPDATE: serialises this author's intakes without blocking foreign-key
            // checks of other rows pointing at the author
            query!().for_no_key_update().first(c).optional()
        }
        DbConnection::Pg(c) => query!().first(c).optional(),
    }?;
    if let Some(author) = existing {
        return Ok(author);
    }
    Ok(diesel::insert_into(authors::table)
        .values(NewAuthor {
            site_id: ctx.site_id,
            external_id: &sub.author_id,
            display_name: sub.author_name.as_deref(),
            email_hash: ctx.email_hash.as_deref(),
            status: AuthorStatus::Active,
            created_at: t,
        })
        .returning(authors::all_columns)
        .get_result::<AuthorRecord>(conn)?)
}

/// The author's comments created since `since` (the per-author rate).
fn recent_comments(
    conn: &mut DbConnection,
    author_id: AuthorId,
    since: chrono::NaiveDateTime,
) -> Result<u32, diesel::result::Error> {
    let n: i64 = super::on_backend!(conn, |c| comments::table
        .filter(comments::author_id.eq(author_id))
        .filter(comments::created_at.ge(since))
        .count()
        .get_result(c))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}
