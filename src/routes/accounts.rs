//! People rather than keys: named accounts invited by an admin, passwords set through a
//! one-time link, sign-in with e-mail and password for a console session (the same cookie and
//! CSRF token as the key sign-in of [`super::console`]), and the admins' management of accounts.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::console::{check_language, open_session, secured, session_cookie, site_slug};
use crate::auth::{self, Caller};
use crate::domain::accounts::{
    account_role, display_name, verify_password, Email, NewPassword, INVITATION_HOURS,
    MAX_PASSWORD_CHARS,
};
use crate::domain::intake::ValidationError;
use crate::domain::totp;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::{self, accounts::Account};

pub use crate::domain::accounts::EMAIL_PURPOSE;
/// Sealing purpose of second-factor secrets, keyed-hash purpose of recovery codes.
const TOTP_PURPOSE: &str = "account-totp";
const RECOVERY_PURPOSE: &str = "account-recovery-code";
/// Keyed-hash purposes of the sign-in rate limits' scopes.
const SIGN_IN_EMAIL_SCOPE: &str = "sign-in-email";
const SIGN_IN_IP_SCOPE: &str = "sign-in-ip";
/// Longest invitation token looked up (ours are 43 characters).
const MAX_TOKEN_CHARS: usize = 256;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_in)
        .service(sign_out)
        .service(sign_out_everywhere)
        .service(accept_invitation)
        .service(list)
        .service(create)
        .service(update)
        .service(reset)
        .service(figures)
        .service(start_totp)
        .service(confirm_totp)
        .service(disable_totp);
}

/// The start of links sent to people: `public_url`, else the address this request came to.
fn public_base(state: &AppState, req: &HttpRequest) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// The console's link that opens the set-password form (the token in the fragment never
/// reaches a server log or a `Referer`).
pub fn invitation_link(base: &str, token: &str) -> String {
    format!("{}/console/#invitation={token}", base.trim_end_matches('/'))
}

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
struct Scopes {
    email: String,
    ip: String,
}

impl Scopes {
    /// The scopes of `email` and of the request's client address.
    fn of(state: &AppState, req: &HttpRequest, email: &str) -> Scopes {
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
async fn check_rate_limits(state: &AppState, scopes: &Scopes) -> Result<(), ApiError> {
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
    tracing::info!(account_id = account.id, "signed in");
    let site = site_slug(&state, account.site_id).await?;
    Ok(secured(HttpResponse::Created())
        .insert_header((
            header::SET_COOKIE,
            session_cookie(&req, &state, &token, lifetime.num_seconds()),
        ))
        .json(SessionResponse {
            csrf_token: csrf,
            role: account.role,
            name: account.name,
            site,
            language,
            expires_at: expires.and_utc(),
        }))
}

/// Records a failed sign-in under both scopes and logs it (never the password, the e-mail or
/// the code); the answer to give.
async fn failed_sign_in(state: &AppState, scopes: &Scopes, account_id: Option<i64>) -> ApiError {
    let window = chrono::Duration::seconds(state.settings.sign_in_window_secs.max(1));
    let forget_before = store::now() - window;
    let (email, ip) = (scopes.email.clone(), scopes.ip.clone());
    let recorded = store::run(&state.pool, move |conn| {
        store::accounts::record_failure(conn, &[&email, &ip], forget_before)
    })
    .await;
    tracing::warn!(account_id, "sign-in failed");
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
#[tracing::instrument(name = "sign_out", skip_all, fields(key_id = caller.key_id))]
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
#[tracing::instrument(name = "sign_out_everywhere", skip_all, fields(key_id = caller.key_id))]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// 12 to 256 characters, not one of the most common passwords.
    #[schema(format = Password, min_length = 12, max_length = 256)]
    pub password: String,
}

/// An account as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    /// `invited` (no password yet), `active` or `disabled`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Whether sign-in also asks for an authenticator code.
    pub second_factor: bool,
}

fn account_response(state: &AppState, a: Account) -> AccountResponse {
    let email = state
        .open(EMAIL_PURPOSE, &a.email_sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let status = a.state();
    AccountResponse {
        id: a.id,
        name: a.name,
        email,
        role: a.role,
        state: status.into(),
        created_at: a.created_at.and_utc(),
        last_sign_in_at: a.last_sign_in_at.map(|t| t.and_utc()),
        second_factor: a.totp_enabled_at.is_some(),
    }
}

/// Set the password of an invited account through its one-time link (valid 72 hours). The
/// person then signs in with e-mail and password.
#[utoipa::path(post, path = "/v1/invitations/{token}", tag = "accounts",
    params(("token" = String, Path, max_length = 256)),
    request_body = SetPassword,
    responses((status = 200, body = AccountResponse),
        (status = 410, description = "the invitation was used, replaced or has expired, or its account is disabled", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/invitations/{token}")]
#[tracing::instrument(name = "accept_invitation", skip_all)]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    token: web::Path<String>,
    ApiJson(body): ApiJson<SetPassword>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(ApiError::NotFound("invitation".into()));
    }
    let check = token.clone();
    match store::run(&state.pool, move |conn| {
        store::accounts::check_invitation(conn, &check)
    })
    .await?
    {
        store::accounts::InvitationState::Unknown => {
            return Err(ApiError::NotFound("invitation".into()))
        }
        store::accounts::InvitationState::Gone(why) => return Err(ApiError::Gone(why.into())),
        store::accounts::InvitationState::Valid(_) => {}
    }
    let password = NewPassword::parse("password", body.password)?;
    let hash = web::block(move || password.hash()).await?;
    let outcome = store::run(&state.pool, move |conn| {
        store::accounts::accept_invitation(conn, &token, &hash)
    })
    .await?;
    match outcome {
        store::accounts::InvitationState::Valid(account) => {
            tracing::info!(account_id = account.id, "password set from an invitation");
            let mut response = account_response(&state, account);
            response.state = "active".into();
            Ok(secured(HttpResponse::Ok()).json(response))
        }
        store::accounts::InvitationState::Gone(why) => Err(ApiError::Gone(why.into())),
        store::accounts::InvitationState::Unknown => Err(ApiError::NotFound("invitation".into())),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<AccountResponse>,
}

/// The site's accounts (admin).
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", security(("bearer" = ["admin"])),
    responses((status = 200, body = AccountList)))]
#[get("/v1/accounts")]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::accounts::list(conn, Some(site))
    })
    .await?;
    Ok(HttpResponse::Ok().json(AccountList {
        items: rows
            .into_iter()
            .map(|(a, _)| account_response(&state, a))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountRequest {
    /// An e-mail address (compared without case).
    #[schema(
        max_length = 254,
        pattern = r"^[^\s@\x00-\x1f\x7f-\x9f]+@[^\s@.\x00-\x1f\x7f-\x9f][^\s@\x00-\x1f\x7f-\x9f]*\.[^\s@\x00-\x1f\x7f-\x9f]*[^\s@.\x00-\x1f\x7f-\x9f]$"
    )]
    pub email: String,
    /// `moderator` or `admin`.
    #[schema(value_type = crate::openapi::values::AccountRole)]
    pub role: String,
    /// Shown in the audit log; the part of the e-mail before `@` when absent.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$"
    )]
    pub name: Option<String>,
}

/// An invitation link, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    pub account: AccountResponse,
    /// Give it to the person (it is not stored: only its hash is).
    pub invitation_url: String,
    pub expires_at: DateTime<Utc>,
}

/// Invite a person to the site (admin): the account and its one-time invitation link.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", security(("bearer" = ["admin"])),
    request_body = NewAccountRequest,
    responses((status = 201, body = InvitationResponse),
        (status = 409, description = "this e-mail already has an account", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/accounts")]
#[tracing::instrument(name = "create_account", skip_all, fields(key_id = caller.key_id))]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<NewAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let email = Email::parse("email", &body.email)?;
    let role = account_role("role", &body.role)?;
    let name = match body.name {
        Some(n) => display_name("name", &n)?,
        None => display_name("name", email.local_part())?,
    };
    let email_hash = state.keyed_hash(EMAIL_PURPOSE, email.as_str());
    let email_sealed = state.seal(EMAIL_PURPOSE, email.as_str().as_bytes());
    let (site_id, created_by) = (caller.site_id, caller.name.clone());
    let created = store::run(&state.pool, move |conn| {
        store::accounts::create(
            conn,
            &store::accounts::NewAccount {
                site_id,
                role,
                name: &name,
                email_hash: &email_hash,
                email_sealed: &email_sealed,
                created_by: &created_by,
            },
            chrono::Duration::hours(INVITATION_HOURS),
        )
    })
    .await?
    .ok_or_else(|| ApiError::Conflict("this e-mail already has an account".into()))?;
    let (account, invitation) = created;
    tracing::info!(account_id = account.id, role = %role, "account invited");
    let base = public_base(&state, &req);
    Ok(secured(HttpResponse::Created()).json(InvitationResponse {
        account: account_response(&state, account),
        invitation_url: invitation_link(&base, &invitation.token),
        expires_at: invitation.expires_at.and_utc(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::values::AccountRole>)]
    pub role: Option<String>,
    /// `true` ends the account's sessions at once and refuses its sign-ins.
    #[serde(default)]
    pub disabled: Option<bool>,
}

async fn account_of_site(state: &AppState, site: i64, id: i64) -> Result<Account, ApiError> {
    store::run(&state.pool, move |conn| {
        store::accounts::by_id(conn, site, id)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("account {id}")))
}

/// Change an account's role or disable it (admin). Admins cannot demote or disable
/// themselves (409), so that a site always keeps the admin who acts.
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "accounts", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = AccountUpdate,
    responses((status = 200, body = AccountResponse),
        (status = 409, description = "an admin's own account cannot be demoted or disabled", body = crate::error::Problem, content_type = "application/problem+json")))]
#[patch("/v1/accounts/{id}")]
#[tracing::instrument(name = "update_account", skip_all, fields(key_id = caller.key_id))]
pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(body): ApiJson<AccountUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let role = body
        .role
        .as_deref()
        .map(|r| account_role("role", r))
        .transpose()?;
    let account = account_of_site(&state, caller.site_id, id.into_inner()).await?;
    let own = account.key_id == caller.key_id;
    if own && (body.disabled == Some(true) || role == Some(Role::Moderator)) {
        return Err(ApiError::Conflict(
            "an admin cannot demote or disable their own account".into(),
        ));
    }
    let (site, id) = (caller.site_id, account.id);
    let disabled = body.disabled;
    let updated = store::run(&state.pool, move |conn| {
        if let Some(role) = role {
            store::accounts::set_role(conn, &account, role)?;
        }
        if let Some(disabled) = disabled {
            store::accounts::set_disabled(conn, &account, disabled)?;
        }
        store::accounts::by_id(conn, site, id)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("account {id}")))?;
    tracing::info!(account_id = id, role = ?role, disabled = ?disabled, "account changed");
    Ok(HttpResponse::Ok().json(account_response(&state, updated)))
}

/// Reset an account (admin): a new one-time invitation link; the password is cleared, earlier
/// links stop working and the account's sessions end.
#[utoipa::path(post, path = "/v1/accounts/{id}/invitation", tag = "accounts", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 201, body = InvitationResponse),
        (status = 409, description = "the account is disabled", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/accounts/{id}/invitation")]
#[tracing::instrument(name = "reset_account", skip_all, fields(key_id = caller.key_id))]
pub async fn reset(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let account = account_of_site(&state, caller.site_id, id.into_inner()).await?;
    if account.disabled_at.is_some() {
        return Err(ApiError::Conflict(
            "the account is disabled; enable it before sending a new invitation".into(),
        ));
    }
    let (site, id) = (caller.site_id, account.id);
    let (invitation, account) = store::run(&state.pool, move |conn| {
        let invitation =
            store::accounts::reset(conn, &account, chrono::Duration::hours(INVITATION_HOURS))?;
        Ok((invitation, store::accounts::by_id(conn, site, id)?))
    })
    .await?;
    let account = account.ok_or_else(|| ApiError::NotFound(format!("account {id}")))?;
    tracing::info!(account_id = id, "account reset");
    let base = public_base(&state, &req);
    Ok(secured(HttpResponse::Created()).json(InvitationResponse {
        account: account_response(&state, account),
        invitation_url: invitation_link(&base, &invitation.token),
        expires_at: invitation.expires_at.and_utc(),
    }))
}

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
                key_id: f.key_id,
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

/// The account behind the caller (a session of a person); 403 for an API key.
async fn caller_account(state: &AppState, caller: &Caller) -> Result<Account, ApiError> {
    let key_id = caller.key_id;
    store::run(&state.pool, move |conn| {
        store::accounts::by_key(conn, key_id)
    })
    .await?
    .ok_or_else(|| {
        ApiError::Forbidden(
            "only a person's account has a second factor; this is an API key".into(),
        )
    })
}

/// A second factor's secret, to type or scan into an authenticator app.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32, for typing in.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code or pasting.
    pub otpauth_url: String,
}

/// Start enrolment in the second factor (the signed-in account): a new secret; sign-in asks for
/// codes only once one is confirmed.
#[utoipa::path(post, path = "/v1/account/totp", tag = "accounts", security(("bearer" = [])),
    responses((status = 201, body = TotpEnrolment),
        (status = 409, description = "the second factor is already on (an admin's reset turns it off)", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/account/totp")]
#[tracing::instrument(name = "start_totp", skip_all, fields(key_id = caller.key_id))]
pub async fn start_totp(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let account = caller_account(&state, &caller).await?;
    if account.totp_enabled_at.is_some() {
        return Err(ApiError::Conflict(
            "the second factor is already on; an admin's reset turns it off".into(),
        ));
    }
    let secret = totp::new_secret();
    let sealed = state.seal(TOTP_PURPOSE, &secret);
    let id = account.id;
    store::run(&state.pool, move |conn| {
        store::accounts::start_totp(conn, id, &sealed)
    })
    .await?;
    let label = state
        .open(EMAIL_PURPOSE, &account.email_sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or(account.name);
    Ok(secured(HttpResponse::Created()).json(TotpEnrolment {
        secret: totp::base32(&secret),
        otpauth_url: totp::otpauth_url(&secret, &label),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirmation {
    /// The authenticator's current 6-digit code.
    #[schema(pattern = r"^[0-9]{6}$")]
    pub code: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each works once in place of an authenticator code.
    pub recovery_codes: Vec<String>,
}

/// Confirm enrolment with the authenticator's first code: the second factor is on, and ten
/// recovery codes are shown once.
#[utoipa::path(post, path = "/v1/account/totp/confirm", tag = "accounts", security(("bearer" = [])),
    request_body = TotpConfirmation,
    responses((status = 200, body = RecoveryCodes),
        (status = 409, description = "no enrolment started, or the second factor is already on", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/account/totp/confirm")]
#[tracing::instrument(name = "confirm_totp", skip_all, fields(key_id = caller.key_id))]
pub async fn confirm_totp(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<TotpConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let account = caller_account(&state, &caller).await?;
    let secret = match (&account.totp_enabled_at, &account.totp_secret_sealed) {
        (None, Some(sealed)) => state.open(TOTP_PURPOSE, sealed).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("second-factor secret unreadable"))
        })?,
        _ => {
            return Err(ApiError::Conflict(
                "no second-factor enrolment in progress: start one with POST /v1/account/totp"
                    .into(),
            ))
        }
    };
    let now = Utc::now().timestamp().max(0) as u64;
    let step = totp::matching_step(&secret, &body.code, now)
        .ok_or_else(|| ValidationError::new("code", "is not the authenticator's current code"))?;
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| state.keyed_hash(RECOVERY_PURPOSE, c))
        .collect();
    let id = account.id;
    store::run(&state.pool, move |conn| {
        store::accounts::enable_totp(conn, id, step as i64, &hashes)
    })
    .await?;
    tracing::info!(account_id = id, "second factor on");
    Ok(secured(HttpResponse::Ok()).json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpDisable {
    /// The account's password.
    #[schema(format = Password, max_length = 256)]
    pub password: String,
    /// The authenticator's current 6-digit code.
    #[schema(pattern = r"^[0-9]{6}$")]
    pub code: String,
}

/// Turn one's own second factor off, with the password and the authenticator's current code
/// (recovery codes do not count). Failures count toward the sign-in limits of the account and
/// of the address (429 past them).
#[utoipa::path(post, path = "/v1/account/totp/disable", tag = "accounts", security(("bearer" = [])),
    request_body = TotpDisable,
    responses((status = 204, description = "the second factor is off; its recovery codes are deleted"),
        (status = 403, description = "wrong password or code, or an API key", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the second factor is not on", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failures; retry after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/account/totp/disable")]
#[tracing::instrument(name = "disable_totp", skip_all, fields(key_id = caller.key_id))]
pub async fn disable_totp(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<TotpDisable>,
) -> Result<HttpResponse, ApiError> {
    let account = caller_account(&state, &caller).await?;
    if body.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        )
        .into());
    }
    let secret = match (&account.totp_enabled_at, &account.totp_secret_sealed) {
        (Some(_), Some(sealed)) => state.open(TOTP_PURPOSE, sealed).ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("second-factor secret unreadable"))
        })?,
        _ => return Err(ApiError::Conflict("the second factor is not on".into())),
    };
    let email = state
        .open(EMAIL_PURPOSE, &account.email_sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let scopes = Scopes::of(&state, &req, &email);
    check_rate_limits(&state, &scopes).await?;
    let stored = account.password_hash.clone();
    let password = body.password;
    let password_ok = web::block(move || verify_password(stored.as_deref(), &password)).await?;
    let now = Utc::now().timestamp().max(0) as u64;
    let step = totp::matching_step(&secret, &body.code, now);
    let id = account.id;
    let code_ok = match (password_ok, step) {
        (true, Some(step)) => {
            let step = step as i64;
            store::run(&state.pool, move |conn| {
                store::accounts::use_totp_step(conn, id, step)
            })
            .await?
        }
        _ => false,
    };
    if !code_ok {
        // Counted like a failed sign-in, but answered 403: the session itself stays valid.
        let window = chrono::Duration::seconds(state.settings.sign_in_window_secs.max(1));
        let forget_before = store::now() - window;
        store::run(&state.pool, move |conn| {
            store::accounts::record_failure(conn, &[&scopes.email, &scopes.ip], forget_before)
        })
        .await?;
        tracing::warn!(
            account_id = id,
            "second factor not turned off: wrong password or code"
        );
        return Err(ApiError::Forbidden(
            "wrong password or authenticator code".into(),
        ));
    }
    store::run(&state.pool, move |conn| {
        store::accounts::disable_totp(conn, id)
    })
    .await?;
    tracing::info!(account_id = id, "second factor off");
    Ok(secured(HttpResponse::NoContent()).finish())
}
