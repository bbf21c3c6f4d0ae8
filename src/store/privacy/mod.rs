//! Personal data over time: the retention purge, the erasure of an author, and the export of
//! everything held about one.
//!
//! What counts as personal data here: readers' IP data (hash or network) and user agents,
//! authors' names, email hashes and ids, reporters' names, email hashes and identities, the
//! free texts of reports, appeals and moderators' notes (they quote and name people), and the
//! comment bodies of an erased author. What survives: the rows themselves with their
//! categories, statuses, times and reason codes, which is all the transparency report counts.

mod erase;
mod export;
mod purge;

pub use erase::{erase_author, ErasureCounts};
pub use export::export_author;
pub use purge::{purge, PurgeCounts, RetentionPolicy};

use diesel::prelude::*;

use super::records::AuthorRecord;
use super::schema::authors;
use super::DbConnection;
use crate::domain::SiteId;

/// The author of a site under its external id, if there is one.
fn site_author(
    conn: &mut DbConnection,
    site_id: SiteId,
    author_external_id: &str,
) -> QueryResult<Option<AuthorRecord>> {
    authors::table
        .filter(authors::site_id.eq(site_id))
        .filter(authors::external_id.eq(author_external_id))
        .select(AuthorRecord::as_select())
        .first(conn)
        .optional()
}
