//! API keys: created with a random secret shown once, stored as its SHA-256.

use base64::Engine;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::records::{ApiKeyRecord, NewApiKey, SiteRecord};
use super::schema::{api_keys, sites};
use super::{now, DbConnection, StoreError};
use crate::domain::{ApiKeyId, Role};

/// Every secret starts with this, so leaked keys are easy to scan for.
pub const SECRET_PREFIX: &str = "vigie_";
/// Characters of the secret kept in clear to tell keys apart in listings.
const SHOWN_CHARS: usize = 12;

/// A key just created: the only moment its secret exists outside the client.
#[derive(Debug)]
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    pub site: SiteRecord,
    pub secret: String,
}

/// SHA-256 of the secret, hex. Secrets carry 256 random bits, so no stretching is needed.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn create(
    conn: &mut DbConnection,
    site_slug: &str,
    role: Role,
    name: &str,
) -> Result<CreatedKey, StoreError> {
    let site = super::sites::find_or_create(conn, site_slug)?;
    let random =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let secret = format!("{SECRET_PREFIX}{random}");
    let prefix: String = secret.chars().take(SHOWN_CHARS).collect();
    let record = diesel::insert_into(api_keys::table)
        .values(NewApiKey {
            site_id: site.id,
            role,
            name,
            prefix: &prefix,
            secret_hash: &hash_secret(&secret),
            created_at: now(),
        })
        .returning(api_keys::all_columns)
        .get_result::<ApiKeyRecord>(conn)?;
    Ok(CreatedKey {
        record,
        site,
        secret,
    })
}

/// Every key with its site's slug, oldest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<(ApiKeyRecord, String)>, StoreError> {
    Ok(api_keys::table
        .inner_join(sites::table)
        .order(api_keys::id)
        .select((ApiKeyRecord::as_select(), sites::slug))
        .load(conn)?)
}

/// Revokes a key; `false` when no such key exists. Revoking twice keeps the first time.
/// The name of key `id`, if it exists.
pub fn name_of(conn: &mut DbConnection, id: ApiKeyId) -> Result<Option<String>, StoreError> {
    Ok(api_keys::table
        .find(id)
        .select(api_keys::name)
        .first::<String>(conn)
        .optional()?)
}

pub fn revoke(conn: &mut DbConnection, id: ApiKeyId) -> Result<bool, StoreError> {
    let exists = api_keys::table
        .find(id)
        .select(api_keys::id)
        .first::<ApiKeyId>(conn)
        .optional()?
        .is_some();
    if exists {
        diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(now())))
        .execute(conn)?;
    }
    Ok(exists)
}

/// The live key with this secret, if any.
pub fn authenticate(
    conn: &mut DbConnection,
    secret: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    let hash = hash_secret(secret);
    Ok(super::on_backend!(conn, |c| api_keys::table
        .filter(api_keys::secret_hash.eq(&hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRecord::as_select())
        .first(c)
        .optional())?)
}
