//! The one-time invitation link, and the password set through it.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{account_response, AccountResponse};
use crate::domain::accounts::NewPassword;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::console::secured;
use crate::state::AppState;
use crate::store;

/// Longest invitation token looked up (ours are 43 characters).
const MAX_TOKEN_CHARS: usize = 256;

/// The start of links sent to people: `public_url`, else the address this request came to.
pub(super) fn public_base(state: &AppState, req: &HttpRequest) -> String {
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
pub struct SetPassword {
    /// 12 to 256 characters, not one of the most common passwords.
    #[schema(format = Password, min_length = 12, max_length = 256)]
    pub password: String,
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
            tracing::info!(account_id = account.id.0, "password set from an invitation");
            let mut response = account_response(&state, account);
            response.state = "active".into();
            Ok(secured(HttpResponse::Ok()).json(response))
        }
        store::accounts::InvitationState::Gone(why) => Err(ApiError::Gone(why.into())),
        store::accounts::InvitationState::Unknown => Err(ApiError::NotFound("invitation".into())),
    }
}
