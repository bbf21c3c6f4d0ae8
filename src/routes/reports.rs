//! "Signaler un abus": reports, their receipts and outcomes, statements of reasons, appeals,
//! and the DSA transparency figures.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::domain::dsa::ReportSource;
use crate::domain::intake::ValidationError;
use crate::domain::{ReasonCode, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::moderation::Actor;
use crate::store::reports::{
    self as r, AppealDecisionError, AppealError, Appellant, ReportError, ReportInput, ReportOutcome,
};
use crate::store::{self, now};

/// Longest report, appeal or reply text.
pub const MAX_TEXT_CHARS: usize = 2000;
const MAX_SHORT_CHARS: usize = 500;

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReporterRequest {
    /// The site's id of the reader, when signed in.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    pub name: Option<String>,
    /// Stored only as a keyed hash.
    #[serde(default)]
    #[schema(max_length = 254, pattern = r"^\s*(?:[^\s\x00]*@[^\s\x00]*)?\s*$")]
    pub email: Option<String>,
}

/// A reader's report, forwarded by the site's backend.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportRequest {
    /// One of Vigie's reason codes.
    pub category: ReasonCode,
    /// What the reader wrote, at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub text: Option<String>,
    /// Who reports: a report names the reporter's `id` or `email`, or gives the reader's `ip` or
    /// `ip_hash` (at least one of the four).
    #[serde(default, deserialize_with = "crate::extract::optional_object")]
    pub reporter: Option<ReporterRequest>,
    /// The reader's IP (hashed at once, used only for rate limits) …
    #[serde(default)]
    #[schema(
        pattern = r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$|^(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$"
    )]
    pub ip: Option<String>,
    /// … or a hash of it computed by the site.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub ip_hash: Option<String>,
    /// `reader` (default), `trusted_flagger` or `authority`.
    #[serde(default)]
    pub source: Option<ReportSource>,
    /// For `illegal`: the law or ground invoked (DSA Art. 16).
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub legal_ground: Option<String>,
    /// For `illegal`: why the content is illegal.
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub explanation: Option<String>,
    /// For `illegal`: the reader's statement that the notice is accurate and made in good faith.
    #[serde(default)]
    pub good_faith: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    pub fr: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportReceipt {
    pub id: i64,
    /// The tracking reference to give the reader (`VIG-2026-000123`).
    pub reference: String,
    pub status: String,
    pub category: String,
    pub created_at: DateTime<Utc>,
    /// Text the site can show the reader.
    pub receipt: Receipt,
}

fn receipt(reference: &str) -> Receipt {
    Receipt {
        fr: format!(
            "Votre signalement a bien été reçu sous la référence {reference}. L'équipe de \
             modération va l'examiner ; vous pourrez suivre la décision avec cette référence."
        ),
        en: format!(
            "Your report has been received under reference {reference}. The moderation team \
             will review it; you can follow the decision with this reference."
        ),
    }
}

impl ReportRequest {
    fn validate(self, state: &AppState) -> Result<ReportInput, ApiError> {
        let text = super::optional_text("text", self.text, MAX_TEXT_CHARS)?;
        let legal_ground =
            super::optional_text("legal_ground", self.legal_ground, MAX_SHORT_CHARS)?;
        let explanation = super::optional_text("explanation", self.explanation, MAX_TEXT_CHARS)?;
        let good_faith = self.good_faith.unwrap_or(false);
        if self.category == ReasonCode::Illegal {
            if explanation.is_none() {
                return Err(ValidationError::new(
                    "explanation",
                    "an `illegal` report must explain why the content is illegal",
                )
                .into());
            }
            if legal_ground.is_none() {
                return Err(ValidationError::new(
                    "legal_ground",
                    "an `illegal` report must name the law or ground invoked",
                )
                .into());
            }
            if !good_faith {
                return Err(ValidationError::new(
                    "good_faith",
                    "an `illegal` report needs the reader's good-faith statement",
                )
                .into());
            }
        }
        let reporter = self.reporter.unwrap_or(ReporterRequest {
            id: None,
            name: None,
            email: None,
        });
        let reporter_id = super::optional_text("reporter.id", reporter.id, 200)?;
        let name = super::optional_text("reporter.name", reporter.name, 100)?;
        let email = match super::optional_text("reporter.email", reporter.email, 254)? {
            Some(e) if e.contains('@') && !e.contains(char::is_whitespace) => {
                Some(e.to_lowercase())
            }
            Some(_) => {
                return Err(
                    ValidationError::new("reporter.email", "must be an email address").into(),
                )
            }
            None => None,
        };
        // `ip_key` identifies the reader for rate limits and as a last-resort reporter
        // identity (a keyed hash, never stored as such); `ip_hash` is what is stored, per
        // `ip_storage`.
        // `network_hash` groups readers of one network (/24, /48, or one site-made hash) so
        // they count once toward hiding; it is kept no longer than `ip_hash`, and not at all
        // with `ip_storage = "none"`.
        let (ip_key, ip_hash, network_hash) =
            match (self.ip, super::optional_text("ip_hash", self.ip_hash, 200)?) {
                (Some(ip), _) => {
                    let ip: std::net::IpAddr = ip.trim().parse().map_err(|_| {
                        ValidationError::new("ip", "must be an IPv4 or IPv6 address")
                    })?;
                    let token = state.ip_token(ip);
                    let network = token
                        .as_ref()
                        .map(|_| state.keyed_hash("ip-network", &crate::state::truncate_ip(ip)));
                    (
                        Some(state.keyed_hash("ip", &ip.to_string())),
                        token,
                        network,
                    )
                }
                (None, Some(h)) => {
                    let h = state.keyed_hash("ip-hash", &h);
                    (Some(h.clone()), Some(h.clone()), Some(h))
                }
                (None, None) => (None, None, None),
            };
        let has_ip = ip_key.is_some();
        let identity_hash = match (&reporter_id, &email, &ip_key) {
            (Some(id), _, _) => state.keyed_hash("reporter", id),
            (None, Some(e), _) => state.keyed_hash("reporter-email", e),
            (None, None, Some(h)) => state.keyed_hash("reporter-ip", h),
            _ => {
                return Err(ValidationError::new(
                    "reporter",
                    "give the reporter's id or email, or the reader's ip or ip_hash",
                )
                .into())
            }
        };
        Ok(ReportInput {
            category: self.category,
            source: self.source.unwrap_or(ReportSource::Reader),
            text,
            identity_hash,
            reporter_name: name,
            reporter_email_hash: email.map(|e| state.keyed_hash("email", &e)),
            ip_hash,
            network_hash,
            has_ip,
            legal_ground,
            explanation,
            good_faith,
        })
    }
}

/// Report a comment ("Signaler un abus"). 201 with a tracking reference and receipt text; the
/// same reporter reporting the same comment again gets 200 and the same report.
#[utoipa::path(post, path = "/v1/comments/{id}/reports", tag = "reports", security(("bearer" = ["ingest", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = ReportRequest,
    responses((status = 201, body = ReportReceipt), (status = 200, body = ReportReceipt),
        (status = 429, description = "too many reports; see Retry-After", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/comments/{id}/reports")]
#[tracing::instrument(name = "report", skip_all, fields(key_id = caller.key_id, comment_id = %id))]
pub async fn submit_report(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let input = request.validate(&state)?;
    let id = id.into_inner();
    let site = caller.site_id;
    let limits = state.settings.report_limits();
    let outcome = store::run(&state.pool, move |conn| {
        Ok(r::submit(conn, site, id, &input, &limits))
    })
    .await?
    .map_err(|e| match e {
        ReportError::NotFound => ApiError::NotFound(format!("comment {id}")),
        ReportError::RateLimited { retry_after } => ApiError::TooManyRequests { retry_after },
        ReportError::Db(e) => store::StoreError::from(e).into(),
        ReportError::Store(e) => e.into(),
    })?;
    let (report, created) = match outcome {
        ReportOutcome::Created {
            report,
            hidden,
            escalated,
        } => {
            tracing::info!(report = report.id, category = %report.category, weight = report.weight, brigading = report.brigading, hidden, escalated, "report received");
            (report, true)
        }
        ReportOutcome::Existing(report) => (report, false),
    };
    let body = ReportReceipt {
        id: report.id,
        receipt: receipt(&report.reference),
        reference: report.reference,
        status: report.status,
        category: report.category,
        created_at: utc(report.created_at),
    };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportStatus {
    pub reference: String,
    /// `open`, `upheld` (the comment was removed) or `dismissed` (it stays).
    pub status: String,
    /// The removed comment was restored since, on its author's appeal (`status` stays
    /// `upheld`: the report was, then the decision was reversed).
    pub restored_after_appeal: bool,
    pub category: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// What the reader is told.
    pub outcome: Option<Receipt>,
}

/// What became of a report, for the reader who filed it (no moderator identity).
#[utoipa::path(get, path = "/v1/reports/{reference}", tag = "reports", security(("bearer" = [])),
    params(("reference" = String, Path, min_length = 1)),
    responses((status = 200, body = ReportStatus)))]
#[get("/v1/reports/{reference}")]
pub async fn report_status(
    caller: Caller,
    state: web::Data<AppState>,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = reference.into_inner();
    let site = caller.site_id;
    let wanted = reference.clone();
    let (report, restored) = store::run(&state.pool, move |conn| {
        r::by_reference(conn, site, &wanted)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("report `{reference}`")))?;
    let outcome = match report.status.as_str() {
        "upheld" if restored => Some(Receipt {
            fr: "Après examen, le commentaire signalé a été retiré, puis rétabli à la suite d'un \
                 recours de son auteur."
                .into(),
            en: "After review, the reported comment was removed, then restored on its author's \
                 appeal."
                .into(),
        }),
        "upheld" => Some(Receipt {
            fr: "Après examen, le commentaire signalé a été retiré.".into(),
            en: "After review, the reported comment was removed.".into(),
        }),
        "dismissed" => Some(Receipt {
            fr: "Après examen, le commentaire signalé a été maintenu. Vous pouvez contester cette décision.".into(),
            en: "After review, the reported comment was kept. You may appeal this decision.".into(),
        }),
        _ => None,
    };
    Ok(HttpResponse::Ok().json(ReportStatus {
        reference: report.reference,
        status: report.status,
        restored_after_appeal: restored,
        category: report.category,
        created_at: utc(report.created_at),
        decided_at: report.outcome_at.map(utc),
        outcome,
    }))
}

/// The latest statement of reasons for a restriction of this comment (DSA Art. 17).
#[utoipa::path(get, path = "/v1/comments/{id}/statement", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Transparency Database fields", body = Object)))]
#[get("/v1/comments/{id}/statement")]
pub async fn statement(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let site = caller.site_id;
    let s = store::run(&state.pool, move |conn| r::latest_statement(conn, site, id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("statement of reasons for comment {id}")))?;
    let body: serde_json::Value =
        serde_json::from_str(&s.body).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// Start (RFC 3339 or YYYY-MM-DD), inclusive.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// End: an RFC 3339 time, exclusive, or a date (YYYY-MM-DD), whose whole day is included.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// `json` (default) or `csv` (transparency only).
    #[param(inline, value_type = Option<crate::openapi::values::FiguresFormat>)]
    pub format: Option<String>,
}

/// The exclusive end of a period: a time as given, or for a date the midnight after it (so that
/// `to=2026-12-31` counts the 31st).
fn period_end(value: &str) -> Result<NaiveDateTime, ApiError> {
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => day
            .succ_opt()
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .ok_or_else(|| ValidationError::new("to", "is past the last supported date").into()),
        Err(_) => super::moderation::parse_time("to", value),
    }
}

fn period(q: &PeriodQuery) -> Result<(NaiveDateTime, NaiveDateTime), ApiError> {
    let parse = super::moderation::parse_time;
    let from = q
        .from
        .as_deref()
        .map(|v| parse("from", v))
        .transpose()?
        .unwrap_or_default();
    let to = match q.to.as_deref() {
        Some(v) => period_end(v)?,
        None => now() + chrono::Duration::seconds(1),
    };
    if from >= to {
        return Err(ValidationError::new("to", "must be after `from`").into());
    }
    Ok((from, to))
}

/// Every statement of reasons of the period, as JSON lines in the Transparency Database shape
/// (no personal data), for submission to the Commission's database (admin).
#[utoipa::path(get, path = "/v1/statements", tag = "reports", security(("bearer" = ["admin"])),
    params(
        ("from" = Option<String>, Query, format = DateTime, description = "Start (RFC 3339 or YYYY-MM-DD), inclusive."),
        ("to" = Option<String>, Query, format = DateTime, description = "End, exclusive (RFC 3339 or YYYY-MM-DD), after `from`."),
    ),
    responses((status = 200, description = "one statement of reasons per line (JSON lines)", body = String,
        content_type = "application/x-ndjson")))]
#[get("/v1/statements")]
pub async fn statements(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (from, to) = period(&query)?;
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        r::statements_between(conn, site, Some(from), Some(to))
    })
    .await?;
    let mut out = String::new();
    for s in rows {
        out.push_str(&s.body);
        out.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .body(out))
}

// ---------------------------------------------------------------------------------------------
// Appeals

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealRequest {
    /// The author appealing, by the site's author id …
    #[serde(default)]
    pub author_id: Option<String>,
    /// … or the reference of a dismissed report, for the reporter appealing (exactly one of
    /// the two).
    #[serde(default)]
    pub report_reference: Option<String>,
    /// Not blank, at most 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealResponse {
    pub id: i64,
    pub comment_id: i64,
    pub decision_id: i64,
    /// `open`, `upheld` (the decision stands) or `reversed`.
    pub status: String,
    pub text: String,
    pub reply: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<crate::store::records::AppealRecord> for AppealResponse {
    fn from(a: crate::store::records::AppealRecord) -> Self {
        AppealResponse {
            id: a.id,
            comment_id: a.comment_id,
            decision_id: a.decision_id,
            status: a.status,
            text: a.text,
            reply: a.reply,
            created_at: utc(a.created_at),
            decided_at: a.decided_at.map(utc),
        }
    }
}

/// Appeal a decision: by the comment's author (against a rejection or hiding) or by a reporter
/// whose report was dismissed. Open for `appeal_window_days` (at least six months).
#[utoipa::path(post, path = "/v1/comments/{id}/appeals", tag = "reports", security(("bearer" = ["ingest", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = AppealRequest,
    responses((status = 201, body = AppealResponse),
        (status = 403, description = "neither the author nor a dismissed reporter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "already appealed, or nothing to appeal", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "text too long or window closed", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/comments/{id}/appeals")]
#[tracing::instrument(name = "appeal", skip_all, fields(key_id = caller.key_id, comment_id = %id))]
pub async fn submit_appeal(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<AppealRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let text = super::optional_text("text", Some(request.text), MAX_TEXT_CHARS)?
        .ok_or_else(|| ValidationError::new("text", "must not be empty"))?;
    let who = match (request.author_id, request.report_reference) {
        (Some(a), None) => Appellant::Author(a),
        (None, Some(r)) => Appellant::Reporter(r),
        _ => {
            return Err(ValidationError::new(
                "author_id",
                "give exactly one of `author_id` or `report_reference`",
            )
            .into())
        }
    };
    let id = id.into_inner();
    let site = caller.site_id;
    let window = state.settings.appeal_window_days;
    let appeal = store::run(&state.pool, move |conn| {
        Ok(r::appeal(conn, site, id, &who, &text, window))
    })
    .await?
    .map_err(|e| match e {
        AppealError::NotFound => ApiError::NotFound(format!("comment {id}")),
        AppealError::NotEntitled(_) => ApiError::Forbidden(e.to_string()),
        AppealError::NothingToAppeal(_) | AppealError::AlreadyAppealed => {
            ApiError::Conflict(e.to_string())
        }
        AppealError::WindowClosed(_) => {
            ApiError::Validation(ValidationError::new("decision", e.to_string()))
        }
        AppealError::Db(e) => store::StoreError::from(e).into(),
        AppealError::Store(e) => e.into(),
    })?;
    tracing::info!(appeal = appeal.id, "appeal received");
    Ok(HttpResponse::Created().json(AppealResponse::from(appeal)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AppealsQuery {
    /// `open` (default), `upheld` or `reversed`.
    #[param(inline, value_type = Option<crate::openapi::values::AppealStatus>)]
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppealItem {
    pub appeal: AppealResponse,
    /// `author` or `reporter`.
    pub appellant: String,
    pub comment_body: String,
    pub comment_status: String,
    pub decision_action: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: String,
    pub decision_at: DateTime<Utc>,
}

/// The appeals queue.
#[utoipa::path(get, path = "/v1/appeals", tag = "reports", security(("bearer" = ["moderator", "admin"])),
    params(AppealsQuery),
    responses((status = 200, body = Vec<AppealItem>)))]
#[get("/v1/appeals")]
pub async fn appeals(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AppealsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    let status = query.into_inner().status.unwrap_or_else(|| "open".into());
    if !matches!(status.as_str(), "open" | "upheld" | "reversed") {
        return Err(ApiError::BadRequest(format!(
            "unknown appeal status `{status}`"
        )));
    }
    let site = caller.site_id;
    let rows = store::run(&state.pool, move |conn| {
        r::open_appeals(conn, site, &status, 200)
    })
    .await?;
    let items: Vec<AppealItem> = rows
        .into_iter()
        .map(|(a, c, d)| AppealItem {
            appellant: if a.report_id.is_some() {
                "reporter".into()
            } else {
                "author".into()
            },
            comment_body: c.body,
            comment_status: c.status,
            decision_action: d.action,
            decision_reason: d.reason,
            decided_by: d.actor,
            decision_at: utc(d.created_at),
            appeal: AppealResponse::from(a),
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AppealDecisionRequest {
    /// `uphold` (the decision stands) or `reverse`.
    #[schema(inline, value_type = crate::openapi::values::AppealOutcome)]
    pub outcome: String,
    /// The reasoned reply to the appellant: not blank, at most 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub reply: String,
}

/// Decide an appeal (a human, other than the one who took the decision).
#[utoipa::path(post, path = "/v1/appeals/{id}/decision", tag = "reports", security(("bearer" = ["moderator", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = AppealDecisionRequest,
    responses((status = 200, body = AppealResponse),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/appeals/{id}/decision")]
#[tracing::instrument(name = "decide_appeal", skip_all, fields(key_id = caller.key_id, appeal = %id))]
pub async fn decide_appeal(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<AppealDecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Moderator])?;
    let reverse = match request.outcome.as_str() {
        "uphold" => false,
        "reverse" => true,
        _ => return Err(ValidationError::new("outcome", "must be `uphold` or `reverse`").into()),
    };
    let reply =
        super::optional_text("reply", Some(request.reply), MAX_TEXT_CHARS)?.ok_or_else(|| {
            ValidationError::new("reply", "an appeal decision needs a reasoned reply")
        })?;
    let actor = Actor {
        key_id: caller.key_id,
        name: caller.name.clone(),
        is_admin: caller.role == Role::Admin,
    };
    let id = id.into_inner();
    let site = caller.site_id;
    let appeal = store::run(&state.pool, move |conn| {
        Ok(r::decide_appeal(conn, site, id, &actor, reverse, &reply))
    })
    .await?
    .map_err(|e| match e {
        AppealDecisionError::NotFound => ApiError::NotFound(format!("appeal {id}")),
        AppealDecisionError::AlreadyDecided(_) => ApiError::Conflict(e.to_string()),
        AppealDecisionError::SameModerator => ApiError::Forbidden(e.to_string()),
        AppealDecisionError::Decide(d) => ApiError::Conflict(d.to_string()),
        AppealDecisionError::Db(e) => store::StoreError::from(e).into(),
    })?;
    tracing::info!(status = %appeal.status, "appeal decided");
    Ok(HttpResponse::Ok().json(AppealResponse::from(appeal)))
}

// ---------------------------------------------------------------------------------------------
// Transparency (DSA Art. 15)

/// The transparency figures of a period (JSON, or CSV with `format=csv`), admin only.
#[utoipa::path(get, path = "/v1/transparency", tag = "reports", security(("bearer" = ["admin"])),
    params(PeriodQuery),
    responses((status = 200, description = "the figures, as JSON or (`format=csv`) CSV",
        content((crate::transparency::Transparency = "application/json"), (String = "text/csv")))))]
#[get("/v1/transparency")]
pub async fn transparency(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (from, to) = period(&query)?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ValidationError::new(
                "format",
                format!("must be `json` or `csv`, not `{other}`"),
            )
            .into())
        }
    };
    let site = caller.site_id;
    let records = store::run(&state.pool, move |conn| r::period(conn, site, from, to)).await?;
    let figures = crate::transparency::compute(&records, from, to, state.classifier_metrics());
    if csv {
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(figures.to_csv()))
    } else {
        Ok(HttpResponse::Ok().json(figures))
    }
}
