//! The moderator console at `/console`: one HTML page, one script, one style sheet (embedded,
//! no network), and its session: an API key of role moderator or admin traded for a random
//! token in an HttpOnly, SameSite=Strict cookie, stored hashed, with a CSRF token that every
//! state-changing request must echo in `X-CSRF-Token` (checked by [`crate::auth::Caller`]).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{self, Caller, SESSION_COOKIE};
use crate::domain::intake::ValidationError;
use crate::domain::{ApiKeyId, Role, SiteId};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store;

const INDEX_HTML: &str = include_str!("../console/index.html");
const CONSOLE_JS: &str = include_str!("../console/console.js");
const CONSOLE_CSS: &str = include_str!("../console/console.css");
/// Vigie's icon (an eye on a dark square), drawn for Vigie.
const FAVICON_SVG: &str = include_str!("../console/favicon.svg");

/// Inline scripts and third-party origins forbidden; the page talks only to Vigie.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

/// Interface languages.
const LANGUAGES: [&str; 2] = ["fr", "en"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(index_slash)
        .service(script)
        .service(style)
        .service(favicon)
        .service(favicon_svg)
        .service(sign_in)
        .service(session_info)
        .service(set_language)
        .service(sign_out)
        .service(thresholds);
}

/// The security headers of every console answer.
pub(crate) fn secured(
    mut builder: actix_web::HttpResponseBuilder,
) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    secured(HttpResponse::Ok())
        .content_type(content_type)
        .body(body)
}

#[get("/console")]
async fn index() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

#[get("/console/")]
async fn index_slash() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

#[get("/console/console.js")]
async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
}

#[get("/console/console.css")]
async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", CONSOLE_CSS)
}

/// The icon, also at `/favicon.ico` because browsers ask for that path on every page of a host
/// (an SVG body: the type is in `Content-Type`, not in the name). Cached for a day.
fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(FAVICON_SVG)
}

#[get("/favicon.ico")]
async fn favicon() -> HttpResponse {
    icon()
}

#[get("/console/favicon.svg")]
async fn favicon_svg() -> HttpResponse {
    icon()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    key: String,
    #[serde(default)]
    language: Option<String>,
}

#[derive(Debug, Serialize)]
struct SessionInfo {
    csrf_token: String,
    role: String,
    name: String,
    site: String,
    language: String,
    expires_at: DateTime<Utc>,
}

pub(crate) fn check_language(language: &str) -> Result<(), ApiError> {
    if LANGUAGES.contains(&language) {
        Ok(())
    } else {
        Err(ValidationError::new("language", "fr or en").into())
    }
}

/// Whether the request reached us (or the proxy in front) over TLS.
fn over_tls(req: &HttpRequest) -> bool {
    req.connection_info().scheme().eq_ignore_ascii_case("https")
}

/// The `Set-Cookie` value of a session (an empty value and `max_age` 0 clear it): HttpOnly,
/// SameSite=Strict, and Secure over TLS or when `session_cookie_secure` is set.
pub(crate) fn session_cookie(
    req: &HttpRequest,
    state: &AppState,
    value: &str,
    max_age: i64,
) -> String {
    let secure = if over_tls(req) || state.settings.session_cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

pub(crate) async fn site_slug(state: &AppState, site_id: SiteId) -> Result<String, ApiError> {
    Ok(
        store::run(&state.pool, move |conn| store::sites::by_id(conn, site_id))
            .await?
            .map(|s| s.slug)
            .unwrap_or_default(),
    )
}

/// Opens a console session for key `key_id` in the language asked, else the moderator's last
/// choice, else French: (token, CSRF token, expiry, language).
pub(crate) async fn open_session(
    state: &AppState,
    key_id: ApiKeyId,
    asked: Option<String>,
) -> Result<(String, String, chrono::NaiveDateTime, String), ApiError> {
    let lifetime = state.settings.session_lifetime();
    Ok(store::run(&state.pool, move |conn| {
        let language = match asked {
            Some(l) => l,
            None => {
                store::console::preferred_language(conn, key_id)?.unwrap_or_else(|| "fr".into())
            }
        };
        let (token, csrf, expires) = store::console::create(conn, key_id, &language, lifetime)?;
        Ok((token, csrf, expires, language))
    })
    .await?)
}

/// Sign in: a moderator or admin key for a session cookie. Ingest keys are refused (403).
#[post("/console/session")]
async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<HttpResponse, ApiError> {
    if let Some(l) = &body.language {
        check_language(l)?;
    }
    let secret = body.key.trim().to_owned();
    if secret.is_empty() || secret.len() > 256 {
        return Err(ApiError::Unauthorized);
    }
    let key = store::run(&state.pool, move |conn| {
        store::keys::authenticate(conn, &secret)
    })
    .await?
    .ok_or(ApiError::Unauthorized)?;
    let role = key.role;
    if role == Role::Ingest {
        return Err(ApiError::Forbidden(
            "the console needs a moderator or admin key; this key has role ingest".into(),
        ));
    }
    let lifetime = state.settings.session_lifetime();
    let (token, csrf, expires, language) =
        open_session(&state, key.id, body.language.clone()).await?;
    let site = site_slug(&state, key.site_id).await?;
    Ok(secured(HttpResponse::Created())
        .insert_header((
            header::SET_COOKIE,
            session_cookie(&req, &state, &token, lifetime.num_seconds()),
        ))
        .json(SessionInfo {
            csrf_token: csrf,
            role: role.to_string(),
            name: key.name,
            site,
            language,
            expires_at: expires.and_utc(),
        }))
}

/// The session of the request's cookie (401 when none or expired).
async fn current(req: &HttpRequest, state: &AppState) -> Result<store::console::Session, ApiError> {
    let token = auth::session_token(req).ok_or(ApiError::Unauthorized)?;
    let idle = state.settings.session_idle();
    store::run(&state.pool, move |conn| {
        store::console::find(conn, &token, idle)
    })
    .await?
    .ok_or(ApiError::Unauthorized)
}

fn require_csrf(req: &HttpRequest, session: &store::console::Session) -> Result<(), ApiError> {
    if auth::csrf_matches(auth::csrf_header(req).as_deref(), &session.csrf_token) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this request needs the session's X-CSRF-Token header".into(),
        ))
    }
}

#[get("/console/session")]
async fn session_info(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let session = current(&req, &state).await?;
    let site = site_slug(&state, session.key.site_id).await?;
    Ok(secured(HttpResponse::Ok()).json(SessionInfo {
        csrf_token: session.csrf_token,
        role: session.key.role.to_string(),
        name: session.key.name,
        site,
        language: session.language,
        expires_at: session.expires_at.and_utc(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageUpdate {
    language: String,
}

/// The session's interface language (`fr` or `en`).
#[patch("/console/session")]
async fn set_language(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<LanguageUpdate>,
) -> Result<HttpResponse, ApiError> {
    check_language(&body.language)?;
    let session = current(&req, &state).await?;
    require_csrf(&req, &session)?;
    let hash = session.token_hash.clone();
    let language = body.language.clone();
    store::run(&state.pool, move |conn| {
        store::console::set_language(conn, &hash, &language)
    })
    .await?;
    Ok(secured(HttpResponse::Ok()).json(serde_json::json!({"language": body.language})))
}

/// Sign out: the session is deleted and the cookie cleared.
#[delete("/console/session")]
async fn sign_out(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let session = current(&req, &state).await?;
    require_csrf(&req, &session)?;
    let hash = session.token_hash;
    store::run(&state.pool, move |conn| store::console::delete(conn, &hash)).await?;
    let mut response = secured(HttpResponse::NoContent()).finish();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&req, &state, "", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The thresholds in force for the site (the dashboard draws them on the score histogram).
#[get("/console/api/thresholds")]
async fn thresholds(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    let site = caller.site_id;
    let judge = state.judge.clone();
    let effective = store::run(&state.pool, move |conn| judge.thresholds_for(conn, site)).await?;
    Ok(secured(HttpResponse::Ok()).json(effective))
}
