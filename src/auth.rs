//! Bearer API keys: the caller of a request, its site and its role.

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::domain::{ApiKeyId, Role, SiteId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// The authenticated key behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: ApiKeyId,
    pub site_id: SiteId,
    pub role: Role,
    pub name: String,
    /// Where the request came from, for the audit log: `console` (a session) or `api` (a
    /// key)…
    pub origin: &'static str,
    /// …and the client's network (IPv4 /24, IPv6 /48).
    pub network: Option<String>,
}

impl Caller {
    /// The caller as the actor of a decision.
    pub fn actor(&self) -> store::decisions::Actor {
        store::decisions::Actor {
            key_id: self.key_id,
            name: self.name.clone(),
            is_admin: self.role == Role::Admin,
            origin: Some(self.origin),
            network: self.network.clone(),
        }
    }

    /// 403 unless the key has one of `roles` (admin always passes).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::Forbidden(format!(
                "this action needs a key with role {}; this key has role {}",
                wanted.join(" or "),
                self.role
            )))
        }
    }
}

/// Longest bearer token looked up; anything longer cannot be one of ours.
const MAX_TOKEN_BYTES: usize = 256;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Already checked by `authenticate_first`: ready at once, so that the key is judged
        // before any other extractor of the handler (path, query, body) can fail.
        let checked = req.extensions_mut().remove::<Checked>();
        if let Some(Checked(outcome)) = checked {
            if let Ok(caller) = &outcome {
                req.extensions_mut().insert(Checked(Ok(caller.clone())));
            }
            return Box::pin(std::future::ready(outcome.inspect(|c| {
                tracing::Span::current().record("key_id", c.key_id.0);
            })));
        }
        let authenticating = authenticate(req);
        Box::pin(async move {
            let caller = authenticating.await?;
            tracing::Span::current().record("key_id", caller.key_id.0);
            Ok(caller)
        })
    }
}

/// The outcome of checking a request's credentials, kept in the request's extensions.
struct Checked(Result<Caller, ApiError>);

/// Middleware: checks the key (or console session) of an API request before the handler's
/// extractors run. Extractors are polled together, so a body, query or path error would
/// otherwise answer before the database lookup of a wrong key does: a wrong key must get 401
/// whatever else is wrong with the request.
pub async fn authenticate_first(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    let api = path.starts_with("/v1/") || path.starts_with("/console/api/");
    let has_credentials =
        bearer_token(req.request()).is_some() || session_token(req.request()).is_some();
    if api && has_credentials {
        let outcome = authenticate(req.request()).await;
        req.extensions_mut().insert(Checked(outcome));
    }
    next.call(req).await
}

/// Looks up the request's bearer key, or its console session (with the CSRF token on writes).
fn authenticate(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Caller, ApiError>> {
    let token = bearer_token(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let network = state
        .as_ref()
        .and_then(|s| client_ip(req, &s.settings.trusted_proxies))
        .map(crate::secrets::truncate_ip);
    let origin = if token.is_some() { "api" } else { "console" };
    // No bearer key: the console's session cookie, with its CSRF token on writes.
    let session = if token.is_none() {
        session_token(req).map(|t| (t, csrf_header(req), is_safe_method(req)))
    } else {
        None
    };
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no state")))?;
        let key = if let Some((session, csrf, safe)) = session {
            let idle = state.settings.session_idle();
            let found = store::run(&state.pool, move |conn| {
                store::console::find(conn, &session, idle)
            })
            .await?
            .ok_or(ApiError::Unauthorized)?;
            if !safe && !csrf_matches(csrf.as_deref(), &found.csrf_token) {
                return Err(ApiError::Forbidden(
                    "a console request that changes something needs the session's X-CSRF-Token header".into(),
                ));
            }
            found.key
        } else {
            let token = token.ok_or(ApiError::Unauthorized)?;
            store::run(&state.pool, move |conn| {
                store::keys::authenticate(conn, &token)
            })
            .await?
            .ok_or(ApiError::Unauthorized)?
        };
        Ok(Caller {
            key_id: key.id,
            site_id: key.site_id,
            role: key.role,
            name: key.name,
            origin,
            network,
        })
    })
}

/// The client's address: the peer's, or, when the peer is one of `trusted` (a reverse proxy),
/// the last address of `X-Forwarded-For` that is not a trusted proxy, else its `X-Real-IP`.
pub fn client_ip(
    req: &HttpRequest,
    trusted: &[crate::config::IpNetwork],
) -> Option<std::net::IpAddr> {
    let trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(*ip));
    let peer = req.peer_addr()?.ip();
    if !trusted(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    // From the nearest hop back: the first one no trusted proxy vouches for. An address that
    // does not parse ends the chain (it could be anything).
    for hop in forwarded.iter().rev() {
        match hop {
            Some(ip) if trusted(ip) => continue,
            Some(ip) => return Some(*ip),
            None => return Some(peer),
        }
    }
    req.headers()
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(Some(peer))
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    Some(token.to_owned())
}

/// Name of the console's session cookie.
pub const SESSION_COOKIE: &str = "vigie_session";

/// The console session token of the request's cookie, if any.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    // Parsed by hand: actix-web is built without its `cookies` feature.
    for header_value in req.headers().get_all(header::COOKIE) {
        let Ok(text) = header_value.to_str() else {
            continue;
        };
        for pair in text.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                let value = value.trim().trim_matches('"');
                if name.trim() == SESSION_COOKIE
                    && !value.is_empty()
                    && value.len() <= MAX_TOKEN_BYTES
                {
                    return Some(value.to_owned());
                }
            }
        }
    }
    None
}

/// The `X-CSRF-Token` header, if any.
pub fn csrf_header(req: &HttpRequest) -> Option<String> {
    Some(req.headers().get("x-csrf-token")?.to_str().ok()?.to_owned())
}

/// GET, HEAD and OPTIONS change nothing and need no CSRF token.
pub fn is_safe_method(req: &HttpRequest) -> bool {
    use actix_web::http::Method;
    matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Constant-time comparison of the sent CSRF token with the session's.
pub fn csrf_matches(sent: Option<&str>, expected: &str) -> bool {
    let Some(sent) = sent else { return false };
    if sent.len() != expected.len() || expected.is_empty() {
        return false;
    }
    sent.bytes()
        .zip(expected.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}
