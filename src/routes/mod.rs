//! Every route of the service, in one place: one list registers the actix services and, for
//! the documented ones (`#[utoipa::path]`), their operations in the OpenAPI document.

pub mod accounts;
pub mod alerts;
pub mod appeals;
pub mod authors;
pub mod backtests;
pub mod claims;
pub mod comments;
pub mod console;
pub mod coral;
pub mod datasets;
pub mod decisions;
pub mod health;
pub mod models;
pub mod perspective;
pub mod privacy;
pub mod queues;
pub mod reports;
pub mod rules;
pub mod site;
pub mod statements;
pub mod threads;
pub mod webhooks;
pub mod words;

use actix_web::dev::{ResourceDef, ServiceFactory, ServiceRequest};
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::intake::ValidationError;
use crate::error::ApiError;
use crate::openapi::ApiDoc;

/// A stored UTC time (the databases keep naive UTC) as it appears in responses.
pub(crate) fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// The app with every route, and the OpenAPI document made from the same list: registering a
/// documented handler adds its operation to the document, which is then finished (see
/// [`crate::openapi::finish`]), served at `/openapi.json` and `/docs`, and read by
/// [`KnownRoutes`] to tell 405 from 404.
pub fn mount<T>(app: App<T>) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, doc) = with_document(app);
    app.app_data(web::Data::new(KnownRoutes::of(&doc)))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc))
        .service(web::redirect("/docs", "/docs/"))
}

/// The finished OpenAPI document, as [`mount`] serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    with_document(App::new()).1
}

/// Registers the routes on `app` and returns it with the document they make.
fn with_document<T>(app: App<T>) -> (App<T>, utoipa::openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, doc) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    (app, crate::openapi::finish(doc))
}

/// Registers the routes, in matching order, and the error mapping of extractor failures.
fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.app_data(web::PathConfig::default().error_handler(|err, req| {
        // A path that does not parse (`/v1/comments/abc`) names nothing that exists.
        ApiError::NotFound(format!("{} ({err})", req.path())).into()
    }))
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        ApiError::BadRequest(format!("invalid query string: {err}")).into()
    }))
    .configure(intake)
    .configure(moderation)
    .configure(abuse_reports)
    .configure(site_policy)
    .configure(integrations)
    .map(|cfg| cfg.configure(console::configure))
    .configure(people);
}

/// Health, comment intake and reads, threads.
fn intake(cfg: &mut ServiceConfig<'_>) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(comments::submit)
        .service(comments::get_one)
        .service(comments::edit)
        .service(threads::visible_comments)
        .service(threads::update);
}

/// Queues, claims, decisions, authors and their notes, erasure and export.
fn moderation(cfg: &mut ServiceConfig<'_>) {
    cfg.service(queues::queue_counts)
        .service(queues::queue_page)
        .service(claims::claim)
        .service(claims::release_mine)
        .service(claims::claim_one)
        .service(claims::release_one)
        .service(decisions::decide)
        .service(decisions::bulk)
        .service(decisions::history)
        .service(decisions::decision_log_csv)
        .service(decisions::decision_log)
        .service(authors::author_status)
        .service(authors::author_view)
        .service(authors::list_notes)
        .service(authors::add_note)
        .service(authors::delete_note)
        .service(privacy::erase)
        .service(privacy::export);
}

/// Reports, statements of reasons, appeals, transparency figures.
fn abuse_reports(cfg: &mut ServiceConfig<'_>) {
    cfg.service(reports::submit_report)
        .service(reports::report_status)
        .service(statements::statement)
        .service(statements::statements)
        .service(appeals::submit_appeal)
        .service(appeals::appeals)
        .service(appeals::decide_appeal)
        .service(statements::transparency);
}

/// Rules, word lists, thresholds, the site's settings, webhooks.
fn site_policy(cfg: &mut ServiceConfig<'_>) {
    cfg.service(rules::get_rules)
        .service(rules::put_rules)
        .service(rules::put_thresholds)
        .service(words::list_words)
        .service(words::add_words)
        .service(words::change_words)
        .service(words::remove_words)
        .service(rules::dry_run)
        .service(site::get_site)
        .service(site::update_site)
        .service(site::setting_changes_csv)
        .service(site::setting_changes)
        .service(webhooks::create)
        .service(webhooks::list)
        .service(webhooks::get_one)
        .service(webhooks::update)
        .service(webhooks::remove)
        .service(webhooks::rotate_secret)
        .service(webhooks::deliveries)
        .service(webhooks::redeliver);
}

/// Coral, Perspective, training data, the model registry, backtests.
fn integrations(cfg: &mut ServiceConfig<'_>) {
    cfg.service(coral::moderate)
        .service(coral::get_settings)
        .service(coral::put_settings)
        .service(coral::delete_settings)
        .service(perspective::analyze)
        .service(perspective::suggest_score)
        .service(perspective::list_feedback)
        .service(datasets::decisions)
        // model registry (issue 17)
        .service(models::register)
        .service(models::list)
        .service(models::shadow)
        .service(models::activate)
        .service(models::rollback)
        .service(models::shadow_report)
        .service(models::suggest_thresholds)
        .service(backtests::create)
        .service(backtests::list)
        .service(backtests::get_one)
        .service(backtests::cancel);
}

/// Named accounts (sign-in, invitations, management, second factor) and their e-mail alerts.
fn people(cfg: &mut ServiceConfig<'_>) {
    cfg.service(accounts::sign_in)
        .service(accounts::sign_out)
        .service(accounts::sign_out_everywhere)
        .service(accounts::accept_invitation)
        .service(accounts::list)
        .service(accounts::create)
        .service(accounts::update)
        .service(accounts::reset)
        .service(accounts::figures)
        .service(accounts::start_totp)
        .service(accounts::confirm_totp)
        .service(accounts::disable_totp)
        .service(alerts::get_alerts)
        .service(alerts::put_alerts)
        .service(alerts::test_alert);
}

/// Routes served outside the OpenAPI document (the console, metrics, the document itself).
const UNDOCUMENTED_ROUTES: &[(&str, &str)] = &[
    ("/console", "GET"),
    ("/console/", "GET"),
    ("/console/console.js", "GET"),
    ("/console/console.css", "GET"),
    ("/console/session", "GET, POST, PATCH, DELETE"),
    ("/console/api/thresholds", "GET"),
    ("/metrics", "GET"),
    ("/openapi.json", "GET"),
];

/// Every known path pattern with the methods it answers, to tell "no such path" (404) from
/// "not with this method" (405 with `Allow`).
pub struct KnownRoutes(Vec<(ResourceDef, String)>);

impl KnownRoutes {
    /// The documented operations (one source of truth: the OpenAPI document) and the rest.
    pub fn of(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut routes: Vec<(ResourceDef, String)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods: Vec<&str> = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (ResourceDef::new(path.as_str()), methods.join(", "))
            })
            .collect();
        routes.extend(
            UNDOCUMENTED_ROUTES
                .iter()
                .map(|(path, methods)| (ResourceDef::new(*path), (*methods).to_owned())),
        );
        KnownRoutes(routes)
    }

    /// The methods a path answers, if it is a known one (a path matching two patterns, like
    /// `/v1/queues/x` and `/v1/queues/{queue}`, answers the methods of both).
    pub fn allowed(&self, path: &str) -> Option<String> {
        let mut methods: Vec<&str> = Vec::new();
        for (def, allow) in &self.0 {
            if def.is_match(path) {
                for m in allow.split(", ") {
                    if !methods.contains(&m) {
                        methods.push(m);
                    }
                }
            }
        }
        (!methods.is_empty()).then(|| methods.join(", "))
    }
}

/// Anything unmatched: 405 with `Allow` on a known path, else 404; a problem document either way.
pub async fn not_found(
    req: HttpRequest,
    known: Option<web::Data<KnownRoutes>>,
) -> Result<HttpResponse, ApiError> {
    if let Some(allow) = known.and_then(|k| k.allowed(req.path())) {
        return Err(ApiError::MethodNotAllowed { allow });
    }
    Err(ApiError::NotFound(format!(
        "route {} {}",
        req.method(),
        req.path()
    )))
}

/// An optional free-text field: trimmed, empty is absent, NUL refused, at most `max`
/// characters (422 naming `field` otherwise); the rule of [`crate::domain::intake::optional_text`].
pub(crate) fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    Ok(crate::domain::intake::optional_text(field, value, max)?)
}

/// The acting moderator (or admin) behind a moderator-only route; 403 for other keys.
pub(crate) fn moderator(
    caller: &crate::auth::Caller,
) -> Result<crate::store::decisions::Actor, ApiError> {
    use crate::domain::Role;
    caller.require(&[Role::Moderator])?;
    Ok(caller.actor())
}

/// An optional RFC 3339 time or date (see [`parse_time`]).
pub(crate) fn optional_time(
    field: &str,
    value: Option<&str>,
) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    value.map(|v| parse_time(field, v)).transpose()
}

/// An RFC 3339 time or a date (midnight UTC), or 422 naming `field`.
pub(crate) fn parse_time(field: &str, value: &str) -> Result<chrono::NaiveDateTime, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.naive_utc())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| {
            ValidationError::new(field, "must be an RFC 3339 time or a date (YYYY-MM-DD)").into()
        })
}
