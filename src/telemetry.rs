//! Logging: JSON lines (pretty on a terminal), on stderr so that stdout stays for command output.
//! Every line inside a request carries the request's span, hence its `request_id`.

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::{fmt, EnvFilter};

use crate::error::ApiError;

/// Installs the global subscriber. `format` is `auto`, `json` or `pretty`.
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = match format {
        "json" => false,
        "pretty" => true,
        _ => std::io::stderr().is_terminal(),
    };
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests spawning several apps) is harmless: keep the first.
    let _ = if pretty {
        builder.try_init()
    } else {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init()
    };
}

/// The request span of tracing-actix-web, with Vigie's levels for failed requests: a client
/// error (4xx: a browser's `/favicon.ico`, a wrong key, a bad body) is the client's business and
/// logged at DEBUG; a server error (5xx) at ERROR. Errors that log themselves with their cause
/// (`ApiError::Internal` as "request failed", `ApiError::Unavailable` as "database
/// unavailable") are not logged a second time.
pub struct VigieRootSpanBuilder;

/// Paths whose last segment is a secret (`POST /v1/invitations/{token}`).
const INVITATIONS_PATH: &str = "/v1/invitations/";

impl RootSpanBuilder for VigieRootSpanBuilder {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let span = DefaultRootSpanBuilder::on_request_start(request);
        // An invitation's token is a password until used: its path is logged without it.
        if request.path().starts_with(INVITATIONS_PATH) {
            span.record(
                "http.target",
                format!("{INVITATIONS_PATH}{{token}}").as_str(),
            );
        }
        span
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        if let Some(error) = error {
            let _entered = span.enter();
            match error.as_error::<ApiError>() {
                Some(ApiError::Internal(_) | ApiError::Unavailable) => {}
                // The problem's type and field, not its detail: a detail may quote what the
                // client sent (an email in the wrong field), and personal data is never logged.
                Some(api) => {
                    let problem = api.problem();
                    log_failed_request(status, &problem.kind, problem.field.as_deref());
                }
                None => log_failed_request(status, &error.to_string(), None),
            }
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The event of one failed request, at the level its status calls for.
fn log_failed_request(status: StatusCode, problem: &str, field: Option<&str>) {
    let code = status.as_u16();
    if status.is_server_error() {
        tracing::error!(status = code, problem, field, "server error");
    } else if status.is_client_error() {
        tracing::debug!(status = code, problem, field, "client error");
    }
}

/// Middleware: answers with the request's id (the one its log lines carry) in `X-Request-Id`.
pub async fn request_id_header<B: MessageBody>(
    req: ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::HttpMessage;
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .copied();
    let mut res = next.call(req).await?;
    if let Some(id) = id {
        if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), v);
        }
    }
    Ok(res)
}
