//! Registering a model posted as a tar archive: its body (with its own size limit and read
//! timeout), unpacked under the first allowed root, checked, and registered, or removed.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::Method;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use super::directory::{allowed_roots, check_model, new_model};
use super::{
    refusal, ARCHIVE_TYPES, MAX_MODEL_ARCHIVE_BYTES, MODEL_ARCHIVE_READ_TIMEOUT, REGISTER_PATH,
    UPLOADED_DIR,
};
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::SiteId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use crate::store::models::ModelRecord;

/// The archive form: read the body, then unpack, check and register on a blocking thread.
pub(super) async fn register_archive(
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
pub(super) fn declares_archive(headers: &HeaderMap) -> bool {
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
    site_id: SiteId,
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

/// A file-system failure while unpacking: an internal error naming the path.
fn fs_error(action: &str, path: &Path, e: io::Error) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("cannot {action} {}: {e}", path.display()))
}

/// Removes an unpacked directory (a failure is logged: nothing more can be done).
fn discard(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        tracing::error!(dir = %dir.display(), error = %e, "cannot remove an unpacked model archive");
    }
}
