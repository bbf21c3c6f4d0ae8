//! The key's own site and its policy.

use actix_web::{get, patch, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
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
#[tracing::instrument(name = "update_site", skip_all, fields(key_id = caller.key_id.0))]
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
    let actor = caller.actor();
    let (site, model) = store::run(&state.pool, move |conn| {
        let model = judge.models_for(conn, site_id)?.active;
        let before = store::sites::by_id(conn, site_id)?;
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
        // the change and its entry in the settings log, together
        let site = store::write_tx(conn, |conn| {
            let site = store::sites::update(conn, site_id, &changes)?;
            let summary = before
                .map(|b| changes_in_words(&b, &site))
                .unwrap_or_default();
            if !summary.is_empty() {
                store::changes::record(conn, site_id, &actor, "site", &summary)?;
            }
            Ok::<_, store::StoreError>(site)
        })?;
        Ok((site, model))
    })
    .await?;
    tracing::info!(site = site.id.0, mode = %site.moderation_mode, "site moderation mode changed");
    Ok(HttpResponse::Ok().json(SiteResponse::of(site, caller.role, model.model_version())?))
}

/// What changed between two states of the site's settings, in words; empty when nothing did.
fn changes_in_words(old: &store::records::SiteRecord, new: &store::records::SiteRecord) -> String {
    // the states in force: the default (the EU) and the same states listed are no change
    let scope = |s: &store::records::SiteRecord| {
        crate::domain::dsa::territorial_scope_of(s.territorial_scope.as_deref()).join(" ")
    };
    let premod = |s: &store::records::SiteRecord| s.new_author_premod.unwrap_or(0).to_string();
    let mut parts: Vec<String> = [
        (
            "moderation_mode",
            old.moderation_mode.to_string(),
            new.moderation_mode.to_string(),
        ),
        (
            "report_hide_threshold",
            old.report_hide_threshold.to_string(),
            new.report_hide_threshold.to_string(),
        ),
        ("territorial_scope", scope(old), scope(new)),
        (
            "unscored_language",
            old.unscored_language.as_str().to_owned(),
            new.unscored_language.as_str().to_owned(),
        ),
        ("new_author_premod", premod(old), premod(new)),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .map(|(name, a, b)| format!("{name}: {a} → {b}"))
    .collect();
    if old.appeal_text != new.appeal_text {
        parts.push(match &new.appeal_text {
            Some(_) => "appeal_text changed".to_owned(),
            None => "appeal_text removed".to_owned(),
        });
    }
    parts.join("; ")
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ChangesQuery {
    /// Only changes of this setting.
    #[param(pattern = r"^(site|thresholds|rules|words|thread)$")]
    pub setting: Option<String>,
    /// At or after (RFC 3339, or a date YYYY-MM-DD).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Before (RFC 3339, or a date YYYY-MM-DD).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ChangesQuery {
    fn filter(&self) -> Result<store::changes::ChangeFilter, ApiError> {
        if let Some(s) = &self.setting {
            if !store::changes::SETTINGS.contains(&s.as_str()) {
                return Err(crate::domain::intake::ValidationError::new(
                    "setting",
                    format!("one of {}", store::changes::SETTINGS.join(", ")),
                )
                .into());
            }
        }
        Ok(store::changes::ChangeFilter {
            setting: self.setting.clone(),
            from: super::optional_time("from", self.from.as_deref())?,
            to: super::optional_time("to", self.to.as_deref())?,
        })
    }
}

/// One change of the site's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingChangeEntry {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// The key's or account's name.
    pub actor: String,
    /// `console` or `api`.
    pub origin: Option<String>,
    /// The client's network (IPv4 /24, IPv6 /48); kept `ip_retention_days`.
    pub network: Option<String>,
    /// `site`, `thresholds`, `rules`, `words` or `thread`.
    pub setting: String,
    /// What changed, in words.
    pub summary: String,
}

impl From<store::changes::SettingChange> for SettingChangeEntry {
    fn from(c: store::changes::SettingChange) -> Self {
        SettingChangeEntry {
            id: c.id,
            created_at: c.created_at.and_utc(),
            actor: c.actor,
            origin: c.origin,
            network: c.origin_network,
            setting: c.setting,
            summary: c.summary,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingChangesPage {
    pub items: Vec<SettingChangeEntry>,
    pub next_cursor: Option<String>,
}

/// The site's settings log (admin), newest first: every change of the site's settings,
/// thresholds, rule file, word lists and threads' settings, by whom, when, from where;
/// filtered by setting and dates.
#[utoipa::path(get, path = "/v1/site/changes", tag = "site", security(("bearer" = ["admin"])),
    params(ChangesQuery),
    responses((status = 200, body = SettingChangesPage)))]
#[get("/v1/site/changes")]
pub async fn setting_changes(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    use crate::domain::intake::ValidationError;
    caller.require(&[Role::Admin])?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(super::queues::DEFAULT_PAGE);
    if !(1..=super::queues::MAX_PAGE).contains(&limit) {
        return Err(ValidationError::new(
            "limit",
            format!("must be between 1 and {}", super::queues::MAX_PAGE),
        )
        .into());
    }
    let filter = q.filter()?;
    let before = q
        .cursor
        .as_deref()
        .map(super::threads::decode_cursor)
        .transpose()?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::changes::list(conn, site, &filter, before, limit + 1)
    })
    .await?;
    let has_more = rows.len() as i64 > limit;
    let items: Vec<SettingChangeEntry> = rows
        .into_iter()
        .take(limit as usize)
        .map(SettingChangeEntry::from)
        .collect();
    let next_cursor = has_more
        .then(|| items.last().map(|c| super::threads::encode_cursor(c.id)))
        .flatten();
    Ok(HttpResponse::Ok().json(SettingChangesPage { items, next_cursor }))
}

/// Most rows of the settings log's CSV (a site changes its settings a few times a day).
pub const MAX_CHANGES_CSV_ROWS: i64 = 100_000;

/// The CSV's columns.
pub const CHANGES_CSV_HEADER: [&str; 7] = [
    "id",
    "created_at",
    "actor",
    "origin",
    "network",
    "setting",
    "summary",
];

/// The settings log as CSV (admin; the same filters, no pages), newest first, at most
/// 100,000 rows; cells that a spreadsheet would read as a formula start with `'`.
#[utoipa::path(get, path = "/v1/site/changes.csv", tag = "site", security(("bearer" = ["admin"])),
    params(ChangesQuery),
    responses((status = 200, description = "CSV with the columns `id, created_at, actor, origin, network, setting, summary`",
            content_type = "text/csv; charset=utf-8", body = String,
            headers(("content-disposition" = String, description = "attachment; filename=…")))))]
#[get("/v1/site/changes.csv")]
pub async fn setting_changes_csv(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let q = query.into_inner();
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(crate::domain::intake::ValidationError::new(
            if q.limit.is_some() { "limit" } else { "cursor" },
            "the CSV holds every matching change: no pages",
        )
        .into());
    }
    let filter = q.filter()?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        store::changes::list(conn, site, &filter, None, MAX_CHANGES_CSV_ROWS)
    })
    .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        out.write_record(CHANGES_CSV_HEADER)?;
        for c in &rows {
            let created_at = c
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let id = c.id.to_string();
            let cells: [&str; 7] = [
                &id,
                &created_at,
                &c.actor,
                c.origin.as_deref().unwrap_or(""),
                c.origin_network.as_deref().unwrap_or(""),
                &c.setting,
                &c.summary,
            ];
            out.write_record(
                cells
                    .iter()
                    .map(|cell| super::decisions::spreadsheet_safe(cell).into_owned()),
            )?;
        }
        Ok(())
    };
    write(&mut out).map_err(|e| ApiError::Internal(e.into()))?;
    let body = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"vigie-settings-{}.csv\"",
                chrono::Utc::now().format("%Y%m%d")
            ),
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ModerationMode, UnscoredLanguage};

    fn site() -> store::records::SiteRecord {
        store::records::SiteRecord {
            id: crate::domain::SiteId(1),
            slug: "s".into(),
            moderation_mode: ModerationMode::Pre,
            created_at: chrono::NaiveDateTime::default(),
            report_hide_threshold: 3.0,
            thresholds: None,
            coral_secrets: None,
            territorial_scope: None,
            unscored_language: UnscoredLanguage::Review,
            thresholds_model: None,
            new_author_premod: None,
            appeal_text: None,
        }
    }

    #[test]
    fn the_settings_log_says_what_changed_and_only_that() {
        let old = site();
        assert_eq!(changes_in_words(&old, &old), "");
        // the default scope and the same states listed are the same
        let eu = crate::domain::dsa::territorial_scope_of(None).join(" ");
        let listed = store::records::SiteRecord {
            territorial_scope: Some(eu),
            ..site()
        };
        assert_eq!(changes_in_words(&old, &listed), "");
        let new = store::records::SiteRecord {
            moderation_mode: ModerationMode::Post,
            new_author_premod: Some(3),
            territorial_scope: Some("FR BE".into()),
            appeal_text: Some("Écrivez-nous.".into()),
            ..site()
        };
        let said = changes_in_words(&old, &new);
        assert!(
            said.starts_with("moderation_mode: pre → post; territorial_scope: "),
            "{said}"
        );
        assert!(
            said.ends_with("→ FR BE; new_author_premod: 0 → 3; appeal_text changed"),
            "{said}"
        );
        assert_eq!(
            changes_in_words(&new, &old).rsplit("; ").next(),
            Some("appeal_text removed")
        );
    }
}
