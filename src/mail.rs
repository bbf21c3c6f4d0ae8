//! E-mail alerts: the SMTP transport, the messages (French or English, plain text and HTML)
//! and the worker that sends what the mail outbox holds. Messages are never sent in a request:
//! requests write to the outbox (see [`crate::store::mail`]), the background worker sends, and
//! a failed send is retried with the webhook worker's backoff ([`crate::webhooks::retry_delay`]).
//!
//! The SMTP password is read from `VIGIE_SMTP_PASSWORD` when the transport is built; it is not
//! a setting, so it appears in no configuration dump, and it is never logged.
//!
//! Messages quote at most [`crate::store::mail::EXCERPT_CHARS`] characters of a comment and no author data:
//! mailboxes are copied, forwarded and kept for years, out of reach of Vigie's retention and
//! erasure; the console link shows the rest to whoever may see it.

use std::time::Duration;

use chrono::NaiveDateTime;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

use crate::config::{Settings, SmtpSecurity};
use crate::state::AppState;
use crate::store::mail::{self as outbox, DueMail};

/// The environment variable holding the SMTP password.
pub const PASSWORD_ENV: &str = "VIGIE_SMTP_PASSWORD";
/// Messages in flight at once per replica.
const CONCURRENCY: i64 = 4;

/// What sends the messages.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where console links start (no trailing slash).
    base_url: String,
    /// The domain of `Message-ID`s.
    domain: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// The mailer of the settings: `Ok(None)` when no SMTP host is set (nothing is sent).
    pub fn from_settings(settings: &Settings) -> Result<Option<Mailer>, String> {
        if !settings.smtp_enabled() {
            return Ok(None);
        }
        if let Some(problem) = settings.smtp_problem() {
            return Err(problem);
        }
        let host = settings.smtp_host.as_deref().unwrap_or_default().trim();
        let from: Mailbox = settings
            .smtp_from
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| format!("smtp_from: {e}"))?;
        let tls =
            || TlsParameters::new(host.to_owned()).map_err(|e| format!("SMTP TLS settings: {e}"));
        let tls = match settings.smtp_security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let base_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", settings.listen))
            .trim_end_matches('/')
            .to_owned();
        let domain = from.email.domain().to_owned();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.smtp_port)
            .tls(tls)
            .hello_name(ClientId::Domain(
                url::Url::parse(&base_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| domain.clone()),
            ))
            .timeout(Some(Duration::from_millis(settings.smtp_timeout_ms.max(1))));
        if let Some(user) = &settings.smtp_user {
            let password = std::env::var(PASSWORD_ENV).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            base_url,
            domain,
        }))
    }
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn french(language: &str) -> bool {
    language != "en"
}

fn queue_label(queue: &str, fr: bool) -> &'static str {
    match (queue, fr) {
        ("pending", true) => "À modérer",
        ("pending", false) => "To review",
        ("reported", true) => "Signalés",
        ("reported", false) => "Reported",
        (_, true) => "Recours",
        (_, false) => "Appeals",
    }
}

fn queue_path(queue: &str) -> &'static str {
    match queue {
        "pending" => "/console/#/queue/pending",
        "reported" => "/console/#/queue/reported",
        _ => "/console/#/appeals",
    }
}

/// "3 h 05 min" / "42 min" since `oldest`.
fn waited(oldest: &str, now: NaiveDateTime) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(oldest) else {
        return "?".into();
    };
    let minutes = (now - t.naive_utc()).num_minutes().max(0);
    if minutes >= 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a message says before its greeting and footer are added.
struct Content {
    subject: String,
    lines: Vec<String>,
    /// The console page it links to, from the console's root.
    link: String,
}

/// Writes a message from its facts, in its recipient's language.
pub fn write(due: &DueMail, base_url: &str, now: NaiveDateTime) -> Written {
    let fr = french(&due.language);
    let p: Value = serde_json::from_str(&due.mail.payload).unwrap_or(Value::Null);
    let site = &due.site_slug;
    let message = match due.mail.kind.as_str() {
        outbox::KIND_REPORT => report_alert(&p, due, fr),
        outbox::KIND_QUEUE_WAIT => queue_wait_alert(&p, site, fr, now),
        outbox::KIND_DIGEST => digest(&p, site, fr, now),
        _ => test_message(site, fr),
    };
    let greeting = if fr {
        format!("Bonjour {},", due.name)
    } else {
        format!("Hello {},", due.name)
    };
    render(&greeting, message, base_url, fr)
}

/// A report to handle: its reference, why it is urgent, and where.
fn report_alert(p: &Value, due: &DueMail, fr: bool) -> Content {
    let site = &due.site_slug;
    let reference = p["reference"].as_str().unwrap_or("?");
    let why = match (p["category"].as_str(), p["source"].as_str(), fr) {
        (_, Some("authority"), true) => "par une autorité",
        (_, Some("authority"), false) => "by an authority",
        (_, Some("trusted_flagger"), true) => "par un signaleur de confiance",
        (_, Some("trusted_flagger"), false) => "by a trusted flagger",
        (_, _, true) => "comme contenu illicite",
        (_, _, false) => "as illegal content",
    };
    let mut lines = vec![if fr {
        format!("Un commentaire vient d'être signalé {why} (référence {reference}).")
    } else {
        format!("A comment has just been reported {why} (reference {reference}).")
    }];
    if let Some((thread, excerpt)) = &due.excerpt {
        lines.push(if fr {
            format!("Article : {thread}")
        } else {
            format!("Article: {thread}")
        });
        lines.push(if fr {
            format!("Extrait : « {excerpt} »")
        } else {
            format!("Excerpt: “{excerpt}”")
        });
    }
    let subject = if fr {
        format!("[Vigie {site}] Signalement à traiter : {reference}")
    } else {
        format!("[Vigie {site}] Report to handle: {reference}")
    };
    Content {
        subject,
        lines,
        link: queue_path("reported").to_owned(),
    }
}

/// A queue has waited longer than the recipient's threshold.
fn queue_wait_alert(p: &Value, site: &str, fr: bool, now: NaiveDateTime) -> Content {
    let queue = p["queue"].as_str().unwrap_or("pending");
    let label = queue_label(queue, fr);
    let count = p["count"].as_i64().unwrap_or(0);
    let wait = waited(p["oldest"].as_str().unwrap_or(""), now);
    let minutes = p["minutes"].as_i64().unwrap_or(0);
    let lines = vec![if fr {
        format!(
            "La file « {label} » attend : {count} élément(s), le plus ancien depuis {wait} \
             (votre seuil : {minutes} min)."
        )
    } else {
        format!(
            "The “{label}” queue is waiting: {count} item(s), the oldest for {wait} \
             (your threshold: {minutes} min)."
        )
    }];
    let subject = if fr {
        format!("[Vigie {site}] La file « {label} » attend depuis {wait}")
    } else {
        format!("[Vigie {site}] The “{label}” queue has waited {wait}")
    };
    Content {
        subject,
        lines,
        link: queue_path(queue).to_owned(),
    }
}

/// The daily digest: each queue's count and oldest wait.
fn digest(p: &Value, site: &str, fr: bool, now: NaiveDateTime) -> Content {
    let mut lines = vec![if fr {
        "Résumé du jour :".to_owned()
    } else {
        "Today's summary:".to_owned()
    }];
    for q in p["queues"].as_array().into_iter().flatten() {
        let queue = q["queue"].as_str().unwrap_or("");
        let count = q["count"].as_i64().unwrap_or(0);
        let label = queue_label(queue, fr);
        let oldest = match q["oldest"].as_str() {
            Some(o) if fr => format!(", le plus ancien depuis {}", waited(o, now)),
            Some(o) => format!(", the oldest for {}", waited(o, now)),
            None => String::new(),
        };
        lines.push(match (queue == "appeals", fr) {
            (true, true) => format!("- {label} à trancher : {count}{oldest}"),
            (true, false) => format!("- {label} due: {count}{oldest}"),
            (false, true) => format!("- {label} : {count}{oldest}"),
            (false, false) => format!("- {label}: {count}{oldest}"),
        });
    }
    let subject = if fr {
        format!("[Vigie {site}] Résumé quotidien")
    } else {
        format!("[Vigie {site}] Daily digest")
    };
    Content {
        subject,
        lines,
        link: "/console/#/dashboard".to_owned(),
    }
}

/// The message sent by "send a test message".
fn test_message(site: &str, fr: bool) -> Content {
    let lines = vec![if fr {
        "Ceci est un message d'essai : les alertes de Vigie vous parviennent.".to_owned()
    } else {
        "This is a test message: Vigie's alerts reach you.".to_owned()
    }];
    let subject = if fr {
        format!("[Vigie {site}] Message d'essai")
    } else {
        format!("[Vigie {site}] Test message")
    };
    Content {
        subject,
        lines,
        link: "/console/".to_owned(),
    }
}

/// The text and HTML parts: greeting, the message's lines, the console link, the footer.
fn render(greeting: &str, message: Content, base_url: &str, fr: bool) -> Written {
    let Content {
        subject,
        lines,
        link,
    } = message;
    let url = format!("{base_url}{link}");
    let (open, footer) = if fr {
        (
            "Ouvrir la console",
            "Vous recevez ce message selon vos choix d'alertes (console, bouton 2FA / alertes).",
        )
    } else {
        (
            "Open the console",
            "You receive this message because of your alert choices (console, 2FA / alerts button).",
        )
    };
    let mut text = format!("{greeting}\n\n");
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let colon = if fr { " :" } else { ":" };
    text.push_str(&format!("\n{open}{colon} {url}\n\n-- \n{footer}\n"));
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body><p>{}</p>",
        if fr { "fr" } else { "en" },
        esc(greeting)
    );
    for l in &lines {
        html.push_str(&format!("<p>{}</p>", esc(l)));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p><p style=\"color:#666\">{}</p></body></html>",
        esc(&url),
        esc(open),
        esc(footer)
    ));
    Written {
        subject,
        text,
        html,
    }
}

/// Sends one batch of due messages and records each outcome; the number claimed.
pub async fn deliver_due(state: &AppState, mailer: &Mailer) -> anyhow::Result<usize> {
    let settings = &state.settings;
    let lease = chrono::Duration::milliseconds(settings.smtp_timeout_ms as i64)
        + chrono::Duration::seconds(30);
    let pool = state.pool.clone();
    let due = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        outbox::claim_due(&mut conn, lease, CONCURRENCY)
    })
    .await??;
    let n = due.len();
    let base = Duration::from_millis(settings.smtp_retry_base_ms.max(1));
    let mut sends = Vec::with_capacity(n);
    for d in due {
        let address = state
            .open(crate::domain::accounts::EMAIL_PURPOSE, &d.email_sealed)
            .and_then(|b| String::from_utf8(b).ok());
        let mailer = mailer.clone();
        sends.push(tokio::spawn(async move {
            let outcome = if d.inactive {
                Err(Skip("the account is disabled or has no password".into()))
            } else {
                match address {
                    None => Err(Skip(
                        "the address cannot be opened with this instance key".into(),
                    )),
                    Some(a) => send(&mailer, &d, &a).await.map_err(Failure),
                }
            };
            (d, outcome)
        }));
    }
    for handle in sends {
        let (d, outcome) = handle.await?;
        let pool = state.pool.clone();
        let delay = crate::webhooks::retry_delay(base, d.mail.attempts + 1);
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            match outcome {
                Ok(()) => outbox::record_attempt(&mut conn, &d.mail, None, delay),
                Err(Sent::Skip(why)) => outbox::drop_message(&mut conn, d.mail.id, &why),
                Err(Sent::Failure(e)) => {
                    tracing::warn!(mail_id = d.mail.id.0, kind = %d.mail.kind, error = %e, "e-mail not sent");
                    outbox::record_attempt(&mut conn, &d.mail, Some(&e), delay)
                }
            }
        })
        .await??;
    }
    Ok(n)
}

/// Why a message was not sent: not to be sent at all, or to be retried.
enum Sent {
    Skip(String),
    Failure(String),
}
use Sent::{Failure, Skip};

async fn send(mailer: &Mailer, d: &DueMail, address: &str) -> Result<(), String> {
    let to: Mailbox = address
        .parse()
        .map_err(|e| format!("the account's address is not usable: {e}"))?;
    let w = write(d, &mailer.base_url, crate::store::now());
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(w.subject)
        .date_now()
        .message_id(Some(format!(
            "<vigie.{}.{}@{}>",
            d.mail.id,
            uuid::Uuid::new_v4().simple(),
            mailer.domain
        )))
        .multipart(MultiPart::alternative_plain_html(w.text, w.html))
        .map_err(|e| format!("message not built: {e}"))?;
    mailer
        .transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| {
            // lettre's errors name the server's answer, never the credentials.
            format!("SMTP: {e}")
        })
}

/// Runs the checker once: enqueues due queue-wait alerts and digests, and deletes old rows.
pub async fn check(state: &AppState) -> anyhow::Result<outbox::Checked> {
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        let t = crate::store::now();
        let checked = outbox::check(&mut conn, t)?;
        outbox::purge_old(&mut conn, t - chrono::Duration::days(outbox::KEEP_DAYS))?;
        Ok::<_, anyhow::Error>(checked)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mail::MailRecord;

    fn due(kind: &str, language: &str, payload: Value) -> DueMail {
        let t = chrono::DateTime::from_timestamp(1_796_000_000, 0)
            .unwrap()
            .naive_utc();
        DueMail {
            mail: MailRecord {
                id: crate::domain::MailId(7),
                site_id: crate::domain::SiteId(1),
                account_id: crate::domain::AccountId(1),
                kind: kind.into(),
                subject: "x".into(),
                payload: payload.to_string(),
                dedup_key: None,
                status: crate::domain::MailStatus::Pending,
                attempts: 0,
                next_attempt_at: t,
                retry_until: t,
                locked_until: None,
                last_error: None,
                created_at: t,
                sent_at: None,
            },
            email_sealed: String::new(),
            name: "Camille <admin>".into(),
            language: language.into(),
            site_slug: "numerama".into(),
            inactive: false,
            excerpt: Some(("a-1".into(), "Texte <b>gras</b>".into())),
        }
    }

    #[test]
    fn report_alerts_are_written_in_the_recipients_language_and_escaped_in_html() {
        let now = crate::store::now();
        let payload = serde_json::json!({"reference": "VIG-2026-000001", "category": "illegal", "source": "reader"});
        let fr = write(
            &due("report", "fr", payload.clone()),
            "https://m.example",
            now,
        );
        assert_eq!(
            fr.subject,
            "[Vigie numerama] Signalement à traiter : VIG-2026-000001"
        );
        assert!(fr.text.contains("comme contenu illicite"), "{}", fr.text);
        assert!(fr
            .text
            .contains("Ouvrir la console : https://m.example/console/#/queue/reported"));
        let en = write(&due("report", "en", payload), "https://m.example", now);
        assert_eq!(
            en.subject,
            "[Vigie numerama] Report to handle: VIG-2026-000001"
        );
        assert!(en.text.starts_with("Hello Camille <admin>,"));
        assert!(
            en.html.contains("Hello Camille &lt;admin&gt;,"),
            "{}",
            en.html
        );
        assert!(
            en.html.contains("Texte &lt;b&gt;gras&lt;/b&gt;"),
            "{}",
            en.html
        );
        assert!(!en.html.contains("<b>"), "{}", en.html);
    }

    #[test]
    fn waits_read_in_hours_and_minutes() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .naive_utc();
        assert_eq!(waited("2026-12-04T09:18:00Z", now), "42 min");
        assert_eq!(waited("2026-12-04T06:55:00Z", now), "3 h 05 min");
        assert_eq!(waited("not a date", now), "?");
    }
}
