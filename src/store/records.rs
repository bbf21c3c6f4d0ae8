//! Database records (one struct per row shape) and insert forms.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_keys, author_actions, authors, comments, decisions, sites, threads};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sites)]
pub struct SiteRecord {
    pub id: i64,
    pub slug: String,
    pub moderation_mode: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sites)]
pub struct NewSite<'a> {
    pub slug: &'a str,
    pub moderation_mode: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub site_id: i64,
    pub role: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub site_id: i64,
    pub role: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = threads)]
pub struct ThreadRecord {
    pub id: i64,
    pub site_id: i64,
    pub external_id: String,
    pub url: Option<String>,
    pub title: Option<String>,
    pub status: String,
    pub moderation_mode: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = threads)]
pub struct NewThread<'a> {
    pub site_id: i64,
    pub external_id: &'a str,
    pub url: Option<&'a str>,
    pub title: Option<&'a str>,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = authors)]
pub struct AuthorRecord {
    pub id: i64,
    pub site_id: i64,
    pub external_id: String,
    pub display_name: Option<String>,
    pub email_hash: Option<String>,
    pub status: String,
    pub status_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = authors)]
pub struct NewAuthor<'a> {
    pub site_id: i64,
    pub external_id: &'a str,
    pub display_name: Option<&'a str>,
    pub email_hash: Option<&'a str>,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct CommentRecord {
    pub id: i64,
    pub site_id: i64,
    pub thread_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub external_id: String,
    pub body: String,
    pub lang: Option<String>,
    pub status: String,
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
    pub claimed_by: Option<i64>,
    pub claim_expires_at: Option<NaiveDateTime>,
    /// First human knowledge of the comment (French press law, art. 93-3).
    pub first_seen_at: Option<NaiveDateTime>,
    pub first_seen_by: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment<'a> {
    pub site_id: i64,
    pub thread_id: i64,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub external_id: &'a str,
    pub body: &'a str,
    pub lang: Option<&'a str>,
    pub status: &'a str,
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
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = decisions)]
pub struct DecisionRecord {
    pub id: i64,
    pub comment_id: i64,
    pub site_id: i64,
    pub actor: String,
    pub actor_key_id: Option<i64>,
    pub source: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
    /// The verdict current when the decision was taken.
    pub verdict: Option<String>,
    /// The moderator action (`approve`, `reject`, …); `None` for automated decisions.
    pub action: Option<String>,
    pub note_to_author: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = decisions)]
pub struct NewDecision<'a> {
    pub comment_id: i64,
    pub site_id: i64,
    pub actor: &'a str,
    pub actor_key_id: Option<i64>,
    pub source: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub verdict: Option<&'a str>,
    pub action: Option<&'a str>,
    pub note_to_author: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = author_actions)]
pub struct AuthorActionRecord {
    pub id: i64,
    pub author_id: i64,
    pub site_id: i64,
    pub actor: String,
    pub actor_key_id: Option<i64>,
    pub from_status: String,
    pub to_status: String,
    pub until: Option<NaiveDateTime>,
    pub reason: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = author_actions)]
pub struct NewAuthorAction<'a> {
    pub author_id: i64,
    pub site_id: i64,
    pub actor: &'a str,
    pub actor_key_id: Option<i64>,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub until: Option<NaiveDateTime>,
    pub reason: &'a str,
    pub note: Option<&'a str>,
    pub created_at: NaiveDateTime,
}
