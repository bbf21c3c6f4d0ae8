//! Backtest jobs (one row each: parameters, status, progress, result) and the reads a backtest
//! makes: the site's comments of a period page by page, with their intake decision, their last
//! human label and their authors' earlier comments. Nothing here writes to a comment.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{backtests, comments, decisions};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{AuthorId, BacktestId, CommentId, CommentStatus, DecisionSource, SiteId};

pub use crate::domain::BacktestStatus;
use BacktestStatus::{Cancelled, Done, Failed, Queued, Running};

/// The statuses of a job that is not over (at most one per site).
const ACTIVE: [BacktestStatus; 2] = [Queued, Running];

/// Jobs listed by `GET /v1/backtests` (the most recent first).
pub const LIST_LIMIT: i64 = 100;

/// The decision actions that are labels (as in [`super::datasets`]).
const LABEL_ACTIONS: [&str; 3] = ["approve", "reject", "restore"];

/// One backtest job.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = backtests)]
pub struct BacktestRecord {
    pub id: BacktestId,
    pub site_id: SiteId,
    pub params: String,
    pub status: BacktestStatus,
    pub progress_done: i64,
    pub progress_total: i64,
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Queues a job for the site, unless one is already queued or running (`None`). Active jobs of
/// the site not touched since `stale_before` (cut by a crash) are marked failed first.
pub fn create(
    conn: &mut DbConnection,
    site_id: SiteId,
    params: &str,
    by: &str,
    stale_before: NaiveDateTime,
) -> Result<Option<BacktestRecord>, StoreError> {
    let created = write_tx(conn, |conn| {
        fail_stale_of(conn, Some(site_id), stale_before)?;
        let active: i64 = backtests::table
            .filter(backtests::site_id.eq(site_id))
            .filter(backtests::status.eq_any(ACTIVE))
            .count()
            .get_result(conn)?;
        if active > 0 {
            return Ok(None);
        }
        let t = now();
        diesel::insert_into(backtests::table)
            .values((
                backtests::site_id.eq(site_id),
                backtests::params.eq(params),
                backtests::status.eq(Queued),
                backtests::created_by.eq(by),
                backtests::created_at.eq(t),
                backtests::updated_at.eq(t),
            ))
            .returning(backtests::all_columns)
            .get_result::<BacktestRecord>(conn)
            .map(Some)
    });
    match created {
        // Another replica queued one between the count and the insert.
        Err(e) if super::is_unique_violation(&e) => Ok(None),
        other => Ok(other?),
    }
}

/// One job of the site.
pub fn get(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: BacktestId,
) -> Result<Option<BacktestRecord>, StoreError> {
    Ok(backtests::table
        .filter(backtests::id.eq(id))
        .filter(backtests::site_id.eq(site_id))
        .select(BacktestRecord::as_select())
        .first(conn)
        .optional()?)
}

/// The site's most recent jobs, newest first.
pub fn list(conn: &mut DbConnection, site_id: SiteId) -> Result<Vec<BacktestRecord>, StoreError> {
    Ok(backtests::table
        .filter(backtests::site_id.eq(site_id))
        .order(backtests::id.desc())
        .limit(LIST_LIMIT)
        .select(BacktestRecord::as_select())
        .load(conn)?)
}

/// Moves a queued job to running with the number of comments to read; false when it is no
/// longer queued (cancelled before it started).
pub fn start(conn: &mut DbConnection, id: BacktestId, total: i64) -> Result<bool, StoreError> {
    let t = now();
    let n = diesel::update(backtests::table)
        .filter(backtests::id.eq(id))
        .filter(backtests::status.eq(Queued))
        .set((
            backtests::status.eq(Running),
            backtests::progress_total.eq(total),
            backtests::started_at.eq(t),
            backtests::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records progress (and that the job is alive); false when the job is no longer running
/// (cancelled): the caller stops.
pub fn progress(conn: &mut DbConnection, id: BacktestId, done: i64) -> Result<bool, StoreError> {
    let n = diesel::update(backtests::table)
        .filter(backtests::id.eq(id))
        .filter(backtests::status.eq(Running))
        .set((
            backtests::progress_done.eq(done),
            backtests::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends a running job with its result (`done`) or its error (`failed`); a job cancelled
/// meanwhile stays cancelled.
pub fn finish(
    conn: &mut DbConnection,
    id: BacktestId,
    outcome: Result<&str, &str>,
) -> Result<(), StoreError> {
    let t = now();
    let (status, result, error) = match outcome {
        Ok(result) => (Done, Some(result), None),
        Err(error) => (Failed, None, Some(error)),
    };
    diesel::update(backtests::table)
        .filter(backtests::id.eq(id))
        .filter(backtests::status.eq_any(ACTIVE))
        .set((
            backtests::status.eq(status),
            backtests::result.eq(result),
            backtests::error.eq(error),
            backtests::finished_at.eq(t),
            backtests::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Cancels a job of the site that is queued or running (the job stops before its next
/// batch); the job as it is afterwards, `None` when the site has no such job.
pub fn cancel(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: BacktestId,
) -> Result<Option<BacktestRecord>, StoreError> {
    let t = now();
    diesel::update(backtests::table)
        .filter(backtests::id.eq(id))
        .filter(backtests::site_id.eq(site_id))
        .filter(backtests::status.eq_any(ACTIVE))
        .set((
            backtests::status.eq(Cancelled),
            backtests::finished_at.eq(t),
            backtests::updated_at.eq(t),
        ))
        .execute(conn)?;
    get(conn, site_id, id)
}

/// Marks failed every queued or running job not touched since `before`: the process running
/// it stopped (a crash, a restart). Called at start-up; the number of jobs.
pub fn fail_stale(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(fail_stale_of(conn, None, before)?)
}

fn fail_stale_of(
    conn: &mut DbConnection,
    site_id: Option<SiteId>,
    before: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    let t = now();
    let mut query = diesel::update(backtests::table)
        .filter(backtests::status.eq_any(ACTIVE))
        .filter(backtests::updated_at.lt(before))
        .into_boxed();
    if let Some(site_id) = site_id {
        query = query.filter(backtests::site_id.eq(site_id));
    }
    query
        .set((
            backtests::status.eq(Failed),
            backtests::error.eq("interrupted: the process running it stopped"),
            backtests::finished_at.eq(t),
            backtests::updated_at.eq(t),
        ))
        .execute(conn)
}

/// A comment as a backtest reads it.
#[derive(Debug, Clone, Queryable)]
pub struct BacktestComment {
    pub id: CommentId,
    pub author_id: AuthorId,
    pub body: String,
    pub lang: Option<String>,
    pub status: CommentStatus,
    pub body_hash: Option<String>,
    pub created_at: NaiveDateTime,
    /// The verdict stored at intake (or at the last edit), JSON.
    pub verdict: Option<String>,
}

/// Comments of the site created in `[from, until)`, not deleted nor purged: how many.
pub fn count_in_period(
    conn: &mut DbConnection,
    site_id: SiteId,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(comments::created_at.ge(from))
        .filter(comments::created_at.lt(until))
        .filter(comments::status.ne(CommentStatus::Deleted))
        .filter(comments::body.ne(""))
        .count()
        .get_result(conn)?)
}

/// The ids of the first and last comment of the site created in `[from, until)` (from the
/// index on site and time), `None` when there is none: the range a backtest walks.
pub fn id_range(
    conn: &mut DbConnection,
    site_id: SiteId,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<(CommentId, CommentId)>, StoreError> {
    let (first, last): (Option<CommentId>, Option<CommentId>) = comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(comments::created_at.ge(from))
        .filter(comments::created_at.lt(until))
        .select((
            diesel::dsl::min(comments::id),
            diesel::dsl::max(comments::id),
        ))
        .first(conn)?;
    Ok(first.zip(last))
}

/// The next `limit` comments of [`count_in_period`] after comment id `after`, up to id `last`,
/// by id.
pub fn comment_page(
    conn: &mut DbConnection,
    site_id: SiteId,
    from: NaiveDateTime,
    until: NaiveDateTime,
    (after, last): (CommentId, CommentId),
    limit: i64,
) -> Result<Vec<BacktestComment>, StoreError> {
    Ok(comments::table
        // `site_id + 0`: no index on the site, so the planners walk the comments by id from
        // the cursor and stop at a page, instead of reading and sorting the site's whole index
        // for every page (which made a backtest quadratic in the site's comments).
        .filter((comments::site_id + 0_i64).eq(site_id))
        .filter(comments::id.gt(after))
        .filter(comments::id.le(last))
        .filter(comments::created_at.ge(from))
        .filter(comments::created_at.lt(until))
        .filter(comments::status.ne(CommentStatus::Deleted))
        .filter(comments::body.ne(""))
        .order(comments::id)
        .limit(limit)
        .select((
            comments::id,
            comments::author_id,
            comments::body,
            comments::lang,
            comments::status,
            comments::body_hash,
            comments::created_at,
            comments::verdict,
        ))
        .load(conn)?)
}

/// The automated decision that placed each comment at intake: its status and note.
pub fn intake_decisions(
    conn: &mut DbConnection,
    comment_ids: &[CommentId],
) -> Result<HashMap<CommentId, (CommentStatus, Option<String>)>, StoreError> {
    let rows: Vec<(CommentId, CommentStatus, Option<String>)> = decisions::table
        .filter(decisions::comment_id.eq_any(comment_ids))
        .filter(decisions::source.eq(DecisionSource::Automated.as_str()))
        .filter(decisions::from_status.is_null())
        .order(decisions::id)
        .select((decisions::comment_id, decisions::to_status, decisions::note))
        .load(conn)?;
    let mut out = HashMap::new();
    for (id, status, note) in rows {
        out.entry(id).or_insert((status, note));
    }
    Ok(out)
}

/// Each comment's last human label (approve, reject or restore): whether it was a rejection,
/// and its reason code.
pub fn human_labels(
    conn: &mut DbConnection,
    comment_ids: &[CommentId],
) -> Result<HashMap<CommentId, (bool, Option<String>)>, StoreError> {
    let rows: Vec<(CommentId, Option<String>, Option<String>)> = decisions::table
        .filter(decisions::comment_id.eq_any(comment_ids))
        .filter(decisions::source.eq(DecisionSource::Human.as_str()))
        .filter(decisions::action.eq_any(LABEL_ACTIONS))
        .order(decisions::id)
        .select((decisions::comment_id, decisions::action, decisions::reason))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, action, reason)| {
            let rejected = action.as_deref() == Some(crate::domain::Action::Reject.as_str());
            (id, (rejected, if rejected { reason } else { None }))
        })
        .collect())
}

/// An earlier comment of an author, as the author-history facts need it.
#[derive(Debug, Clone, Queryable)]
pub struct AuthorComment {
    pub id: CommentId,
    pub author_id: AuthorId,
    pub status: CommentStatus,
    pub body_hash: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The comments of `authors` created in `[from, until]` (every site's comment of an author is
/// the site's: authors belong to one site), and per author how many approved comments they
/// had before `from`.
pub fn author_comments(
    conn: &mut DbConnection,
    authors: &[AuthorId],
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<(Vec<AuthorComment>, HashMap<AuthorId, u32>), StoreError> {
    let recent: Vec<AuthorComment> = comments::table
        .filter(comments::author_id.eq_any(authors))
        .filter(comments::created_at.ge(from))
        .filter(comments::created_at.le(until))
        .select((
            comments::id,
            comments::author_id,
            comments::status,
            comments::body_hash,
            comments::created_at,
        ))
        .load(conn)?;
    let approved: Vec<(AuthorId, i64)> = comments::table
        .filter(comments::author_id.eq_any(authors))
        .filter(comments::status.eq(CommentStatus::Approved))
        .filter(comments::created_at.lt(from))
        .group_by(comments::author_id)
        .select((comments::author_id, diesel::dsl::count_star()))
        .load(conn)?;
    let approved = approved
        .into_iter()
        .map(|(a, n)| (a, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect();
    Ok((recent, approved))
}

/// The site's id, moderation policy for unscored languages and stored thresholds, by slug
/// (the CLI).
pub fn site_by_slug(
    conn: &mut DbConnection,
    slug: &str,
) -> Result<Option<super::records::SiteRecord>, StoreError> {
    use super::schema::sites;
    Ok(sites::table
        .filter(sites::slug.eq(slug))
        .select(super::records::SiteRecord::as_select())
        .first(conn)
        .optional()?)
}
