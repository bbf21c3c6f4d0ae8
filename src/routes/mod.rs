//! Every route of the service, in one place.

pub mod comments;
pub mod console;
pub mod coral;
pub mod health;
pub mod moderation;
pub mod privacy;
pub mod reports;
pub mod rules;
pub mod site;
pub mod threads;
pub mod webhooks;

use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::intake::ValidationError;
use crate::error::ApiError;
use crate::openapi::ApiDoc;

/// Registers the routes and the error mapping of extractor failures.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|err, req| {
        // A path that does not parse (`/v1/comments/abc`) names nothing that exists.
        ApiError::NotFound(format!("{} ({err})", req.path())).into()
    }))
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        ApiError::BadRequest(format!("invalid query string: {err}")).into()
    }))
    .service(health::healthz)
    .service(health::readyz)
    .service(comments::submit)
    .service(comments::get_one)
    .service(comments::edit)
    .service(threads::visible_comments)
    .service(threads::update)
    .service(moderation::queue_counts)
    .service(moderation::queue_page)
    .service(moderation::claim)
    .service(moderation::release_mine)
    .service(moderation::claim_one)
    .service(moderation::release_one)
    .service(moderation::decide)
    .service(moderation::bulk)
    .service(moderation::history)
    .service(moderation::decision_log)
    .service(moderation::author_status)
    .service(moderation::author_view)
    .service(privacy::erase)
    .service(privacy::export)
    .service(reports::submit_report)
    .service(reports::report_status)
    .service(reports::statement)
    .service(reports::statements)
    .service(reports::submit_appeal)
    .service(reports::appeals)
    .service(reports::decide_appeal)
    .service(reports::transparency)
    .service(rules::get_rules)
    .service(rules::put_rules)
    .service(rules::put_thresholds)
    .service(rules::dry_run)
    .service(site::get_site)
    .service(site::update_site)
    .service(webhooks::create)
    .service(webhooks::list)
    .service(webhooks::get_one)
    .service(webhooks::update)
    .service(webhooks::remove)
    .service(webhooks::rotate_secret)
    .service(webhooks::deliveries)
    .service(webhooks::redeliver)
    .service(coral::moderate)
    .service(coral::get_settings)
    .service(coral::put_settings)
    .service(coral::delete_settings)
    .configure(console::configure)
    .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
    .service(web::redirect("/docs", "/docs/"));
}

/// Anything unmatched: a problem document, never an empty 404.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "route {} {}",
        req.method(),
        req.path()
    )))
}

/// An optional free-text field: trimmed, empty is absent, NUL refused, at most `max`
/// characters (422 naming `field` otherwise).
pub(crate) fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    if v.contains('\0') {
        return Err(ValidationError::new(field, "must not contain NUL characters").into());
    }
    let v = v.trim().to_owned();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(
            ValidationError::new(field, format!("must be at most {max} characters")).into(),
        );
    }
    Ok(Some(v))
}
