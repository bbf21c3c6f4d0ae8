//! GDPR requests about one author (admin): erasure and export.

use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{self, decisions::Actor, privacy};

#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureResponse {
    /// Always `deleted`.
    pub status: String,
    pub erased: privacy::ErasureCounts,
}

fn admin(caller: &Caller) -> Result<Actor, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(caller.actor())
}

/// Erase an author (admin): their comment bodies, connection data, verdicts and notes, name,
/// email hash and id go; the comments stay as `deleted` records and every decision and
/// status change stays in the audit log, without personal data. The author's id is replaced,
/// so the same id sent again starts a new author. Irreversible.
#[utoipa::path(post, path = "/v1/authors/{id}/erase", tag = "privacy", security(("bearer" = ["admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's id of the author")),
    responses((status = 200, body = ErasureResponse)))]
#[post("/v1/authors/{id}/erase")]
#[tracing::instrument(name = "erase_author", skip_all, fields(key_id = caller.key_id.0))]
pub async fn erase(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = admin(&caller)?;
    let author = id.into_inner();
    let reporter_identity = state.keyed_hash("reporter", &author);
    let site = caller.site_id;
    let wanted = author.clone();
    let counts = store::run(&state.pool, move |conn| {
        privacy::erase_author(conn, site, &wanted, &reporter_identity, &actor)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("author".into()))?;
    tracing::info!(comments = counts.comments, "author erased");
    Ok(HttpResponse::Ok().json(ErasureResponse {
        status: "deleted".into(),
        erased: counts,
    }))
}

/// Everything Vigie holds about an author, as JSON (admin): record, status history, comments
/// with their verdicts, decisions and the reports on them (without the reporters), appeals,
/// statements of reasons.
#[utoipa::path(get, path = "/v1/authors/{id}/export", tag = "privacy", security(("bearer" = ["admin"])),
    params(("id" = String, Path, min_length = 1, description = "the site's id of the author")),
    responses((status = 200, body = Object)))]
#[get("/v1/authors/{id}/export")]
#[tracing::instrument(name = "export_author", skip_all, fields(key_id = caller.key_id.0))]
pub async fn export(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    admin(&caller)?;
    let author = id.into_inner();
    let site = caller.site_id;
    let doc = store::run(&state.pool, move |conn| {
        privacy::export_author(conn, site, &author)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound("author".into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "content-disposition",
            "attachment; filename=\"author-export.json\"",
        ))
        .json(doc))
}
