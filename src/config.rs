//! Typed settings, in layers: defaults, then an optional TOML file (`vigie.toml`, or the path in
//! `--config` / `VIGIE_CONFIG`), then `VIGIE_*` environment variables.
//!
//! Environment variables read (each overrides the key of the same name in lower case):
//! `VIGIE_LISTEN`, `VIGIE_DATABASE_URL`, `VIGIE_POOL_SIZE`, `VIGIE_CONNECT_TIMEOUT_MS`,
//! `VIGIE_STATEMENT_TIMEOUT_MS`, `VIGIE_SQLITE_SYNCHRONOUS`, `VIGIE_SQLITE_BUSY_TIMEOUT_MS`,
//! `VIGIE_MAX_REQUEST_BYTES`, `VIGIE_MAX_BODY_CHARS`, `VIGIE_SECRET_KEY`, `VIGIE_LOG_FORMAT`,
//! `VIGIE_LOG_LEVEL`, `VIGIE_WORKERS`.

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
    /// Connections in the pool.
    pub pool_size: u32,
    /// How long a request waits for a pooled connection before answering 503.
    pub connect_timeout_ms: u64,
    /// PostgreSQL `statement_timeout`.
    pub statement_timeout_ms: u64,
    /// SQLite `synchronous`: `full` survives power loss, `normal` survives a process crash.
    pub sqlite_synchronous: String,
    /// How long a SQLite writer waits for the lock.
    pub sqlite_busy_timeout_ms: u64,
    /// Largest request body accepted (bytes); larger answers 413.
    pub max_request_bytes: usize,
    /// Longest comment accepted (characters); longer answers 422.
    pub max_body_chars: usize,
    /// Key for hashing emails and IPs. When unset, one is generated and kept in the database.
    pub secret_key: Option<String>,
    /// `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`.
    pub log_format: String,
    /// tracing filter, e.g. `info` or `vigie=debug,info`.
    pub log_level: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            database_url: "vigie.db".into(),
            pool_size: 8,
            connect_timeout_ms: 5_000,
            statement_timeout_ms: 30_000,
            sqlite_synchronous: "full".into(),
            sqlite_busy_timeout_ms: 5_000,
            max_request_bytes: 64 * 1024,
            max_body_chars: 10_000,
            secret_key: None,
            log_format: "auto".into(),
            log_level: "info".into(),
            workers: 0,
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
            .merge(Env::prefixed("VIGIE_").ignore(&["config", "test_database_url"]))
            .extract()
            .map_err(Box::new)
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
    fn passwords_in_database_urls_are_hidden() {
        assert_eq!(
            redact_url_password("postgres://vigie:s3cret@localhost/vigie"),
            "postgres://vigie:<hidden>@localhost/vigie"
        );
        assert_eq!(redact_url_password("vigie.db"), "vigie.db");
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
