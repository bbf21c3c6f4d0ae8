//! Database records (one struct per row shape) and insert forms.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::{
    ApiKeyId, AppealId, AppealStatus, AuthorActionId, AuthorId, AuthorStatus, CommentId,
    CommentStatus, DecisionId, ReportId, ReportStatus, ReporterId, RevisionId, Role, SiteId,
    StatementId, ThreadId, ThreadStatus,
};

use super::schema::{
    api_keys, appeals, author_actions, authors, comment_revisions, comments, decisions, reporters,
    reports, sites, statements, threads,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sites)]
pub struct SiteRecord {
    pub id: SiteId,
    pub slug: String,
    pub moderation_mode: crate::domain::ModerationMode,
    pub created_at: NaiveDateTime,
    /// Weighted reports past which a published comment is hidden until a moderator decides.
    pub report_hide_threshold: f64,
    /// Per-category thresholds as JSON; `None` uses the model's.
    pub thresholds: Option<String>,
    /// Coral Talk's signing secrets, sealed (see `AppState::seal`).
    pub coral_secrets: Option<String>,
    /// Country codes (space-separated) where the site's restrictions apply; `None`: the EU.
    pub territorial_scope: Option<String>,
    /// What happens to comments in a language the model does not score.
    pub unscored_language: crate::domain::UnscoredLanguage,
    /// The model version the site's own `thresholds` were saved for (`None`: not recorded).
    pub thresholds_model: Option<String>,
    /// An author's comments are held until this many of theirs were approved (`None`: off).
    pub new_author_premod: Option<i32>,
    /// How the site's authors appeal, shown in statements of reasons.
    pub appeal_text: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sites)]
pub struct NewSite<'a> {
    pub slug: &'a str,
    pub moderation_mode: crate::domain::ModerationMode,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub site_id: SiteId,
    pub role: Role,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub site_id: SiteId,
    pub role: Role,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = threads)]
pub struct ThreadRecord {
    pub id: ThreadId,
    pub site_id: SiteId,
    pub external_id: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub status: ThreadStatus,
    /// The thread's own mode; `None` follows the site's.
    pub moderation_mode: Option<crate::domain::ModerationMode>,
    pub created_at: NaiveDateTime,
}

/// `None` inserts NULL (the columns have no other default): one SQL text whatever is missing,
/// so diesel keeps the prepared statement (a `DEFAULT` in `VALUES` makes it re-prepare every time).
#[derive(Debug, Insertable)]
#[diesel(table_name = threads, treat_none_as_default_value = false)]
pub struct NewThread<'a> {
    pub site_id: SiteId,
    pub external_id: &'a str,
    pub url: Option<&'a str>,
    pub title: Option<&'a str>,
    pub status: ThreadStatus,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = authors)]
pub struct AuthorRecord {
    pub id: AuthorId,
    pub site_id: SiteId,
    pub external_id: String,
    pub display_name: Option<String>,
    pub email_hash: Option<String>,
    pub status: AuthorStatus,
    pub status_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = authors, treat_none_as_default_value = false)]
pub struct NewAuthor<'a> {
    pub site_id: SiteId,
    pub external_id: &'a str,
    pub display_name: Option<&'a str>,
    pub email_hash: Option<&'a str>,
    pub status: AuthorStatus,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct CommentRecord {
    pub id: CommentId,
    pub site_id: SiteId,
    pub thread_id: ThreadId,
    pub parent_id: Option<CommentId>,
    pub author_id: AuthorId,
    pub external_id: String,
    pub body: String,
    pub lang: Option<String>,
    pub status: CommentStatus,
    pub revision: i32,
    pub verdict: Option<String>,
    pub verdict_decision: Option<String>,
    pub client_ip_hash: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Highest category score, for ordering queues by risk.
    pub risk: f64,
    pub score_toxicity: Option<f64>,
    pub score_spam: Option<f64>,
    /// Held for a senior moderator.
    pub escalated: bool,
    pub claimed_by: Option<ApiKeyId>,
    pub claim_expires_at: Option<NaiveDateTime>,
    /// First human knowledge of the comment (French press law, art. 93-3).
    pub first_seen_at: Option<NaiveDateTime>,
    pub first_seen_by: Option<ApiKeyId>,
    /// Open reports and their summed weight (the `reported` queue).
    pub open_reports: i32,
    pub report_weight: f64,
    pub first_reported_at: Option<NaiveDateTime>,
    /// SHA-256 of the trimmed, lower-cased body (repeated-post detection).
    pub body_hash: Option<String>,
    /// 2 while an authority's notice is open on it, 1 for a trusted flagger's, else 0.
    pub report_priority: i32,
    /// The site's time of the edit that wrote the current text; `None` until edited.
    pub edited_at: Option<NaiveDateTime>,
    /// When Vigie received the current text; `None` means at `created_at`.
    pub body_received_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = comments, treat_none_as_default_value = false)]
pub struct NewComment<'a> {
    pub site_id: SiteId,
    pub thread_id: ThreadId,
    pub parent_id: Option<CommentId>,
    pub author_id: AuthorId,
    pub external_id: &'a str,
    pub body: &'a str,
    pub lang: Option<&'a str>,
    pub status: CommentStatus,
    pub revision: i32,
    pub verdict: Option<&'a str>,
    pub verdict_decision: Option<&'a str>,
    pub client_ip_hash: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub risk: f64,
    pub score_toxicity: Option<f64>,
    pub score_spam: Option<f64>,
    pub body_hash: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = decisions)]
pub struct DecisionRecord {
    pub id: DecisionId,
    pub comment_id: CommentId,
    pub site_id: SiteId,
    pub actor: String,
    pub actor_key_id: Option<ApiKeyId>,
    pub source: String,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
    /// The verdict current when the decision was taken.
    pub verdict: Option<String>,
    /// The moderator action (`approve`, `reject`, …); `None` for automated decisions.
    pub action: Option<String>,
    pub note_to_author: Option<String>,
    /// Where a moderator's decision came from: `console` or `api`; `None` when automated.
    pub origin: Option<String>,
    /// The client's network (IPv4 /24, IPv6 /48); purged after `ip_retention_days`.
    pub origin_network: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = decisions, treat_none_as_default_value = false)]
pub struct NewDecision<'a> {
    pub comment_id: CommentId,
    pub site_id: SiteId,
    pub actor: &'a str,
    pub actor_key_id: Option<ApiKeyId>,
    pub source: &'a str,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub verdict: Option<&'a str>,
    pub action: Option<&'a str>,
    pub note_to_author: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub origin_network: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = author_actions)]
pub struct AuthorActionRecord {
    pub id: AuthorActionId,
    pub author_id: AuthorId,
    pub site_id: SiteId,
    pub actor: String,
    pub actor_key_id: Option<ApiKeyId>,
    pub from_status: AuthorStatus,
    pub to_status: AuthorStatus,
    pub until: Option<NaiveDateTime>,
    pub reason: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = author_actions)]
pub struct NewAuthorAction<'a> {
    pub author_id: AuthorId,
    pub site_id: SiteId,
    pub actor: &'a str,
    pub actor_key_id: Option<ApiKeyId>,
    pub from_status: AuthorStatus,
    pub to_status: AuthorStatus,
    pub until: Option<NaiveDateTime>,
    pub reason: &'a str,
    pub note: Option<&'a str>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = reporters)]
pub struct ReporterRecord {
    pub id: ReporterId,
    pub site_id: SiteId,
    pub identity_hash: String,
    pub upheld: i32,
    pub dismissed: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = reports)]
pub struct ReportRecord {
    pub id: ReportId,
    pub site_id: SiteId,
    pub comment_id: CommentId,
    pub reporter_id: ReporterId,
    pub reference: String,
    pub category: String,
    pub source: String,
    pub text: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_email_hash: Option<String>,
    pub ip_hash: Option<String>,
    pub legal_ground: Option<String>,
    pub explanation: Option<String>,
    pub good_faith: bool,
    /// The comment as it was when reported.
    pub snapshot_body: String,
    pub snapshot_revision: i32,
    pub weight: f64,
    pub brigading: bool,
    pub status: ReportStatus,
    pub outcome_at: Option<NaiveDateTime>,
    pub decision_id: Option<DecisionId>,
    pub created_at: NaiveDateTime,
    /// Keyed hash of the network the report came from (one vote per network).
    pub network_hash: Option<String>,
    /// Counted in the site's limit for reports with neither IP nor established reporter.
    pub site_bucket: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReport<'a> {
    pub site_id: SiteId,
    pub comment_id: CommentId,
    pub reporter_id: ReporterId,
    pub reference: &'a str,
    pub category: &'a str,
    pub source: &'a str,
    pub text: Option<&'a str>,
    pub reporter_name: Option<&'a str>,
    pub reporter_email_hash: Option<&'a str>,
    pub ip_hash: Option<&'a str>,
    pub legal_ground: Option<&'a str>,
    pub explanation: Option<&'a str>,
    pub good_faith: bool,
    pub snapshot_body: &'a str,
    pub snapshot_revision: i32,
    pub weight: f64,
    pub brigading: bool,
    pub status: ReportStatus,
    pub created_at: NaiveDateTime,
    pub network_hash: Option<&'a str>,
    pub site_bucket: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = statements)]
pub struct StatementRecord {
    pub id: StatementId,
    pub uuid: String,
    pub site_id: SiteId,
    pub comment_id: Option<CommentId>,
    pub author_id: Option<AuthorId>,
    pub decision_id: Option<DecisionId>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = appeals)]
pub struct AppealRecord {
    pub id: AppealId,
    pub site_id: SiteId,
    pub comment_id: CommentId,
    pub decision_id: DecisionId,
    pub appellant: String,
    pub report_id: Option<ReportId>,
    pub text: String,
    pub status: AppealStatus,
    pub reply: Option<String>,
    pub decided_by: Option<ApiKeyId>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A text a comment had before an edit replaced it.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comment_revisions)]
pub struct RevisionRecord {
    pub id: RevisionId,
    pub comment_id: CommentId,
    pub site_id: SiteId,
    /// The comment's revision when this text was replaced.
    pub revision: i32,
    pub body: String,
    pub lang: Option<String>,
    pub verdict: Option<String>,
    pub verdict_decision: Option<String>,
    /// The comment's status when this text was replaced.
    pub status: CommentStatus,
    pub edited_at: Option<NaiveDateTime>,
    pub received_at: NaiveDateTime,
    pub replaced_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = comment_revisions, treat_none_as_default_value = false)]
pub struct NewRevision<'a> {
    pub comment_id: CommentId,
    pub site_id: SiteId,
    pub revision: i32,
    pub body: &'a str,
    pub lang: Option<&'a str>,
    pub verdict: Option<&'a str>,
    pub verdict_decision: Option<&'a str>,
    pub status: CommentStatus,
    pub edited_at: Option<NaiveDateTime>,
    pub received_at: NaiveDateTime,
    pub replaced_at: NaiveDateTime,
}
