//! Per-moderator figures for admins: decisions per day, time to decision, share overturned.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// Longest period of the per-moderator figures (days).
const MAX_FIGURE_DAYS: i64 = 366;
/// Default period of the per-moderator figures (days).
const DEFAULT_FIGURE_DAYS: i64 = 30;

#[derive(Debug, Deserialize, IntoParams)]
pub struct FiguresQuery {
    /// The period: the last this many days, 1 to 366 (default 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    pub date: chrono::NaiveDate,
    pub decisions: i64,
}

/// One moderator's (account's or key's) work over the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModeratorFigures {
    pub key_id: i64,
    /// The name decisions were recorded with (the account's name).
    pub name: String,
    pub decisions: i64,
    /// Decisions per day (days without any left out), oldest first.
    pub decisions_per_day: Vec<DayCount>,
    /// Median seconds from a comment's arrival to this moderator's decision on it.
    pub median_seconds_to_decision: Option<i64>,
    /// Decisions reversed on appeal.
    pub overturned: i64,
    /// `overturned` / `decisions`.
    pub overturned_share: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModeratorFiguresPage {
    pub since: DateTime<Utc>,
    /// Busiest first.
    pub moderators: Vec<ModeratorFigures>,
}

/// Per-moderator figures (admin): human decisions per day, median time to decision, share
/// overturned on appeal.
#[utoipa::path(get, path = "/v1/moderators/figures", tag = "accounts", security(("bearer" = ["admin"])),
    params(FiguresQuery),
    responses((status = 200, body = ModeratorFiguresPage)))]
#[get("/v1/moderators/figures")]
pub async fn figures(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<FiguresQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let days = query.days.unwrap_or(DEFAULT_FIGURE_DAYS);
    if !(1..=MAX_FIGURE_DAYS).contains(&days) {
        return Err(ValidationError::new(
            "days",
            format!("must be between 1 and {MAX_FIGURE_DAYS}"),
        )
        .into());
    }
    let since = store::now() - chrono::Duration::days(days);
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::accounts::moderator_figures(conn, site, since)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ModeratorFiguresPage {
        since: since.and_utc(),
        moderators: rows
            .into_iter()
            .map(|f| ModeratorFigures {
                key_id: f.key_id.0,
                name: f.name,
                overturned_share: if f.decisions > 0 {
                    f.overturned as f64 / f.decisions as f64
                } else {
                    0.0
                },
                decisions: f.decisions,
                decisions_per_day: f
                    .by_day
                    .into_iter()
                    .map(|(date, decisions)| DayCount { date, decisions })
                    .collect(),
                median_seconds_to_decision: f.median_seconds_to_decision,
                overturned: f.overturned,
            })
            .collect(),
    }))
}
