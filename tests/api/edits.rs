//! Edits: `PUT /v1/comments/{id}` re-scores the new text, keeps the previous one for
//! moderators, and holds a published comment again when the new text would be held.

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    an_edit_that_turns_insulting_holds_the_comment_again_and_keeps_the_previous_text,
    a_clean_edit_keeps_the_comment_published_and_a_resent_or_older_edit_changes_nothing,
    rejected_comments_stay_rejected_and_deleted_comments_cannot_be_edited,
    edits_are_refused_to_other_roles_sites_and_bad_bodies,
    erasure_export_and_the_retention_purge_cover_the_earlier_texts,
);

const CLEAN: &str =
    "Les grandes entreprises françaises sont très regardantes sur l'hébergement de leurs données.";
const INSULT: &str = "Espèce de gros connard, ferme ta gueule, tu ne comprends rien";

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

async fn post(app: &TestApp, key: &str, ext: &str, body: &str) -> Value {
    let r = app
        .post_json("/v1/comments", key, &comment(ext, "a-1", body))
        .await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn put(app: &TestApp, id: &Value, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/v1/comments/{id}")))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn history(app: &TestApp, id: &Value, moderator: &str) -> Value {
    let r = app
        .get(&format!("/v1/comments/{id}/history"), moderator)
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn scalar(app: &TestApp, sql: String) -> i64 {
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
}

async fn an_edit_that_turns_insulting_holds_the_comment_again_and_keeps_the_previous_text(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, moderator) = post_mode_site(&app).await;
    let r = app
        .post_json(
            "/v1/webhooks",
            &admin,
            &json!({"url": "https://example.fr/hooks", "events": ["comment.held"]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let c = post(&app, &ingest, "c-1", CLEAN).await;
    assert_eq!(c["status"], "published");
    let id = &c["id"];

    let r = put(
        &app,
        id,
        &ingest,
        &json!({"body": INSULT, "edited_at": "2026-12-03T10:00:00Z"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["body"], INSULT);
    assert_eq!(edited["status"], "pending", "{edited}");
    assert_ne!(edited["verdict"]["decision"], "allow");
    assert!(edited["revision"].as_i64() > c["revision"].as_i64());
    // The reader display no longer shows it.
    let shown: Value = app
        .get("/v1/threads/a-1/comments", &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert!(shown["items"].as_array().unwrap().is_empty(), "{shown}");

    // Moderators see the previous text, in the history and in the queue.
    let h = history(&app, id, &moderator).await;
    let revisions = h["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 1, "{h}");
    assert_eq!(revisions[0]["body"], CLEAN);
    assert_eq!(revisions[0]["status"], "published");
    assert_eq!(revisions[0]["revision"], c["revision"]);
    assert_eq!(revisions[0]["verdict"]["decision"], "allow");
    let steps = h["decisions"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!(
        (&last["from_status"], &last["to_status"], &last["source"]),
        (&json!("published"), &json!("pending"), &json!("automated")),
        "{h}"
    );
    assert!(last["internal_note"].as_str().unwrap().contains("edited"));
    let queue: Value = app
        .get("/v1/queues/pending", &moderator)
        .await
        .json()
        .await
        .unwrap();
    let item = &queue["items"][0];
    assert_eq!(item["comment"]["body"], INSULT);
    assert_eq!(item["previous"]["body"], CLEAN, "{item}");
    assert!(item["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("edited")));
    // The site hears of it.
    let events = scalar(
        &app,
        format!("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE event_type = 'comment.held' AND subject = 'comment:{id}'"),
    )
    .await;
    assert_eq!(events, 1);
}

async fn a_clean_edit_keeps_the_comment_published_and_a_resent_or_older_edit_changes_nothing(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, moderator) = post_mode_site(&app).await;
    let c = post(&app, &ingest, "c-1", CLEAN).await;
    let id = &c["id"];
    let fixed = format!("{CLEAN} (Correction : il s'agit surtout des banques.)");
    let edit = json!({"body": fixed, "lang": "fr", "edited_at": "2026-12-03T10:00:00Z"});
    let r = put(&app, id, &ingest, &edit).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "published");
    assert_eq!(first["body"], fixed.as_str());
    let shown: Value = app
        .get("/v1/threads/a-1/comments", &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["items"][0]["body"], fixed.as_str());
    // The same edit again: nothing new.
    let again: Value = put(&app, id, &ingest, &edit).await.json().await.unwrap();
    assert_eq!(again["revision"], first["revision"]);
    // An edit older than the stored one is refused; a newer one goes through.
    assert_problem(
        put(
            &app,
            id,
            &ingest,
            &json!({"body": "Texte plus ancien", "edited_at": "2026-12-03T09:00:00Z"}),
        )
        .await,
        409,
        None,
    )
    .await;
    let r = put(
        &app,
        id,
        &ingest,
        &json!({"body": "Merci pour cet article très clair.", "edited_at": "2026-12-03T11:00:00Z"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let h = history(&app, id, &moderator).await;
    let bodies: Vec<&str> = h["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [fixed.as_str(), CLEAN], "newest first");
    assert_eq!(h["revisions"][0]["edited_at"], "2026-12-03T10:00:00Z");
    assert!(h["revisions"][1]["edited_at"].is_null());
    // Only the first decision: nothing was held again.
    assert_eq!(h["decisions"].as_array().unwrap().len(), 1, "{h}");
    // A resend of the original through intake still changes nothing.
    let r = app
        .post_json("/v1/comments", &ingest, &comment("c-1", "a-1", CLEAN))
        .await;
    assert_eq!(r.status(), 200);
    let resent: Value = r.json().await.unwrap();
    assert_eq!(resent["body"], "Merci pour cet article très clair.");
}

async fn rejected_comments_stay_rejected_and_deleted_comments_cannot_be_edited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, moderator) = post_mode_site(&app).await;
    let c = post(&app, &ingest, "c-1", CLEAN).await;
    let id = &c["id"];
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &moderator,
            &json!({"action": "reject", "reason": "off_topic"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = put(
        &app,
        id,
        &ingest,
        &json!({"body": "Un texte tout à fait correct."}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["status"], "rejected");
    assert_eq!(edited["body"], "Un texte tout à fait correct.");
    // A pending comment stays in its queue with the new verdict.
    let admin_mode = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "pre"}))
        .await;
    assert_eq!(admin_mode.status(), 200);
    let p = post(&app, &ingest, "c-2", CLEAN).await;
    assert_eq!(p["status"], "pending");
    let r = put(&app, &p["id"], &ingest, &json!({"body": INSULT})).await;
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["status"], "pending");
    assert_ne!(edited["verdict"]["decision"], "allow");
    let h = history(&app, &p["id"], &moderator).await;
    assert_eq!(
        h["decisions"].as_array().unwrap().len(),
        1,
        "no status change"
    );

    let r = app
        .post_json("/v1/authors/u-fabrice/erase", &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let problem = assert_problem(
        put(&app, id, &ingest, &json!({"body": "Encore moi"})).await,
        409,
        None,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("deleted"),
        "{problem}"
    );
}

async fn edits_are_refused_to_other_roles_sites_and_bad_bodies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, moderator) = post_mode_site(&app).await;
    let other_site = app.key("lemonde", Role::Ingest).await;
    let c = post(&app, &ingest, "c-1", CLEAN).await;
    let id = &c["id"];
    assert_problem(
        put(&app, id, &moderator, &json!({"body": "x"})).await,
        403,
        None,
    )
    .await;
    assert_problem(
        put(&app, id, &other_site, &json!({"body": "x"})).await,
        404,
        None,
    )
    .await;
    assert_problem(
        put(&app, &json!(999_999), &ingest, &json!({"body": "x"})).await,
        404,
        None,
    )
    .await;
    assert_problem(
        put(&app, id, &ingest, &json!({"body": "  "})).await,
        422,
        Some("body"),
    )
    .await;
    assert_problem(
        put(&app, id, &ingest, &json!({"body": "a\u{0}b"})).await,
        422,
        Some("body"),
    )
    .await;
    assert_problem(
        put(
            &app,
            id,
            &ingest,
            &json!({"body": "ok", "lang": "français"}),
        )
        .await,
        422,
        Some("lang"),
    )
    .await;
    let r = put(
        &app,
        id,
        &ingest,
        &json!({"body": "ok", "edited_at": "hier"}),
    )
    .await;
    assert!(matches!(r.status().as_u16(), 400 | 422), "{}", r.status());
    let r = app
        .client
        .put(app.url(&format!("/v1/comments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Nothing changed.
    let now: Value = app
        .get(&format!("/v1/comments/{id}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["body"], CLEAN);
    assert_eq!(now["revision"], c["revision"]);
}

async fn erasure_export_and_the_retention_purge_cover_the_earlier_texts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, _) = post_mode_site(&app).await;
    let a = post(&app, &ingest, "c-1", CLEAN).await;
    let r = put(
        &app,
        &a["id"],
        &ingest,
        &json!({"body": "Texte corrigé par Fabrice."}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let mut other = comment(
        "c-2",
        "a-1",
        "Un autre lecteur, une autre opinion sur le cloud.",
    );
    other["author"]["id"] = json!("u-other");
    let b: Value = app
        .post_json("/v1/comments", &ingest, &other)
        .await
        .json()
        .await
        .unwrap();
    let r = put(
        &app,
        &b["id"],
        &ingest,
        &json!({"body": "Opinion révisée sur le cloud."}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count("comment_revisions").await, 2);

    let export: Value = app
        .get("/v1/authors/u-fabrice/export", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["comments"][0]["earlier_texts"][0]["body"], CLEAN,
        "{export}"
    );

    let r = app
        .post_json("/v1/authors/u-fabrice/erase", &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let erased: Value = r.json().await.unwrap();
    assert_eq!(erased["erased"]["revisions"], 1, "{erased}");
    assert_eq!(
        app.count("comment_revisions").await,
        1,
        "the other author's stays"
    );
    let left = scalar(
        &app,
        format!(
            "SELECT COUNT(*) AS n FROM comment_revisions WHERE comment_id = {}",
            a["id"]
        ),
    )
    .await;
    assert_eq!(left, 0);

    // Past the retention, earlier texts go too.
    let policy = vigie::store::privacy::RetentionPolicy {
        retention: chrono::Duration::days(365),
        ip_retention: chrono::Duration::days(7),
    };
    let kept = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(conn, &policy, chrono::Utc::now().naive_utc()).unwrap()
        })
        .await;
    assert_eq!(kept.revisions, 0);
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
    assert_eq!(purged.revisions, 1);
    assert_eq!(app.count("comment_revisions").await, 0);
}
