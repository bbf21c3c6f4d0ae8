//! Statements of reasons (DSA art. 17): recorded with each restriction, read by the comment's
//! author and by the transparency database export.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::records::{CommentRecord, StatementRecord};
use super::schema::{reports, sites, statements};
use super::{now, DbConnection, StoreError};
use crate::domain::dsa::{self, ReportSource, Restriction, StatementFacts};
use crate::domain::{AuthorId, CommentId, DecisionId, ReasonCode, SiteId};

/// The parts of a statement of reasons that depend on the decision.
#[derive(Debug, Clone, Copy)]
pub struct StatementParts<'a> {
    pub restriction: Restriction,
    pub reason: ReasonCode,
    pub note_to_author: Option<&'a str>,
    pub automated_detection: bool,
    pub automated_decision: bool,
    /// Whether a reader's notice was behind it.
    pub notice: bool,
}

/// Writes the statement of reasons of a restriction on a comment (or, with `author_id`, on an
/// account), in the name of the comment's site.
pub fn record_statement(
    conn: &mut DbConnection,
    c: &CommentRecord,
    decision_id: Option<DecisionId>,
    author_id: Option<AuthorId>,
    parts: StatementParts<'_>,
) -> Result<StatementRecord, diesel::result::Error> {
    let (platform, scope, appeal_text): (String, Option<String>, Option<String>) = sites::table
        .find(c.site_id)
        .select((sites::slug, sites::territorial_scope, sites::appeal_text))
        .first(conn)?;
    let platform = platform.as_str();
    // A notice behind it: the illegal-content details and source come from the reports.
    let notice: Option<(String, Option<String>, Option<String>)> = if parts.notice {
        reports::table
            .filter(reports::comment_id.eq(c.id))
            // A trusted flagger's or an authority's notice first: the statement names it.
            .order((
                reports::source.eq(ReportSource::Reader.as_str()).asc(),
                reports::category.eq(ReasonCode::Illegal.as_str()).desc(),
                reports::id.asc(),
            ))
            .select((reports::source, reports::legal_ground, reports::explanation))
            .first(conn)
            .optional()?
    } else {
        None
    };
    let source = notice.as_ref().map(|(s, _, _)| match s.as_str() {
        "trusted_flagger" => ReportSource::TrustedFlagger,
        "authority" => ReportSource::Authority,
        _ => ReportSource::Reader,
    });
    let uuid = uuid::Uuid::new_v4().to_string();
    let t = now();
    let territorial_scope = dsa::territorial_scope_of(scope.as_deref());
    // The site's language, else the one scoring detected ("und" when it could not tell).
    let detected: Option<String> = c
        .verdict
        .as_deref()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v["language"].as_str().map(str::to_owned))
        .filter(|l| l != "und");
    let body = dsa::statement(&StatementFacts {
        uuid: &uuid,
        platform,
        restriction: parts.restriction,
        reason: parts.reason,
        legal_ground: notice.as_ref().and_then(|(_, g, _)| g.as_deref()),
        explanation: notice.as_ref().and_then(|(_, _, e)| e.as_deref()),
        note_to_author: parts.note_to_author,
        automated_detection: parts.automated_detection,
        automated_decision: parts.automated_decision,
        notice_source: source,
        content_language: c.lang.as_deref().or(detected.as_deref()),
        territorial_scope: &territorial_scope,
        content_date: c.created_at,
        application_date: t,
        how_to_appeal: appeal_text.as_deref(),
    });
    diesel::insert_into(statements::table)
        .values((
            statements::uuid.eq(&uuid),
            statements::site_id.eq(c.site_id),
            statements::comment_id.eq(Some(c.id)),
            statements::author_id.eq(author_id),
            statements::decision_id.eq(decision_id),
            statements::body.eq(body.to_string()),
            statements::created_at.eq(t),
        ))
        .returning(statements::all_columns)
        .get_result(conn)
}

pub fn latest_statement(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
) -> Result<Option<StatementRecord>, StoreError> {
    Ok(statements::table
        .filter(statements::site_id.eq(site_id))
        .filter(statements::comment_id.eq(comment_id))
        .order(statements::id.desc())
        .select(StatementRecord::as_select())
        .first(conn)
        .optional()?)
}

pub fn statements_between(
    conn: &mut DbConnection,
    site_id: SiteId,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> Result<Vec<StatementRecord>, StoreError> {
    let mut q = statements::table
        .filter(statements::site_id.eq(site_id))
        .select(StatementRecord::as_select())
        .into_boxed();
    if let Some(from) = from {
        q = q.filter(statements::created_at.ge(from));
    }
    if let Some(to) = to {
        q = q.filter(statements::created_at.lt(to));
    }
    Ok(q.order(statements::id).load(conn)?)
}
