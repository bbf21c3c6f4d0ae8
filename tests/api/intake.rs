use serde_json::{json, Value};
use vigie::domain::{CommentId, Role};

use crate::helpers::{comment, spawn_app, Backend};

crate::on_both_backends!(
    posting_a_comment_answers_201_with_the_held_comment_and_logs_the_decision,
    resending_the_same_external_id_answers_200_and_creates_nothing,
    concurrent_resends_of_one_external_id_create_one_comment,
    emails_and_ips_are_stored_only_as_keyed_hashes,
    the_same_external_id_on_two_sites_makes_two_comments,
);

async fn posting_a_comment_answers_201_with_the_held_comment_and_logs_the_decision(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let body = "Les grandes entreprises françaises sont très regardantes…";
    let response = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", body))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["external_id"], "c-1");
    assert_eq!(created["thread_id"], "a-1");
    assert_eq!(created["author"]["name"], "Fabrice");
    assert_eq!(created["body"], body);
    assert_eq!(
        created["status"], "pending",
        "a new site is in pre-moderation"
    );
    assert_eq!(created["revision"], 1);
    assert_eq!(created["verdict"]["decision"], "allow", "{created}");
    assert_eq!(created["verdict"]["language"], "fr");
    assert!(created["verdict"]["scores"]["toxicity"].as_f64().unwrap() < 0.5);
    assert!(!created["verdict"]["model_version"]
        .as_str()
        .unwrap()
        .is_empty());
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    // Durable and readable back.
    let id = created["id"].as_i64().unwrap();
    let fetched: Value = app
        .get(&format!("/v1/comments/{id}"), &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, created);

    // One automated decision row: nothing changes status without one.
    let log = app
        .with_db(move |conn| vigie::store::comments::decisions_of(conn, CommentId(id)).unwrap())
        .await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].source, "automated");
    assert_eq!(log[0].from_status, None);
    assert_eq!(log[0].to_status, vigie::domain::CommentStatus::Pending);
    assert!(log[0].note.as_deref().unwrap().contains("pre"));
}

async fn resending_the_same_external_id_answers_200_and_creates_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let first = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", "Premier"))
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", "Premier"))
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count("comments").await, 1);
    assert_eq!(app.count("decisions").await, 1);
    assert_eq!(app.count("threads").await, 1);
    assert_eq!(app.count("authors").await, 1);
}

async fn concurrent_resends_of_one_external_id_create_one_comment(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let body = comment("c-race", "a-race", "Vite !");
    let sends = (0..12).map(|_| app.post_json("/v1/comments", &key, &body));
    let responses = futures_util::future::join_all(sends).await;
    let mut created = 0;
    let mut ids = Vec::new();
    for r in responses {
        match r.status().as_u16() {
            201 => created += 1,
            200 => {}
            other => panic!("unexpected status {other}: {}", r.text().await.unwrap()),
        }
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_i64().unwrap());
    }
    assert_eq!(created, 1, "exactly one send creates the comment");
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "every answer is the same comment: {ids:?}"
    );
    assert_eq!(app.count("comments").await, 1);
    assert_eq!(app.count("decisions").await, 1);
    assert_eq!(app.count("threads").await, 1);
    assert_eq!(app.count("authors").await, 1);
}

async fn emails_and_ips_are_stored_only_as_keyed_hashes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let response = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", "Bonjour"))
        .await;
    assert_eq!(response.status(), 201);
    let (email_hash, ip_hash) = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::{authors, comments};
            let email: Option<String> = authors::table
                .select(authors::email_hash)
                .first(conn)
                .unwrap();
            let ip: Option<String> = comments::table
                .select(comments::client_ip_hash)
                .first(conn)
                .unwrap();
            (email.unwrap(), ip.unwrap())
        })
        .await;
    assert_eq!(email_hash.len(), 64);
    assert!(!email_hash.contains("fabrice"));
    assert_eq!(
        email_hash,
        app.state.keyed_hash("email", "fabrice@example.fr")
    );
    assert_eq!(ip_hash, app.state.keyed_hash("ip", "192.0.2.10"));
    assert_ne!(email_hash, ip_hash);
}

async fn the_same_external_id_on_two_sites_makes_two_comments(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let a = app.key("site-a", Role::Ingest).await;
    let b = app.key("site-b", Role::Ingest).await;
    let ra: Value = app
        .post_json("/v1/comments", &a, &comment("c-1", "a-1", "A"))
        .await
        .json()
        .await
        .unwrap();
    let rb = app
        .post_json("/v1/comments", &b, &comment("c-1", "a-1", "B"))
        .await;
    assert_eq!(rb.status(), 201);
    let rb: Value = rb.json().await.unwrap();
    assert_ne!(ra["id"], rb["id"]);
    // Each site sees only its own comment.
    let other = app.get(&format!("/v1/comments/{}", ra["id"]), &b).await;
    crate::helpers::assert_problem(other, 404, None).await;
    let _ = json!(null);
}

/// SQLite's write lock held by another process (here another connection) past
/// `sqlite_busy_timeout_ms`: the group-commit writer cannot begin its batch; the request gets a
/// 503 with Retry-After and nothing is stored; once the lock is released, intake works again.
#[tokio::test]
async fn a_locked_sqlite_database_answers_503_and_stores_nothing() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |s| s.sqlite_busy_timeout_ms = 300)
        .await
        .unwrap();
    let key = app.key("numerama", Role::Ingest).await;
    let path = app.state.settings.database_url.clone();
    let mut other = diesel::SqliteConnection::establish(&path).unwrap();
    // The app's own background writes (purge, webhook leases) may hold the lock a moment.
    other
        .batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
        .unwrap();

    let r = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", "Bonjour"))
        .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    other.batch_execute("COMMIT").unwrap();
    assert_eq!(
        app.count("comments").await,
        0,
        "nothing stored while locked"
    );
    let r = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", "Bonjour"))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(app.count("comments").await, 1);
}

/// The smallest pool on SQLite still takes comments in: the group-commit writer keeps a
/// connection of its own, so the one of `pool_size = 1` stays for the reads.
#[tokio::test]
async fn sqlite_with_a_pool_of_one_still_takes_comments_in() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |s| {
        s.pool_size = 1;
        s.connect_timeout_ms = 2_000;
    })
    .await
    .unwrap();
    let key = app.key("numerama", Role::Ingest).await;
    for n in 0..3 {
        let r = app
            .post_json(
                "/v1/comments",
                &key,
                &comment(&format!("c-{n}"), "a-1", "Bonjour"),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    assert_eq!(app.count("comments").await, 3);
}
