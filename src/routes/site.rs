//! The key's own site and its policy.

use actix_web::{get, patch, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::{ModerationMode, Role, UnscoredLanguage};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store;

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteResponse {
    pub slug: String,
    /// `pre` holds every comment for review; `post` publishes.
    pub moderation_mode: String,
    /// Weighted reader reports past which a published comment is hidden.
    pub report_hide_threshold: f64,
    /// EU/EEA states where the site's restrictions apply (statements of reasons'
    /// `territorial_scope`); the 27 EU member states unless set.
    pub territorial_scope: Vec<String>,
    /// What happens to a comment in a language the model does not score (Vigie scores
    /// French and English): `review` holds it with the reason "language xx is not scored",
    /// `allow` lets the rules alone decide, `reject` rejects it.
    pub unscored_language: UnscoredLanguage,
    /// The site's own thresholds (`PUT /v1/site/thresholds`), or null when it uses the model's.
    pub thresholds: Option<crate::scoring::Thresholds>,
    /// The model version the site's own thresholds were saved for (null: none saved, or saved
    /// before Vigie recorded it).
    pub thresholds_model: Option<String>,
    /// True when the site's own thresholds were saved for another model than the one scoring
    /// now (or for an unrecorded older one): a new model can change the score scale, so an
    /// admin should choose them again (or send `null` to use the model's).
    pub thresholds_outdated: bool,
    /// New-author pre-moderation: an author's comments are held until this many of theirs were
    /// approved; 0 when off.
    pub new_author_premod: u32,
    /// How the site's authors appeal a decision (shown in statements of reasons as
    /// `how_to_appeal`); null when not set.
    pub appeal_text: Option<String>,
    /// Role of the key that asked.
    pub role: String,
}

/// An EU or EEA state's two-letter code (ISO 3166-1 alpha-2, either case).
#[derive(ToSchema)]
#[schema(
    value_type = String,
    pattern = r"^(?:[Aa][Tt]|[Bb][Ee]|[Bb][Gg]|[Cc][Yy]|[Cc][Zz]|[Dd][Ee]|[Dd][Kk]|[Ee][Ee]|[Ee][Ss]|[Ff][Ii]|[Ff][Rr]|[Gg][Rr]|[Hh][Rr]|[Hh][Uu]|[Ii][Ee]|[Ii][Tt]|[Ll][Tt]|[Ll][Uu]|[Ll][Vv]|[Mm][Tt]|[Nn][Ll]|[Pp][Ll]|[Pp][Tt]|[Rr][Oo]|[Ss][Ee]|[Ss][Ii]|[Ss][Kk]|[Ii][Ss]|[Ll][Ii]|[Nn][Oo])$"
)]
#[allow(dead_code)]
struct TerritorialCode(String);

#[derive(Debug, Deserialize, ToSchema)]
pub struct SiteUpdate {
    #[serde(default)]
    pub moderation_mode: Option<ModerationMode>,
    /// Weighted reader reports past which a published comment is hidden (0.5 to 1000).
    #[serde(default)]
    #[schema(minimum = 0.5, maximum = 1000)]
    pub report_hide_threshold: Option<f64>,
    /// Two-letter codes (ISO 3166-1, either case) of EU or EEA states where the site's
    /// restrictions apply.
    #[serde(default)]
    #[schema(
        min_items = 1,
        max_items = 30,
        inline,
        value_type = Option<Vec<TerritorialCode>>
    )]
    pub territorial_scope: Option<Vec<String>>,
    /// `review`, `allow` or `reject`: comments in a language the model does not score.
    #[serde(default)]
    pub unscored_language: Option<UnscoredLanguage>,
    /// Hold an author's comments until this many of theirs were approved (1 to
    /// [`MAX_NEW_AUTHOR_PREMOD`]); 0 turns new-author pre-moderation off.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub new_author_premod: Option<u32>,
    /// How the site's authors appeal a decision, shown in statements of reasons (at most
    /// [`MAX_APPEAL_TEXT_CHARS`] characters; empty removes it).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub appeal_text: Option<String>,
}

/// Most approved comments new-author pre-moderation may ask for.
pub const MAX_NEW_AUTHOR_PREMOD: u32 = 100;
/// Longest appeal text.
pub const MAX_APPEAL_TEXT_CHARS: usize = 2000;

impl SiteResponse {
    fn of(
        site: store::records::SiteRecord,
        role: Role,
        model_version: &str,
    ) -> Result<SiteResponse, ApiError> {
        let thresholds = site
            .thresholds
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok());
        let thresholds_outdated =
            thresholds.is_some() && site.thresholds_model.as_deref() != Some(model_version);
        Ok(SiteResponse {
            thresholds,
            thresholds_outdated,
            thresholds_model: site.thresholds_model,
            unscored_language: site.unscored_language,
            territorial_scope: crate::domain::dsa::territorial_scope_of(
                site.territorial_scope.as_deref(),
            ),
            slug: site.slug,
            moderation_mode: site.moderation_mode.to_string(),
            report_hide_threshold: site.report_hide_threshold,
            new_author_premod: site
                .new_author_premod
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            appeal_text: site.appeal_text,
            role: role.to_string(),
        })
    }
}

/// The site of the calling key.
#[utoipa::path(get, path = "/v1/site", tag = "site", security(("bearer" = [])),
    responses((status = 200, body = SiteResponse)))]
#[get("/v1/site")]
pub async fn get_site(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let site_id = caller.site_id;
    let judge = state.judge.clone();
    let (site, model) = store::run(&state.pool, move |conn| {
        let model = judge.models_for(conn, site_id)?.active;
        Ok((store::sites::by_id(conn, site_id)?, model))
    })
    .await?;
    let site = site.ok_or_else(|| ApiError::NotFound("site".into()))?;
    Ok(HttpResponse::Ok().json(SiteResponse::of(site, caller.role, model.model_version())?))
}

/// Change the site's moderation mode, report-hide threshold, territorial scope,
/// unscored-language policy, new-author pre-moderation or appeal text (admin).
#[utoipa::path(patch, path = "/v1/site", tag = "site", security(("bearer" = ["admin"])),
    request_body = SiteUpdate,
    responses((status = 200, body = SiteResponse)))]
#[patch("/v1/site")]
#[tracing::instrument(name = "update_site", skip_all, fields(key_id = caller.key_id))]
pub async fn update_site(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(update): ApiJson<SiteUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if let Some(t) = update.report_hide_threshold {
        if !(0.5..=1000.0).contains(&t) {
            return Err(crate::domain::intake::ValidationError::new(
                "report_hide_threshold",
                "must be between 0.5 and 1000",
            )
            .into());
        }
    }
    let scope = update
        .territorial_scope
        .as_deref()
        .map(crate::domain::dsa::parse_territorial_scope)
        .transpose()
        .map_err(|e| crate::domain::intake::ValidationError::new("territorial_scope", e))?;
    if update
        .new_author_premod
        .is_some_and(|n| n > MAX_NEW_AUTHOR_PREMOD)
    {
        return Err(crate::domain::intake::ValidationError::new(
            "new_author_premod",
            format!("must be between 0 (off) and {MAX_NEW_AUTHOR_PREMOD}"),
        )
        .into());
    }
    // "" (or blanks) removes the text
    let appeal_text = match update.appeal_text {
        Some(text) => Some(super::optional_text(
            "appeal_text",
            Some(text),
            MAX_APPEAL_TEXT_CHARS,
        )?),
        None => None,
    };
    let site_id = caller.site_id;
    let judge = state.judge.clone();
    let (site, model) = store::run(&state.pool, move |conn| {
        let model = judge.models_for(conn, site_id)?.active;
        let changes = store::sites::SiteChanges {
            moderation_mode: update.moderation_mode.map(ModerationMode::as_str),
            report_hide_threshold: update.report_hide_threshold,
            territorial_scope: scope.map(|s| s.join(" ")),
            unscored_language: update.unscored_language.map(UnscoredLanguage::as_str),
            new_author_premod: update
                .new_author_premod
                .map(|n| (n > 0).then_some(n as i32)),
            appeal_text,
        };
        let site = store::sites::update(conn, site_id, &changes)?;
        Ok((site, model))
    })
    .await?;
    tracing::info!(site = site.id, mode = %site.moderation_mode, "site moderation mode changed");
    Ok(HttpResponse::Ok().json(SiteResponse::of(site, caller.role, model.model_version())?))
}
