//! Sites' rule sets: every saved version is kept; the latest is in force.

use diesel::prelude::*;

use super::schema::rule_sets;
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::SiteId;

/// A stored version of a site's rule set.
#[derive(Debug, Clone)]
pub struct StoredRuleSet {
    pub version: i32,
    pub source: String,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
}

/// The version in force (the latest), `None` while the site uses the default rules.
pub fn latest_version(conn: &mut DbConnection, site_id: SiteId) -> Result<Option<i32>, StoreError> {
    Ok(rule_sets::table
        .filter(rule_sets::site_id.eq(site_id))
        .select(diesel::dsl::max(rule_sets::version))
        .first(conn)?)
}

/// The TOML source of one version.
pub fn source_of(
    conn: &mut DbConnection,
    site_id: SiteId,
    version: i32,
) -> Result<String, StoreError> {
    Ok(rule_sets::table
        .filter(rule_sets::site_id.eq(site_id))
        .filter(rule_sets::version.eq(version))
        .select(rule_sets::source)
        .first(conn)?)
}

/// The version in force with its source and author.
pub fn latest(
    conn: &mut DbConnection,
    site_id: SiteId,
) -> Result<Option<StoredRuleSet>, StoreError> {
    let row = rule_sets::table
        .filter(rule_sets::site_id.eq(site_id))
        .order(rule_sets::version.desc())
        .select((
            rule_sets::version,
            rule_sets::source,
            rule_sets::created_by,
            rule_sets::created_at,
        ))
        .first::<(i32, String, String, chrono::NaiveDateTime)>(conn)
        .optional()?;
    Ok(
        row.map(|(version, source, created_by, created_at)| StoredRuleSet {
            version,
            source,
            created_by,
            created_at,
        }),
    )
}

/// Saves `source` as the site's next version (in force from now); the new version and when.
pub fn save(
    conn: &mut DbConnection,
    site_id: SiteId,
    source: &str,
    by: &str,
) -> Result<(i32, chrono::NaiveDateTime), StoreError> {
    write_tx(conn, |conn| {
        let version = latest_version(conn, site_id)?.unwrap_or(0) + 1;
        let at = now();
        diesel::insert_into(rule_sets::table)
            .values((
                rule_sets::site_id.eq(site_id),
                rule_sets::version.eq(version),
                rule_sets::source.eq(source),
                rule_sets::created_by.eq(by),
                rule_sets::created_at.eq(at),
            ))
            .execute(conn)?;
        Ok((version, at))
    })
}
