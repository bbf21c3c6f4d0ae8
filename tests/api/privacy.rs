//! Personal data: how IPs are kept, the retention purge, erasure and export of an author.
//! After a purge or an erasure, the whole database is searched for the personal values.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use vigie::domain::Role;
use vigie::store::DbConnection;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    row: String,
}

/// Every row of every table, as text.
async fn database_text(app: &TestApp) -> String {
    app.with_db(|conn| {
        let mut out = String::new();
        match conn {
            DbConnection::Sqlite(c) => {
                let tables: Vec<Row> = diesel::sql_query(
                    "SELECT name AS row FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .load(c)
                .unwrap();
                for t in tables {
                    let cols: Vec<Row> = diesel::sql_query(format!(
                        "SELECT name AS row FROM pragma_table_info('{}')",
                        t.row
                    ))
                    .load(c)
                    .unwrap();
                    let list: Vec<String> = cols.iter().map(|c| format!("\"{}\"", c.row)).collect();
                    let rows: Vec<Row> = diesel::sql_query(format!(
                        "SELECT json_array({}) AS row FROM \"{}\"",
                        list.join(", "),
                        t.row
                    ))
                    .load(c)
                    .unwrap();
                    for r in rows {
                        out.push_str(&r.row);
                        out.push('\n');
                    }
                }
            }
            DbConnection::Pg(c) => {
                let tables: Vec<Row> = diesel::sql_query(
                    "SELECT table_name::text AS row FROM information_schema.tables WHERE table_schema = 'public'",
                )
                .load(c)
                .unwrap();
                for t in tables {
                    let rows: Vec<Row> = diesel::sql_query(format!(
                        "SELECT row_to_json(t)::text AS row FROM \"{}\" t",
                        t.row
                    ))
                    .load(c)
                    .unwrap();
                    for r in rows {
                        out.push_str(&r.row);
                        out.push('\n');
                    }
                }
            }
        }
        out
    })
    .await
}

async fn first_value(app: &TestApp, sql: &'static str) -> Option<String> {
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        v: Option<String>,
    }
    app.with_db(move |conn| diesel::sql_query(sql).get_result::<V>(conn).unwrap().v)
        .await
}

const NAME: &str = "Gwendoline Kerbrat";
const EMAIL: &str = "gwendoline.kerbrat@example.fr";
const AUTHOR: &str = "user-gk-5531";
const IP: &str = "198.51.100.77";
const UA: &str = "Mozilla/5.0 (X11; GwenBrowser 77.1)";
const TOKEN: &str = "zanzibarquetzal";

fn personal_comment(id: &str) -> Value {
    json!({
        "external_id": id,
        "thread": {"id": "article-7", "title": "Le cloud souverain"},
        "author": {"id": AUTHOR, "name": NAME, "email": EMAIL},
        "body": format!("Je connais bien {TOKEN}, c'est mon village. Écrivez-moi."),
        "lang": "fr",
        "client": {"ip": IP, "user_agent": UA}
    })
}

async fn an_erased_author_leaves_no_personal_value_in_any_table(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = app
            .post_json(
                "/v1/comments",
                &ingest,
                &personal_comment(&format!("gk-{i}")),
            )
            .await;
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    // Someone else's comment stays as it is.
    let r = app
        .post_json(
            "/v1/comments",
            &ingest,
            &json!({"external_id": "other", "thread": {"id": "article-7"},
                    "author": {"id": "user-other", "name": "Fabrice"}, "body": "Merci pour l'article."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // A report quoting the comment, a rejection with notes naming the author, a status action.
    let r = app
        .post_json(
            &format!("/v1/comments/{}/reports", ids[0]),
            &ingest,
            &json!({"category": "personal_data", "text": format!("Il parle de {TOKEN} et de {NAME}"),
                    "reporter": {"id": "reader-1", "name": "Un lecteur"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &format!("/v1/comments/{}/decisions", ids[1]),
            &moderator,
            &json!({"action": "reject", "reason": "personal_data",
                    "note_to_author": format!("{NAME}, pas d'adresse ici"),
                    "internal_note": format!("{TOKEN} est un lieu-dit")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .post(app.url(&format!("/v1/authors/{AUTHOR}/status")))
        .bearer_auth(&moderator)
        .json(&json!({"status": "premod", "reason": "personal_data", "note": format!("surveiller {NAME}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The export holds what Vigie has about the author, not other people's data.
    let r = app
        .get(&format!("/v1/authors/{AUTHOR}/export"), &admin)
        .await;
    assert_eq!(r.status(), 200);
    let export: Value = r.json().await.unwrap();
    assert_eq!(export["author"]["id"], AUTHOR);
    assert_eq!(export["author"]["name"], NAME);
    assert_eq!(export["author"]["email"], "stored only as a keyed hash");
    assert_eq!(export["comments"].as_array().unwrap().len(), 3);
    assert!(export["comments"][0]["body"]
        .as_str()
        .unwrap()
        .contains(TOKEN));
    assert_eq!(
        export["comments"][0]["reports"][0]["category"],
        "personal_data"
    );
    assert_eq!(export["status_history"][0]["to_status"], "premod");
    let text = export.to_string();
    assert!(
        !text.contains("Un lecteur") && !text.contains("reader-1"),
        "reporters are not exported"
    );
    assert_problem(
        app.get(&format!("/v1/authors/{AUTHOR}/export"), &moderator)
            .await,
        403,
        None,
    )
    .await;

    // Hashes are personal data too: note them to search for them afterwards.
    let email_hash = first_value(
        &app,
        "SELECT email_hash AS v FROM authors WHERE external_id = 'user-gk-5531'",
    )
    .await
    .unwrap();
    let ip_hash = first_value(
        &app,
        "SELECT client_ip_hash AS v FROM comments WHERE external_id = 'gk-0'",
    )
    .await
    .unwrap();
    assert_ne!(ip_hash, IP, "the IP is stored as a keyed hash");
    let before = database_text(&app).await;
    for v in [
        AUTHOR,
        NAME,
        UA,
        TOKEN,
        email_hash.as_str(),
        ip_hash.as_str(),
    ] {
        assert!(
            before.contains(v),
            "the test should find {v} before erasure"
        );
    }
    assert!(
        !before.contains(EMAIL) && !before.contains(IP),
        "never stored in clear"
    );

    assert_problem(
        app.post_json(
            &format!("/v1/authors/{AUTHOR}/erase"),
            &moderator,
            &json!({}),
        )
        .await,
        403,
        None,
    )
    .await;
    let r = app
        .post_json(&format!("/v1/authors/{AUTHOR}/erase"), &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let erased: Value = r.json().await.unwrap();
    assert_eq!(erased["status"], "deleted");
    assert_eq!(erased["erased"]["comments"], 3);

    let after = database_text(&app).await;
    for v in [
        AUTHOR,
        NAME,
        EMAIL,
        IP,
        UA,
        TOKEN,
        email_hash.as_str(),
        ip_hash.as_str(),
    ] {
        assert!(
            !after.contains(v),
            "{v} is still in the database after erasure"
        );
    }
    assert!(
        after.contains("Merci pour l'article."),
        "other authors' comments stay"
    );
    // The comments stay as deleted records with their audit rows.
    for id in &ids {
        let history: Value = app
            .get(&format!("/v1/comments/{id}/history"), &moderator)
            .await
            .json()
            .await
            .unwrap();
        let steps = history["decisions"].as_array().unwrap();
        assert_eq!(steps.last().unwrap()["to_status"], "deleted", "{history}");
        assert!(steps.len() >= 2);
    }
    let c: Value = app
        .get(&format!("/v1/comments/{}", ids[0]), &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "deleted");
    assert_eq!(c["body"], "");
    // The old id names nobody now; erasing again is a 404; the status API cannot set `deleted`.
    assert_problem(
        app.post_json(&format!("/v1/authors/{AUTHOR}/erase"), &admin, &json!({}))
            .await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/authors/{AUTHOR}/export"), &admin)
            .await,
        404,
        None,
    )
    .await;
    let r = app
        .client
        .post(app.url("/v1/authors/user-other/status"))
        .bearer_auth(&moderator)
        .json(&json!({"status": "deleted", "reason": "other"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 422, Some("status")).await;
    // Transparency figures still count what happened.
    let t: Value = app
        .get("/v1/transparency?from=2020-01-01&to=2100-01-01", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(t.to_string().contains("personal_data"), "{t}");
}

async fn the_retention_purge_removes_old_personal_data_and_keeps_the_figures(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let r = app
        .post_json("/v1/comments", &ingest, &personal_comment("gk-1"))
        .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &json!({"category": "spam", "text": format!("Signalé par {NAME}"),
                    "reporter": {"name": "Lectrice Anonyme", "email": "lectrice@example.fr"}, "ip": "203.0.113.9"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &moderator,
            &json!({"action": "reject", "reason": "spam", "internal_note": format!("vu par {NAME}")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let ip_hash = first_value(&app, "SELECT client_ip_hash AS v FROM comments")
        .await
        .unwrap();
    let policy = app.state.settings.retention_policy();
    let now = vigie::store::now();

    // Eight days on: IP data is gone, the rest stays.
    let counts = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(conn, &policy, now + chrono::Duration::days(8)).unwrap()
        })
        .await;
    assert_eq!(counts.comment_ip, 1);
    assert_eq!(counts.report_ip, 1);
    assert_eq!(counts.comment_user_agent, 0);
    let text = database_text(&app).await;
    assert!(!text.contains(&ip_hash));
    assert!(text.contains(UA) && text.contains("Lectrice Anonyme"));

    // Thirteen months on: names, email hashes, report texts and notes are gone too.
    let counts = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(conn, &policy, now + chrono::Duration::days(400)).unwrap()
        })
        .await;
    assert_eq!(counts.comment_user_agent, 1);
    assert_eq!(counts.report_identity, 1);
    assert_eq!(counts.authors, 1);
    let text = database_text(&app).await;
    for v in [NAME, UA, "Lectrice Anonyme"] {
        assert!(!text.contains(v), "{v} survived the purge");
    }
    assert!(first_value(&app, "SELECT email_hash AS v FROM authors")
        .await
        .is_none());
    // A second purge has nothing left to do.
    let counts = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(conn, &policy, now + chrono::Duration::days(400)).unwrap()
        })
        .await;
    assert_eq!(counts.total(), 0, "{counts:?}");
    // The figures survive: the report and the decision are still counted.
    let t: Value = app
        .get("/v1/transparency?from=2020-01-01&to=2100-01-01", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(t.to_string().contains("spam"), "{t}");
}

async fn ips_can_be_kept_as_networks_only(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.ip_storage = vigie::config::IpStorage::Truncate;
    })
    .await
    else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let r = app
        .post_json("/v1/comments", &ingest, &personal_comment("gk-1"))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        first_value(&app, "SELECT client_ip_hash AS v FROM comments")
            .await
            .as_deref(),
        Some("198.51.100.0/24")
    );
}

on_both_backends!(
    an_erased_author_leaves_no_personal_value_in_any_table,
    the_retention_purge_removes_old_personal_data_and_keeps_the_figures,
    ips_can_be_kept_as_networks_only,
);
