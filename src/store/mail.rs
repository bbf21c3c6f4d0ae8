//! E-mail alerts in the database: each person's choices, and the mail outbox. Messages are
//! written by the report intake (in its transaction), by the periodic checker (queues waiting,
//! daily digests) and by the test endpoint; the worker of [`crate::mail`] claims and retries
//! them with the webhook outbox's claim statement shape, [`super::outbox::claim_ids`] and
//! [`super::outbox::after_failure`].

use std::collections::HashMap;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde_json::{json, Value};

use super::outbox::{after_failure, claim_ids, RETRY_WINDOW_HOURS};
use super::schema::{
    accounts, alert_preferences, api_keys, appeals, comments, mail_outbox, sites, threads,
};
use super::{lock_keys, now, write_tx, DbConnection, StoreError};
use crate::domain::dsa::ReportSource;
use crate::domain::{
    AccountId, AppealStatus, CommentId, CommentStatus, MailId, MailStatus, ReasonCode, SiteId,
};

/// What a message is.
pub const KIND_REPORT: &str = "report";
pub const KIND_QUEUE_WAIT: &str = "queue_wait";
pub const KIND_DIGEST: &str = "digest";
pub const KIND_TEST: &str = "test";

/// Longest comment excerpt a message quotes (characters): enough to recognise the comment,
/// little personal data in mailboxes.
pub const EXCERPT_CHARS: usize = 120;
/// Sent and given-up messages are deleted after this many days.
pub const KEEP_DAYS: i64 = 7;
/// Advisory-lock key of the checker: one replica at a time decides what to enqueue.
const CHECKER_LOCK: &str = "mail-alert-checker";

/// One person's choices.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_preferences)]
pub struct AlertPreferences {
    pub account_id: AccountId,
    pub language: String,
    pub on_report: bool,
    pub queue_wait_minutes: Option<i32>,
    pub digest_hour: Option<i32>,
    pub updated_at: NaiveDateTime,
}

impl AlertPreferences {
    /// Nothing chosen yet: no alert, messages in `language`.
    pub fn off(account_id: AccountId, language: &str) -> AlertPreferences {
        AlertPreferences {
            account_id,
            language: language.to_owned(),
            on_report: false,
            queue_wait_minutes: None,
            digest_hour: None,
            updated_at: now(),
        }
    }
}

pub fn preferences(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> Result<Option<AlertPreferences>, StoreError> {
    Ok(alert_preferences::table
        .find(account_id)
        .select(AlertPreferences::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces a person's choices.
pub fn set_preferences(
    conn: &mut DbConnection,
    prefs: &AlertPreferences,
) -> Result<AlertPreferences, StoreError> {
    let mut prefs = prefs.clone();
    prefs.updated_at = now();
    write_tx(conn, |conn| {
        diesel::delete(alert_preferences::table.find(prefs.account_id)).execute(conn)?;
        diesel::insert_into(alert_preferences::table)
            .values(&prefs)
            .execute(conn)
    })?;
    Ok(prefs)
}

/// A message in the outbox.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct MailRecord {
    pub id: MailId,
    pub site_id: SiteId,
    pub account_id: AccountId,
    pub kind: String,
    pub subject: String,
    pub payload: String,
    pub dedup_key: Option<String>,
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub retry_until: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// Writes one message (inside the caller's transaction).
pub fn enqueue(
    conn: &mut DbConnection,
    site_id: SiteId,
    account_id: AccountId,
    kind: &str,
    subject: &str,
    payload: &Value,
    dedup_key: Option<&str>,
) -> Result<(), diesel::result::Error> {
    let t = now();
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::site_id.eq(site_id),
            mail_outbox::account_id.eq(account_id),
            mail_outbox::kind.eq(kind),
            mail_outbox::subject.eq(subject),
            mail_outbox::payload.eq(payload.to_string()),
            mail_outbox::dedup_key.eq(dedup_key),
            mail_outbox::status.eq(MailStatus::Pending),
            mail_outbox::next_attempt_at.eq(t),
            mail_outbox::retry_until.eq(t + chrono::Duration::hours(RETRY_WINDOW_HOURS)),
            mail_outbox::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Active accounts (password set, not disabled) of a site, or of every site, with choices.
fn recipients(
    conn: &mut DbConnection,
    site_id: Option<SiteId>,
) -> Result<Vec<(AlertPreferences, SiteId)>, diesel::result::Error> {
    let mut q = alert_preferences::table
        .inner_join(accounts::table.inner_join(api_keys::table))
        .filter(accounts::disabled_at.is_null())
        .filter(accounts::password_hash.is_not_null())
        .select((AlertPreferences::as_select(), api_keys::site_id))
        .order(alert_preferences::account_id)
        .into_boxed();
    if let Some(site) = site_id {
        q = q.filter(api_keys::site_id.eq(site));
    }
    q.load(conn)
}

/// Whether a report is one people asked to hear about at once.
pub fn alerts_on(category: ReasonCode, source: ReportSource) -> bool {
    category == ReasonCode::Illegal || source != ReportSource::Reader
}

/// A message per person of the site who asked for report alerts (inside the report's
/// transaction). The comment's text is not copied: the worker quotes an excerpt when sending.
pub fn enqueue_report_alerts(
    conn: &mut DbConnection,
    site_id: SiteId,
    comment_id: CommentId,
    reference: &str,
    category: ReasonCode,
    source: ReportSource,
) -> Result<usize, diesel::result::Error> {
    if !alerts_on(category, source) {
        return Ok(0);
    }
    let payload = json!({
        "comment_id": comment_id,
        "reference": reference,
        "category": category.as_str(),
        "source": source.as_str(),
    });
    let subject = super::outbox::comment_subject(comment_id);
    let mut n = 0;
    for (prefs, _) in recipients(conn, Some(site_id))? {
        if prefs.on_report {
            enqueue(
                conn,
                site_id,
                prefs.account_id,
                KIND_REPORT,
                &subject,
                &payload,
                None,
            )?;
            n += 1;
        }
    }
    Ok(n)
}

/// A queue's size and how long its oldest item has waited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueState {
    /// `pending`, `reported` or `appeals`.
    pub queue: &'static str,
    pub count: i64,
    pub oldest: Option<NaiveDateTime>,
}

/// The three queues people wait on: comments to review, reported comments, open appeals.
pub fn queue_states(
    conn: &mut DbConnection,
    site_id: SiteId,
) -> Result<Vec<QueueState>, diesel::result::Error> {
    let (pending, pending_oldest): (i64, Option<NaiveDateTime>) = comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(comments::status.eq(CommentStatus::Pending))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(comments::created_at),
        ))
        .first(conn)?;
    let (reported, reported_oldest): (i64, Option<NaiveDateTime>) = comments::table
        .filter(comments::site_id.eq(site_id))
        .filter(super::queues::has_open_reports())
        .filter(comments::status.ne(CommentStatus::Deleted))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(comments::first_reported_at),
        ))
        .first(conn)?;
    let (open, open_oldest): (i64, Option<NaiveDateTime>) = appeals::table
        .filter(appeals::site_id.eq(site_id))
        .filter(appeals::status.eq(AppealStatus::Open))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(appeals::created_at),
        ))
        .first(conn)?;
    Ok(vec![
        QueueState {
            queue: "pending",
            count: pending,
            oldest: pending_oldest,
        },
        QueueState {
            queue: "reported",
            count: reported,
            oldest: reported_oldest,
        },
        QueueState {
            queue: "appeals",
            count: open,
            oldest: open_oldest,
        },
    ])
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The facts of a digest: each queue's count and oldest item.
pub fn digest_payload(states: &[QueueState]) -> Value {
    json!({
        "queues": states.iter().map(|s| json!({
            "queue": s.queue,
            "count": s.count,
            "oldest": s.oldest.map(rfc3339),
        })).collect::<Vec<_>>(),
    })
}

/// What the checker enqueued.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub queue_waits: usize,
    pub digests: usize,
}

/// Enqueues the alerts that are due at `t`: a queue whose oldest item has waited more than a
/// person's N minutes (at most one message per queue and person per N minutes), and the daily
/// digest once the person's hour (UTC) has come (one per person and day). One checker at a
/// time across replicas (an advisory lock on PostgreSQL, the write lock on SQLite), so nothing
/// is enqueued twice.
pub fn check(conn: &mut DbConnection, t: NaiveDateTime) -> Result<Checked, StoreError> {
    Ok(write_tx(conn, |conn| {
        lock_keys(conn, &[CHECKER_LOCK.to_owned()])?;
        let mut done = Checked::default();
        let mut states: HashMap<SiteId, Vec<QueueState>> = HashMap::new();
        for (prefs, site_id) in recipients(conn, None)? {
            if prefs.queue_wait_minutes.is_none() && prefs.digest_hour.is_none() {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = states.entry(site_id) {
                e.insert(queue_states(conn, site_id)?);
            }
            let site_states = &states[&site_id];
            if let Some(minutes) = prefs.queue_wait_minutes {
                let since = t - chrono::Duration::minutes(i64::from(minutes));
                for s in site_states {
                    let Some(oldest) = s.oldest.filter(|o| *o <= since) else {
                        continue;
                    };
                    let subject = format!("queue:{}", s.queue);
                    let recent: i64 = mail_outbox::table
                        .filter(mail_outbox::account_id.eq(prefs.account_id))
                        .filter(mail_outbox::subject.eq(&subject))
                        .filter(mail_outbox::created_at.gt(since))
                        .count()
                        .get_result(conn)?;
                    if recent > 0 {
                        continue;
                    }
                    let payload = json!({
                        "queue": s.queue,
                        "count": s.count,
                        "oldest": rfc3339(oldest),
                        "minutes": minutes,
                    });
                    enqueue(
                        conn,
                        site_id,
                        prefs.account_id,
                        KIND_QUEUE_WAIT,
                        &subject,
                        &payload,
                        None,
                    )?;
                    done.queue_waits += 1;
                }
            }
            if let Some(hour) = prefs.digest_hour {
                if t.hour() < hour as u32 {
                    continue;
                }
                let day = t.date().to_string();
                let key = format!("digest:{}:{day}", prefs.account_id);
                let sent: i64 = mail_outbox::table
                    .filter(mail_outbox::dedup_key.eq(&key))
                    .count()
                    .get_result(conn)?;
                if sent == 0 {
                    enqueue(
                        conn,
                        site_id,
                        prefs.account_id,
                        KIND_DIGEST,
                        &format!("digest:{day}"),
                        &digest_payload(site_states),
                        Some(&key),
                    )?;
                    done.digests += 1;
                }
            }
        }
        Ok::<_, diesel::result::Error>(done)
    })?)
}

/// A message claimed by a worker, with what it needs to be written and sent.
#[derive(Debug, Clone)]
pub struct DueMail {
    pub mail: MailRecord,
    pub email_sealed: String,
    pub name: String,
    pub language: String,
    pub site_slug: String,
    /// The account was disabled (or its password reset) since: nothing is sent.
    pub inactive: bool,
    /// For report alerts: the comment's thread and the start of its text, read now (an erased
    /// comment is not quoted).
    pub excerpt: Option<(String, String)>,
}

const CLAIM_MAIL_POSTGRES: &str = "UPDATE mail_outbox SET locked_until = $1 WHERE id IN ( \
       SELECT m.id FROM mail_outbox m \
       WHERE m.status = 'pending' AND m.next_attempt_at <= $2 \
         AND (m.locked_until IS NULL OR m.locked_until < $2) \
       ORDER BY m.id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id";

const CLAIM_MAIL_SQLITE: &str = "UPDATE mail_outbox SET locked_until = ?1 WHERE id IN ( \
       SELECT m.id FROM mail_outbox m \
       WHERE m.status = 'pending' AND m.next_attempt_at <= ?2 \
         AND (m.locked_until IS NULL OR m.locked_until < ?2) \
       ORDER BY m.id LIMIT ?3) RETURNING id";

/// Claims up to `limit` due messages for `lease` (replicas never take the same one).
pub fn claim_due(
    conn: &mut DbConnection,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<DueMail>, StoreError> {
    let ids = claim_ids(conn, CLAIM_MAIL_POSTGRES, CLAIM_MAIL_SQLITE, lease, limit)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(MailRecord, String, String, bool, String, Option<String>)> = mail_outbox::table
        .inner_join(accounts::table.inner_join(api_keys::table.inner_join(sites::table)))
        .left_join(alert_preferences::table.on(alert_preferences::account_id.eq(accounts::id)))
        .filter(mail_outbox::id.eq_any(&ids))
        .order(mail_outbox::id)
        .select((
            MailRecord::as_select(),
            accounts::email_sealed,
            api_keys::name,
            accounts::disabled_at
                .is_not_null()
                .or(accounts::password_hash.is_null()),
            sites::slug,
            alert_preferences::language.nullable(),
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (mail, email_sealed, name, inactive, site_slug, language) in rows {
        let excerpt = match serde_json::from_str::<Value>(&mail.payload)
            .ok()
            .and_then(|p| p["comment_id"].as_i64())
        {
            Some(id) if mail.kind == KIND_REPORT => excerpt(conn, CommentId(id))?,
            _ => None,
        };
        out.push(DueMail {
            mail,
            email_sealed,
            name,
            language: language.unwrap_or_else(|| "fr".into()),
            site_slug,
            inactive,
            excerpt,
        });
    }
    Ok(out)
}

/// A comment's thread id and the first [`EXCERPT_CHARS`] characters of its text.
fn excerpt(
    conn: &mut DbConnection,
    comment_id: CommentId,
) -> Result<Option<(String, String)>, StoreError> {
    let row: Option<(String, String, CommentStatus)> = comments::table
        .inner_join(threads::table)
        .filter(comments::id.eq(comment_id))
        .select((threads::external_id, comments::body, comments::status))
        .first(conn)
        .optional()?;
    Ok(row
        .filter(|(_, _, status)| *status != CommentStatus::Deleted)
        .map(|(thread, body, _)| {
            let mut short: String = body.chars().take(EXCERPT_CHARS).collect();
            if short.len() < body.len() {
                short.push('…');
            }
            (thread, short)
        }))
}

/// Records an attempt: `sent`, or retried after `retry_delay` (given up past the retry
/// window), like webhook deliveries.
pub fn record_attempt(
    conn: &mut DbConnection,
    mail: &MailRecord,
    error: Option<&str>,
    retry_delay: chrono::Duration,
) -> Result<(), StoreError> {
    let t = now();
    let attempts = mail.attempts + 1;
    let target = mail_outbox::table.find(mail.id);
    write_tx(conn, |conn| match error {
        None => diesel::update(target)
            .set((
                mail_outbox::status.eq(MailStatus::Sent),
                mail_outbox::attempts.eq(attempts),
                mail_outbox::locked_until.eq(None::<NaiveDateTime>),
                mail_outbox::last_error.eq(None::<String>),
                mail_outbox::sent_at.eq(Some(t)),
            ))
            .execute(conn),
        Some(e) => {
            let (gave_up, next) = after_failure(t, retry_delay, mail.retry_until);
            let status = if gave_up {
                MailStatus::Failed
            } else {
                MailStatus::Pending
            };
            diesel::update(target)
                .set((
                    mail_outbox::status.eq(status),
                    mail_outbox::attempts.eq(attempts),
                    mail_outbox::locked_until.eq(None::<NaiveDateTime>),
                    mail_outbox::next_attempt_at.eq(next),
                    mail_outbox::last_error.eq(Some(e.chars().take(500).collect::<String>())),
                ))
                .execute(conn)
        }
    })?;
    Ok(())
}

/// Marks a message not to be sent (its account is no longer active).
pub fn drop_message(conn: &mut DbConnection, id: MailId, why: &str) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        diesel::update(mail_outbox::table.find(id))
            .set((
                mail_outbox::status.eq(MailStatus::Dropped),
                mail_outbox::locked_until.eq(None::<NaiveDateTime>),
                mail_outbox::last_error.eq(Some(why)),
            ))
            .execute(conn)
    })?;
    Ok(())
}

/// Deletes messages sent, dropped or given up before `before`.
pub fn purge_old(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(write_tx(conn, |conn| {
        diesel::delete(
            mail_outbox::table
                .filter(mail_outbox::created_at.lt(before))
                .filter(mail_outbox::status.ne(MailStatus::Pending)),
        )
        .execute(conn)
    })?)
}

/// Queues a message for one person now: a test message, or a digest of the site's queues
/// (`POST /v1/account/alerts/test`).
pub fn enqueue_now(
    conn: &mut DbConnection,
    site_id: SiteId,
    account_id: AccountId,
    kind: &str,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let payload = if kind == KIND_DIGEST {
            digest_payload(&queue_states(conn, site_id)?)
        } else {
            json!({})
        };
        let subject = format!("{kind}:{}", uuid::Uuid::new_v4());
        enqueue(conn, site_id, account_id, kind, &subject, &payload, None)
    })?;
    Ok(())
}
