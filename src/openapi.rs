//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Vigie", description = "Self-hosted comment moderation: intake, scoring, queues, abuse reports."),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::comments::submit,
        routes::comments::get_one,
        routes::comments::edit,
        routes::threads::visible_comments,
        routes::threads::update,
        routes::moderation::queue_counts,
        routes::moderation::queue_page,
        routes::moderation::claim,
        routes::moderation::release_mine,
        routes::moderation::claim_one,
        routes::moderation::release_one,
        routes::moderation::decide,
        routes::moderation::bulk,
        routes::moderation::history,
        routes::moderation::decision_log,
        routes::moderation::author_status,
        routes::moderation::author_view,
        routes::reports::submit_report,
        routes::reports::report_status,
        routes::reports::statement,
        routes::reports::statements,
        routes::reports::submit_appeal,
        routes::reports::appeals,
        routes::reports::decide_appeal,
        routes::reports::transparency,
        routes::rules::get_rules,
        routes::rules::put_rules,
        routes::rules::put_thresholds,
        routes::rules::dry_run,
        routes::site::get_site,
        routes::site::update_site,
        routes::privacy::erase,
        routes::privacy::export,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::get_one,
        routes::webhooks::update,
        routes::webhooks::remove,
        routes::webhooks::rotate_secret,
        routes::webhooks::deliveries,
        routes::webhooks::redeliver,
        routes::coral::moderate,
        routes::coral::get_settings,
        routes::coral::put_settings,
        routes::coral::delete_settings,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerKeys),
    tags(
        (name = "comments", description = "Comment intake and reads"),
        (name = "threads", description = "Articles and what they display"),
        (name = "moderation", description = "Queues, claims, decisions, author actions, audit log"),
        (name = "reports", description = "Signaler un abus: reports, statements of reasons, appeals, transparency (DSA)"),
        (name = "site", description = "The key's site and its policy"),
        (name = "operations", description = "Health and readiness"),
        (name = "webhooks", description = "Signed event deliveries to the site, from an outbox"),
        (name = "integrations", description = "Coral Talk's external moderation phase"),
        (name = "privacy", description = "GDPR: erasure and export of an author's data"),
    )
)]
pub struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made with `vigie keys create`"))
                    .build(),
            ),
        );
    }
}
