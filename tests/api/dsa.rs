//! The audit log and the DSA's paperwork: the decision log refuses changes in the database
//! itself, statements of reasons carry the Transparency Database's fields, the history says when
//! a comment was first reported, and one author cannot flood a thread.

use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::store::DbConnection;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    the_decision_log_refuses_changes_and_deletes_in_the_database,
    erasure_and_the_retention_purge_still_clear_the_decision_log_notes,
    statements_of_reasons_carry_a_puid_the_territorial_scope_and_the_detected_language,
    the_history_says_when_a_comment_was_first_reported,
    an_author_posting_twenty_comments_at_once_has_five_published_and_the_rest_held,
    new_authors_are_held_until_approved_and_the_appeal_text_reaches_the_statement,
    the_new_author_and_appeal_settings_refuse_bad_values_by_field,
);

async fn post_mode_site(app: &TestApp) -> (String, String, String) {
    let ingest = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    let moderator = app.key("numerama", Role::Moderator).await;
    (ingest, admin, moderator)
}

async fn post(app: &TestApp, key: &str, ext: &str, author: &str, body: &str) -> Value {
    let mut c = comment(ext, "a-1", body);
    c["author"]["id"] = json!(author);
    let r = app.post_json("/v1/comments", key, &c).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Runs one SQL statement on the app's database; the database's error message if it failed.
async fn execute(app: &TestApp, sql: String) -> Result<usize, String> {
    app.with_db(move |conn| {
        use diesel::RunQueryDsl;
        let result = match conn {
            DbConnection::Sqlite(c) => diesel::sql_query(&sql).execute(c),
            DbConnection::Pg(c) => diesel::sql_query(&sql).execute(c),
        };
        result.map_err(|e| e.to_string())
    })
    .await
}

async fn the_decision_log_refuses_changes_and_deletes_in_the_database(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, moderator) = post_mode_site(&app).await;
    let c = post(
        &app,
        &ingest,
        "c-1",
        "u-1",
        "Merci pour cet article sur la fibre.",
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &moderator,
            &json!({"action": "reject", "reason": "spam", "internal_note": "note interne"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count("decisions").await, 2);

    for (what, sql) in [
        (
            "to_status",
            format!("UPDATE decisions SET to_status = 'approved' WHERE comment_id = {id}"),
        ),
        (
            "reason",
            format!("UPDATE decisions SET reason = 'other' WHERE comment_id = {id}"),
        ),
        (
            "actor",
            format!("UPDATE decisions SET actor = 'someone else' WHERE comment_id = {id}"),
        ),
        (
            "created_at",
            format!(
                "UPDATE decisions SET created_at = '2000-01-01 00:00:00' WHERE comment_id = {id}"
            ),
        ),
        (
            "a note rewritten",
            format!("UPDATE decisions SET note = 'autre chose' WHERE comment_id = {id}"),
        ),
        (
            "origin",
            format!("UPDATE decisions SET origin = 'console' WHERE comment_id = {id}"),
        ),
        (
            "a network rewritten",
            format!("UPDATE decisions SET origin_network = '10.0.0.0/24' WHERE comment_id = {id}"),
        ),
        (
            "a delete",
            format!("DELETE FROM decisions WHERE comment_id = {id}"),
        ),
    ] {
        let result = execute(&app, sql).await;
        let error = result.expect_err(what);
        assert!(error.contains("append-only"), "{what}: {error}");
    }
    // the settings log too (post_mode_site changed the mode)
    for sql in [
        "UPDATE setting_changes SET summary = 'rien'",
        "UPDATE setting_changes SET origin = 'console'",
        "DELETE FROM setting_changes",
    ] {
        let error = execute(&app, sql.into()).await.expect_err(sql);
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(
        execute(
            &app,
            "UPDATE setting_changes SET origin_network = NULL".into()
        )
        .await,
        Ok(1)
    );
    if backend == Backend::Postgres {
        let error = execute(&app, "TRUNCATE decisions CASCADE".into())
            .await
            .unwrap_err();
        assert!(error.contains("append-only"), "{error}");
    }
    // Nothing changed.
    let history: Value = app
        .get(&format!("/v1/comments/{id}/history"), &moderator)
        .await
        .json()
        .await
        .unwrap();
    let steps = history["decisions"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1]["to_status"], "rejected");
    assert_eq!(steps[1]["reason"], "spam");
    assert_eq!(steps[1]["internal_note"], "note interne");
    // What erasure and the purge do is allowed: clearing the free texts and the verdict.
    let cleared = execute(
        &app,
        format!("UPDATE decisions SET note = NULL, note_to_author = NULL, verdict = NULL, origin_network = NULL WHERE comment_id = {id}"),
    )
    .await
    .unwrap();
    assert_eq!(cleared, 2);
}

async fn erasure_and_the_retention_purge_still_clear_the_decision_log_notes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, moderator) = post_mode_site(&app).await;
    let a = post(
        &app,
        &ingest,
        "c-a",
        "u-a",
        "Premier commentaire sur la fibre.",
    )
    .await;
    let b = post(
        &app,
        &ingest,
        "c-b",
        "u-b",
        "Second commentaire sur le cloud.",
    )
    .await;
    for c in [&a, &b] {
        let r = app
            .post_json(
                &format!("/v1/comments/{}/decisions", c["id"]),
                &moderator,
                &json!({"action": "reject", "reason": "insult", "internal_note": "vu par Camille", "note_to_author": "Merci de rester courtois"}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = app
        .post_json("/v1/authors/u-a/erase", &admin, &json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let notes = |id: i64| {
        format!("SELECT COUNT(*) AS n FROM decisions WHERE comment_id = {id} AND (note IS NOT NULL OR note_to_author IS NOT NULL)")
    };
    let count = |sql: String| async {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        app.with_db(move |conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
        })
        .await
    };
    let a_id = a["id"].as_i64().unwrap();
    let b_id = b["id"].as_i64().unwrap();
    // The erasure's own `deleted` row keeps its fixed note; the earlier rows lost theirs.
    assert_eq!(
        count(format!(
            "{} AND (action IS NULL OR action <> 'erase')",
            notes(a_id)
        ))
        .await,
        0
    );
    assert_eq!(count(notes(b_id)).await, 2);
    let policy = vigie::store::privacy::RetentionPolicy {
        retention: chrono::Duration::days(365),
        ip_retention: chrono::Duration::days(7),
    };
    let purged = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(
                conn,
                &policy,
                chrono::Utc::now().naive_utc() + chrono::Duration::days(400),
            )
            .unwrap()
        })
        .await;
    assert!(purged.decision_notes >= 2, "{purged:?}");
    assert_eq!(count(notes(b_id)).await, 0);
    // the moderators' networks went with the IP retention; the channel stays
    assert!(purged.decision_networks >= 1, "{purged:?}");
    // the settings log's too (post_mode_site changed the mode)
    assert!(purged.setting_change_networks >= 1, "{purged:?}");
    let origins = format!("SELECT COUNT(*) AS n FROM decisions WHERE comment_id = {b_id} AND origin = 'api' AND origin_network IS NULL");
    assert_eq!(count(origins).await, 1);
}

async fn statements_of_reasons_carry_a_puid_the_territorial_scope_and_the_detected_language(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, moderator) = post_mode_site(&app).await;
    // No `lang`: the statement takes the language scoring detected.
    let mut c = comment(
        "c-1",
        "a-1",
        "Les grandes entreprises françaises sont très regardantes sur l'hébergement de leurs données.",
    );
    c.as_object_mut().unwrap().remove("lang");
    let r = app.post_json("/v1/comments", &ingest, &c).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert!(created["lang"].is_null());
    let id = created["id"].as_i64().unwrap();
    let reject = |id: i64| {
        let (app, moderator) = (&app, &moderator);
        async move {
            app.post_json(
                &format!("/v1/comments/{id}/decisions"),
                moderator,
                &json!({"action": "reject", "reason": "insult"}),
            )
            .await
        }
    };
    assert_eq!(reject(id).await.status(), 200);
    let statement: Value = app
        .get(&format!("/v1/comments/{id}/statement"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["content_language"], "FR", "{statement}");
    let uuid = statement["uuid"].as_str().unwrap();
    assert_eq!(statement["puid"], format!("numerama-{uuid}"));
    let scope: Vec<&str> = statement["territorial_scope"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(scope.len(), 27, "{scope:?}");
    assert!(scope.contains(&"FR") && scope.contains(&"DE") && !scope.contains(&"NO"));

    // A site restricted to a few states says so.
    let r = app
        .patch_json(
            "/v1/site",
            &admin,
            &json!({"territorial_scope": ["fr", "be", "LU"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["territorial_scope"], json!(["BE", "FR", "LU"]));
    let other = post(
        &app,
        &ingest,
        "c-2",
        "u-2",
        "Merci pour ce dossier sur le cloud.",
    )
    .await;
    assert_eq!(reject(other["id"].as_i64().unwrap()).await.status(), 200);
    let statement: Value = app
        .get(&format!("/v1/comments/{}/statement", other["id"]), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["territorial_scope"], json!(["BE", "FR", "LU"]));
    assert_eq!(statement["content_language"], "FR");
    for bad in [json!(["US"]), json!([]), json!(["FR", "XX"])] {
        assert_problem(
            app.patch_json("/v1/site", &admin, &json!({ "territorial_scope": bad }))
                .await,
            422,
            Some("territorial_scope"),
        )
        .await;
    }
}

async fn the_history_says_when_a_comment_was_first_reported(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, moderator) = post_mode_site(&app).await;
    let c = post(
        &app,
        &ingest,
        "c-1",
        "u-1",
        "Merci pour cet article sur la fibre.",
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let history = || async {
        app.get(&format!("/v1/comments/{id}/history"), &moderator)
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    let before = history().await;
    assert!(
        before
            .as_object()
            .unwrap()
            .contains_key("first_reported_at"),
        "{before}"
    );
    assert!(before["first_reported_at"].is_null());
    let t0 = chrono::Utc::now() - chrono::Duration::seconds(1);
    for reporter in ["r-1", "r-2"] {
        let r = app
            .post_json(
                &format!("/v1/comments/{id}/reports"),
                &ingest,
                &json!({"category": "insult", "reporter": {"id": reporter}, "ip": "198.51.100.7"}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let after = history().await;
    let first: chrono::DateTime<chrono::Utc> = after["first_reported_at"]
        .as_str()
        .expect("first_reported_at is set once reported")
        .parse()
        .unwrap();
    assert!(first >= t0 && first <= chrono::Utc::now(), "{first}");
    // The OpenAPI document describes it.
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["components"]["schemas"]["History"]["properties"]["first_reported_at"].is_object(),
        "{}",
        doc["components"]["schemas"]["History"]
    );
}

async fn an_author_posting_twenty_comments_at_once_has_five_published_and_the_rest_held(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, moderator) = post_mode_site(&app).await;
    let topics = [
        "la fibre",
        "le cloud",
        "les données",
        "le nucléaire",
        "le budget",
        "la santé",
        "l'école",
        "le climat",
        "les transports",
        "le logement",
        "l'Europe",
        "le sport",
        "la culture",
        "l'emploi",
        "la justice",
        "la police",
        "l'agriculture",
        "la recherche",
        "les retraites",
        "la presse",
    ];
    let sends = topics.iter().enumerate().map(|(i, topic)| {
        let mut c = comment(
            &format!("c-{i}"),
            "a-1",
            &format!("Merci pour cet article très clair sur {topic}, j'ai appris des choses."),
        );
        c["author"]["id"] = json!("u-flood");
        let app = &app;
        let ingest = &ingest;
        async move {
            let r = app.post_json("/v1/comments", ingest, &c).await;
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        }
    });
    let answers = futures_util::future::join_all(sends).await;
    let published: Vec<&Value> = answers
        .iter()
        .filter(|c| c["status"] == "published")
        .collect();
    let held: Vec<&Value> = answers
        .iter()
        .filter(|c| c["status"] == "pending")
        .collect();
    assert_eq!(published.len(), 5, "{answers:?}");
    assert_eq!(held.len(), 15, "{answers:?}");
    for c in &held {
        let verdict = &c["verdict"];
        assert_eq!(verdict["decision"], "review", "{verdict}");
        assert!(verdict["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "author-rate"));
        assert!(
            verdict["reasons"].as_array().unwrap().iter().any(|r| r
                .as_str()
                .unwrap()
                .contains("more than 5 comments by this author within 60 seconds")),
            "{verdict}"
        );
    }
    for c in &published {
        assert!(!c["verdict"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "author-rate"));
    }
    // The first five by time of arrival are the published ones.
    let mut by_id: Vec<&Value> = answers.iter().collect();
    by_id.sort_by_key(|c| c["id"].as_i64().unwrap());
    assert!(
        by_id[..5].iter().all(|c| c["status"] == "published"),
        "{by_id:?}"
    );
    // Moderators find them under the rule's id, with the reason in the decision log.
    let queue: Value = app
        .get("/v1/queues/pending?reason=author-rate&limit=50", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 15, "{queue}");
    let history: Value = app
        .get(
            &format!("/v1/comments/{}/history", held[0]["id"]),
            &moderator,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        history["decisions"][0]["internal_note"]
            .as_str()
            .unwrap()
            .contains("author-rate"),
        "{history}"
    );
    // Another author is not slowed down by this one.
    let other = post(
        &app,
        &ingest,
        "c-other",
        "u-other",
        "Merci pour cet article sur la fibre.",
    )
    .await;
    assert_eq!(other["status"], "published");
}

/// Site settings from the console (issue 18): new-author pre-moderation holds an author's
/// comments until `n` of theirs were approved; the appeal text is in statements of reasons.
async fn new_authors_are_held_until_approved_and_the_appeal_text_reaches_the_statement(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, moderator) = post_mode_site(&app).await;
    let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
    assert_eq!(site["new_author_premod"], 0);
    assert_eq!(site["appeal_text"], Value::Null);
    let appeal = "Pour contester, écrivez à moderation@numerama.fr en citant la référence.";
    let r = app
        .patch_json(
            "/v1/site",
            &admin,
            &json!({"new_author_premod": 2, "appeal_text": format!("  {appeal}  ")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["new_author_premod"], 2);
    assert_eq!(site["appeal_text"], appeal, "trimmed");
    assert_eq!(site["moderation_mode"], "post", "the other settings stay");

    let benign = |n: usize| format!("Merci pour cet article sur la fibre, remarque numéro {n}.");
    let mut statuses = Vec::new();
    for n in 0..3 {
        let c = post(&app, &ingest, &format!("new-{n}"), "u-new", &benign(n)).await;
        let id = c["id"].as_i64().unwrap();
        statuses.push(c["status"].as_str().unwrap().to_owned());
        if c["status"] == "pending" {
            let history: Value = app
                .get(&format!("/v1/comments/{id}/history"), &moderator)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                history["decisions"][0]["internal_note"],
                "new author: fewer than 2 approved comments (site setting)"
            );
            let r = app
                .post_json(
                    &format!("/v1/comments/{id}/decisions"),
                    &moderator,
                    &json!({"action": "approve"}),
                )
                .await;
            assert_eq!(r.status(), 200);
        }
    }
    assert_eq!(statuses, ["pending", "pending", "published"]);

    // a rejection's statement of reasons carries the site's words on appeals
    let c = post(&app, &ingest, "other-1", "u-other", &benign(9)).await;
    let id = c["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &moderator,
            &json!({"action": "reject", "reason": "spam"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let statement: Value = app
        .get(&format!("/v1/comments/{id}/statement"), &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["how_to_appeal"], appeal, "{statement}");

    // off again: a new author is published; no appeal text
    let r = app
        .patch_json(
            "/v1/site",
            &admin,
            &json!({"new_author_premod": 0, "appeal_text": ""}),
        )
        .await;
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["new_author_premod"], 0);
    assert_eq!(site["appeal_text"], Value::Null);
    let c = post(&app, &ingest, "late-1", "u-late", &benign(10)).await;
    assert_eq!(c["status"], "published");
}

async fn the_new_author_and_appeal_settings_refuse_bad_values_by_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (_, admin, moderator) = post_mode_site(&app).await;
    for (body, field) in [
        (json!({"new_author_premod": 101}), Some("new_author_premod")),
        (json!({"new_author_premod": -1}), None),
        (json!({"new_author_premod": "3"}), None),
        (
            json!({"appeal_text": "x".repeat(2001)}),
            Some("appeal_text"),
        ),
        (json!({"appeal_text": "a\u{0}b"}), Some("appeal_text")),
        (json!({"appeal_text": 7}), None),
    ] {
        let r = app.patch_json("/v1/site", &admin, &body).await;
        assert_problem(r, 422, field).await;
    }
    let r = app
        .patch_json("/v1/site", &moderator, &json!({"new_author_premod": 2}))
        .await;
    assert_problem(r, 403, None).await;
    let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
    assert_eq!(site["new_author_premod"], 0, "nothing changed");
    assert_eq!(site["appeal_text"], Value::Null);
}
