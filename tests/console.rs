//! The moderator console at `/console`: its headers, its session (cookie flags, ingest keys
//! refused, CSRF, expiry, sign-out), and end-to-end tests in headless Chromium
//! (`tests/e2e/console.spec.mjs`, Playwright's `playwright-core` on Debian's `/usr/bin/chromium`).
//!
//! Without Chromium, Node.js or `tests/e2e/node_modules`, the browser test prints
//! "browser tests skipped: …" and passes, unless `VIGIE_REQUIRE_BROWSER=1` (CI), where it fails.

use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use serde_json::{json, Value};
use vigie::domain::Role;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

mod common;

use common::{spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    console_page_is_served_with_a_strict_csp,
    sign_in_sets_a_strict_http_only_cookie,
    ingest_and_unknown_keys_are_refused,
    writes_with_the_cookie_need_the_csrf_token,
    expired_sessions_answer_401_and_sign_out_ends_the_session,
    thresholds_for_the_dashboard,
);

/// The app on a random port, two workers as in production, or `None` (skipped).
async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.workers = 2;
        s.sqlite_synchronous = "normal".into();
    })
    .await
}

impl TestApp {
    /// Signs in with `key`; the cookie (`name=value`) and the CSRF token.
    async fn sign_in(&self, key: &str) -> (String, String) {
        let res = self
            .client
            .post(self.url("/console/session"))
            .json(&json!({"key": key}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let cookie = set_cookie(&res);
        let body: Value = res.json().await.unwrap();
        let pair = cookie.split(';').next().unwrap().trim().to_owned();
        (pair, body["csrf_token"].as_str().unwrap().to_owned())
    }
}

fn set_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get("set-cookie")
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}

fn comment(external_id: &str, thread: &str, author: &str, body: &str) -> Value {
    json!({
        "external_id": external_id,
        "thread": {"id": thread, "url": format!("https://example.fr/articles/{thread}"), "title": format!("Article {thread}")},
        "author": {"id": author, "name": format!("Lecteur {author}"), "email": format!("{author}@example.fr")},
        "body": body,
        "lang": "fr",
        "client": {"ip": "192.0.2.10", "user_agent": "Mozilla/5.0"}
    })
}

// ---- HTTP tests ------------------------------------------------------------------------------

async fn console_page_is_served_with_a_strict_csp(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for (path, media) in [
        ("/console", "text/html"),
        ("/console/", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let h = res.headers();
        assert_eq!(h["content-security-policy"], CSP, "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert!(h["content-type"].to_str().unwrap().starts_with(media));
    }
    let html = app
        .client
        .get(app.url("/console"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // No inline script, no third-party origin anywhere in the page.
    assert!(html.contains(r#"<script src="/console/console.js" defer></script>"#));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains(" style="));
    // The session answers of the console carry the headers too.
    let res = app
        .client
        .get(app.url("/console/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

async fn sign_in_sets_a_strict_http_only_cookie(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("lemonde", Role::Moderator).await;

    let res = app
        .client
        .post(app.url("/console/session"))
        .json(&json!({"key": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.headers()["content-security-policy"], CSP);
    let cookie = set_cookie(&res);
    assert!(cookie.starts_with("vigie_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(flag), "{flag} missing from {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP: no Secure flag: {cookie}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "moderator");
    assert_eq!(body["site"], "lemonde");
    assert_eq!(body["language"], "fr");
    assert!(body["csrf_token"].as_str().unwrap().len() >= 40);

    // Only the hash of the token is stored.
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("vigie_session=")
        .to_owned();
    let stored = app
        .with_db(|conn| {
            #[derive(diesel::QueryableByName)]
            struct H {
                #[diesel(sql_type = diesel::sql_types::Text)]
                token_hash: String,
            }
            diesel::sql_query("SELECT token_hash FROM console_sessions")
                .load::<H>(conn)
                .unwrap()
                .into_iter()
                .map(|h| h.token_hash)
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(stored, vec![vigie::store::keys::hash_secret(&token)]);

    // Behind a TLS proxy: Secure.
    let res = app
        .client
        .post(app.url("/console/session"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"key": key, "language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert!(set_cookie(&res).contains("; Secure"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["language"], "en");

    // The cookie authenticates the API (reads need no CSRF token).
    let res = app
        .client
        .get(app.url("/v1/queues"))
        .header("cookie", format!("vigie_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .client
        .get(app.url("/console/session"))
        .header("cookie", format!("other=1; vigie_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

async fn ingest_and_unknown_keys_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("lemonde", Role::Ingest).await;
    let res = app
        .client
        .post(app.url("/console/session"))
        .json(&json!({"key": ingest}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    let res = app
        .client
        .post(app.url("/console/session"))
        .json(&json!({"key": "vigie_nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    // An admin key opens the console.
    let admin = app.key("lemonde", Role::Admin).await;
    let (cookie, _) = app.sign_in(&admin).await;
    assert!(cookie.starts_with("vigie_session="));
    // A made-up cookie is no session.
    let res = app
        .client
        .get(app.url("/v1/queues"))
        .header("cookie", "vigie_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

async fn writes_with_the_cookie_need_the_csrf_token(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("lemonde", Role::Ingest).await;
    let moderator = app.key("lemonde", Role::Moderator).await;
    let res = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("c-1", "a-1", "u-1", "Un avis mesuré sur la question."),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (cookie, csrf) = app.sign_in(&moderator).await;
    let decide = |csrf: Option<&str>| {
        let mut req = app
            .client
            .post(app.url(&format!("/v1/comments/{id}/decisions")))
            .header("cookie", &cookie)
            .json(&json!({"action": "approve"}));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    assert_eq!(decide(None).await.unwrap().status().as_u16(), 403);
    assert_eq!(
        decide(Some("wrong-token")).await.unwrap().status().as_u16(),
        403
    );
    let status: Value = app
        .client
        .get(app.url(&format!("/v1/comments/{id}")))
        .bearer_auth(&moderator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["status"], "pending",
        "a refused write changed nothing"
    );
    assert_eq!(decide(Some(&csrf)).await.unwrap().status().as_u16(), 200);

    // The language setting is a write too.
    let lang = |csrf: Option<&str>| {
        let mut req = app
            .client
            .patch(app.url("/console/session"))
            .header("cookie", &cookie)
            .json(&json!({"language": "en"}));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    assert_eq!(lang(None).await.unwrap().status().as_u16(), 403);
    assert_eq!(lang(Some(&csrf)).await.unwrap().status().as_u16(), 200);
    let session: Value = app
        .client
        .get(app.url("/console/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["language"], "en");
    // The choice belongs to the moderator: the next sign-in opens in English.
    let again: Value = app
        .client
        .post(app.url("/console/session"))
        .json(&json!({"key": moderator}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["language"], "en", "{again}");

    // Bearer keys work as before, with no CSRF token.
    let res = app
        .post_json(
            "/v1/decisions/bulk",
            &moderator,
            &json!({"ids": [id], "action": "reject", "reason": "spam"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
}

async fn expired_sessions_answer_401_and_sign_out_ends_the_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moderator = app.key("lemonde", Role::Moderator).await;
    let get = |cookie: String| {
        app.client
            .get(app.url("/v1/queues"))
            .header("cookie", cookie)
            .send()
    };

    // Expiry.
    let (cookie, _) = app.sign_in(&moderator).await;
    assert_eq!(get(cookie.clone()).await.unwrap().status().as_u16(), 200);
    app.with_db(|conn| {
        diesel::sql_query("UPDATE console_sessions SET expires_at = '2020-01-01 00:00:00'")
            .execute(conn)
            .unwrap()
    })
    .await;
    assert_eq!(get(cookie.clone()).await.unwrap().status().as_u16(), 401);
    let res = app
        .client
        .get(app.url("/console/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    // Sign-out: needs the CSRF token, deletes the session, clears the cookie.
    let (cookie, csrf) = app.sign_in(&moderator).await;
    let res = app
        .client
        .delete(app.url("/console/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(get(cookie.clone()).await.unwrap().status().as_u16(), 200);
    let res = app
        .client
        .delete(app.url("/console/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let cleared = set_cookie(&res);
    assert!(cleared.starts_with("vigie_session=;") && cleared.contains("Max-Age=0"));
    assert_eq!(get(cookie).await.unwrap().status().as_u16(), 401);

    // A revoked key ends its sessions.
    let (cookie, _) = app.sign_in(&moderator).await;
    app.with_db(|conn| {
        diesel::sql_query("UPDATE api_keys SET revoked_at = '2026-01-01 00:00:00'")
            .execute(conn)
            .unwrap()
    })
    .await;
    assert_eq!(get(cookie).await.unwrap().status().as_u16(), 401);
}

async fn thresholds_for_the_dashboard(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moderator = app.key("lemonde", Role::Moderator).await;
    let ingest = app.key("lemonde", Role::Ingest).await;
    let res = app
        .client
        .get(app.url("/console/api/thresholds"))
        .bearer_auth(&moderator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let t: Value = res.json().await.unwrap();
    assert!(t["toxicity"]["review"].as_f64().unwrap() > 0.0);
    assert!(t["toxicity"]["reject"].as_f64().unwrap() >= t["toxicity"]["review"].as_f64().unwrap());
    let res = app
        .client
        .get(app.url("/console/api/thresholds"))
        .bearer_auth(&ingest)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

// ---- end-to-end in headless Chromium ------------------------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Why the browser tests cannot run here, if they cannot.
fn browser_missing(chromium: &Path) -> Option<String> {
    if !chromium.exists() {
        return Some(format!(
            "{} not found (apt-get install chromium chromium-driver)",
            chromium.display()
        ));
    }
    match std::process::Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Some("node not found".into()),
    }
    if !repo()
        .join("tests/e2e/node_modules/playwright-core/package.json")
        .exists()
    {
        return Some("tests/e2e/node_modules missing (run `npm ci` in tests/e2e)".into());
    }
    None
}

/// Inserts `n` pending comments on the thread and author of comment `like` with SQL.
async fn seed_pending(app: &TestApp, like: i64, n: i64) {
    app.with_db(move |conn| {
        diesel::sql_query(format!(
            "WITH RECURSIVE seq(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM seq WHERE k < {n})
             INSERT INTO comments (site_id, thread_id, author_id, external_id, body, lang, status,
                 revision, created_at, updated_at, risk, score_toxicity, score_spam)
             SELECT c.site_id, c.thread_id, c.author_id, 'bulk-' || k,
                 'Commentaire de charge numéro ' || k || ' : le débat continue sur ce sujet.',
                 'fr', 'pending', 1, datetime('now', '-' || (k % 600) || ' minutes'),
                 datetime('now'), ((k * 7919) % 1000) / 1000.0, ((k * 7919) % 1000) / 1000.0,
                 ((k * 104729) % 1000) / 5000.0
             FROM seq, comments c WHERE c.id = {like}"
        ))
        .execute(conn)
        .unwrap()
    })
    .await;
}

/// The browser, or `None` (skipped, said on stderr) when the browser tests cannot run here;
/// with `VIGIE_REQUIRE_BROWSER=1` (CI) that is a failure.
fn chromium_or_skip() -> Option<PathBuf> {
    let chromium = PathBuf::from(
        std::env::var("VIGIE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    if let Some(why) = browser_missing(&chromium) {
        assert!(
            std::env::var("VIGIE_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "VIGIE_REQUIRE_BROWSER=1 but the browser tests cannot run: {why}"
        );
        // Straight to stderr, past the test harness's capture: `cargo test` shows it.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "browser tests skipped: {why}");
        return None;
    }
    Some(chromium)
}

/// Runs `tests/e2e/<spec>` with node and `args`; fails the test when the spec fails.
async fn run_spec(chromium: PathBuf, spec: &str, args: Vec<String>) {
    let out_dir = repo().join("target/e2e");
    std::fs::create_dir_all(&out_dir).unwrap();
    let spec = repo().join("tests/e2e").join(spec);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(spec)
            .args(args)
            .env("VIGIE_CHROMIUM", chromium)
            .env("E2E_OUT", out_dir)
            .current_dir(repo().join("tests/e2e"))
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "browser tests failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_headless_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };

    let app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let ingest = app.key("e2e", Role::Ingest).await;
    let moderator = app.key("e2e", Role::Moderator).await;

    // Held comments (the site pre-moderates), one of them a reply.
    for i in 1..=14 {
        let mut c = comment(
            &format!("held-{i}"),
            if i % 2 == 0 { "budget-2027" } else { "cloud-souverain" },
            &format!("u-{}", i % 4),
            &format!("Commentaire retenu numéro {i} : je ne suis pas d'accord avec cet article, les chiffres sont faux."),
        );
        if i == 3 {
            c["parent_id"] = json!("held-1");
        }
        let res = app.post_json("/v1/comments", &ingest, &c).await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    // Words of the rules, with accents: highlights by byte offsets in the original text.
    let res = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment(
                "rude-1",
                "budget-2027",
                "u-r",
                "Éditorial écrit par un crétin, franchement débile : où sont les chiffres ?",
            ),
        )
        .await;
    assert!(res.status().is_success());
    // The XSS comment.
    let xss = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let res = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("xss-1", "cloud-souverain", "u-x", xss),
        )
        .await;
    assert!(res.status().is_success());
    // A published comment (its thread post-moderated), then reported by two readers.
    // The thread exists from its first comment on; then it is opened.
    let res = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment(
                "pub-0",
                "debat-ouvert",
                "u-9",
                "Premier commentaire du débat.",
            ),
        )
        .await;
    assert!(res.status().is_success());
    let res = app
        .client
        .patch(app.url("/v1/threads/debat-ouvert"))
        .bearer_auth(&moderator)
        .json(&json!({"moderation_mode": "post"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment(
                "pub-1",
                "debat-ouvert",
                "u-8",
                "Les journalistes de ce site sont tous des vendus, allez voir ailleurs.",
            ),
        )
        .await;
    let published: Value = res.json().await.unwrap();
    let reported_id = published["id"].as_i64().unwrap();
    for (who, category, text) in [
        ("r-1", "insult", "Ce commentaire insulte la rédaction."),
        ("r-2", "misinformation", "Accusation sans aucune preuve."),
    ] {
        let res = app
            .post_json(
                &format!("/v1/comments/{reported_id}/reports"),
                &ingest,
                &json!({"category": category, "text": text,
                    "reporter": {"id": who, "name": who, "email": format!("{who}@example.fr")},
                    "ip": "198.51.100.7", "source": "reader"}),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    // A comment rejected by the admin, appealed by its author (decided in the console by the
    // moderator, someone else).
    let admin = app.key("e2e", Role::Admin).await;
    let res = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment(
                "appealed-1",
                "budget-2027",
                "u-a",
                "Ce budget est une honte, voilà tout.",
            ),
        )
        .await;
    let appealed = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .post_json(
            &format!("/v1/comments/{appealed}/decisions"),
            &admin,
            &json!({"action": "reject", "reason": "off_topic"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
    let res = app
        .post_json(
            &format!("/v1/comments/{appealed}/appeals"),
            &ingest,
            &json!({"author_id": "u-a", "text": "Mon commentaire parlait bien du budget."}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    // A second site with 10,000 pending comments, seeded with SQL.
    let big_ingest = app.key("charge", Role::Ingest).await;
    let big_moderator = app.key("charge", Role::Moderator).await;
    let res = app
        .post_json(
            "/v1/comments",
            &big_ingest,
            &comment("seed", "charge", "u-charge", "Le commentaire d'origine."),
        )
        .await;
    let seed_id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let t = std::time::Instant::now();
    seed_pending(&app, seed_id, 9_999).await;
    println!(
        "seeded 9,999 pending comments with SQL in {:?}",
        t.elapsed()
    );

    run_spec(
        chromium,
        "console.spec.mjs",
        vec![app.address.clone(), moderator, big_moderator, admin],
    )
    .await;
}

/// Named accounts in the console: invitation → password → sign-in → invite from the Team view
/// → decide → sign out; rate-limited sign-in; disable, role and reset from the console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_in_headless_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let ingest = app.key("redaction", Role::Ingest).await;
    let admin = app.key("redaction", Role::Admin).await;
    for i in 1..=2 {
        let res = app
            .post_json(
                "/v1/comments",
                &ingest,
                &comment(
                    &format!("held-{i}"),
                    "budget-2027",
                    "u-1",
                    "Je ne suis pas d'accord avec cet article, les chiffres sont faux.",
                ),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    let res = app
        .post_json(
            "/v1/accounts",
            &admin,
            &json!({"email": "dominique@example.fr", "role": "admin", "name": "Dominique"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let invitation: Value = res.json().await.unwrap();
    let url = invitation["invitation_url"].as_str().unwrap().to_owned();
    run_spec(
        chromium,
        "accounts.spec.mjs",
        vec![app.address.clone(), url, admin],
    )
    .await;
}

/// The console's tools: decide → restore from "rejected" → search → author record and note →
/// audit log and its CSV → settings with a field error → previews (backtests) of stricter
/// thresholds and of word lists before saving them (409, progress and Cancel, the sentence with
/// the numbers [`seed_previews`] got from the API) → an article closed before its first comment →
/// phone width → sign out everywhere (`tests/e2e/tools.spec.mjs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_tools_in_headless_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let ingest = app.key("outils", Role::Ingest).await;
    let admin = app.key("outils", Role::Admin).await;
    for (id, author, body) in [
        (
            "o-1",
            "u-1",
            "Le cloud souverain coûte 100% trop cher, voilà la vérité.",
        ),
        ("o-2", "u-2", "Un autre avis sur le budget de la ville."),
        (
            "o-3",
            "u-1",
            "Troisième remarque du même lecteur sur le budget.",
        ),
        ("o-4", "u-3", "Merci pour cet article très complet."),
    ] {
        let res = app
            .post_json(
                "/v1/comments",
                &ingest,
                &comment(id, "budget-2027", author, body),
            )
            .await;
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }
    let preview = seed_previews(&app, &ingest, &admin).await;
    run_spec(
        chromium,
        "tools.spec.mjs",
        vec![app.address.clone(), admin, ingest, preview.to_string()],
    )
    .await;
}

/// Comments of a post-moderated article, from polite to rude (their toxicity scores spread), on
/// which the console's previews (backtests) have something to count.
const FIBRE: [&str; 12] = [
    "Merci pour cet article très clair sur la fibre, j'ai appris plein de choses.",
    "Je ne suis pas d'accord avec la conclusion, mais l'analyse est intéressante.",
    "Article un peu léger, il manque les chiffres de l'Arcep.",
    "Encore un article sponsorisé, vous n'avez honte de rien.",
    "L'auteur n'a visiblement rien compris au sujet, c'est nul.",
    "Quel ramassis de bêtises, franchement c'est pathétique.",
    "T'es vraiment un abruti, retourne à l'école.",
    "Ferme-la, personne ne t'a demandé ton avis, crétin.",
    "Espèce de gros c0nnard, ferme ta gueule",
    "Bande de guignols incompétents, vous êtes des nuls.",
    "La fibre arrive enfin dans mon village, excellente nouvelle.",
    "Ce journaliste est une honte, un vrai imbécile.",
];

/// Polls backtest `id` until it ends; its last state.
async fn finished_backtest(app: &TestApp, admin: &str, id: i64) -> Value {
    for _ in 0..600 {
        let job: Value = app
            .get(&format!("/v1/backtests/{id}"), admin)
            .await
            .json()
            .await
            .unwrap();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            assert_eq!(job["status"], "done", "{job}");
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("backtest {id} did not end");
}

async fn backtest(app: &TestApp, admin: &str, body: Value) -> Value {
    let res = app.post_json("/v1/backtests", admin, &body).await;
    assert_eq!(res.status().as_u16(), 202, "{}", res.text().await.unwrap());
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    finished_backtest(app, admin, id).await["result"].clone()
}

/// What the console's previews must report, for `tools.spec.mjs`: the article `debat-fibre`
/// (post-moderation: the verdicts placed its comments; those held are rejected by the admin, so
/// that the review queue stays as the spec expects), the two most toxic published comments
/// rejected and two approved by the admin; then the same backtests as the console's, run here
/// through the API and checked against the stored scores: a stricter toxicity `review` (newly
/// held: the published comments at or above it) and a `block` list of the word "fibre" (newly
/// rejected: the comments with the word not rejected at intake). Last, a backtest "of another
/// admin" left running (`running`), which the spec meets as a 409 and then cancels, and the
/// admin key of a site without comments.
async fn seed_previews(app: &TestApp, ingest: &str, admin: &str) -> Value {
    let res = app
        .patch_json(
            "/v1/threads/debat-fibre",
            admin,
            &json!({"moderation_mode": "post", "title": "La fibre au village"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let mut published: Vec<(i64, f64)> = Vec::new();
    let mut fibre = Vec::new();
    let mut rejected = std::collections::HashSet::new();
    let mut approved = std::collections::HashSet::new();
    for (i, text) in FIBRE.iter().enumerate() {
        let res = app
            .post_json(
                "/v1/comments",
                ingest,
                &comment(&format!("f-{i}"), "debat-fibre", &format!("f-{i}"), text),
            )
            .await;
        assert_eq!(res.status().as_u16(), 201);
        let c: Value = res.json().await.unwrap();
        let id = c["id"].as_i64().unwrap();
        let toxicity = c["verdict"]["scores"]["toxicity"].as_f64().unwrap();
        let status = c["status"].as_str().unwrap().to_owned();
        if text.contains("fibre") && status != "rejected" {
            fibre.push(id);
        }
        match status.as_str() {
            "published" => published.push((id, toxicity)),
            "pending" => {
                let res = app
                    .post_json(
                        &format!("/v1/comments/{id}/decisions"),
                        admin,
                        &json!({"action": "reject", "reason": "insult"}),
                    )
                    .await;
                assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
                rejected.insert(id);
            }
            _ => {}
        }
    }
    published.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert!(published.len() >= 5, "published at intake: {published:?}");
    let n = published.len();
    for (k, (id, _)) in published.iter().enumerate() {
        let action = match k {
            0 | 1 => "reject",
            2 => "approve",
            _ if k == n - 1 => "approve",
            _ => continue,
        };
        let mut body = json!({"action": action});
        if action == "reject" {
            body["reason"] = json!("insult");
            rejected.insert(*id);
        } else {
            approved.insert(*id);
        }
        let res = app
            .post_json(&format!("/v1/comments/{id}/decisions"), admin, &body)
            .await;
        assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
    }

    // Stricter thresholds: review from the third most toxic published comment (two decimals, as
    // typed in the form); the model's other thresholds as the console shows them.
    let shown: Value = app
        .get("/console/api/thresholds", admin)
        .await
        .json()
        .await
        .unwrap();
    let review = (published[2].1 * 100.0).floor() / 100.0;
    assert!(
        review > 0.0 && review < shown["toxicity"]["review"].as_f64().unwrap(),
        "stricter: {review} ({published:?}, {shown})"
    );
    let thresholds = json!({
        "toxicity": {"review": review, "reject": shown["toxicity"]["reject"]},
        "spam": shown["spam"],
    });
    let difference = |ids: &[i64]| {
        json!({
            "count": ids.len(),
            "moderators_rejected": ids.iter().filter(|i| rejected.contains(i)).count(),
            "moderators_approved": ids.iter().filter(|i| approved.contains(i)).count(),
        })
    };
    let held: Vec<i64> = published
        .iter()
        .filter(|(_, t)| *t >= review)
        .map(|(id, _)| *id)
        .collect();
    let result = backtest(app, admin, json!({"thresholds": thresholds})).await;
    assert_eq!(result["newly_held"], difference(&held), "{result}");
    assert_eq!(result["newly_published"]["count"], 0, "{result}");
    assert_eq!(result["newly_rejected"]["count"], 0, "{result}");
    assert!(held.len() >= 3 && result["human"]["after"]["labelled"].as_u64() > Some(0));

    // A block list of "fibre", added to the site's rule file.
    let rules: Value = app.get("/v1/site/rules", admin).await.json().await.unwrap();
    let source = format!(
        "{}\n[[words]]\nid = \"apercu-fibre\"\nlang = \"fr\"\naction = \"block\"\nterms = [\"fibre\"]\n",
        rules["source"].as_str().unwrap()
    );
    let result = backtest(app, admin, json!({"rules": source})).await;
    assert_eq!(result["newly_rejected"], difference(&fibre), "{result}");
    assert_eq!(result["newly_held"]["count"], 0, "{result}");
    assert_eq!(result["newly_published"]["count"], 0, "{result}");
    assert_eq!(fibre.len(), 2, "both comments with the word were published");

    let running = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::{backtests as b, sites};
            let site: i64 = sites::table
                .filter(sites::slug.eq("outils"))
                .select(sites::id)
                .first(conn)
                .unwrap();
            // Touched "in the future": never stale while the spec runs.
            let t = vigie::store::now();
            diesel::insert_into(b::table)
                .values((
                    b::site_id.eq(site),
                    b::params.eq("{}"),
                    b::status.eq("running"),
                    b::progress_done.eq(120i64),
                    b::progress_total.eq(300i64),
                    b::created_by.eq("another admin"),
                    b::created_at.eq(t),
                    b::started_at.eq(Some(t)),
                    b::updated_at.eq(t + chrono::Duration::hours(1)),
                ))
                .returning(b::id)
                .get_result::<i64>(conn)
                .unwrap()
        })
        .await;
    json!({
        "thresholds": thresholds,
        "held": difference(&held),
        "words": {"term": "fibre", "rejected": difference(&fibre)},
        "running": running,
        // The admin of a site without comments: "no comments in the period".
        "empty_site_admin": app.key("vide", Role::Admin).await,
    })
}
