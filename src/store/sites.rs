//! Sites (tenants), their settings, and the instance-wide secret.

use diesel::prelude::*;

use super::records::{NewSite, SiteRecord};
use super::schema::{instance_settings, sites, threads};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{ModerationMode, SiteId};

/// The site with this slug, created (in `pre` mode) if it is new.
pub fn find_or_create(conn: &mut DbConnection, slug: &str) -> Result<SiteRecord, StoreError> {
    write_tx(conn, |conn| {
        if let Some(site) = sites::table
            .filter(sites::slug.eq(slug))
            .select(SiteRecord::as_select())
            .first(conn)
            .optional()?
        {
            return Ok(site);
        }
        let site = diesel::insert_into(sites::table)
            .values(NewSite {
                slug,
                moderation_mode: ModerationMode::Pre,
                created_at: now(),
            })
            .returning(sites::all_columns)
            .get_result::<SiteRecord>(conn)?;
        Ok(site)
    })
}

pub fn by_id(conn: &mut DbConnection, id: SiteId) -> Result<Option<SiteRecord>, StoreError> {
    Ok(super::on_backend!(conn, |c| sites::table
        .find(id)
        .select(SiteRecord::as_select())
        .first(c)
        .optional())?)
}

/// The site's own thresholds (JSON), `None` when it uses the model's.
pub fn stored_thresholds(
    conn: &mut DbConnection,
    site_id: SiteId,
) -> Result<Option<String>, StoreError> {
    Ok(sites::table
        .find(site_id)
        .select(sites::thresholds)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Sets the site's thresholds (JSON) and the model version they were chosen for; `None`
/// returns to the model's.
pub fn set_thresholds(
    conn: &mut DbConnection,
    site_id: SiteId,
    thresholds: Option<&str>,
    model_version: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(sites::table.find(site_id))
        .set((
            sites::thresholds.eq(thresholds),
            sites::thresholds_model.eq(model_version),
        ))
        .execute(conn)?;
    Ok(())
}

/// Changes to a site's settings; `None` leaves a setting as it is (`Some(None)` clears a
/// nullable one).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = sites)]
pub struct SiteChanges<'a> {
    pub moderation_mode: Option<&'a str>,
    pub report_hide_threshold: Option<f64>,
    /// Country codes separated by spaces.
    pub territorial_scope: Option<String>,
    pub unscored_language: Option<&'a str>,
    pub new_author_premod: Option<Option<i32>>,
    pub appeal_text: Option<Option<String>>,
}

impl SiteChanges<'_> {
    fn is_empty(&self) -> bool {
        self.moderation_mode.is_none()
            && self.report_hide_threshold.is_none()
            && self.territorial_scope.is_none()
            && self.unscored_language.is_none()
            && self.new_author_premod.is_none()
            && self.appeal_text.is_none()
    }
}

/// Applies `changes` to the site (one statement); the site as it is then.
pub fn update(
    conn: &mut DbConnection,
    site_id: SiteId,
    changes: &SiteChanges<'_>,
) -> Result<SiteRecord, StoreError> {
    if !changes.is_empty() {
        diesel::update(sites::table.find(site_id))
            .set(changes)
            .execute(conn)?;
    }
    Ok(sites::table
        .find(site_id)
        .select(SiteRecord::as_select())
        .first(conn)?)
}

/// Changes a thread's status and moderation override; `None` when the thread is unknown.
pub fn update_thread(
    conn: &mut DbConnection,
    site_id: SiteId,
    external_id: &str,
    status: Option<crate::domain::ThreadStatus>,
    moderation_mode: Option<Option<ModerationMode>>,
    about: ThreadAbout<'_>,
) -> Result<Option<(super::records::ThreadRecord, bool)>, StoreError> {
    use super::records::ThreadRecord;
    write_tx(conn, |conn| {
        let target = threads::table
            .filter(threads::site_id.eq(site_id))
            .filter(threads::external_id.eq(external_id));
        let existing = target
            .select(ThreadRecord::as_select())
            .first(conn)
            .optional()?;
        let created = existing.is_none();
        // A thread set up before its first comment (an article closed or pre-moderated ahead
        // of publication): created here, as the first comment would.
        let thread = match existing {
            Some(thread) => thread,
            None => diesel::insert_into(threads::table)
                .values(super::records::NewThread {
                    site_id,
                    external_id,
                    url: about.url,
                    title: about.title,
                    status: crate::domain::ThreadStatus::Open,
                    created_at: super::now(),
                })
                .returning(threads::all_columns)
                .get_result::<ThreadRecord>(conn)?,
        };
        if let Some(url) = about.url {
            diesel::update(threads::table.find(thread.id))
                .set(threads::url.eq(url))
                .execute(conn)?;
        }
        if let Some(title) = about.title {
            diesel::update(threads::table.find(thread.id))
                .set(threads::title.eq(title))
                .execute(conn)?;
        }
        if let Some(status) = status {
            diesel::update(threads::table.find(thread.id))
                .set(threads::status.eq(status))
                .execute(conn)?;
        }
        if let Some(mode) = moderation_mode {
            diesel::update(threads::table.find(thread.id))
                .set(threads::moderation_mode.eq(mode))
                .execute(conn)?;
        }
        Ok(threads::table
            .find(thread.id)
            .select(ThreadRecord::as_select())
            .first(conn)
            .optional()?
            .map(|t| (t, created)))
    })
}

/// A thread's article, when a moderator names it (both optional, already validated).
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadAbout<'a> {
    pub url: Option<&'a str>,
    pub title: Option<&'a str>,
}

/// The key used to hash emails and IPs. A configured key wins; otherwise one is generated on
/// first use and kept in the database, so every replica of one database hashes alike.
pub fn instance_secret(
    conn: &mut DbConnection,
    configured: Option<&str>,
) -> Result<Vec<u8>, StoreError> {
    if let Some(key) = configured {
        return Ok(key.as_bytes().to_vec());
    }
    const NAME: &str = "hash_key";
    let existing: Option<String> = instance_settings::table
        .find(NAME)
        .select(instance_settings::value)
        .first(conn)
        .optional()?;
    if let Some(v) = existing {
        return hex::decode(v).map_err(|e| StoreError::Other(e.into()));
    }
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    // Two replicas may race here: insert-or-ignore, then read whichever won.
    let inserted = diesel::insert_into(instance_settings::table)
        .values((
            instance_settings::name.eq(NAME),
            instance_settings::value.eq(&fresh),
        ))
        .execute(conn);
    if let Err(e) = inserted {
        if !super::is_unique_violation(&e) {
            return Err(e.into());
        }
    }
    let stored: String = instance_settings::table
        .find(NAME)
        .select(instance_settings::value)
        .first(conn)?;
    hex::decode(stored).map_err(|e| StoreError::Other(e.into()))
}

/// Sets (or with `None` removes) a site's sealed Coral Talk signing secrets.
pub fn set_coral_secrets(
    conn: &mut DbConnection,
    site_id: SiteId,
    sealed: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(sites::table.find(site_id))
        .set(sites::coral_secrets.eq(sealed))
        .execute(conn)?;
    Ok(())
}

/// The sites with Coral Talk secrets: `(site id, sealed secrets)`.
pub fn coral_sites(conn: &mut DbConnection) -> Result<Vec<(SiteId, String)>, StoreError> {
    let rows: Vec<(SiteId, Option<String>)> = sites::table
        .filter(sites::coral_secrets.is_not_null())
        .select((sites::id, sites::coral_secrets))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, s)| Some((id, s?)))
        .collect())
}
