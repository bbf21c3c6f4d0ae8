//! The rules of [`report_weight`] applied to a comment's open reports: the counted weight,
//! bursts (brigading), hiding a published comment, or escalating it to the moderators.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{ReportError, BURST_REASON};
use crate::domain::dsa::Restriction;
use crate::domain::report_weight::{self, BurstRules, Outcome, ReporterRecord};
use crate::domain::{
    AuthorId, CommentId, CommentStatus, DecisionId, DecisionSource, ReasonCode, ReportId,
    ReportStatus, SiteId,
};
use crate::store::records::{CommentRecord, NewDecision, ReportRecord};
use crate::store::schema::{comment_reasons, comments, decisions, reporters, reports, sites};
use crate::store::{is_unique_violation, DbConnection};

/// What [`reassess`] did to a comment.
pub(super) struct Applied {
    pub(super) hidden: bool,
    pub(super) escalated: bool,
    /// Comments whose reports joined the burst.
    pub(super) wave_comments: Vec<CommentId>,
}

/// The rules' inputs for some reports.
fn facts(rows: &[(ReportRecord, i32, i32)]) -> Vec<report_weight::ReportFacts> {
    rows.iter()
        .map(|(r, upheld, dismissed)| report_weight::ReportFacts {
            id: r.id,
            comment_id: r.comment_id,
            reporter_id: r.reporter_id,
            reporter: ReporterRecord {
                upheld: *upheld,
                dismissed: *dismissed,
            },
            network: r.network_hash.clone(),
            illegal: r.category == ReasonCode::Illegal.as_str(),
            brigading: r.brigading,
            created_at: r.created_at,
        })
        .collect()
}

/// A report with its reporter's upheld and dismissed counts.
type ReportRow = (ReportRecord, i32, i32);

/// Runs the rules on a comment's open reports, as they are now, and applies the outcome:
/// the counted weight, the burst flags, hiding a published comment, or escalating it.
pub(super) fn reassess(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    rules: &BurstRules,
    t: NaiveDateTime,
) -> Result<Applied, ReportError> {
    let c = crate::store::comments::site_comment(conn, site_id, comment_id)?
        .ok_or(ReportError::NotFound)?;
    let threshold: f64 = sites::table
        .find(site_id)
        .select(sites::report_hide_threshold)
        .first(conn)?;
    let open_rows = open_reports(conn, comment_id)?;
    let open = facts(&open_rows);
    let since = t - chrono::Duration::seconds(rules.window_secs);
    let author_recent = facts(&author_recent_reports(conn, c.author_id, since)?);
    let assessment = report_weight::assess(&open, &author_recent, rules, threshold, t);
    let wave_comments = mark_wave(conn, &open, &author_recent, &assessment.wave)?;
    diesel::update(comments::table.find(comment_id))
        .set(comments::report_weight.eq(assessment.queue_weight))
        .execute(conn)?;

    let mut applied = Applied {
        hidden: false,
        escalated: false,
        wave_comments,
    };
    match assessment.outcome {
        Outcome::Hide if c.status == CommentStatus::Published => {
            let reason = hiding_reason(&open_rows);
            applied.hidden = hide(conn, site_id, &c, reason, assessment.weight, threshold, t)?;
        }
        Outcome::Escalate
            if !c.escalated
                && matches!(
                    c.status,
                    CommentStatus::Published | CommentStatus::Approved | CommentStatus::Pending
                ) =>
        {
            escalate(conn, comment_id)?;
            applied.escalated = true;
        }
        _ => {}
    }
    Ok(applied)
}

/// The open reports of a comment, oldest first.
fn open_reports(conn: &mut DbConnection, comment_id: CommentId) -> QueryResult<Vec<ReportRow>> {
    reports::table
        .inner_join(reporters::table)
        .filter(reports::comment_id.eq(comment_id))
        .filter(reports::status.eq(ReportStatus::Open))
        .order(reports::id)
        .select((
            ReportRecord::as_select(),
            reporters::upheld,
            reporters::dismissed,
        ))
        .load::<ReportRow>(conn)
}

/// The open reports on any comment of the author filed since `since` (for bursts).
fn author_recent_reports(
    conn: &mut DbConnection,
    author_id: AuthorId,
    since: NaiveDateTime,
) -> QueryResult<Vec<ReportRow>> {
    reports::table
        .inner_join(reporters::table)
        .inner_join(comments::table)
        .filter(comments::author_id.eq(author_id))
        .filter(reports::status.eq(ReportStatus::Open))
        .filter(reports::created_at.ge(since))
        .select((
            ReportRecord::as_select(),
            reporters::upheld,
            reporters::dismissed,
        ))
        .load::<ReportRow>(conn)
}

/// Flags the reports of a burst (`wave`, sorted ids) as brigading; returns the comments they
/// are on, sorted.
fn mark_wave(
    conn: &mut DbConnection,
    open: &[report_weight::ReportFacts],
    author_recent: &[report_weight::ReportFacts],
    wave: &[ReportId],
) -> QueryResult<Vec<CommentId>> {
    let mut wave_comments: Vec<CommentId> = open
        .iter()
        .chain(author_recent)
        .filter(|r| wave.binary_search(&r.id).is_ok())
        .map(|r| r.comment_id)
        .collect();
    wave_comments.sort_unstable();
    wave_comments.dedup();
    if !wave.is_empty() {
        diesel::update(reports::table.filter(reports::id.eq_any(wave)))
            .set(reports::brigading.eq(true))
            .execute(conn)?;
    }
    Ok(wave_comments)
}

/// The reason of a hiding: the category of the oldest open report that counts toward it.
fn hiding_reason(open_rows: &[ReportRow]) -> ReasonCode {
    open_rows
        .iter()
        .map(|(r, _, _)| r.category.as_str())
        .find(|cat| *cat != ReasonCode::Illegal.as_str())
        .and_then(|cat| cat.parse().ok())
        .unwrap_or(ReasonCode::Other)
}

/// Puts the comment in front of the moderators for a burst (escalated, with the burst's
/// reason once).
fn escalate(conn: &mut DbConnection, comment_id: CommentId) -> QueryResult<()> {
    diesel::update(comments::table.find(comment_id))
        .set(comments::escalated.eq(true))
        .execute(conn)?;
    diesel::insert_into(comment_reasons::table)
        .values((
            comment_reasons::comment_id.eq(comment_id),
            comment_reasons::reason.eq(BURST_REASON),
        ))
        .execute(conn)
        .or_else(|e| {
            if is_unique_violation(&e) {
                Ok(0)
            } else {
                Err(e)
            }
        })?;
    Ok(())
}

/// Hides a published comment (to `pending`) by an automated decision, with its statement of
/// reasons.
#[allow(clippy::too_many_arguments)]
fn hide(
    conn: &mut DbConnection,
    site_id: SiteId,
    c: &CommentRecord,
    category: ReasonCode,
    weight: f64,
    threshold: f64,
    t: NaiveDateTime,
) -> Result<bool, ReportError> {
    let comment_id = c.id;
    let changed = diesel::update(
        comments::table
            .filter(comments::id.eq(comment_id))
            .filter(comments::revision.eq(c.revision)),
    )
    .set((
        comments::status.eq(CommentStatus::Pending),
        comments::revision.eq(c.revision + 1),
        comments::updated_at.eq(t),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    let note = format!("hidden: weighted reports {weight:.2} ≥ site threshold {threshold:.2}");
    let decision_id = diesel::insert_into(decisions::table)
        .values(NewDecision {
            comment_id,
            site_id,
            actor: "reports",
            actor_key_id: None,
            source: DecisionSource::Automated.as_str(),
            from_status: Some(CommentStatus::Published),
            to_status: CommentStatus::Pending,
            reason: Some(category.as_str()),
            note: Some(&note),
            created_at: t,
            verdict: c.verdict.as_deref(),
            action: None,
            note_to_author: None,
            origin: None,
            origin_network: None,
        })
        .returning(decisions::id)
        .get_result::<DecisionId>(conn)?;
    crate::store::outbox::emit_status_change(
        conn,
        site_id,
        comment_id,
        Some(CommentStatus::Published),
        CommentStatus::Pending,
        crate::store::outbox::decision_ref(
            decision_id,
            DecisionSource::Automated,
            None,
            Some(category.as_str()),
        ),
    )?;
    crate::store::statements::record_statement(
        conn,
        c,
        Some(decision_id),
        None,
        crate::store::statements::StatementParts {
            restriction: Restriction::Hidden,
            reason: category,
            note_to_author: None,
            automated_detection: false,
            automated_decision: true,
            notice: true,
        },
    )?;
    Ok(true)
}
