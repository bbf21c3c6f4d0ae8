//! What every test binary shares (`tests/api`, `tests/console.rs`, `tests/cluster.rs`): the
//! real app spawned on a random port against a fresh database (a SQLite file in a temporary
//! directory, or a PostgreSQL database created for the test and dropped afterwards when
//! `VIGIE_TEST_DATABASE_URL` is set), and the requests and assertions the tests repeat.
//!
//! Each test binary includes this module as `common` at its root; not every binary uses every
//! item, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod smtp;

use std::net::TcpListener;

use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};
use vigie::config::Settings;
use vigie::domain::Role;
use vigie::startup::{prepare_state, Application};
use vigie::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test once per backend: `sqlite::NAME` and `postgres::NAME`. The PostgreSQL
/// variants are `ignored` unless `VIGIE_TEST_DATABASE_URL` (or `VIGIE_REQUIRE_POSTGRES=1`) was
/// set when the tests were built (`build.rs`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(vigie_postgres),
                    ignore = "VIGIE_TEST_DATABASE_URL was not set when the tests were built"
                )]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// The PostgreSQL server for tests, if configured. With `VIGIE_REQUIRE_POSTGRES=1` (CI), a
/// missing server is a failure rather than a skip.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("VIGIE_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("VIGIE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "VIGIE_REQUIRE_POSTGRES=1 but VIGIE_TEST_DATABASE_URL is not set"
            );
            eprintln!("skipped: VIGIE_TEST_DATABASE_URL is not set, no PostgreSQL to test against");
            None
        }
    }
}

/// A PostgreSQL database of its own on the test server, dropped with this value.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates `<prefix>_<random>` on the server at `admin_url`.
    pub fn create(admin_url: String, prefix: &str) -> PgDatabase {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::pg::PgConnection::establish(&admin_url)
            .expect("cannot reach the PostgreSQL server of VIGIE_TEST_DATABASE_URL");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .expect("create test database");
        let mut url = url::Url::parse(&admin_url).expect("VIGIE_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        PgDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }
    }

    /// A connection of the test's own, outside the app's pool.
    pub fn connect(&self) -> vigie::store::DbConnection {
        vigie::store::DbConnection::Pg(diesel::pg::PgConnection::establish(&self.url).unwrap())
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::pg::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// A test's database, removed when the test ends.
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgDatabase),
}

fn fresh_database(backend: Backend) -> Option<(String, TestDb)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("vigie-test.db");
            Some((path.to_string_lossy().into_owned(), TestDb::Sqlite(dir)))
        }
        Backend::Postgres => {
            let db = PgDatabase::create(postgres_admin_url()?, "vigie_test");
            Some((db.url.clone(), TestDb::Postgres(db)))
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    _background: vigie::background::Background,
    _db: TestDb,
}

pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.to_owned(),
        pool_size: 6,
        workers: 1,
        log_level: std::env::var("VIGIE_TEST_LOG").unwrap_or_else(|_| "error".into()),
        // A loaded test machine can take longer than Coral's 150 ms: answers are checked here,
        // the deadline by its own test (0 ms).
        coral_deadline_ms: 30_000,
        ..Settings::default()
    }
}

/// The app on a random port, or `None` (test skipped) when the backend is not available.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (database_url, db) = fresh_database(backend)?;
    let mut settings = test_settings(&database_url);
    adjust(&mut settings);
    let workers = settings.workers;
    vigie::telemetry::init("json", &settings.log_level);
    let state = tokio::task::spawn_blocking(move || prepare_state(settings))
        .await
        .unwrap()
        .expect("app state");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::with_listener(listener, state, workers).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.server);
    Some(TestApp {
        address,
        client: reqwest::Client::new(),
        state: app.state,
        _background: app.background,
        _db: db,
    })
}

impl TestApp {
    /// A new key for `site` with `role`; the secret.
    pub async fn key(&self, site: &str, role: Role) -> String {
        let pool = self.state.pool.clone();
        let site = site.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            vigie::store::keys::create(&mut conn, &site, role, "test")
                .unwrap()
                .secret
        })
        .await
        .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(
        &self,
        path: &str,
        key: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` that must answer 200; its JSON body.
    pub async fn get_json(&self, path: &str, key: &str) -> serde_json::Value {
        let r = self.get(path, key).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.unwrap()
    }

    pub async fn delete(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// Runs `vigie ARGS` in `dir` against this app's database, with the shipped model.
    pub fn cli(&self, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
            .current_dir(dir)
            .env_remove("VIGIE_CONFIG")
            .env("VIGIE_DATABASE_URL", &self.state.settings.database_url)
            .env("VIGIE_LOG_FORMAT", "json")
            .env(
                "VIGIE_MODEL_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
            )
            .args(args)
            .output()
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Runs a query on the app's own database.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut vigie::store::DbConnection) -> T + Send + 'static,
    ) -> T {
        let pool = self.state.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }

    /// Moves a comment's decision rows `days` into the past, as if time had passed. The
    /// decision log refuses any change (its triggers): they are lifted for this one update.
    pub async fn backdate_decisions(&self, comment_id: i64, days: i64) {
        use vigie::store::DbConnection;
        #[derive(diesel::QueryableByName)]
        struct Sql {
            #[diesel(sql_type = diesel::sql_types::Text)]
            sql: String,
        }
        self.with_db(move |conn| match conn {
            DbConnection::Sqlite(c) => {
                let trigger: Sql = diesel::sql_query(
                    "SELECT sql FROM sqlite_master WHERE name = 'decisions_append_only_update'",
                )
                .get_result(c)
                .unwrap();
                diesel::sql_query("DROP TRIGGER decisions_append_only_update")
                    .execute(c)
                    .unwrap();
                diesel::sql_query(format!(
                    "UPDATE decisions SET created_at = datetime(created_at, '-{days} days') \
                     WHERE comment_id = {comment_id}"
                ))
                .execute(c)
                .unwrap();
                diesel::sql_query(trigger.sql).execute(c).unwrap();
            }
            DbConnection::Pg(c) => {
                diesel::sql_query("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
                    .execute(c)
                    .unwrap();
                diesel::sql_query(format!(
                    "UPDATE decisions SET created_at = created_at - INTERVAL '{days} days' \
                     WHERE comment_id = {comment_id}"
                ))
                .execute(c)
                .unwrap();
                diesel::sql_query("ALTER TABLE decisions ENABLE TRIGGER decisions_append_only")
                    .execute(c)
                    .unwrap();
            }
        })
        .await
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        self.with_db(move |conn| {
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result::<N>(conn)
                .unwrap()
                .n
        })
        .await
    }
}

/// A comment body like our first user's readers write.
pub fn comment(external_id: &str, thread: &str, body: &str) -> Value {
    json!({
        "external_id": external_id,
        "thread": {"id": thread, "url": format!("https://example.fr/articles/{thread}"), "title": "Les grandes entreprises et le cloud"},
        "author": {"id": "u-fabrice", "name": "Fabrice", "email": "fabrice@example.fr"},
        "body": body,
        "lang": "fr",
        "client": {"ip": "192.0.2.10", "user_agent": "Mozilla/5.0"}
    })
}

/// Asserts an error answer: status, problem+json media type, and (when given) the field.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    field: Option<&str>,
) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status);
    assert!(problem["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:vigie:problem:"));
    assert!(!problem["detail"].as_str().unwrap().is_empty());
    if let Some(field) = field {
        assert_eq!(problem["field"], field, "problem: {problem}");
    }
    problem
}
