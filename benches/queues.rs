//! Queue benchmark (a load script, not a timed test): seeds 1,000,000 comments (20 % pending)
//! on SQLite, or on PostgreSQL when `VIGIE_BENCH_DATABASE_URL` names a server where the role
//! may create databases, runs the real app on a random port, and measures through HTTP:
//! a queue page of 50 (by age and by risk), a claim, and 8 moderators claiming and deciding
//! concurrently, checking for double claims and lost decisions.
//!
//!   cargo bench --bench queues                       # SQLite
//!   VIGIE_BENCH_DATABASE_URL=postgres://vigie:vigie@127.0.0.1/postgres cargo bench --bench queues
//!   VIGIE_BENCH_COMMENTS=100000 VIGIE_BENCH_SECONDS=10 …   # smaller runs

use std::collections::HashSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use serde_json::{json, Value};
use vigie::config::Settings;
use vigie::domain::Role;
use vigie::startup::{prepare_state, Application};

mod support;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<32} n={:<6} p50={:>8.2?} p99={:>8.2?} max={:>8.2?}",
        samples.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        samples.last().copied().unwrap_or_default()
    );
}

fn seed_sql(postgres: bool, n: u64) -> String {
    let threads = 1000;
    let authors = 20000;
    if postgres {
        format!(
            "INSERT INTO threads (site_id, external_id, url, title, status, created_at)
               SELECT 1, 'seed-thread-' || i, 'https://example.fr/a/' || i, 'Article ' || i, 'open', TIMESTAMP '2026-01-01'
               FROM generate_series(1, {threads}) AS i;
             INSERT INTO authors (site_id, external_id, display_name, status, created_at)
               SELECT 1, 'seed-author-' || i, 'Lecteur ' || i, 'active', TIMESTAMP '2026-01-01'
               FROM generate_series(1, {authors}) AS i;
             INSERT INTO comments (site_id, thread_id, author_id, external_id, body, lang, status, revision,
                                   created_at, updated_at, risk, score_toxicity, score_spam, escalated)
               SELECT 1, 1 + (i % {threads}), 1 + (i % {authors}), 'seed-' || i,
                      'Commentaire de test numéro ' || i || ', assez long pour ressembler à un vrai.',
                      CASE WHEN i % 3 = 0 THEN 'en' ELSE 'fr' END,
                      CASE i % 5 WHEN 0 THEN 'pending' WHEN 1 THEN 'approved' WHEN 2 THEN 'rejected' ELSE 'published' END,
                      1, TIMESTAMP '2026-01-01' + i * INTERVAL '100 milliseconds',
                      TIMESTAMP '2026-01-01' + i * INTERVAL '100 milliseconds',
                      r, r, r / 2, FALSE
               FROM (SELECT i, floor(random() * 1000) / 1000.0 AS r FROM generate_series(1, {n}) AS i) s;
             ANALYZE;"
        )
    } else {
        format!(
            "BEGIN;
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {threads})
               INSERT INTO threads (site_id, external_id, url, title, status, created_at)
               SELECT 1, 'seed-thread-' || i, 'https://example.fr/a/' || i, 'Article ' || i, 'open', '2026-01-01 00:00:00' FROM k;
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {authors})
               INSERT INTO authors (site_id, external_id, display_name, status, created_at)
               SELECT 1, 'seed-author-' || i, 'Lecteur ' || i, 'active', '2026-01-01 00:00:00' FROM k;
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
               INSERT INTO comments (site_id, thread_id, author_id, external_id, body, lang, status, revision,
                                     created_at, updated_at, risk, score_toxicity, score_spam, escalated)
               SELECT 1, 1 + (i % {threads}), 1 + (i % {authors}), 'seed-' || i,
                      'Commentaire de test numéro ' || i || ', assez long pour ressembler à un vrai.',
                      CASE WHEN i % 3 = 0 THEN 'en' ELSE 'fr' END,
                      CASE i % 5 WHEN 0 THEN 'pending' WHEN 1 THEN 'approved' WHEN 2 THEN 'rejected' ELSE 'published' END,
                      1, datetime('2026-01-01', '+' || (i / 10) || ' seconds'),
                      datetime('2026-01-01', '+' || (i / 10) || ' seconds'),
                      r, r, r / 2, 0
               FROM (SELECT i, (abs(random()) % 1000) / 1000.0 AS r FROM k);
             COMMIT;
             ANALYZE;"
        )
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_or("VIGIE_BENCH_COMMENTS", 1_000_000);
    let seconds = env_or("VIGIE_BENCH_SECONDS", 60);
    let dir = tempfile::tempdir().unwrap();
    let db = support::BenchDatabase::create("vigie_bench", dir.path());
    let database_url = db.url.clone();
    let postgres = db.is_postgres();
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        log_level: "error".into(),
        pool_size: 12,
        // Seeding a million rows takes longer than a request may.
        statement_timeout_ms: 600_000,
        ..Settings::default()
    };
    let state = prepare_state(settings).expect("state");
    // Site 1 and its keys, then the seed.
    let (ingest_key, moderators) = {
        let mut conn = state.pool.get().unwrap();
        let ingest =
            vigie::store::keys::create(&mut conn, "bench", Role::Ingest, "ingest").unwrap();
        let moderators: Vec<String> = (0..8)
            .map(|i| {
                vigie::store::keys::create(
                    &mut conn,
                    "bench",
                    Role::Moderator,
                    &format!("moderator-{i}"),
                )
                .unwrap()
                .secret
            })
            .collect();
        let started = Instant::now();
        conn.batch_execute(&seed_sql(postgres, n)).expect("seed");
        if postgres {
            // A table in service is vacuumed by autovacuum; a freshly seeded one is not, and
            // without a visibility map every index-only scan reads the heap as well.
            conn.batch_execute("VACUUM ANALYZE comments")
                .expect("vacuum");
        }
        println!(
            "backend={} seeded {n} comments ({} pending) in {:.1?}",
            if postgres { "postgresql" } else { "sqlite" },
            n / 5,
            started.elapsed()
        );
        (ingest.secret, moderators)
    };
    let _ = ingest_key;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::with_listener(listener, state.clone(), 2).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port);
    tokio::spawn(app.server);
    let client = reqwest::Client::new();
    let moderator = &moderators[0];

    // Queue pages: first pages and deep pages through the cursor.
    for order in ["age", "risk"] {
        let mut samples = Vec::new();
        let mut cursor: Option<String> = None;
        for i in 0..300 {
            let mut url = format!("{base}/v1/queues/pending?limit=50&order={order}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let t = Instant::now();
            let page: Value = client
                .get(&url)
                .bearer_auth(moderator)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            samples.push(t.elapsed());
            assert_eq!(page["items"].as_array().map(Vec::len), Some(50), "{page}");
            cursor = if i % 10 == 9 {
                None
            } else {
                page["next_cursor"].as_str().map(str::to_owned)
            };
        }
        report(&format!("queue page of 50 (order={order})"), samples);
    }
    let mut samples = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let r: Value = client
            .get(format!(
                "{base}/v1/queues/pending?limit=50&lang=en&category=toxicity&min_score=0.8"
            ))
            .bearer_auth(moderator)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert!(r["items"].is_array());
    }
    report("queue page, filtered", samples);
    let mut samples = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let r = client
            .get(format!("{base}/v1/queues"))
            .bearer_auth(moderator)
            .send()
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert_eq!(r.status(), 200);
    }
    report("queue counts", samples);

    // Claims, one moderator.
    let mut samples = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let r: Value = client
            .post(format!("{base}/v1/queues/pending/claims"))
            .bearer_auth(moderator)
            .json(&json!({"count": 1}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        samples.push(t.elapsed());
        assert_eq!(r["items"].as_array().map(Vec::len), Some(1), "{r}");
    }
    report("claim of 1", samples);
    client
        .delete(format!("{base}/v1/claims"))
        .bearer_auth(moderator)
        .send()
        .await
        .unwrap();

    // Eight moderators claim five and decide each, concurrently, for `seconds`.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (m, key) in moderators.iter().enumerate() {
        let client = client.clone();
        let base = base.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let (mut claimed, mut decided, mut claim_t, mut decide_t) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            while Instant::now() < deadline {
                let t = Instant::now();
                let r: Value = client
                    .post(format!("{base}/v1/queues/pending/claims"))
                    .bearer_auth(&key)
                    .json(&json!({"count": 5}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                claim_t.push(t.elapsed());
                for item in r["items"].as_array().unwrap() {
                    let id = item["comment"]["id"].as_i64().unwrap();
                    claimed.push(id);
                    let body = if (id + m as i64) % 2 == 0 {
                        json!({"action": "approve"})
                    } else {
                        json!({"action": "reject", "reason": "spam"})
                    };
                    let t = Instant::now();
                    let d = client
                        .post(format!("{base}/v1/comments/{id}/decisions"))
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    decide_t.push(t.elapsed());
                    assert_eq!(d.status(), 200, "{}", d.text().await.unwrap());
                    decided.push(id);
                }
            }
            (claimed, decided, claim_t, decide_t)
        }));
    }
    let (mut all_claimed, mut all_decided, mut claim_t, mut decide_t) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in tasks {
        let (c, d, ct, dt) = t.await.unwrap();
        all_claimed.extend(c);
        all_decided.extend(d);
        claim_t.extend(ct);
        decide_t.extend(dt);
    }
    let unique: HashSet<i64> = all_claimed.iter().copied().collect();
    let double_claims = all_claimed.len() - unique.len();
    let pool = state.pool.clone();
    let logged: i64 = tokio::task::spawn_blocking(move || {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT COUNT(*) AS n FROM decisions WHERE source = 'human'")
            .get_result::<N>(&mut **pool.get().unwrap())
            .unwrap()
            .n
    })
    .await
    .unwrap();
    println!(
        "8 moderators for {seconds}s: {} claimed, {} decided ({:.0}/s), double claims = {double_claims}, decisions acknowledged = {}, decision rows = {logged}, lost = {}",
        all_claimed.len(),
        all_decided.len(),
        all_decided.len() as f64 / seconds as f64,
        all_decided.len(),
        all_decided.len() as i64 - logged
    );
    report("  claim of 5 under load", claim_t);
    report("  decision under load", decide_t);
    assert_eq!(double_claims, 0);
    assert_eq!(all_decided.len() as i64, logged);

    drop(state);
    db.drop_database();
}
