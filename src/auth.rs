//! Bearer API keys: the caller of a request, its site and its role.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// The authenticated key behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: i64,
    pub site_id: i64,
    pub role: Role,
    pub name: String,
}

impl Caller {
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
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no state")))?;
            let key = store::run(&state.pool, move |conn| {
                store::keys::authenticate(conn, &token)
            })
            .await?
            .ok_or(ApiError::Unauthorized)?;
            let role = key
                .role
                .parse()
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("key {}: {e}", key.id)))?;
            tracing::Span::current().record("key_id", key.id);
            Ok(Caller {
                key_id: key.id,
                site_id: key.site_id,
                role,
                name: key.name,
            })
        })
    }
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
