//! The OpenAPI document, generated from the handlers' annotations: [`ApiDoc`] holds what is not
//! an operation (info, tags, shared schemas); the operations come from the route list in
//! [`crate::routes`], and [`finish`] completes the document.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes::perspective::Docs as PerspectiveDocs;

#[derive(OpenApi)]
#[openapi(
    info(title = "Vigie", description = "Self-hosted comment moderation: intake, scoring, queues, abuse reports."),
    components(schemas(crate::error::Problem, crate::domain::Queue, crate::domain::DecisionSource)),
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
        (name = "accounts", description = "Named moderator accounts: invitations, sign-in, sessions"),
        (name = "perspective", description = "A drop-in for Google's Perspective API (its errors are Google's JSON, not problems) and the feedback it collects"),
        (name = "datasets", description = "Training data from the site's own moderation decisions"),
        (name = "models", description = "The site's model registry: register, shadow, activate, roll back"),
    )
)]
/// What the document says besides its operations: info, tags, the schemas no operation names.
pub struct ApiDoc;

/// The document once the routes have added their operations to [`ApiDoc`] (see
/// [`crate::routes::mount`]): the security schemes, and the problem responses that each
/// operation can answer (derived from the operations, hence applied last).
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let modifiers: [&dyn Modify; 3] = [&BearerKeys, &Problems, &PerspectiveDocs];
    for modifier in modifiers {
        modifier.modify(&mut doc);
    }
    doc
}

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key made with `vigie keys create`. An operation's scopes name the \
                         roles whose keys may call it (an admin key may call every operation).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "coral_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Coral-Signature",
                "`sha256=<hex>`: HMAC-SHA256 of the exact body with a Coral secret of the site",
            ))),
        );
    }
}

/// The problem responses (`application/problem+json`), each defined once in
/// `components.responses`, with the status, name and meaning shown to clients.
const PROBLEMS: &[(u16, &str, &str)] = &[
    (400, "BadRequest", "The request cannot be read: malformed JSON or invalid UTF-8 in the body, an unreadable query string, parameter or cursor."),
    (401, "Unauthorized", "Missing or invalid credentials (`WWW-Authenticate` says which)."),
    (403, "Forbidden", "The key's role may not do this, or a console write lacks its CSRF token."),
    (404, "NotFound", "Nothing with this id on the key's site (another site's data is reported as absent)."),
    (413, "PayloadTooLarge", "The body is larger than `max_request_bytes`."),
    (415, "UnsupportedMediaType", "The body is not `application/json`."),
    (422, "Invalid", "A field is missing, of the wrong type or invalid; `field` names it."),
    (429, "TooManyRequests", "Too many requests; retry after `Retry-After` seconds."),
    (503, "Unavailable", "The database is unavailable; retry after `Retry-After` seconds."),
];

/// Adds to every operation the problem responses it can answer, derived from what it takes, so
/// that a new route is documented like the others without repeating them:
/// - credentials (`security`): 401, and 503 (they are looked up); with a key, 403 when it names
///   roles or changes something (console writes need their CSRF token);
/// - a JSON body: 400, 413, 415, 422;
/// - query parameters: 400, 422; path parameters: 400, 404.
///
/// A response an operation declares itself (with its own description) is kept as declared. Every
/// JSON body is marked required: a request without one is 415 (or 400 when empty).
struct Problems;

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description) in PROBLEMS {
            let schema = RefOr::Ref(Ref::from_schema_name("Problem"));
            components.responses.insert(
                (*name).to_owned(),
                ResponseBuilder::new()
                    .description(format!("{status}: {description}"))
                    .content(crate::error::PROBLEM_JSON, Content::new(Some(schema)))
                    .into(),
            );
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            // Perspective's routes answer Google's errors, documented on each operation.
            if path.starts_with(crate::routes::perspective::SCOPE) {
                continue;
            }
            for (operation, writes) in [
                (item.get.as_mut(), false),
                (item.post.as_mut(), true),
                (item.put.as_mut(), true),
                (item.patch.as_mut(), true),
                (item.delete.as_mut(), true),
            ] {
                if let Some(operation) = operation {
                    add_problems(operation, writes);
                }
            }
        }
    }
}

fn add_problems(operation: &mut Operation, writes: bool) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
    // Each security requirement as JSON: `{"bearer": ["moderator", "admin"]}`.
    let requirements: Vec<serde_json::Map<String, serde_json::Value>> = operation
        .security
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let keyed = !requirements.is_empty();
    let bearer = requirements.iter().any(|r| r.contains_key("bearer"));
    let roles = requirements.iter().any(|r| {
        r.values()
            .any(|scopes| scopes.as_array().is_some_and(|a| !a.is_empty()))
    });
    let mut statuses = Vec::new();
    if keyed {
        statuses.extend([401, 503]);
        // Console sessions need their CSRF token to change anything.
        if roles || (writes && bearer) {
            statuses.push(403);
        }
    }
    if let Some(body) = operation.request_body.as_mut() {
        // Every JSON body is required, even one that may be `null` (`Option<T>` made it optional).
        body.required = Some(utoipa::openapi::Required::True);
        statuses.extend([400, 413, 415, 422]);
    }
    if has_query {
        statuses.extend([400, 422]);
    }
    if has_path {
        statuses.extend([400, 404]);
    }
    for status in statuses {
        let Some((_, name, _)) = PROBLEMS.iter().find(|(s, _, _)| *s == status) else {
            continue;
        };
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
    }
}

/// Closed sets of strings that handlers match by hand, named here so that the document lists
/// their values (the handlers' checks are the authority; these only describe them).
pub mod values {
    use utoipa::ToSchema;

    /// `age` (oldest first) or `risk` (highest score first).
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum QueueOrder {
        Age,
        Risk,
    }

    /// The score a `min_score`/`max_score` filter reads.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum ScoreCategory {
        Toxicity,
        Spam,
    }

    /// The statuses a moderator may give an author (`deleted` comes only from erasure).
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum SettableAuthorStatus {
        Active,
        Premod,
        Banned,
    }

    /// `uphold` (the decision stands) or `reverse`.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum AppealOutcome {
        Uphold,
        Reverse,
    }

    /// Coral's signing secrets: 1 to 5, each 16 to 512 characters without surrounding spaces
    /// (for `schema_with`: the items of a string list carry no constraints of their own).
    pub fn coral_secrets() -> utoipa::openapi::schema::Array {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        ArrayBuilder::new()
            .min_items(Some(1))
            .max_items(Some(5))
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(16))
                    .max_length(Some(512))
                    .pattern(Some(r"^[^\s\x85][\s\S]*[^\s\x85]$")),
            )
            .build()
    }

    /// The roles of people's accounts (`ingest` is for machines' keys only).
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum AccountRole {
        Moderator,
        Admin,
    }

    /// The console's interface languages.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum ConsoleLanguage {
        Fr,
        En,
    }

    /// The format of the transparency figures.
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum FiguresFormat {
        Json,
        Csv,
    }
}

#[cfg(test)]
mod tests {
    fn statuses(path: &str, method: &str) -> Vec<String> {
        let doc = serde_json::to_value(crate::routes::document()).unwrap();
        let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
        responses.keys().cloned().collect()
    }

    #[test]
    fn problems_follow_what_an_operation_takes() {
        // A key and a role, a JSON body and a path id.
        let decide = statuses("/v1/comments/{id}/decisions", "post");
        for s in [
            "400", "401", "403", "404", "409", "413", "415", "422", "503",
        ] {
            assert!(
                decide.contains(&s.to_owned()),
                "decisions lack {s}: {decide:?}"
            );
        }
        // Any key may read its site: no role, no body, no parameter.
        assert_eq!(statuses("/v1/site", "get"), ["200", "401", "503"]);
        // Coral signs its requests: 401 without a key's 403.
        let coral = statuses("/v1/integrations/coral/moderate", "post");
        assert!(coral.contains(&"401".to_owned()) && !coral.contains(&"403".to_owned()));
        // Nothing to authenticate, nothing to read.
        assert_eq!(statuses("/healthz", "get"), ["200"]);
        // A body that may be `null` is still required.
        let doc = serde_json::to_value(crate::routes::document()).unwrap();
        assert_eq!(
            doc["paths"]["/v1/site/thresholds"]["put"]["requestBody"]["required"],
            true
        );
    }
}
