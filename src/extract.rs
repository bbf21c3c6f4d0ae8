//! `ApiJson<T>`: a JSON body extractor whose every failure is a precise problem: wrong media
//! type 415, too large 413, invalid UTF-8 or malformed JSON 400, wrong type or missing field
//! 422 naming the field.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::intake::ValidationError;
use crate::error::ApiError;
use crate::state::AppState;

/// Request body limit when no state is configured (tests of the extractor alone).
const DEFAULT_LIMIT: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = JsonBytes::from_request(req, payload);
        Box::pin(async move { parse_json(&body.await?.0).map(ApiJson) })
    }
}

/// The exact bytes of a JSON request body (for signatures over it), with the same checks as
/// [`ApiJson`]: JSON content type (415) and the size limit (413); not parsed yet.
pub struct JsonBytes(pub web::Bytes);

impl FromRequest for JsonBytes {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.max_request_bytes)
            .unwrap_or(DEFAULT_LIMIT);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::BadRequest(format!("cannot read body: {e}")))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(JsonBytes(body.freeze()))
        })
    }
}

/// Parses a JSON body, classifying failures as the API reports them.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(ApiError::MalformedJson(format!(
            "request body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // A shape error in a document that is not even JSON is reported as malformed JSON.
        match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(syntax) => ApiError::MalformedJson(format!("malformed JSON: {syntax}")),
            Ok(_) => classify(&e),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::MalformedJson(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn classify(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    if !inner.is_data() {
        return ApiError::MalformedJson(format!("malformed JSON: {inner}"));
    }
    let path = e.path().to_string();
    let message = inner.to_string();
    // Drop serde_json's " at line L column C": the field name is the useful location.
    let message = message
        .rsplit_once(" at line ")
        .map(|(m, _)| m.to_owned())
        .unwrap_or(message);
    let field = match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        Some(missing) if path == "." => missing.to_owned(),
        Some(missing) => format!("{path}.{missing}"),
        None => path,
    };
    ApiError::Validation(ValidationError::new(field, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        id: String,
    }

    fn field_of(body: &str) -> String {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::Validation(v)) => v.field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn missing_and_mistyped_fields_are_named_by_path() {
        assert_eq!(field_of(r#"{"inner":{"id":"x"}}"#), "name");
        assert_eq!(field_of(r#"{"name":"n","inner":{}}"#), "inner.id");
        assert_eq!(field_of(r#"{"name":5,"inner":{"id":"x"}}"#), "name");
    }

    #[test]
    fn syntax_errors_and_bad_utf8_are_malformed() {
        assert!(matches!(
            parse_json::<Outer>(b"{\"name\":"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<Outer>(b"{\"name\":\"\xff\"}"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<Outer>(br#"{"name":"n","inner":{"id":"x"}} trailing"#),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
