//! The admins' management of a site's accounts: list, invite, change a role or disable, reset.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invitations::{invitation_link, public_base};
use super::{account_response, AccountResponse, EMAIL_PURPOSE};
use crate::auth::Caller;
use crate::domain::accounts::{account_role, display_name, Email, INVITATION_HOURS};
use crate::domain::{AccountId, Role, SiteId};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::console::secured;
use crate::state::AppState;
use crate::store::{self, accounts::Account};

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
#[tracing::instrument(name = "create_account", skip_all, fields(key_id = caller.key_id.0))]
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
    tracing::info!(account_id = account.id.0, role = %role, "account invited");
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

/// Account `id` of the site, or 404.
async fn account_of_site(
    state: &AppState,
    site: SiteId,
    id: AccountId,
) -> Result<Account, ApiError> {
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
#[tracing::instrument(name = "update_account", skip_all, fields(key_id = caller.key_id.0))]
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
    let account = account_of_site(&state, caller.site_id, AccountId(id.into_inner())).await?;
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
    tracing::info!(account_id = id.0, role = ?role, disabled = ?disabled, "account changed");
    Ok(HttpResponse::Ok().json(account_response(&state, updated)))
}

/// Reset an account (admin): a new one-time invitation link; the password is cleared, earlier
/// links stop working and the account's sessions end.
#[utoipa::path(post, path = "/v1/accounts/{id}/invitation", tag = "accounts", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 201, body = InvitationResponse),
        (status = 409, description = "the account is disabled", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/accounts/{id}/invitation")]
#[tracing::instrument(name = "reset_account", skip_all, fields(key_id = caller.key_id.0))]
pub async fn reset(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let account = account_of_site(&state, caller.site_id, AccountId(id.into_inner())).await?;
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
    tracing::info!(account_id = id.0, "account reset");
    let base = public_base(&state, &req);
    Ok(secured(HttpResponse::Created()).json(InvitationResponse {
        account: account_response(&state, account),
        invitation_url: invitation_link(&base, &invitation.token),
        expires_at: invitation.expires_at.and_utc(),
    }))
}
