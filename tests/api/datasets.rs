//! `GET /v1/datasets/decisions` and `vigie dataset export`: the site's last human decisions and
//! its Perspective feedback as labelled CSV rows.

use std::collections::HashMap;

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    the_export_holds_each_comments_last_human_decision_and_the_feedback,
    dates_filter_decisions_and_feedback,
    the_export_is_for_admins_and_refuses_bad_dates,
    an_admin_account_exports_through_its_session,
    the_cli_writes_the_same_rows_to_a_file,
);

const SUGGEST: &str = "/perspective/v1alpha1/comments:suggestscore";
/// A text that needs CSV quoting: commas, quotes, a line break.
const TRICKY: &str = "Il a dit \"non, merci\",\npuis il est parti; a,b";

/// One CSV row as a map of column → value.
type Row = HashMap<String, String>;

fn parse_csv(body: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        ["text", "label", "category", "lang", "decided_at", "source"]
    );
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

async fn export(app: &TestApp, key: &str, query: &str) -> Vec<Row> {
    let r = app
        .get(&format!("/v1/datasets/decisions{query}"), key)
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"vigie-numerama-decisions-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    parse_csv(&r.text().await.unwrap())
}

/// Posts a comment by `author` (held: pre-moderation); its id.
async fn post(app: &TestApp, key: &str, external_id: &str, author: &str, body: &str) -> i64 {
    let mut c = comment(external_id, "article-1", body);
    c["author"]["id"] = json!(author);
    let r = app.post_json("/v1/comments", key, &c).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "pending", "{v}");
    v["id"].as_i64().unwrap()
}

async fn decide(app: &TestApp, key: &str, id: i64, body: Value) {
    let r = app
        .post_json(&format!("/v1/comments/{id}/decisions"), key, &body)
        .await;
    assert_eq!(r.status(), 200, "{body}: {}", r.text().await.unwrap());
}

async fn suggest(app: &TestApp, key: &str, text: &str, value: f64, token: &str) {
    let r = app
        .client
        .post(format!("{}?key={key}", app.url(SUGGEST)))
        .json(&json!({
            "comment": {"text": text},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}},
            "languages": ["fr"],
            "clientToken": token,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn by_text<'a>(rows: &'a [Row], text: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r["text"] == text).collect()
}

async fn the_export_holds_each_comments_last_human_decision_and_the_feedback(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let texts = [
        "Merci pour cet article très clair.",
        "Je trouve cette analyse un peu courte.",
        "Le cloud souverain est une bonne idée.",
        "Question pour la rédaction : quelles sources ?",
        "Escaladé puis approuvé par un admin.",
        "Approuvé puis finalement rejeté.",
        "Jamais décidé par un humain.",
        TRICKY,
    ];
    let mut ids = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        ids.push(post(&app, &ingest, &format!("c{i}"), "u-fabrice", t).await);
    }
    // (comment, admin's key rather than the moderator's, decision), in this order.
    let steps = [
        (0, false, json!({"action": "approve"})),
        (1, false, json!({"action": "reject", "reason": "insult"})),
        (2, false, json!({"action": "reject", "reason": "spam"})),
        (2, false, json!({"action": "restore"})),
        (3, false, json!({"action": "escalate"})),
        (4, false, json!({"action": "escalate"})),
        (4, true, json!({"action": "approve"})),
        (5, false, json!({"action": "approve"})),
        (5, false, json!({"action": "reject", "reason": "hate"})),
        (7, false, json!({"action": "reject", "reason": "other"})),
    ];
    for (i, as_admin, body) in steps {
        let key = if as_admin { &admin } else { &moderator };
        decide(&app, key, ids[i], body).await;
    }
    // A text edited after its decision was not the one decided: out until decided again.
    let edited = post(
        &app,
        &ingest,
        "ed",
        "u-fabrice",
        "Texte avant modification.",
    )
    .await;
    decide(&app, &moderator, edited, json!({"action": "approve"})).await;
    let r = app
        .client
        .put(app.url(&format!("/v1/comments/{edited}")))
        .bearer_auth(&ingest)
        .json(&json!({"body": "Texte après modification.", "lang": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // An author who is then erased, and a body purged: neither is training data any more.
    let erased = post(
        &app,
        &ingest,
        "e1",
        "u-erased",
        "Texte d'une autrice effacée.",
    )
    .await;
    decide(
        &app,
        &moderator,
        erased,
        json!({"action": "reject", "reason": "insult"}),
    )
    .await;
    let r = app
        .post_json("/v1/authors/u-erased/erase", &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let purged = post(&app, &ingest, "p1", "u-purged", "Texte bientôt purgé.").await;
    decide(&app, &moderator, purged, json!({"action": "approve"})).await;
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        diesel::update(comments::table.find(purged))
            .set(comments::body.eq(""))
            .execute(conn)
            .unwrap();
    })
    .await;
    // Another site's decisions stay there.
    let other_ingest = app.key("autre", Role::Ingest).await;
    let other_moderator = app.key("autre", Role::Moderator).await;
    let elsewhere = post(&app, &other_ingest, "x1", "u-x", "Ailleurs.").await;
    decide(
        &app,
        &other_moderator,
        elsewhere,
        json!({"action": "approve"}),
    )
    .await;
    // Perspective feedback, the latest label of a token winning.
    suggest(&app, &ingest, "Retour de Coral, rejeté.", 0.0, "coral:1").await;
    suggest(&app, &ingest, "Retour de Coral, rejeté.", 1.0, "coral:1").await;
    suggest(&app, &ingest, "Retour de Coral, gardé.", 0.0, "coral:2").await;

    let rows = export(&app, &admin, "").await;
    let decisions: Vec<&Row> = rows
        .iter()
        .filter(|r| r["source"] == "moderator_decision")
        .collect();
    let expected = [
        (texts[0], "0", ""),
        (texts[1], "1", "insult"),
        (texts[2], "0", ""),
        (texts[4], "0", ""),
        (texts[5], "1", "hate"),
        (TRICKY, "1", "other"),
    ];
    assert_eq!(decisions.len(), expected.len(), "{rows:?}");
    for (text, label, category) in expected {
        let found = by_text(&rows, text);
        assert_eq!(found.len(), 1, "{text}: {rows:?}");
        assert_eq!(found[0]["label"], label, "{text}");
        assert_eq!(found[0]["category"], category, "{text}");
        assert_eq!(found[0]["lang"], "fr", "{text}");
        assert_eq!(found[0]["source"], "moderator_decision");
        let at = chrono::DateTime::parse_from_rfc3339(&found[0]["decided_at"]).unwrap();
        assert_eq!(at.offset().local_minus_utc(), 0);
        assert!(found[0]["decided_at"].ends_with('Z'));
    }
    // Escalated only, never decided by a person, erased, purged, another site's: absent.
    for text in [
        texts[3],
        texts[6],
        "Texte avant modification.",
        "Texte après modification.",
        "Texte d'une autrice effacée.",
        "",
        "Ailleurs.",
    ] {
        assert!(by_text(&rows, text).is_empty(), "{text}: {rows:?}");
    }
    // Rows come in the order of the decisions: the restore of ids[2] came after the
    // rejection of ids[1].
    let position = |t: &str| rows.iter().position(|r| r["text"] == t).unwrap();
    assert!(position(texts[1]) < position(texts[2]));

    let feedback: Vec<&Row> = rows
        .iter()
        .filter(|r| r["source"] == "perspective_feedback")
        .collect();
    assert_eq!(feedback.len(), 2, "{rows:?}");
    let rejected = by_text(&rows, "Retour de Coral, rejeté.");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["label"], "1");
    assert_eq!(rejected[0]["category"], "TOXICITY");
    assert_eq!(rejected[0]["lang"], "fr");
    assert_eq!(by_text(&rows, "Retour de Coral, gardé.")[0]["label"], "0");
    assert_eq!(rows.len(), expected.len() + 2);

    // The text is kept exactly, formula characters included (training data, not a sheet).
    let formula = post(&app, &ingest, "f1", "u-fabrice", "=SOMME(A1:A2) +1 -2 @x").await;
    decide(&app, &moderator, formula, json!({"action": "approve"})).await;
    let rows = export(&app, &admin, "").await;
    assert_eq!(by_text(&rows, "=SOMME(A1:A2) +1 -2 @x").len(), 1);
    // Once decided again, the edited text is a label.
    decide(&app, &moderator, edited, json!({"action": "approve"})).await;
    let rows = export(&app, &admin, "").await;
    assert_eq!(by_text(&rows, "Texte après modification.").len(), 1);
    assert!(by_text(&rows, "Texte avant modification.").is_empty());

    // Page by page (two rows a page here), the same rows in the same order as the answer.
    let paged = app
        .with_db(|conn| {
            use vigie::store::datasets::{page_of, Cursor, Period};
            let site_id = vigie::store::datasets::site_id(conn, "numerama")
                .unwrap()
                .unwrap();
            let (mut cursor, mut all, mut pages) = (Cursor::START, Vec::new(), 0);
            while cursor != Cursor::Done {
                let (rows, next) = page_of(conn, site_id, Period::default(), cursor, 2).unwrap();
                assert!(rows.len() <= 2);
                all.extend(rows.into_iter().map(|r| r.text));
                cursor = next;
                pages += 1;
            }
            (all, pages)
        })
        .await;
    let served: Vec<String> = rows.iter().map(|r| r["text"].clone()).collect();
    assert_eq!(paged.0, served);
    assert!(paged.1 >= 5, "{} pages", paged.1);
}

async fn dates_filter_decisions_and_feedback(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let old = post(&app, &ingest, "old", "u-a", "Une décision ancienne.").await;
    let new = post(&app, &ingest, "new", "u-a", "Une décision récente.").await;
    for id in [old, new] {
        decide(&app, &moderator, id, json!({"action": "approve"})).await;
    }
    app.backdate_decisions(old, 10).await;
    suggest(&app, &ingest, "Un retour ancien.", 1.0, "t-old").await;
    suggest(&app, &ingest, "Un retour récent.", 1.0, "t-new").await;
    app.with_db(|conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::perspective_feedback as fb;
        let t = vigie::store::now() - chrono::Duration::days(10);
        diesel::update(fb::table.filter(fb::client_token.eq("t-old")))
            .set(fb::updated_at.eq(t))
            .execute(conn)
            .unwrap();
    })
    .await;
    let day = |days_ago: i64| {
        (chrono::Utc::now() - chrono::Duration::days(days_ago))
            .format("%Y-%m-%d")
            .to_string()
    };
    let texts = |rows: Vec<Row>| {
        let mut t: Vec<String> = rows.into_iter().map(|r| r["text"].clone()).collect();
        t.sort();
        t
    };
    assert_eq!(
        texts(export(&app, &admin, &format!("?from={}", day(5))).await),
        ["Un retour récent.", "Une décision récente."]
    );
    assert_eq!(
        texts(export(&app, &admin, &format!("?to={}", day(5))).await),
        ["Un retour ancien.", "Une décision ancienne."]
    );
    // A day as `to` includes the whole day; RFC 3339 times work too.
    assert_eq!(
        export(&app, &admin, &format!("?from={}&to={}", day(10), day(10)))
            .await
            .len(),
        2
    );
    let since = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        .replace('+', "%2B");
    assert_eq!(
        texts(export(&app, &admin, &format!("?from={since}")).await),
        ["Un retour récent.", "Une décision récente."]
    );
    assert!(
        export(&app, &admin, &format!("?from={}", day(-1)))
            .await
            .is_empty(),
        "nothing decided tomorrow: the header alone"
    );
}

async fn the_export_is_for_admins_and_refuses_bad_dates(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moderator = app.key("numerama", Role::Moderator).await;
    let ingest = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    const PATH: &str = "/v1/datasets/decisions";
    for key in [&moderator, &ingest] {
        assert_problem(app.get(PATH, key).await, 403, None).await;
    }
    let anonymous = app.client.get(app.url(PATH)).send().await.unwrap();
    assert_problem(anonymous, 401, None).await;
    for (query, field) in [
        ("?from=hier", "from"),
        ("?to=", "to"),
        ("?from=%202026-12-01", "from"),
        ("?to=2026-02-30", "to"),
        ("?from=2026-12-01T25:00:00Z", "from"),
        ("?from=2026-12-02&to=2026-12-01", "to"),
        ("?from=2026-12-01T10:00:00Z&to=2026-12-01T09:59:59Z", "to"),
    ] {
        assert_problem(
            app.get(&format!("{PATH}{query}"), &admin).await,
            422,
            Some(field),
        )
        .await;
    }
    assert_problem(
        app.get(&format!("{PATH}?from=%FF"), &admin).await,
        400,
        None,
    )
    .await;
    // An empty site exports the header alone.
    let r = app.get(PATH, &admin).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "text,label,category,lang,decided_at,source\n"
    );
}

async fn the_cli_writes_the_same_rows_to_a_file(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let id = post(&app, &ingest, "c1", "u-a", TRICKY).await;
    decide(
        &app,
        &moderator,
        id,
        json!({"action": "reject", "reason": "threat"}),
    )
    .await;
    suggest(&app, &ingest, "Un retour de Coral.", 0.0, "t1").await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("numerama.csv");
    let vigie = |args: &[&str]| app.cli(dir.path(), args);
    let out = vigie(&[
        "dataset",
        "export",
        "--site",
        "numerama",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 row(s) written"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let file = std::fs::read_to_string(&output).unwrap();
    let rows = parse_csv(&file);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["text"], TRICKY);
    assert_eq!(rows[0]["label"], "1");
    assert_eq!(rows[0]["category"], "threat");
    assert_eq!(rows[1]["source"], "perspective_feedback");
    let served = app
        .get("/v1/datasets/decisions", &admin)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(file, served, "the CLI and the API write the same file");

    let unknown = vigie(&[
        "dataset",
        "export",
        "--site",
        "inconnu",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no site `inconnu`"));
    let reversed = vigie(&[
        "dataset",
        "export",
        "--site",
        "numerama",
        "--from",
        "2026-12-02",
        "--to",
        "2026-12-01",
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(!reversed.status.success());
    assert!(String::from_utf8_lossy(&reversed.stderr).contains("--to must not be before"));
}

/// The `name=value` cookie of a new account of `role` on numerama, signed in.
async fn signed_in(app: &TestApp, admin: &str, email: &str, role: &str) -> String {
    let r = app
        .post_json(
            "/v1/accounts",
            admin,
            &json!({"email": email, "role": role, "name": role}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let invited: Value = r.json().await.unwrap();
    let token = invited["invitation_url"]
        .as_str()
        .unwrap()
        .rsplit('=')
        .next();
    let password = json!({"password": "le phare de la vigie 1903"});
    let r = app
        .client
        .post(app.url(&format!("/v1/invitations/{}", token.unwrap())))
        .json(&password)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut credentials = password;
    credentials["email"] = json!(email);
    let r = app
        .client
        .post(app.url("/v1/session"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn an_admin_account_exports_through_its_session(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    for (email, role, status) in [
        ("camille@example.fr", "admin", 200),
        ("dominique@example.fr", "moderator", 403),
    ] {
        let cookie = signed_in(&app, &admin, email, role).await;
        let r = app
            .client
            .get(app.url("/v1/datasets/decisions"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        if status == 200 {
            assert_eq!(r.status(), 200);
            assert!(r.text().await.unwrap().starts_with("text,label,"));
        } else {
            assert_problem(r, status, None).await;
        }
    }
}
