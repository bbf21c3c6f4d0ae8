//! `GET /v1/datasets/decisions`: the site's moderators' decisions and Perspective feedback as a
//! labelled CSV, streamed page by page (the rows are chosen in [`crate::store::datasets`]).

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::datasets::{self, Cursor, DatasetRow, Period};
use crate::store::{self, StoreError};

/// Longest `from`/`to` value read (an RFC 3339 time with nanoseconds and an offset is 35).
const MAX_DATE_CHARS: usize = 64;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DatasetQuery {
    /// Decisions taken from this day (`YYYY-MM-DD`, UTC, inclusive) or time (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Decisions taken up to this day (`YYYY-MM-DD`, UTC, the whole day included) or time
    /// (RFC 3339, inclusive); not before `from`.
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// One end of a period: a UTC day or an RFC 3339 time. A day given as `to` includes the whole
/// day, so the bound returned for it is the next midnight (exclusive); a time as `to` is
/// included (its bound is one microsecond later).
fn bound(field: &str, value: &str, upper: bool) -> Result<NaiveDateTime, ValidationError> {
    let invalid = || {
        ValidationError::new(
            field,
            "must be a day (YYYY-MM-DD) or an RFC 3339 time (2026-12-03T10:00:00Z)",
        )
    };
    if value.chars().count() > MAX_DATE_CHARS || value.trim() != value {
        return Err(invalid());
    }
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if upper {
            day.succ_opt().ok_or_else(invalid)?
        } else {
            day
        };
        return Ok(day.and_time(chrono::NaiveTime::MIN));
    }
    let t = chrono::DateTime::parse_from_rfc3339(value)
        .map_err(|_| invalid())?
        .naive_utc();
    Ok(if upper {
        t + chrono::Duration::microseconds(1)
    } else {
        t
    })
}

/// The period named by `from` and `to` (either optional); refused when `from` is after `to`.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<Period, ValidationError> {
    let from = from.map(|v| bound("from", v, false)).transpose()?;
    let until = to.map(|v| bound("to", v, true)).transpose()?;
    if let (Some(from), Some(until)) = (from, until) {
        if from >= until {
            return Err(ValidationError::new("to", "must not be before `from`"));
        }
    }
    Ok(Period { from, until })
}

/// Rows as CSV bytes, with the header line first when `header` is set.
pub fn csv_chunk(rows: &[DatasetRow], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if header {
        out.write_record(datasets::CSV_HEADER)?;
    }
    datasets::write_csv(&mut out, rows)?;
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The site's labelled comments as CSV (admin): one row per comment with a final human
/// decision (approve or restore: label 0; reject: label 1, category its reason code), then the
/// Perspective feedback the site's clients sent (`source` `perspective_feedback`). Comments of
/// erased authors, purged bodies, escalations and automated decisions are never exported.
#[utoipa::path(get, path = "/v1/datasets/decisions", tag = "datasets",
    security(("bearer" = ["admin"])),
    params(DatasetQuery),
    responses(
        (status = 200, description = "CSV with the columns `text, label, category, lang, decided_at, source`",
            content_type = "text/csv; charset=utf-8", body = String,
            headers(("content-disposition" = String, description = "attachment; filename=…"))),
    ))]
#[get("/v1/datasets/decisions")]
#[tracing::instrument(name = "dataset_export", skip_all, fields(key_id = caller.key_id.0))]
pub async fn decisions(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<DatasetQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let period = period(query.from.as_deref(), query.to.as_deref())?;
    let site = caller.site_id;
    // The first page before answering: a database that is down is a 503, not a cut stream.
    let (slug, first, next) = store::run(&state.pool, move |conn| {
        let slug = store::sites::by_id(conn, site)?
            .map(|s| s.slug)
            .unwrap_or_default();
        let (rows, next) = datasets::page(conn, site, period, Cursor::START)?;
        Ok::<_, StoreError>((slug, rows, next))
    })
    .await?;
    let first = csv_chunk(&first, true).map_err(|e| ApiError::Internal(e.into()))?;
    let pool = state.pool.clone();
    let rest = futures_util::stream::unfold(next, move |cursor| {
        let pool = pool.clone();
        async move {
            if cursor == Cursor::Done {
                return None;
            }
            let page = store::run(&pool, move |conn| {
                datasets::page(conn, site, period, cursor)
            })
            .await;
            let chunk = page
                .map_err(anyhow::Error::from)
                .and_then(|(rows, next)| Ok((csv_chunk(&rows, false)?, next)));
            Some(match chunk {
                Ok((bytes, next)) => (Ok(Bytes::from(bytes)), next),
                Err(e) => {
                    // The answer has begun: the client sees a cut stream, the log says why.
                    tracing::error!(error = %e, "dataset export failed mid-stream");
                    (
                        Err(actix_web::error::ErrorInternalServerError(
                            "dataset export failed",
                        )),
                        Cursor::Done,
                    )
                }
            })
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(first)) })
            .chain(rest);
    let filename = format!(
        "vigie-{}-decisions-{}.csv",
        sanitize(&slug),
        chrono::Utc::now().format("%Y%m%d")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}

/// A slug as a file name part: letters, digits, `-` and `_` kept, anything else `_`.
fn sanitize(slug: &str) -> String {
    slug.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_as_to_includes_the_whole_day_and_a_time_is_inclusive() {
        let p = period(Some("2026-12-01"), Some("2026-12-01")).unwrap();
        assert_eq!(p.from.unwrap().to_string(), "2026-12-01 00:00:00");
        assert_eq!(p.until.unwrap().to_string(), "2026-12-02 00:00:00");
        let p = period(
            Some("2026-12-01T10:00:00+01:00"),
            Some("2026-12-01T10:00:00Z"),
        )
        .unwrap();
        assert_eq!(p.from.unwrap().to_string(), "2026-12-01 09:00:00");
        assert_eq!(p.until.unwrap().to_string(), "2026-12-01 10:00:00.000001");
    }

    #[test]
    fn bad_dates_and_reversed_periods_name_the_parameter() {
        assert_eq!(period(Some("hier"), None).unwrap_err().field, "from");
        assert_eq!(period(None, Some("2026-13-01")).unwrap_err().field, "to");
        assert_eq!(
            period(Some("2026-12-02"), Some("2026-12-01"))
                .unwrap_err()
                .field,
            "to"
        );
        assert_eq!(period(None, Some("")).unwrap_err().field, "to");
        assert!(period(None, None).unwrap().from.is_none());
    }
}
