//! "Signaler un abus": reports, their receipts and outcomes.

use super::utc;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::dsa::ReportSource;
use crate::domain::intake::{ValidationError, MAX_EMAIL_CHARS, MAX_ID_CHARS, MAX_NAME_CHARS};
use crate::domain::{CommentId, ReasonCode, Role};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::reports::{ReportError, ReportInput, ReportOutcome};
use crate::store::{self};

/// Longest report, appeal or reply text.
pub const MAX_TEXT_CHARS: usize = 2000;

const MAX_SHORT_CHARS: usize = 500;

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

/// The receipt a reader is shown for report `reference`, in French and English.
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

/// Who reports, validated: the reporter's id, name and (lower-cased) email.
struct Reporter {
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

/// How a reader's IP is known, hashed: the rate-limit key, the stored hash, the network's hash.
#[derive(Default)]
struct IpHashes {
    /// Identifies the reader for rate limits and as a last-resort reporter identity (a keyed
    /// hash, never stored as such).
    key: Option<String>,
    /// What is stored, per `ip_storage`.
    stored: Option<String>,
    /// Groups readers of one network (/24, /48, or one site-made hash) so they count once
    /// toward hiding; kept no longer than `stored`, and not at all with `ip_storage = "none"`.
    network: Option<String>,
}

impl ReportRequest {
    /// The report as the store takes it: texts checked, an `illegal` report's notice
    /// complete, the reporter identified, every identity keyed-hashed.
    fn validate(self, state: &AppState) -> Result<ReportInput, ApiError> {
        let text = super::optional_text("text", self.text, MAX_TEXT_CHARS)?;
        let legal_ground =
            super::optional_text("legal_ground", self.legal_ground, MAX_SHORT_CHARS)?;
        let explanation = super::optional_text("explanation", self.explanation, MAX_TEXT_CHARS)?;
        let good_faith = self.good_faith.unwrap_or(false);
        if self.category == ReasonCode::Illegal {
            illegal_notice(&explanation, &legal_ground, good_faith)?;
        }
        let reporter = reporter(self.reporter)?;
        let ip = ip_hashes(state, self.ip, self.ip_hash)?;
        let has_ip = ip.key.is_some();
        let identity_hash = match (&reporter.id, &reporter.email, &ip.key) {
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
            reporter_name: reporter.name,
            reporter_email_hash: reporter.email.map(|e| state.keyed_hash("email", &e)),
            ip_hash: ip.stored,
            network_hash: ip.network,
            has_ip,
            legal_ground,
            explanation,
            good_faith,
        })
    }
}

/// An `illegal` report is a notice (DSA Art. 16): it explains why, names the law or ground, and
/// carries the reader's good-faith statement.
fn illegal_notice(
    explanation: &Option<String>,
    legal_ground: &Option<String>,
    good_faith: bool,
) -> Result<(), ValidationError> {
    if explanation.is_none() {
        return Err(ValidationError::new(
            "explanation",
            "an `illegal` report must explain why the content is illegal",
        ));
    }
    if legal_ground.is_none() {
        return Err(ValidationError::new(
            "legal_ground",
            "an `illegal` report must name the law or ground invoked",
        ));
    }
    if !good_faith {
        return Err(ValidationError::new(
            "good_faith",
            "an `illegal` report needs the reader's good-faith statement",
        ));
    }
    Ok(())
}

/// The `reporter` object's fields, checked; the email must look like one.
fn reporter(reporter: Option<ReporterRequest>) -> Result<Reporter, ApiError> {
    let reporter = reporter.unwrap_or(ReporterRequest {
        id: None,
        name: None,
        email: None,
    });
    let id = super::optional_text("reporter.id", reporter.id, MAX_ID_CHARS)?;
    let name = super::optional_text("reporter.name", reporter.name, MAX_NAME_CHARS)?;
    let email = match super::optional_text("reporter.email", reporter.email, MAX_EMAIL_CHARS)? {
        Some(e) if e.contains('@') && !e.contains(char::is_whitespace) => Some(e.to_lowercase()),
        Some(_) => {
            return Err(ValidationError::new("reporter.email", "must be an email address").into())
        }
        None => None,
    };
    Ok(Reporter { id, name, email })
}

/// The hashes of the reader's `ip` (an address) or, without one, of the site's `ip_hash`.
fn ip_hashes(
    state: &AppState,
    ip: Option<String>,
    ip_hash: Option<String>,
) -> Result<IpHashes, ApiError> {
    let ip_hash = super::optional_text("ip_hash", ip_hash, MAX_ID_CHARS)?;
    Ok(match (ip, ip_hash) {
        (Some(ip), _) => {
            let ip: std::net::IpAddr = ip
                .trim()
                .parse()
                .map_err(|_| ValidationError::new("ip", "must be an IPv4 or IPv6 address"))?;
            let stored = state.ip_token(ip);
            let network = stored
                .as_ref()
                .map(|_| state.keyed_hash("ip-network", &crate::secrets::truncate_ip(ip)));
            IpHashes {
                key: Some(state.keyed_hash("ip", &ip.to_string())),
                stored,
                network,
            }
        }
        (None, Some(h)) => {
            let h = state.keyed_hash("ip-hash", &h);
            IpHashes {
                key: Some(h.clone()),
                stored: Some(h.clone()),
                network: Some(h),
            }
        }
        (None, None) => IpHashes::default(),
    })
}

/// Report a comment ("Signaler un abus"). 201 with a tracking reference and receipt text; the
/// same reporter reporting the same comment again gets 200 and the same report.
#[utoipa::path(post, path = "/v1/comments/{id}/reports", tag = "reports", security(("bearer" = ["ingest", "admin"])),
    params(("id" = i64, Path, minimum = 1)), request_body = ReportRequest,
    responses((status = 201, body = ReportReceipt), (status = 200, body = ReportReceipt),
        (status = 429, description = "too many reports; see Retry-After", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/comments/{id}/reports")]
#[tracing::instrument(name = "report", skip_all, fields(key_id = caller.key_id.0, comment_id = %id))]
pub async fn submit_report(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    ApiJson(request): ApiJson<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Ingest])?;
    let input = request.validate(&state)?;
    let id = CommentId(id.into_inner());
    let site = caller.site_id;
    let limits = state.settings.report_limits();
    let outcome = store::run(&state.pool, move |conn| {
        Ok(store::reports::submit(conn, site, id, &input, &limits))
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
            tracing::info!(report = report.id.0, category = %report.category, weight = report.weight, brigading = report.brigading, hidden, escalated, "report received");
            (report, true)
        }
        ReportOutcome::Existing(report) => (report, false),
    };
    let body = ReportReceipt {
        id: report.id.0,
        receipt: receipt(&report.reference),
        reference: report.reference,
        status: report.status.to_string(),
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
        store::reports::by_reference(conn, site, &wanted)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("report `{reference}`")))?;
    use crate::domain::ReportStatus as Status;
    let outcome = match report.status {
        Status::Upheld if restored => Some(Receipt {
            fr: "Après examen, le commentaire signalé a été retiré, puis rétabli à la suite d'un \
                 recours de son auteur."
                .into(),
            en: "After review, the reported comment was removed, then restored on its author's \
                 appeal."
                .into(),
        }),
        Status::Upheld => Some(Receipt {
            fr: "Après examen, le commentaire signalé a été retiré.".into(),
            en: "After review, the reported comment was removed.".into(),
        }),
        Status::Dismissed => Some(Receipt {
            fr: "Après examen, le commentaire signalé a été maintenu. Vous pouvez contester cette décision.".into(),
            en: "After review, the reported comment was kept. You may appeal this decision.".into(),
        }),
        Status::Open => None,
    };
    Ok(HttpResponse::Ok().json(ReportStatus {
        reference: report.reference,
        status: report.status.to_string(),
        restored_after_appeal: restored,
        category: report.category,
        created_at: utc(report.created_at),
        decided_at: report.outcome_at.map(utc),
        outcome,
    }))
}
