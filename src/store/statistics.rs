//! Counts for `/metrics` (computed when scraped) and the records the transparency report
//! counts over a period.

use diesel::prelude::*;

use chrono::NaiveDateTime;

use super::records::{AppealRecord, DecisionRecord, ReportRecord, StatementRecord};
use super::schema::{appeals, comments, decisions, reports, webhook_deliveries};
use super::{now, DbConnection, StoreError};
use crate::domain::{CommentStatus, DeliveryStatus, SiteId};

/// Queue depths, expired claims and webhook backlog, all sites together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Depths {
    pub pending: i64,
    pub reported: i64,
    pub unmoderated: i64,
    pub claims_expired: i64,
    pub webhooks_pending: i64,
    pub webhooks_failed: i64,
}

pub fn depths(conn: &mut DbConnection) -> Result<Depths, StoreError> {
    let by_status: Vec<(CommentStatus, i64)> = comments::table
        .filter(comments::status.eq_any([CommentStatus::Pending, CommentStatus::Published]))
        .group_by(comments::status)
        .select((comments::status, diesel::dsl::count_star()))
        .load(conn)?;
    let of = |s: CommentStatus| {
        by_status
            .iter()
            .find(|(status, _)| *status == s)
            .map_or(0, |(_, n)| *n)
    };
    let reported = comments::table
        .filter(comments::open_reports.gt(0))
        .filter(comments::status.ne(CommentStatus::Deleted))
        .count()
        .get_result(conn)?;
    let claims_expired = comments::table
        .filter(comments::claimed_by.is_not_null())
        .filter(comments::claim_expires_at.lt(now()))
        .count()
        .get_result(conn)?;
    let deliveries: Vec<(DeliveryStatus, i64)> = webhook_deliveries::table
        .filter(
            webhook_deliveries::status.eq_any([DeliveryStatus::Pending, DeliveryStatus::Failed]),
        )
        .group_by(webhook_deliveries::status)
        .select((webhook_deliveries::status, diesel::dsl::count_star()))
        .load(conn)?;
    let deliveries_of = |s: DeliveryStatus| {
        deliveries
            .iter()
            .find(|(status, _)| *status == s)
            .map_or(0, |(_, n)| *n)
    };
    Ok(Depths {
        pending: of(CommentStatus::Pending),
        reported,
        unmoderated: of(CommentStatus::Published),
        claims_expired,
        webhooks_pending: deliveries_of(DeliveryStatus::Pending),
        webhooks_failed: deliveries_of(DeliveryStatus::Failed),
    })
}

/// Every comment stored, all sites (benches check nothing was lost).
pub fn comment_count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(comments::table.count().get_result(conn)?)
}

/// Everything the transparency report counts, for one site and period.
#[derive(Debug, Default)]
pub struct PeriodRecords {
    pub reports: Vec<ReportRecord>,
    pub decisions: Vec<DecisionRecord>,
    pub appeals: Vec<AppealRecord>,
    pub statements: Vec<StatementRecord>,
}

pub fn period(
    conn: &mut DbConnection,
    site_id: SiteId,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<PeriodRecords, StoreError> {
    Ok(PeriodRecords {
        reports: reports::table
            .filter(reports::site_id.eq(site_id))
            .filter(reports::created_at.ge(from))
            .filter(reports::created_at.lt(to))
            .select(ReportRecord::as_select())
            .load(conn)?,
        decisions: decisions::table
            .filter(decisions::site_id.eq(site_id))
            .filter(decisions::created_at.ge(from))
            .filter(decisions::created_at.lt(to))
            .select(DecisionRecord::as_select())
            .load(conn)?,
        appeals: appeals::table
            .filter(appeals::site_id.eq(site_id))
            .filter(appeals::created_at.ge(from))
            .filter(appeals::created_at.lt(to))
            .select(AppealRecord::as_select())
            .load(conn)?,
        statements: super::statements::statements_between(conn, site_id, Some(from), Some(to))?,
    })
}
