//! Perspective's errors in Google's JSON shape (`{"error": {"code", "message", "status",
//! "details": [{"@type", "errorType"}]}}`), and the middleware that rewrites Vigie's problem
//! documents under `/perspective/` into that shape.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::store;

/// The `@type` of Perspective's error details.
const ERROR_DETAIL_TYPE: &str = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error";

/// An error in Google's shape.
#[derive(Debug, Clone)]
pub struct GoogleError {
    pub code: StatusCode,
    /// Google's canonical status (`INVALID_ARGUMENT`, `PERMISSION_DENIED`, …).
    pub status: &'static str,
    /// Perspective's `errorType` (`COMMENT_EMPTY`, `LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`, …).
    pub error_type: &'static str,
    pub message: String,
}

impl GoogleError {
    /// A 400 `INVALID_ARGUMENT` of Perspective's `error_type`.
    pub(super) fn invalid(error_type: &'static str, message: impl Into<String>) -> GoogleError {
        GoogleError {
            code: StatusCode::BAD_REQUEST,
            status: "INVALID_ARGUMENT",
            error_type,
            message: message.into(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {
            "code": self.code.as_u16(),
            "message": self.message,
            "status": self.status,
            "details": [{"@type": ERROR_DETAIL_TYPE, "errorType": self.error_type}],
        }})
    }

    /// The same failure as Vigie's API would name it, in Google's words.
    pub fn from_api(e: &ApiError) -> GoogleError {
        let message = match e {
            ApiError::Internal(_) => "internal error; it was logged".to_owned(),
            ApiError::Validation(v) => {
                format!("Invalid JSON payload received: {}: {}", v.field, v.detail)
            }
            ApiError::MalformedJson(m) => format!("Invalid JSON payload received: {m}"),
            other => other.to_string(),
        };
        google_error(e.status_code(), message)
    }
}

impl std::fmt::Display for GoogleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.error_type, self.message)
    }
}

impl ResponseError for GoogleError {
    fn status_code(&self) -> StatusCode {
        self.code
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.code);
        match self.code {
            StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            StatusCode::REQUEST_TIMEOUT => {
                response.force_close();
            }
            _ => {}
        }
        response
            .content_type("application/json; charset=UTF-8")
            .body(self.body().to_string())
    }
}

impl From<ApiError> for GoogleError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Internal(cause) = &e {
            tracing::error!(error = ?cause, "perspective request failed");
        }
        GoogleError::from_api(&e)
    }
}

impl From<store::StoreError> for GoogleError {
    fn from(e: store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

/// Middleware: under `/perspective/`, a problem document answered before the handlers (a NUL
/// in the query string, an unknown path, another method, an extractor) becomes Google's JSON
/// with the same status and message.
pub async fn google_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.path().starts_with("/perspective/") {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    }
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        // Rare (errors are answered where they occur): rendered by whoever is outside, so
        // rendered as Google's error.
        Err(e) => {
            let code = e.as_response_error().status_code();
            return Err(google_error(code, e.to_string()).into());
        }
    };
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == crate::error::PROBLEM_JSON.as_bytes());
    if !is_problem {
        return Ok(res);
    }
    let (request, response) = res.into_parts();
    let code = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|p| p["detail"].as_str().map(str::to_owned))
        .unwrap_or_else(|| code.canonical_reason().unwrap_or("error").to_owned());
    let mut answer = google_error(code, detail).error_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ServiceResponse::new(request, answer))
}

/// Google's error for an HTTP status answered by the rest of the app.
fn google_error(code: StatusCode, message: String) -> GoogleError {
    let (status, error_type) = match code.as_u16() {
        400 => ("INVALID_ARGUMENT", "INVALID_REQUEST"),
        401 => ("INVALID_ARGUMENT", "API_KEY_INVALID"),
        403 => ("PERMISSION_DENIED", "PERMISSION_DENIED"),
        404 => ("NOT_FOUND", "NOT_FOUND"),
        405 => ("UNIMPLEMENTED", "METHOD_NOT_ALLOWED"),
        408 => ("DEADLINE_EXCEEDED", "REQUEST_TIMEOUT"),
        413 => ("INVALID_ARGUMENT", "COMMENT_TOO_LONG"),
        415 => ("INVALID_ARGUMENT", "INVALID_CONTENT_TYPE"),
        422 => ("INVALID_ARGUMENT", "INVALID_REQUEST"),
        429 => ("RESOURCE_EXHAUSTED", "RATE_LIMITED"),
        503 => ("UNAVAILABLE", "UNAVAILABLE"),
        _ => ("INTERNAL", "INTERNAL"),
    };
    let code = match code.as_u16() {
        401 | 413 | 415 | 422 => StatusCode::BAD_REQUEST,
        _ => code,
    };
    GoogleError {
        code,
        status,
        error_type,
        message,
    }
}

/// `Expect: 100-continue` with a declared length over the limit, under `/perspective/`: the
/// answer sent before the body comes (see [`crate::extract::expect_continue`]).
pub fn too_large_before_body(limit: usize) -> HttpResponse {
    GoogleError::invalid(
        "COMMENT_TOO_LONG",
        format!("request body is larger than {limit} bytes"),
    )
    .error_response()
}

/// Google's error body (documentation only).
#[derive(Debug, Serialize, ToSchema)]
pub struct GoogleErrorBody {
    #[schema(value_type = Object)]
    pub error: Value,
}

/// The errors of the Perspective routes, documented once for both.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum GoogleErrorResponses {
    /// Google's error: a wrong key (`API_KEY_INVALID`) or a bad request (`COMMENT_EMPTY`,
    /// `COMMENT_TOO_LONG`, `NO_REQUESTED_ATTRIBUTES`, `ATTRIBUTE_NOT_SUPPORTED`,
    /// `LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE`, `INVALID_SCORE_TYPE`, `INVALID_REQUEST`,
    /// `INVALID_CONTENT_TYPE`).
    #[response(status = 400)]
    BadRequest(#[to_schema] GoogleErrorBody),
    /// Google's error: no key, or a key whose role is not ingest or admin.
    #[response(status = 403)]
    PermissionDenied(#[to_schema] GoogleErrorBody),
    /// Google's error: the body did not arrive within `body_read_timeout_secs`.
    #[response(status = 408)]
    DeadlineExceeded(#[to_schema] GoogleErrorBody),
    /// Google's error: the database is unavailable (`Retry-After`).
    #[response(status = 503)]
    Unavailable(#[to_schema] GoogleErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_errors_have_code_status_message_and_error_type() {
        let e = GoogleError::from_api(&ApiError::UnsupportedMediaType);
        let body = e.body();
        assert_eq!(body["error"]["code"], 400);
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(body["error"]["details"][0]["@type"], ERROR_DETAIL_TYPE);
        assert_eq!(
            body["error"]["details"][0]["errorType"],
            "INVALID_CONTENT_TYPE"
        );
    }
}
