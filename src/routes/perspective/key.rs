//! The key of a Perspective request: `?key=` (moved out of the URL before anything logs it) or
//! `X-Goog-Api-Key`, and the site of a valid ingest (or admin) key.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use serde::Deserialize;

use super::{GoogleError, MAX_TOKEN_CHARS};
use crate::domain::{ApiKeyId, Role, SiteId};
use crate::store;

/// The key a Perspective client sent in `?key=`, taken out of the URL by [`key_out_of_url`].
#[derive(Debug, Clone)]
struct QueryKey(String);

/// Middleware, outermost (before the request is logged): under `/perspective/`, a `key` query
/// parameter is moved out of the URL into the request's extensions, so that the secret never
/// reaches the request span's `http.target` nor any log line. A value that is not clean text
/// (NUL, invalid UTF-8) is left where it is, for the edge's 400.
pub async fn key_out_of_url(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let query = req.uri().query().unwrap_or("");
    if req.path().starts_with("/perspective/") && query.split('&').any(|p| p.starts_with("key=")) {
        let mut key = None;
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let value = pair.strip_prefix("key=").and_then(|v| {
                let plus = v.replace('+', " ");
                percent_encoding::percent_decode_str(&plus)
                    .decode_utf8()
                    .ok()
                    .filter(|v| !v.chars().any(char::is_control))
                    .map(|v| v.into_owned())
            });
            match value {
                Some(v) if key.is_none() => key = Some(v),
                Some(_) => {}
                None => kept.push(pair.to_owned()),
            }
        }
        if let Some(key) = key {
            let path = req.path().to_owned();
            let uri = if kept.is_empty() {
                path
            } else {
                format!("{path}?{}", kept.join("&"))
            };
            if let Ok(uri) = uri.parse() {
                req.head_mut().uri = uri;
                req.extensions_mut().insert(QueryKey(key));
            }
        }
    }
    next.call(req).await
}

/// The key of the request: `?key=` or `X-Goog-Api-Key`.
pub(super) fn api_key(req: &HttpRequest) -> Result<String, GoogleError> {
    #[derive(Deserialize)]
    struct KeyQuery {
        key: Option<String>,
    }
    let moved = req.extensions().get::<QueryKey>().map(|k| k.0.clone());
    let from_query = web::Query::<KeyQuery>::from_query(req.query_string())
        .map_err(|e| GoogleError::invalid("INVALID_REQUEST", format!("invalid query string: {e}")))?
        .into_inner()
        .key
        .or(moved);
    let from_header = req
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match from_query.or(from_header).map(|k| k.trim().to_owned()) {
        Some(k) if !k.is_empty() && k.len() <= MAX_TOKEN_CHARS => Ok(k),
        Some(k) if !k.is_empty() => Err(key_invalid()),
        _ => Err(GoogleError {
            code: StatusCode::FORBIDDEN,
            status: "PERMISSION_DENIED",
            error_type: "API_KEY_MISSING",
            message: "The request is missing a valid API key.".into(),
        }),
    }
}

/// The key is not a Vigie key.
fn key_invalid() -> GoogleError {
    GoogleError::invalid(
        "API_KEY_INVALID",
        "API key not valid. Please pass a valid API key.",
    )
}

/// The site and id of a valid ingest (or admin) key.
pub(super) fn key_site(
    conn: &mut store::DbConnection,
    key: &str,
) -> Result<Result<(SiteId, ApiKeyId), GoogleError>, store::StoreError> {
    let Some(record) = store::keys::authenticate(conn, key)? else {
        return Ok(Err(key_invalid()));
    };
    let role = record.role;
    if matches!(role, Role::Ingest | Role::Admin) {
        Ok(Ok((record.site_id, record.id)))
    } else {
        Ok(Err(GoogleError {
            code: StatusCode::FORBIDDEN,
            status: "PERMISSION_DENIED",
            error_type: "PERMISSION_DENIED",
            message: format!(
                "this key has role {role}; the Perspective API takes a site's ingest key"
            ),
        }))
    }
}
