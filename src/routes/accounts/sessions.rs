//! Sign-in with e-mail, password and (when on) the second factor, limited per e-mail and per
//! client address; sign-out of one session or of all.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{EMAIL_PURPOSE, RECOVERY_PURPOSE, TOTP_PURPOSE};
use crate::auth::{self, Caller};
use crate::domain::accounts::{verify_password, Email, MAX_PASSWORD_CHARS};
use crate::domain::intake::ValidationError;
use crate::domain::{totp, AccountId};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::console::{check_language, open_session, secured, session_cookie, site_slug};
use crate::state::AppState;
use crate::store::{self, accounts::Account};

/// Keyed-hash purposes of the sign-in rate limits' scopes.
const SIGN_IN_EMAIL_SCOPE: &str = "sign-in-email";
const SIGN_IN_IP_SCOPE: &str = "sign-in-ip";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// An e-mail address (compared without case).
    #[schema(
        max_length = 254,
        pattern = r"^[^\s@\x00-\x1f\x7f-\x9f]+@[^\s@.\x00-\x1f\x7f-\x9f][^\s@\x00-\x1f\x7f-\x9f]*\.[^\s@\x00-\x1f\x7f-\x9f]*[^\s@.\x00-\x1f\x7f-\x9f]$"
    )]
    pub email: String,
    #[schema(format = Password, max_length = 256)]
    pub password: String,
    /// Interface language, `fr` or `en` (else the account's last choice, else French).
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::values::ConsoleLanguage>)]
    pub language: Option<String>,
    /// For an account with a second factor: the authenticator's 6-digit code, or one of its
    /// recovery codes.
    #[serde(default)]
    #[schema(max_length = 32)]
    pub code: Option<String>,
}

/// A console session just opened (its token is in the `Set-Cookie` header only).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Echo it in `X-CSRF-Token` on every request that changes something.
    pub csrf_token: String,
    pub role: String,
    pub name: String,
    pub site: String,
    pub language: String,
    pub expires_at: DateTime<Utc>,
}

/// Rate-limit scopes of a sign-in: the e-mail's and the client address's keyed hashes.
pub(super) struct Scopes {
    pub(super) email: String,
    pub(super) ip: String,
}

impl Scopes {
    /// The scopes of `email` and of the request's client address.
    pub(super) fn of(state: &AppState, req: &HttpRequest, email: &str) -> Scopes {
        let peer = crate::auth::client_ip(req, &state.settings.trusted_proxies)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        Scopes {
            email: state.keyed_hash(SIGN_IN_EMAIL_SCOPE, email),
            ip: state.keyed_hash(SIGN_IN_IP_SCOPE, &peer),
        }
    }
}

/// 429 when either scope had its fill of failures within the window.
pub(super) async fn check_rate_limits(state: &AppState, scopes: &Scopes) -> Result<(), ApiError> {
    let s = &state.settings;
    let window = chrono::Duration::seconds(s.sign_in_window_secs.max(1));
    let limits = [
        (scopes.email.clone(), s.sign_in_limit_per_account.max(1)),
        (scopes.ip.clone(), s.sign_in_limit_per_ip.max(1)),
    ];
    let since = store::now() - window;
    let retry_after = store::run(&state.pool, move |conn| {
        let mut retry_after = None;
        for (scope, limit) in limits {
            let (count, oldest) = store::accounts::failures_since(conn, &scope, since)?;
            if count >= limit {
                let free_at = oldest.unwrap_or_else(store::now) + window;
                let secs = (free_at - store::now()).num_seconds().max(1);
                retry_after = Some(retry_after.unwrap_or(0).max(secs));
            }
        }
        Ok(retry_after)
    })
    .await?;
    match retry_after {
        Some(retry_after) => {
            tracing::warn!(retry_after, "sign-in refused: too many failures");
            Err(ApiError::TooManyRequests { retry_after })
        }
        None => Ok(()),
    }
}

/// Sign in with e-mail and password: a console session in an HttpOnly, SameSite=Strict cookie
/// (Secure over TLS). An unknown e-mail, a wrong password and a disabled account answer the
/// same 401 after the same work; failures are counted per e-mail and per client address.
#[utoipa::path(post, path = "/v1/session", tag = "accounts",
    request_body = SignInRequest,
    responses((status = 201, body = SessionResponse,
            headers(("Set-Cookie" = String, description = "the session cookie `vigie_session`"))),
        (status = 401, description = "unknown e-mail or wrong password (`sign-in-failed`), or the password was right and the account's second-factor `code` is missing (`second-factor-required`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed sign-ins for this e-mail or address; retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "the database is unavailable", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/session")]
#[tracing::instrument(name = "sign_in", skip_all)]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<SignInRequest>,
) -> Result<HttpResponse, ApiError> {
    if let Some(l) = &body.language {
        check_language(l)?;
    }
    let email = Email::parse("email", &body.email)?;
    if body.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        )
        .into());
    }
    let scopes = Scopes::of(&state, &req, email.as_str());
    check_rate_limits(&state, &scopes).await?;

    let email_hash = state.keyed_hash(EMAIL_PURPOSE, email.as_str());
    let account = store::run(&state.pool, move |conn| {
        store::accounts::for_sign_in(conn, &email_hash)
    })
    .await?;
    let stored = account
        .as_ref()
        .filter(|a| a.disabled_at.is_none())
        .and_then(|a| a.password_hash.clone());
    let password = body.password;
    // argon2 takes tens of milliseconds of CPU: off the async workers.
    let ok = web::block(move || verify_password(stored.as_deref(), &password)).await?;
    let account = match (ok, account) {
        (true, Some(account)) => account,
        (_, account) => return Err(failed_sign_in(&state, &scopes, account.map(|a| a.id)).await),
    };
    if account.totp_enabled_at.is_some() {
        let Some(code) = body.code.as_deref() else {
            return Err(ApiError::SecondFactorRequired);
        };
        if !second_factor_ok(&state, &account, code).await? {
            return Err(failed_sign_in(&state, &scopes, Some(account.id)).await);
        }
    }
    let (account_id, email_scope) = (account.id, scopes.email);
    store::run(&state.pool, move |conn| {
        store::accounts::signed_in(conn, account_id, &email_scope)
    })
    .await?;
    let lifetime = state.settings.session_lifetime();
    let (token, csrf, expires, language) =
        open_session(&state, account.key_id, body.language).await?;
    tracing::info!(account_id = account.id.0, "signed in");
    let site = site_slug(&state, account.site_id).await?;
    Ok(secured(HttpResponse::Created())
        .insert_header((
            header::SET_COOKIE,
            session_cookie(&req, &state, &token, lifetime.num_seconds()),
        ))
        .json(SessionResponse {
            csrf_token: csrf,
            role: account.role.to_string(),
            name: account.name,
            site,
            language,
            expires_at: expires.and_utc(),
        }))
}

/// Records a failed sign-in under both scopes and logs it (never the password, the e-mail or
/// the code); the answer to give.
async fn failed_sign_in(
    state: &AppState,
    scopes: &Scopes,
    account_id: Option<AccountId>,
) -> ApiError {
    let window = chrono::Duration::seconds(state.settings.sign_in_window_secs.max(1));
    let forget_before = store::now() - window;
    let (email, ip) = (scopes.email.clone(), scopes.ip.clone());
    let recorded = store::run(&state.pool, move |conn| {
        store::accounts::record_failure(conn, &[&email, &ip], forget_before)
    })
    .await;
    tracing::warn!(account_id = account_id.map(|a| a.0), "sign-in failed");
    match recorded {
        Ok(()) => ApiError::SignInFailed,
        Err(e) => e.into(),
    }
}

/// Whether `code` is the account's current authenticator code (not used before) or one of its
/// unused recovery codes; a recovery code is used up.
async fn second_factor_ok(
    state: &AppState,
    account: &Account,
    code: &str,
) -> Result<bool, ApiError> {
    let id = account.id;
    let secret = account
        .totp_secret_sealed
        .as_deref()
        .and_then(|sealed| state.open(TOTP_PURPOSE, sealed));
    if let Some(secret) = secret {
        let now = Utc::now().timestamp().max(0) as u64;
        if let Some(step) = totp::matching_step(&secret, code, now) {
            let step = step as i64;
            return Ok(store::run(&state.pool, move |conn| {
                store::accounts::use_totp_step(conn, id, step)
            })
            .await?);
        }
    }
    if let Some(recovery) = totp::recovery_code(code) {
        let hash = state.keyed_hash(RECOVERY_PURPOSE, &recovery);
        return Ok(store::run(&state.pool, move |conn| {
            store::accounts::use_recovery_code(conn, id, &hash)
        })
        .await?);
    }
    Ok(false)
}

/// `response` with the session cookie cleared.
fn cleared_cookie(req: &HttpRequest, state: &AppState, mut response: HttpResponse) -> HttpResponse {
    if let Ok(v) = HeaderValue::from_str(&session_cookie(req, state, "", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Sign out: ends the session of the request's cookie and clears the cookie (the session's
/// `X-CSRF-Token` is required, like every console write).
#[utoipa::path(delete, path = "/v1/session", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "signed out")))]
#[delete("/v1/session")]
#[tracing::instrument(name = "sign_out", skip_all, fields(key_id = caller.key_id.0))]
pub async fn sign_out(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = auth::session_token(&req).ok_or(ApiError::Unauthorized)?;
    let key_id = caller.key_id;
    store::run(&state.pool, move |conn| {
        store::console::delete_of(conn, &token, key_id)
    })
    .await?;
    Ok(cleared_cookie(
        &req,
        &state,
        secured(HttpResponse::NoContent()).finish(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsEnded {
    /// Console sessions ended, this one included.
    pub ended: usize,
}

/// Sign out everywhere: ends every console session of the caller's account (or key).
#[utoipa::path(delete, path = "/v1/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = SessionsEnded)))]
#[delete("/v1/sessions")]
#[tracing::instrument(name = "sign_out_everywhere", skip_all, fields(key_id = caller.key_id.0))]
pub async fn sign_out_everywhere(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key_id = caller.key_id;
    let ended = store::run(&state.pool, move |conn| {
        Ok(store::accounts::end_sessions(conn, key_id)?)
    })
    .await?;
    tracing::info!(ended, "signed out everywhere");
    Ok(cleared_cookie(
        &req,
        &state,
        secured(HttpResponse::Ok()).json(SessionsEnded { ended }),
    ))
}
