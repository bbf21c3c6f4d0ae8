//! Backtests: "what would this rule set, these thresholds or this model have done to last
//! month's comments?" A job re-scores the site's comments of a period with the change applied
//! and compares the outcome with what really happened at intake, and with what moderators
//! decided. Called by `POST /v1/backtests` (in a thread of its own) and `vigie backtest`.
//!
//! A backtest reads comments in batches of [`BATCH_COMMENTS`], each on a pooled connection taken
//! for that batch only (never the SQLite writer, never a transaction held across batches), and
//! never writes to a comment: it writes only its own job row.
//!
//! What is approximated (the README says it too): a comment's author history is rebuilt from
//! the author's comments as they are now (an approval given after the comment counts, a
//! rejection counts from the comment's creation rather than from the decision); a comment's
//! thread moderation mode and author standing are those recorded by its intake decision (a
//! comment placed by pre-moderation or by its author's status keeps that place); an edited
//! comment is scored on its current text. What the change does not set is today's setting of
//! the site (rules, thresholds, model).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::intake::ValidationError;
use crate::domain::{AuthorId, BacktestId, CommentId, CommentStatus, SiteId, UnscoredLanguage};
use crate::judge::Judge;
use crate::scoring::{AuthorHistory, Decision, RuleSet, ScoreInput, Scorer, Thresholds, Verdict};
use crate::store::backtests::{self as store_bt, AuthorComment, BacktestComment};
use crate::store::{DbConnection, DbPool, StoreError};

mod report;

use report::Rescored;
pub use report::{Agreement, BeforeAfter, Counts, Difference, Example, Examples, Outcome, Report};

/// Comments read and scored per batch (cancellation is checked between batches).
pub const BATCH_COMMENTS: i64 = 300;
/// The period when none is given.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// The longest period.
pub const MAX_PERIOD_DAYS: i64 = 365;
/// Examples kept of each kind of difference.
pub const MAX_EXAMPLES: usize = 50;
/// A queued or running job not touched for this long was cut by a crash or a restart.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(1);
/// The window of an author's recent rejections (as at intake).
const RECENT_REJECTIONS_DAYS: i64 = 30;
/// Longest model version accepted.
const MAX_VERSION_CHARS: usize = 100;

/// What a backtest changes, and over which period; stored with the job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Params {
    /// A rule set (TOML) instead of the site's.
    pub rules: Option<String>,
    /// Thresholds instead of the site's.
    pub thresholds: Option<Thresholds>,
    /// A model version instead of the one scoring now.
    pub model: Option<String>,
    /// Comments created from this time (inclusive)…
    pub from: NaiveDateTime,
    /// …until this time (exclusive).
    pub until: NaiveDateTime,
}

/// The period of a backtest from optional `from`/`to` bounds (as `routes::datasets::period`
/// reads them): the last [`DEFAULT_PERIOD_DAYS`] days by default, at most [`MAX_PERIOD_DAYS`].
pub fn period(
    from: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(NaiveDateTime, NaiveDateTime), ValidationError> {
    let default = chrono::Duration::days(DEFAULT_PERIOD_DAYS);
    let (from, until) = match (from, until) {
        (Some(f), Some(u)) => (f, u),
        (Some(f), None) => (f, now.max(f + chrono::Duration::microseconds(1))),
        (None, Some(u)) => (u - default, u),
        (None, None) => (now - default, now),
    };
    if from >= until {
        return Err(ValidationError::new("to", "must not be before `from`"));
    }
    if until - from > chrono::Duration::days(MAX_PERIOD_DAYS) {
        return Err(ValidationError::new(
            "to",
            format!("the period is at most {MAX_PERIOD_DAYS} days"),
        ));
    }
    Ok((from, until))
}

/// The model a backtest scores with, or `None` for the site's active model: the shipped model
/// when `version` is its version, a version registered for the site (`POST /v1/models`), else
/// the model directory `<model_dir>/<version>` or `<model_dir>/../<version>`. The one place a
/// version is looked up; an unknown or broken version is a 422 on `model`.
pub fn resolve_backtest_model(
    judge: &Judge,
    conn: &mut DbConnection,
    site_id: SiteId,
    model_dir: &Path,
    version: Option<&str>,
) -> Result<Result<Arc<Scorer>, ValidationError>, StoreError> {
    let Some(version) = version else {
        return Ok(Ok(judge.models_for(conn, site_id)?.active));
    };
    let invalid = |why: &str| ValidationError::new("model", format!("`{version}`: {why}"));
    if version == judge.model_version() {
        return Ok(Ok(Arc::new(judge.scorer().clone())));
    }
    let safe = !version.is_empty()
        && version.chars().count() <= MAX_VERSION_CHARS
        && !version.starts_with('.')
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !safe {
        return Ok(Err(invalid(
            "a model version is letters, digits, `-`, `_` and `.`",
        )));
    }
    if let Some(registered) = judge.registered_model(conn, site_id, version)? {
        return Ok(Ok(registered));
    }
    let candidates = [
        Some(model_dir.join(version)),
        model_dir.parent().map(|p| p.join(version)),
    ];
    let Some(dir) = candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("model.json").is_file())
    else {
        return Ok(Err(invalid("no such model version")));
    };
    Ok(Scorer::load(&dir)
        .map(Arc::new)
        .map_err(|e| invalid(&format!("the model does not load: {e}"))))
}

/// Compiles a rule set given to a backtest; a 422 on `rules` with its line otherwise.
pub fn compile_rules(source: &str) -> Result<Arc<RuleSet>, ValidationError> {
    RuleSet::from_toml(source, "rules")
        .map(Arc::new)
        .map_err(|e| ValidationError::new("rules", format!("line {}: {}", e.line, e.reason)))
}

/// Everything a run scores with: the change applied over the site's settings of today.
#[derive(Clone)]
pub struct Setup {
    pub scorer: Arc<Scorer>,
    pub rules: Arc<RuleSet>,
    pub thresholds: Thresholds,
    pub unscored: UnscoredLanguage,
    /// The window of a repeated post (`repeat_window_secs`).
    pub repeat_window: chrono::Duration,
    pub site_id: SiteId,
    pub from: NaiveDateTime,
    pub until: NaiveDateTime,
}

/// What a backtest tries; what it leaves out is the site's setting of today.
pub struct Change {
    pub rules: Option<Arc<RuleSet>>,
    pub thresholds: Option<Thresholds>,
    pub scorer: Arc<Scorer>,
}

impl Setup {
    /// The change applied over `site`'s rules, thresholds and unscored-language policy.
    pub fn new(
        conn: &mut DbConnection,
        judge: &Judge,
        site: &crate::store::records::SiteRecord,
        change: Change,
        repeat_window: chrono::Duration,
        (from, until): (NaiveDateTime, NaiveDateTime),
    ) -> Result<Setup, StoreError> {
        let rules = match change.rules {
            Some(r) => r,
            None => judge.rules_for(conn, site.id)?.1,
        };
        let thresholds = change
            .thresholds
            .unwrap_or_else(|| judge.thresholds_from(site.thresholds.as_deref(), &change.scorer));
        Ok(Setup {
            scorer: change.scorer,
            rules,
            thresholds,
            unscored: site.unscored_language,
            repeat_window,
            site_id: site.id,
            from,
            until,
        })
    }
}

/// A comment's author history as of its creation, from the author's comments around it.
fn history_of(
    c: &BacktestComment,
    around: &[AuthorComment],
    approved_before: u32,
    repeat_window: chrono::Duration,
) -> AuthorHistory {
    let earlier = |x: &&AuthorComment| (x.created_at, x.id) < (c.created_at, c.id);
    let recent = c.created_at - chrono::Duration::days(RECENT_REJECTIONS_DAYS);
    let repeat = c.created_at - repeat_window;
    let mut h = AuthorHistory {
        approved_count: approved_before,
        ..AuthorHistory::default()
    };
    for x in around.iter().filter(earlier) {
        if x.status == CommentStatus::Approved {
            h.approved_count = h.approved_count.saturating_add(1);
        }
        if x.status == CommentStatus::Rejected && x.created_at >= recent {
            h.recent_rejections += 1;
        }
        if x.created_at >= repeat && x.body_hash.is_some() && x.body_hash == c.body_hash {
            h.same_text_recently = true;
        }
    }
    h
}

/// The comments of a batch's authors around the batch, read once for all its comments.
struct AuthorsAround {
    by_author: HashMap<AuthorId, Vec<AuthorComment>>,
    /// Each author's approved comments before the window read.
    approved_before: HashMap<AuthorId, u32>,
}

impl AuthorsAround {
    /// Reads the batch's authors' comments from the longest look-back an intake check uses
    /// (recent rejections, repeats, the author rate rule) before its first comment.
    fn read(
        conn: &mut DbConnection,
        setup: &Setup,
        batch: &[BacktestComment],
    ) -> Result<AuthorsAround, StoreError> {
        let rate_window = setup
            .rules
            .author_rate()
            .map_or(0, |r| i64::from(r.window_secs));
        let lookback = [
            chrono::Duration::days(RECENT_REJECTIONS_DAYS),
            setup.repeat_window,
            chrono::Duration::seconds(rate_window),
        ]
        .into_iter()
        .max()
        .unwrap_or_default();
        let mut authors: Vec<AuthorId> = batch.iter().map(|c| c.author_id).collect();
        authors.sort_unstable();
        authors.dedup();
        let first = batch.iter().map(|c| c.created_at).min().unwrap_or_default();
        let last = batch.iter().map(|c| c.created_at).max().unwrap_or_default();
        let (around, approved_before) =
            store_bt::author_comments(conn, &authors, first - lookback, last)?;
        let mut by_author: HashMap<AuthorId, Vec<AuthorComment>> = HashMap::new();
        for x in around {
            by_author.entry(x.author_id).or_default().push(x);
        }
        Ok(AuthorsAround {
            by_author,
            approved_before,
        })
    }

    fn of(&self, author_id: AuthorId) -> &[AuthorComment] {
        self.by_author
            .get(&author_id)
            .map_or(&[][..], Vec::as_slice)
    }
}

/// The verdict the change gives a comment, with the author rate rule applied as at intake.
fn rescore(setup: &Setup, c: &BacktestComment, authors: &AuthorsAround) -> Verdict {
    let around = authors.of(c.author_id);
    let history = history_of(
        c,
        around,
        authors
            .approved_before
            .get(&c.author_id)
            .copied()
            .unwrap_or(0),
        setup.repeat_window,
    );
    let unscored = match setup.unscored {
        UnscoredLanguage::Review => Decision::Review,
        UnscoredLanguage::Allow => Decision::Allow,
        UnscoredLanguage::Reject => Decision::Reject,
    };
    let mut verdict = setup.scorer.score_with(
        &ScoreInput {
            body: &c.body,
            lang: c.lang.as_deref(),
            author: history,
        },
        &setup.rules,
        &setup.thresholds,
        unscored,
    );
    if let Some(rate) = setup.rules.author_rate() {
        let since = c.created_at - chrono::Duration::seconds(i64::from(rate.window_secs));
        let recent = around
            .iter()
            .filter(|x| x.created_at >= since && (x.created_at, x.id) < (c.created_at, c.id))
            .count();
        if let Some(hit) = rate.check(u32::try_from(recent).unwrap_or(u32::MAX)) {
            verdict.add_rule_hit(hit, rate.reason());
        }
    }
    verdict
}

/// Scores one batch and adds it to the report.
fn score_batch(
    conn: &mut DbConnection,
    setup: &Setup,
    batch: &[BacktestComment],
    report: &mut Report,
) -> Result<(), StoreError> {
    let ids: Vec<CommentId> = batch.iter().map(|c| c.id).collect();
    let intake = store_bt::intake_decisions(conn, &ids)?;
    let labels = store_bt::human_labels(conn, &ids)?;
    let authors = AuthorsAround::read(conn, setup, batch)?;
    for c in batch {
        let verdict = rescore(setup, c, &authors);
        let stored: Option<Verdict> = c
            .verdict
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok());
        // What happened at intake, and whether the verdict decided it (not pre-moderation
        // nor the author's standing, which a change of scoring would not move).
        let (before, by_verdict) = match intake.get(&c.id) {
            Some((status, note)) => (
                Outcome::of_status(*status),
                note.as_deref().is_some_and(|n| n.starts_with("verdict ")),
            ),
            None => (Outcome::of_status(c.status), stored.is_some()),
        };
        let after = if by_verdict {
            Outcome::of_decision(verdict.decision)
        } else {
            before
        };
        report.record(&Rescored {
            comment_id: c.id,
            before,
            after,
            verdict: &verdict,
            stored: stored.as_ref(),
            label: labels.get(&c.id),
        });
    }
    Ok(())
}

/// Why a run ended without a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs a backtest: reads the period's comments batch by batch (a pooled connection per batch),
/// re-scores them and compares. `on_batch(done)` is called after each batch; it returns false
/// to stop (cancellation).
pub fn run(
    pool: &DbPool,
    setup: &Setup,
    batch_size: i64,
    mut on_batch: impl FnMut(&mut DbConnection, u64) -> Result<bool, StoreError>,
) -> Result<Report, RunError> {
    let mut report = Report {
        model_version: setup.scorer.model_version().to_owned(),
        rules_version: setup.rules.name().to_owned(),
        thresholds: Some(setup.thresholds),
        ..Report::default()
    };
    let range = {
        let mut conn = pool.get().map_err(StoreError::from)?;
        store_bt::id_range(&mut conn, setup.site_id, setup.from, setup.until)?
    };
    let Some((first, last)) = range else {
        report.finish();
        return Ok(report);
    };
    let mut after = CommentId(first.0 - 1);
    loop {
        let mut conn = pool.get().map_err(StoreError::from)?;
        let batch = store_bt::comment_page(
            &mut conn,
            setup.site_id,
            setup.from,
            setup.until,
            (after, last),
            batch_size.max(1),
        )?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        score_batch(&mut conn, setup, &batch, &mut report)?;
        if !on_batch(&mut conn, report.comments)? {
            return Err(RunError::Cancelled);
        }
        if (batch.len() as i64) < batch_size {
            break;
        }
    }
    report.finish();
    Ok(report)
}

/// Runs job `id` to its end and records the outcome in its row (done, failed; a cancelled job
/// stays cancelled). A panic while scoring fails the job instead of leaving it running.
pub fn execute(pool: &DbPool, id: BacktestId, setup: &Setup) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut conn = pool.get().map_err(StoreError::from)?;
        let total = store_bt::count_in_period(&mut conn, setup.site_id, setup.from, setup.until)?;
        if !store_bt::start(&mut conn, id, total)? {
            return Err(RunError::Cancelled);
        }
        drop(conn);
        run(pool, setup, BATCH_COMMENTS, |conn, done| {
            store_bt::progress(conn, id, i64::try_from(done).unwrap_or(i64::MAX))
        })
    }));
    let written = pool
        .get()
        .map_err(StoreError::from)
        .and_then(|mut conn| match outcome {
            Ok(Ok(report)) => {
                let json = serde_json::to_string(&report).unwrap_or_default();
                tracing::info!(
                    backtest = id.0,
                    comments = report.comments,
                    changed = report.changed,
                    "backtest done"
                );
                store_bt::finish(&mut conn, id, Ok(&json))
            }
            Ok(Err(RunError::Cancelled)) => {
                tracing::info!(backtest = id.0, "backtest cancelled");
                Ok(())
            }
            Ok(Err(RunError::Store(e))) => {
                tracing::warn!(backtest = id.0, error = %e, "backtest failed");
                store_bt::finish(
                    &mut conn,
                    id,
                    Err("the database failed while reading comments"),
                )
            }
            Err(_) => {
                tracing::error!(backtest = id.0, "backtest panicked");
                store_bt::finish(&mut conn, id, Err("internal error while scoring"))
            }
        });
    if let Err(e) = written {
        // The row stays active until it goes stale and is marked failed.
        tracing::error!(backtest = id.0, error = %e, "cannot record the end of a backtest");
    }
}

/// Starts job `id` on a thread of its own (it is long, blocking work that must not hold an
/// HTTP worker nor the background loop).
pub fn spawn(pool: DbPool, id: BacktestId, setup: Setup) -> std::io::Result<()> {
    let span = tracing::Span::current();
    std::thread::Builder::new()
        .name("vigie-backtest".into())
        .spawn(move || {
            let _entered = span.enter();
            execute(&pool, id, &setup);
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn the_period_defaults_to_thirty_days_and_stops_at_a_year() {
        let now = at("2026-12-04 03:00:00");
        assert_eq!(
            period(None, None, now).unwrap(),
            (at("2026-11-04 03:00:00"), now)
        );
        let (from, until) = period(None, Some(at("2026-06-01 00:00:00")), now).unwrap();
        assert_eq!(
            (from, until),
            (at("2026-05-02 00:00:00"), at("2026-06-01 00:00:00"))
        );
        assert_eq!(
            period(Some(at("2025-01-01 00:00:00")), None, now)
                .unwrap_err()
                .field,
            "to"
        );
        assert!(period(Some(at("2025-12-04 03:00:00")), None, now).is_ok());
    }

    fn comment(id: i64, author: i64, minutes: i64, hash: &str) -> BacktestComment {
        BacktestComment {
            id: CommentId(id),
            author_id: AuthorId(author),
            body: String::new(),
            lang: None,
            status: CommentStatus::Published,
            body_hash: Some(hash.into()),
            created_at: at("2026-12-01 00:00:00") + chrono::Duration::minutes(minutes),
            verdict: None,
        }
    }

    fn earlier(id: i64, minutes: i64, status: CommentStatus, hash: &str) -> AuthorComment {
        AuthorComment {
            id: CommentId(id),
            author_id: AuthorId(1),
            status,
            body_hash: Some(hash.into()),
            created_at: at("2026-12-01 00:00:00") + chrono::Duration::minutes(minutes),
        }
    }

    #[test]
    fn author_history_counts_only_what_came_before_the_comment() {
        let around = [
            earlier(1, -60 * 24 * 40, CommentStatus::Rejected, "a"),
            earlier(2, -60, CommentStatus::Approved, "b"),
            earlier(3, -30, CommentStatus::Rejected, "c"),
            earlier(4, -10, CommentStatus::Published, "x"),
            earlier(5, 0, CommentStatus::Approved, "x"),
            earlier(6, 10, CommentStatus::Approved, "x"),
        ];
        let h = history_of(
            &comment(5, 1, 0, "x"),
            &around,
            2,
            chrono::Duration::hours(24),
        );
        assert_eq!(
            h,
            AuthorHistory {
                approved_count: 3,
                recent_rejections: 1,
                same_text_recently: true,
            }
        );
        let first = history_of(
            &comment(1, 1, -60 * 24 * 40, "a"),
            &around,
            0,
            chrono::Duration::hours(24),
        );
        assert_eq!(first, AuthorHistory::default());
    }

    #[test]
    fn agreement_leaves_precision_out_when_nothing_was_predicted() {
        let mut a = Agreement::default();
        a.add(false, true);
        a.add(false, false);
        a.finish();
        assert_eq!(a.precision, None);
        assert_eq!(a.recall, Some(0.0));
        a.add(true, true);
        a.add(true, false);
        a.finish();
        assert_eq!(a.precision, Some(0.5));
        assert_eq!(a.recall, Some(0.5));
    }
}
