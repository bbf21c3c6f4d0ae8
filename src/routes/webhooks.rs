//! Webhook endpoints of the key's site (admin): create (the secret is shown once), list,
//! change, delete, rotate the secret, read the delivery log, redeliver.

use super::utc;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::domain::events::EventType;
use crate::domain::intake::ValidationError;
use crate::domain::{DeliveryId, DeliveryStatus, EndpointId, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::{self, outbox};
use crate::webhooks::{new_secret, refused_destination, AllowedHosts, SEAL_PURPOSE};

const MAX_URL_CHARS: usize = 2048;
const MAX_DESCRIPTION_CHARS: usize = 200;
/// Deliveries shown per page of the log, at most.
const MAX_LOG_ROWS: i64 = 200;

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// Where events are POSTed: an `https://` (or `http://`) URL, not on a loopback, private,
    /// link-local or multicast address unless its host is in `webhook_allow_hosts`.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~/-]*)?$"
    )]
    pub url: String,
    /// The event types wanted (at least one).
    #[schema(min_items = 1)]
    pub events: Vec<EventType>,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookUpdate {
    #[serde(default)]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~/-]*)?$"
    )]
    pub url: Option<String>,
    #[serde(default)]
    #[schema(min_items = 1)]
    pub events: Option<Vec<EventType>>,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// `false` pauses deliveries (they wait in the outbox), `true` resumes them.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<EventType>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only when created or rotated: `whsec_…`, shown once. Verify `webhook-signature` with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// HTTP status of the receiver's answer; `null` when there was none (timeout, refused).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: i64,
    /// The event id (`webhook-id` header), the same on every attempt.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (retries given up after 24 hours).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The latest attempts, newest first (at most 10).
    pub recent_attempts: Vec<AttemptResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLog {
    pub items: Vec<DeliveryResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    #[param(inline, value_type = Option<DeliveryStatus>)]
    pub status: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn response(e: outbox::EndpointRecord, secret: Option<String>) -> WebhookResponse {
    WebhookResponse {
        id: e.id.0,
        events: e.event_types(),
        url: e.url,
        description: e.description,
        active: e.active,
        created_at: utc(e.created_at),
        updated_at: utc(e.updated_at),
        secret,
    }
}

fn delivery_response(
    d: outbox::DeliveryRecord,
    attempts: Vec<outbox::AttemptRecord>,
) -> DeliveryResponse {
    DeliveryResponse {
        id: d.id.0,
        event_id: d.event_id,
        event_type: d.event_type,
        next_attempt_at: (d.status == DeliveryStatus::Pending).then(|| utc(d.next_attempt_at)),
        status: d.status.to_string(),
        attempts: d.attempts,
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        created_at: utc(d.created_at),
        delivered_at: d.delivered_at.map(utc),
        payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        recent_attempts: attempts
            .into_iter()
            .map(|a| AttemptResponse {
                attempt: a.attempt,
                at: utc(a.created_at),
                status_code: a.status_code,
                error: a.error,
                duration_ms: a.duration_ms,
            })
            .collect(),
    }
}

fn webhook_url(raw: String, allow: &AllowedHosts) -> Result<String, ApiError> {
    let raw = raw.trim().to_owned();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(ValidationError::new(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters"),
        )
        .into());
    }
    match url::Url::parse(&raw) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                return Err(ValidationError::new(
                    "url",
                    "must not carry credentials; receivers verify the signature instead",
                )
                .into());
            }
            if let Some(host) = refused_destination(&u, allow) {
                return Err(ValidationError::new(
                    "url",
                    format!(
                        "must not point at a loopback, private, link-local or multicast address \
                         (`{host}`); an administrator can list the host in `webhook_allow_hosts`"
                    ),
                )
                .into());
            }
            Ok(raw)
        }
        _ => Err(ValidationError::new("url", "must be an absolute http:// or https:// URL").into()),
    }
}

fn event_list(events: Vec<EventType>) -> Result<Vec<EventType>, ApiError> {
    let mut out: Vec<EventType> = Vec::new();
    for e in events {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err(ValidationError::new("events", "name at least one event type").into());
    }
    Ok(out)
}

fn endpoint_error(e: outbox::EndpointError, id: EndpointId) -> ApiError {
    match e {
        outbox::EndpointError::TooMany => ApiError::Conflict(e.to_string()),
        outbox::EndpointError::NotFound => ApiError::NotFound(format!("webhook {id}")),
        outbox::EndpointError::Db(e) => store::StoreError::from(e).into(),
    }
}

/// Add a webhook endpoint (admin). The answer holds the signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = ["admin"])),
    request_body = WebhookRequest,
    responses((status = 201, body = WebhookResponse),
        (status = 409, description = "the site already has 10 endpoints", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/webhooks")]
#[tracing::instrument(name = "create_webhook", skip_all, fields(key_id = caller.key_id.0))]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<WebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let allow = AllowedHosts::new(&state.settings.webhook_allow_hosts);
    let url = webhook_url(request.url, &allow)?;
    let events = event_list(request.events)?;
    let description =
        super::optional_text("description", request.description, MAX_DESCRIPTION_CHARS)?;
    let secret = new_secret();
    let sealed = state.seal(SEAL_PURPOSE, secret.as_bytes());
    let site = caller.site_id;
    let created = store::run(&state.pool, move |conn| {
        Ok(outbox::create_endpoint(
            conn,
            site,
            &outbox::NewEndpoint {
                url: &url,
                description: description.as_deref(),
                events: &events,
                secret_sealed: &sealed,
            },
        ))
    })
    .await?
    .map_err(|e| endpoint_error(e, EndpointId(0)))?;
    tracing::info!(webhook_id = created.id.0, "webhook endpoint created");
    Ok(HttpResponse::Created().json(response(created, Some(secret))))
}

/// The site's webhook endpoints (admin; secrets are never shown again).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = ["admin"])),
    responses((status = 200, body = WebhookList)))]
#[get("/v1/webhooks")]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| outbox::endpoints(conn, site)).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: rows.into_iter().map(|e| response(e, None)).collect(),
    }))
}

/// One webhook endpoint (admin).
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = WebhookResponse)))]
#[get("/v1/webhooks/{id}")]
pub async fn get_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (site, id) = (caller.site_id, EndpointId(id.into_inner()));
    store::run(&state.pool, move |conn| outbox::endpoint(conn, site, id))
        .await?
        .map(|e| HttpResponse::Ok().json(response(e, None)))
        .ok_or_else(|| ApiError::NotFound(format!("webhook {id}")))
}

/// Change an endpoint's URL, events, description, or pause and resume it (admin).
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = WebhookUpdate,
    responses((status = 200, body = WebhookResponse)))]
#[patch("/v1/webhooks/{id}")]
#[tracing::instrument(name = "update_webhook", skip_all, fields(key_id = caller.key_id.0))]
pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<WebhookUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let changes = outbox::EndpointChanges {
        url: request
            .url
            .map(|u| webhook_url(u, &AllowedHosts::new(&state.settings.webhook_allow_hosts)))
            .transpose()?,
        events: request.events.map(event_list).transpose()?,
        description: request
            .description
            .map(|d| super::optional_text("description", Some(d), MAX_DESCRIPTION_CHARS))
            .transpose()?,
        active: request.active,
        secret_sealed: None,
    };
    let (site, id) = (caller.site_id, EndpointId(id.into_inner()));
    let updated = store::run(&state.pool, move |conn| {
        Ok(outbox::update_endpoint(conn, site, id, changes))
    })
    .await?
    .map_err(|e| endpoint_error(e, id))?;
    Ok(HttpResponse::Ok().json(response(updated, None)))
}

/// Replace an endpoint's signing secret (admin); the new one is shown once and signs every
/// request from now on.
#[utoipa::path(post, path = "/v1/webhooks/{id}/secret", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = WebhookResponse)))]
#[post("/v1/webhooks/{id}/secret")]
#[tracing::instrument(name = "rotate_webhook_secret", skip_all, fields(key_id = caller.key_id.0))]
pub async fn rotate_secret(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let secret = new_secret();
    let changes = outbox::EndpointChanges {
        secret_sealed: Some(state.seal(SEAL_PURPOSE, secret.as_bytes())),
        ..Default::default()
    };
    let (site, id) = (caller.site_id, EndpointId(id.into_inner()));
    let updated = store::run(&state.pool, move |conn| {
        Ok(outbox::update_endpoint(conn, site, id, changes))
    })
    .await?
    .map_err(|e| endpoint_error(e, id))?;
    Ok(HttpResponse::Ok().json(response(updated, Some(secret))))
}

/// Remove an endpoint with its pending deliveries and log (admin).
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 204)))]
#[delete("/v1/webhooks/{id}")]
#[tracing::instrument(name = "delete_webhook", skip_all, fields(key_id = caller.key_id.0))]
pub async fn remove(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (site, id) = (caller.site_id, EndpointId(id.into_inner()));
    if store::run(&state.pool, move |conn| {
        outbox::delete_endpoint(conn, site, id)
    })
    .await?
    {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!("webhook {id}")))
    }
}

/// The delivery log of an endpoint, newest first, with each delivery's latest attempts
/// (admin).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1), DeliveryQuery),
    responses((status = 200, body = DeliveryLog)))]
#[get("/v1/webhooks/{id}/deliveries")]
pub async fn deliveries(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.into_inner();
    let status = query
        .status
        .map(|s| {
            s.parse::<DeliveryStatus>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "unknown delivery status `{}`; use pending, delivered or failed",
                    s.chars().take(40).collect::<String>()
                ))
            })
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LOG_ROWS).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LOG_ROWS}"
        )));
    }
    let (site, id) = (caller.site_id, EndpointId(id.into_inner()));
    let rows = store::run(&state.pool, move |conn| {
        if outbox::endpoint(conn, site, id)?.is_none() {
            return Ok(None);
        }
        outbox::deliveries(conn, id, status, limit).map(Some)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("webhook {id}")))?;
    Ok(HttpResponse::Ok().json(DeliveryLog {
        items: rows
            .into_iter()
            .map(|(d, a)| delivery_response(d, a))
            .collect(),
    }))
}

/// Send a delivery again now, whatever its state, with a fresh 24-hour retry window (admin).
/// Receivers see the same event id.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1), ("delivery_id" = i64, Path, minimum = 1)),
    responses((status = 202, body = DeliveryResponse)))]
#[post("/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
#[tracing::instrument(name = "redeliver_webhook", skip_all, fields(key_id = caller.key_id.0))]
pub async fn redeliver(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (id, delivery_id) = path.into_inner();
    let (id, delivery_id) = (EndpointId(id), DeliveryId(delivery_id));
    let site = caller.site_id;
    let row = store::run(&state.pool, move |conn| {
        if outbox::endpoint(conn, site, id)?.is_none() {
            return Ok(None);
        }
        outbox::redeliver(conn, id, delivery_id)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("delivery {delivery_id} of webhook {id}")))?;
    Ok(HttpResponse::Accepted().json(delivery_response(row, Vec::new())))
}
