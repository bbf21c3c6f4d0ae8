//! Backtests (admin): `POST /v1/backtests` queues one (a rule set, thresholds, a model version,
//! a period), `GET /v1/backtests/{id}` follows it and gives its result, `DELETE` cancels it,
//! `GET /v1/backtests` lists the site's. The work is in [`crate::backtest`].

use std::sync::Arc;

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::backtest::{self, Change, Params, Setup};
use crate::domain::intake::ValidationError;
use crate::domain::{BacktestId, Role, SiteId};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::rules::MAX_RULES_CHARS;
use crate::routes::utc;
use crate::scoring::{RuleSet, Thresholds};
use crate::state::AppState;
use crate::store::{self, backtests::BacktestRecord, StoreError};

/// Longest `from`/`to` value (as for the dataset export).
const MAX_DATE_CHARS: usize = 64;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    /// A rule set in TOML to try instead of the site's (at most 200,000 characters); a file that
    /// does not compile is refused with its line.
    #[serde(default)]
    #[schema(max_length = 200000, pattern = r"^[^\x00]*$")]
    pub rules: Option<String>,
    /// Instead of `rules`: one word-list edit tried on the site's rule file, checked as
    /// `POST /v1/site/rules/words` (`add`) or `PATCH /v1/site/rules/words/{id}` (`change`
    /// and `set`) would check it; nothing is saved.
    #[serde(default)]
    pub words: Option<super::words::TriedEdit>,
    /// Thresholds to try instead of the site's (the shape of `PUT /v1/site/thresholds`).
    /// Read as JSON first, so that a bound is checked on the number sent, before it is
    /// rounded to the scores' precision (1.0100000000000002 is over 1.01).
    #[serde(default)]
    #[schema(value_type = Option<Thresholds>)]
    pub thresholds: Option<serde_json::Value>,
    /// A model version to try instead of the one scoring now.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub model: Option<String>,
    /// Comments created from this day (`YYYY-MM-DD`, UTC) or time (RFC 3339); by default 30
    /// days before `to`.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub from: Option<String>,
    /// Comments created up to this day (whole day included) or time; by default now. At most
    /// 365 days after `from`.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    /// Comments scored so far.
    pub done: i64,
    /// Comments in the period.
    pub total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BacktestResponse {
    pub id: i64,
    /// `queued`, `running`, `done`, `cancelled` or `failed`.
    pub status: String,
    pub progress: Progress,
    /// The period: comments created from `from` (inclusive) to `to` (exclusive).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// What the backtest tries (absent: the site's setting of today).
    pub rules: Option<String>,
    pub thresholds: Option<Thresholds>,
    pub model: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why a failed job failed.
    pub error: Option<String>,
    /// Once `done`: outcomes before and after the change (`before`, `after`, `changed`,
    /// `newly_held`, `newly_published`, `newly_rejected`), precision and recall against
    /// moderators' decisions (`human`, `by_language`, `by_category`) and up to 50 `examples` of
    /// each difference with the new explanation.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BacktestList {
    /// The site's 100 most recent backtests, newest first (without their results and rules).
    pub items: Vec<BacktestResponse>,
}

/// The API's view of a backtest job (`full`: with its rules and result).
fn response(r: BacktestRecord, full: bool) -> BacktestResponse {
    let params: Option<Params> = serde_json::from_str(&r.params).ok();
    let result = full
        .then(|| {
            r.result
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
        })
        .flatten();
    let (from, to) = params
        .as_ref()
        .map(|p| (p.from, p.until))
        .unwrap_or((r.created_at, r.created_at));
    BacktestResponse {
        id: r.id.0,
        status: r.status.to_string(),
        progress: Progress {
            done: r.progress_done,
            total: r.progress_total,
        },
        from: utc(from),
        to: utc(to),
        rules: params
            .as_ref()
            .and_then(|p| p.rules.clone())
            .filter(|_| full),
        thresholds: params.as_ref().and_then(|p| p.thresholds),
        model: params.and_then(|p| p.model),
        created_by: r.created_by,
        created_at: utc(r.created_at),
        started_at: r.started_at.map(utc),
        finished_at: r.finished_at.map(utc),
        error: r.error,
        result,
    }
}

/// Queue a backtest (admin): how the site's comments of a period would have fared under another
/// rule set, other thresholds or another model, compared with what happened and with what
/// moderators decided. It runs in the background and never changes a comment.
#[utoipa::path(post, path = "/v1/backtests", tag = "site", security(("bearer" = ["admin"])),
    request_body = BacktestRequest,
    responses((status = 202, description = "queued; follow it at `/v1/backtests/{id}`", body = BacktestResponse),
        (status = 404, description = "`words.change` names a word list the site's rules have not got (as saving the change would)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "a backtest of the site is already queued or running, or `words.add` takes an id the site's rules already have", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a rule set that does not compile (line and reason), invalid thresholds, an unknown model version, a period that is reversed, longer than 365 days or holds no comment", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/backtests")]
#[tracing::instrument(name = "create_backtest", skip_all, fields(key_id = caller.key_id.0))]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<BacktestRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (from, until) = requested_period(&request)?;
    let (rules_source, rules) =
        tried_rules(&state, caller.site_id, request.rules, request.words).await?;
    let thresholds = request
        .thresholds
        .as_ref()
        .filter(|t| !t.is_null())
        .map(thresholds_of)
        .transpose()?;
    let params = Params {
        rules: rules_source,
        thresholds,
        model: request.model,
        from,
        until,
    };
    let (job, setup) = queue(&state, &caller, params, rules).await?;
    backtest::spawn(state.pool.clone(), job.id, setup)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot start the backtest: {e}")))?;
    tracing::info!(backtest = job.id.0, "backtest queued");
    Ok(HttpResponse::Accepted()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/backtests/{}", job.id),
        ))
        .json(response(job, true)))
}

/// The period of a request (`from`, `to`; their defaults), as [`backtest::period`] bounds it.
fn requested_period(request: &BacktestRequest) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
    for (field, value) in [("from", &request.from), ("to", &request.to)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_DATE_CHARS)
        {
            return Err(ValidationError::new(field, "must be a day or an RFC 3339 time").into());
        }
    }
    let bounds = super::datasets::period(request.from.as_deref(), request.to.as_deref())?;
    Ok(backtest::period(bounds.from, bounds.until, store::now())?)
}

/// The rule set a request tries, as sent (`rules`, or the site's with the `words` edit) and
/// compiled; `None` for the site's own.
async fn tried_rules(
    state: &AppState,
    site: SiteId,
    rules: Option<String>,
    words: Option<super::words::TriedEdit>,
) -> Result<(Option<String>, Option<Arc<RuleSet>>), ApiError> {
    let rules_source = match (rules, words) {
        (Some(_), Some(_)) => {
            return Err(ValidationError::new("words", "give `rules` or `words`, not both").into())
        }
        (None, Some(edit)) => Some(super::words::tried_rules(state, site, edit).await?),
        (rules, None) => rules,
    };
    let rules = match &rules_source {
        Some(source) if source.chars().count() > MAX_RULES_CHARS || source.contains('\0') => {
            return Err(ValidationError::new(
                "rules",
                format!("must be at most {MAX_RULES_CHARS} characters of text"),
            )
            .into())
        }
        Some(source) => Some(backtest::compile_rules(source)?),
        None => None,
    };
    Ok((rules_source, rules))
}

/// Queues the backtest of `params` for the caller's site and prepares what its run scores
/// with; refused when the period holds no comment, the model is unknown, or a backtest of the
/// site is already queued or running.
async fn queue(
    state: &AppState,
    caller: &Caller,
    params: Params,
    rules: Option<Arc<RuleSet>>,
) -> Result<(BacktestRecord, Setup), ApiError> {
    let json = serde_json::to_string(&params).map_err(|e| ApiError::Internal(e.into()))?;
    let site = caller.site_id;
    let by = caller.name.clone();
    let judge = state.judge.clone();
    let model_dir = std::path::PathBuf::from(&state.settings.model_dir);
    let version = params.model.clone();
    let (from, until) = (params.from, params.until);
    let repeat_window = chrono::Duration::seconds(state.settings.repeat_window_secs.max(0));
    store::run(&state.pool, move |conn| {
        let record = store::sites::by_id(conn, site)?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("key without site")))?;
        if store::backtests::count_in_period(conn, site, from, until)? == 0 {
            return Ok(Err(ValidationError::new(
                "from",
                "the period holds no comment of the site",
            )
            .into()));
        }
        let scorer = match backtest::resolve_backtest_model(
            &judge,
            conn,
            site,
            &model_dir,
            version.as_deref(),
        )? {
            Ok(scorer) => scorer,
            Err(e) => return Ok(Err(e.into())),
        };
        let change = Change {
            rules,
            thresholds: params.thresholds,
            scorer,
        };
        let setup = Setup::new(conn, &judge, &record, change, repeat_window, (from, until))?;
        let stale = store::now() - backtest::STALE_AFTER;
        Ok(match store::backtests::create(conn, site, &json, &by, stale)? {
            Some(job) => Ok((job, setup)),
            None => Err(ApiError::Conflict(
                "a backtest of this site is already queued or running; wait for it or cancel it"
                    .into(),
            )),
        })
    })
    .await?
}

/// Thresholds from a request, each bound checked on the number as sent (422 naming
/// `thresholds.<category>`), then as `PUT /v1/site/thresholds` checks them.
fn thresholds_of(value: &serde_json::Value) -> Result<Thresholds, ValidationError> {
    for category in ["toxicity", "spam"] {
        for step in ["review", "reject"] {
            let bound = value.get(category).and_then(|c| c.get(step));
            if bound
                .and_then(serde_json::Value::as_f64)
                .is_some_and(|b| !(0.0..=1.01).contains(&b))
            {
                return Err(ValidationError::new(
                    format!("thresholds.{category}"),
                    "review and reject are between 0 and 1 (above 1: off), review ≤ reject",
                ));
            }
        }
    }
    let t: Thresholds = serde_json::from_value(value.clone())
        .map_err(|e| ValidationError::new("thresholds", e.to_string()))?;
    super::rules::check_thresholds(&t, "thresholds.")?;
    Ok(t)
}

/// A backtest of the site (admin): its status and progress, then its result.
#[utoipa::path(get, path = "/v1/backtests/{id}", tag = "site", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = BacktestResponse)))]
#[get("/v1/backtests/{id}")]
pub async fn get_one(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (site, id) = (caller.site_id, BacktestId(id.into_inner()));
    let job = store::run(&state.pool, move |conn| {
        store::backtests::get(conn, site, id)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("backtest {id}")))?;
    Ok(HttpResponse::Ok().json(response(job, true)))
}

/// The site's backtests (admin), newest first.
#[utoipa::path(get, path = "/v1/backtests", tag = "site", security(("bearer" = ["admin"])),
    responses((status = 200, body = BacktestList)))]
#[get("/v1/backtests")]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site = caller.site_id;
    let jobs = store::run(&state.pool, move |conn| store::backtests::list(conn, site)).await?;
    Ok(HttpResponse::Ok().json(BacktestList {
        items: jobs.into_iter().map(|j| response(j, false)).collect(),
    }))
}

/// Cancel a queued or running backtest (admin): it stops before its next batch. A backtest
/// that has ended is answered 409.
#[utoipa::path(delete, path = "/v1/backtests/{id}", tag = "site", security(("bearer" = ["admin"])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "cancelled", body = BacktestResponse),
        (status = 409, description = "the backtest has already ended", body = crate::error::Problem, content_type = "application/problem+json")))]
#[delete("/v1/backtests/{id}")]
#[tracing::instrument(name = "cancel_backtest", skip_all, fields(key_id = caller.key_id.0))]
pub async fn cancel(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (site, id) = (caller.site_id, BacktestId(id.into_inner()));
    let job = store::run(&state.pool, move |conn| {
        store::backtests::cancel(conn, site, id)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("backtest {id}")))?;
    if job.status != store::backtests::BacktestStatus::Cancelled {
        return Err(ApiError::Conflict(format!(
            "backtest {id} has already ended ({})",
            job.status
        )));
    }
    Ok(HttpResponse::Ok().json(response(job, true)))
}
