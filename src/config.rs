//! Typed settings, in layers: defaults, then an optional TOML file (`vigie.toml`, or the path in
//! `--config` / `VIGIE_CONFIG`), then `VIGIE_*` environment variables.
//!
//! Environment variables read (each overrides the key of the same name in lower case):
//! `VIGIE_LISTEN`, `VIGIE_DATABASE_URL`, `VIGIE_POOL_SIZE`, `VIGIE_CONNECT_TIMEOUT_MS`,
//! `VIGIE_STATEMENT_TIMEOUT_MS`, `VIGIE_SQLITE_SYNCHRONOUS`, `VIGIE_SQLITE_BUSY_TIMEOUT_MS`,
//! `VIGIE_MAX_REQUEST_BYTES`, `VIGIE_MAX_BODY_CHARS`, `VIGIE_SECRET_KEY`, `VIGIE_LOG_FORMAT`,
//! `VIGIE_MODEL_DIR`, `VIGIE_MODEL_ROOTS` (a list, like `VIGIE_WEBHOOK_ALLOW_HOSTS`), `VIGIE_RULES_FILE`, `VIGIE_REPEAT_WINDOW_SECS`, `VIGIE_REPORT_LIMIT_PER_REPORTER`,
//! `VIGIE_REPORT_LIMIT_PER_IP`, `VIGIE_REPORT_LIMIT_PER_SITE_WITHOUT_IP`,
//! `VIGIE_REPORT_WINDOW_SECS`, `VIGIE_REPORT_BURST_REPORTERS`, `VIGIE_BRIGADING_REPORTS`,
//! `VIGIE_BRIGADING_WINDOW_SECS`, `VIGIE_APPEAL_WINDOW_DAYS`, `VIGIE_LOG_LEVEL`, `VIGIE_WORKERS`, `VIGIE_SHUTDOWN_TIMEOUT_SECS`, `VIGIE_IP_STORAGE`,
//! `VIGIE_RETENTION_DAYS`, `VIGIE_IP_RETENTION_DAYS`, `VIGIE_PURGE_INTERVAL_SECS`,
//! `VIGIE_WEBHOOK_POLL_MS`, `VIGIE_WEBHOOK_TIMEOUT_MS`, `VIGIE_WEBHOOK_RETRY_BASE_MS`,
//! `VIGIE_WEBHOOK_CONCURRENCY`, `VIGIE_CORAL_DEADLINE_MS`, `VIGIE_DB_STARTUP_WAIT_SECS`,
//! `VIGIE_DB_RETRY_MAX_MS`, `VIGIE_WEBHOOK_ALLOW_HOSTS` (a list: `'["hooks.internal", "10.0.0.5"]'`),
//! `VIGIE_BODY_READ_TIMEOUT_SECS`, `VIGIE_HEADER_READ_TIMEOUT_SECS`, `VIGIE_KEEP_ALIVE_SECS`,
//! `VIGIE_MAX_CONNECTIONS`, `VIGIE_PUBLIC_URL`, `VIGIE_SESSION_IDLE_SECS`,
//! `VIGIE_SESSION_LIFETIME_SECS`, `VIGIE_SESSION_COOKIE_SECURE`, `VIGIE_SIGN_IN_LIMIT_PER_ACCOUNT`,
//! `VIGIE_SIGN_IN_LIMIT_PER_IP`, `VIGIE_SIGN_IN_WINDOW_SECS`, `VIGIE_SMTP_HOST`, `VIGIE_SMTP_PORT`,
//! `VIGIE_SMTP_SECURITY`, `VIGIE_SMTP_USER`, `VIGIE_SMTP_FROM`, `VIGIE_SMTP_TIMEOUT_MS`,
//! `VIGIE_SMTP_RETRY_BASE_MS`, `VIGIE_ALERT_CHECK_INTERVAL_SECS`. The SMTP password is read from
//! `VIGIE_SMTP_PASSWORD` only (never from the file, never printed): see [`crate::mail`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::store::DbOptions;

/// Every setting of the service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Address to listen on.
    pub listen: String,
    /// A SQLite path (or `sqlite://PATH`), or a `postgres://` URL.
    pub database_url: String,
    /// Connections in this process's pool (replicas × pool_size must fit PostgreSQL's
    /// `max_connections`).
    pub pool_size: u32,
    /// How long a request waits for a pooled (or new) connection before answering 503 with
    /// `Retry-After` (`/readyz` too). Broken connections are replaced in the background.
    pub connect_timeout_ms: u64,
    /// PostgreSQL `statement_timeout`.
    pub statement_timeout_ms: u64,
    /// At start, how long to keep trying to reach PostgreSQL (it may start after Vigie) before
    /// giving up; 0 tries once.
    pub db_startup_wait_secs: u64,
    /// Longest pause between two of those tries (they start at 250 ms and double).
    pub db_retry_max_ms: u64,
    /// SQLite `synchronous`: `full` survives power loss, `normal` survives a process crash.
    pub sqlite_synchronous: String,
    /// How long a SQLite writer waits for the lock.
    pub sqlite_busy_timeout_ms: u64,
    /// Largest request body accepted (bytes); larger answers 413.
    pub max_request_bytes: usize,
    /// Longest comment accepted (characters); longer answers 422.
    pub max_body_chars: usize,
    /// A request body must be received whole within this many seconds once the handler reads
    /// it (408 otherwise, connection closed): a slow client cannot hold a connection for ever.
    pub body_read_timeout_secs: u64,
    /// A request's headers must be received within this many seconds (actix answers a bare
    /// 408 otherwise and closes).
    pub header_read_timeout_secs: u64,
    /// An idle keep-alive connection is closed after this many seconds (0: no keep-alive).
    pub keep_alive_secs: u64,
    /// Open connections per HTTP worker; at the limit the worker stops accepting (new ones
    /// wait in the listen backlog). `workers` × this must stay below the open-file limit.
    pub max_connections: usize,
    /// Key for hashing emails and IPs. When unset, one is generated and kept in the database.
    pub secret_key: Option<String>,
    /// `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`.
    pub log_format: String,
    /// tracing filter, e.g. `info` or `vigie=debug,info`.
    pub log_level: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Reports one reporter may file per `report_window_secs` (more answer 429).
    pub report_limit_per_reporter: i64,
    /// Reports from one IP (hash) per `report_window_secs`.
    pub report_limit_per_ip: i64,
    /// Reports per site and `report_window_secs` filed with neither IP nor an established
    /// reporter (fresh reporter ids cost nothing, so they share one limit).
    pub report_limit_per_site_without_ip: i64,
    pub report_window_secs: i64,
    /// New reporters on one comment within `brigading_window_secs` that make a burst: the
    /// comment is escalated instead of hidden and their reports stop counting toward hiding.
    pub report_burst_reporters: i64,
    /// Reports by new reporters on one author's comments within `brigading_window_secs` that
    /// make a burst (the same).
    pub brigading_reports: i64,
    pub brigading_window_secs: i64,
    /// How long after a decision it may be appealed; never less than 183 days (DSA Art. 20).
    pub appeal_window_days: i64,
    /// On SIGTERM, how long in-flight requests may run before the workers are stopped.
    pub shutdown_timeout_secs: u64,
    /// The model: a directory with `model.json`, or one with a `DEFAULT` file naming the
    /// version directory to load.
    pub model_dir: String,
    /// A TOML rule file replacing the built-in default rules (sites can still have their own).
    pub rules_file: Option<String>,
    /// Directories under which `POST /v1/models` may register model directories. Empty (the
    /// default): the directory holding the shipped model's version directories (`model_dir`
    /// itself when it has a `DEFAULT` file, else its parent) and `data/models`.
    pub model_roots: Vec<String>,
    /// The same author posting the same text within this window fires the repeat rule.
    pub repeat_window_secs: i64,
    /// What is kept of readers' IP addresses: `hash` (keyed hash), `truncate` (network only)
    /// or `none`.
    pub ip_storage: IpStorage,
    /// Personal data in comments' metadata, reports, decisions and appeals is purged after
    /// this many days (aggregates for the transparency report survive).
    pub retention_days: i64,
    /// IP data (hashed or truncated) is purged after this many days.
    pub ip_retention_days: i64,
    /// How often each replica runs the retention purge (0 turns the scheduled purge off;
    /// `vigie purge` still works).
    pub purge_interval_secs: u64,
    /// How often the webhook worker looks for due deliveries.
    pub webhook_poll_ms: u64,
    /// How long one webhook POST may take before it counts as failed.
    pub webhook_timeout_ms: u64,
    /// First retry delay; each retry doubles it (capped at one hour), with ±50 % jitter.
    pub webhook_retry_base_ms: u64,
    /// Deliveries in flight at once per replica.
    pub webhook_concurrency: usize,
    /// The Coral Talk endpoint answers "no opinion" rather than exceed this: below the
    /// phase timeout set in Coral (200 ms in Coral's admin form by default), so that Coral
    /// still hears the answer.
    pub coral_deadline_ms: u64,
    /// Hosts (names or IP addresses) that webhook URLs may use even though they are, or
    /// resolve to, loopback, private, link-local or multicast addresses (refused otherwise).
    pub webhook_allow_hosts: Vec<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` (or `X-Real-IP`) header names the
    /// client: the audit log's network of a moderator and the per-address sign-in limit use
    /// it. Requests from any other address are taken as they come.
    /// Addresses (`10.0.0.5`) or networks (`10.0.0.0/8`).
    pub trusted_proxies: Vec<IpNetwork>,
    /// The address readers and moderators reach Vigie at (`https://moderation.example.fr`):
    /// invitation links start with it. Unset, the CLI uses `http://` + `listen` and the API the
    /// address the request came to.
    pub public_url: Option<String>,
    /// A console session unused for this long ends.
    pub session_idle_secs: u64,
    /// A console session ends this long after sign-in, used or not.
    pub session_lifetime_secs: u64,
    /// Always mark the session cookie `Secure`, also when a proxy terminates TLS without
    /// saying so (it is marked when the request came over TLS in any case).
    pub session_cookie_secure: bool,
    /// Failed sign-ins for one e-mail per `sign_in_window_secs`; past it, 429.
    pub sign_in_limit_per_account: i64,
    /// Failed sign-ins from one client address per `sign_in_window_secs`; past it, 429.
    pub sign_in_limit_per_ip: i64,
    pub sign_in_window_secs: i64,
    /// The SMTP server e-mail alerts go through; unset, no alert is written or sent.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls` (upgrade required), `tls` (TLS from the first byte, usually port 465) or
    /// `none` (loopback hosts only: a local relay).
    pub smtp_security: SmtpSecurity,
    /// SMTP user name; the password comes from `VIGIE_SMTP_PASSWORD` only.
    pub smtp_user: Option<String>,
    /// The messages' `From`, e.g. `Vigie <vigie@example.fr>` (required with `smtp_host`).
    pub smtp_from: Option<String>,
    /// How long one SMTP conversation may take before it counts as failed.
    pub smtp_timeout_ms: u64,
    /// First retry delay of a message; doubled each retry (capped at one hour), ±50 % jitter.
    pub smtp_retry_base_ms: u64,
    /// How often each replica looks for queues that waited too long and digests that are due.
    pub alert_check_interval_secs: u64,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

/// An IP address or network in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`, `10.0.0.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpNetwork {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// The network of one address.
    pub fn host(addr: std::net::IpAddr) -> IpNetwork {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        IpNetwork { addr, prefix }
    }

    /// Whether `ip` is in the network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let (net, ip, bits) = match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                (u128::from(n.to_bits()), u128::from(i.to_bits()), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
            _ => return false,
        };
        let host_bits = bits - u32::from(self.prefix);
        host_bits >= bits || (net >> host_bits) == (ip >> host_bits)
    }
}

impl TryFrom<String> for IpNetwork {
    type Error = String;

    fn try_from(s: String) -> Result<IpNetwork, String> {
        let invalid = || format!("{s:?} is not an IP address or network (such as 10.0.0.0/8)");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: std::net::IpAddr = addr.parse().map_err(|_| invalid())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(invalid)?,
            None => max,
        };
        Ok(IpNetwork { addr, prefix })
    }
}

impl From<IpNetwork> for String {
    fn from(n: IpNetwork) -> String {
        format!("{}/{}", n.addr, n.prefix)
    }
}

/// What is kept of a reader's IP address.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IpStorage {
    Hash,
    Truncate,
    None,
}

/// Longest session setting honoured (a year): longer values are cut to it.
const MAX_SESSION_SECS: u64 = 365 * 24 * 3600;

/// The shortest appeal window the DSA allows (six months).
pub const MIN_APPEAL_WINDOW_DAYS: i64 = 183;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            database_url: "vigie.db".into(),
            pool_size: 8,
            connect_timeout_ms: 5_000,
            statement_timeout_ms: 30_000,
            db_startup_wait_secs: 60,
            db_retry_max_ms: 5_000,
            sqlite_synchronous: "full".into(),
            sqlite_busy_timeout_ms: 5_000,
            max_request_bytes: 64 * 1024,
            max_body_chars: 10_000,
            body_read_timeout_secs: 10,
            header_read_timeout_secs: 5,
            keep_alive_secs: 5,
            max_connections: 256,
            secret_key: None,
            log_format: "auto".into(),
            log_level: "info".into(),
            workers: 0,
            report_limit_per_reporter: 10,
            report_limit_per_ip: 30,
            report_limit_per_site_without_ip: 20,
            report_window_secs: 600,
            report_burst_reporters: 3,
            brigading_reports: 5,
            brigading_window_secs: 3600,
            appeal_window_days: MIN_APPEAL_WINDOW_DAYS,
            shutdown_timeout_secs: 30,
            model_dir: "models".into(),
            rules_file: None,
            model_roots: Vec::new(),
            repeat_window_secs: 24 * 3600,
            ip_storage: IpStorage::Hash,
            retention_days: 365,
            ip_retention_days: 7,
            purge_interval_secs: 3600,
            webhook_poll_ms: 500,
            webhook_timeout_ms: 10_000,
            webhook_retry_base_ms: 10_000,
            webhook_concurrency: 8,
            coral_deadline_ms: 150,
            webhook_allow_hosts: Vec::new(),
            trusted_proxies: vec![
                IpNetwork::host(std::net::Ipv4Addr::LOCALHOST.into()),
                IpNetwork::host(std::net::Ipv6Addr::LOCALHOST.into()),
            ],
            public_url: None,
            session_idle_secs: 3600,
            session_lifetime_secs: 8 * 3600,
            session_cookie_secure: false,
            sign_in_limit_per_account: 5,
            sign_in_limit_per_ip: 20,
            sign_in_window_secs: 900,
            smtp_host: None,
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_user: None,
            smtp_from: None,
            smtp_timeout_ms: 10_000,
            smtp_retry_base_ms: 60_000,
            alert_check_interval_secs: 60,
        }
    }
}

impl Settings {
    /// Loads the layers. `file` is an explicit config path (it must exist); without one,
    /// `vigie.toml` in the working directory is read when present.
    pub fn load(file: Option<&Path>) -> Result<Settings, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => {
                let default = PathBuf::from("vigie.toml");
                if default.exists() {
                    figment = figment.merge(Toml::file_exact(default));
                }
            }
        }
        figment
            .merge(Env::prefixed("VIGIE_").ignore(&[
                "config",
                "test_database_url",
                "smtp_password",
            ]))
            .extract::<Settings>()
            .map_err(Box::new)
            .and_then(|s| {
                if s.appeal_window_days < MIN_APPEAL_WINDOW_DAYS {
                    return Err(Box::new(figment::Error::from(format!(
                        "appeal_window_days must be at least {MIN_APPEAL_WINDOW_DAYS} (six months)"
                    ))));
                }
                if s.retention_days < 1 || s.ip_retention_days < 1 {
                    return Err(Box::new(figment::Error::from(
                        "retention_days and ip_retention_days must be at least 1".to_owned(),
                    )));
                }
                if let Some(problem) = s.smtp_problem() {
                    return Err(Box::new(figment::Error::from(problem)));
                }
                Ok(s)
            })
    }

    /// Whether e-mail alerts are on (an SMTP host is set).
    pub fn smtp_enabled(&self) -> bool {
        self.smtp_host
            .as_deref()
            .is_some_and(|h| !h.trim().is_empty())
    }

    /// What is wrong with the SMTP settings, if anything.
    pub fn smtp_problem(&self) -> Option<String> {
        let host = self.smtp_host.as_deref().filter(|h| !h.trim().is_empty())?;
        let from = self.smtp_from.as_deref().unwrap_or_default();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Some(format!(
                "smtp_from must be an address such as `Vigie <vigie@example.fr>` (got {from:?})"
            ));
        }
        if self.smtp_security == SmtpSecurity::None && !is_loopback_host(host) {
            return Some(format!(
                "smtp_security = \"none\" is only allowed for a loopback host, not {host}"
            ));
        }
        None
    }

    pub fn report_limits(&self) -> crate::store::reports::ReportLimits {
        crate::store::reports::ReportLimits {
            per_reporter: self.report_limit_per_reporter.max(1),
            per_ip: self.report_limit_per_ip.max(1),
            per_site_without_ip: self.report_limit_per_site_without_ip.max(1),
            window_secs: self.report_window_secs.max(1),
            mail_alerts: self.smtp_enabled(),
            burst: crate::domain::report_weight::BurstRules {
                comment_reporters: self.report_burst_reporters.max(2) as usize,
                author_reports: self.brigading_reports.max(2) as usize,
                window_secs: self.brigading_window_secs.max(1),
            },
        }
    }

    /// How long personal data is kept (at least a day each).
    pub fn retention_policy(&self) -> crate::store::privacy::RetentionPolicy {
        crate::store::privacy::RetentionPolicy {
            retention: chrono::Duration::days(self.retention_days.max(1)),
            ip_retention: chrono::Duration::days(self.ip_retention_days.max(1)),
        }
    }

    /// How long an unused console session lasts.
    pub fn session_idle(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.session_idle_secs.clamp(1, MAX_SESSION_SECS) as i64)
    }

    /// How long a console session lasts at most.
    pub fn session_lifetime(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.session_lifetime_secs.clamp(1, MAX_SESSION_SECS) as i64)
    }

    pub fn db_options(&self) -> DbOptions {
        DbOptions {
            url: self.database_url.clone(),
            pool_size: self.pool_size.max(1),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms.max(1)),
            sqlite_synchronous: self.sqlite_synchronous.clone(),
            sqlite_busy_timeout: Duration::from_millis(self.sqlite_busy_timeout_ms),
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
        }
    }

    /// The settings as TOML with secrets hidden: the secret key and any database password.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.secret_key = shown.secret_key.map(|_| "<hidden>".into());
        shown.database_url = redact_url_password(&shown.database_url);
        toml_string(&shown)
    }
}

fn toml_string(s: &Settings) -> String {
    let mut out = toml::to_string(s).unwrap_or_default();
    if s.secret_key.is_none() {
        out.push_str(
            "# secret_key unset: a key generated on first start is kept in the database\n",
        );
    }
    out
}

/// `localhost` or a loopback address (`127.0.0.1`, `::1`, `[::1]`).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `postgres://user:secret@host/db` → `postgres://user:<hidden>@host/db`.
pub fn redact_url_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("<hidden>"));
            u.to_string().replace("%3Chidden%3E", "<hidden>")
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let net = |s: &str| IpNetwork::try_from(s.to_owned());
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let private = net("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.89.3.4")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(private.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(!private.contains(ip("2001:db8::1")));
        let host = net("127.0.0.1").unwrap();
        assert!(host.contains(ip("127.0.0.1")) && !host.contains(ip("127.0.0.2")));
        let v6 = net("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(net("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nginx", "10.0.0.0/", "::/129", ""] {
            assert!(net(bad).is_err(), "{bad}");
        }
        assert_eq!(String::from(private), "10.0.0.0/8");
    }

    #[test]
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url_password("postgres://vigie:s3cret@localhost/vigie"),
            "postgres://vigie:<hidden>@localhost/vigie"
        );
        assert_eq!(redact_url_password("vigie.db"), "vigie.db");
    }

    #[test]
    fn smtp_without_encryption_is_refused_unless_the_host_is_loopback() {
        let mut s = Settings {
            smtp_host: Some("smtp.example.fr".into()),
            smtp_from: Some("Vigie <vigie@example.fr>".into()),
            ..Settings::default()
        };
        assert_eq!(s.smtp_problem(), None);
        s.smtp_security = SmtpSecurity::None;
        assert!(s.smtp_problem().unwrap().contains("loopback"));
        s.smtp_host = Some("127.0.0.1".into());
        assert_eq!(s.smtp_problem(), None);
        s.smtp_from = Some("not an address".into());
        assert!(s.smtp_problem().unwrap().contains("smtp_from"));
        s.smtp_host = None;
        assert_eq!(s.smtp_problem(), None);
        assert!(!s.smtp_enabled());
    }

    #[test]
    fn redacted_settings_never_show_the_secret_key() {
        let s = Settings {
            secret_key: Some("topsecret".into()),
            database_url: "postgres://u:pw@h/db".into(),
            ..Settings::default()
        };
        let shown = s.redacted_toml();
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(!shown.contains("pw@"), "{shown}");
        assert!(shown.contains("listen = \"127.0.0.1:8080\""), "{shown}");
    }
}
