//! Moderator console sessions: a random token given to the browser in a cookie, stored here as
//! its SHA-256 with the key it was opened with, its CSRF token, language and expiry.

use base64::Engine;
use diesel::prelude::*;

use super::records::ApiKeyRecord;
use super::schema::{api_keys, console_sessions};
use super::{now, DbConnection, StoreError};
use crate::domain::ApiKeyId;

/// A session found by its token, with the live key behind it.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub key: ApiKeyRecord,
    pub csrf_token: String,
    pub language: String,
    pub expires_at: chrono::NaiveDateTime,
}

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Opens a session for `key_id`; returns (token, csrf token). Expired sessions are swept.
pub fn create(
    conn: &mut DbConnection,
    key_id: ApiKeyId,
    language: &str,
    lifetime: chrono::Duration,
) -> Result<(String, String, chrono::NaiveDateTime), StoreError> {
    let token = random_token();
    let csrf = random_token();
    let created = now();
    let expires = created + lifetime;
    diesel::delete(console_sessions::table.filter(console_sessions::expires_at.lt(created)))
        .execute(conn)?;
    diesel::insert_into(console_sessions::table)
        .values((
            console_sessions::token_hash.eq(super::keys::hash_secret(&token)),
            console_sessions::key_id.eq(key_id),
            console_sessions::csrf_token.eq(&csrf),
            console_sessions::language.eq(language),
            console_sessions::created_at.eq(created),
            console_sessions::expires_at.eq(expires),
        ))
        .execute(conn)?;
    Ok((token, csrf, expires))
}

/// A session's last use is written at most this often (not on every request).
const LAST_SEEN_GRANULARITY: chrono::Duration = chrono::Duration::seconds(30);

/// The session of this token, neither expired nor idle for longer than `idle`, whose key is
/// not revoked (a disabled account's key is); its last use is noted.
pub fn find(
    conn: &mut DbConnection,
    token: &str,
    idle: chrono::Duration,
) -> Result<Option<Session>, StoreError> {
    let at = now();
    let idle_since = at - idle;
    let token_hash = super::keys::hash_secret(token);
    let row = console_sessions::table
        .inner_join(api_keys::table)
        .filter(console_sessions::token_hash.eq(&token_hash))
        .filter(console_sessions::expires_at.gt(at))
        .filter(
            console_sessions::last_seen_at
                .gt(idle_since)
                .or(console_sessions::last_seen_at
                    .is_null()
                    .and(console_sessions::created_at.gt(idle_since))),
        )
        .filter(api_keys::revoked_at.is_null())
        .select((
            console_sessions::token_hash,
            ApiKeyRecord::as_select(),
            console_sessions::csrf_token,
            console_sessions::language,
            console_sessions::expires_at,
        ))
        .first::<(String, ApiKeyRecord, String, String, chrono::NaiveDateTime)>(conn)
        .optional()?;
    if row.is_some() {
        let stale = at - LAST_SEEN_GRANULARITY;
        diesel::update(
            console_sessions::table.find(&token_hash).filter(
                console_sessions::last_seen_at
                    .lt(stale)
                    .or(console_sessions::last_seen_at
                        .is_null()
                        .and(console_sessions::created_at.lt(stale))),
            ),
        )
        .set(console_sessions::last_seen_at.eq(Some(at)))
        .execute(conn)?;
    }
    Ok(row.map(
        |(token_hash, key, csrf_token, language, expires_at)| Session {
            token_hash,
            key,
            csrf_token,
            language,
            expires_at,
        },
    ))
}

pub fn set_language(
    conn: &mut DbConnection,
    token_hash: &str,
    language: &str,
) -> Result<(), StoreError> {
    use super::schema::console_preferences as prefs;
    diesel::update(console_sessions::table.find(token_hash))
        .set(console_sessions::language.eq(language))
        .execute(conn)?;
    // The moderator's choice outlives the session.
    let key_id: Option<ApiKeyId> = console_sessions::table
        .find(token_hash)
        .select(console_sessions::key_id)
        .first(conn)
        .optional()?;
    if let Some(key_id) = key_id {
        let updated = diesel::update(prefs::table.find(key_id))
            .set(prefs::language.eq(language))
            .execute(conn)?;
        if updated == 0 {
            let inserted = diesel::insert_into(prefs::table)
                .values((prefs::key_id.eq(key_id), prefs::language.eq(language)))
                .execute(conn);
            if let Err(e) = inserted {
                if !super::is_unique_violation(&e) {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

/// The language a moderator chose last, if any.
pub fn preferred_language(
    conn: &mut DbConnection,
    key_id: ApiKeyId,
) -> Result<Option<String>, StoreError> {
    use super::schema::console_preferences as prefs;
    Ok(prefs::table
        .find(key_id)
        .select(prefs::language)
        .first(conn)
        .optional()?)
}

pub fn delete(conn: &mut DbConnection, token_hash: &str) -> Result<(), StoreError> {
    diesel::delete(console_sessions::table.find(token_hash)).execute(conn)?;
    Ok(())
}

/// Deletes the session of `token` if it belongs to key `key_id`.
pub fn delete_of(conn: &mut DbConnection, token: &str, key_id: ApiKeyId) -> Result<(), StoreError> {
    diesel::delete(
        console_sessions::table
            .find(super::keys::hash_secret(token))
            .filter(console_sessions::key_id.eq(key_id)),
    )
    .execute(conn)?;
    Ok(())
}
