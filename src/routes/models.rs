//! The model registry of a site (admin): register a model directory on the server (by path, or
//! posted as a tar archive and unpacked under the first `model_roots`), run it in shadow,
//! activate it, roll it back; the shadow report; and thresholds suggested from the site's own
//! human decisions.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::Method;
use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::utc;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::scoring::recalibrate::{self, Agreement, Cut, MIN_LABELS, MIN_PER_CLASS, OFF};
use crate::scoring::{CategoryThresholds, Decision, Thresholds, Verdict};
use crate::state::AppState;
use crate::store;
use crate::store::models::{ModelRecord, ModelStatus, Refusal};

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

async fn registry(state: &AppState, site: i64) -> Result<RegistryResponse, ApiError> {
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

/// The directories model directories may be registered from: `model_roots`, or by default the
/// directory of the shipped model's versions and `data/models` (those that exist).
pub fn allowed_roots(settings: &crate::config::Settings) -> Vec<PathBuf> {
    let configured: Vec<PathBuf> = if settings.model_roots.is_empty() {
        let model_dir = Path::new(&settings.model_dir);
        let shipped = if model_dir.join(crate::scoring::model::META_FILE).exists() {
            model_dir.parent().unwrap_or(model_dir).to_path_buf()
        } else {
            model_dir.to_path_buf()
        };
        vec![shipped, PathBuf::from(DATA_MODELS_DIR)]
    } else {
        settings.model_roots.iter().map(PathBuf::from).collect()
    };
    configured
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .collect()
}

/// Checks a model directory for registration: absolute, under an allowed root (after links
/// are resolved), and passing the integrity check. The error is the 422's reason.
pub fn check_registration(
    path: &str,
    roots: &[PathBuf],
) -> Result<(PathBuf, crate::judge::CheckedModel), String> {
    let given = Path::new(path);
    if !given.is_absolute() {
        return Err("must be an absolute path".into());
    }
    let dir = std::fs::canonicalize(given).map_err(|e| format!("cannot be read: {e}"))?;
    if !dir.is_dir() {
        return Err("is not a directory".into());
    }
    if !roots.iter().any(|r| dir.starts_with(r)) {
        let names: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        return Err(format!(
            "is outside the directories models may be registered from (model_roots: {})",
            names.join(", ")
        ));
    }
    Ok((dir.clone(), check_model(&dir)?))
}

/// The integrity check of a model directory, and its version's shape.
fn check_model(dir: &Path) -> Result<crate::judge::CheckedModel, String> {
    let checked = crate::judge::check_model_dir(dir)
        .map_err(|e| format!("failed its integrity check: {e}"))?;
    if !plain_version(checked.scorer.model_version()) {
        return Err(format!(
            "its version must be 1 to {MAX_VERSION_CHARS} letters, digits, '.', '_' or '-'"
        ));
    }
    Ok(checked)
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
#[tracing::instrument(name = "register_model", skip_all, fields(key_id = caller.key_id))]
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

/// The path form: a directory already on the server.
async fn register_path(
    caller: &Caller,
    state: &AppState,
    request: ModelRegistration,
) -> Result<ModelRecord, ApiError> {
    if request.path.chars().count() > MAX_PATH_CHARS || request.path.contains('\0') {
        return Err(ValidationError::new(
            "path",
            format!("must be at most {MAX_PATH_CHARS} characters, without NUL"),
        )
        .into());
    }
    let roots = allowed_roots(&state.settings);
    let path = request.path;
    let checked = web::block(move || check_registration(&path, &roots))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("model check: {e}")))?
        .map_err(|reason| ValidationError::new("path", reason))?;
    let (dir, checked) = checked;
    let new = new_model(caller.site_id, &dir, checked, &caller.name);
    store::run(&state.pool, move |conn| store::models::register(conn, &new))
        .await?
        .map_err(refusal)
}

/// The archive form: read the body, then unpack, check and register on a blocking thread.
async fn register_archive(
    caller: &Caller,
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<ModelRecord, ApiError> {
    let timeout =
        Duration::from_secs(state.settings.body_read_timeout_secs).max(MODEL_ARCHIVE_READ_TIMEOUT);
    let body = archive_body(req, payload, timeout).await?;
    let roots = allowed_roots(&state.settings);
    let pool = state.pool.clone();
    let (site_id, by) = (caller.site_id, caller.name.clone());
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        unpack_and_register(&body, &roots, site_id, &by, &pool)
    })
    .await?
}

/// Whether the body is declared a model archive ([`ARCHIVE_TYPES`]).
fn declares_archive(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| ARCHIVE_TYPES.contains(&essence.as_str()))
}

/// The body limit of a request when it is not `max_request_bytes`: a model archive posted to
/// [`REGISTER_PATH`] (for `Expect: 100-continue`, decided before routing).
pub fn archive_limit(method: &Method, path: &str, headers: &HeaderMap) -> Option<usize> {
    (method == Method::POST && path == REGISTER_PATH && declares_archive(headers))
        .then_some(MAX_MODEL_ARCHIVE_BYTES)
}

/// The whole body of a model archive: at most [`MAX_MODEL_ARCHIVE_BYTES`] (413), within
/// `timeout` (408), as JSON bodies are read.
async fn archive_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    timeout: Duration,
) -> Result<web::Bytes, ApiError> {
    let limit = MAX_MODEL_ARCHIVE_BYTES;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let read = async {
        let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0));
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::BadRequest(format!("cannot read body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    actix_web::rt::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(ApiError::RequestTimeout {
            secs: timeout.as_secs(),
        }))
}

/// Unpacks a model archive under the first allowed root, checks it and registers it; on any
/// failure its directory is removed. All in one blocking task, which runs to its end even when
/// the client goes away: a directory is never left behind unregistered.
fn unpack_and_register(
    body: &[u8],
    roots: &[PathBuf],
    site_id: i64,
    by: &str,
    pool: &store::DbPool,
) -> Result<ModelRecord, ApiError> {
    let refused = |reason: String| ApiError::from(ValidationError::new("archive", reason));
    // Every entry is checked before anything is written.
    crate::model_archive::walk(body, |_, file| io::copy(file, &mut io::sink())).map_err(refused)?;
    let root = roots.first().ok_or_else(|| {
        refused(
            "cannot be unpacked: none of the directories models may be registered from \
             (model_roots) exists"
                .into(),
        )
    })?;
    let site_dir = root.join(UPLOADED_DIR).join(format!("site-{site_id}"));
    std::fs::create_dir_all(&site_dir).map_err(|e| fs_error("create", &site_dir, e))?;
    // A name of its own until the model is checked and its version known.
    let staging = site_dir.join(format!(".unpacking-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&staging).map_err(|e| fs_error("create", &staging, e))?;
    let checked = unpack_checked(body, &staging);
    let checked = match checked {
        Ok(checked) => checked,
        Err(e) => {
            discard(&staging);
            return Err(e);
        }
    };
    let version = checked.scorer.model_version().to_owned();
    let dir = site_dir.join(&version);
    if let Err(e) = std::fs::rename(&staging, &dir) {
        discard(&staging);
        if dir.symlink_metadata().is_err() {
            return Err(fs_error("rename", &staging, e));
        }
        let mut conn = pool.get().map_err(store::StoreError::from)?;
        let registered = store::models::by_version(&mut conn, site_id, &version)?.is_some();
        return Err(ApiError::Conflict(if registered {
            format!("version {version} is already registered for this site")
        } else {
            // Left by an upload that crashed before registering it, or being registered now.
            format!(
                "{} already exists and is not registered: register it by its path, or remove it",
                dir.display()
            )
        }));
    }
    let new = new_model(site_id, &dir, checked, by);
    let registered = pool
        .get()
        .map_err(store::StoreError::from)
        .and_then(|mut conn| store::models::register(&mut conn, &new));
    match registered {
        Ok(Ok(record)) => Ok(record),
        Ok(Err(r)) => {
            discard(&dir);
            Err(refusal(r))
        }
        Err(e) => {
            discard(&dir);
            Err(e.into())
        }
    }
}

/// Writes the archive's files into `dir` (empty) and checks the model there; the reason of a
/// refusal names files without `dir`.
fn unpack_checked(body: &[u8], dir: &Path) -> Result<crate::judge::CheckedModel, ApiError> {
    crate::model_archive::walk(body, |name, file| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(name))?;
        io::copy(file, &mut out)
    })
    // The same bytes passed the first walk: only writing can fail.
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("unpacking a model archive: {e}")))?;
    check_model(dir).map_err(|reason| {
        let reason = reason.replace(&format!("{}/", dir.display()), "");
        ValidationError::new("archive", format!("holds a model that {reason}")).into()
    })
}

fn fs_error(action: &str, path: &Path, e: io::Error) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("cannot {action} {}: {e}", path.display()))
}

/// Removes an unpacked directory (a failure is logged: nothing more can be done).
fn discard(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        tracing::error!(dir = %dir.display(), error = %e, "cannot remove an unpacked model archive");
    }
}

/// The registry row of a checked model directory (`vigie models register` too).
pub fn new_model(
    site_id: i64,
    dir: &Path,
    checked: crate::judge::CheckedModel,
    by: &str,
) -> store::models::NewModel {
    let t = store::now();
    store::models::NewModel {
        site_id,
        version: checked.scorer.model_version().to_owned(),
        path: dir.to_string_lossy().into_owned(),
        sha256: checked.sha256,
        weights_sha256: checked.scorer.model().meta.weights_sha256.clone(),
        status: ModelStatus::Registered.as_str().to_owned(),
        registered_by: by.to_owned(),
        registered_at: t,
        updated_at: t,
    }
}

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
#[tracing::instrument(name = "shadow_model", skip_all, fields(key_id = caller.key_id))]
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
#[tracing::instrument(name = "activate_model", skip_all, fields(key_id = caller.key_id))]
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
#[tracing::instrument(name = "rollback_model", skip_all, fields(key_id = caller.key_id))]
pub async fn rollback(
    caller: Caller,
    state: web::Data<AppState>,
    version: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    change(caller, state, version.into_inner(), Change::Rollback).await
}

// ---------------------------------------------------------------------------------------------
// Shadow report

/// What a model said of a comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowSide {
    pub model_version: String,
    /// `publish`, `hold` or `reject`.
    pub decision: String,
    pub toxicity: f64,
    pub spam: f64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowExample {
    pub comment_id: i64,
    /// The moderators' last decision: `rejected`, `approved`, or `null` (none yet).
    pub label: Option<String>,
    pub active: ShadowSide,
    pub shadow: ShadowSide,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionChange {
    /// The active model's decision: `publish`, `hold` or `reject`.
    pub from: String,
    /// The shadow model's.
    pub to: String,
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShadowReport {
    pub version: String,
    pub status: ModelStatus,
    /// Comments the model scored in shadow (at most the newest 100,000).
    pub comments_scored: usize,
    /// Share of them where its decision equals the active model's (`null`: none scored).
    pub agreement_rate: Option<f64>,
    /// How many decisions would change, by kind (`publish` → `hold`, …).
    pub changes: Vec<DecisionChange>,
    /// Up to 50 comments whose decision would change, newest first, with both explanations.
    pub examples: Vec<ShadowExample>,
    /// The active model against the moderators' decisions taken since (held or rejected counts
    /// as flagged, a rejection as positive).
    pub active: Agreement,
    /// The shadow model against the same decisions.
    pub shadow: Agreement,
}

/// What a decision does to a comment, in the report's words.
fn outcome(decision: &str) -> &'static str {
    match decision {
        d if d == Decision::Allow.as_str() => "publish",
        d if d == Decision::Review.as_str() => "hold",
        _ => "reject",
    }
}

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
    let mut changes: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut examples = Vec::new();
    let mut agreed = 0usize;
    let mut active_pairs = Vec::new();
    let mut shadow_pairs = Vec::new();
    for row in &rows {
        let s = &row.score;
        if let Some(label) = row.label {
            active_pairs.push((outcome(&s.active_decision) != "publish", label == 1));
            shadow_pairs.push((outcome(&s.decision) != "publish", label == 1));
        }
        let (from, to) = (outcome(&s.active_decision), outcome(&s.decision));
        if from == to {
            agreed += 1;
            continue;
        }
        *changes.entry((from, to)).or_default() += 1;
        if examples.len() < SHADOW_EXAMPLES {
            let active: Option<Verdict> = row
                .active_verdict
                .as_deref()
                .and_then(|v| serde_json::from_str(v).ok());
            examples.push(ShadowExample {
                comment_id: s.comment_id,
                label: row
                    .label
                    .map(|l| if l == 1 { "rejected" } else { "approved" }.to_owned()),
                active: ShadowSide {
                    model_version: s.active_version.clone(),
                    decision: from.to_owned(),
                    toxicity: active
                        .as_ref()
                        .map_or(0.0, |v| f64::from(v.scores.toxicity)),
                    spam: active.as_ref().map_or(0.0, |v| f64::from(v.scores.spam)),
                    reasons: active.map(|v| v.reasons).unwrap_or_default(),
                },
                shadow: ShadowSide {
                    model_version: model.version.clone(),
                    decision: to.to_owned(),
                    toxicity: s.toxicity,
                    spam: s.spam,
                    reasons: serde_json::from_str(&s.reasons).unwrap_or_default(),
                },
            });
        }
    }
    let n = rows.len();
    Ok(HttpResponse::Ok().json(ShadowReport {
        status: model.status(),
        version: model.version,
        comments_scored: n,
        agreement_rate: (n > 0).then(|| agreed as f64 / n as f64),
        changes: changes
            .into_iter()
            .map(|((from, to), count)| DecisionChange {
                from: from.to_owned(),
                to: to.to_owned(),
                count,
            })
            .collect(),
        examples,
        active: recalibrate::agreement(active_pairs),
        shadow: recalibrate::agreement(shadow_pairs),
    }))
}

// ---------------------------------------------------------------------------------------------
// Threshold suggestion

#[derive(Debug, Deserialize, IntoParams)]
pub struct SuggestionQuery {
    /// Share of held comments moderators should reject (default 0.8), above 0 and at most 1.
    #[param(minimum = 0.01, maximum = 1)]
    pub precision_review: Option<f64>,
    /// Share of rejected comments moderators should reject (default 0.95), above 0 and at
    /// most 1.
    #[param(minimum = 0.01, maximum = 1)]
    pub precision_reject: Option<f64>,
}

/// Default precision targets of a suggestion.
pub const DEFAULT_PRECISION_REVIEW: f64 = 0.8;
pub const DEFAULT_PRECISION_REJECT: f64 = 0.95;

/// One category's suggestion and what it rests on.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategorySuggestion {
    /// Comments moderators rejected for this category (`spam` for spam, any other reason for
    /// toxicity).
    pub rejected: usize,
    /// Comments moderators approved.
    pub approved: usize,
    /// The lowest threshold holding comments at `precision_review` (`null`: none reaches it;
    /// the suggestion then turns the step off, 1.01).
    pub review: Option<Cut>,
    /// The lowest threshold rejecting comments at `precision_reject`.
    pub reject: Option<Cut>,
    /// Set when the category's thresholds are kept as they are, and why.
    pub kept: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdSuggestion {
    /// The active model the thresholds are for (only comments it scored count).
    pub model_version: String,
    pub precision_review: f64,
    pub precision_reject: f64,
    /// Labelled comments scored by the active model (each comment's last human decision).
    pub labels: usize,
    /// Labelled comments scored by other models, not used.
    pub labels_other_models: usize,
    pub approved: usize,
    pub rejected: usize,
    /// Ready for `PUT /v1/site/thresholds`.
    pub thresholds: Thresholds,
    pub toxicity: CategorySuggestion,
    pub spam: CategorySuggestion,
}

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
    let precision = |name: &str, v: Option<f64>, default: f64| {
        let v = v.unwrap_or(default);
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(ValidationError::new(name, "must be above 0 and at most 1"))
        }
    };
    let precision_review = precision(
        "precision_review",
        query.precision_review,
        DEFAULT_PRECISION_REVIEW,
    )?;
    let precision_reject = precision(
        "precision_reject",
        query.precision_reject,
        DEFAULT_PRECISION_REJECT,
    )?;
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
    let total = labelled.len();
    let labelled: Vec<_> = labelled
        .into_iter()
        .filter(|l| l.model_version.as_deref() == Some(version.as_str()))
        .collect();
    let rejected = labelled.iter().filter(|l| l.label == 1).count();
    let approved = labelled.len() - rejected;
    if labelled.len() < MIN_LABELS || rejected < MIN_PER_CLASS || approved < MIN_PER_CLASS {
        return Err(ValidationError::new(
            "labels",
            format!(
                "too few labelled comments scored by {version}: {} ({approved} approved, {rejected} rejected; {} more scored by other models); a suggestion needs at least {MIN_LABELS}, with at least {MIN_PER_CLASS} of each",
                labelled.len(),
                total - labelled.len()
            ),
        )
        .into());
    }
    let category = |is_spam: bool, current: CategoryThresholds| {
        let scored: Vec<(f64, bool)> = labelled
            .iter()
            .filter(|l| l.label == 0 || (l.reason.as_deref() == Some("spam")) == is_spam)
            .map(|l| (if is_spam { l.spam } else { l.toxicity }, l.label == 1))
            .collect();
        let positives = scored.iter().filter(|(_, p)| *p).count();
        let suggestion = CategorySuggestion {
            rejected: positives,
            approved,
            review: None,
            reject: None,
            kept: None,
        };
        if positives < MIN_PER_CLASS {
            return (
                current,
                CategorySuggestion {
                    kept: Some(format!(
                        "{positives} rejections in this category; at least {MIN_PER_CLASS} are needed"
                    )),
                    ..suggestion
                },
            );
        }
        let review = recalibrate::lowest_threshold_with_precision(&scored, precision_review);
        let reject = recalibrate::lowest_threshold_with_precision(&scored, precision_reject);
        let reject_at = reject.map_or(OFF, |c| c.threshold);
        let review_at = review.map_or(OFF, |c| c.threshold).min(reject_at);
        (
            CategoryThresholds {
                review: review_at,
                reject: reject_at,
            },
            CategorySuggestion {
                review,
                reject,
                ..suggestion
            },
        )
    };
    let (toxicity_at, toxicity) = category(false, in_force.toxicity);
    let (spam_at, spam) = category(true, in_force.spam);
    Ok(HttpResponse::Ok().json(ThresholdSuggestion {
        model_version: version,
        precision_review,
        precision_reject,
        labels: labelled.len(),
        labels_other_models: total - labelled.len(),
        approved,
        rejected,
        thresholds: Thresholds {
            toxicity: toxicity_at,
            spam: spam_at,
        },
        toxicity,
        spam,
    }))
}
