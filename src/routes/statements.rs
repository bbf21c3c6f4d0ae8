//! Statements of reasons (DSA art. 17), one or over a period, and the DSA transparency figures.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{CommentId, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{self, now};

/// The latest statement of reasons for a restriction of this comment (DSA Art. 17).
#[utoipa::path(get, path = "/v1/comments/{id}/statement", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Transparency Database fields", body = Object)))]
#[get("/v1/comments/{id}/statement")]
pub async fn statement(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    let s = store::run(&state.pool, move |conn| {
        store::statements::latest_statement(conn, site, id)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("statement of reasons for comment {id}")))?;
    let body: serde_json::Value =
        serde_json::from_str(&s.body).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// Start (RFC 3339 or YYYY-MM-DD), inclusive.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// End: an RFC 3339 time, exclusive, or a date (YYYY-MM-DD), whose whole day is included.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// `json` (default) or `csv` (transparency only).
    #[param(inline, value_type = Option<crate::openapi::values::FiguresFormat>)]
    pub format: Option<String>,
}

/// The exclusive end of a period: a time as given, or for a date the midnight after it (so that
/// `to=2026-12-31` counts the 31st).
fn period_end(value: &str) -> Result<NaiveDateTime, ApiError> {
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => day
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .ok_or_else(|| ValidationError::new("to", "is past the last supported date").into()),
        Err(_) => super::parse_time("to", value),
    }
}

fn period(q: &PeriodQuery) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
    let parse = super::parse_time;
    let from = q
        .from
        .as_deref()
        .map(|v| parse("from", v))
        .transpose()?
        .unwrap_or_default();
    let to = match q.to.as_deref() {
        Some(v) => period_end(v)?,
        None => now() + chrono::Duration::seconds(1),
    };
    if from >= to {
        return Err(ValidationError::new("to", "must be after `from`").into());
    }
    Ok((from, to))
}

/// Every statement of reasons of the period, as JSON lines in the Transparency Database shape
/// (no personal data), for submission to the Commission's database (admin).
#[utoipa::path(get, path = "/v1/statements", tag = "reports", security(("bearer" = ["admin"])),
    params(
        ("from" = Option<String>, Query, format = DateTime, description = "Start (RFC 3339 or YYYY-MM-DD), inclusive."),
        ("to" = Option<String>, Query, format = DateTime, description = "End, exclusive (RFC 3339 or YYYY-MM-DD), after `from`."),
    ),
    responses((status = 200, description = "one statement of reasons per line (JSON lines)", body = String,
        content_type = "application/x-ndjson")))]
#[get("/v1/statements")]
pub async fn statements(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (from, to) = period(&query)?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::statements::statements_between(conn, site, Some(from), Some(to))
    })
    .await?;
    let mut out = String::new();
    for s in rows {
        out.push_str(&s.body);
        out.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .body(out))
}

// ---------------------------------------------------------------------------------------------
// Transparency (DSA Art. 15)

/// The transparency figures of a period (JSON, or CSV with `format=csv`), admin only.
#[utoipa::path(get, path = "/v1/transparency", tag = "reports", security(("bearer" = ["admin"])),
    params(PeriodQuery),
    responses((status = 200, description = "the figures, as JSON or (`format=csv`) CSV",
        content((crate::transparency::Transparency = "application/json"), (String = "text/csv")))))]
#[get("/v1/transparency")]
pub async fn transparency(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (from, to) = period(&query)?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ValidationError::new(
                "format",
                format!("must be `json` or `csv`, not `{other}`"),
            )
            .into())
        }
    };
    let site = caller.site_id;
    let records = store::run(&state.pool, move |conn| {
        store::statistics::period(conn, site, from, to)
    })
    .await?;
    let figures = crate::transparency::compute(&records, from, to, state.classifier_metrics());
    if csv {
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(figures.to_csv()))
    } else {
        Ok(HttpResponse::Ok().json(figures))
    }
}
