//! Reader reports ("Signaler un abus"): the snapshot of the comment, the reporter's weight,
//! rate limits, hiding past a threshold, bursts (brigading), and their resolution by a decision.

mod assess;
mod submit;

pub use submit::submit;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::records::ReportRecord;
use super::schema::{appeals, comments, reporters, reports};
use super::{DbConnection, StoreError};
use crate::domain::dsa::ReportSource;
use crate::domain::report_weight::{BurstRules, ReporterRecord};
use crate::domain::{
    AppealStatus, CommentId, CommentStatus, DecisionId, ReasonCode, ReportId, ReportStatus,
    ReporterId, SiteId,
};

/// Limits on reports (from the settings).
#[derive(Debug, Clone)]
pub struct ReportLimits {
    pub per_reporter: i64,
    pub per_ip: i64,
    /// Reports per site with neither IP nor an established reporter.
    pub per_site_without_ip: i64,
    pub window_secs: i64,
    /// When new reporters make a burst (escalated instead of hidden).
    pub burst: BurstRules,
    /// Whether e-mail alerts are written to the mail outbox (SMTP is configured).
    pub mail_alerts: bool,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits {
            per_reporter: 10,
            per_ip: 30,
            per_site_without_ip: 20,
            window_secs: 600,
            burst: BurstRules::default(),
            mail_alerts: false,
        }
    }
}

/// Why a burst put a comment in front of the moderators (a `comment_reasons` row).
pub const BURST_REASON: &str = "report_burst";

/// The reported queue's priority of a notice's source: authorities first, then trusted
/// flaggers (DSA Art. 22), then readers.
pub fn source_priority(source: ReportSource) -> i32 {
    match source {
        ReportSource::Authority => 2,
        ReportSource::TrustedFlagger => 1,
        ReportSource::Reader => 0,
    }
}

/// A report as the site forwards it, validated.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub category: ReasonCode,
    pub source: ReportSource,
    pub text: Option<String>,
    /// Keyed hash identifying the reporter (site id, else email, else IP).
    pub identity_hash: String,
    pub reporter_name: Option<String>,
    pub reporter_email_hash: Option<String>,
    pub ip_hash: Option<String>,
    /// Keyed hash of the reader's network (or of the site's IP hash).
    pub network_hash: Option<String>,
    /// The site sent the reader's IP or an IP hash.
    pub has_ip: bool,
    pub legal_ground: Option<String>,
    pub explanation: Option<String>,
    pub good_faith: bool,
}

#[derive(Debug)]
pub enum ReportOutcome {
    Created {
        report: ReportRecord,
        hidden: bool,
        escalated: bool,
    },
    /// The same reporter already reported this comment.
    Existing(ReportRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("comment not found")]
    NotFound,
    #[error("too many reports; retry in {retry_after} s")]
    RateLimited { retry_after: i64 },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Human tracking reference of a report.
pub fn reference(year: i32, id: ReportId) -> String {
    format!("VIG-{year}-{:06}", id.0)
}

/// Resolves the open reports of a comment after a decision: upheld when it was rejected,
/// dismissed when it was approved; reporters' records follow.
pub fn resolve_reports(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    to: CommentStatus,
    decision_id: DecisionId,
    t: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    let outcome = match to {
        CommentStatus::Rejected => ReportStatus::Upheld,
        CommentStatus::Approved => ReportStatus::Dismissed,
        _ => return Ok(0),
    };
    let resolved: Vec<(ReporterId, String, String)> = reports::table
        .filter(reports::comment_id.eq(comment_id))
        .filter(reports::status.eq(ReportStatus::Open))
        .order(reports::id)
        .select((reports::reporter_id, reports::reference, reports::category))
        .load(conn)?;
    if resolved.is_empty() {
        return Ok(0);
    }
    let open: Vec<ReporterId> = resolved.iter().map(|r| r.0).collect();
    for (_, reference, category) in &resolved {
        super::outbox::emit(
            conn,
            site_id,
            crate::domain::events::EventType::ReportResolved,
            &super::outbox::comment_subject(comment_id),
            |conn| {
                Ok(serde_json::json!({
                    "report": { "reference": reference, "category": category, "outcome": outcome },
                    "comment": super::outbox::comment_ref(conn, comment_id)?,
                    "decision": { "id": decision_id },
                }))
            },
        )?;
    }
    diesel::update(
        reports::table
            .filter(reports::comment_id.eq(comment_id))
            .filter(reports::status.eq(ReportStatus::Open)),
    )
    .set((
        reports::status.eq(outcome),
        reports::outcome_at.eq(Some(t)),
        reports::decision_id.eq(Some(decision_id)),
    ))
    .execute(conn)?;
    let target = reporters::table.filter(reporters::id.eq_any(&open));
    if outcome == ReportStatus::Upheld {
        diesel::update(target)
            .set(reporters::upheld.eq(reporters::upheld + 1))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(reporters::dismissed.eq(reporters::dismissed + 1))
            .execute(conn)?;
    }
    diesel::update(comments::table.find(comment_id))
        .set((
            comments::open_reports.eq(0),
            comments::report_weight.eq(0.0),
            comments::report_priority.eq(0),
        ))
        .execute(conn)?;
    Ok(open.len())
}

/// A report for its reporter, and whether the comment it got removed was restored since,
/// on the author's appeal.
pub fn by_reference(
    conn: &mut DbConnection,
    site_id: SiteId,
    reference: &str,
) -> Result<Option<(ReportRecord, bool)>, StoreError> {
    let Some(report) = reports::table
        .filter(reports::site_id.eq(site_id))
        .filter(reports::reference.eq(reference))
        .select(ReportRecord::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let restored = report.status == ReportStatus::Upheld && {
        let status: CommentStatus = comments::table
            .find(report.comment_id)
            .select(comments::status)
            .first(conn)?;
        let reversed: i64 = appeals::table
            .filter(appeals::comment_id.eq(report.comment_id))
            .filter(appeals::report_id.is_null())
            .filter(appeals::status.eq(AppealStatus::Reversed))
            .count()
            .get_result(conn)?;
        reversed > 0 && status == CommentStatus::Approved
    };
    Ok(Some((report, restored)))
}

/// Reports of some comments, oldest first, with each reporter's current weight.
pub fn of_comments(
    conn: &mut DbConnection,
    ids: &[CommentId],
) -> Result<Vec<(ReportRecord, f64)>, StoreError> {
    Ok(reports::table
        .inner_join(reporters::table)
        .filter(reports::comment_id.eq_any(ids))
        .order(reports::id)
        .select((
            ReportRecord::as_select(),
            reporters::upheld,
            reporters::dismissed,
        ))
        .load::<(ReportRecord, i32, i32)>(conn)?
        .into_iter()
        .map(|(r, upheld, dismissed)| (r, ReporterRecord { upheld, dismissed }.weight()))
        .collect())
}

pub(super) fn reference_of(
    conn: &mut DbConnection,
    report_id: ReportId,
) -> Result<String, diesel::result::Error> {
    reports::table
        .find(report_id)
        .select(reports::reference)
        .first(conn)
}
