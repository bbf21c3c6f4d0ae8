//! What comes in over HTTP is checked here, once, before any handler sees it.
//!
//! - `ApiJson<T>`: a JSON body extractor whose every failure is a precise problem: wrong media
//!   type 415, too large 413, not received within `body_read_timeout_secs` 408, invalid UTF-8
//!   or malformed JSON 400, a NUL character in any string, wrong type or missing field 422
//!   naming the field.
//! - [`check_url`] (applied by the [`edge`] middleware): a NUL character (`%00`) or a percent-escape that is not UTF-8 in the path
//!   answers 404 (no resource can be named so), in the query string 400.
//! - [`expect_continue`]: `Expect: 100-continue` with a `Content-Length` over
//!   `max_request_bytes` (a model archive: its own limit) answers 413 before `100 Continue` is
//!   sent, so the body never comes.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, Response, ServiceRequest, ServiceResponse};
use actix_web::http::{header, ConnectionType};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::domain::intake::ValidationError;
use crate::error::ApiError;
use crate::state::AppState;

/// Request body limit when no state is configured (tests of the extractor alone).
const DEFAULT_LIMIT: usize = 64 * 1024;
/// Body-read time limit when no state is configured.
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

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
        let settings = req.app_data::<web::Data<AppState>>().map(|s| &s.settings);
        let limit = settings.map_or(DEFAULT_LIMIT, |s| s.max_request_bytes);
        // a rule file has its own, larger limit
        let limit = crate::routes::rules::rules_limit(req.method(), req.path())
            .map_or(limit, |r| r.max(limit));
        let timeout = settings.map_or(DEFAULT_BODY_TIMEOUT, |s| {
            Duration::from_secs(s.body_read_timeout_secs.max(1))
        });
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
            // The whole body must arrive within the limit: a client sending it a byte at a
            // time would otherwise hold its connection (and a file descriptor) for ever.
            let read = async {
                let mut body = web::BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk
                        .map_err(|e| ApiError::BadRequest(format!("cannot read body: {e}")))?;
                    if body.len() + chunk.len() > limit {
                        return Err(ApiError::PayloadTooLarge { limit });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(JsonBytes(body.freeze()))
            };
            actix_web::rt::time::timeout(timeout, read)
                .await
                .unwrap_or(Err(ApiError::RequestTimeout {
                    secs: timeout.as_secs(),
                }))
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
    if let Some(field) = first_nul(body) {
        return Err(ValidationError::new(field, "must not contain NUL characters").into());
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

/// The JSON path (as `serde_path_to_error` writes it: `items[0].reason`) of the first string
/// or object key holding U+0000, in a body that is valid JSON. PostgreSQL cannot store NUL in
/// text, and no identifier or text Vigie keeps may hold one: refused here, once, for every
/// route.
fn first_nul(body: &[u8]) -> Option<String> {
    // Inside a JSON string NUL can only be written `\u0000` (raw control characters are not
    // JSON): most bodies are passed by this one scan. The rare hit (or an escaped backslash
    // before `u0000`) is settled on the parsed document.
    memchr::memmem::find(body, b"\\u0000")?;
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    nul_in(&value, &mut String::new())
}

fn nul_in(value: &serde_json::Value, path: &mut String) -> Option<String> {
    let named = |path: &str| {
        if path.is_empty() {
            ".".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(named(path)),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = nul_in(item, path);
            path.truncate(len);
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                // The key itself cannot be shown: name the object holding it.
                return Some(named(path));
            }
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = nul_in(item, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

/// Refuses a URL that names nothing Vigie could hold: NUL (`%00`) or a percent-escape that is
/// not UTF-8 in the path answers 404 (like any path that does not parse), in the query string
/// 400 naming the parameter. Everything downstream (path and query extractors, the database)
/// sees only valid, NUL-free text.
pub fn check_url(path: &str, query: &str) -> Result<(), ApiError> {
    if !clean(path) {
        return Err(ApiError::NotFound(format!(
            "{path} (it holds a NUL character or invalid UTF-8)"
        )));
    }
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if clean(name) && clean(value) {
            continue;
        }
        let name = match percent_decode_str(name).decode_utf8() {
            Ok(n) if clean(name) => format!("parameter `{n}`"),
            _ => "a parameter name".to_owned(),
        };
        return Err(ApiError::BadRequest(format!(
            "invalid query string: {name} holds a NUL character or invalid UTF-8"
        )));
    }
    Ok(())
}

/// Percent-decoded, the text is UTF-8 and holds no NUL.
fn clean(raw: &str) -> bool {
    if !raw.contains('%') {
        // A request line cannot carry a raw NUL or non-ASCII byte: nothing to decode.
        return !raw.contains('\0');
    }
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok()
}

/// Middleware at the edge of every request, before routing and authentication: applies
/// [`check_url`], and keeps the request's body stream alive until the response is sent.
///
/// The second is for slow clients: when a handler answers without reading the whole body (a
/// 401 before the body, a route that takes none, a 408), actix drains a dropped *chunked*
/// body for as long as the client sends it, with no time limit. A body still held when the
/// response ends counts as unread instead, and actix closes the connection after the answer
/// (within its 1 s disconnect timeout), as it already does for a `Content-Length` body.
pub async fn edge<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let held = match req.take_payload() {
        Payload::H1 { payload } => {
            let shared = Rc::new(RefCell::new(payload));
            req.set_payload(Payload::Stream {
                payload: Box::pin(SharedBody(shared.clone())),
            });
            Some(shared)
        }
        other => {
            req.set_payload(other);
            None
        }
    };
    let res = match check_url(req.uri().path(), req.query_string()) {
        Err(e) => req.into_response(e.error_response()).map_into_boxed_body(),
        Ok(()) => next.call(req).await?.map_into_boxed_body(),
    };
    Ok(match held {
        // actix decides whether to drain or close when the response body ends: the request
        // body rides along with the response body until then.
        Some(held) => res.map_body(|_, body| BoxBody::new(HoldingBody { body, _held: held })),
        None => res,
    })
}

/// The request body as the handlers read it, shared with [`HoldingBody`].
struct SharedBody(Rc<RefCell<actix_http::h1::Payload>>);

impl futures_util::Stream for SharedBody {
    type Item = Result<web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.borrow_mut().poll_next_unpin(cx)
    }
}

/// A response body that keeps the request body alive until it is dropped.
struct HoldingBody {
    body: BoxBody,
    _held: Rc<RefCell<actix_http::h1::Payload>>,
}

impl MessageBody for HoldingBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<web::Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// Decides an `Expect: 100-continue` request before its body is sent (actix answers
/// `100 Continue` to every one by default): a declared length over `limit` is refused with
/// 413 and the connection closed, so the client never sends the body.
pub async fn expect_continue(
    limit: usize,
    req: actix_http::Request,
) -> Result<actix_http::Request, Response<BoxBody>> {
    let declared = req
        .head()
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A model archive and a rule file have their own, larger limits (curl asks
    // `Expect: 100-continue` for an archive).
    let limit = crate::routes::models::archive_limit(req.method(), req.path(), req.headers())
        .or_else(|| {
            crate::routes::rules::rules_limit(req.method(), req.path()).map(|r| r.max(limit))
        })
        .unwrap_or(limit);
    if declared.is_some_and(|n| n > limit as u64) {
        let mut response: Response<BoxBody> = if req.path().starts_with("/perspective/") {
            crate::routes::perspective::too_large_before_body(limit).into()
        } else {
            ApiError::PayloadTooLarge { limit }.error_response().into()
        };
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        return Err(response);
    }
    Ok(req)
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

    fn nul_field(body: &str) -> Option<String> {
        match parse_json::<serde_json::Value>(body.as_bytes()) {
            Err(ApiError::Validation(v)) => Some(v.field),
            Ok(_) => None,
            Err(other) => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_anywhere_in_a_body_is_named_by_its_path() {
        assert_eq!(nul_field(r#"{"name":"a\u0000b"}"#).as_deref(), Some("name"));
        assert_eq!(
            nul_field(r#"{"a":{"ids":["x","\u0000"]}}"#).as_deref(),
            Some("a.ids[1]")
        );
        assert_eq!(
            nul_field(r#"{"items":[{"k":1},{"reason":"\u0000"}]}"#).as_deref(),
            Some("items[1].reason")
        );
        assert_eq!(nul_field(r#"["\u0000"]"#).as_deref(), Some("[0]"));
        assert_eq!(nul_field(r#""\u0000""#).as_deref(), Some("."));
        // A key holding NUL is named by the object around it.
        assert_eq!(nul_field(r#"{"a":{"x\u0000":1}}"#).as_deref(), Some("a"));
        // An escaped backslash followed by `u0000` is text, not NUL.
        assert_eq!(nul_field(r#"{"name":"a\\u0000b"}"#), None);
        assert_eq!(nul_field(r#"{"name":"a\u0001b"}"#), None);
        // The NUL check comes before the shape check, for every type.
        assert!(matches!(
            parse_json::<Outer>(br#"{"name":"\u0000"}"#),
            Err(ApiError::Validation(v)) if v.field == "name"
        ));
    }

    #[test]
    fn nul_or_bad_utf8_in_a_path_is_404_and_in_a_query_400() {
        assert!(check_url("/v1/authors/a-1", "thread=t%C3%A9&limit=5").is_ok());
        assert!(check_url("/v1/authors/%C3%A9", "").is_ok());
        for path in ["/v1/authors/a%00b", "/v1/authors/%FF", "/v1/a%C3%28"] {
            assert!(
                matches!(check_url(path, ""), Err(ApiError::NotFound(_))),
                "{path}"
            );
        }
        for query in ["thread=a%00b", "x=1&thread=%FF", "%00=1", "a=%E2%82"] {
            assert!(
                matches!(
                    check_url("/v1/queues/pending", query),
                    Err(ApiError::BadRequest(_))
                ),
                "{query}"
            );
        }
        match check_url("/v1/decisions", "limit=2&moderator=a%00b") {
            Err(ApiError::BadRequest(m)) => assert!(m.contains("`moderator`"), "{m}"),
            other => panic!("{other:?}"),
        }
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
