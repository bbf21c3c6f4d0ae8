//! The site's settings log: who changed which setting (the site's, its thresholds, rule file,
//! word lists, a thread's), when, from where, and what changed. The comments' decisions have
//! their own log (`decisions`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::decisions::Actor;
use super::schema::setting_changes;
use super::{now, DbConnection, StoreError};
use crate::domain::{ApiKeyId, SiteId};

/// The settings a change can be about.
pub const SETTINGS: [&str; 5] = ["site", "thresholds", "rules", "words", "thread"];

/// One change of a setting.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = setting_changes)]
pub struct SettingChange {
    pub id: i64,
    pub site_id: SiteId,
    pub actor: String,
    pub actor_key_id: Option<ApiKeyId>,
    pub origin: Option<String>,
    pub origin_network: Option<String>,
    /// One of [`SETTINGS`].
    pub setting: String,
    /// What changed, in words.
    pub summary: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = setting_changes)]
struct NewChange<'a> {
    site_id: SiteId,
    actor: &'a str,
    actor_key_id: Option<ApiKeyId>,
    origin: Option<&'a str>,
    origin_network: Option<&'a str>,
    setting: &'a str,
    summary: &'a str,
    created_at: NaiveDateTime,
}

/// Records that `actor` changed `setting` (one of [`SETTINGS`]) of the site as `summary` says.
pub fn record(
    conn: &mut DbConnection,
    site_id: SiteId,
    actor: &Actor,
    setting: &'static str,
    summary: &str,
) -> Result<(), StoreError> {
    debug_assert!(SETTINGS.contains(&setting));
    diesel::insert_into(setting_changes::table)
        .values(NewChange {
            site_id,
            actor: &actor.name,
            actor_key_id: Some(actor.key_id),
            origin: actor.origin,
            origin_network: actor.network.as_deref(),
            setting,
            summary,
            created_at: now(),
        })
        .execute(conn)?;
    Ok(())
}

/// Which changes to list.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// One of [`SETTINGS`], or all.
    pub setting: Option<String>,
    /// Made at or after…
    pub from: Option<NaiveDateTime>,
    /// …and before.
    pub to: Option<NaiveDateTime>,
}

/// The site's changes matching `filter`, newest first, before the change `before`.
pub fn list(
    conn: &mut DbConnection,
    site_id: SiteId,
    filter: &ChangeFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SettingChange>, StoreError> {
    let mut q = setting_changes::table
        .filter(setting_changes::site_id.eq(site_id))
        .select(SettingChange::as_select())
        .order(setting_changes::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = &filter.setting {
        q = q.filter(setting_changes::setting.eq(s.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(setting_changes::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(setting_changes::created_at.lt(to));
    }
    if let Some(b) = before {
        q = q.filter(setting_changes::id.lt(b));
    }
    Ok(q.load(conn)?)
}

/// Clears the networks of changes made before `cutoff`, `batch` at a time; how many.
pub fn purge_networks(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    batch: i64,
) -> Result<usize, diesel::result::Error> {
    let ids: Vec<i64> = setting_changes::table
        .filter(setting_changes::origin_network.is_not_null())
        .filter(setting_changes::created_at.lt(cutoff))
        .select(setting_changes::id)
        .limit(batch)
        .load(conn)?;
    diesel::update(setting_changes::table.filter(setting_changes::id.eq_any(&ids)))
        .set(setting_changes::origin_network.eq(None::<String>))
        .execute(conn)
}
