//! Webhooks against a real receiver on loopback: signatures, retries, order per comment,
//! redelivery, a receiver that never answers, and the admin API's bad input.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_problem, comment, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use vigie::domain::Role;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A minimal HTTP/1.1 receiver on loopback: records every request, then answers with the
/// status `respond(n)` gives for the n-th request (0-based), or never answers on `None`.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(respond: impl Fn(usize) -> Option<u16> + Send + Sync + 'static) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/vigie", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let respond = Arc::new(respond);
        let log = got.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let respond = respond.clone();
                tokio::spawn(async move {
                    let Some(received) = read_request(&mut socket).await else {
                        return;
                    };
                    let n = {
                        let mut log = log.lock().unwrap();
                        log.push(received);
                        log.len() - 1
                    };
                    match respond(n) {
                        Some(status) => {
                            let reply = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            );
                            let _ = socket.write_all(reply.as_bytes()).await;
                            let _ = socket.shutdown().await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(3600)).await,
                    }
                });
            }
        });
        Receiver { url, got }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 60 s) until at least `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1200 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} requests, got {:?}", self.received());
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        headers,
        body: String::from_utf8_lossy(&buf[header_end..]).into_owned(),
    })
}

/// Verifies a delivery as a receiver would (Standard Webhooks): HMAC-SHA256 with the decoded
/// secret over `{id}.{timestamp}.{body}`.
pub fn signature_verifies(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            r.header("webhook-id"),
            r.header("webhook-timestamp"),
            r.body
        )
        .as_bytes(),
    );
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    r.header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

/// An app whose delivery worker polls often and retries soon, and which may deliver to the
/// loopback receivers of these tests (`webhook_allow_hosts`).
pub async fn fast_webhooks_app(backend: Backend, timeout_ms: u64) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.webhook_poll_ms = 50;
        s.webhook_retry_base_ms = 200;
        s.webhook_timeout_ms = timeout_ms;
        s.webhook_allow_hosts = vec!["127.0.0.1".into()];
    })
    .await
}

const INTERNAL_URLS: [&str; 6] = [
    "http://127.0.0.1/hooks",
    "http://10.0.0.1/hooks",
    "http://[::1]/hooks",
    "http://localhost/hooks",
    "http://169.254.169.254/latest/meta-data",
    "https://[fd00::1]:8443/hooks",
];

async fn webhook_urls_on_internal_addresses_are_refused_by_default(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.webhook_poll_ms = 50).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    for url in INTERNAL_URLS {
        let problem = assert_problem(
            app.post_json(
                "/v1/webhooks",
                &admin,
                &json!({"url": url, "events": ["comment.held"]}),
            )
            .await,
            422,
            Some("url"),
        )
        .await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("webhook_allow_hosts"),
            "{url}: {problem}"
        );
    }
    assert_eq!(app.count("webhook_endpoints").await, 0);
    // Nor can a public endpoint be moved inside afterwards.
    let r = app
        .post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": "https://hooks.example.fr/vigie", "events": ["comment.held"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for url in INTERNAL_URLS {
        assert_problem(
            app.patch_json(&format!("/v1/webhooks/{id}"), &admin, &json!({"url": url}))
                .await,
            422,
            Some("url"),
        )
        .await;
    }
    let hook: Value = app
        .get(&format!("/v1/webhooks/{id}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hook["url"], "https://hooks.example.fr/vigie");
}

async fn webhook_urls_on_listed_hosts_are_accepted(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.webhook_allow_hosts = vec![
            "127.0.0.1".into(),
            "10.0.0.1".into(),
            "[::1]".into(),
            "localhost".into(),
        ];
    })
    .await
    else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    for url in &INTERNAL_URLS[..4] {
        let r = app
            .post_json(
                "/v1/webhooks",
                &admin,
                &json!({"url": url, "events": ["comment.held"]}),
            )
            .await;
        assert_eq!(r.status(), 201, "{url}");
    }
    // Only the listed hosts: another private address is still refused.
    assert_problem(
        app.post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": "http://10.0.0.2/hooks", "events": ["comment.held"]}),
        )
        .await,
        422,
        Some("url"),
    )
    .await;
}

async fn an_endpoint_stored_on_an_internal_address_is_not_delivered_to(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.webhook_poll_ms = 50;
        s.webhook_retry_base_ms = 60_000;
    })
    .await
    else {
        return;
    };
    let (ingest, _, admin) = post_moderated_site(&app, "numerama").await;
    let receiver = Receiver::start(|_| Some(204)).await;
    let r = app
        .post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": "https://hooks.example.fr/vigie", "events": ["comment.published"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // As if stored before the check existed, or allowed by a list since shortened.
    let url = receiver.url.clone();
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::webhook_endpoints::dsl;
        diesel::update(dsl::webhook_endpoints.filter(dsl::id.eq(id)))
            .set(dsl::url.eq(url))
            .execute(conn)
            .unwrap()
    })
    .await;
    let r = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("c-1", "article-1", "Merci pour cet article très clair."),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mut last_error = Value::Null;
    for _ in 0..100 {
        let log: Value = app
            .get(&format!("/v1/webhooks/{id}/deliveries"), &admin)
            .await
            .json()
            .await
            .unwrap();
        last_error = log["items"][0]["last_error"].clone();
        if !last_error.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        last_error,
        "not sent: 127.0.0.1 is an internal address (not in webhook_allow_hosts)"
    );
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );
}

/// A post-moderated site and its keys: (ingest, moderator, admin).
pub async fn post_moderated_site(app: &TestApp, site: &str) -> (String, String, String) {
    let ingest = app.key(site, Role::Ingest).await;
    let moderator = app.key(site, Role::Moderator).await;
    let admin = app.key(site, Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    (ingest, moderator, admin)
}

async fn webhooks_are_signed_retried_in_order_and_redelivered(backend: Backend) {
    let Some(app) = fast_webhooks_app(backend, 5_000).await else {
        return;
    };
    let (ingest, moderator, admin) = post_moderated_site(&app, "numerama").await;
    // Fails twice, then accepts everything.
    let receiver = Receiver::start(|n| Some(if n < 2 { 500 } else { 204 })).await;
    let r = app
        .post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": receiver.url, "events": ["comment.published", "comment.rejected"], "description": "site backend"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let hook: Value = r.json().await.unwrap();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        hook["events"],
        json!(["comment.published", "comment.rejected"])
    );

    // A list never shows the secret again, nor does the database hold it in clear.
    let list: Value = app.get("/v1/webhooks", &admin).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("secret").is_none());
    let stored: Vec<String> = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::webhook_endpoints::dsl::*;
            webhook_endpoints.select(secret_sealed).load(conn).unwrap()
        })
        .await;
    assert!(!stored[0].contains(secret.trim_start_matches("whsec_")));

    let body = "Les grandes entreprises françaises sont très regardantes sur le cloud.";
    let r = app
        .post_json("/v1/comments", &ingest, &comment("c-1", "article-1", body))
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["status"], "published");
    let id = created["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &moderator,
            &json!({"action": "reject", "reason": "off_topic"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // Event 1 three times (500, 500, then accepted), then event 2: in order per comment.
    let got = receiver.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_later = receiver.received();
    assert_eq!(
        got_later.len(),
        4,
        "exactly one more than the failures: {got_later:?}"
    );
    for r in &got {
        assert!(signature_verifies(&secret, r), "bad signature: {r:?}");
        assert_eq!(r.header("content-type"), "application/json");
        assert!(
            !r.body.contains("regardantes"),
            "the comment text is never sent"
        );
        assert!(
            !r.body.contains("fabrice"),
            "nor its author's personal data"
        );
    }
    let first_id = got[0].header("webhook-id").to_owned();
    assert!(!first_id.is_empty());
    assert_eq!(got[1].header("webhook-id"), first_id);
    assert_eq!(got[2].header("webhook-id"), first_id);
    assert_ne!(got[3].header("webhook-id"), first_id);
    let e1 = got[2].json();
    assert_eq!(e1["type"], "comment.published");
    assert_eq!(e1["id"], first_id.as_str());
    assert_eq!(e1["data"]["comment"]["external_id"], "c-1");
    assert_eq!(e1["data"]["comment"]["thread_id"], "article-1");
    assert_eq!(e1["data"]["to_status"], "published");
    assert_eq!(e1["data"]["decision"]["source"], "automated");
    let e2 = got[3].json();
    assert_eq!(e2["type"], "comment.rejected");
    assert_eq!(e2["data"]["from_status"], "published");
    assert_eq!(e2["data"]["decision"]["reason"], "off_topic");
    assert_eq!(got[3].header("vigie-event"), "comment.rejected");

    // The delivery log: newest first, each with its attempts and status codes.
    let hook_id = hook["id"].as_i64().unwrap();
    let log: Value = app
        .get(&format!("/v1/webhooks/{hook_id}/deliveries"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let first = &items[1];
    assert_eq!(first["status"], "delivered");
    assert_eq!(first["attempts"], 3);
    let codes: Vec<i64> = first["recent_attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![204, 500, 500]);

    // Manual redelivery: the same event id once more.
    let delivery = first["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/webhooks/{hook_id}/deliveries/{delivery}/redeliver"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let got = receiver.wait_for(5).await;
    assert_eq!(got[4].header("webhook-id"), first_id);
    assert!(signature_verifies(&secret, &got[4]));

    // Paused endpoints get nothing; events wait in the outbox.
    let r = app
        .patch_json(
            &format!("/v1/webhooks/{hook_id}"),
            &admin,
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment(
                "c-2",
                "article-1",
                "Article intéressant, merci pour ces précisions.",
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 5);
    let pending: Value = app
        .get(
            &format!("/v1/webhooks/{hook_id}/deliveries?status=pending"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    // Resumed, it gets what waited.
    let r = app
        .patch_json(
            &format!("/v1/webhooks/{hook_id}"),
            &admin,
            &json!({"active": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got = receiver.wait_for(6).await;
    assert_eq!(got[5].json()["data"]["comment"]["external_id"], "c-2");
}

async fn a_receiver_that_never_answers_does_not_hold_up_intake(backend: Backend) {
    let Some(app) = fast_webhooks_app(backend, 30_000).await else {
        return;
    };
    let (ingest, _, admin) = post_moderated_site(&app, "numerama").await;
    let receiver = Receiver::start(|_| None).await;
    let r = app
        .post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": receiver.url, "events": ["comment.published", "comment.held"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let hook_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for i in 0..20 {
        let r = app
            .post_json(
                "/v1/comments",
                &ingest,
                &comment(
                    &format!("c-{i}"),
                    &format!("article-{}", i % 3),
                    "Merci pour cet article très clair.",
                ),
            )
            .await;
        assert_eq!(r.status(), 201, "comment {i}");
    }
    // The receiver is stuck on its first requests, yet every comment was taken in and
    // every event waits in the outbox.
    receiver.wait_for(1).await;
    assert_eq!(app.count("comments").await, 20);
    let pending: Value = app
        .get(
            &format!("/v1/webhooks/{hook_id}/deliveries?status=pending&limit=200"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 20);
    // Never more in flight than the worker's concurrency.
    assert!(receiver.received().len() <= 8);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vigie_webhook_deliveries{status=\"pending\"} 20"),
        "{metrics}"
    );
}

/// Two more Vigie instances (each with its delivery worker) on the app's database.
async fn replicas(app: &TestApp, n: usize) -> Vec<vigie::background::Background> {
    let mut out = Vec::new();
    for _ in 0..n {
        let settings = (*app.state.settings).clone();
        let state = tokio::task::spawn_blocking(move || vigie::startup::prepare_state(settings))
            .await
            .unwrap()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let replica = vigie::startup::Application::with_listener(listener, state, 1).unwrap();
        tokio::spawn(replica.server);
        out.push(replica.background);
    }
    out
}

async fn replicas_share_the_outbox_and_deliver_each_event_once(backend: Backend) {
    let Some(app) = fast_webhooks_app(backend, 5_000).await else {
        return;
    };
    let _others = replicas(&app, 2).await;
    let (ingest, _, admin) = post_moderated_site(&app, "numerama").await;
    let receiver = Receiver::start(|_| Some(200)).await;
    let r = app
        .post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": receiver.url, "events": ["comment.published", "comment.held"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    for i in 0..40 {
        let r = app
            .post_json(
                "/v1/comments",
                &ingest,
                &comment(
                    &format!("c-{i}"),
                    "article-1",
                    &format!("Merci pour l'article numéro {i}."),
                ),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let got = receiver.wait_for(40).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_later = receiver.received();
    let mut ids: Vec<&str> = got_later.iter().map(|r| r.header("webhook-id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "each event delivered");
    assert_eq!(
        got_later.len(),
        40,
        "and only once, by one of three workers"
    );
    assert!(got.iter().all(|r| !r.body.is_empty()));
}

async fn webhook_admin_refuses_bad_input(backend: Backend) {
    let Some(app) = fast_webhooks_app(backend, 5_000).await else {
        return;
    };
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let ok = json!({"url": "https://example.fr/hooks", "events": ["comment.held"]});
    assert_problem(
        app.post_json("/v1/webhooks", &moderator, &ok).await,
        403,
        None,
    )
    .await;
    let r = app
        .client
        .post(app.url("/v1/webhooks"))
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, None).await;
    for (body, field) in [
        (
            json!({"url": "ftp://example.fr/x", "events": ["comment.held"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "events": ["comment.held"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@example.fr/x", "events": ["comment.held"]}),
            "url",
        ),
        (
            json!({"url": "https://example.fr/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.fr/x", "events": ["comment.exploded"]}),
            "events[0]",
        ),
        (
            json!({"url": "https://example.fr/x", "events": "comment.held"}),
            "events",
        ),
        (json!({"events": ["comment.held"]}), "url"),
    ] {
        assert_problem(
            app.post_json("/v1/webhooks", &admin, &body).await,
            422,
            Some(field),
        )
        .await;
    }
    assert_problem(
        app.post_raw("/v1/webhooks", &admin, "{\"url\":").await,
        400,
        None,
    )
    .await;
    assert_problem(app.get("/v1/webhooks/9999", &admin).await, 404, None).await;
    assert_problem(app.get("/v1/webhooks/abc", &admin).await, 404, None).await;
    assert_problem(
        app.get("/v1/webhooks/9999/deliveries", &admin).await,
        404,
        None,
    )
    .await;
    for i in 0..10 {
        let r = app.post_json("/v1/webhooks", &admin, &ok).await;
        assert_eq!(r.status(), 201, "endpoint {i}");
    }
    assert_problem(app.post_json("/v1/webhooks", &admin, &ok).await, 409, None).await;
    // Another site's endpoints are not visible.
    let other = app.key("autre-site", Role::Admin).await;
    let list: Value = app.get("/v1/webhooks", &other).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
    assert_problem(app.get("/v1/webhooks/1", &other).await, 404, None).await;
    let r = app
        .client
        .delete(app.url("/v1/webhooks/1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_problem(app.get("/v1/webhooks/1", &admin).await, 404, None).await;
    let r = app
        .post_json("/v1/webhooks/2/secret", &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    assert_problem(
        app.get("/v1/webhooks/2/deliveries?status=lost", &admin)
            .await,
        400,
        None,
    )
    .await;
}

on_both_backends!(
    webhooks_are_signed_retried_in_order_and_redelivered,
    a_receiver_that_never_answers_does_not_hold_up_intake,
    replicas_share_the_outbox_and_deliver_each_event_once,
    webhook_admin_refuses_bad_input,
    webhook_urls_on_internal_addresses_are_refused_by_default,
    webhook_urls_on_listed_hosts_are_accepted,
    an_endpoint_stored_on_an_internal_address_is_not_delivered_to,
);
