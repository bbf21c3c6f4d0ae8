//! Appeals against a decision (DSA art. 20): lodged by the author or the reporter, decided by
//! another moderator (an admin), which may reverse the decision.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::decisions::{decide_in_tx, Actor, DecideError, DecisionInput};
use super::records::{AppealRecord, CommentRecord, DecisionRecord, ReportRecord};
use super::reports::reference_of;
use super::schema::{appeals, comments, decisions, reports};
use super::{is_unique_violation, now, write_tx, DbConnection, StoreError};
use crate::domain::{
    Action, ApiKeyId, AppealId, AppealStatus, CommentId, CommentStatus, ReportId, ReportStatus,
    SiteId,
};

// ---------------------------------------------------------------------------------------------
// Appeals

/// Who appeals.
#[derive(Debug, Clone)]
pub enum Appellant {
    /// The comment's author, by the site's author id.
    Author(String),
    /// A reporter whose report was dismissed, by the report's reference.
    Reporter(String),
}

#[derive(Debug, thiserror::Error)]
pub enum AppealError {
    #[error("comment not found")]
    NotFound,
    #[error("{0}")]
    NotEntitled(String),
    #[error("{0}")]
    NothingToAppeal(String),
    #[error("the appeal window closed on {0}")]
    WindowClosed(NaiveDateTime),
    #[error("this decision has already been appealed")]
    AlreadyAppealed,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Files an appeal against the decision that restricted a comment (author) or dismissed a
/// report (reporter).
pub fn appeal(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    who: &Appellant,
    text: &str,
    window_days: i64,
) -> Result<AppealRecord, AppealError> {
    write_tx(conn, |conn| {
        let c = super::comments::site_comment(conn, site_id, comment_id)?
            .ok_or(AppealError::NotFound)?;
        let (decision, appellant, report_id): (DecisionRecord, String, Option<ReportId>) = match who
        {
            Appellant::Author(author) => (
                author_appealable(conn, &c, author)?,
                "author".to_owned(),
                None,
            ),
            Appellant::Reporter(reference) => {
                let (decision, report_id) =
                    reporter_appealable(conn, site_id, comment_id, reference)?;
                (decision, format!("reporter:{report_id}"), Some(report_id))
            }
        };
        let closes = decision.created_at + chrono::Duration::days(window_days);
        let t = now();
        if t > closes {
            return Err(AppealError::WindowClosed(closes));
        }
        let inserted = diesel::insert_into(appeals::table)
            .values((
                appeals::site_id.eq(site_id),
                appeals::comment_id.eq(comment_id),
                appeals::decision_id.eq(decision.id),
                appeals::appellant.eq(&appellant),
                appeals::report_id.eq(report_id),
                appeals::text.eq(text),
                appeals::status.eq(AppealStatus::Open),
                appeals::created_at.eq(t),
            ))
            .returning(appeals::all_columns)
            .get_result::<AppealRecord>(conn);
        match inserted {
            Err(e) if is_unique_violation(&e) => Err(AppealError::AlreadyAppealed),
            other => Ok(other?),
        }
    })
}

/// Refusal of an appellant who is neither the author nor a reporter dismissed.
fn not_entitled() -> AppealError {
    AppealError::NotEntitled(
        "only the comment's author or a reporter whose report was dismissed may appeal".into(),
    )
}

/// The decision the comment's author (by the site's author id) may appeal: the latest, when it
/// restricts the comment.
fn author_appealable(
    conn: &mut DbConnection,
    c: &CommentRecord,
    author: &str,
) -> Result<DecisionRecord, AppealError> {
    let author_ext: String = super::schema::authors::table
        .find(c.author_id)
        .select(super::schema::authors::external_id)
        .first(conn)?;
    if author_ext != author {
        return Err(not_entitled());
    }
    let restricted = matches!(c.status, CommentStatus::Rejected | CommentStatus::Pending);
    let last = decisions::table
        .filter(decisions::comment_id.eq(c.id))
        .order(decisions::id.desc())
        .select(DecisionRecord::as_select())
        .first(conn)
        .optional()?;
    // Held by pre-moderation is not a decision against the comment: only a
    // rejection, or hiding a comment that was visible, can be appealed.
    match last {
        Some(d)
            if restricted
                && d.to_status == c.status
                && (c.status == CommentStatus::Rejected || d.from_status.is_some()) =>
        {
            Ok(d)
        }
        _ => Err(AppealError::NothingToAppeal(
            "the comment is not restricted by a decision".into(),
        )),
    }
}

/// The decision that dismissed the report of this reference on the comment, with the report's
/// id.
fn reporter_appealable(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    reference: &str,
) -> Result<(DecisionRecord, ReportId), AppealError> {
    let report = reports::table
        .filter(reports::site_id.eq(site_id))
        .filter(reports::comment_id.eq(comment_id))
        .filter(reports::reference.eq(reference))
        .select(ReportRecord::as_select())
        .first(conn)
        .optional()?;
    let Some(report) = report.filter(|r| r.status == ReportStatus::Dismissed) else {
        return Err(not_entitled());
    };
    let Some(decision_id) = report.decision_id else {
        return Err(AppealError::NothingToAppeal(
            "the report was closed without a decision".into(),
        ));
    };
    let decision = decisions::table
        .find(decision_id)
        .select(DecisionRecord::as_select())
        .first(conn)?;
    Ok((decision, report.id))
}

pub fn open_appeals(
    conn: &mut DbConnection,
    site_id: SiteId,
    status: AppealStatus,
    limit: i64,
) -> Result<Vec<(AppealRecord, CommentRecord, DecisionRecord)>, StoreError> {
    let rows: Vec<AppealRecord> = appeals::table
        .filter(appeals::site_id.eq(site_id))
        .filter(appeals::status.eq(status))
        .order(appeals::id)
        .limit(limit)
        .select(AppealRecord::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        let c = comments::table
            .find(a.comment_id)
            .select(CommentRecord::as_select())
            .first(conn)?;
        let d = decisions::table
            .find(a.decision_id)
            .select(DecisionRecord::as_select())
            .first(conn)?;
        out.push((a, c, d));
    }
    Ok(out)
}

pub fn count_open_appeals(conn: &mut DbConnection, site_id: SiteId) -> Result<i64, StoreError> {
    Ok(appeals::table
        .filter(appeals::site_id.eq(site_id))
        .filter(appeals::status.eq(AppealStatus::Open))
        .count()
        .get_result(conn)?)
}

#[derive(Debug, thiserror::Error)]
pub enum AppealDecisionError {
    #[error("appeal not found")]
    NotFound,
    #[error("the appeal is already {0}")]
    AlreadyDecided(AppealStatus),
    #[error("an appeal is decided by another moderator than the one who took the decision")]
    SameModerator,
    #[error(transparent)]
    Decide(#[from] DecideError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Decides an appeal (humans only). Reversing restores the comment (author's appeal) or
/// rejects it for the report's reason (reporter's appeal), logged like any decision.
pub fn decide_appeal(
    conn: &mut DbConnection,
    site_id: SiteId,
    appeal_id: AppealId,
    actor: &Actor,
    reverse: bool,
    reply: &str,
) -> Result<AppealRecord, AppealDecisionError> {
    write_tx(conn, |conn| {
        let a = appeals::table
            .filter(appeals::id.eq(appeal_id))
            .filter(appeals::site_id.eq(site_id))
            .select(AppealRecord::as_select())
            .first(conn)
            .optional()?
            .ok_or(AppealDecisionError::NotFound)?;
        if a.status != AppealStatus::Open {
            return Err(AppealDecisionError::AlreadyDecided(a.status));
        }
        let original: Option<ApiKeyId> = decisions::table
            .find(a.decision_id)
            .select(decisions::actor_key_id)
            .first(conn)?;
        if original == Some(actor.key_id) {
            return Err(AppealDecisionError::SameModerator);
        }
        if reverse {
            reverse_decision(conn, site_id, &a, actor, reply)?;
        }
        let t = now();
        let outcome = if reverse {
            AppealStatus::Reversed
        } else {
            AppealStatus::Upheld
        };
        emit_decided(conn, site_id, &a, outcome, reply)?;
        diesel::update(appeals::table.find(a.id))
            .set((
                appeals::status.eq(outcome),
                appeals::reply.eq(Some(reply)),
                appeals::decided_by.eq(Some(actor.key_id)),
                appeals::decided_at.eq(Some(t)),
            ))
            .execute(conn)?;
        Ok(appeals::table
            .find(a.id)
            .select(AppealRecord::as_select())
            .first(conn)?)
    })
}

/// Reverses the appealed decision by a new one (as an admin, over any claim); a reporter's
/// report becomes upheld.
fn reverse_decision(
    conn: &mut DbConnection,
    site_id: SiteId,
    a: &AppealRecord,
    actor: &Actor,
    reply: &str,
) -> Result<(), AppealDecisionError> {
    let input = reversal(conn, a, reply)?;
    let admin_like = Actor {
        is_admin: true,
        ..actor.clone()
    };
    decide_in_tx(conn, site_id, a.comment_id, &admin_like, &input)?;
    if let Some(report_id) = a.report_id {
        diesel::update(reports::table.find(report_id))
            .set(reports::status.eq(ReportStatus::Upheld))
            .execute(conn)?;
    }
    Ok(())
}

/// The decision that reverses an appealed one: the comment restored or approved for its
/// author (with the reply), or rejected for the report's category for a reporter.
fn reversal(
    conn: &mut DbConnection,
    a: &AppealRecord,
    reply: &str,
) -> Result<DecisionInput, AppealDecisionError> {
    let c = comments::table
        .find(a.comment_id)
        .select(CommentRecord::as_select())
        .first(conn)?;
    Ok(match a.report_id {
        None => DecisionInput {
            action: if c.status == CommentStatus::Rejected {
                Action::Restore
            } else {
                Action::Approve
            },
            reason: None,
            note_to_author: Some(reply.to_owned()),
            internal_note: Some(format!("appeal {} reversed", a.id)),
            expected_revision: None,
            override_claim: true,
        },
        Some(report_id) => {
            let category: String = reports::table
                .find(report_id)
                .select(reports::category)
                .first(conn)?;
            DecisionInput {
                action: Action::Reject,
                reason: category.parse().ok(),
                note_to_author: None,
                internal_note: Some(format!("appeal {} by a reporter reversed", a.id)),
                expected_revision: None,
                override_claim: true,
            }
        }
    })
}

/// The `appeal.decided` event.
fn emit_decided(
    conn: &mut DbConnection,
    site_id: SiteId,
    a: &AppealRecord,
    outcome: AppealStatus,
    reply: &str,
) -> Result<(), AppealDecisionError> {
    super::outbox::emit(
        conn,
        site_id,
        crate::domain::events::EventType::AppealDecided,
        &super::outbox::comment_subject(a.comment_id),
        |conn| {
            Ok(serde_json::json!({
                "appeal": {
                    "id": a.id,
                    "appellant": a.appellant,
                    "report_reference": match a.report_id {
                        Some(r) => Some(reference_of(conn, r)?),
                        None => None,
                    },
                    "outcome": outcome,
                    "reply": reply,
                },
                "comment": super::outbox::comment_ref(conn, a.comment_id)?,
            }))
        },
    )?;
    Ok(())
}
