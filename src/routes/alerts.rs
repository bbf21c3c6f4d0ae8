//! Each person's e-mail alerts: what they want to hear about, and a test message. Only a
//! person's account has alerts (a signed-in session, or the account's own principal); API keys
//! get 403. Requests only write to the mail outbox: the background worker sends.

use actix_web::{get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::EMAIL_PURPOSE;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::AccountId;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::{self, accounts::Account, mail::AlertPreferences};

/// Longest queue wait an alert can be set for (a week, in minutes).
pub const MAX_QUEUE_WAIT_MINUTES: i32 = 7 * 24 * 60;
/// The languages messages are written in.
pub const LANGUAGES: [&str; 2] = ["fr", "en"];

/// A person's alert choices.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertsView {
    /// Language of the messages: `fr` or `en`.
    pub language: String,
    /// A message for each report of illegal content, or from a trusted flagger or an authority.
    pub on_report: bool,
    /// A message when the oldest item of a queue (to review, reported, appeals) has waited more
    /// than this many minutes; at most one per queue every so many minutes. `null`: off.
    pub queue_wait_minutes: Option<i32>,
    /// Hour (UTC, 0–23) of the daily digest; `null`: no digest.
    pub digest_hour: Option<i32>,
    /// Where the messages go (the account's e-mail).
    pub email: String,
    /// Whether this Vigie sends e-mail at all (an SMTP server is configured).
    pub smtp_configured: bool,
}

/// New alert choices (all fields are replaced).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsUpdate {
    #[schema(value_type = crate::openapi::values::ConsoleLanguage)]
    pub language: String,
    pub on_report: bool,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10080)]
    pub queue_wait_minutes: Option<i32>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 23)]
    pub digest_hour: Option<i32>,
}

/// Which message the test sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertTest {
    /// `test` (default): a short message proving alerts arrive; `digest`: today's digest now.
    #[serde(default)]
    #[schema(value_type = Option<AlertTestKind>)]
    pub kind: Option<String>,
}

/// The messages the test endpoint sends.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum AlertTestKind {
    Test,
    Digest,
}

/// A message written to the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertQueued {
    /// Always true: the worker sends it shortly (retried if the server is down).
    pub queued: bool,
}

async fn caller_account(state: &AppState, caller: &Caller) -> Result<Account, ApiError> {
    let key_id = caller.key_id;
    store::run(&state.pool, move |conn| {
        store::accounts::by_key(conn, key_id)
    })
    .await?
    .ok_or_else(|| {
        ApiError::Forbidden("only a person's account has e-mail alerts; this is an API key".into())
    })
}

fn view(state: &AppState, account: &Account, p: AlertPreferences) -> AlertsView {
    AlertsView {
        language: p.language,
        on_report: p.on_report,
        queue_wait_minutes: p.queue_wait_minutes,
        digest_hour: p.digest_hour,
        email: state
            .open(EMAIL_PURPOSE, &account.email_sealed)
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default(),
        smtp_configured: state.settings.smtp_enabled(),
    }
}

/// The signed-in person's alert choices (all off until set).
#[utoipa::path(get, path = "/v1/account/alerts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AlertsView),
        (status = 403, description = "an API key: only a person's account has e-mail alerts", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/v1/account/alerts")]
#[tracing::instrument(name = "get_alerts", skip_all, fields(key_id = caller.key_id.0))]
pub async fn get_alerts(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let account = caller_account(&state, &caller).await?;
    let (id, key_id) = (account.id, account.key_id);
    let prefs = store::run(&state.pool, move |conn| {
        Ok(match store::mail::preferences(conn, id)? {
            Some(p) => p,
            None => {
                let language = store::console::preferred_language(conn, key_id)?
                    .filter(|l| l == "en")
                    .unwrap_or_else(|| "fr".into());
                AlertPreferences::off(id, &language)
            }
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(&state, &account, prefs)))
}

/// Validated choices of a request.
fn validated(
    account_id: AccountId,
    body: AlertsUpdate,
) -> Result<AlertPreferences, ValidationError> {
    if !LANGUAGES.contains(&body.language.as_str()) {
        return Err(ValidationError::new("language", "must be `fr` or `en`"));
    }
    if let Some(m) = body.queue_wait_minutes {
        if !(1..=MAX_QUEUE_WAIT_MINUTES).contains(&m) {
            return Err(ValidationError::new(
                "queue_wait_minutes",
                format!("must be between 1 and {MAX_QUEUE_WAIT_MINUTES} minutes, or null (off)"),
            ));
        }
    }
    if let Some(h) = body.digest_hour {
        if !(0..=23).contains(&h) {
            return Err(ValidationError::new(
                "digest_hour",
                "must be an hour between 0 and 23 (UTC), or null (no digest)",
            ));
        }
    }
    Ok(AlertPreferences {
        account_id,
        language: body.language,
        on_report: body.on_report,
        queue_wait_minutes: body.queue_wait_minutes,
        digest_hour: body.digest_hour,
        updated_at: store::now(),
    })
}

/// Replace the signed-in person's alert choices.
#[utoipa::path(put, path = "/v1/account/alerts", tag = "accounts", security(("bearer" = [])),
    request_body = AlertsUpdate,
    responses((status = 200, body = AlertsView)))]
#[put("/v1/account/alerts")]
#[tracing::instrument(name = "put_alerts", skip_all, fields(key_id = caller.key_id.0))]
pub async fn put_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<AlertsUpdate>,
) -> Result<HttpResponse, ApiError> {
    let account = caller_account(&state, &caller).await?;
    let prefs = validated(account.id, body)?;
    let saved = store::run(&state.pool, move |conn| {
        store::mail::set_preferences(conn, &prefs)
    })
    .await?;
    tracing::info!(account_id = account.id.0, "alert choices changed");
    Ok(HttpResponse::Ok().json(view(&state, &account, saved)))
}

/// Send the signed-in person a test message, or today's digest now. The message is queued
/// (202) and sent by the worker; 409 when no SMTP server is configured.
#[utoipa::path(post, path = "/v1/account/alerts/test", tag = "accounts", security(("bearer" = [])),
    request_body = AlertTest,
    responses((status = 202, body = AlertQueued),
        (status = 409, description = "no SMTP server is configured: nothing can be sent", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/account/alerts/test")]
#[tracing::instrument(name = "test_alert", skip_all, fields(key_id = caller.key_id.0))]
pub async fn test_alert(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<AlertTest>,
) -> Result<HttpResponse, ApiError> {
    let account = caller_account(&state, &caller).await?;
    let kind = match body.kind.as_deref() {
        None | Some("test") => store::mail::KIND_TEST,
        Some("digest") => store::mail::KIND_DIGEST,
        Some(_) => return Err(ValidationError::new("kind", "must be `test` or `digest`").into()),
    };
    if !state.settings.smtp_enabled() {
        return Err(ApiError::Conflict(
            "e-mail alerts are off: no SMTP server is configured (smtp_host)".into(),
        ));
    }
    let (site, id) = (account.site_id, account.id);
    store::run(&state.pool, move |conn| {
        store::mail::enqueue_now(conn, site, id, kind)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(AlertQueued { queued: true }))
}
