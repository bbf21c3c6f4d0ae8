//! A person's own second factor: enrolment (secret, then a first code and recovery codes) and
//! turning it off with the password and a code.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sessions::{check_rate_limits, Scopes};
use super::{EMAIL_PURPOSE, RECOVERY_PURPOSE, TOTP_PURPOSE};
use crate::auth::Caller;
use crate::domain::accounts::{verify_password, MAX_PASSWORD_CHARS};
use crate::domain::intake::ValidationError;
use crate::domain::totp;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::console::secured;
use crate::state::AppState;
use crate::store::{self, accounts::Account};

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
#[tracing::instrument(name = "start_totp", skip_all, fields(key_id = caller.key_id.0))]
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
#[tracing::instrument(name = "confirm_totp", skip_all, fields(key_id = caller.key_id.0))]
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
    tracing::info!(account_id = id.0, "second factor on");
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
#[tracing::instrument(name = "disable_totp", skip_all, fields(key_id = caller.key_id.0))]
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
            account_id = id.0,
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
    tracing::info!(account_id = id.0, "second factor off");
    Ok(secured(HttpResponse::NoContent()).finish())
}
