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
    /// Role of the key that asked.
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteUpdate {
    pub moderation_mode: ModerationMode,
}

/// The site of the calling key.
#[utoipa::path(get, path = "/v1/site", tag = "site", security(("bearer" = [])),
    responses((status = 200, body = SiteResponse),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json")))]
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
        role: caller.role.to_string(),
    }))
}

/// Change the site's moderation mode (admin).
#[utoipa::path(patch, path = "/v1/site", tag = "site", security(("bearer" = [])),
    request_body = SiteUpdate,
    responses((status = 200, body = SiteResponse),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json")))]
#[patch("/v1/site")]
#[tracing::instrument(name = "update_site", skip_all, fields(key_id = caller.key_id))]
pub async fn update_site(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(update): ApiJson<SiteUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site_id = caller.site_id;
    let site = store::run(&state.pool, move |conn| {
        store::sites::set_moderation_mode(conn, site_id, update.moderation_mode)
    })
    .await?;
    tracing::info!(site = site.id, mode = %site.moderation_mode, "site moderation mode changed");
    Ok(HttpResponse::Ok().json(SiteResponse {
        slug: site.slug,
        moderation_mode: site.moderation_mode,
        role: caller.role.to_string(),
    }))
}
