//! Intake without HTTP (a load script, not a timed test): how fast the database side of
//! `POST /v1/comments` goes on its own, for comparison with the HTTP load test of the same
//! build (`scripts/load/run.sh`, which runs this too). Scores N comments first (not timed),
//! then stores them with 32 in flight through the same code as intake: the group-commit
//! writer on SQLite, one transaction each on PostgreSQL. Then times the reading half (site,
//! rules, author history, scoring) alone.
//!
//!   cargo bench --bench intake                 # SQLite, synchronous=full (VIGIE_SQLITE_SYNCHRONOUS)
//!   VIGIE_BENCH_DATABASE_URL=postgres://vigie:vigie@127.0.0.1/postgres cargo bench --bench intake
//!   VIGIE_BENCH_COMMENTS=20000 VIGIE_BODIES=target/load/bodies.jsonl …

use std::sync::Arc;
use std::time::Instant;

use vigie::config::Settings;
use vigie::domain::intake::CommentSubmission;
use vigie::domain::Role;
use vigie::intake::{score_for_intake, store_intake};
use vigie::startup::prepare_state;

mod support;

const IN_FLIGHT: usize = 32;

fn bodies() -> Vec<String> {
    let path = std::env::var("VIGIE_BODIES").unwrap_or_else(|_| "target/load/bodies.jsonl".into());
    let read: Vec<String> = std::fs::read_to_string(&path)
        .map(|text| {
            text.lines()
                .filter_map(|l| serde_json::from_str::<String>(l).ok())
                .collect()
        })
        .unwrap_or_default();
    if read.is_empty() {
        eprintln!("{path} not found (scripts/load/bodies.py writes it): synthetic bodies");
        return (0..500)
            .map(|i| format!("Commentaire de test numéro {i}, assez long pour ressembler à un vrai commentaire d'article."))
            .collect();
    }
    read
}

fn submission(n: usize, body: &str) -> CommentSubmission {
    CommentSubmission {
        external_id: format!("bench-{n}"),
        thread_id: format!("article-{}", n % 200),
        thread_url: Some(format!("https://example.fr/a/{}", n % 200)),
        thread_title: Some("Article".into()),
        parent_external_id: None,
        author_id: format!("u-{}", n % 5000),
        author_name: Some("Lecteur".into()),
        author_email: Some(format!("u{}@example.fr", n % 5000)),
        body: body.to_owned(),
        lang: None,
        client_ip: Some(std::net::IpAddr::from([192, 0, 2, (n % 250) as u8])),
        user_agent: None,
    }
}

/// Runs `work(i)` for i in 0..n with `IN_FLIGHT` at a time; the rate per second.
async fn rate<F, Fut>(n: usize, work: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let work = Arc::new(work);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (work, next) = (work.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    work(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("VIGIE_BENCH_COMMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let db = support::BenchDatabase::create("vigie_bench_intake", dir.path());
    let database_url = db.url.clone();
    let backend = if db.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let settings = Settings {
        database_url,
        log_level: "error".into(),
        sqlite_synchronous: std::env::var("VIGIE_SQLITE_SYNCHRONOUS")
            .unwrap_or_else(|_| "full".into()),
        ..Settings::default()
    };
    let synchronous = settings.sqlite_synchronous.clone();
    let state = prepare_state(settings).expect("state");
    let site_id = {
        let mut conn = state.pool.get().unwrap();
        vigie::store::keys::create(&mut conn, "bench", Role::Ingest, "ingest").unwrap();
        vigie::store::sites::find_or_create(&mut conn, "bench")
            .unwrap()
            .id
    };
    let bodies = bodies();

    // Scored first, outside the timing.
    let mut prepared = Vec::with_capacity(n);
    for i in 0..n {
        let sub = submission(i, &bodies[i % bodies.len()]);
        prepared.push(Some(score_for_intake(&state, site_id, sub).await.unwrap()));
    }
    let prepared = Arc::new(std::sync::Mutex::new(prepared));
    let (st, p) = (state.clone(), prepared.clone());
    let stores = rate(n, move |i| {
        let (state, taken) = (st.clone(), p.lock().unwrap()[i].take().unwrap());
        async move {
            let (ctx, sub) = taken;
            let stored = store_intake(&state, ctx, sub).await.unwrap();
            assert!(matches!(
                stored,
                Ok(vigie::store::comments::Intake::Created(_))
            ));
        }
    })
    .await;
    let stored: i64 = {
        let mut conn = state.pool.get().unwrap();
        vigie::store::statistics::comment_count(&mut conn).unwrap()
    };
    assert_eq!(stored as usize, n, "every comment stored once");

    // The reading half alone, on the comments now stored (authors have a history).
    let (st, b) = (state.clone(), Arc::new(bodies));
    let reads = rate(n, move |i| {
        let (state, body) = (st.clone(), b[i % b.len()].clone());
        async move {
            score_for_intake(&state, site_id, submission(n + i, &body))
                .await
                .unwrap();
        }
    })
    .await;

    let durability = if db.is_postgres() {
        "synchronous_commit=on".to_owned()
    } else {
        format!("synchronous={synchronous}")
    };
    println!(
        "== intake without HTTP, {backend} ({durability}), {n} comments, {IN_FLIGHT} in flight"
    );
    println!("store (comment, decision, outbox, reasons; durable): {stores:>8.0} comments/s");
    println!("read and score (site, rules, history, verdict):     {reads:>8.0} comments/s");

    drop(state);
    // The pool's connections close with the last handle; give them a moment.
    std::thread::sleep(std::time::Duration::from_millis(500));
    db.drop_database();
}
