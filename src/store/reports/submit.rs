//! Filing a report: the reporter's identity and weight, rate limits, the report row with its
//! snapshot of the comment, alerts and events, then the rules on the comment's reports.

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;

use super::assess::reassess;
use super::{
    reference, reference_of, source_priority, ReportError, ReportInput, ReportLimits, ReportOutcome,
};
use crate::domain::dsa::ReportSource;
use crate::domain::report_weight::{self, ReporterRecord};
use crate::domain::{
    AuthorId, CommentId, CommentStatus, ReportId, ReportStatus, ReporterId, SiteId,
};
use crate::store::records::{CommentRecord, NewReport, ReportRecord};
use crate::store::schema::{comments, reporters, reports};
use crate::store::{is_unique_violation, now, write_tx, DbConnection};

/// Records a report: snapshot of the comment, the reporter's weight, the `reported` queue,
/// then the rules of [`report_weight`] on the comment's open reports: hide it, escalate it
/// (a burst of new reporters), or leave it.
pub fn submit(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
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

/// One attempt at [`submit`], inside its write transaction.
fn submit_once(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    input: &ReportInput,
    limits: &ReportLimits,
) -> Result<ReportOutcome, ReportError> {
    let c = crate::store::comments::site_comment(conn, site_id, comment_id)?
        .ok_or(ReportError::NotFound)?;
    if c.status == CommentStatus::Deleted {
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
    let reporter = NewReporter {
        id: reporter_id,
        record,
        site_bucket,
    };
    let id = insert_report(conn, site_id, &c, reporter, input, t)?;
    count_on_comment(conn, &c, input.source, t)?;
    announce(conn, site_id, comment_id, id, input, limits.mail_alerts)?;
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

/// Who files a new report, as its row records them.
#[derive(Clone, Copy)]
struct NewReporter {
    id: ReporterId,
    record: ReporterRecord,
    /// The report counts in the site's bucket of reports with neither IP nor an established
    /// reporter.
    site_bucket: bool,
}

/// Inserts the report with a snapshot of the comment, then gives it its reference (which
/// needs the id). Returns the id.
fn insert_report(
    conn: &mut DbConnection,
    site_id: SiteId,
    c: &CommentRecord,
    reporter: NewReporter,
    input: &ReportInput,
    t: NaiveDateTime,
) -> Result<ReportId, ReportError> {
    let placeholder = format!("pending-{}", uuid::Uuid::new_v4());
    let id = diesel::insert_into(reports::table)
        .values(NewReport {
            site_id,
            comment_id: c.id,
            reporter_id: reporter.id,
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
            weight: reporter.record.weight(),
            brigading: false,
            status: ReportStatus::Open,
            created_at: t,
            network_hash: input.network_hash.as_deref(),
            site_bucket: reporter.site_bucket,
        })
        .returning(reports::id)
        .get_result::<ReportId>(conn)?;
    diesel::update(reports::table.find(id))
        .set(reports::reference.eq(reference(t.year(), id)))
        .execute(conn)?;
    Ok(id)
}

/// One more open report on the comment, in the `reported` queue at its source's priority.
fn count_on_comment(
    conn: &mut DbConnection,
    c: &CommentRecord,
    source: ReportSource,
    t: NaiveDateTime,
) -> Result<(), ReportError> {
    diesel::update(comments::table.find(c.id))
        .set((
            comments::open_reports.eq(comments::open_reports + 1),
            comments::first_reported_at.eq(c.first_reported_at.unwrap_or(t)),
            comments::report_priority.eq(c.report_priority.max(source_priority(source))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Tells of the new report: e-mail alerts (when configured) and the `report.received` event.
fn announce(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    report_id: ReportId,
    input: &ReportInput,
    mail_alerts: bool,
) -> Result<(), ReportError> {
    let (reference, category) = (reference_of(conn, report_id)?, input.category);
    if mail_alerts {
        crate::store::mail::enqueue_report_alerts(
            conn,
            site_id,
            comment_id,
            &reference,
            category,
            input.source,
        )?;
    }
    crate::store::outbox::emit(
        conn,
        site_id,
        crate::domain::events::EventType::ReportReceived,
        &crate::store::outbox::comment_subject(comment_id),
        |conn| {
            Ok(serde_json::json!({
                "report": {
                    "reference": reference,
                    "category": category.as_str(),
                    "source": input.source.as_str(),
                },
                "comment": crate::store::outbox::comment_ref(conn, comment_id)?,
            }))
        },
    )?;
    Ok(())
}

/// Everything a report counts (the reporter's, the IP's and the site's reports, the author's
/// burst) is counted and written by one transaction at a time per key.
fn lock_counted(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_id: AuthorId,
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
    crate::store::lock_keys(conn, &keys)?;
    Ok(())
}

/// The reporter of this identity on the site, created on first sight: id, upheld and dismissed
/// reports so far.
fn reporter(
    conn: &mut DbConnection,
    site_id: SiteId,
    identity_hash: &str,
    t: NaiveDateTime,
) -> Result<(ReporterId, i32, i32), ReportError> {
    let found = reporters::table
        .filter(reporters::site_id.eq(site_id))
        .filter(reporters::identity_hash.eq(identity_hash))
        .select((reporters::id, reporters::upheld, reporters::dismissed))
        .first::<(ReporterId, i32, i32)>(conn)
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
        .get_result::<ReporterId>(conn)?;
    Ok((id, 0, 0))
}

/// Whether one more report passes a limit of the window: the reporter's, the IP's, or the
/// site's bucket of reports with neither IP nor an established reporter.
fn over_limits(
    conn: &mut DbConnection,
    site_id: SiteId,
    reporter_id: ReporterId,
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
