//! Reading comments: one by id (with the site-facing ids of what it points to), by external id,
//! a thread's visible comments for display, and a comment's decision log.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::domain::{CommentId, CommentStatus, SiteId, ThreadId};
use crate::store::records::CommentRecord;
use crate::store::schema::{authors, comments, decisions, threads};
use crate::store::{DbConnection, StoreError};

/// A comment with the site-facing ids of what it points to.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub comment: CommentRecord,
    pub thread_external_id: String,
    pub author_external_id: String,
    pub author_name: Option<String>,
    pub parent_external_id: Option<String>,
}

/// A comment of the site, whatever its status; `None` for another site's.
pub fn site_comment(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: CommentId,
) -> Result<Option<CommentRecord>, diesel::result::Error> {
    comments::table
        .filter(comments::id.eq(id))
        .filter(comments::site_id.eq(site_id))
        .select(CommentRecord::as_select())
        .first(conn)
        .optional()
}

/// The id of a comment of the site by its external id.
pub fn by_external_id(
    conn: &mut DbConnection,
    site_id: SiteId,
    external_id: &str,
) -> Result<Option<CommentId>, diesel::result::Error> {
    crate::store::on_backend!(conn, |c| comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(comments::external_id.eq(external_id))
        .select(comments::id)
        .first(c)
        .optional())
}

/// One comment with its thread, author and parent ids.
pub fn view(conn: &mut DbConnection, id: CommentId) -> Result<Option<CommentView>, StoreError> {
    let row = comments::table
        .inner_join(threads::table)
        .inner_join(authors::table)
        .filter(comments::id.eq(id))
        .select((
            CommentRecord::as_select(),
            threads::external_id,
            authors::external_id,
            authors::display_name,
        ))
        .first::<(CommentRecord, String, String, Option<String>)>(conn)
        .optional()?;
    let Some((comment, thread_external_id, author_external_id, author_name)) = row else {
        return Ok(None);
    };
    let parent_external_id = match comment.parent_id {
        None => None,
        Some(pid) => comments::table
            .find(pid)
            .select(comments::external_id)
            .first(conn)
            .optional()?,
    };
    Ok(Some(CommentView {
        comment,
        thread_external_id,
        author_external_id,
        author_name,
        parent_external_id,
    }))
}

/// A page of a thread's visible comments, oldest first, after the comment id `after`.
/// Returns `None` when the site has no such thread.
pub fn visible_in_thread(
    conn: &mut DbConnection,
    site_id: SiteId,
    thread_external_id: &str,
    after: Option<CommentId>,
    limit: i64,
) -> Result<Option<Vec<CommentView>>, StoreError> {
    let thread: Option<ThreadId> = threads::table
        .filter(threads::site_id.eq(site_id))
        .filter(threads::external_id.eq(thread_external_id))
        .select(threads::id)
        .first(conn)
        .optional()?;
    let Some(thread_id) = thread else {
        return Ok(None);
    };
    let visible: Vec<CommentStatus> = CommentStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_visible())
        .collect();
    let rows = comments::table
        .inner_join(authors::table)
        .filter(comments::thread_id.eq(thread_id))
        .filter(comments::status.eq_any(visible))
        .filter(comments::id.gt(after.unwrap_or(CommentId(0))))
        .order(comments::id.asc())
        .limit(limit)
        .select((
            CommentRecord::as_select(),
            authors::external_id,
            authors::display_name,
        ))
        .load::<(CommentRecord, String, Option<String>)>(conn)?;
    let parent_ids: Vec<CommentId> = rows.iter().filter_map(|(c, _, _)| c.parent_id).collect();
    let parents: HashMap<CommentId, String> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        comments::table
            .filter(comments::id.eq_any(parent_ids))
            .select((comments::id, comments::external_id))
            .load::<(CommentId, String)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(Some(
        rows.into_iter()
            .map(|(comment, author_external_id, author_name)| CommentView {
                parent_external_id: comment.parent_id.and_then(|p| parents.get(&p).cloned()),
                thread_external_id: thread_external_id.to_owned(),
                author_external_id,
                author_name,
                comment,
            })
            .collect(),
    ))
}

/// The decision log of one comment, oldest first.
pub fn decisions_of(
    conn: &mut DbConnection,
    comment_id: CommentId,
) -> Result<Vec<crate::store::records::DecisionRecord>, StoreError> {
    use crate::store::records::DecisionRecord;
    Ok(decisions::table
        .filter(decisions::comment_id.eq(comment_id))
        .order(decisions::id.asc())
        .select(DecisionRecord::as_select())
        .load(conn)?)
}
