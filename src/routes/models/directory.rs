//! Registering a model directory already on the server: where models may be registered from,
//! the checks every registration passes (the archive form too), and the registry row.

use std::path::{Path, PathBuf};

use actix_web::web;

use super::{
    plain_version, refusal, ModelRegistration, DATA_MODELS_DIR, MAX_PATH_CHARS, MAX_VERSION_CHARS,
};
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::SiteId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use crate::store::models::{ModelRecord, ModelStatus};

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
pub(super) fn check_model(dir: &Path) -> Result<crate::judge::CheckedModel, String> {
    let checked = crate::judge::check_model_dir(dir)
        .map_err(|e| format!("failed its integrity check: {e}"))?;
    if !plain_version(checked.scorer.model_version()) {
        return Err(format!(
            "its version must be 1 to {MAX_VERSION_CHARS} letters, digits, '.', '_' or '-'"
        ));
    }
    Ok(checked)
}

/// The path form: a directory already on the server.
pub(super) async fn register_path(
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

/// The registry row of a checked model directory (`vigie models register` too).
pub fn new_model(
    site_id: SiteId,
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
        status: ModelStatus::Registered,
        registered_by: by.to_owned(),
        registered_at: t,
        updated_at: t,
    }
}
