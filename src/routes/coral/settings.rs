//! The site's Coral signing secrets (admin): stored sealed, never shown back.

use actix_web::{delete, get, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SEAL_PURPOSE;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store;

/// Secrets per site (Coral keeps the old one active while rotating).
const MAX_SECRETS: usize = 5;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 512;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralSettingsRequest {
    /// Coral's signing secrets for this site (copy them from Coral's external moderation
    /// phase settings): 1 to 5, each 16 to 512 characters without surrounding spaces.
    #[schema(schema_with = crate::openapi::values::coral_secrets)]
    pub secrets: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoralSettingsResponse {
    pub configured: bool,
    /// How many secrets are accepted (they are never shown back).
    pub secrets: usize,
    /// The path to give Coral as the phase URL (after this server's public address).
    pub endpoint: String,
}

/// The settings as shown: how many secrets, and the endpoint to give Coral.
fn settings_response(secrets: usize) -> CoralSettingsResponse {
    CoralSettingsResponse {
        configured: secrets > 0,
        secrets,
        endpoint: "/v1/integrations/coral/moderate".into(),
    }
}

/// Whether Coral Talk is configured for the site (admin).
#[utoipa::path(get, path = "/v1/integrations/coral", tag = "integrations", security(("bearer" = ["admin"])),
    responses((status = 200, body = CoralSettingsResponse)))]
#[get("/v1/integrations/coral")]
pub async fn get_settings(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site_id = caller.site_id;
    let site = store::run(&state.pool, move |conn| store::sites::by_id(conn, site_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let n = site
        .coral_secrets
        .and_then(|s| state.open(SEAL_PURPOSE, &s))
        .and_then(|raw| serde_json::from_slice::<Vec<String>>(&raw).ok())
        .map_or(0, |v| v.len());
    Ok(HttpResponse::Ok().json(settings_response(n)))
}

/// Set the Coral signing secrets of the site (admin); they replace any set before.
#[utoipa::path(put, path = "/v1/integrations/coral", tag = "integrations", security(("bearer" = ["admin"])),
    request_body = CoralSettingsRequest,
    responses((status = 200, body = CoralSettingsResponse)))]
#[put("/v1/integrations/coral")]
#[tracing::instrument(name = "set_coral", skip_all, fields(key_id = caller.key_id.0))]
pub async fn put_settings(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<CoralSettingsRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if request.secrets.is_empty() || request.secrets.len() > MAX_SECRETS {
        return Err(
            ValidationError::new("secrets", format!("give 1 to {MAX_SECRETS} secrets")).into(),
        );
    }
    for (i, s) in request.secrets.iter().enumerate() {
        let n = s.chars().count();
        if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) || s.trim() != s {
            return Err(ValidationError::new(
                format!("secrets[{i}]"),
                format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters, without surrounding spaces"),
            )
            .into());
        }
    }
    let n = request.secrets.len();
    let sealed = state.seal(
        SEAL_PURPOSE,
        &serde_json::to_vec(&request.secrets).map_err(|e| ApiError::Internal(e.into()))?,
    );
    let site_id = caller.site_id;
    store::run(&state.pool, move |conn| {
        store::sites::set_coral_secrets(conn, site_id, Some(&sealed))
    })
    .await?;
    tracing::info!(secrets = n, "Coral secrets set");
    Ok(HttpResponse::Ok().json(settings_response(n)))
}

/// Turn the Coral Talk endpoint off for the site (admin).
#[utoipa::path(delete, path = "/v1/integrations/coral", tag = "integrations", security(("bearer" = ["admin"])),
    responses((status = 204)))]
#[delete("/v1/integrations/coral")]
pub async fn delete_settings(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site_id = caller.site_id;
    store::run(&state.pool, move |conn| {
        store::sites::set_coral_secrets(conn, site_id, None)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
