//! The real `vigie` binary as separate processes: three replicas on one PostgreSQL database
//! (visibility, claims without duplicates, a replica killed mid-load losing nothing, its
//! moderators' claims expiring back), a SQLite server killed with `kill -9` under load and
//! restarted, SIGTERM with a request in flight, `/metrics`, and PostgreSQL going away (cut
//! behind a relay, and a private server really stopped and started) while Vigie runs.
//!
//! PostgreSQL parts run when `VIGIE_TEST_DATABASE_URL` is set (`ignored` otherwise, see `build.rs`;
//! failed with `VIGIE_REQUIRE_POSTGRES=1`). Every loop is bounded in count and time.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};
use vigie::store::DbConnection;

mod common;

use common::{postgres_admin_url, PgDatabase};

/// How long a process may take to start listening or to stop.
const START_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Databases

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    external_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    decisions: i64,
}

/// Every stored comment's external id with its number of decision rows.
fn stored_comments(conn: &mut DbConnection) -> Vec<Stored> {
    diesel::sql_query(
        "SELECT c.external_id AS external_id, \
         (SELECT COUNT(*) FROM decisions d WHERE d.comment_id = c.id) AS decisions \
         FROM comments c",
    )
    .load(conn)
    .unwrap()
}

/// Each acknowledged (201) external id is stored exactly once, with its decision row.
fn assert_all_acknowledged_stored(conn: &mut DbConnection, acknowledged: &HashSet<String>) {
    let mut seen: HashMap<String, (usize, i64)> = HashMap::new();
    for row in stored_comments(conn) {
        let e = seen.entry(row.external_id).or_default();
        e.0 += 1;
        e.1 += row.decisions;
    }
    for id in acknowledged {
        match seen.get(id) {
            None => panic!("acknowledged comment {id} was lost"),
            Some((n, _)) if *n != 1 => panic!("comment {id} is stored {n} times"),
            Some((_, 0)) => panic!("comment {id} has no decision row"),
            Some(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Processes

fn vigie(dir: &Path, database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
    cmd.current_dir(dir)
        .env_remove("VIGIE_CONFIG")
        .env(
            "VIGIE_MODEL_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
        )
        .env("VIGIE_DATABASE_URL", database_url)
        .env("VIGIE_LOG_FORMAT", "json")
        .env("VIGIE_LOG_LEVEL", "info")
        .env("VIGIE_LISTEN", "127.0.0.1:0")
        .env("VIGIE_WORKERS", "2")
        .env("VIGIE_POOL_SIZE", "4");
    cmd
}

/// `vigie keys create … --quiet`: the secret.
fn create_key(dir: &Path, database_url: &str, site: &str, role: &str, name: &str) -> String {
    let out = vigie(dir, database_url)
        .args([
            "keys", "create", "--site", site, "--role", role, "--name", name, "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A running `vigie serve`, its port read from the "vigie listening" log line.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path, database_url: &str, extra_env: &[(&str, &str)]) -> Server {
        let mut cmd = vigie(dir, database_url);
        cmd.arg("serve")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        // Keeps draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if v["message"] == "vigie listening" {
                    let _ = tx.send(v["port"].as_u64().unwrap_or(0) as u16);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let port = match rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "vigie serve did not start listening:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        assert_ne!(port, 0);
        Server { child, port, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// SIGKILL: no chance to clean anything up.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "vigie serve did not exit within {timeout:?}:\n{}",
                    self.log.lock().unwrap().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn comment(external_id: &str, thread: &str) -> Value {
    json!({
        "external_id": external_id,
        "thread": {"id": thread, "url": format!("https://example.fr/{thread}"), "title": "Le cloud souverain"},
        "author": {"id": format!("u-{}", external_id.len() % 7), "name": "Lectrice", "email": "lectrice@example.fr"},
        "body": format!("Les grandes entreprises sont très regardantes ({external_id})."),
        "lang": "fr"
    })
}

/// Posts comments `prefix-0..count` from `tasks` concurrent clients spread over `urls`
/// (`urls[i]` a base URL), retrying a refused or broken request on the next replica, as a load
/// balancer would. Calls `midway` once `trigger` comments are acknowledged. Returns the
/// acknowledged external ids (201, or 200 for a retry whose first try had been stored).
async fn post_load(
    urls: Vec<String>,
    key: String,
    prefix: &str,
    count: usize,
    tasks: usize,
    trigger: usize,
    midway: impl FnOnce() + Send + 'static,
) -> HashSet<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let midway = Arc::new(Mutex::new(Some(midway)));
    let urls = Arc::new(urls);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let failed = failed.clone();
        let (next, acked, midway, urls, key) = (
            next.clone(),
            acked.clone(),
            midway.clone(),
            urls.clone(),
            key.clone(),
        );
        let prefix = prefix.to_owned();
        handles.push(tokio::spawn(async move {
            let http = client();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= count || Instant::now() > deadline {
                    break;
                }
                let external_id = format!("{prefix}-{i}");
                let body = comment(&external_id, &format!("t-{}", i % 5));
                // At most one try per replica, and a few rounds.
                for attempt in 0..(3 * urls.len()) {
                    let base = &urls[(i + t + attempt) % urls.len()];
                    let sent = http
                        .post(format!("{base}/v1/comments"))
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 || r.status() == 200 => {
                            let n = {
                                let mut a = acked.lock().unwrap();
                                a.insert(external_id.clone());
                                a.len()
                            };
                            if n >= trigger {
                                if let Some(f) = midway.lock().unwrap().take() {
                                    f();
                                }
                            }
                            break;
                        }
                        // The replica is gone (connection refused/reset) or answered 503.
                        _ => {
                            failed.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await
                        }
                    }
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!(
        "{prefix}: {} of {count} acknowledged, {} failed tries (retried elsewhere or given up)",
        acked.len(),
        failed.load(Ordering::SeqCst)
    );
    acked
}

async fn claim(http: &reqwest::Client, base: &str, key: &str, count: i64) -> Vec<i64> {
    let r = http
        .post(format!("{base}/v1/queues/pending/claims"))
        .bearer_auth(key)
        .json(&json!({"count": count, "lease_seconds": 30, "order": "age"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "claim answered {}", r.status());
    let v: Value = r.json().await.unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect()
}

/// The value of one sample of the Prometheus text, by name and a label fragment.
fn sample(text: &str, name: &str, label: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            (l.starts_with(&format!("{name} ")) || l.starts_with(&format!("{name}{{")))
                && l.contains(label)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: three replicas

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(vigie_postgres),
    ignore = "VIGIE_TEST_DATABASE_URL was not set when the tests were built"
)]
async fn three_replicas_share_one_postgresql_and_survive_a_sigkill() {
    let Some(admin_url) = postgres_admin_url() else {
        return;
    };
    let db = PgDatabase::create(admin_url, "vigie_cluster");
    let dir = tempfile::tempdir().unwrap();
    let ingest = create_key(dir.path(), &db.url, "numerama", "ingest", "cms");
    let load_ingest = create_key(dir.path(), &db.url, "charge", "ingest", "cms");
    let moderators: Vec<String> = (0..8)
        .map(|i| {
            create_key(
                dir.path(),
                &db.url,
                "numerama",
                "moderator",
                &format!("m{i}"),
            )
        })
        .collect();
    // The first replica creates the shared hashing key; the others read it.
    let mut replicas = vec![Server::start(dir.path(), &db.url, &[])];
    replicas.push(Server::start(dir.path(), &db.url, &[]));
    replicas.push(Server::start(dir.path(), &db.url, &[]));
    let bases: Vec<String> = replicas.iter().map(|r| r.url("")).collect();
    let http = client();

    // 1. A comment posted to any replica is visible from all of them.
    let mut ids = Vec::new();
    for i in 0..30 {
        let r = http
            .post(format!("{}/v1/comments", bases[i % 3]))
            .bearer_auth(&ingest)
            .json(&comment(&format!("c-{i}"), "article-42"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "pending", "numerama pre-moderates");
        ids.push(v["id"].as_i64().unwrap());
    }
    for base in &bases {
        for (i, id) in ids.iter().enumerate() {
            let r = http
                .get(format!("{base}/v1/comments/{id}"))
                .bearer_auth(&ingest)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["external_id"], format!("c-{i}"));
        }
        let counts: Value = http
            .get(format!("{base}/v1/queues"))
            .bearer_auth(&moderators[0])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(counts["pending"], 30, "{counts}");
    }

    // 2. Eight moderators claim through different replicas at once: no comment twice.
    let mut claimers = Vec::new();
    for (m, key) in moderators.iter().enumerate() {
        let (key, base) = (key.clone(), bases[m % 3].clone());
        claimers.push(tokio::spawn(async move {
            let http = client();
            let mut mine = Vec::new();
            for _ in 0..20 {
                let got = claim(&http, &base, &key, 3).await;
                if got.is_empty() {
                    break;
                }
                mine.extend(got);
            }
            mine
        }));
    }
    let mut claimed_by: HashMap<i64, usize> = HashMap::new();
    let mut per_moderator = Vec::new();
    for (m, c) in claimers.into_iter().enumerate() {
        let mine = c.await.unwrap();
        for id in &mine {
            if let Some(other) = claimed_by.insert(*id, m) {
                panic!("comment {id} claimed by moderators {other} and {m}");
            }
        }
        per_moderator.push(mine);
    }
    let all: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(
        claimed_by.keys().copied().collect::<HashSet<_>>(),
        all,
        "every pending comment claimed once"
    );

    // 3. Load on another site through the three replicas; replica 2 is SIGKILLed midway.
    let victim = Arc::new(Mutex::new(Some(replicas.pop().unwrap())));
    let killer = victim.clone();
    let acknowledged = post_load(bases.clone(), load_ingest, "load", 300, 6, 100, move || {
        if let Some(mut r) = killer.lock().unwrap().take() {
            r.kill();
        }
    })
    .await;
    assert!(
        victim.lock().unwrap().is_none(),
        "the replica was killed mid-load"
    );
    assert!(
        acknowledged.len() >= 250,
        "{} acknowledged",
        acknowledged.len()
    );
    let mut conn = db.connect();
    assert_all_acknowledged_stored(&mut conn, &acknowledged);

    // 4. The killed replica's moderators (those who claimed through it) hold claims that
    //    nobody releases; once their leases run out (moved into the past here, rather than
    //    waiting 30 s) the comments return to the queue for moderators on other replicas.
    let stranded: HashSet<i64> = per_moderator
        .iter()
        .enumerate()
        .filter(|(m, _)| m % 3 == 2)
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    assert!(!stranded.is_empty());
    let list = stranded
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let moved = diesel::sql_query(format!(
        "UPDATE comments SET claim_expires_at = claim_expires_at - INTERVAL '1 hour' \
         WHERE id IN ({list})"
    ))
    .execute(&mut conn)
    .unwrap();
    assert_eq!(moved, stranded.len());
    let metrics = http
        .get(format!("{}/metrics", bases[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&metrics, "vigie_claims_expired", ""),
        Some(stranded.len() as f64),
        "{metrics}"
    );
    let mut reclaimed = HashSet::new();
    for _ in 0..5 {
        let got = claim(&http, &bases[0], &moderators[0], 50).await;
        if got.is_empty() {
            break;
        }
        reclaimed.extend(got);
    }
    assert_eq!(reclaimed, stranded, "exactly the expired claims came back");

    // /metrics of a surviving replica: its own requests, queue depth, pool, build.
    let text = http
        .get(format!("{}/metrics", bases[1]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sample(&text, "vigie_http_requests_total", "route=\"/v1/comments\"").unwrap_or(0.0) > 0.0,
        "{text}"
    );
    assert!(
        text.contains("vigie_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        sample(&text, "vigie_comments_intake_total", "status=\"pending\"").unwrap_or(0.0) > 0.0,
        "{text}"
    );
    assert!(
        sample(&text, "vigie_verdicts_total", "decision=\"").unwrap_or(0.0) > 0.0,
        "verdicts are counted: {text}"
    );
    assert!(text.contains("vigie_model_info{version=\"vigie-"), "{text}");
    let pending = 30.0 + acknowledged.len() as f64;
    assert_eq!(
        sample(&text, "vigie_queue_depth", "queue=\"pending\""),
        Some(pending),
        "{text}"
    );
    assert!(text.contains("vigie_db_pool_connections"), "{text}");
    assert!(
        text.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(
        !text.contains("/v1/comments/1"),
        "route patterns only: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// SQLite: kill -9 under load, restart on the same file

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_loses_no_acknowledged_comment_on_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crash.db");
    let url = file.to_string_lossy().into_owned();
    let key = create_key(dir.path(), &url, "numerama", "ingest", "cms");
    let server = Arc::new(Mutex::new(Some(Server::start(dir.path(), &url, &[]))));
    let base = server.lock().unwrap().as_ref().unwrap().url("");
    let killer = server.clone();
    // One process: once it is killed, the remaining requests fail (bounded retries).
    let acknowledged = post_load(vec![base], key.clone(), "crash", 400, 6, 150, move || {
        if let Some(mut s) = killer.lock().unwrap().take() {
            s.kill();
        }
    })
    .await;
    assert!(server.lock().unwrap().is_none(), "killed mid-load");
    assert!(acknowledged.len() >= 150, "{}", acknowledged.len());
    assert!(acknowledged.len() < 400, "the kill happened under load");

    // Restart on the same file: it opens, recovers the WAL and serves what was acknowledged.
    let restarted = Server::start(dir.path(), &url, &[]);
    let r = client()
        .post(restarted.url("/v1/comments"))
        .bearer_auth(&key)
        .json(&comment("crash-0", "t-0"))
        .send()
        .await
        .unwrap();
    assert!(r.status() == 200 || r.status() == 201, "{}", r.status());
    let mut conn = DbConnection::Sqlite(diesel::sqlite::SqliteConnection::establish(&url).unwrap());
    assert_all_acknowledged_stored(&mut conn, &acknowledged);
}

// ---------------------------------------------------------------------------------------------
// SIGTERM: the request in flight completes, then exit 0

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("term.db").to_string_lossy().into_owned();
    let key = create_key(dir.path(), &url, "numerama", "ingest", "cms");
    let mut server = Server::start(dir.path(), &url, &[("VIGIE_SHUTDOWN_TIMEOUT_SECS", "20")]);
    let body = serde_json::to_vec(&comment("term-1", "t-1")).unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The head and half the body: the request is in flight when the signal arrives.
    let head = format!(
        "POST /v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let half = body.len() / 2;
    stream.write_all(&body[..half]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "vigie waits for the request in flight"
    );
    stream.write_all(&body[half..]).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = server.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{status:?}");
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("vigie stopped"), "{log}");
    let mut conn = DbConnection::Sqlite(diesel::sqlite::SqliteConnection::establish(&url).unwrap());
    assert_all_acknowledged_stored(&mut conn, &HashSet::from(["term-1".to_owned()]));
}

// ---------------------------------------------------------------------------------------------
// /metrics: one recorder per app, even with several apps in one process

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_kept_per_app_in_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut apps = Vec::new();
    for n in 0..2 {
        let settings = vigie::config::Settings {
            listen: "127.0.0.1:0".into(),
            database_url: dir
                .path()
                .join(format!("m{n}.db"))
                .to_string_lossy()
                .into_owned(),
            workers: 1,
            log_level: "error".into(),
            ..vigie::config::Settings::default()
        };
        let state = tokio::task::spawn_blocking(move || vigie::startup::prepare_state(settings))
            .await
            .unwrap()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let app = vigie::startup::Application::with_listener(listener, state, 1).unwrap();
        let base = format!("http://127.0.0.1:{}", app.port);
        tokio::spawn(app.server);
        apps.push(base);
    }
    let http = client();
    for _ in 0..3 {
        let r = http
            .get(format!("{}/healthz", apps[0]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = http
        .get(format!("{}/v1/comments/12345", apps[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{}/no/such/route/42", apps[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let first = http
        .get(format!("{}/metrics", apps[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let first = first.text().await.unwrap();
    let second = http
        .get(format!("{}/metrics", apps[1]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&first, "vigie_http_requests_total", "route=\"/healthz\""),
        Some(3.0),
        "{first}"
    );
    assert!(
        first.contains("route=\"/v1/comments/{id}\"") && first.contains("status=\"401\""),
        "{first}"
    );
    assert!(first.contains("route=\"unmatched\""), "{first}");
    assert!(
        !first.contains("12345") && !first.contains("/no/such"),
        "{first}"
    );
    assert_eq!(
        sample(&first, "vigie_queue_depth", "queue=\"pending\""),
        Some(0.0)
    );
    assert_eq!(sample(&first, "vigie_db_up", ""), Some(1.0));
    assert_eq!(
        sample(&second, "vigie_http_requests_total", "route=\"/healthz\""),
        None,
        "the other app counted nothing: {second}"
    );
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL unreachable: 503 with Retry-After, then recovery without a restart

/// A 503 that tells the client when to come back (`Retry-After`).
fn assert_unavailable(r: &reqwest::Response, what: &str) {
    assert_eq!(r.status(), 503, "{what}");
    assert!(r.headers().contains_key("retry-after"), "{what}");
}

/// `/readyz` is 503 with `Retry-After` while the database is away.
async fn assert_not_ready(http: &reqwest::Client, server: &Server) {
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_unavailable(&ready, "readyz while the database is away");
}

/// Waits (at most 30 s) until `/readyz` answers 200 again, Vigie not restarted.
async fn wait_until_ready(http: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = http.get(server.url("/readyz")).send().await.unwrap();
        if r.status() == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "not ready again after 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TCP relay to PostgreSQL that can be cut (every connection closed, new ones refused) and
/// restored: the database "goes down" without stopping the shared server.
struct Relay {
    port: u16,
    down: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let (d, o) = (down.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                {
                    let mut o = o.lock().unwrap();
                    o.push(client.try_clone().unwrap());
                    o.push(server.try_clone().unwrap());
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, down, open }
    }

    /// A relay to the server of `database_url`, and the URL that goes through it.
    fn in_front_of(database_url: &str) -> (Relay, url::Url) {
        let mut url = url::Url::parse(database_url).unwrap();
        let upstream = std::net::ToSocketAddrs::to_socket_addrs(&(
            url.host_str().unwrap().to_owned(),
            url.port().unwrap_or(5432),
        ))
        .unwrap()
        .next()
        .unwrap();
        let relay = Relay::start(upstream);
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(relay.port)).unwrap();
        (relay, url)
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// A fresh PostgreSQL database reached through a relay, with an ingest key: what the
/// database-down tests start from (`None` when no PostgreSQL is configured).
struct Relayed {
    _db: PgDatabase,
    dir: tempfile::TempDir,
    key: String,
    relay: Relay,
    url: url::Url,
}

impl Relayed {
    fn start() -> Option<Relayed> {
        let db = PgDatabase::create(postgres_admin_url()?, "vigie_cluster");
        let dir = tempfile::tempdir().unwrap();
        let key = create_key(dir.path(), &db.url, "numerama", "ingest", "cms");
        let (relay, url) = Relay::in_front_of(&db.url);
        Some(Relayed {
            _db: db,
            dir,
            key,
            relay,
            url,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(vigie_postgres),
    ignore = "VIGIE_TEST_DATABASE_URL was not set when the tests were built"
)]
async fn database_down_answers_503_with_retry_after_and_recovers() {
    let Some(db) = Relayed::start() else {
        return;
    };
    let (dir, key, relay, url) = (&db.dir, &db.key, &db.relay, &db.url);
    let server = Server::start(
        dir.path(),
        url.as_str(),
        &[("VIGIE_CONNECT_TIMEOUT_MS", "1000")],
    );
    let http = client();
    let post = |n: usize| {
        http.post(server.url("/v1/comments"))
            .bearer_auth(key)
            .json(&comment(&format!("down-{n}"), "t"))
            .send()
    };
    assert_eq!(post(0).await.unwrap().status(), 201);
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    relay.cut();
    assert_not_ready(&http, &server).await;
    let refused = post(1).await.unwrap();
    assert_unavailable(&refused, "a write while the database is down");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let text = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(sample(&text, "vigie_db_up", ""), Some(0.0), "{text}");

    // Back: Vigie reconnects by itself (bounded wait).
    relay.restore();
    wait_until_ready(&http, &server).await;
    assert_eq!(post(2).await.unwrap().status(), 201);
    let log = server.log.lock().unwrap().join("\n");
    // A 500 logs "request failed" with its cause; none happened.
    assert!(!log.contains("\"request failed\""), "{log}");
    assert!(
        !log.contains("Invalid connection url"),
        "PostgreSQL's own error is reported: {log}"
    );
}

/// A PostgreSQL server of the test's own (`initdb` in a temporary directory, a free loopback
/// port), so that the test can really stop and start it without touching the shared server.
/// Run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
struct PrivatePostgres {
    bin: std::path::PathBuf,
    data: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    /// The server programs: `VIGIE_PG_BINDIR`, else the newest `/usr/lib/postgresql/*/bin`.
    fn bindir() -> Option<std::path::PathBuf> {
        if let Ok(dir) = std::env::var("VIGIE_PG_BINDIR") {
            return Some(dir.into());
        }
        let mut found: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let version = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    }

    /// `None` (skipped with a message) when PostgreSQL is not required and not installed.
    fn init() -> Option<PrivatePostgres> {
        postgres_admin_url()?;
        let Some(bin) = Self::bindir() else {
            assert!(
                std::env::var("VIGIE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "VIGIE_REQUIRE_POSTGRES=1 but no initdb under /usr/lib/postgresql/*/bin \
                 (set VIGIE_PG_BINDIR)"
            );
            eprintln!("skipped: no PostgreSQL server programs to start a private server");
            return None;
        };
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let data = tempfile::tempdir().unwrap();
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:", data.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success(), "chown of the data directory");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePostgres {
            bin,
            data,
            port,
            as_postgres,
        };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.pgdata(),
                "-U",
                "vigie",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        pg.start();
        Some(pg)
    }

    fn pgdata(&self) -> String {
        self.data.path().join("pgdata").to_str().unwrap().to_owned()
    }

    /// One of the server programs, as the `postgres` user when the tests run as root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off",
            self.port
        );
        let log = self.data.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.pgdata(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// `pg_ctl stop -m fast`: the server closes every session and exits.
    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.pgdata(), "-m", "fast", "-w", "-t", "60", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://vigie@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.pgdata(), "-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The server itself stopped (`pg_ctl stop -m fast`) and started again while Vigie runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(vigie_postgres),
    ignore = "VIGIE_TEST_DATABASE_URL was not set when the tests were built"
)]
async fn postgresql_stopped_then_started_again_vigie_answers_503_and_recovers_by_itself() {
    let Some(pg) = PrivatePostgres::init() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), &pg.url(), "numerama", "ingest", "cms");
    let server = Server::start(
        dir.path(),
        &pg.url(),
        &[("VIGIE_CONNECT_TIMEOUT_MS", "1000")],
    );
    let http = client();
    let post = |n: usize| {
        http.post(server.url("/v1/comments"))
            .bearer_auth(&key)
            .json(&comment(&format!("stopped-{n}"), "t"))
            .send()
    };
    assert_eq!(post(0).await.unwrap().status(), 201);

    pg.stop();
    assert_not_ready(&http, &server).await;
    for n in 1..=3 {
        let refused = post(n).await.unwrap();
        assert_unavailable(&refused, &format!("write {n} while PostgreSQL is stopped"));
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
    }

    pg.start();
    wait_until_ready(&http, &server).await;
    assert_eq!(post(4).await.unwrap().status(), 201);
    // A refused write stored nothing; an acknowledged one is there once, with its decision.
    let mut conn = DbConnection::Pg(diesel::pg::PgConnection::establish(&pg.url()).unwrap());
    let stored: HashMap<String, i64> = stored_comments(&mut conn)
        .into_iter()
        .map(|s| (s.external_id, s.decisions))
        .collect();
    assert_eq!(
        stored,
        HashMap::from([("stopped-0".to_owned(), 1), ("stopped-4".to_owned(), 1)])
    );
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains("\"request failed\""), "no 500: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(vigie_postgres),
    ignore = "VIGIE_TEST_DATABASE_URL was not set when the tests were built"
)]
async fn at_start_vigie_waits_for_postgresql_with_backoff_or_exits_when_told_not_to() {
    let Some(db) = Relayed::start() else {
        return;
    };
    let (dir, key, relay, url) = (&db.dir, &db.key, &db.relay, &db.url);
    relay.cut();

    // Told not to wait: one try, a clear error, a failing exit status.
    let output = vigie(dir.path(), url.as_str())
        .arg("serve")
        .env("VIGIE_DB_STARTUP_WAIT_SECS", "0")
        .env("VIGIE_CONNECT_TIMEOUT_MS", "1000")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.to_lowercase().contains("postgres"), "{stderr}");
    assert!(
        !stderr.contains("vigie:vigie@"),
        "no password in errors: {stderr}"
    );

    // Waiting (the default): PostgreSQL comes back 3 s later and Vigie starts by itself.
    let starting = {
        let (dir, url) = (dir.path().to_owned(), url.to_string());
        std::thread::spawn(move || {
            Server::start(
                &dir,
                &url,
                &[
                    ("VIGIE_CONNECT_TIMEOUT_MS", "500"),
                    ("VIGIE_DB_RETRY_MAX_MS", "1000"),
                ],
            )
        })
    };
    std::thread::sleep(Duration::from_secs(3));
    relay.restore();
    let server = starting.join().unwrap();
    let log = server.log.lock().unwrap().join("\n");
    let retries = log.matches("database not reachable yet").count();
    assert!(
        retries >= 2,
        "tried again with pauses while it was down: {log}"
    );
    assert!(
        !log.contains("vigie:vigie@"),
        "no password in the log: {log}"
    );
    let created = client()
        .post(server.url("/v1/comments"))
        .bearer_auth(key)
        .json(&comment("after-wait", "t"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}
