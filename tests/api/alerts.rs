//! E-mail alerts against a real SMTP server on loopback (`tests/common/smtp.rs`): report
//! alerts to the people who asked for them only, in French and English, with their headers and
//! console links; queue-wait alerts spaced per person; digests; retries while the server is
//! down; nothing without SMTP settings; and the API's bad input.

use std::time::Duration;

use serde_json::{json, Value};

use crate::accounts::{person, Session};
use crate::common::smtp::{Mail, SmtpSink};
use crate::helpers::{assert_problem, comment, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use vigie::domain::Role;

on_both_backends!(
    an_illegal_report_mails_the_people_who_asked_in_their_language_and_no_one_else,
    a_waiting_queue_alerts_once_per_period_and_the_digest_comes_once_a_day,
    while_the_smtp_server_is_down_messages_wait_and_requests_do_not,
    nothing_is_written_or_sent_without_smtp_settings,
    alert_choices_reject_bad_input_with_the_field_named,
    checkers_of_several_replicas_at_once_enqueue_each_alert_once,
);

const PUBLIC_URL: &str = "https://moderation.example.fr";

/// The app sending through `sink` (plain SMTP on loopback), checking alerts every second.
async fn app_with_sink(backend: Backend, sink: &SmtpSink) -> Option<TestApp> {
    let port = sink.port;
    spawn_app_with(backend, move |s| {
        s.smtp_host = Some("127.0.0.1".into());
        s.smtp_port = port;
        s.smtp_security = vigie::config::SmtpSecurity::None;
        s.smtp_from = Some("Vigie Numerama <vigie@numerama.example>".into());
        s.public_url = Some(PUBLIC_URL.into());
        s.webhook_poll_ms = 50;
        s.alert_check_interval_secs = 1;
        s.smtp_retry_base_ms = 300;
    })
    .await
}

/// The site's keys (ingest, admin), the site in pre-moderation.
async fn site(app: &TestApp) -> (String, String) {
    let ingest = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "pre"}))
        .await;
    assert_eq!(r.status(), 200);
    (ingest, admin)
}

async fn set_alerts(app: &TestApp, who: &Session, choices: Value) -> reqwest::Response {
    who.send(app, reqwest::Method::PUT, "/v1/account/alerts")
        .json(&choices)
        .send()
        .await
        .unwrap()
}

async fn post_comment(app: &TestApp, ingest: &str, ext: &str, body: &str) -> i64 {
    let r = app
        .post_json("/v1/comments", ingest, &comment(ext, "a-42", body))
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn report(app: &TestApp, ingest: &str, id: i64, reporter: &str, extra: Value) -> Value {
    let mut body = json!({
        "category": "spam",
        "text": "Ce commentaire pose problème",
        "reporter": {"id": reporter},
        "ip": "198.51.100.7",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app
        .post_json(&format!("/v1/comments/{id}/reports"), ingest, &body)
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    r.json().await.unwrap()
}

fn illegal() -> Value {
    json!({
        "category": "illegal",
        "legal_ground": "Loi du 29 juillet 1881, art. 29",
        "explanation": "Diffamation envers une personne nommée",
        "good_faith": true,
    })
}

/// Every header a message must carry, and its parts.
fn assert_well_formed(m: &Mail, to: &str) {
    assert_eq!(m.to, vec![to.to_owned()]);
    assert_eq!(m.from, "vigie@numerama.example");
    assert_eq!(
        m.header("From").unwrap(),
        "\"Vigie Numerama\" <vigie@numerama.example>"
    );
    assert_eq!(m.header("To").unwrap(), to);
    let date = m.header("Date").unwrap();
    chrono::DateTime::parse_from_rfc2822(&date).unwrap_or_else(|e| panic!("{date}: {e}"));
    let id = m.header("Message-ID").unwrap();
    assert!(
        id.starts_with("<vigie.") && id.ends_with("@numerama.example>"),
        "{id}"
    );
    assert!(m.part("text/plain").is_some(), "{}", m.data);
    assert!(m.part("text/html").is_some(), "{}", m.data);
}

async fn outbox_rows(app: &TestApp) -> Vec<(String, String, i32, Option<String>)> {
    app.with_db(|conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::mail_outbox::dsl::*;
        mail_outbox
            .order(id)
            .select((kind, status, attempts, last_error))
            .load(conn)
            .unwrap()
    })
    .await
}

async fn an_illegal_report_mails_the_people_who_asked_in_their_language_and_no_one_else(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_sink(backend, &sink).await else {
        return;
    };
    let (ingest, admin) = site(&app).await;
    let camille = person(
        &app,
        &admin,
        "camille@numerama.example",
        "moderator",
        "Camille",
    )
    .await;
    let dana = person(&app, &admin, "dana@numerama.example", "moderator", "Dana").await;
    let _eli = person(&app, &admin, "eli@numerama.example", "moderator", "Eli").await;
    let r = set_alerts(&app, &camille, json!({"language": "fr", "on_report": true})).await;
    assert_eq!(r.status(), 200);
    let shown: Value = r.json().await.unwrap();
    assert_eq!(shown["email"], "camille@numerama.example");
    assert_eq!(shown["smtp_configured"], true);
    // Dana chose English but no report alerts; Eli chose nothing.
    let r = set_alerts(&app, &dana, json!({"language": "en", "on_report": false})).await;
    assert_eq!(r.status(), 200);

    let long = format!(
        "Ce élu est un escroc notoire, tout le monde le sait. {} FIN-DU-COMMENTAIRE",
        "Bla bla. ".repeat(30)
    );
    let id = post_comment(&app, &ingest, "c-1", &long).await;
    // An ordinary reader's spam report: no alert.
    report(&app, &ingest, id, "r-spam", json!({})).await;
    // A notice of illegal content: one message, to Camille only.
    let receipt = report(&app, &ingest, id, "r-illegal", illegal()).await;
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    let got = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.received().len(), 1, "{got:?}");
    let m = &sink.to("camille@numerama.example")[0];
    assert_well_formed(m, "camille@numerama.example");
    let subject = m.header("Subject").unwrap();
    assert_eq!(
        subject,
        format!("[Vigie numerama] Signalement à traiter : {reference}")
    );
    let text = m.part("text/plain").unwrap();
    assert!(text.starts_with("Bonjour Camille,"), "{text}");
    assert!(text.contains("comme contenu illicite"), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC_URL}/console/#/queue/reported")),
        "{text}"
    );
    assert!(text.contains("Article : a-42"), "{text}");
    // A short excerpt only: never the whole comment.
    assert!(text.contains("« Ce élu est un escroc notoire"), "{text}");
    assert!(!text.contains("FIN-DU-COMMENTAIRE"), "{text}");
    let html = m.part("text/html").unwrap();
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(
        html.contains(&format!(
            "<a href=\"{PUBLIC_URL}/console/#/queue/reported\">"
        )),
        "{html}"
    );

    // Dana now asks for them in English: a trusted flagger's report reaches both.
    let r = set_alerts(&app, &dana, json!({"language": "en", "on_report": true})).await;
    assert_eq!(r.status(), 200);
    let other = post_comment(&app, &ingest, "c-2", "Un autre <commentaire> & co").await;
    let receipt = report(
        &app,
        &ingest,
        other,
        "flagger-1",
        json!({"category": "hate", "source": "trusted_flagger"}),
    )
    .await;
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    sink.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 3);
    assert!(sink.to("eli@numerama.example").is_empty());
    let m = &sink.to("dana@numerama.example")[0];
    assert_well_formed(m, "dana@numerama.example");
    assert_eq!(
        m.header("Subject").unwrap(),
        format!("[Vigie numerama] Report to handle: {reference}")
    );
    let text = m.part("text/plain").unwrap();
    assert!(text.starts_with("Hello Dana,"), "{text}");
    assert!(text.contains("by a trusted flagger"), "{text}");
    assert!(
        text.contains("Excerpt: “Un autre <commentaire> & co”"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Open the console: {PUBLIC_URL}/console/#/queue/reported"
        )),
        "{text}"
    );
    let html = m.part("text/html").unwrap();
    assert!(
        html.contains("Un autre &lt;commentaire&gt; &amp; co"),
        "{html}"
    );
    let fr = &sink.to("camille@numerama.example")[1];
    assert!(fr
        .part("text/plain")
        .unwrap()
        .contains("par un signaleur de confiance"));
    // Each message has its own id.
    assert_ne!(m.header("Message-ID"), fr.header("Message-ID"));
}

async fn a_waiting_queue_alerts_once_per_period_and_the_digest_comes_once_a_day(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_sink(backend, &sink).await else {
        return;
    };
    let (ingest, admin) = site(&app).await;
    let camille = person(
        &app,
        &admin,
        "camille@numerama.example",
        "moderator",
        "Camille",
    )
    .await;
    let first = post_comment(&app, &ingest, "c-1", "Un avis sur l'article").await;
    post_comment(&app, &ingest, "c-2", "Un autre avis").await;
    // The first comment has waited 45 minutes.
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        let t = vigie::store::now() - chrono::Duration::minutes(45);
        diesel::update(comments::table.find(first))
            .set(comments::created_at.eq(t))
            .execute(conn)
            .unwrap();
    })
    .await;
    // 60 minutes: nothing to say yet.
    let r = set_alerts(
        &app,
        &camille,
        json!({"language": "en", "on_report": false, "queue_wait_minutes": 60}),
    )
    .await;
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(sink.received().is_empty());
    // 30 minutes: one alert for the "to review" queue, not repeated by the next checks.
    let r = set_alerts(
        &app,
        &camille,
        json!({"language": "en", "on_report": false, "queue_wait_minutes": 30}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let got = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(sink.received().len(), 1, "{got:?}");
    let m = &got[0];
    assert_well_formed(m, "camille@numerama.example");
    let subject = m.header("Subject").unwrap();
    assert!(
        subject.starts_with("[Vigie numerama] The “To review” queue has waited 0 h 4")
            || subject.starts_with("[Vigie numerama] The “To review” queue has waited 45 min"),
        "{subject}"
    );
    let text = m.part("text/plain").unwrap();
    assert!(text.contains("2 item(s)"), "{text}");
    assert!(text.contains("(your threshold: 30 min)"), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC_URL}/console/#/queue/pending")),
        "{text}"
    );

    // The digest at hour 0 (UTC) is due at once, and comes once a day.
    let r = set_alerts(
        &app,
        &camille,
        json!({"language": "fr", "on_report": false, "digest_hour": 0}),
    )
    .await;
    assert_eq!(r.status(), 200);
    sink.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let all = sink.received();
    assert_eq!(all.len(), 2, "{all:?}");
    let digest = &all[1];
    assert_eq!(
        digest.header("Subject").unwrap(),
        "[Vigie numerama] Résumé quotidien"
    );
    let text = digest.part("text/plain").unwrap();
    assert!(
        text.contains("- À modérer : 2, le plus ancien depuis"),
        "{text}"
    );
    assert!(text.contains("- Signalés : 0"), "{text}");
    assert!(text.contains("- Recours à trancher : 0"), "{text}");
    assert!(
        text.contains(&format!("{PUBLIC_URL}/console/#/dashboard")),
        "{text}"
    );

    // On demand: a test message and a digest now (the newsroom checks its settings).
    for kind in ["test", "digest"] {
        let r = camille
            .send(&app, reqwest::Method::POST, "/v1/account/alerts/test")
            .json(&json!({"kind": kind}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let all = sink.wait_for(4).await;
    // Sent concurrently: in either order.
    let mut subjects: Vec<String> = all[2..]
        .iter()
        .map(|m| m.header("Subject").unwrap())
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "[Vigie numerama] Message d'essai",
            "[Vigie numerama] Résumé quotidien"
        ]
    );
}

async fn while_the_smtp_server_is_down_messages_wait_and_requests_do_not(backend: Backend) {
    let sink = SmtpSink::start().await;
    sink.set_down(true);
    let Some(app) = app_with_sink(backend, &sink).await else {
        return;
    };
    let (ingest, admin) = site(&app).await;
    let camille = person(
        &app,
        &admin,
        "camille@numerama.example",
        "moderator",
        "Camille",
    )
    .await;
    let r = set_alerts(&app, &camille, json!({"language": "fr", "on_report": true})).await;
    assert_eq!(r.status(), 200);
    let id = post_comment(&app, &ingest, "c-1", "Un commentaire").await;
    // The report is answered whatever the SMTP server does.
    report(&app, &ingest, id, "r-1", illegal()).await;
    // The worker tries, fails, and keeps the message for later.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = outbox_rows(&app).await;
        if rows.first().is_some_and(|r| r.2 >= 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (kind, status, attempts, error) = rows[0].clone();
    assert_eq!((kind.as_str(), status.as_str()), ("report", "pending"));
    assert!(attempts >= 2, "{rows:?}");
    assert!(error.unwrap().contains("SMTP"));
    assert!(sink.received().is_empty());
    // The server is back: the message goes out, once.
    sink.set_down(false);
    sink.wait_for(1).await;
    for _ in 0..50 {
        if outbox_rows(&app).await[0].1 == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outbox_rows(&app).await[0].1, "sent");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sink.received().len(), 1);
}

async fn nothing_is_written_or_sent_without_smtp_settings(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.alert_check_interval_secs = 1).await else {
        return;
    };
    let (ingest, admin) = site(&app).await;
    let camille = person(
        &app,
        &admin,
        "camille@numerama.example",
        "moderator",
        "Camille",
    )
    .await;
    let r = set_alerts(
        &app,
        &camille,
        json!({"language": "fr", "on_report": true, "queue_wait_minutes": 1, "digest_hour": 0}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["smtp_configured"], false);
    let id = post_comment(&app, &ingest, "c-1", "Un commentaire").await;
    report(&app, &ingest, id, "r-1", illegal()).await;
    let r = camille
        .send(&app, reqwest::Method::POST, "/v1/account/alerts/test")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, None).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count("mail_outbox").await, 0);
}

async fn alert_choices_reject_bad_input_with_the_field_named(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_sink(backend, &sink).await else {
        return;
    };
    let (_, admin) = site(&app).await;
    let camille = person(
        &app,
        &admin,
        "camille@numerama.example",
        "moderator",
        "Camille",
    )
    .await;
    // Nothing chosen yet: all off, in the console's language (French by default).
    let shown: Value = camille
        .get(&app, "/v1/account/alerts")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown,
        json!({"language": "fr", "on_report": false, "queue_wait_minutes": null,
               "digest_hour": null, "email": "camille@numerama.example", "smtp_configured": true})
    );
    for (body, field) in [
        (json!({"language": "de", "on_report": true}), "language"),
        (
            json!({"language": "fr", "on_report": true, "queue_wait_minutes": 0}),
            "queue_wait_minutes",
        ),
        (
            json!({"language": "fr", "on_report": true, "queue_wait_minutes": 10081}),
            "queue_wait_minutes",
        ),
        (
            json!({"language": "fr", "on_report": true, "digest_hour": 24}),
            "digest_hour",
        ),
        (
            json!({"language": "fr", "on_report": true, "digest_hour": -1}),
            "digest_hour",
        ),
        (json!({"language": "fr", "on_report": "yes"}), "on_report"),
        (json!({"language": "fr"}), "on_report"),
    ] {
        let r = set_alerts(&app, &camille, body.clone()).await;
        let problem = assert_problem(r, 422, None).await;
        assert!(
            problem["field"].as_str().unwrap_or("").contains(field)
                || problem["detail"].as_str().unwrap().contains(field),
            "{body}: {problem}"
        );
    }
    let r = set_alerts(
        &app,
        &camille,
        json!({"language": "fr", "on_report": true, "colour": "blue"}),
    )
    .await;
    assert!(matches!(r.status().as_u16(), 400 | 422), "{}", r.status());
    let r = camille
        .send(&app, reqwest::Method::PUT, "/v1/account/alerts")
        .header("content-type", "application/json")
        .body("{\"language\": ")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, None).await;
    let r = camille
        .send(&app, reqwest::Method::POST, "/v1/account/alerts/test")
        .json(&json!({"kind": "everything"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 422, Some("kind")).await;
    // Without the CSRF token, a session cannot change anything.
    let r = camille
        .get(&app, "/v1/account/alerts")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .put(app.url("/v1/account/alerts"))
        .header("cookie", &camille.cookie)
        .json(&json!({"language": "fr", "on_report": true}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, None).await;
    // API keys are machines: no alerts. No credentials: 401.
    assert_problem(app.get("/v1/account/alerts", &admin).await, 403, None).await;
    let r = app
        .client
        .get(app.url("/v1/account/alerts"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, None).await;
    // Nothing was stored by the refused requests.
    let shown: Value = camille
        .get(&app, "/v1/account/alerts")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["on_report"], false);
}

/// Replicas run the checker at the same moment: each alert is still written once (one checker
/// at a time holds the lock). The app has no SMTP settings, so only these calls check.
async fn checkers_of_several_replicas_at_once_enqueue_each_alert_once(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |_| {}).await else {
        return;
    };
    let (ingest, admin) = site(&app).await;
    let camille = person(
        &app,
        &admin,
        "camille@numerama.example",
        "moderator",
        "Camille",
    )
    .await;
    let dana = person(&app, &admin, "dana@numerama.example", "moderator", "Dana").await;
    for who in [&camille, &dana] {
        let r = set_alerts(
            &app,
            who,
            json!({"language": "fr", "on_report": false, "queue_wait_minutes": 1, "digest_hour": 0}),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let first = post_comment(&app, &ingest, "c-1", "Un avis").await;
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        let t = vigie::store::now() - chrono::Duration::minutes(5);
        diesel::update(comments::table.find(first))
            .set(comments::created_at.eq(t))
            .execute(conn)
            .unwrap();
    })
    .await;
    let mut checks = Vec::new();
    for _ in 0..6 {
        let pool = app.state.pool.clone();
        checks.push(tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            vigie::store::mail::check(&mut conn, vigie::store::now()).unwrap()
        }));
    }
    let mut total = vigie::store::mail::Checked::default();
    for c in checks {
        let done = c.await.unwrap();
        total.queue_waits += done.queue_waits;
        total.digests += done.digests;
    }
    // Two people: one "to review" alert and one digest each.
    assert_eq!(total.queue_waits, 2);
    assert_eq!(total.digests, 2);
    let kinds: Vec<String> = outbox_rows(&app).await.into_iter().map(|r| r.0).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "queue_wait").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "digest").count(), 2);
}
