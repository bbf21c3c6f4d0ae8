//! The console's tools through the API: text search in the queues, notes about authors, the
//! audit log as CSV.

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(queue_search_matches_text_literally_and_combines_with_filters,);

async fn post(app: &TestApp, key: &str, id: &str, thread: &str, author: &str, body: &str) -> i64 {
    let mut c = comment(id, thread, body);
    c["author"] = json!({"id": author, "name": author, "email": format!("{author}@example.fr")});
    let r = app.post_json("/v1/comments", key, &c).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn ids(app: &TestApp, key: &str, path: &str) -> Vec<i64> {
    let r = app.get(path, key).await;
    assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
    let page: Value = r.json().await.unwrap();
    let mut ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

async fn queue_search_matches_text_literally_and_combines_with_filters(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("search", Role::Ingest).await;
    let moderator = app.key("search", Role::Moderator).await;
    let percent = post(
        &app,
        &ingest,
        "c1",
        "t1",
        "ana",
        "Une hausse de 100% des prix",
    )
    .await;
    let hundred = post(&app, &ingest, "c2", "t1", "ana", "Une hausse de 1000 euros").await;
    let underscore = post(
        &app,
        &ingest,
        "c3",
        "t2",
        "bob",
        "Mon pseudo est a_b sur le forum",
    )
    .await;
    let plain = post(
        &app,
        &ingest,
        "c4",
        "t2",
        "bob",
        "Mon pseudo est axb, HAUSSE",
    )
    .await;
    let other_site = app.key("ailleurs", Role::Ingest).await;
    post(
        &app,
        &other_site,
        "c9",
        "t1",
        "ana",
        "Une hausse de 100% ailleurs",
    )
    .await;

    let q = |s: &str| format!("/v1/queues/pending?q={}", urlencode(s));
    // `%` and `_` are literal, not wildcards; the search is case-insensitive.
    assert_eq!(ids(&app, &moderator, &q("100%")).await, vec![percent]);
    assert_eq!(ids(&app, &moderator, &q("a_b")).await, vec![underscore]);
    assert_eq!(ids(&app, &moderator, &q("%")).await, vec![percent]);
    assert_eq!(ids(&app, &moderator, &q("_")).await, vec![underscore]);
    assert_eq!(
        ids(&app, &moderator, &q("hausse")).await,
        vec![percent, hundred, plain]
    );
    assert!(ids(&app, &moderator, &q("\\")).await.is_empty());
    // With the other filters: author, thread, dates.
    assert_eq!(
        ids(&app, &moderator, &format!("{}&author=bob", q("hausse"))).await,
        vec![plain]
    );
    assert_eq!(
        ids(&app, &moderator, &format!("{}&thread=t1", q("hausse"))).await,
        vec![percent, hundred]
    );
    assert!(
        ids(&app, &moderator, &format!("{}&to=2000-01-01", q("hausse")))
            .await
            .is_empty()
    );
    // In the other views too.
    assert!(ids(&app, &moderator, "/v1/queues/rejected?q=hausse")
        .await
        .is_empty());

    // Empty, blank and over-long searches are 422 naming `q`.
    for bad in ["", "%20%20", &"x".repeat(101)] {
        assert_problem(
            app.get(&format!("/v1/queues/pending?q={bad}"), &moderator)
                .await,
            422,
            Some("q"),
        )
        .await;
    }
    assert_eq!(
        ids(&app, &moderator, &q(&"é".repeat(100))).await,
        Vec::<i64>::new()
    );
    // Moderators only.
    assert_problem(app.get(&q("hausse"), &ingest).await, 403, None).await;
}

/// Percent-encodes a query value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
