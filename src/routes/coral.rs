//! Coral Talk's external moderation phase (`POST /v1/integrations/coral/moderate`) and its
//! settings (`/v1/integrations/coral`, admin).
//!
//! Coral signs each request with `X-Coral-Signature: sha256=<hex>[,sha256=<hex>…]`, one HMAC
//! of the exact body per active signing secret. The site is the one whose configured secret
//! verifies; the comment is scored and recorded like any intake (queues, reports and figures
//! see it), and the answer is Coral's: a status, a rejection reason and flags, or `{}` ("no
//! opinion") for a comment Vigie lets through or could not judge within the deadline.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::intake::{AuthorRequest, CommentRequest, ThreadRequest, ValidationError};
use crate::domain::wording::{self, ReaderLang};
use crate::domain::{CommentStatus, ReasonCode, Role};
use crate::error::ApiError;
use crate::extract::{parse_json, ApiJson, JsonBytes};
use crate::scoring::{Decision, Verdict};
use crate::state::AppState;
use crate::store::{self, comments as store_comments};

/// The `purpose` Coral secrets are sealed under.
const SEAL_PURPOSE: &str = "coral-secrets";
/// Secrets per site (Coral keeps the old one active while rotating).
const MAX_SECRETS: usize = 5;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 512;
/// Signatures looked at in one header, at most.
const MAX_SIGNATURES: usize = 8;

/// The request Coral sends (unknown fields are ignored, as Coral may add some).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralRequest {
    /// `NEW` or `EDIT`.
    pub action: String,
    pub comment: CoralComment,
    pub author: CoralAuthor,
    pub story: CoralStory,
    pub site: CoralSite,
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    #[serde(rename = "tenantDomain", default)]
    pub tenant_domain: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralComment {
    /// HTML or plain text, per the phase's format setting.
    pub body: String,
    #[serde(rename = "parentID", default)]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralAuthor {
    pub id: String,
    /// `COMMENTER`, `MEMBER`, `STAFF`, `MODERATOR` or `ADMIN`.
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralStory {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralSite {
    pub id: String,
}

/// Vigie's reason code as Coral's rejection code, one to one. Coral's `BANNED_WORD` and `AD`
/// have no Vigie counterpart of their own (Vigie says which word list or rule fired in the
/// explanation); `personal_data` has no Coral code and goes as `OTHER` with a custom reason.
pub fn coral_code(reason: ReasonCode) -> (&'static str, Option<&'static str>) {
    match reason {
        ReasonCode::Spam => ("SPAM", None),
        ReasonCode::Insult => ("HARASSMENT_BULLYING", None),
        ReasonCode::Hate => ("HATE_SPEECH", None),
        ReasonCode::Threat => ("ABUSIVE", None),
        ReasonCode::Obscene => ("OFFENSIVE", None),
        ReasonCode::Illegal => ("ILLEGAL_CONTENT", None),
        ReasonCode::OffTopic => ("IRRELEVANT_CONTENT", None),
        ReasonCode::PersonalData => ("OTHER", Some("personal_data")),
        ReasonCode::Misinformation => ("MISINFORMATION", None),
        ReasonCode::Other => ("OTHER", None),
    }
}

/// Coral's HTML body as the text readers see: tags dropped (block ends as line breaks),
/// entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        let name = name
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(name, "br" | "p" | "div" | "li" | "blockquote") && !out.ends_with('\n') {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    decode_entities(out.trim())
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let semi = after.find(';').filter(|&i| i <= 10);
        let decoded = semi.and_then(|i| {
            let name = &after[1..i];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, i))
        });
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &after[i + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The signatures of an `X-Coral-Signature` header, decoded.
fn signatures(header: &str) -> Vec<Vec<u8>> {
    header
        .split(',')
        .take(MAX_SIGNATURES)
        .filter_map(|part| hex::decode(part.trim().strip_prefix("sha256=")?).ok())
        .collect()
}

fn verifies(secret: &str, body: &[u8], signature: &[u8]) -> bool {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(signature).is_ok() // constant-time comparison
}

/// The site whose Coral secret signed `body`.
async fn signing_site(state: &AppState, body: &[u8], header: &str) -> Result<i64, ApiError> {
    let sigs = signatures(header);
    if sigs.is_empty() {
        return Err(ApiError::BadSignature(
            "X-Coral-Signature must hold sha256=<hex> signatures".into(),
        ));
    }
    let sites = store::run(&state.pool, store::sites::coral_sites).await?;
    for (site_id, sealed) in sites {
        let Some(secrets) = state
            .open(SEAL_PURPOSE, &sealed)
            .and_then(|raw| serde_json::from_slice::<Vec<String>>(&raw).ok())
        else {
            tracing::warn!(
                site_id,
                "Coral secrets cannot be opened with this instance key"
            );
            continue;
        };
        if secrets
            .iter()
            .any(|s| sigs.iter().any(|sig| verifies(s, body, sig)))
        {
            return Ok(site_id);
        }
    }
    Err(ApiError::BadSignature(
        "the signature matches no Coral secret configured in Vigie".into(),
    ))
}

/// Names Coral's fields in validation errors rather than Vigie's intake fields.
fn coral_field(e: ValidationError) -> ValidationError {
    let field = match e.field.as_str() {
        "thread.id" => "story.id".to_owned(),
        "thread.url" => "story.url".to_owned(),
        "body" => "comment.body".to_owned(),
        other => other.to_owned(),
    };
    ValidationError::new(field, e.detail)
}

/// Coral Talk's external moderation phase. Verifies `X-Coral-Signature`, scores and records
/// the comment, and answers in Coral's format: `REJECTED` with a rejection reason, or
/// `SYSTEM_WITHHELD` (held for review) / `PREMOD` with flags, or `{}` (no opinion) when Vigie
/// lets the comment through or cannot answer within `coral_deadline_ms`.
#[utoipa::path(post, path = "/v1/integrations/coral/moderate", tag = "integrations",
    request_body = CoralRequest, security(("coral_signature" = [])),
    responses((status = 200, description = "Coral's moderation answer, or `{}`", body = Object),
        (status = 401, description = "missing or wrong X-Coral-Signature", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/integrations/coral/moderate")]
#[tracing::instrument(name = "coral_moderate", skip_all)]
pub async fn moderate(
    req: HttpRequest,
    state: web::Data<AppState>,
    JsonBytes(body): JsonBytes,
) -> Result<HttpResponse, ApiError> {
    let deadline = std::time::Duration::from_millis(state.settings.coral_deadline_ms);
    let started = std::time::Instant::now();
    let header = req
        .headers()
        .get("x-coral-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadSignature("X-Coral-Signature is missing".into()))?
        .to_owned();
    let site_id = signing_site(&state, &body, &header).await?;
    let request: CoralRequest = parse_json(&body)?;
    if !matches!(request.action.as_str(), "NEW" | "EDIT") {
        return Err(ValidationError::new("action", "must be NEW or EDIT").into());
    }
    let text = html_to_text(&request.comment.body);
    // Coral sends no comment id: the same request (a retry) maps to the same comment.
    let mut h = Sha256::new();
    for part in [
        request.tenant_id.as_str(),
        request.site.id.as_str(),
        request.story.id.as_str(),
        request.author.id.as_str(),
        request.action.as_str(),
        request.comment.parent_id.as_deref().unwrap_or(""),
        request.comment.body.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let external_id = format!("coral:{}", &hex::encode(h.finalize())[..32]);
    let submission = CommentRequest {
        external_id,
        thread: ThreadRequest {
            id: request.story.id,
            url: request.story.url,
            title: None,
        },
        parent_id: None,
        author: AuthorRequest {
            id: request.author.id,
            name: None,
            email: None,
        },
        body: text,
        lang: None,
        client: None,
    }
    .validate(state.settings.max_body_chars)
    .map_err(coral_field)?;
    let remaining = deadline.saturating_sub(started.elapsed());
    // Past the deadline Coral would drop the answer anyway: say "no opinion" in time. The
    // intake runs as a task of its own, so that it completes and is recorded even when the
    // answer goes without it.
    let intake_state = state.clone();
    let intake = actix_web::rt::spawn(async move {
        crate::intake::take_in(&intake_state, site_id, submission).await
    });
    let outcome = match actix_web::rt::time::timeout(remaining, intake).await {
        Ok(Ok(result)) => result?,
        Ok(Err(e)) => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "intake task failed: {e}"
            )))
        }
        Err(_) => {
            tracing::warn!(
                site_id,
                "Coral phase: deadline passed, answering no opinion"
            );
            return Ok(HttpResponse::Ok().json(json!({})));
        }
    };
    let view = match outcome {
        Ok(store_comments::Intake::Created(v) | store_comments::Intake::Existing(v)) => v,
        Err(store_comments::IntakeError::ThreadClosed(_)) => {
            return Ok(HttpResponse::Ok().json(json!({})))
        }
        Err(e) => return Err(e.into()),
    };
    let comment_id = view.comment.id;
    let last = store::run(&state.pool, move |conn| {
        Ok(store_comments::decisions_of(conn, comment_id)?
            .into_iter()
            .last())
    })
    .await?;
    let verdict: Option<Verdict> = view
        .comment
        .verdict
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok());
    let facts = CoralFacts::of(&view.comment, verdict.as_ref(), last.as_ref());
    Ok(HttpResponse::Ok().json(answer(&facts)))
}

/// Why a comment is held or rejected when the reason is its author, not its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorHold {
    Banned,
    Premod,
}

/// What Coral's answer is built from: the comment's status and the decision that gave it.
#[derive(Debug, Clone)]
pub struct CoralFacts {
    pub status: CommentStatus,
    /// The verdict's decision was not `allow` (something was detected).
    pub detected: bool,
    /// Spam rather than toxicity was what weighed most.
    pub spam: bool,
    /// The reason code of the decision that set the status (rejections).
    pub reason: Option<ReasonCode>,
    /// The status was set by Vigie's automated moderation rather than a moderator.
    pub automated: bool,
    pub author_hold: Option<AuthorHold>,
    /// The language the author wrote in (for the notice shown to them).
    pub lang: ReaderLang,
}

impl CoralFacts {
    fn of(
        c: &store::records::CommentRecord,
        verdict: Option<&Verdict>,
        last: Option<&store::records::DecisionRecord>,
    ) -> CoralFacts {
        let author_hold = match last.and_then(|d| d.note.as_deref()) {
            Some(crate::domain::policy::NOTE_AUTHOR_BANNED) => Some(AuthorHold::Banned),
            Some(crate::domain::policy::NOTE_AUTHOR_PREMOD) => Some(AuthorHold::Premod),
            _ => None,
        };
        let lang = verdict
            .map(|v| v.language.as_str())
            .filter(|l| *l != "und")
            .or(c.lang.as_deref());
        CoralFacts {
            // A status Vigie cannot read back is answered "no opinion" below.
            status: c.status.parse().unwrap_or(CommentStatus::Published),
            detected: verdict.is_some_and(|v| v.decision != Decision::Allow),
            spam: verdict.is_some_and(spam_weighed_most),
            reason: last.and_then(|d| d.reason.as_deref()?.parse().ok()),
            automated: last.is_none_or(|d| d.source == "automated"),
            author_hold,
            lang: ReaderLang::of(lang),
        }
    }
}

/// Whether the verdict is about spam rather than toxicity: the category of the first rule that
/// held or blocked the comment, or else the higher of the two scores.
fn spam_weighed_most(v: &Verdict) -> bool {
    use crate::scoring::{Action, RuleCategory};
    v.rules
        .iter()
        .find(|h| matches!(h.action, Action::Block | Action::Hold))
        .map_or(v.scores.spam > v.scores.toxicity, |h| {
            h.category == RuleCategory::Spam
        })
}

/// Coral's answer. Coral validates it field by field and throws the whole answer away for one
/// invalid value (its custom moderation phase's response schema, re-expressed in
/// `tests/e2e/coral-response.mjs`): no empty arrays (`tags: []` voids it), no empty
/// or null strings, only the statuses, codes and flag reasons it lists. Text in
/// `rejectionReason` is shown to the author, so it is the reader's wording, never rule ids or
/// scores.
pub fn answer(f: &CoralFacts) -> Value {
    let flag = |spam: bool| {
        json!([{
            "actionType": "FLAG",
            "reason": if spam { "COMMENT_DETECTED_SPAM" } else { "COMMENT_DETECTED_TOXIC" },
        }])
    };
    match f.status {
        CommentStatus::Rejected if f.author_hold == Some(AuthorHold::Banned) => json!({
            "moderationAction": {
                "status": "REJECTED",
                "rejectionReason": {
                    "code": "OTHER",
                    "customReason": wording::banned_author_title(f.lang),
                    "detailedExplanation": wording::banned_author_notice(f.lang),
                },
            },
            "status": "REJECTED",
        }),
        CommentStatus::Rejected => {
            let reason = f.reason.unwrap_or(ReasonCode::Other);
            let (code, custom) = coral_code(reason);
            let mut rejection = json!({
                "code": code,
                "detailedExplanation": wording::rejection_notice(reason, f.automated, f.lang),
            });
            if custom.is_some() {
                rejection["customReason"] = json!(wording::rule_title(reason, f.lang));
            }
            let mut answer = json!({
                "moderationAction": { "status": "REJECTED", "rejectionReason": rejection },
                "status": "REJECTED",
            });
            // A flag says what automated detection found; a moderator's rejection has none.
            if f.automated && f.detected {
                answer["actions"] = flag(reason == ReasonCode::Spam || f.spam);
            }
            answer
        }
        CommentStatus::Pending if f.detected => json!({
            "status": "SYSTEM_WITHHELD",
            "actions": flag(f.spam),
        }),
        // Held by pre-moderation (the site's, the thread's or the author's), not the verdict.
        CommentStatus::Pending => json!({ "status": "PREMOD" }),
        CommentStatus::Published | CommentStatus::Approved | CommentStatus::Deleted => json!({}),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CoralSettingsRequest {
    /// Coral's signing secrets for this site (copy them from Coral's external moderation
    /// phase settings): 1 to 5, each 16 to 512 characters without surrounding spaces.
    #[schema(schema_with = crate::openapi::values::coral_secrets)]
    pub secrets: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoralSettingsResponse {
    pub configured: bool,
    /// How many secrets are accepted (they are never shown back).
    pub secrets: usize,
    /// The path to give Coral as the phase URL (after this server's public address).
    pub endpoint: String,
}

fn settings_response(secrets: usize) -> CoralSettingsResponse {
    CoralSettingsResponse {
        configured: secrets > 0,
        secrets,
        endpoint: "/v1/integrations/coral/moderate".into(),
    }
}

/// Whether Coral Talk is configured for the site (admin).
#[utoipa::path(get, path = "/v1/integrations/coral", tag = "integrations", security(("bearer" = ["admin"])),
    responses((status = 200, body = CoralSettingsResponse)))]
#[get("/v1/integrations/coral")]
pub async fn get_settings(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site_id = caller.site_id;
    let site = store::run(&state.pool, move |conn| store::sites::by_id(conn, site_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("site".into()))?;
    let n = site
        .coral_secrets
        .and_then(|s| state.open(SEAL_PURPOSE, &s))
        .and_then(|raw| serde_json::from_slice::<Vec<String>>(&raw).ok())
        .map_or(0, |v| v.len());
    Ok(HttpResponse::Ok().json(settings_response(n)))
}

/// Set the Coral signing secrets of the site (admin); they replace any set before.
#[utoipa::path(put, path = "/v1/integrations/coral", tag = "integrations", security(("bearer" = ["admin"])),
    request_body = CoralSettingsRequest,
    responses((status = 200, body = CoralSettingsResponse)))]
#[put("/v1/integrations/coral")]
#[tracing::instrument(name = "set_coral", skip_all, fields(key_id = caller.key_id))]
pub async fn put_settings(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(request): ApiJson<CoralSettingsRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    if request.secrets.is_empty() || request.secrets.len() > MAX_SECRETS {
        return Err(
            ValidationError::new("secrets", format!("give 1 to {MAX_SECRETS} secrets")).into(),
        );
    }
    for (i, s) in request.secrets.iter().enumerate() {
        let n = s.chars().count();
        if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) || s.trim() != s {
            return Err(ValidationError::new(
                format!("secrets[{i}]"),
                format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters, without surrounding spaces"),
            )
            .into());
        }
    }
    let n = request.secrets.len();
    let sealed = state.seal(
        SEAL_PURPOSE,
        &serde_json::to_vec(&request.secrets).map_err(|e| ApiError::Internal(e.into()))?,
    );
    let site_id = caller.site_id;
    store::run(&state.pool, move |conn| {
        store::sites::set_coral_secrets(conn, site_id, Some(&sealed))
    })
    .await?;
    tracing::info!(secrets = n, "Coral secrets set");
    Ok(HttpResponse::Ok().json(settings_response(n)))
}

/// Turn the Coral Talk endpoint off for the site (admin).
#[utoipa::path(delete, path = "/v1/integrations/coral", tag = "integrations", security(("bearer" = ["admin"])),
    responses((status = 204)))]
#[delete("/v1/integrations/coral")]
pub async fn delete_settings(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let site_id = caller.site_id;
    store::run(&state.pool, move |conn| {
        store::sites::set_coral_secrets(conn, site_id, None)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_become_the_text_readers_see() {
        assert_eq!(
            html_to_text("<p>Bonjour &amp; merci</p><p>C&#39;est <b>très</b> bien&nbsp;!</p>"),
            "Bonjour & merci\nC'est très bien !"
        );
        assert_eq!(html_to_text("a<br/>b"), "a\nb");
        assert_eq!(
            html_to_text("1 < 2 &unknown; &#x263A;"),
            "1 < 2 &unknown; ☺"
        );
        assert_eq!(html_to_text("<a href=\"x\">lien</a>"), "lien");
    }

    #[test]
    fn every_reason_code_maps_to_its_own_coral_reason() {
        let mapped: Vec<_> = ReasonCode::ALL.iter().map(|r| coral_code(*r)).collect();
        for (i, a) in mapped.iter().enumerate() {
            for b in &mapped[i + 1..] {
                assert_ne!(a, b, "two reason codes map to the same Coral reason");
            }
        }
    }

    /// Every value in an answer, for the checks Coral applies to each.
    fn walk<'a>(v: &'a Value, out: &mut Vec<(String, &'a Value)>, at: String) {
        out.push((at.clone(), v));
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, x)| walk(x, out, format!("{at}.{k}"))),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out, format!("{at}[]"))),
            _ => {}
        }
    }

    #[test]
    fn no_answer_holds_an_empty_array_an_empty_string_or_null() {
        let mut seen = 0;
        for &status in CommentStatus::ALL {
            for detected in [false, true] {
                for spam in [false, true] {
                    for reason in
                        std::iter::once(None).chain(ReasonCode::ALL.iter().map(|r| Some(*r)))
                    {
                        for automated in [false, true] {
                            for author_hold in
                                [None, Some(AuthorHold::Banned), Some(AuthorHold::Premod)]
                            {
                                for lang in [ReaderLang::Fr, ReaderLang::En] {
                                    let a = answer(&CoralFacts {
                                        status,
                                        detected,
                                        spam,
                                        reason,
                                        automated,
                                        author_hold,
                                        lang,
                                    });
                                    let mut values = Vec::new();
                                    walk(&a, &mut values, String::new());
                                    for (at, v) in values {
                                        assert!(!v.is_null(), "null at {at}: {a}");
                                        assert_ne!(v.as_str(), Some(""), "empty at {at}: {a}");
                                        assert_ne!(
                                            v.as_array().map(Vec::len),
                                            Some(0),
                                            "[] at {at}: {a}"
                                        );
                                    }
                                    assert!(a.get("tags").is_none());
                                    seen += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(seen > 1000);
    }

    #[test]
    fn a_banned_authors_comment_is_rejected_for_the_author_without_a_detection_flag() {
        let a = answer(&CoralFacts {
            status: CommentStatus::Rejected,
            detected: true,
            spam: false,
            reason: Some(ReasonCode::Other),
            automated: true,
            author_hold: Some(AuthorHold::Banned),
            lang: ReaderLang::En,
        });
        assert_eq!(a["status"], "REJECTED");
        assert!(a.get("actions").is_none(), "{a}");
        assert_eq!(
            a["moderationAction"]["rejectionReason"]["customReason"],
            "Account suspended"
        );
    }

    #[test]
    fn signatures_verify_against_any_listed_secret() {
        let body = b"{\n  \"action\": \"NEW\"\n}";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"second-secret-0123").unwrap();
        mac.update(body);
        let good = hex::encode(mac.finalize().into_bytes());
        let header = format!("sha256=00ff, sha256={good}");
        let sigs = signatures(&header);
        assert_eq!(sigs.len(), 2);
        assert!(sigs.iter().any(|s| verifies("second-secret-0123", body, s)));
        assert!(!sigs.iter().any(|s| verifies("first-secret-01234", body, s)));
        assert!(signatures("md5=abcd").is_empty());
    }
}
