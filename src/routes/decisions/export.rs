//! The decision log as CSV, streamed page by page.

use actix_web::{get, web, HttpResponse};

use super::audit::DecisionLogQuery;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::CommentStatus;
use crate::error::ApiError;
use crate::routes::{moderator, utc};
use crate::state::AppState;
use crate::store;

/// Decisions read per database round trip while streaming the CSV.
const CSV_PAGE: i64 = 500;

/// The CSV's columns.
pub const AUDIT_CSV_HEADER: [&str; 13] = [
    "id",
    "created_at",
    "actor",
    "source",
    "action",
    "from_status",
    "to_status",
    "reason",
    "comment_id",
    "internal_note",
    "note_to_author",
    "origin",
    "network",
];

/// A cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading `'` (OWASP "CSV injection").
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The rows as CSV; `networks` false leaves the network cells empty (moderators' keys).
fn audit_csv(
    rows: &[store::records::DecisionRecord],
    header: bool,
    networks: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if header {
        out.write_record(AUDIT_CSV_HEADER)?;
    }
    for d in rows {
        let created_at = utc(d.created_at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (id, comment_id) = (d.id.to_string(), d.comment_id.to_string());
        let network = if networks {
            d.origin_network.as_deref()
        } else {
            None
        };
        let cells: [&str; 13] = [
            &id,
            &created_at,
            &d.actor,
            &d.source,
            d.action.as_deref().unwrap_or(""),
            d.from_status.map_or("", CommentStatus::as_str),
            d.to_status.as_str(),
            d.reason.as_deref().unwrap_or(""),
            &comment_id,
            d.note.as_deref().unwrap_or(""),
            d.note_to_author.as_deref().unwrap_or(""),
            d.origin.as_deref().unwrap_or(""),
            network.unwrap_or(""),
        ];
        out.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The site's decision log as CSV (same filters as `GET /v1/decisions`, without pages),
/// newest first, streamed; cells that a spreadsheet would read as a formula start with `'`.
#[utoipa::path(get, path = "/v1/decisions.csv", tag = "moderation", security(("bearer" = ["moderator", "admin"])),
    params(DecisionLogQuery),
    responses((status = 200, description = "CSV with the columns `id, created_at, actor, source, action, from_status, to_status, reason, comment_id, internal_note, note_to_author, origin, network` (the network for admins only)",
            content_type = "text/csv; charset=utf-8", body = String,
            headers(("content-disposition" = String, description = "attachment; filename=…")))))]
#[get("/v1/decisions.csv")]
#[tracing::instrument(name = "decision_log_csv", skip_all, fields(key_id = caller.key_id.0))]
pub async fn decision_log_csv(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<DecisionLogQuery>,
) -> Result<HttpResponse, ApiError> {
    use actix_web::web::Bytes;
    use futures_util::StreamExt;
    moderator(&caller)?;
    let q = query.into_inner();
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(ValidationError::new(
            if q.limit.is_some() { "limit" } else { "cursor" },
            "the CSV holds every matching decision: no pages",
        )
        .into());
    }
    let filter = std::sync::Arc::new(q.filter()?);
    let site = caller.site_id;
    // The first page before answering: a database that is down is a 503, not a cut stream.
    let first_filter = filter.clone();
    let first = store::run(&state.pool, move |conn| {
        store::decisions::decision_log(conn, site, &first_filter, None, CSV_PAGE)
    })
    .await?;
    let next = (first.len() as i64 == CSV_PAGE)
        .then(|| first.last().map(|d| d.id))
        .flatten();
    let networks = caller.role == crate::domain::Role::Admin;
    let head = audit_csv(&first, true, networks).map_err(|e| ApiError::Internal(e.into()))?;
    let pool = state.pool.clone();
    let rest = futures_util::stream::unfold(next, move |before| {
        let pool = pool.clone();
        let filter = filter.clone();
        async move {
            let before = before?;
            let page = store::run(&pool, move |conn| {
                store::decisions::decision_log(conn, site, &filter, Some(before), CSV_PAGE)
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|rows| {
                let next = (rows.len() as i64 == CSV_PAGE)
                    .then(|| rows.last().map(|d| d.id))
                    .flatten();
                Ok((audit_csv(&rows, false, networks)?, next))
            });
            Some(match page {
                Ok((bytes, next)) => (Ok(Bytes::from(bytes)), next),
                Err(e) => {
                    // The answer has begun: the client sees a cut stream, the log says why.
                    tracing::error!(error = %e, "audit log export failed mid-stream");
                    (
                        Err(actix_web::error::ErrorInternalServerError(
                            "audit log export failed",
                        )),
                        None,
                    )
                }
            })
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(head)) })
            .chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"vigie-decisions-{}.csv\"",
                chrono::Utc::now().format("%Y%m%d")
            ),
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_cells_are_quoted_and_others_left_alone() {
        for cell in ["=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
        }
        for cell in ["", "approve", "a=b", "Marie-Claire", "'quoted"] {
            assert_eq!(spreadsheet_safe(cell), cell);
        }
    }
}
