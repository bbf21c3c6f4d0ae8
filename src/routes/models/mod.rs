//! The model registry of a site (admin): register a model directory on the server (by path, or
//! posted as a tar archive and unpacked under the first `model_roots`), run it in shadow,
//! activate it, roll it back; the shadow report; and thresholds suggested from the site's own
//! human decisions.
//!
//! The parts: `directory` (registering a directory on the server, and the checks every
//! registration passes), `archive` (registering a posted archive), `comparison` (the shadow
//! report), `suggest` (the threshold suggestion).

use std::time::Duration;

use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::utc;
use crate::auth::Caller;
use crate::domain::{Role, SiteId};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store;
use crate::store::models::{ModelRecord, ModelStatus, Refusal};

mod archive;
mod comparison;
mod directory;
mod suggest;

pub use archive::archive_limit;
pub use comparison::{DecisionChange, ShadowExample, ShadowReport, ShadowSide};
pub use directory::{allowed_roots, check_registration, new_model};
pub use suggest::{
    CategorySuggestion, SuggestionQuery, ThresholdSuggestion, DEFAULT_PRECISION_REJECT,
    DEFAULT_PRECISION_REVIEW,
};

use archive::{declares_archive, register_archive};
use directory::register_path;
use suggest::Precisions;

/// Longest model directory path accepted (characters).
pub const MAX_PATH_CHARS: usize = 4096;
/// Longest model version accepted (it names the model in URLs).
pub const MAX_VERSION_CHARS: usize = 100;
/// Model changes listed by `GET /v1/models` (newest first).
pub const EVENTS_LISTED: i64 = 100;
/// Examples of changed decisions in a shadow report.
pub const SHADOW_EXAMPLES: usize = 50;
/// The directory searched for models besides the shipped model's, when `model_roots` is unset.
pub const DATA_MODELS_DIR: &str = "data/models";
/// The path of model registration (the archive form has its own body limit, also before
/// `100 Continue`: [`archive_limit`]).
pub const REGISTER_PATH: &str = "/v1/models";
/// Largest model archive taken (the shipped model's directory is about 0.6 MB); the other
/// routes keep `max_request_bytes`.
pub const MAX_MODEL_ARCHIVE_BYTES: usize = 16 * 1024 * 1024;
pub use crate::model_archive::{MAX_MODEL_UNPACKED_BYTES, MODEL_ARCHIVE_FILES};
/// The longest a model archive may take to arrive (`body_read_timeout_secs` when longer):
/// larger than other bodies, and only admins send one.
pub const MODEL_ARCHIVE_READ_TIMEOUT: Duration = Duration::from_secs(120);
/// Media types of a model archive (gzip-compressed or plain tar; the bytes tell which).
pub const ARCHIVE_TYPES: [&str; 3] = [
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
];
/// Where archives are unpacked, under the first allowed root: `uploaded/site-<id>/<version>`
/// (sites may each have a model of the same version).
pub const UPLOADED_DIR: &str = "uploaded";

/// The path form of a registration.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ModelRegistration {
    /// Absolute path of a model directory on the server (`model.json`, the weights, and
    /// optionally `MODEL_CARD.md`), under one of the configured `model_roots`.
    #[schema(max_length = 4096, pattern = r"^/[^\x00]*$")]
    pub path: String,
}

/// A tar archive of a model directory, gzip-compressed or not (`tar czf m.tgz -C models v1`):
/// `model.json`, `weights.bin` and optionally `MODEL_CARD.md`, `validation.json` and
/// `perspective_calibration.json`, at the top of the archive or in its one directory. At most
/// 16 MiB, unpacking to at most 64 MiB.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ModelArchive(#[allow(dead_code)] Vec<u8>);

/// A registered model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelResponse {
    pub version: String,
    pub path: String,
    pub status: ModelStatus,
    /// SHA-256 of `model.json`.
    pub sha256: String,
    /// SHA-256 of the weights, as `model.json` records it.
    pub weights_sha256: String,
    pub registered_by: String,
    pub registered_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ModelRecord> for ModelResponse {
    fn from(m: ModelRecord) -> Self {
        ModelResponse {
            status: m.status(),
            version: m.version,
            path: m.path,
            sha256: m.sha256,
            weights_sha256: m.weights_sha256,
            registered_by: m.registered_by,
            registered_at: utc(m.registered_at),
            updated_at: utc(m.updated_at),
        }
    }
}

/// One change to the site's models (the registry's audit log).
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelEventResponse {
    /// `register`, `shadow`, `activate` or `rollback`.
    pub action: String,
    /// Key or account name of the admin.
    pub actor: String,
    /// The active version before (for `shadow`: the shadow version); `null`: the shipped model
    /// (or no shadow).
    pub from_version: Option<String>,
    /// The version after; `null`: the shipped model (or no shadow).
    pub to_version: Option<String>,
    pub at: DateTime<Utc>,
}

/// The site's model registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryResponse {
    /// The shipped model, which scores while no registered model is active.
    pub default_version: String,
    /// The registered model that scores and decides (`null`: the shipped model).
    pub active_version: Option<String>,
    /// The registered model scoring beside it without deciding.
    pub shadow_version: Option<String>,
    /// Newest first.
    pub models: Vec<ModelResponse>,
    /// The last 100 changes, newest first.
    pub events: Vec<ModelEventResponse>,
}

/// The site's registry as `GET /v1/models` answers it.
async fn registry(state: &AppState, site: SiteId) -> Result<RegistryResponse, ApiError> {
    let (models, events) = store::run(&state.pool, move |conn| {
        Ok((
            store::models::list(conn, site)?,
            store::models::events(conn, site, EVENTS_LISTED)?,
        ))
    })
    .await?;
    let version_with = |status: ModelStatus| {
        models
            .iter()
            .find(|m| m.status() == status)
            .map(|m| m.version.clone())
    };
    Ok(RegistryResponse {
        default_version: state.judge.model_version().to_owned(),
        active_version: version_with(ModelStatus::Active),
        shadow_version: version_with(ModelStatus::Shadow),
        models: models.into_iter().map(ModelResponse::from).collect(),
        events: events
            .into_iter()
            .map(|e| ModelEventResponse {
                action: e.action,
                actor: e.actor,
                from_version: e.from_version,
                to_version: e.to_version,
                at: utc(e.created_at),
            })
            .collect(),
    })
}

/// Whether a version can name a model: 1 to 100 letters, digits, `.`, `_` or `-` (a path
/// segment needing no escaping). Other versions are refused at registration, and unknown in
/// URLs without asking the database.
fn plain_version(version: &str) -> bool {
    !version.is_empty()
        && version.chars().count() <= MAX_VERSION_CHARS
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The 404 of a version the site has no model of.
fn unknown_version() -> ApiError {
    ApiError::NotFound("model version".into())
}

/// Register a model directory for the site (admin): a directory on the server
/// (`application/json`: `{"path": …}`, under one of the `model_roots`), or a tar archive of
/// one (`application/gzip`, `application/x-gzip` or `application/x-tar`, at most 16 MiB),
/// unpacked into `uploaded/site-<id>/<version>` under the first of the `model_roots`. It must
/// pass the integrity check: `model.json` valid, the weights' SHA-256 as `model.json` records
/// it, every file of `MODEL_CARD.md`'s table as the card records it. A failing model is not
/// registered (422 with the reason) and an archive's files are removed.
#[utoipa::path(post, path = "/v1/models", tag = "models", security(("bearer" = ["admin"])),
    request_body(description = "A model directory on the server, or a tar archive of one (the archive holds only regular files: `model.json`, `weights.bin`, `MODEL_CARD.md`, `validation.json`, `perspective_calibration.json`).",
        content((ModelRegistration = "application/json"), (ModelArchive = "application/gzip"),
            (ModelArchive = "application/x-gzip"), (ModelArchive = "application/x-tar"))),
    responses((status = 201, body = ModelResponse),
        (status = 409, description = "the site already has a model of this version (or an archive of this version was unpacked and not registered)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "the body is larger than `max_request_bytes` (JSON) or 16 MiB (an archive)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "the body is neither `application/json` nor an archive (`application/gzip`, `application/x-gzip`, `application/x-tar`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the path is not allowed, the archive cannot be read or holds anything but a model's files (`field`: `archive`), or the model fails its integrity check: the reason", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/models")]
#[tracing::instrument(name = "register_model", skip_all, fields(key_id = caller.key_id.0))]
pub async fn register(
    caller: Caller,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let record = if declares_archive(req.headers()) {
        register_archive(&caller, &state, &req, payload).await?
    } else {
        // JSON as every route takes it; any other media type is refused there (415).
        let ApiJson(request) =
            ApiJson::<ModelRegistration>::from_request(&req, &mut payload.into_inner()).await?;
        register_path(&caller, &state, request).await?
    };
    tracing::info!(version = %record.version, path = %record.path, "model registered");
    Ok(HttpResponse::Created().json(ModelResponse::from(record)))
}

/// The store's refusal of a registry change, as the API answers it.
fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::NotFound => unknown_version(),
        Refusal::Conflict(reason) => ApiError::Conflict(reason),
    }
}

/// The site's models, which one is active and which in shadow, and the last changes (admin).
#[utoipa::path(get, path = "/v1/models", tag = "models", security(("bearer" = ["admin"])),
    responses((status = 200, body = RegistryResponse)))]
#[get("/v1/models")]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(HttpResponse::Ok().json(registry(&state, caller.site_id).await?))
}

/// Which status change a route asks for.
#[derive(Clone, Copy)]
enum Change {
    Shadow,
    Activate,
    Rollback,
}

/// Applies a status change to the site's model `version` and answers the registry.
async fn change(
    caller: Caller,
    state: web::Data<AppState>,
    version: String,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if !plain_version(&version) {
        return Err(unknown_version());
    }
    let site = caller.site_id;
    let actor = caller.name.clone();
    let outcome = store::run(&state.pool, move |conn| match change {
        Change::Shadow => store::models::shadow(conn, site, &version, &actor),
        Change::Activate => store::models::activate(conn, site, &version, &actor),
        Change::Rollback => store::models::rollback(conn, site, &version, &actor),
    })
    .await?;
    let model = outcome.map_err(refusal)?;
    // this replica at once; the others within MODELS_RECHECK
    state.judge.forget_models(site);
    tracing::info!(version = %model.version, status = model.status().as_str(), "model status changed");
    Ok(HttpResponse::Ok().json(registry(&state, site).await?))
}

/// Run a registered model in shadow (admin): it scores every new comment beside the active
/// model without deciding (`GET /v1/models/{version}/shadow-report`). The previous shadow
/// model, if any, stops.
#[utoipa::path(post, path = "/v1/models/{version}/shadow", tag = "models", security(("bearer" = ["admin"])),
    params(("version" = String, Path, max_length = 100)),
    responses((status = 200, body = RegistryResponse),
        (status = 409, description = "the model is active, or already in shadow", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/models/{version}/shadow")]
#[tracing::instrument(name = "shadow_model", skip_all, fields(key_id = caller.key_id.0))]
pub async fn shadow(
    caller: Caller,
    state: web::Data<AppState>,
    version: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change(caller, state, version.into_inner(), Change::Shadow).await
}

/// Make a registered model the site's active model (admin): it scores and decides on every
/// replica within a few seconds. The model it replaces is remembered for a rollback.
#[utoipa::path(post, path = "/v1/models/{version}/activate", tag = "models", security(("bearer" = ["admin"])),
    params(("version" = String, Path, max_length = 100)),
    responses((status = 200, body = RegistryResponse),
        (status = 409, description = "the model is already active", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/models/{version}/activate")]
#[tracing::instrument(name = "activate_model", skip_all, fields(key_id = caller.key_id.0))]
pub async fn activate(
    caller: Caller,
    state: web::Data<AppState>,
    version: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change(caller, state, version.into_inner(), Change::Activate).await
}

/// Roll back the active model (admin): the model it replaced scores again, or the shipped
/// model when it replaced none.
#[utoipa::path(post, path = "/v1/models/{version}/rollback", tag = "models", security(("bearer" = ["admin"])),
    params(("version" = String, Path, max_length = 100)),
    responses((status = 200, body = RegistryResponse),
        (status = 409, description = "the model is not the active one", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/models/{version}/rollback")]
#[tracing::instrument(name = "rollback_model", skip_all, fields(key_id = caller.key_id.0))]
pub async fn rollback(
    caller: Caller,
    state: web::Data<AppState>,
    version: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change(caller, state, version.into_inner(), Change::Rollback).await
}

// ---------------------------------------------------------------------------------------------
// Shadow report

/// The shadow report of a model (admin): how often it agrees with the active model, which
/// decisions would change, and precision/recall of both against the moderators.
#[utoipa::path(get, path = "/v1/models/{version}/shadow-report", tag = "models", security(("bearer" = ["admin"])),
    params(("version" = String, Path, max_length = 100)),
    responses((status = 200, body = ShadowReport)))]
#[get("/v1/models/{version}/shadow-report")]
pub async fn shadow_report(
    caller: Caller,
    state: web::Data<AppState>,
    version: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site = caller.site_id;
    let version = version.into_inner();
    if !plain_version(&version) {
        return Err(unknown_version());
    }
    let found = store::run(&state.pool, move |conn| {
        let Some(model) = store::models::by_version(conn, site, &version)? else {
            return Ok(None);
        };
        let rows = store::models::shadow_rows(conn, model.id)?;
        Ok(Some((model, rows)))
    })
    .await?;
    let (model, rows) = found.ok_or_else(unknown_version)?;
    Ok(HttpResponse::Ok().json(comparison::report(model, &rows)))
}

// ---------------------------------------------------------------------------------------------
// Threshold suggestion

/// Thresholds for the site's active model computed from its moderators' decisions (admin):
/// per category, the lowest score at which held (`review`) and rejected (`reject`) comments
/// reach the asked precision. Nothing is changed; send `thresholds` to
/// `PUT /v1/site/thresholds` to apply them. Refused (422) below 200 labelled comments or 30 of
/// either class.
#[utoipa::path(get, path = "/v1/site/thresholds/suggestion", tag = "site", security(("bearer" = ["admin"])),
    params(SuggestionQuery),
    responses((status = 200, body = ThresholdSuggestion),
        (status = 422, description = "a precision out of range, or too few labelled comments: the counts", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/v1/site/thresholds/suggestion")]
pub async fn suggest_thresholds(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<SuggestionQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let precisions = Precisions::parse(&query)?;
    let site = caller.site_id;
    let judge = state.judge.clone();
    let (active, in_force, labelled) = store::run(&state.pool, move |conn| {
        let active = judge.models_for(conn, site)?.active;
        let in_force = judge.thresholds_for(conn, site)?;
        Ok((
            active,
            in_force,
            store::models::labelled_scores(conn, site)?,
        ))
    })
    .await?;
    let version = active.model_version().to_owned();
    let suggestion = suggest::suggest(version, in_force, labelled, precisions)?;
    Ok(HttpResponse::Ok().json(suggestion))
}
