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
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::MalformedJson(format!("malformed JSON: {e}")))?;
    // serde would read an object's fields from an array (`[null, null]`) by position: every
    // body the API takes is an object (or `null`), never an array.
    if value.is_array() {
        return Err(
            ValidationError::new(".", "the body must be a JSON object, not an array").into(),
        );
    }
    integral_floats_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| classify(&e))
}

/// `deserialize_with` for a nested object field: refuses the array form serde would otherwise
/// read a struct from (`"client": []`).
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize;
    let fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    T::deserialize(serde_json::Value::Object(fields)).map_err(serde::de::Error::custom)
}

/// [`object`] for an optional field (`null` is absent).
pub fn optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize;
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? {
        None => Ok(None),
        Some(fields) => T::deserialize(serde_json::Value::Object(fields))
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// JSON Schema counts `132.0` as an integer, so clients (and generators) may send it where the
/// document says `integer`; serde would refuse it for an `i64`. Floats without a fractional part
/// in the `i64` range become integers; a float field still accepts them.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Strictly inside: -9223372036854775809 parses to the same float as `i64::MIN`.
            if f.fract() == 0.0 && f > i64::MIN as f64 && f < i64::MAX as f64 {
                *n = serde_json::Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// A shape error in a body that is valid JSON: 422 naming the field.
fn classify(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    let path = e.path().to_string();
    // serde_json reports a value of the wrong JSON type where an enum's string is expected as
    // a syntax error ("expected value"); the document parsed, so it is the field that is wrong.
    let message = if inner.is_data() {
        inner.to_string()
    } else {
        "has the wrong type".to_owned()
    };
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

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct WithEnum {
        action: crate::domain::Action,
    }

    #[test]
    fn a_wrong_json_type_where_an_enum_is_expected_names_the_field() {
        for body in [r#"{"action":5}"#, r#"{"action":[]}"#, r#"{"action":true}"#] {
            match parse_json::<WithEnum>(body.as_bytes()) {
                Err(ApiError::Validation(v)) => assert_eq!(v.field, "action", "{body}"),
                other => panic!("{body}: expected a validation error, got {other:?}"),
            }
        }
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
