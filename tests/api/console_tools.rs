//! The console's tools through the API: text search in the queues, notes about authors, the
//! audit log as CSV.

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    queue_search_matches_text_literally_and_combines_with_filters,
    notes_about_an_author_are_for_moderators_exported_and_erased,
    the_audit_log_filters_by_action_and_author_and_exports_safe_csv,
    the_audit_log_says_where_each_decision_came_from,
    every_settings_change_is_logged_with_who_what_and_from_where,
    an_author_record_lists_as_many_comments_as_asked,
    a_thread_can_be_set_up_before_its_first_comment,
    word_lists_are_edited_entry_by_entry_and_judge_new_comments,
);

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

async fn notes_about_an_author_are_for_moderators_exported_and_erased(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("notes", Role::Ingest).await;
    let moderator = app.key("notes", Role::Moderator).await;
    let other_moderator = app.key("notes", Role::Moderator).await;
    let admin = app.key("notes", Role::Admin).await;
    let elsewhere = app.key("ailleurs", Role::Moderator).await;
    post(&app, &ingest, "c1", "t1", "ana", "Premier commentaire").await;

    let notes = "/v1/authors/ana/notes";
    let r = app
        .post_json(
            notes,
            &moderator,
            &json!({"text": "  Insiste souvent, mais reste poli.  "}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["text"], "Insiste souvent, mais reste poli.");
    assert_eq!(first["created_by"], "test");
    assert_eq!(first["deletable"], true);
    let r = app
        .post_json(notes, &other_moderator, &json!({"text": "Second avis."}))
        .await;
    assert_eq!(r.status(), 201);
    let second: Value = r.json().await.unwrap();

    let list: Value = app.get(notes, &moderator).await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], second["id"], "newest first");
    assert_eq!(items[0]["deletable"], false, "another moderator's note");
    assert_eq!(items[1]["deletable"], true);

    // Bad input: empty, too long, NUL, wrong type, unknown field, malformed JSON.
    for (body, field) in [
        (json!({"text": "   "}), Some("text")),
        (json!({"text": "x".repeat(2001)}), Some("text")),
        (json!({"text": "a\0b"}), Some("text")),
    ] {
        assert_problem(app.post_json(notes, &moderator, &body).await, 422, field).await;
    }
    assert_eq!(
        app.post_json(notes, &moderator, &json!({"text": "é".repeat(2000)}))
            .await
            .status(),
        201,
        "2,000 characters (not bytes) fit"
    );
    for (body, field) in [
        (json!({"text": 3}), Some("text")),
        (json!({}), Some("text")),
        (json!({"text": "x", "extra": 1}), None),
    ] {
        assert_problem(app.post_json(notes, &moderator, &body).await, 422, field).await;
    }
    assert_problem(app.post_raw(notes, &moderator, "{").await, 400, None).await;
    // Unknown author or note, other site, other roles.
    assert_problem(
        app.post_json(
            "/v1/authors/nobody/notes",
            &moderator,
            &json!({"text": "x"}),
        )
        .await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.get("/v1/authors/nobody/notes", &moderator).await,
        404,
        None,
    )
    .await;
    assert_problem(app.get(notes, &elsewhere).await, 404, None).await;
    assert_problem(app.get(notes, &ingest).await, 403, None).await;
    assert_problem(
        app.post_json(notes, &ingest, &json!({"text": "x"})).await,
        403,
        None,
    )
    .await;
    let r = app.client.get(app.url(notes)).send().await.unwrap();
    assert_problem(r, 401, None).await;

    // Deleting: the writer or an admin; another moderator is refused.
    let delete = |id: &Value| format!("{notes}/{id}");
    let r = delete_as(&app, &delete(&second["id"]), &moderator).await;
    assert_problem(r, 403, None).await;
    let r = delete_as(&app, &delete(&first["id"]), &moderator).await;
    assert_eq!(r.status(), 204);
    let r = delete_as(&app, &delete(&first["id"]), &moderator).await;
    assert_problem(r, 404, None).await;
    let r = delete_as(&app, &format!("{notes}/abc"), &admin).await;
    assert_problem(r, 404, None).await;

    // The export holds the notes (not who wrote them); erasure deletes them.
    let export: Value = app
        .get("/v1/authors/ana/export", &admin)
        .await
        .json()
        .await
        .unwrap();
    let exported = export["moderator_notes"].as_array().unwrap();
    assert_eq!(exported.len(), 2);
    assert!(exported.iter().any(|n| n["text"] == "Second avis."));
    assert!(exported[0].get("created_by").is_none());
    assert_eq!(app.count("author_notes").await, 2);
    let r = app
        .post_json("/v1/authors/ana/erase", &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let erased: Value = r.json().await.unwrap();
    assert_eq!(erased["erased"]["author_notes"], 2);
    assert_eq!(app.count("author_notes").await, 0);
}

async fn the_audit_log_filters_by_action_and_author_and_exports_safe_csv(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("audit", Role::Ingest).await;
    let moderator = app.key("audit", Role::Moderator).await;
    let a = post(&app, &ingest, "c1", "t1", "mallory", "Un").await;
    let b = post(&app, &ingest, "c2", "t1", "bob", "Deux").await;
    let decide = |id: i64, body: Value| {
        let app = &app;
        let moderator = moderator.clone();
        async move {
            let r = app
                .post_json(&format!("/v1/comments/{id}/decisions"), &moderator, &body)
                .await;
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    decide(
        a,
        json!({"action": "reject", "reason": "spam", "internal_note": "=HYPERLINK(\"http://x\")"}),
    )
    .await;
    decide(
        a,
        json!({"action": "restore", "internal_note": "@erreur, \"rétabli\"\nligne 2"}),
    )
    .await;
    decide(b, json!({"action": "approve", "internal_note": "+33 6 00"})).await;

    let log = |query: &str| {
        let app = &app;
        let moderator = moderator.clone();
        let path = format!("/v1/decisions?{query}");
        async move {
            let r = app.get(&path, &moderator).await;
            assert_eq!(r.status(), 200, "{path}");
            let v: Value = r.json().await.unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["source"] == "human")
                .map(|d| {
                    (
                        d["comment_id"].as_i64().unwrap(),
                        d["action"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(log("action=restore").await, vec![(a, "restore".to_owned())]);
    assert_eq!(log("author=bob").await, vec![(b, "approve".to_owned())]);
    assert_eq!(log("author=bob&action=reject").await, vec![]);
    assert_eq!(
        log("moderator=test&action=reject").await,
        vec![(a, "reject".to_owned())]
    );
    assert_problem(
        app.get("/v1/decisions?action=delete", &moderator).await,
        400,
        None,
    )
    .await;

    // CSV: every decision (automated ones too), newest first, formula cells quoted.
    let r = app.get("/v1/decisions.csv?source=human", &moderator).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"vigie-decisions-"));
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        vigie::routes::decisions::AUDIT_CSV_HEADER.to_vec()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][4], "approve");
    assert_eq!(&rows[0][9], "'+33 6 00");
    assert_eq!(&rows[1][4], "restore");
    assert_eq!(&rows[1][9], "'@erreur, \"rétabli\"\nligne 2");
    assert_eq!(&rows[2][9], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&rows[2][7], "spam");
    assert_eq!(&rows[2][2], "test");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
    // The filters apply; pages do not.
    let text = app
        .get("/v1/decisions.csv?action=restore", &moderator)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        text.lines().count(),
        3,
        "header and one two-line row: {text}"
    );
    assert_problem(
        app.get("/v1/decisions.csv?limit=5", &moderator).await,
        422,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/v1/decisions.csv?from=hier", &moderator).await,
        422,
        Some("from"),
    )
    .await;
    assert_problem(app.get("/v1/decisions.csv", &ingest).await, 403, None).await;
    let r = app
        .client
        .get(app.url("/v1/decisions.csv"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, None).await;
    // Past one page of the stream (500 rows): every decision, once.
    for i in 0..520 {
        app.with_db(move |conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::{comments, decisions};
            let site: i64 = comments::table
                .find(b)
                .select(comments::site_id)
                .first(conn)
                .unwrap();
            diesel::insert_into(decisions::table)
                .values((
                    decisions::comment_id.eq(b),
                    decisions::site_id.eq(site),
                    decisions::actor.eq(format!("m{i}")),
                    decisions::source.eq("human"),
                    decisions::to_status.eq("approved"),
                    decisions::created_at.eq(chrono::Utc::now().naive_utc()),
                ))
                .execute(conn)
                .unwrap();
        })
        .await;
    }
    let text = app
        .get("/v1/decisions.csv?source=human", &moderator)
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let ids: Vec<i64> = reader
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 523);
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
}

/// "Who decided what, when, from where": the channel (console or API key) and the client's
/// network; behind a trusted proxy the forwarded address; the network for admins only.
async fn the_audit_log_says_where_each_decision_came_from(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("audit", Role::Ingest).await;
    let moderator = app.key("audit", Role::Moderator).await;
    let admin = app.key("audit", Role::Admin).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            post(
                &app,
                &ingest,
                &format!("c{i}"),
                "t1",
                &format!("a{i}"),
                "Bonjour",
            )
            .await,
        );
    }
    let approve = json!({"action": "approve"});
    let decide = |id: i64, forwarded: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url(&format!("/v1/comments/{id}/decisions")))
            .bearer_auth(&moderator)
            .json(&approve);
        if let Some(f) = forwarded {
            req = req.header("X-Forwarded-For", f);
        }
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    // the test client connects from loopback, a trusted proxy by default
    decide(ids[0], None).await;
    decide(ids[1], Some("198.51.100.7")).await;
    decide(ids[2], Some("2001:db8:1:2::7, 203.0.113.9, 127.0.0.1")).await;
    // from the console: a session, with its CSRF token
    let r = app
        .client
        .post(app.url("/console/session"))
        .json(&json!({"key": moderator}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .client
        .post(app.url(&format!("/v1/comments/{}/decisions", ids[3])))
        .header("Cookie", cookie)
        .header("X-CSRF-Token", csrf)
        .json(&approve)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let log = |key: String| {
        let app = &app;
        async move {
            let r = app.get("/v1/decisions?source=human", &key).await;
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["comment_id"].as_i64().unwrap(),
                        d["origin"].clone(),
                        d["network"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        log(admin.clone()).await,
        vec![
            (ids[3], json!("console"), json!("127.0.0.0/24")),
            (ids[2], json!("api"), json!("203.0.113.0/24")),
            (ids[1], json!("api"), json!("198.51.100.0/24")),
            (ids[0], json!("api"), json!("127.0.0.0/24")),
        ]
    );
    // moderators see the channel, not their colleagues' networks
    assert!(log(moderator.clone())
        .await
        .iter()
        .all(|(_, origin, network)| origin.is_string() && network.is_null()));
    let history: Value = app
        .get(&format!("/v1/comments/{}/history", ids[1]), &admin)
        .await
        .json()
        .await
        .unwrap();
    let human = history["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["source"] == "human")
        .unwrap();
    assert_eq!(human["network"], "198.51.100.0/24", "{history}");
    // automated decisions have no origin
    assert!(history["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["source"] == "automated")
        .all(|d| d["origin"].is_null() && d["network"].is_null()));

    // the CSV: both columns for admins, the network left empty for moderators
    let csv_rows = |key: String| {
        let app = &app;
        async move {
            let text = app
                .get("/v1/decisions.csv?source=human", &key)
                .await
                .text()
                .await
                .unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header = reader.headers().unwrap().clone();
            let at = |name: &str| header.iter().position(|h| h == name).unwrap();
            let (o, n) = (at("origin"), at("network"));
            reader
                .records()
                .map(|r| {
                    let r = r.unwrap();
                    (r[o].to_owned(), r[n].to_owned())
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        csv_rows(admin.clone()).await[1],
        ("api".to_owned(), "203.0.113.0/24".to_owned())
    );
    assert_eq!(
        csv_rows(moderator.clone()).await[1],
        ("api".to_owned(), String::new())
    );

    // a proxy not trusted: the forwarded header is ignored
    let Some(app) = spawn_app_with(backend, |s| s.trusted_proxies = Vec::new()).await else {
        return;
    };
    let ingest = app.key("audit", Role::Ingest).await;
    let admin = app.key("audit", Role::Admin).await;
    let id = post(&app, &ingest, "c9", "t1", "a9", "Bonjour").await;
    let r = app
        .client
        .post(app.url(&format!("/v1/comments/{id}/decisions")))
        .bearer_auth(&admin)
        .header("X-Forwarded-For", "198.51.100.7")
        .json(&approve)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.get("/v1/decisions?source=human", &admin).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"][0]["network"], "127.0.0.0/24", "{v}");
}

/// The settings log: the site's settings, thresholds, rule file, word lists and a thread's
/// settings, each change once, with its author, origin and what changed; for admins.
async fn every_settings_change_is_logged_with_who_what_and_from_where(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("reglages", Role::Admin).await;
    let moderator = app.key("reglages", Role::Moderator).await;
    let ok = |r: reqwest::Response| async move {
        let status = r.status();
        assert!(status.is_success(), "{status}: {}", r.text().await.unwrap());
    };
    let change = json!({"moderation_mode": "post", "new_author_premod": 2});
    ok(app.patch_json("/v1/site", &admin, &change).await).await;
    // the same values again change nothing, and log nothing
    ok(app.patch_json("/v1/site", &admin, &change).await).await;
    let thresholds = json!({"toxicity": {"review": 0.6, "reject": 0.95}, "spam": {"review": 0.7, "reject": 0.9}});
    let r = app
        .client
        .put(app.url("/v1/site/thresholds"))
        .bearer_auth(&admin)
        .json(&thresholds)
        .send()
        .await
        .unwrap();
    ok(r).await;
    let source = "name = \"reglages\"\n\n[[words]]\nid = \"mots\"\naction = \"hold\"\nterms = [\"zorglub\"]\n";
    let r = app
        .client
        .put(app.url("/v1/site/rules"))
        .bearer_auth(&admin)
        .json(&json!({ "source": source }))
        .send()
        .await
        .unwrap();
    ok(r).await;
    let words = "/v1/site/rules/words";
    let entry =
        json!({"id": "autres", "action": "block", "lang": "fr", "terms": ["bulgroz", "zorg"]});
    ok(app.post_json(words, &admin, &entry).await).await;
    ok(app.delete(&format!("{words}/autres"), &admin).await).await;
    let r = app
        .patch_json(
            "/v1/threads/article-9",
            &moderator,
            &json!({"status": "closed"}),
        )
        .await;
    ok(r).await;
    // refused changes are not logged
    let r = app
        .patch_json("/v1/site", &admin, &json!({"new_author_premod": 500}))
        .await;
    assert_problem(r, 422, Some("new_author_premod")).await;

    let page: Value = app
        .get("/v1/site/changes", &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    let rules_summary = format!(
        "rule file replaced by version 1: `reglages`, 1 rule, {} characters",
        source.chars().count()
    );
    let got: Vec<(&str, &str)> = items
        .iter()
        .map(|c| {
            (
                c["setting"].as_str().unwrap(),
                c["summary"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("thread", "thread `article-9` set up before its first comment: status closed"),
            ("words", "word list `autres` removed (rule file version 3)"),
            ("words", "word list `autres` added: block, fr, 2 terms (rule file version 2)"),
            ("rules", rules_summary.as_str()),
            (
                "thresholds",
                "the model's thresholds → toxicity review 0.60, reject 0.95; spam review 0.70, reject 0.90"
            ),
            ("site", "moderation_mode: pre → post; new_author_premod: 0 → 2"),
        ]
    );
    for c in items {
        assert_eq!(c["actor"], "test");
        assert_eq!(c["origin"], "api");
        assert_eq!(c["network"], "127.0.0.0/24");
        assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(page["next_cursor"], Value::Null);

    // one setting; pages
    let only: Value = app
        .get("/v1/site/changes?setting=words", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only["items"].as_array().unwrap().len(), 2);
    let first: Value = app
        .get("/v1/site/changes?limit=4", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/v1/site/changes?limit=4&cursor={cursor}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["setting"], "thresholds");
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);

    // dates: none in the future; all since yesterday
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%d");
    let later: Value = app
        .get(&format!("/v1/site/changes?from={tomorrow}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["items"], json!([]));
    let since: Value = app
        .get(
            &format!("/v1/site/changes?from={yesterday}&to={tomorrow}"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(since["items"].as_array().unwrap().len(), 6);

    // the CSV: every change, newest first, formula-safe cells
    let r = app.get("/v1/site/changes.csv?setting=words", &admin).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"vigie-settings-"));
    let text = r.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        vigie::routes::site::CHANGES_CSV_HEADER.to_vec()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        &rows[0][6],
        "word list `autres` removed (rule file version 3)"
    );
    assert_eq!((&rows[0][3], &rows[0][4]), ("api", "127.0.0.0/24"));
    assert_problem(
        app.get("/v1/site/changes.csv?limit=5", &admin).await,
        422,
        Some("limit"),
    )
    .await;
    assert_problem(app.get("/v1/site/changes.csv", &moderator).await, 403, None).await;

    // for admins; bad filters by name; another site sees nothing
    assert_problem(app.get("/v1/site/changes", &moderator).await, 403, None).await;
    assert_problem(
        app.get("/v1/site/changes?from=hier", &admin).await,
        422,
        Some("from"),
    )
    .await;
    assert_problem(
        app.get("/v1/site/changes?setting=everything", &admin).await,
        422,
        Some("setting"),
    )
    .await;
    assert_problem(
        app.get("/v1/site/changes?limit=0", &admin).await,
        422,
        Some("limit"),
    )
    .await;
    let other = app.key("ailleurs", Role::Admin).await;
    let page: Value = app
        .get("/v1/site/changes", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]));
}

async fn an_author_record_lists_as_many_comments_as_asked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("record", Role::Ingest).await;
    let moderator = app.key("record", Role::Moderator).await;
    for i in 0..12 {
        post(
            &app,
            &ingest,
            &format!("c{i}"),
            "t1",
            "ana",
            &format!("Commentaire {i}"),
        )
        .await;
    }
    let recent = |path: &'static str| {
        let app = &app;
        let moderator = moderator.clone();
        async move {
            let v: Value = app.get(path, &moderator).await.json().await.unwrap();
            v["recent"].as_array().unwrap().len()
        }
    };
    assert_eq!(recent("/v1/authors/ana").await, 10);
    assert_eq!(recent("/v1/authors/ana?comments=200").await, 12);
    assert_eq!(recent("/v1/authors/ana?comments=3").await, 3);
    for bad in ["0", "201"] {
        assert_problem(
            app.get(&format!("/v1/authors/ana?comments={bad}"), &moderator)
                .await,
            422,
            Some("comments"),
        )
        .await;
    }
}

async fn delete_as(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

async fn a_thread_can_be_set_up_before_its_first_comment(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("avance", Role::Ingest).await;
    let moderator = app.key("avance", Role::Moderator).await;
    // The site publishes (post-moderation); one article is pre-moderated, another closed,
    // before their first comment.
    let admin = app.key("avance", Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .patch_json(
            "/v1/threads/embargo",
            &moderator,
            &json!({"moderation_mode": "pre", "title": "Sous embargo", "url": "https://example.fr/embargo"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let thread: Value = r.json().await.unwrap();
    assert_eq!(thread["id"], "embargo");
    assert_eq!(thread["title"], "Sous embargo");
    assert_eq!(thread["url"], "https://example.fr/embargo");
    assert_eq!(thread["moderation_mode"], "pre");
    assert_eq!(thread["status"], "open");
    let r = app
        .patch_json(
            "/v1/threads/ferme",
            &moderator,
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Again: the same thread, 200.
    let r = app
        .patch_json("/v1/threads/embargo", &moderator, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["moderation_mode"], "pre");

    let first = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("e1", "embargo", "Premier !"),
        )
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(first.json::<Value>().await.unwrap()["status"], "pending");
    assert_problem(
        app.post_json("/v1/comments", &ingest, &comment("f1", "ferme", "Trop tôt"))
            .await,
        409,
        None,
    )
    .await;

    // Bad input names the field; ingest keys cannot.
    for (body, field) in [
        (json!({"url": "javascript:alert(1)"}), "url"),
        (json!({"title": "x".repeat(501)}), "title"),
        (json!({"status": "ajar"}), "status"),
    ] {
        assert_problem(
            app.patch_json("/v1/threads/autre", &moderator, &body).await,
            422,
            Some(field),
        )
        .await;
    }
    let long_id = format!("/v1/threads/{}", "x".repeat(201));
    assert_problem(
        app.patch_json(&long_id, &moderator, &json!({})).await,
        422,
        Some("thread_id"),
    )
    .await;
    assert_problem(
        app.patch_json("/v1/threads/autre", &ingest, &json!({"status": "closed"}))
            .await,
        403,
        None,
    )
    .await;
    assert_problem(
        app.patch_json("/v1/threads/autre", &admin, &json!({"status": 1}))
            .await,
        422,
        Some("status"),
    )
    .await;
}

async fn word_lists_are_edited_entry_by_entry_and_judge_new_comments(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("mots", Role::Ingest).await;
    let moderator = app.key("mots", Role::Moderator).await;
    let admin = app.key("mots", Role::Admin).await;
    let words = "/v1/site/rules/words";
    // The defaults, as entries.
    let list: Value = app.get(words, &admin).await.json().await.unwrap();
    assert!(list["version"].is_null());
    let defaults = list["items"].as_array().unwrap().len();
    assert!(defaults > 3);
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == "fr-slur"));

    // Add an entry: saved as version 1, in force for the next comment.
    let r = app
        .post_json(
            words,
            &admin,
            &json!({"id": "site-mots", "action": "block", "lang": "fr", "terms": ["  zorglub ", "zorglub", "bulgroz"]}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["terms"], json!(["zorglub", "bulgroz"]));
    assert_eq!(added["category"], "toxicity");
    let rules: Value = app
        .get("/v1/site/rules", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules["version"], 1);
    assert!(
        rules["source"]
            .as_str()
            .unwrap()
            .contains("# Vigie default rule set"),
        "comments kept"
    );
    let c: Value = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("z1", "t1", "Quel zorglub celui-là"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["verdict"]["decision"], "reject", "{c}");
    assert_eq!(rule_action(&c, "site-mots"), Some("block".into()));

    // Change its action and language; then remove it.
    let r = app
        .patch_json(
            &format!("{words}/site-mots"),
            &admin,
            &json!({"action": "flag", "lang": null}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["action"], "flag");
    assert!(changed["lang"].is_null());
    let c: Value = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("z2", "t1", "Encore un zorglub"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rule_action(&c, "site-mots"), Some("flag".into()), "{c}");
    let r = delete_as(&app, &format!("{words}/site-mots"), &admin).await;
    assert_eq!(r.status(), 204);
    let list: Value = app.get(words, &admin).await.json().await.unwrap();
    assert_eq!(list["version"], 3);
    assert_eq!(list["items"].as_array().unwrap().len(), defaults);

    // Typed checks name the field; unknown entries 404; a taken id 409.
    for (body, field) in [
        (json!({"id": "a b", "action": "hold", "terms": ["x"]}), "id"),
        (
            json!({"id": "ok", "action": "ban", "terms": ["x"]}),
            "action",
        ),
        (
            json!({"id": "ok", "action": "hold", "category": "rude", "terms": ["x"]}),
            "category",
        ),
        (
            json!({"id": "ok", "action": "hold", "lang": "FR", "terms": ["x"]}),
            "lang",
        ),
        (json!({"id": "ok", "action": "hold", "terms": []}), "terms"),
        (
            json!({"id": "ok", "action": "hold", "terms": ["x", " "]}),
            "terms[1]",
        ),
        (
            json!({"id": "ok", "action": "hold", "terms": ["x".repeat(101)]}),
            "terms[0]",
        ),
        (json!({"id": "ok", "action": "hold"}), "terms"),
        (json!({"id": "ok", "action": "hold", "terms": "x"}), "terms"),
    ] {
        assert_problem(app.post_json(words, &admin, &body).await, 422, Some(field)).await;
    }
    assert_problem(
        app.post_json(
            words,
            &admin,
            &json!({"id": "fr-slur", "action": "hold", "terms": ["x"]}),
        )
        .await,
        409,
        None,
    )
    .await;
    assert_problem(
        app.patch_json(&format!("{words}/nope"), &admin, &json!({"action": "flag"}))
            .await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.patch_json(
            &format!("{words}/fr-slur"),
            &admin,
            &json!({"action": "ban"}),
        )
        .await,
        422,
        Some("action"),
    )
    .await;
    assert_problem(
        delete_as(&app, &format!("{words}/nope"), &admin).await,
        404,
        None,
    )
    .await;
    // Admins only.
    assert_problem(app.get(words, &moderator).await, 403, None).await;
    assert_problem(
        app.post_json(
            words,
            &moderator,
            &json!({"id": "m", "action": "hold", "terms": ["x"]}),
        )
        .await,
        403,
        None,
    )
    .await;
    assert_problem(
        delete_as(&app, &format!("{words}/fr-slur"), &moderator).await,
        403,
        None,
    )
    .await;
    assert_eq!(
        app.get("/v1/site/rules", &admin)
            .await
            .json::<Value>()
            .await
            .unwrap()["version"],
        3,
        "refused edits save nothing"
    );
}

/// The action of the rule `id` in a comment's verdict, if it fired.
fn rule_action(comment: &Value, id: &str) -> Option<String> {
    comment["verdict"]["rules"]
        .as_array()?
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["action"].as_str().unwrap_or_default().to_owned())
}
