//! Webhook endpoints of a site: created (at most [`MAX_ENDPOINTS_PER_SITE`]), listed,
//! changed, and deleted with their deliveries and attempt log.

use diesel::prelude::*;

use super::{events_column, EndpointRecord, MAX_ENDPOINTS_PER_SITE};
use crate::domain::events::EventType;
use crate::domain::{EndpointId, SiteId};
use crate::store::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::store::{now, write_tx, DbConnection, StoreError};

/// A new endpoint's fields.
pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub description: Option<&'a str>,
    pub events: &'a [EventType],
    pub secret_sealed: &'a str,
}

/// Why an endpoint could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("a site has at most {MAX_ENDPOINTS_PER_SITE} webhook endpoints")]
    TooMany,
    #[error("webhook endpoint not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Adds an endpoint to a site, active, unless the site has the most it may.
pub fn create_endpoint(
    conn: &mut DbConnection,
    site_id: SiteId,
    new: &NewEndpoint<'_>,
) -> Result<EndpointRecord, EndpointError> {
    write_tx(conn, |conn| {
        let count: i64 = webhook_endpoints::table
            .filter(webhook_endpoints::site_id.eq(site_id))
            .count()
            .get_result(conn)?;
        if count >= MAX_ENDPOINTS_PER_SITE {
            return Err(EndpointError::TooMany);
        }
        let t = now();
        Ok(diesel::insert_into(webhook_endpoints::table)
            .values((
                webhook_endpoints::site_id.eq(site_id),
                webhook_endpoints::url.eq(new.url),
                webhook_endpoints::description.eq(new.description),
                webhook_endpoints::events.eq(events_column(new.events)),
                webhook_endpoints::secret_sealed.eq(new.secret_sealed),
                webhook_endpoints::active.eq(true),
                webhook_endpoints::created_at.eq(t),
                webhook_endpoints::updated_at.eq(t),
            ))
            .returning(webhook_endpoints::all_columns)
            .get_result(conn)?)
    })
}

/// The endpoints of a site, oldest first.
pub fn endpoints(
    conn: &mut DbConnection,
    site_id: SiteId,
) -> Result<Vec<EndpointRecord>, StoreError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::site_id.eq(site_id))
        .order(webhook_endpoints::id)
        .select(EndpointRecord::as_select())
        .load(conn)?)
}

/// One endpoint of a site.
pub fn endpoint(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: EndpointId,
) -> Result<Option<EndpointRecord>, StoreError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::site_id.eq(site_id))
        .filter(webhook_endpoints::id.eq(id))
        .select(EndpointRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub events: Option<Vec<EventType>>,
    pub active: Option<bool>,
    pub secret_sealed: Option<String>,
}

/// Applies changes to an endpoint of a site.
pub fn update_endpoint(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: EndpointId,
    changes: EndpointChanges,
) -> Result<EndpointRecord, EndpointError> {
    write_tx(conn, |conn| {
        let current = endpoint(conn, site_id, id)
            .map_err(|e| EndpointError::Db(e.into()))?
            .ok_or(EndpointError::NotFound)?;
        let events = changes
            .events
            .as_deref()
            .map(events_column)
            .unwrap_or(current.events);
        Ok(diesel::update(webhook_endpoints::table.find(id))
            .set((
                webhook_endpoints::url.eq(changes.url.unwrap_or(current.url)),
                webhook_endpoints::description
                    .eq(changes.description.unwrap_or(current.description)),
                webhook_endpoints::events.eq(events),
                webhook_endpoints::active.eq(changes.active.unwrap_or(current.active)),
                webhook_endpoints::secret_sealed
                    .eq(changes.secret_sealed.unwrap_or(current.secret_sealed)),
                webhook_endpoints::updated_at.eq(now()),
            ))
            .returning(webhook_endpoints::all_columns)
            .get_result(conn)?)
    })
}

/// Deletes an endpoint with its deliveries and attempt log.
pub fn delete_endpoint(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: EndpointId,
) -> Result<bool, StoreError> {
    let deleted = write_tx(conn, |conn| {
        let exists = endpoint(conn, site_id, id).map_err(diesel::result::Error::from)?;
        if exists.is_none() {
            return Ok::<_, diesel::result::Error>(false);
        }
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::endpoint_id.eq(id)))
            .execute(conn)?;
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
            .execute(conn)?;
        diesel::delete(webhook_endpoints::table.find(id)).execute(conn)?;
        Ok(true)
    })?;
    Ok(deleted)
}
