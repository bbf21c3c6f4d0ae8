//! Feedback from Perspective API clients (`comments:suggestscore`): labelled examples per site,
//! one row per site, client token and attribute (the latest label wins).
//!
//! These rows hold comment text, so they are personal data: purged after `retention_days`
//! (by their last update), erased with an author whose comment text they repeat (matched by
//! [`super::comments::body_hash`], as Coral sends no author id), and exported with that
//! author's data.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::perspective_feedback as fb;
use super::{write_tx, DbConnection, StoreError};
use crate::domain::{ApiKeyId, FeedbackId, SiteId};

/// Rows deleted per transaction by the purge.
const PURGE_BATCH: i64 = 1_000;

/// One labelled example as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fb)]
pub struct FeedbackRecord {
    pub id: FeedbackId,
    pub site_id: SiteId,
    pub client_token: Option<String>,
    pub attribute: String,
    pub score: f64,
    pub label: i32,
    pub text: String,
    pub text_hash: String,
    pub lang: Option<String>,
    pub community_id: Option<String>,
    pub coral_comment_id: Option<String>,
    pub coral_parent_id: Option<String>,
    pub story_url: Option<String>,
    pub key_id: Option<ApiKeyId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a suggestscore request leaves, per attribute.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = fb)]
#[diesel(treat_none_as_null = true)]
pub struct NewFeedback {
    pub site_id: SiteId,
    pub client_token: Option<String>,
    pub attribute: String,
    pub score: f64,
    pub label: i32,
    pub text: String,
    pub text_hash: String,
    pub lang: Option<String>,
    pub community_id: Option<String>,
    pub coral_comment_id: Option<String>,
    pub coral_parent_id: Option<String>,
    pub story_url: Option<String>,
    pub key_id: Option<ApiKeyId>,
    pub updated_at: NaiveDateTime,
}

/// Stores the examples of one request in one transaction. A row with the same site, client
/// token and attribute is replaced (its first `created_at` kept); without a token every
/// request adds rows.
pub fn record(
    conn: &mut DbConnection,
    rows: &[NewFeedback],
    created_at: NaiveDateTime,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        for row in rows {
            let existing: Option<FeedbackId> = match &row.client_token {
                None => None,
                Some(token) => fb::table
                    .filter(fb::site_id.eq(row.site_id))
                    .filter(fb::client_token.eq(token))
                    .filter(fb::attribute.eq(&row.attribute))
                    .select(fb::id)
                    .first(conn)
                    .optional()?,
            };
            match existing {
                Some(id) => {
                    diesel::update(fb::table.find(id)).set(row).execute(conn)?;
                }
                None => {
                    diesel::insert_into(fb::table)
                        .values((row, fb::created_at.eq(created_at)))
                        .execute(conn)?;
                }
            }
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// [`record`], once more when a concurrent request with the same token inserted first (the
/// unique index refused ours): the second attempt finds the row and replaces it.
pub fn record_latest_wins(
    conn: &mut DbConnection,
    rows: &[NewFeedback],
    created_at: NaiveDateTime,
) -> Result<(), StoreError> {
    match record(conn, rows, created_at) {
        Err(StoreError::Other(e))
            if e.downcast_ref::<diesel::result::Error>()
                .is_some_and(super::is_unique_violation) =>
        {
            record(conn, rows, created_at)
        }
        other => other,
    }
}

/// Counts of a site's examples by attribute and label.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelCount {
    pub attribute: String,
    /// 1: the moderators removed it (suggested score ≥ 0.5); 0: they kept it.
    pub label: i32,
    pub count: i64,
}

/// A page of a site's examples, newest first (`before`: an id from the previous page), and
/// the counts per attribute and label of all of them.
pub fn list(
    conn: &mut DbConnection,
    site_id: SiteId,
    before: Option<FeedbackId>,
    limit: i64,
) -> Result<(Vec<FeedbackRecord>, Vec<LabelCount>), StoreError> {
    let mut page = fb::table
        .filter(fb::site_id.eq(site_id))
        .order(fb::id.desc())
        .limit(limit)
        .select(FeedbackRecord::as_select())
        .into_boxed();
    if let Some(before) = before {
        page = page.filter(fb::id.lt(before));
    }
    let items = page.load(conn)?;
    let counts: Vec<(String, i32, i64)> = fb::table
        .filter(fb::site_id.eq(site_id))
        .group_by((fb::attribute, fb::label))
        .select((fb::attribute, fb::label, diesel::dsl::count_star()))
        .order((fb::attribute, fb::label))
        .load(conn)?;
    Ok((
        items,
        counts
            .into_iter()
            .map(|(attribute, label, count)| LabelCount {
                attribute,
                label,
                count,
            })
            .collect(),
    ))
}

/// Deletes examples last updated before `cutoff` (the retention purge); the number deleted.
pub fn purge(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let n = write_tx(conn, |conn| {
            let ids: Vec<FeedbackId> = fb::table
                .filter(fb::updated_at.lt(cutoff))
                .select(fb::id)
                .limit(PURGE_BATCH)
                .load(conn)?;
            diesel::delete(fb::table.filter(fb::id.eq_any(&ids))).execute(conn)
        })?;
        total += n;
        if (n as i64) < PURGE_BATCH {
            return Ok(total);
        }
    }
}

/// Deletes a site's examples whose text is one of `text_hashes` (an erased author's comments);
/// the number deleted. Runs inside the erasure's transaction.
pub fn erase_matching(
    conn: &mut DbConnection,
    site_id: SiteId,
    text_hashes: &[String],
) -> Result<usize, diesel::result::Error> {
    if text_hashes.is_empty() {
        return Ok(0);
    }
    diesel::delete(
        fb::table
            .filter(fb::site_id.eq(site_id))
            .filter(fb::text_hash.eq_any(text_hashes)),
    )
    .execute(conn)
}

/// A site's examples whose text is one of `text_hashes`, for an author's export.
pub fn matching(
    conn: &mut DbConnection,
    site_id: SiteId,
    text_hashes: &[String],
) -> Result<Vec<FeedbackRecord>, diesel::result::Error> {
    if text_hashes.is_empty() {
        return Ok(Vec::new());
    }
    fb::table
        .filter(fb::site_id.eq(site_id))
        .filter(fb::text_hash.eq_any(text_hashes))
        .order(fb::id)
        .select(FeedbackRecord::as_select())
        .load(conn)
}

/// An example as the API and exports show it.
pub fn to_json(r: &FeedbackRecord) -> serde_json::Value {
    let at = |t: NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    serde_json::json!({
        "id": r.id,
        "client_token": r.client_token,
        "attribute": r.attribute,
        "score": r.score,
        "label": r.label,
        "text": r.text,
        "lang": r.lang,
        "community_id": r.community_id,
        "coral_comment_id": r.coral_comment_id,
        "coral_parent_id": r.coral_parent_id,
        "story_url": r.story_url,
        "created_at": at(r.created_at),
        "updated_at": at(r.updated_at),
    })
}
