//! Training data from a site's own moderation: the comments its moderators decided (their last
//! approve, reject or restore) and the Perspective feedback its clients sent, read page by page
//! for `vigie dataset export` and `GET /v1/datasets/decisions`.
//!
//! What is a label: a **human** decision whose action is approve, reject or restore. Escalations
//! (a question, not an answer), erasures and automated decisions (the pipeline's own verdicts)
//! are not. A comment decided several times counts once, with its last such decision. Comments
//! of erased authors, comments whose body was purged or deleted, and comments edited after that
//! decision (the label was given to another text) never appear.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{authors, comments, decisions, perspective_feedback as fb};
use super::{DbConnection, StoreError};
use crate::domain::{
    Action, AuthorStatus, CommentStatus, DecisionId, DecisionSource, FeedbackId, SiteId,
};

/// Rows read per query: a stream holds at most one page in memory.
pub const PAGE_ROWS: i64 = 500;

/// The `source` of rows from moderators' decisions.
pub const SOURCE_DECISION: &str = "moderator_decision";
/// The `source` of rows from `comments:suggestscore`.
pub const SOURCE_FEEDBACK: &str = "perspective_feedback";

/// The decision actions that are labels.
pub const LABEL_ACTIONS: [&str; 3] = ["approve", "reject", "restore"];

diesel::alias!(decisions as later_decisions: LaterDecisions);

/// One row of the dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetRow {
    pub text: String,
    /// 1: rejected (removed); 0: approved or restored (kept).
    pub label: i32,
    /// The rejection's reason code (or the Perspective attribute); empty for approvals.
    pub category: Option<String>,
    pub lang: Option<String>,
    pub decided_at: NaiveDateTime,
    pub source: &'static str,
}

/// The period of the decisions (or last feedback updates) exported: `from` inclusive,
/// `until` exclusive; either may be open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// Where the next page starts: after a decision id, after a feedback id, or nothing left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Decisions { after: DecisionId },
    Feedback { after: FeedbackId },
    Done,
}

impl Cursor {
    pub const START: Cursor = Cursor::Decisions {
        after: DecisionId(0),
    };
}

/// One page of a site's dataset starting at `cursor` (decisions first, then feedback), and the
/// cursor of the next page. A page may be empty only with [`Cursor::Done`] after it.
pub fn page(
    conn: &mut DbConnection,
    site_id: SiteId,
    period: Period,
    cursor: Cursor,
) -> Result<(Vec<DatasetRow>, Cursor), StoreError> {
    page_of(conn, site_id, period, cursor, PAGE_ROWS)
}

/// [`page`] with pages of `limit` rows.
pub fn page_of(
    conn: &mut DbConnection,
    site_id: SiteId,
    period: Period,
    cursor: Cursor,
    limit: i64,
) -> Result<(Vec<DatasetRow>, Cursor), StoreError> {
    match cursor {
        Cursor::Decisions { after } => {
            let rows = decision_page(conn, site_id, period, after, limit)?;
            let next = match rows.last() {
                Some((id, _)) if rows.len() as i64 == limit => Cursor::Decisions { after: *id },
                _ => Cursor::Feedback {
                    after: FeedbackId(0),
                },
            };
            let rows: Vec<DatasetRow> = rows.into_iter().map(|(_, r)| r).collect();
            if rows.is_empty() {
                return page_of(conn, site_id, period, next, limit);
            }
            Ok((rows, next))
        }
        Cursor::Feedback { after } => {
            let rows = feedback_page(conn, site_id, period, after, limit)?;
            let next = match rows.last() {
                Some((id, _)) if rows.len() as i64 == limit => Cursor::Feedback { after: *id },
                _ => Cursor::Done,
            };
            Ok((rows.into_iter().map(|(_, r)| r).collect(), next))
        }
        Cursor::Done => Ok((Vec::new(), Cursor::Done)),
    }
}

type DecisionTuple = (
    DecisionId,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

fn decision_page(
    conn: &mut DbConnection,
    site_id: SiteId,
    period: Period,
    after: DecisionId,
    limit: i64,
) -> Result<Vec<(DecisionId, DatasetRow)>, StoreError> {
    let human = DecisionSource::Human.as_str();
    // A later label of the same comment: this one is not its last.
    let later = later_decisions
        .filter(
            later_decisions
                .field(decisions::comment_id)
                .eq(decisions::comment_id),
        )
        .filter(later_decisions.field(decisions::source).eq(human))
        .filter(
            later_decisions
                .field(decisions::action)
                .eq_any(LABEL_ACTIONS),
        )
        .filter(later_decisions.field(decisions::id).gt(decisions::id))
        .select(later_decisions.field(decisions::id));
    let mut query = decisions::table
        .inner_join(comments::table.on(comments::id.eq(decisions::comment_id)))
        .inner_join(authors::table.on(authors::id.eq(comments::author_id)))
        // `site_id + 0`: no index on the site, so the planners walk the decisions by id from
        // the cursor and stop at a page, instead of reading and sorting the site's whole index
        // for every page (which made an export quadratic in the site's decisions).
        .filter((decisions::site_id + 0_i64).eq(site_id))
        .filter(decisions::id.gt(after))
        .filter(decisions::source.eq(human))
        .filter(decisions::action.eq_any(LABEL_ACTIONS))
        .filter(diesel::dsl::not(diesel::dsl::exists(later)))
        .filter(comments::body.ne(""))
        .filter(comments::status.ne(CommentStatus::Deleted))
        .filter(authors::status.ne(AuthorStatus::Deleted))
        .filter(
            comments::body_received_at
                .is_null()
                .or(comments::body_received_at.le(decisions::created_at.nullable())),
        )
        .select((
            decisions::id,
            comments::body,
            decisions::action,
            decisions::reason,
            comments::verdict,
            comments::lang,
            decisions::created_at,
        ))
        .order(decisions::id)
        .limit(limit)
        .into_boxed();
    if let Some(from) = period.from {
        query = query.filter(decisions::created_at.ge(from));
    }
    if let Some(until) = period.until {
        query = query.filter(decisions::created_at.lt(until));
    }
    let rows: Vec<DecisionTuple> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, text, action, reason, verdict, lang, decided_at)| {
            let rejected = action.as_deref() == Some(Action::Reject.as_str());
            (
                id,
                DatasetRow {
                    text,
                    label: i32::from(rejected),
                    category: if rejected { reason } else { None },
                    lang: verdict_language(verdict.as_deref()).or(lang),
                    decided_at,
                    source: SOURCE_DECISION,
                },
            )
        })
        .collect())
}

/// The language the scoring saw (the stored verdict's `language`), if there is one.
fn verdict_language(verdict: Option<&str>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(verdict?).ok()?;
    v.get("language")?.as_str().map(str::to_owned)
}

fn feedback_page(
    conn: &mut DbConnection,
    site_id: SiteId,
    period: Period,
    after: FeedbackId,
    limit: i64,
) -> Result<Vec<(FeedbackId, DatasetRow)>, StoreError> {
    let mut query = fb::table
        // `site_id + 0`: by id from the cursor, as for decisions.
        .filter((fb::site_id + 0_i64).eq(site_id))
        .filter(fb::id.gt(after))
        .filter(fb::text.ne(""))
        .select((
            fb::id,
            fb::text,
            fb::label,
            fb::attribute,
            fb::lang,
            fb::updated_at,
        ))
        .order(fb::id)
        .limit(limit)
        .into_boxed();
    if let Some(from) = period.from {
        query = query.filter(fb::updated_at.ge(from));
    }
    if let Some(until) = period.until {
        query = query.filter(fb::updated_at.lt(until));
    }
    let rows: Vec<(
        FeedbackId,
        String,
        i32,
        String,
        Option<String>,
        NaiveDateTime,
    )> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, text, label, attribute, lang, updated_at)| {
            (
                id,
                DatasetRow {
                    text,
                    label,
                    category: Some(attribute),
                    lang,
                    decided_at: updated_at,
                    source: SOURCE_FEEDBACK,
                },
            )
        })
        .collect())
}

/// The CSV header, in column order.
pub const CSV_HEADER: [&str; 6] = ["text", "label", "category", "lang", "decided_at", "source"];

/// Writes rows as CSV records (RFC 4180 quoting by the `csv` crate; the text exactly as stored,
/// no formula escaping: this is training data).
pub fn write_csv<W: std::io::Write>(
    out: &mut csv::Writer<W>,
    rows: &[DatasetRow],
) -> csv::Result<()> {
    for r in rows {
        let decided_at = r
            .decided_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let label = r.label.to_string();
        out.write_record([
            r.text.as_str(),
            label.as_str(),
            r.category.as_deref().unwrap_or(""),
            r.lang.as_deref().unwrap_or(""),
            decided_at.as_str(),
            r.source,
        ])?;
    }
    Ok(())
}

/// The id of the site named `slug`, if it exists (the CLI never creates one to export it).
pub fn site_id(conn: &mut DbConnection, slug: &str) -> Result<Option<SiteId>, StoreError> {
    use super::schema::sites;
    Ok(sites::table
        .filter(sites::slug.eq(slug))
        .select(sites::id)
        .first(conn)
        .optional()?)
}

/// Writes a site's whole dataset for `period` to `out` as CSV, header first, page by page;
/// the number of rows written.
pub fn export_csv<W: std::io::Write>(
    conn: &mut DbConnection,
    site_id: SiteId,
    period: Period,
    out: W,
) -> anyhow::Result<u64> {
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    out.write_record(CSV_HEADER)?;
    let (mut cursor, mut n) = (Cursor::START, 0u64);
    while cursor != Cursor::Done {
        let (rows, next) = page(conn, site_id, period, cursor)?;
        write_csv(&mut out, &rows)?;
        n += rows.len() as u64;
        cursor = next;
    }
    out.flush()?;
    Ok(n)
}
