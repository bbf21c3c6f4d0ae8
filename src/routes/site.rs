//! The key's own site and its policy.

use actix_web::{get, patch, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::{ModerationMode, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store;

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteResponse {
    pub slug: String,
    /// `pre` holds every comment for review; `post` publishes.
    pub moderation_mode: String,
    /// Weighted reader reports past which a published comment is hidden.
    pub report_hide_threshold: f64,
    /// Role of the key that asked.
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteUpdate {
    #[serde(default)]
    pub moderation_mode: Option<ModerationMode>,
    /// Weighted reader reports past which a published comment is hidden (0.5 to 1000).
    #[serde(default)]
    #[schema(minimum = 0.5, maximum = 1000)]
    pub report_hide_threshold: Option<f64>,
}

/// The site of the calling key.
#[utoipa::path(get, path = "/v1/site", tag = "site", security(("bearer" = [])),
    responses((status = 200, body = SiteResponse)))]
#[get("/v1/site")]
pub async fn get_site(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let site_id = caller.site_id;
    let site = store::run(&state.pool, move |conn| store::sites::by_id(conn, site_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    Ok(HttpResponse::Ok().json(SiteResponse {
        slug: site.slug,
        moderation_mode: site.moderation_mode,
        report_hide_threshold: site.report_hide_threshold,
        role: caller.role.to_string(),
    }))
}

/// Change the site's moderation mode (admin).
#[utoipa::path(patch, path = "/v1/site", tag = "site", security(("bearer" = ["admin"])),
    request_body = SiteUpdate,
    responses((status = 200, body = SiteResponse)))]
#[patch("/v1/site")]
#[tracing::instrument(name = "update_site", skip_all, fields(key_id = caller.key_id))]
pub async fn update_site(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(update): ApiJson<SiteUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if let Some(t) = update.report_hide_threshold {
        if !(0.5..=1000.0).contains(&t) {
            return Err(crate::domain::intake::ValidationError::new(
                "report_hide_threshold",
                "must be between 0.5 and 1000",
            )
            .into());
        }
    }
    let site_id = caller.site_id;
    let site = store::run(&state.pool, move |conn| {
        store::sites::update(
            conn,
            site_id,
            update.moderation_mode,
            update.report_hide_threshold,
        )
    })
    .await?;
    tracing::info!(site = site.id, mode = %site.moderation_mode, "site moderation mode changed");
    Ok(HttpResponse::Ok().json(SiteResponse {
        slug: site.slug,
        moderation_mode: site.moderation_mode,
        report_hide_threshold: site.report_hide_threshold,
        role: caller.role.to_string(),
    }))
}
