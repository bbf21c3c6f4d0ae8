//! A site's judgement settings: its rule set (versioned; every replica reloads a new version),
//! its thresholds, and a dry run of the pipeline.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::Role;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::scoring::{AuthorHistory, RuleSet, Thresholds};
use crate::state::AppState;
use crate::store;

/// Largest rule file accepted through the API (characters). The default file has about 164,700
/// (2026-12-08b, with the English threat families, `en-threat-wish`, `fr-threat-dox`,
/// `hate-stereotype-fr`/`-en`, the four English threat rules of 06j, the death wishes of 06k,
/// the quoted spam of 07a, the condemned statements of 07b, the spam quotes of 07c, the
/// French threat forms of 07d, the helplines of 07e, the spam links and threat forms of
/// 07f, the unknown shorteners of 07g, the aimed insults of 08a and the hate tropes of 08b;
/// 151,000 with 07e, 130,000 with 07a): 35,300 characters leave a site room to add its own
/// rules to a copy of it (a third as much again with 07a); 100,000 until 2026-12-06b.
pub const MAX_RULES_CHARS: usize = 200_000;

/// The body limit of a request that carries a whole rule file ([`rules_limit`]): room for
/// [`MAX_RULES_CHARS`] characters written as JSON, whatever `max_request_bytes` (64 KiB by
/// default) says; the larger of the two applies.
pub const RULES_REQUEST_BYTES: usize = 512 * 1024;

/// [`RULES_REQUEST_BYTES`] for the requests that carry a rule file (`PUT /v1/site/rules`,
/// `POST /v1/backtests`), decided from the method and path alone (before routing, for
/// `Expect: 100-continue` too); `None` for every other request.
pub fn rules_limit(method: &actix_web::http::Method, path: &str) -> Option<usize> {
    use actix_web::http::Method;
    let carries = (method == Method::PUT && path == "/v1/site/rules")
        || (method == Method::POST && path == "/v1/backtests");
    carries.then_some(RULES_REQUEST_BYTES)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleSetResponse {
    /// `null` while the site uses the default rules.
    pub version: Option<i32>,
    /// The rule set's own name (from the TOML).
    pub name: String,
    /// The TOML source; for the default rules, the built-in file.
    pub source: String,
    pub rules: usize,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleSetUpdate {
    /// A rule file in TOML (see `src/scoring/default_rules.toml`), at most 200,000 characters.
    #[schema(max_length = 200000, pattern = r"^[^\x00]*$")]
    pub source: String,
}

/// The site's rule set (admin).
#[utoipa::path(get, path = "/v1/site/rules", tag = "site", security(("bearer" = ["admin"])),
    responses((status = 200, body = RuleSetResponse)))]
#[get("/v1/site/rules")]
pub async fn get_rules(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site = caller.site_id;
    let stored = store::run(&state.pool, move |conn| store::rules::latest(conn, site)).await?;
    let response = match stored {
        Some(store::rules::StoredRuleSet {
            version,
            source,
            created_by: by,
            created_at: at,
        }) => {
            let compiled = RuleSet::from_toml(&source, "stored").ok();
            RuleSetResponse {
                version: Some(version),
                name: compiled
                    .as_ref()
                    .map(|r| r.name().to_owned())
                    .unwrap_or_default(),
                rules: compiled.map(|r| r.len()).unwrap_or(0),
                source,
                updated_by: Some(by),
                updated_at: Some(at.and_utc()),
            }
        }
        None => {
            let rules = state.judge.default_rules();
            RuleSetResponse {
                version: None,
                name: rules.name().to_owned(),
                source: rules.source().to_owned(),
                rules: rules.len(),
                updated_by: None,
                updated_at: None,
            }
        }
    };
    Ok(HttpResponse::Ok().json(response))
}

/// Replace the site's rule set (admin). A file with an invalid regex or an unknown action is
/// refused with its line and reason, and the previous rule set stays in force.
#[utoipa::path(put, path = "/v1/site/rules", tag = "site", security(("bearer" = ["admin"])),
    request_body = RuleSetUpdate,
    responses((status = 200, body = RuleSetResponse),
        (status = 422, description = "the rule file does not compile: line and reason", body = crate::error::Problem, content_type = "application/problem+json")))]
#[put("/v1/site/rules")]
#[tracing::instrument(name = "replace_rules", skip_all, fields(key_id = caller.key_id.0))]
pub async fn put_rules(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(update): ApiJson<RuleSetUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if update.source.chars().count() > MAX_RULES_CHARS || update.source.contains('\0') {
        return Err(ValidationError::new(
            "source",
            format!("must be at most {MAX_RULES_CHARS} characters of text"),
        )
        .into());
    }
    let compiled = RuleSet::from_toml(&update.source, "source")
        .map_err(|e| ValidationError::new("source", format!("line {}: {}", e.line, e.reason)))?;
    let site = caller.site_id;
    let by = caller.name.clone();
    let source = update.source.clone();
    let actor = caller.actor();
    let what = format!(
        "`{}`, {} rule{}, {} characters",
        compiled.name(),
        compiled.len(),
        if compiled.len() == 1 { "" } else { "s" },
        update.source.chars().count()
    );
    let (version, at) = store::run(&state.pool, move |conn| {
        // the change and its entry in the settings log, together
        store::write_tx(conn, |conn| {
            let (version, at) = store::rules::save(conn, site, &source, &by)?;
            let summary = format!("rule file replaced by version {version}: {what}");
            store::changes::record(conn, site, &actor, "rules", &summary)?;
            Ok::<_, store::StoreError>((version, at))
        })
    })
    .await?;
    state.judge.forget_rules(caller.site_id);
    tracing::info!(version, rules = compiled.len(), "rule set replaced");
    Ok(HttpResponse::Ok().json(RuleSetResponse {
        version: Some(version),
        name: compiled.name().to_owned(),
        rules: compiled.len(),
        source: update.source,
        updated_by: Some(caller.name),
        updated_at: Some(at.and_utc()),
    }))
}

/// Replace the site's thresholds (admin): per category, `review` and `reject` between 0 and 1
/// (a value above 1 turns that step off). `null` returns to the model's thresholds.
#[utoipa::path(put, path = "/v1/site/thresholds", tag = "site", security(("bearer" = ["admin"])),
    request_body(content = Option<Thresholds>, description = "`null` returns to the model's thresholds"),
    responses((status = 200, description = "the thresholds in force", body = Thresholds)))]
#[put("/v1/site/thresholds")]
pub async fn put_thresholds(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(update): ApiJson<Option<Thresholds>>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if let Some(t) = &update {
        check_thresholds(t, "")?;
    }
    let site = caller.site_id;
    let json = update
        .as_ref()
        .map(|t| serde_json::to_string(t).unwrap_or_default());
    let judge = state.judge.clone();
    let actor = caller.actor();
    let now_in_words = thresholds_in_words(update.as_ref());
    let recommended = store::run(&state.pool, move |conn| {
        let active = judge.models_for(conn, site)?.active;
        let before: Option<Thresholds> = store::sites::by_id(conn, site)?
            .and_then(|s| s.thresholds)
            .and_then(|t| serde_json::from_str(&t).ok());
        // the score scale they were chosen on: GET /v1/site flags them once the model changes
        let model = json.as_ref().map(|_| active.model_version().to_owned());
        // the change and its entry in the settings log, together
        store::write_tx(conn, |conn| {
            store::sites::set_thresholds(conn, site, json.as_deref(), model.as_deref())?;
            let was = thresholds_in_words(before.as_ref());
            if was != now_in_words {
                let summary = format!("{was} → {now_in_words}");
                store::changes::record(conn, site, &actor, "thresholds", &summary)?;
            }
            Ok::<_, store::StoreError>(())
        })?;
        Ok(active.recommended_thresholds())
    })
    .await?;
    let effective = update.unwrap_or(recommended);
    Ok(HttpResponse::Ok().json(effective))
}

/// Thresholds in words for the settings log ("the model's" when the site has none).
fn thresholds_in_words(t: Option<&Thresholds>) -> String {
    match t {
        None => "the model's thresholds".to_owned(),
        Some(t) => format!(
            "toxicity review {:.2}, reject {:.2}; spam review {:.2}, reject {:.2}",
            t.toxicity.review, t.toxicity.reject, t.spam.review, t.spam.reject
        ),
    }
}

/// Refuses thresholds out of range (422 naming `prefix` + the category): per category,
/// `review` and `reject` between 0 and 1.01, `review` ≤ `reject`.
pub fn check_thresholds(t: &Thresholds, prefix: &str) -> Result<(), ValidationError> {
    for (name, c) in [("toxicity", t.toxicity), ("spam", t.spam)] {
        let ok = (0.0..=1.01).contains(&c.review)
            && (0.0..=1.01).contains(&c.reject)
            && c.review <= c.reject;
        if !ok {
            return Err(ValidationError::new(
                format!("{prefix}{name}"),
                "review and reject are between 0 and 1 (above 1: off), review ≤ reject",
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DryRun {
    /// At most `max_body_chars` characters (10,000 by default).
    #[schema(max_length = 10000)]
    pub body: String,
    #[serde(default)]
    pub lang: Option<String>,
}

/// Score a text with the site's rules and thresholds without storing anything (moderators try
/// rules and see why a comment would be held).
#[utoipa::path(post, path = "/v1/score", tag = "site", security(("bearer" = ["moderator", "admin"])),
    request_body = DryRun,
    responses((status = 200, description = "the verdict", body = Object)))]
#[post("/v1/score")]
pub async fn dry_run(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<DryRun>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    if request.body.chars().count() > state.settings.max_body_chars {
        return Err(ValidationError::new(
            "body",
            format!(
                "must be at most {} characters",
                state.settings.max_body_chars
            ),
        )
        .into());
    }
    let site = caller.site_id;
    let judge = state.judge.clone();
    let verdict = store::run(&state.pool, move |conn| {
        let (_, rules) = judge.rules_for(conn, site)?;
        let active = judge.models_for(conn, site)?.active;
        let record = store::sites::by_id(conn, site)?
            .ok_or_else(|| store::StoreError::Other(anyhow::anyhow!("key without site")))?;
        let thresholds = judge.thresholds_from(record.thresholds.as_deref(), &active);
        let unscored = record.unscored_language;
        Ok(judge.verdict_by(
            &active,
            &request.body,
            request.lang.as_deref(),
            AuthorHistory {
                approved_count: u32::MAX,
                ..AuthorHistory::default()
            },
            &rules,
            &thresholds,
            unscored,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(verdict))
}
