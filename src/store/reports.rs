//! Reader reports ("Signaler un abus"): the snapshot of the comment, the reporter's weight,
//! rate limits, hiding past a threshold, bursts (brigading), and their resolution by a decision.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;

use super::records::{CommentRecord, NewDecision, NewReport, ReportRecord};
use super::schema::{appeals, comment_reasons, comments, decisions, reporters, reports, sites};
use super::{is_unique_violation, now, write_tx, DbConnection, StoreError};
use crate::domain::dsa::{ReportSource, Restriction};
use crate::domain::report_weight::{self, BurstRules, Outcome, ReporterRecord};
use crate::domain::{CommentStatus, DecisionSource, ReasonCode};

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
pub fn reference(year: i32, id: i64) -> String {
    format!("VIG-{year}-{id:06}")
}

/// Records a report: snapshot of the comment, the reporter's weight, the `reported` queue,
/// then the rules of [`report_weight`] on the comment's open reports: hide it, escalate it
/// (a burst of new reporters), or leave it.
pub fn submit(
    conn: &mut DbConnection,
    site_id: i64,
    comment_id: i64,
    input: &ReportInput,
    limits: &ReportLimits,
) -> Result<ReportOutcome, ReportError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match write_tx(conn, |conn| {
            submit_once(conn, site_id, comment_id, input, limits)
        }) {
            Err(ReportError::Db(e)) if is_unique_violation(&e) && attempts < 4 => continue,
            other => return other,
        }
    }
}

fn submit_once(
    conn: &mut DbConnection,
    site_id: i64,
    comment_id: i64,
    input: &ReportInput,
    limits: &ReportLimits,
) -> Result<ReportOutcome, ReportError> {
    let c =
        super::comments::site_comment(conn, site_id, comment_id)?.ok_or(ReportError::NotFound)?;
    if c.status == CommentStatus::Deleted.as_str() {
        return Err(ReportError::NotFound);
    }
    lock_counted(conn, site_id, c.author_id, input)?;
    let t = now();
    let (reporter_id, upheld, dismissed) = reporter(conn, site_id, &input.identity_hash, t)?;
    let record = ReporterRecord { upheld, dismissed };
    if let Some(existing) = reports::table
        .filter(reports::comment_id.eq(comment_id))
        .filter(reports::reporter_id.eq(reporter_id))
        .select(ReportRecord::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(ReportOutcome::Existing(existing));
    }
    let site_bucket = report_weight::counts_in_site_bucket(input.has_ip, record);
    if over_limits(conn, site_id, reporter_id, input, limits, site_bucket, t)? {
        return Err(ReportError::RateLimited {
            retry_after: limits.window_secs,
        });
    }

    let placeholder = format!("pending-{}", uuid::Uuid::new_v4());
    let id = diesel::insert_into(reports::table)
        .values(NewReport {
            site_id,
            comment_id,
            reporter_id,
            reference: &placeholder,
            category: input.category.as_str(),
            source: input.source.as_str(),
            text: input.text.as_deref(),
            reporter_name: input.reporter_name.as_deref(),
            reporter_email_hash: input.reporter_email_hash.as_deref(),
            ip_hash: input.ip_hash.as_deref(),
            legal_ground: input.legal_ground.as_deref(),
            explanation: input.explanation.as_deref(),
            good_faith: input.good_faith,
            snapshot_body: &c.body,
            snapshot_revision: c.revision,
            weight: record.weight(),
            brigading: false,
            status: "open",
            created_at: t,
            network_hash: input.network_hash.as_deref(),
            site_bucket,
        })
        .returning(reports::id)
        .get_result::<i64>(conn)?;
    diesel::update(reports::table.find(id))
        .set(reports::reference.eq(reference(t.year(), id)))
        .execute(conn)?;
    diesel::update(comments::table.find(comment_id))
        .set((
            comments::open_reports.eq(comments::open_reports + 1),
            comments::first_reported_at.eq(c.first_reported_at.unwrap_or(t)),
            comments::report_priority.eq(c.report_priority.max(source_priority(input.source))),
        ))
        .execute(conn)?;

    let (reference, category) = (reference_of(conn, id)?, input.category);
    if limits.mail_alerts {
        super::mail::enqueue_report_alerts(
            conn,
            site_id,
            comment_id,
            &reference,
            category,
            input.source,
        )?;
    }
    super::outbox::emit(
        conn,
        site_id,
        crate::domain::events::EventType::ReportReceived,
        &super::outbox::comment_subject(comment_id),
        |conn| {
            Ok(serde_json::json!({
                "report": {
                    "reference": reference,
                    "category": category.as_str(),
                    "source": input.source.as_str(),
                },
                "comment": super::outbox::comment_ref(conn, comment_id)?,
            }))
        },
    )?;
    let applied = reassess(conn, site_id, comment_id, &limits.burst, t)?;
    // A burst across the author's comments: the others' weight drops and they go to the
    // moderators too.
    for other in applied.wave_comments.iter().filter(|&&o| o != comment_id) {
        reassess(conn, site_id, *other, &limits.burst, t)?;
    }
    let report = reports::table
        .find(id)
        .select(ReportRecord::as_select())
        .first(conn)?;
    Ok(ReportOutcome::Created {
        report,
        hidden: applied.hidden,
        escalated: applied.escalated,
    })
}

/// Everything a report counts (the reporter's, the IP's and the site's reports, the author's
/// burst) is counted and written by one transaction at a time per key.
fn lock_counted(
    conn: &mut DbConnection,
    site_id: i64,
    author_id: i64,
    input: &ReportInput,
) -> Result<(), ReportError> {
    let mut keys = vec![
        format!("report/reporter/{site_id}/{}", input.identity_hash),
        format!("report/author/{author_id}"),
    ];
    if let Some(ip) = &input.ip_hash {
        keys.push(format!("report/ip/{site_id}/{ip}"));
    }
    if !input.has_ip {
        keys.push(format!("report/site-bucket/{site_id}"));
    }
    super::lock_keys(conn, &keys)?;
    Ok(())
}

/// The reporter of this identity on the site, created on first sight: id, upheld and dismissed
/// reports so far.
fn reporter(
    conn: &mut DbConnection,
    site_id: i64,
    identity_hash: &str,
    t: NaiveDateTime,
) -> Result<(i64, i32, i32), ReportError> {
    let found = reporters::table
        .filter(reporters::site_id.eq(site_id))
        .filter(reporters::identity_hash.eq(identity_hash))
        .select((reporters::id, reporters::upheld, reporters::dismissed))
        .first::<(i64, i32, i32)>(conn)
        .optional()?;
    if let Some(r) = found {
        return Ok(r);
    }
    let id = diesel::insert_into(reporters::table)
        .values((
            reporters::site_id.eq(site_id),
            reporters::identity_hash.eq(identity_hash),
            reporters::created_at.eq(t),
        ))
        .returning(reporters::id)
        .get_result::<i64>(conn)?;
    Ok((id, 0, 0))
}

/// Whether one more report passes a limit of the window: the reporter's, the IP's, or the
/// site's bucket of reports with neither IP nor an established reporter.
fn over_limits(
    conn: &mut DbConnection,
    site_id: i64,
    reporter_id: i64,
    input: &ReportInput,
    limits: &ReportLimits,
    site_bucket: bool,
    t: NaiveDateTime,
) -> Result<bool, ReportError> {
    let window_start = t - chrono::Duration::seconds(limits.window_secs);
    let by_reporter: i64 = reports::table
        .filter(reports::reporter_id.eq(reporter_id))
        .filter(reports::created_at.ge(window_start))
        .count()
        .get_result(conn)?;
    let by_ip: i64 = match &input.ip_hash {
        Some(ip) => reports::table
            .filter(reports::site_id.eq(site_id))
            .filter(reports::ip_hash.eq(ip))
            .filter(reports::created_at.ge(window_start))
            .count()
            .get_result(conn)?,
        None => 0,
    };
    let in_site_bucket: i64 = if site_bucket {
        reports::table
            .filter(reports::site_id.eq(site_id))
            .filter(reports::site_bucket.eq(true))
            .filter(reports::created_at.ge(window_start))
            .count()
            .get_result(conn)?
    } else {
        0
    };
    Ok(by_reporter >= limits.per_reporter
        || by_ip >= limits.per_ip
        || in_site_bucket >= limits.per_site_without_ip)
}

/// What [`reassess`] did to a comment.
struct Applied {
    hidden: bool,
    escalated: bool,
    /// Comments whose reports joined the burst.
    wave_comments: Vec<i64>,
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

/// Runs the rules on a comment's open reports, as they are now, and applies the outcome:
/// the counted weight, the burst flags, hiding a published comment, or escalating it.
fn reassess(
    conn: &mut DbConnection,
    site_id: i64,
    comment_id: i64,
    rules: &BurstRules,
    t: NaiveDateTime,
) -> Result<Applied, ReportError> {
    let c =
        super::comments::site_comment(conn, site_id, comment_id)?.ok_or(ReportError::NotFound)?;
    let threshold: f64 = sites::table
        .find(site_id)
        .select(sites::report_hide_threshold)
        .first(conn)?;
    let open_rows = reports::table
        .inner_join(reporters::table)
        .filter(reports::comment_id.eq(comment_id))
        .filter(reports::status.eq("open"))
        .order(reports::id)
        .select((
            ReportRecord::as_select(),
            reporters::upheld,
            reporters::dismissed,
        ))
        .load::<(ReportRecord, i32, i32)>(conn)?;
    let open = facts(&open_rows);
    let since = t - chrono::Duration::seconds(rules.window_secs);
    let author_recent = reports::table
        .inner_join(reporters::table)
        .inner_join(comments::table)
        .filter(comments::author_id.eq(c.author_id))
        .filter(reports::status.eq("open"))
        .filter(reports::created_at.ge(since))
        .select((
            ReportRecord::as_select(),
            reporters::upheld,
            reporters::dismissed,
        ))
        .load::<(ReportRecord, i32, i32)>(conn)?;
    let author_recent = facts(&author_recent);
    let assessment = report_weight::assess(&open, &author_recent, rules, threshold, t);

    let mut wave_comments: Vec<i64> = open
        .iter()
        .chain(&author_recent)
        .filter(|r| assessment.wave.binary_search(&r.id).is_ok())
        .map(|r| r.comment_id)
        .collect();
    wave_comments.sort_unstable();
    wave_comments.dedup();
    if !assessment.wave.is_empty() {
        diesel::update(reports::table.filter(reports::id.eq_any(&assessment.wave)))
            .set(reports::brigading.eq(true))
            .execute(conn)?;
    }
    diesel::update(comments::table.find(comment_id))
        .set(comments::report_weight.eq(assessment.queue_weight))
        .execute(conn)?;

    let mut applied = Applied {
        hidden: false,
        escalated: false,
        wave_comments,
    };
    match assessment.outcome {
        Outcome::Hide if c.status == CommentStatus::Published.as_str() => {
            // The reason of the hiding: the oldest open report that counts toward it.
            let reason = open_rows
                .iter()
                .map(|(r, _, _)| r.category.as_str())
                .find(|cat| *cat != ReasonCode::Illegal.as_str())
                .and_then(|cat| cat.parse().ok())
                .unwrap_or(ReasonCode::Other);
            applied.hidden = hide(conn, site_id, &c, reason, assessment.weight, threshold, t)?;
        }
        Outcome::Escalate
            if !c.escalated
                && matches!(c.status.as_str(), "published" | "approved" | "pending") =>
        {
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
            applied.escalated = true;
        }
        _ => {}
    }
    Ok(applied)
}

/// Hides a published comment (to `pending`) by an automated decision, with its statement of
/// reasons.
#[allow(clippy::too_many_arguments)]
fn hide(
    conn: &mut DbConnection,
    site_id: i64,
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
        comments::status.eq(CommentStatus::Pending.as_str()),
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
            from_status: Some(CommentStatus::Published.as_str()),
            to_status: CommentStatus::Pending.as_str(),
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
        .get_result::<i64>(conn)?;
    super::outbox::emit_status_change(
        conn,
        site_id,
        comment_id,
        Some(CommentStatus::Published),
        CommentStatus::Pending,
        super::outbox::decision_ref(
            decision_id,
            DecisionSource::Automated,
            None,
            Some(category.as_str()),
        ),
    )?;
    super::statements::record_statement(
        conn,
        c,
        Some(decision_id),
        None,
        super::statements::StatementParts {
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

/// Resolves the open reports of a comment after a decision: upheld when it was rejected,
/// dismissed when it was approved; reporters' records follow.
pub fn resolve_reports(
    conn: &mut DbConnection,
    site_id: i64,
    comment_id: i64,
    to: CommentStatus,
    decision_id: i64,
    t: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    let outcome = match to {
        CommentStatus::Rejected => "upheld",
        CommentStatus::Approved => "dismissed",
        _ => return Ok(0),
    };
    let resolved: Vec<(i64, String, String)> = reports::table
        .filter(reports::comment_id.eq(comment_id))
        .filter(reports::status.eq("open"))
        .order(reports::id)
        .select((reports::reporter_id, reports::reference, reports::category))
        .load(conn)?;
    if resolved.is_empty() {
        return Ok(0);
    }
    let open: Vec<i64> = resolved.iter().map(|r| r.0).collect();
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
            .filter(reports::status.eq("open")),
    )
    .set((
        reports::status.eq(outcome),
        reports::outcome_at.eq(Some(t)),
        reports::decision_id.eq(Some(decision_id)),
    ))
    .execute(conn)?;
    let target = reporters::table.filter(reporters::id.eq_any(&open));
    if outcome == "upheld" {
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
    site_id: i64,
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
    let restored = report.status == "upheld" && {
        let status: String = comments::table
            .find(report.comment_id)
            .select(comments::status)
            .first(conn)?;
        let reversed: i64 = appeals::table
            .filter(appeals::comment_id.eq(report.comment_id))
            .filter(appeals::report_id.is_null())
            .filter(appeals::status.eq("reversed"))
            .count()
            .get_result(conn)?;
        reversed > 0 && CommentStatus::Approved.as_str() == status
    };
    Ok(Some((report, restored)))
}

/// Reports of some comments, oldest first, with each reporter's current weight.
pub fn of_comments(
    conn: &mut DbConnection,
    ids: &[i64],
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
    report_id: i64,
) -> Result<String, diesel::result::Error> {
    reports::table
        .find(report_id)
        .select(reports::reference)
        .first(conn)
}
