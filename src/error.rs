//! The one error type of the HTTP API, mapped to `application/problem+json` (RFC 9457) here and
//! nowhere else. Server faults are logged once with their cause and answered opaquely.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::intake::ValidationError;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Validation(ValidationError),
    #[error("missing or invalid API key")]
    Unauthorized,
    /// A sign-in with an unknown e-mail, a wrong password or a disabled account (one answer).
    #[error("unknown e-mail or wrong password")]
    SignInFailed,
    /// The password was right; the account also needs its authenticator code (`code`).
    #[error("this account needs the code of its authenticator app (or a recovery code) in `code`")]
    SecondFactorRequired,
    /// A signed request (Coral Talk) whose signature matches no configured secret.
    #[error("{0}")]
    BadSignature(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Something that existed and is no more: a used or expired invitation.
    #[error("{0}")]
    Gone(String),
    /// The body did not arrive within `body_read_timeout_secs` (a slow or stalled client).
    #[error("the request body was not received within {secs} s")]
    RequestTimeout { secs: u64 },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    /// A known path asked with another method; `allow` lists the methods it answers.
    #[error("method not allowed; this path answers {allow}")]
    MethodNotAllowed { allow: String },
    #[error("too many requests; retry in {retry_after} s")]
    TooManyRequests { retry_after: i64 },
    #[error("the database is unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation(e)
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem (`urn:vigie:problem:…`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// JSON path of the offending field, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::MalformedJson(_) => ("malformed-json", "Malformed JSON"),
            ApiError::BadRequest(_) => ("bad-request", "Bad request"),
            ApiError::Validation(_) => ("validation", "Invalid field"),
            ApiError::Unauthorized => ("unauthorized", "Unauthorized"),
            ApiError::SignInFailed => ("sign-in-failed", "Unauthorized"),
            ApiError::SecondFactorRequired => ("second-factor-required", "Unauthorized"),
            ApiError::BadSignature(_) => ("invalid-signature", "Invalid signature"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::Gone(_) => ("gone", "Gone"),
            ApiError::RequestTimeout { .. } => ("request-timeout", "Request timeout"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            ApiError::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            ApiError::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            ApiError::Unavailable => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    /// The problem document sent to the client.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let (detail, field) = match self {
            ApiError::Validation(v) => (v.detail.clone(), Some(v.field.clone())),
            ApiError::Internal(_) => ("the server failed; the error was logged".to_owned(), None),
            other => (other.to_string(), None),
        };
        Problem {
            kind: format!("urn:vigie:problem:{slug}"),
            title,
            status: self.status_code().as_u16(),
            detail,
            field,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized
            | ApiError::BadSignature(_)
            | ApiError::SignInFailed
            | ApiError::SecondFactorRequired => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::BadSignature(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "X-Coral-Signature"));
            }
            ApiError::Unavailable => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            ApiError::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::RequestTimeout { .. } => {
                // The rest of the body may still trickle in: the connection is not reused.
                response.force_close();
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::Unavailable
            }
            crate::store::StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

impl From<crate::store::comments::IntakeError> for ApiError {
    fn from(e: crate::store::comments::IntakeError) -> Self {
        use crate::store::comments::IntakeError;
        match e {
            IntakeError::ThreadClosed(_) => ApiError::Conflict(e.to_string()),
            IntakeError::ParentNotFound(_) | IntakeError::ParentInOtherThread(_) => {
                ApiError::Validation(ValidationError::new("parent_id", e.to_string()))
            }
            IntakeError::Db(e) => crate::store::StoreError::from(e).into(),
            IntakeError::Store(e) => e.into(),
        }
    }
}

impl From<crate::store::edits::EditError> for ApiError {
    fn from(e: crate::store::edits::EditError) -> Self {
        use crate::store::edits::EditError;
        match e {
            EditError::NotFound(_) => ApiError::NotFound(e.to_string()),
            EditError::Deleted(_) | EditError::Stale(..) => ApiError::Conflict(e.to_string()),
            EditError::Db(e) => crate::store::StoreError::from(e).into(),
            EditError::Store(e) => e.into(),
        }
    }
}
