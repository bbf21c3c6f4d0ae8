//! Comments: intake (thread and author created on first sight, idempotent by external id),
//! reads, and the thread display listing.

use std::collections::HashMap;

use diesel::prelude::*;

use super::records::{
    AuthorRecord, CommentRecord, NewAuthor, NewComment, NewDecision, ThreadRecord,
};
use super::schema::{authors, comments, decisions, threads};
use super::{is_unique_violation, now, write_tx, DbConnection, StoreError};
use crate::domain::intake::CommentSubmission;
use crate::domain::{
    initial_status, AuthorStatus, CommentStatus, DecisionSource, ModerationMode, ThreadStatus,
};

/// A comment with the site-facing ids of what it points to.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub comment: CommentRecord,
    pub thread_external_id: String,
    pub author_external_id: String,
    pub author_name: Option<String>,
    pub parent_external_id: Option<String>,
}

/// What intake needs besides the submission: who the site is, the hashed personal data and
/// the scoring verdict.
#[derive(Debug, Clone)]
pub struct IntakeContext {
    pub site_id: i64,
    pub site_mode: ModerationMode,
    pub email_hash: Option<String>,
    pub ip_hash: Option<String>,
    pub body_hash: Option<String>,
    pub verdict: Option<Scored>,
    /// The site's per-author rate rule, applied when the comment is written.
    pub author_rate: Option<crate::scoring::AuthorRate>,
}

/// A verdict with what the policy needs from it, computed before the transaction.
#[derive(Debug, Clone)]
pub struct Scored {
    pub verdict: crate::scoring::Verdict,
    /// The verdict as stored (JSON), serialised before the write so that the SQLite writer
    /// thread, the serial part of intake, does not spend its time on it.
    pub json: Option<String>,
    /// Rule ids and categories to file the comment under in the queues.
    pub reasons: Vec<String>,
}

impl Scored {
    pub fn new(verdict: crate::scoring::Verdict, thresholds: &crate::scoring::Thresholds) -> Self {
        let mut reasons: Vec<String> = verdict.rules.iter().map(|h| h.id.clone()).collect();
        if verdict.scores.toxicity >= thresholds.toxicity.review {
            reasons.push("toxicity".into());
        }
        if verdict.scores.spam >= thresholds.spam.review {
            reasons.push("spam".into());
        }
        reasons.sort();
        reasons.dedup();
        let json = serde_json::to_string(&verdict).ok();
        Scored {
            verdict,
            json,
            reasons,
        }
    }

    /// Adds a rule that fired after scoring (the per-author rate) to the verdict, its reasons
    /// and its stored JSON.
    pub fn add_rule_hit(&mut self, hit: crate::scoring::RuleHit, reason: String) {
        self.reasons.push(hit.id.clone());
        self.reasons.sort();
        self.reasons.dedup();
        self.verdict.add_rule_hit(hit, reason);
        self.json = serde_json::to_string(&self.verdict).ok();
    }

    /// The reason code of an automated rejection: a blocking rule's category, else the
    /// category that scored highest.
    pub fn reason_code(&self) -> crate::domain::ReasonCode {
        use crate::domain::ReasonCode;
        use crate::scoring::{Action, RuleCategory};
        let category = self
            .verdict
            .rules
            .iter()
            .find(|h| h.action == Action::Block)
            .map(|h| h.category);
        match category {
            Some(RuleCategory::Spam) => ReasonCode::Spam,
            Some(RuleCategory::Toxicity) => ReasonCode::Insult,
            Some(RuleCategory::Behaviour) => ReasonCode::Other,
            None if self.verdict.scores.spam > self.verdict.scores.toxicity => ReasonCode::Spam,
            None => ReasonCode::Insult,
        }
    }
}

/// The note of the automated decision that holds or rejects a comment because of its author's
/// status rather than its text (integrations tell the author which it was).
pub const NOTE_AUTHOR_BANNED: &str = "author is banned";
pub const NOTE_AUTHOR_PREMOD: &str = "author is pre-moderated";

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
    site_id: i64,
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
        .filter(comments::status.eq(CommentStatus::Approved.as_str()))
        .select(count_star())
        .single_value();
    let rejected = comments::table
        .filter(of_author)
        .filter(comments::status.eq(CommentStatus::Rejected.as_str()))
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
    if thread.status == ThreadStatus::Closed.as_str() {
        return Err(IntakeError::ThreadClosed(thread.external_id));
    }
    let parent_id = match &sub.parent_external_id {
        None => None,
        Some(parent_ext) => {
            let parent: Option<(i64, i64)> = comments::table
                .filter(comments::site_id.eq(ctx.site_id))
                .filter(comments::external_id.eq(parent_ext))
                .select((comments::id, comments::thread_id))
                .first(conn)
                .optional()?;
            match parent {
                None => return Err(IntakeError::ParentNotFound(parent_ext.clone())),
                Some((_, thread_id)) if thread_id != thread.id => {
                    return Err(IntakeError::ParentInOtherThread(parent_ext.clone()))
                }
                Some((id, _)) => Some(id),
            }
        }
    };
    let author = find_or_create_author(conn, ctx, sub, t)?;
    let rated;
    let scored = match (&ctx.verdict, &ctx.author_rate) {
        (Some(scored), Some(rate)) => {
            let since = t - chrono::Duration::seconds(i64::from(rate.window_secs));
            match rate.check(recent_comments(conn, author.id, since)?) {
                Some(hit) => {
                    let mut s = scored.clone();
                    s.add_rule_hit(hit, rate.reason());
                    rated = s;
                    Some(&rated)
                }
                None => Some(scored),
            }
        }
        (scored, None) => scored.as_ref(),
        (None, _) => None,
    };

    let (mode, mode_origin) = match thread.moderation_mode.as_deref().map(str::parse) {
        Some(Ok(mode)) => (mode, "thread"),
        _ => (ctx.site_mode, "site"),
    };
    let mut status = initial_status(mode);
    let mut note = format!("moderation mode `{mode}` ({mode_origin} setting)");
    let mut reason = None;
    if let Some(scored) = scored {
        use crate::scoring::Decision;
        let why = if scored.verdict.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", scored.verdict.reasons.join("; "))
        };
        match (mode, scored.verdict.decision) {
            (ModerationMode::Post, Decision::Reject) => {
                status = CommentStatus::Rejected;
                reason = Some(scored.reason_code().as_str());
                note = format!("verdict reject{why}");
            }
            (ModerationMode::Post, Decision::Review) => {
                status = CommentStatus::Pending;
                note = format!("verdict review{why}");
            }
            (ModerationMode::Post, Decision::Allow) => {
                note = format!("verdict allow ({mode_origin} mode post)");
            }
            (ModerationMode::Pre, d) => {
                note = format!(
                    "moderation mode `pre` ({mode_origin} setting); verdict {}{why}",
                    d.as_str()
                );
            }
        }
    }
    let in_force = author.status_until.is_none_or(|until| until > t);
    match author.status.parse::<AuthorStatus>() {
        Ok(AuthorStatus::Banned) if in_force => {
            status = CommentStatus::Rejected;
            reason = Some(crate::domain::ReasonCode::Other.as_str());
            note = NOTE_AUTHOR_BANNED.to_owned();
        }
        Ok(AuthorStatus::Premod) if in_force && status != CommentStatus::Rejected => {
            status = CommentStatus::Pending;
            note = NOTE_AUTHOR_PREMOD.to_owned();
        }
        _ => {}
    }
    let verdict_json = scored.and_then(|s| s.json.as_deref());
    let verdict_decision = scored.map(|s| s.verdict.decision.as_str());
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
        status: status.as_str(),
        revision: 1,
        verdict: verdict_json,
        verdict_decision,
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
    let id = record.id;
    let new_decision = NewDecision {
        comment_id: id,
        site_id: ctx.site_id,
        actor: "policy",
        actor_key_id: None,
        source: DecisionSource::Automated.as_str(),
        from_status: None,
        to_status: status.as_str(),
        reason,
        note: Some(&note),
        created_at: t,
        verdict: verdict_json,
        action: None,
        note_to_author: None,
    };
    let decision_id: i64 = super::on_backend!(conn, |c| diesel::insert_into(decisions::table)
        .values(&new_decision)
        .returning(decisions::id)
        .get_result(c))?;
    super::outbox::emit_status_change(
        conn,
        ctx.site_id,
        id,
        None,
        status,
        super::outbox::decision_ref(decision_id, DecisionSource::Automated, None, reason),
    )?;
    if let Some(scored) = scored {
        for r in &scored.reasons {
            super::on_backend!(conn, |c| diesel::insert_into(
                super::schema::comment_reasons::table
            )
            .values((
                super::schema::comment_reasons::comment_id.eq(id),
                super::schema::comment_reasons::reason.eq(r),
            ))
            .execute(c))?;
        }
    }
    if status == CommentStatus::Rejected {
        let slug: String = super::schema::sites::table
            .find(ctx.site_id)
            .select(super::schema::sites::slug)
            .first(conn)?;
        super::reports::record_statement(
            conn,
            &slug,
            &record,
            Some(decision_id),
            None,
            super::reports::StatementParts {
                restriction: crate::domain::dsa::Restriction::Removed,
                reason: reason
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(crate::domain::ReasonCode::Other),
                note_to_author: Some(&note),
                automated_detection: true,
                automated_decision: true,
                notice: false,
            },
        )?;
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

fn find_or_create_thread(
    conn: &mut DbConnection,
    site_id: i64,
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
            status: ThreadStatus::Open.as_str(),
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
            status: AuthorStatus::Active.as_str(),
            created_at: t,
        })
        .returning(authors::all_columns)
        .get_result::<AuthorRecord>(conn)?)
}

/// The author's comments created since `since` (the per-author rate).
fn recent_comments(
    conn: &mut DbConnection,
    author_id: i64,
    since: chrono::NaiveDateTime,
) -> Result<u32, diesel::result::Error> {
    let n: i64 = super::on_backend!(conn, |c| comments::table
        .filter(comments::author_id.eq(author_id))
        .filter(comments::created_at.ge(since))
        .count()
        .get_result(c))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

pub fn by_external_id(
    conn: &mut DbConnection,
    site_id: i64,
    external_id: &str,
) -> Result<Option<i64>, diesel::result::Error> {
    super::on_backend!(conn, |c| comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(comments::external_id.eq(external_id))
        .select(comments::id)
        .first(c)
        .optional())
}

/// One comment with its thread, author and parent ids.
pub fn view(conn: &mut DbConnection, id: i64) -> Result<Option<CommentView>, StoreError> {
    let row = comments::table
        .inner_join(threads::table)
        .inner_join(authors::table)
        .filter(comments::id.eq(id))
        .select((
            CommentRecord::as_select(),
            threads::external_id,
            authors::external_id,
            authors::display_name,
        ))
        .first::<(CommentRecord, String, String, Option<String>)>(conn)
        .optional()?;
    let Some((comment, thread_external_id, author_external_id, author_name)) = row else {
        return Ok(None);
    };
    let parent_external_id = match comment.parent_id {
        None => None,
        Some(pid) => comments::table
            .find(pid)
            .select(comments::external_id)
            .first(conn)
            .optional()?,
    };
    Ok(Some(CommentView {
        comment,
        thread_external_id,
        author_external_id,
        author_name,
        parent_external_id,
    }))
}

/// A page of a thread's visible comments, oldest first, after the comment id `after`.
/// Returns `None` when the site has no such thread.
pub fn visible_in_thread(
    conn: &mut DbConnection,
    site_id: i64,
    thread_external_id: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Option<Vec<CommentView>>, StoreError> {
    let thread: Option<i64> = threads::table
        .filter(threads::site_id.eq(site_id))
        .filter(threads::external_id.eq(thread_external_id))
        .select(threads::id)
        .first(conn)
        .optional()?;
    let Some(thread_id) = thread else {
        return Ok(None);
    };
    let visible: Vec<&str> = CommentStatus::ALL
        .iter()
        .filter(|s| s.is_visible())
        .map(|s| s.as_str())
        .collect();
    let rows = comments::table
        .inner_join(authors::table)
        .filter(comments::thread_id.eq(thread_id))
        .filter(comments::status.eq_any(visible))
        .filter(comments::id.gt(after.unwrap_or(0)))
        .order(comments::id.asc())
        .limit(limit)
        .select((
            CommentRecord::as_select(),
            authors::external_id,
            authors::display_name,
        ))
        .load::<(CommentRecord, String, Option<String>)>(conn)?;
    let parent_ids: Vec<i64> = rows.iter().filter_map(|(c, _, _)| c.parent_id).collect();
    let parents: HashMap<i64, String> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        comments::table
            .filter(comments::id.eq_any(parent_ids))
            .select((comments::id, comments::external_id))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(Some(
        rows.into_iter()
            .map(|(comment, author_external_id, author_name)| CommentView {
                parent_external_id: comment.parent_id.and_then(|p| parents.get(&p).cloned()),
                thread_external_id: thread_external_id.to_owned(),
                author_external_id,
                author_name,
                comment,
            })
            .collect(),
    ))
}

/// The decision log of one comment, oldest first.
pub fn decisions_of(
    conn: &mut DbConnection,
    comment_id: i64,
) -> Result<Vec<super::records::DecisionRecord>, StoreError> {
    use super::records::DecisionRecord;
    Ok(decisions::table
        .filter(decisions::comment_id.eq(comment_id))
        .order(decisions::id.asc())
        .select(DecisionRecord::as_select())
        .load(conn)?)
}

/// What an edit needs besides the new text: the scored text, and the site's mode.
#[derive(Debug, Clone)]
pub struct EditContext {
    pub site_id: i64,
    pub comment_id: i64,
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
    NotFound(i64),
    #[error("comment {0} is deleted and can no longer be edited")]
    Deleted(i64),
    #[error("comment {0} holds a later edit (edited at {1}): this one is older")]
    Stale(i64, chrono::NaiveDateTime),
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
    use super::records::NewRevision;
    use super::schema::{comment_reasons, comment_revisions};
    macro_rules! query {
        () => {
            comments::table
                .filter(comments::id.eq(ctx.comment_id))
                .filter(comments::site_id.eq(ctx.site_id))
                .select(CommentRecord::as_select())
        };
    }
    // Locked on PostgreSQL: two edits (or an edit and a decision) of one comment one after the
    // other. SQLite writes one transaction at a time.
    let c: Option<CommentRecord> = match conn {
        DbConnection::Sqlite(c) => query!().first(c).optional(),
        DbConnection::Pg(c) => query!().for_no_key_update().first(c).optional(),
    }?;
    let c = c.ok_or(EditError::NotFound(ctx.comment_id))?;
    let from: CommentStatus = c
        .status
        .parse()
        .map_err(|_| StoreError::Other(anyhow::anyhow!("unknown status `{}`", c.status)))?;
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
    diesel::insert_into(comment_revisions::table)
        .values(NewRevision {
            comment_id: c.id,
            site_id: c.site_id,
            revision: c.revision,
            body: &c.body,
            lang: c.lang.as_deref(),
            verdict: c.verdict.as_deref(),
            verdict_decision: c.verdict_decision.as_deref(),
            status: &c.status,
            edited_at: c.edited_at,
            received_at: c.body_received_at.unwrap_or(c.created_at),
            replaced_at: t,
        })
        .execute(conn)?;

    // Would the new text be held? The verdict, and what holds every comment of this thread or
    // author.
    let thread_mode: Option<String> = threads::table
        .find(c.thread_id)
        .select(threads::moderation_mode)
        .first(conn)?;
    let mode = thread_mode
        .as_deref()
        .and_then(|m| m.parse().ok())
        .unwrap_or(ctx.site_mode);
    let (author_status, until): (String, Option<chrono::NaiveDateTime>) = authors::table
        .find(c.author_id)
        .select((authors::status, authors::status_until))
        .first(conn)?;
    let author_held = until.is_none_or(|u| u > t)
        && matches!(
            author_status.parse::<AuthorStatus>(),
            Ok(AuthorStatus::Premod | AuthorStatus::Banned)
        );
    let verdict = &ctx.scored.verdict;
    let held_by = if verdict.decision != crate::scoring::Decision::Allow {
        Some(format!(
            "verdict {}: {}",
            verdict.decision.as_str(),
            verdict.reasons.join("; ")
        ))
    } else if mode == ModerationMode::Pre {
        Some("moderation mode `pre`".to_owned())
    } else if author_held {
        Some(format!("author is {author_status}"))
    } else {
        None
    };
    let to = match (from.is_visible(), &held_by) {
        (true, Some(_)) => CommentStatus::Pending,
        _ => from,
    };
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
            comments::status.eq(to.as_str()),
            comments::revision.eq(c.revision + 1),
            comments::updated_at.eq(t),
        ))
        .execute(conn)?;
    // The reasons a comment is queued for are those of its current text (an escalation stays).
    diesel::delete(
        comment_reasons::table
            .filter(comment_reasons::comment_id.eq(c.id))
            .filter(comment_reasons::reason.ne("escalated")),
    )
    .execute(conn)?;
    let mut reasons = ctx.scored.reasons.clone();
    if to != from {
        reasons.push("edited".to_owned());
    }
    for r in &reasons {
        diesel::insert_into(comment_reasons::table)
            .values((
                comment_reasons::comment_id.eq(c.id),
                comment_reasons::reason.eq(r),
            ))
            .execute(conn)?;
    }
    if to != from {
        let note = format!(
            "text edited (revision {} replaced); held again: {}",
            c.revision,
            held_by.as_deref().unwrap_or_default()
        );
        let decision_id: i64 = diesel::insert_into(decisions::table)
            .values(NewDecision {
                comment_id: c.id,
                site_id: c.site_id,
                actor: "policy",
                actor_key_id: None,
                source: DecisionSource::Automated.as_str(),
                from_status: Some(from.as_str()),
                to_status: to.as_str(),
                reason: None,
                note: Some(&note),
                created_at: t,
                verdict: ctx.scored.json.as_deref(),
                action: None,
                note_to_author: None,
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
    }
    Ok(true)
}

/// The texts a comment had before its edits, newest first.
pub fn revisions_of(
    conn: &mut DbConnection,
    comment_id: i64,
) -> Result<Vec<super::records::RevisionRecord>, StoreError> {
    use super::records::RevisionRecord;
    use super::schema::comment_revisions;
    Ok(comment_revisions::table
        .filter(comment_revisions::comment_id.eq(comment_id))
        .order(comment_revisions::revision.desc())
        .select(RevisionRecord::as_select())
        .load(conn)?)
}
