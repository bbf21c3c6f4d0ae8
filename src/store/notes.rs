//! Moderators' notes about an author of a site: listed newest first, written by moderators,
//! deleted by their writer or an admin, and by the author's erasure.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::decisions::Actor;
use super::schema::{author_notes, authors};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{ApiKeyId, AuthorId, NoteId, SiteId};

/// Most notes kept about one author: past it, a note must be deleted before another is added.
pub const MAX_NOTES_PER_AUTHOR: i64 = 200;

/// A note as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = author_notes)]
pub struct NoteRecord {
    pub id: NoteId,
    pub author_id: AuthorId,
    pub text: String,
    pub created_by: String,
    pub created_by_key_id: Option<ApiKeyId>,
    pub created_at: NaiveDateTime,
}

/// Why a note could not be added or deleted.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    #[error("no such author or note")]
    NotFound,
    #[error("the author already has {MAX_NOTES_PER_AUTHOR} notes: delete one first")]
    Full,
    #[error("only the note's writer or an admin may delete it")]
    NotYours,
    #[error("the author was erased")]
    Erased,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for NoteError {
    fn from(e: diesel::result::Error) -> Self {
        NoteError::Store(e.into())
    }
}

/// The internal id and status of a site's author.
fn author_of(
    conn: &mut DbConnection,
    site_id: SiteId,
    external_id: &str,
) -> Result<Option<(AuthorId, String)>, diesel::result::Error> {
    authors::table
        .filter(authors::site_id.eq(site_id))
        .filter(authors::external_id.eq(external_id))
        .select((authors::id, authors::status))
        .first(conn)
        .optional()
}

/// The notes about an author, newest first; `None` when the site has no such author.
pub fn list(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
) -> Result<Option<Vec<NoteRecord>>, StoreError> {
    let Some((author, _)) = author_of(conn, site_id, author_external_id)? else {
        return Ok(None);
    };
    Ok(Some(of_author(conn, author)?))
}

/// The notes about one author (internal id), newest first.
pub fn of_author(
    conn: &mut DbConnection,
    author_id: AuthorId,
) -> Result<Vec<NoteRecord>, StoreError> {
    Ok(author_notes::table
        .filter(author_notes::author_id.eq(author_id))
        .order(author_notes::id.desc())
        .limit(MAX_NOTES_PER_AUTHOR)
        .select(NoteRecord::as_select())
        .load(conn)?)
}

/// Adds a note (text already validated) about an author.
pub fn add(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
    actor: &Actor,
    text: &str,
) -> Result<NoteRecord, NoteError> {
    write_tx(conn, |conn| {
        let (author, status) =
            author_of(conn, site_id, author_external_id)?.ok_or(NoteError::NotFound)?;
        if status == crate::domain::AuthorStatus::Deleted.as_str() {
            return Err(NoteError::Erased);
        }
        let count: i64 = author_notes::table
            .filter(author_notes::author_id.eq(author))
            .count()
            .get_result(conn)?;
        if count >= MAX_NOTES_PER_AUTHOR {
            return Err(NoteError::Full);
        }
        let note = diesel::insert_into(author_notes::table)
            .values((
                author_notes::site_id.eq(site_id),
                author_notes::author_id.eq(author),
                author_notes::text.eq(text),
                author_notes::created_by.eq(&actor.name),
                author_notes::created_by_key_id.eq(Some(actor.key_id)),
                author_notes::created_at.eq(now()),
            ))
            .returning((
                author_notes::id,
                author_notes::author_id,
                author_notes::text,
                author_notes::created_by,
                author_notes::created_by_key_id,
                author_notes::created_at,
            ))
            .get_result::<NoteRecord>(conn)?;
        Ok(note)
    })
}

/// Deletes a note of an author: its writer or an admin.
pub fn delete(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
    note_id: NoteId,
    actor: &Actor,
) -> Result<(), NoteError> {
    write_tx(conn, |conn| {
        let (author, _) =
            author_of(conn, site_id, author_external_id)?.ok_or(NoteError::NotFound)?;
        let writer: Option<ApiKeyId> = author_notes::table
            .filter(author_notes::id.eq(note_id))
            .filter(author_notes::author_id.eq(author))
            .select(author_notes::created_by_key_id)
            .first(conn)
            .optional()?
            .ok_or(NoteError::NotFound)?;
        if !actor.is_admin && writer != Some(actor.key_id) {
            return Err(NoteError::NotYours);
        }
        diesel::delete(author_notes::table.find(note_id)).execute(conn)?;
        Ok(())
    })
}

/// Deletes every note about an author (erasure); how many.
pub fn erase(conn: &mut DbConnection, author_id: AuthorId) -> Result<usize, diesel::result::Error> {
    diesel::delete(author_notes::table.filter(author_notes::author_id.eq(author_id))).execute(conn)
}
