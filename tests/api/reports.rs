use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    the_story_of_fabrices_comment_from_report_to_reversed_appeal,
    weighted_reports_past_the_threshold_hide_a_comment_but_illegal_reports_never_do,
    reports_refuse_bad_input_and_floods,
    appeals_are_open_to_the_author_and_dismissed_reporters_only_once_and_in_time,
    a_wave_of_new_reporters_on_one_author_is_flagged_escalated_and_counts_nothing,
    statements_export_as_json_lines_without_personal_data,
    three_five_or_twenty_fresh_identities_never_hide_a_comment_and_a_burst_escalates_it,
    reporters_from_one_ip_or_one_network_count_once_toward_hiding,
    reports_with_neither_ip_nor_established_reporter_share_a_limit_per_site,
    trusted_flagger_and_authority_notices_come_first_and_are_named_in_the_statement,
    a_reporter_is_told_when_the_removed_comment_was_restored_on_appeal,
    forty_reports_at_once_from_one_reporter_accept_exactly_the_limit,
    sixty_reports_at_once_from_one_ip_accept_exactly_the_limit,
);

async fn site_in_post_mode(app: &TestApp) -> (String, String, String, String) {
    let ingest = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    let camille = app.key("numerama", Role::Moderator).await;
    let dominique = app.key("numerama", Role::Moderator).await;
    (ingest, admin, camille, dominique)
}

async fn post(app: &TestApp, key: &str, ext: &str, author: &str, body: &str) -> i64 {
    let mut c = comment(ext, "a-1", body);
    c["author"]["id"] = json!(author);
    let r = app.post_json("/v1/comments", key, &c).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["id"].as_i64().unwrap()
}

fn reader(id: &str, category: &str) -> Value {
    json!({"category": category, "text": "Attaque personnelle contre un autre lecteur", "reporter": {"id": id, "name": "Lectrice", "email": format!("{id}@example.fr")}, "ip": "198.51.100.7"})
}

/// A reader's report from a network of its own (`10.n.0.1`, one /24 each).
fn reader_from(id: &str, category: &str, network: u8) -> Value {
    let mut r = reader(id, category);
    r["ip"] = json!(format!("10.{network}.0.1"));
    r
}

/// Gives each reporter one upheld report (full weight, no longer "new"): each reports a spam
/// comment of its own, which a moderator rejects.
async fn establish(app: &TestApp, ingest: &str, moderator: &str, reporters: &[&str]) {
    for (n, reporter) in reporters.iter().enumerate() {
        let id = post(
            app,
            ingest,
            &format!("c-spam-{reporter}"),
            &format!("u-spam-{reporter}"),
            "Achetez des montres pas chères sur mon site",
        )
        .await;
        let r = app
            .post_json(
                &format!("/v1/comments/{id}/reports"),
                ingest,
                &reader_from(reporter, "spam", 200 + n as u8),
            )
            .await;
        assert_eq!(r.status(), 201);
        let r = app
            .post_json(
                &format!("/v1/comments/{id}/decisions"),
                moderator,
                &json!({"action": "reject", "reason": "spam"}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
}

async fn comment_json(app: &TestApp, key: &str, id: i64) -> Value {
    app.get(&format!("/v1/comments/{id}"), key)
        .await
        .json()
        .await
        .unwrap()
}

/// The reported queue's item for a comment.
async fn reported_item(app: &TestApp, moderator: &str, id: i64) -> Value {
    let q: Value = app
        .get("/v1/queues/reported?limit=200", moderator)
        .await
        .json()
        .await
        .unwrap();
    q["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["comment"]["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("comment {id} not in the reported queue: {q}"))
}

async fn the_story_of_fabrices_comment_from_report_to_reversed_appeal(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, camille, dominique) = site_in_post_mode(&app).await;
    // Three readers whose earlier reports were upheld (new reporters alone cannot hide).
    establish(&app, &ingest, &camille, &["r-1", "r-2", "r-3"]).await;
    let id = post(
        &app,
        &ingest,
        "c-fabrice",
        "u-fabrice",
        "Les grandes entreprises françaises sont très regardantes sur l'hébergement de leurs données.",
    )
    .await;
    let shown: Value = app
        .get("/v1/threads/a-1/comments", &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["items"][0]["id"], id, "published");

    // Three readers report it, one of them twice.
    let mut references = Vec::new();
    for (n, r) in ["r-1", "r-2", "r-3"].into_iter().enumerate() {
        let resp = app
            .post_json(
                &format!("/v1/comments/{id}/reports"),
                &ingest,
                &reader_from(r, "insult", n as u8),
            )
            .await;
        assert_eq!(resp.status(), 201);
        let receipt: Value = resp.json().await.unwrap();
        let reference = receipt["reference"].as_str().unwrap().to_owned();
        assert!(
            reference.starts_with("VIG-20") && reference.len() == "VIG-2026-000001".len(),
            "{reference}"
        );
        assert!(receipt["receipt"]["fr"]
            .as_str()
            .unwrap()
            .contains(&reference));
        references.push(reference);
    }
    let again = app
        .post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &reader_from("r-2", "insult", 1),
        )
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["reference"], references[1].as_str());

    // Three weighted reports reach the default threshold: hidden until a human decides.
    let c: Value = app
        .get(&format!("/v1/comments/{id}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "pending");
    let counts: Value = app.get("/v1/queues", &camille).await.json().await.unwrap();
    assert_eq!(counts["reported"], 1);
    let queue: Value = app
        .get("/v1/queues/reported?order=risk", &camille)
        .await
        .json()
        .await
        .unwrap();
    let item = &queue["items"][0];
    assert_eq!(item["comment"]["id"], id);
    assert_eq!(item["open_reports"], 3);
    assert_eq!(item["reports"].as_array().unwrap().len(), 3);
    assert_eq!(item["reports"][0]["category"], "insult");
    assert_eq!(item["reports"][0]["reporter_weight"], 1.0);
    assert_eq!(item["brigading"], false);

    // Camille rejects it for `insult`; every report is upheld and says so.
    let r = app.post_json(&format!("/v1/comments/{id}/decisions"), &camille, &json!({"action": "reject", "reason": "insult", "note_to_author": "Les attaques personnelles ne sont pas acceptées."})).await;
    assert_eq!(r.status(), 200);
    for reference in &references {
        let status: Value = app
            .get(&format!("/v1/reports/{reference}"), &ingest)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(status["status"], "upheld");
        assert!(status["decided_at"].is_string());
        assert!(
            status.get("moderator").is_none() && !status.to_string().contains("test"),
            "no moderator identity: {status}"
        );
    }
    let counts: Value = app.get("/v1/queues", &camille).await.json().await.unwrap();
    assert_eq!(counts["reported"], 0);
    let statement: Value = app
        .get(&format!("/v1/comments/{id}/statement"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        statement["decision_ground"],
        "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    );
    assert_eq!(
        statement["decision_visibility"],
        json!(["DECISION_VISIBILITY_CONTENT_REMOVED"])
    );
    assert_eq!(statement["source_type"], "SOURCE_ARTICLE_16");
    assert_eq!(
        statement["automated_decision"],
        "AUTOMATED_DECISION_NOT_AUTOMATED"
    );
    assert_eq!(
        statement["incompatible_content_explanation"],
        "Les attaques personnelles ne sont pas acceptées."
    );
    assert_eq!(statement["category"], "STATEMENT_CATEGORY_CYBER_VIOLENCE");

    // Fabrice appeals; Camille may not judge her own decision; Dominique reverses it.
    let appeal = app
        .post_json(
            &format!("/v1/comments/{id}/appeals"),
            &ingest,
            &json!({"author_id": "u-fabrice", "text": "C'était une boutade entre habitués."}),
        )
        .await;
    assert_eq!(appeal.status(), 201);
    let appeal: Value = appeal.json().await.unwrap();
    let appeal_id = appeal["id"].as_i64().unwrap();
    let counts: Value = app.get("/v1/queues", &camille).await.json().await.unwrap();
    assert_eq!(counts["appeals"], 1);
    let listed: Value = app
        .get("/v1/appeals", &dominique)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["appeal"]["id"], appeal_id);
    assert_eq!(listed[0]["appellant"], "author");
    assert_eq!(listed[0]["decision_reason"], "insult");
    let decision = json!({"outcome": "reverse", "reply": "Relu en contexte : le ton est vif mais pas insultant."});
    assert_problem(
        app.post_json(
            &format!("/v1/appeals/{appeal_id}/decision"),
            &camille,
            &decision,
        )
        .await,
        403,
        None,
    )
    .await;
    let reversed = app
        .post_json(
            &format!("/v1/appeals/{appeal_id}/decision"),
            &dominique,
            &decision,
        )
        .await;
    assert_eq!(reversed.status(), 200);
    let reversed: Value = reversed.json().await.unwrap();
    assert_eq!(reversed["status"], "reversed");
    assert_problem(
        app.post_json(
            &format!("/v1/appeals/{appeal_id}/decision"),
            &dominique,
            &decision,
        )
        .await,
        409,
        None,
    )
    .await;
    let c: Value = app
        .get(&format!("/v1/comments/{id}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "approved");
    let shown: Value = app
        .get("/v1/threads/a-1/comments", &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["items"][0]["id"], id, "visible again");
    let history: Value = app
        .get(&format!("/v1/comments/{id}/history"), &dominique)
        .await
        .json()
        .await
        .unwrap();
    let last = history["decisions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "restore");
    assert!(last["internal_note"].as_str().unwrap().contains("appeal"));

    // And the transparency report counts all of it.
    let t: Value = app
        .get("/v1/transparency", &admin)
        .await
        .json()
        .await
        .unwrap();
    // (with the three spam reports that established the readers, and their removals)
    assert_eq!(t["notices"]["total"], 6);
    assert_eq!(t["notices"]["by_category"]["insult"], 3);
    assert_eq!(t["notices"]["by_category"]["spam"], 3);
    assert_eq!(t["notices"]["by_source"]["reader"], 6);
    assert_eq!(t["notices"]["upheld"], 6);
    assert!(t["notices"]["median_seconds_to_action"].is_number());
    assert_eq!(t["actions"]["by_type"]["hidden"], 1);
    assert_eq!(t["actions"]["by_type"]["removed"], 4);
    assert_eq!(t["actions"]["by_ground"]["house_rules"], 5);
    assert_eq!(
        t["actions"]["automated_decision"], 1,
        "hiding past the threshold is automated"
    );
    assert_eq!(t["appeals"]["received"], 1);
    assert_eq!(t["appeals"]["decided"], 1);
    assert_eq!(t["appeals"]["reversed"], 1);
    let csv = app
        .get("/v1/transparency?format=csv&from=2000-01-01", &admin)
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("section,key,value\n") && csv.contains("appeals,reversed,1"),
        "{csv}"
    );
    assert_problem(app.get("/v1/transparency", &camille).await, 403, None).await;
    assert_problem(
        app.get("/v1/transparency?format=pdf", &admin).await,
        422,
        Some("format"),
    )
    .await;
}

async fn weighted_reports_past_the_threshold_hide_a_comment_but_illegal_reports_never_do(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, camille, _) = site_in_post_mode(&app).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"report_hide_threshold": 2}))
        .await;
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["report_hide_threshold"], 2.0);
    establish(&app, &ingest, &camille, &["r-1", "r-2"]).await;
    let a = post(&app, &ingest, "c-a", "u-a", "Un avis tranché").await;
    // Not "Un autre avis": the shipped model weighs "autre" alone as abuse and holds it
    // (training.toml, `short_replies_written`); these tests need published comments.
    let b = post(&app, &ingest, "c-b", "u-b", "Un second avis").await;
    for (n, r) in ["r-1", "r-2", "r-3", "r-4"].into_iter().enumerate() {
        let mut illegal = reader_from(r, "illegal", n as u8);
        illegal["legal_ground"] = json!("Loi du 29 juillet 1881, art. 29");
        illegal["explanation"] = json!("Diffamation");
        illegal["good_faith"] = json!(true);
        assert_eq!(
            app.post_json(&format!("/v1/comments/{a}/reports"), &ingest, &illegal)
                .await
                .status(),
            201
        );
    }
    let ca: Value = app
        .get(&format!("/v1/comments/{a}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ca["status"], "published",
        "illegal reports are never auto-actioned"
    );
    assert_eq!(
        app.post_json(
            &format!("/v1/comments/{b}/reports"),
            &ingest,
            &reader_from("r-1", "spam", 0)
        )
        .await
        .status(),
        201
    );
    let cb: Value = app
        .get(&format!("/v1/comments/{b}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cb["status"], "published",
        "one report is under the threshold"
    );
    assert_eq!(
        app.post_json(
            &format!("/v1/comments/{b}/reports"),
            &ingest,
            &reader_from("r-2", "spam", 1)
        )
        .await
        .status(),
        201
    );
    let cb: Value = app
        .get(&format!("/v1/comments/{b}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cb["status"], "pending");
    let statement: Value = app
        .get(&format!("/v1/comments/{b}/statement"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        statement["decision_visibility"],
        json!(["DECISION_VISIBILITY_CONTENT_DISABLED"])
    );
    // The reported queue ranks by weighted reports: a (4 illegal: 1 + 1 + 0.5 + 0.5) before
    // b (2).
    let q: Value = app
        .get("/v1/queues/reported?order=risk", &camille)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [a, b]);
    assert_eq!(
        q["items"][0]["reports"][0]["legal_ground"],
        "Loi du 29 juillet 1881, art. 29"
    );
    // Approving b dismisses its reports: those reporters now weigh less.
    app.post_json(
        &format!("/v1/comments/{b}/decisions"),
        &camille,
        &json!({"action": "approve"}),
    )
    .await;
    let c = post(&app, &ingest, "c-c", "u-c", "Troisième").await;
    app.post_json(
        &format!("/v1/comments/{c}/reports"),
        &ingest,
        &reader("r-1", "spam"),
    )
    .await;
    let q: Value = app
        .get("/v1/queues/reported?thread=a-1&order=age", &camille)
        .await
        .json()
        .await
        .unwrap();
    let item = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["comment"]["id"] == c)
        .unwrap()
        .clone();
    assert_eq!(
        item["reports"][0]["weight"], 0.75,
        "one upheld, one dismissed: 0.5 + 0.5 - 0.25"
    );
    let claimed: Value = app
        .post_json(
            "/v1/queues/reported/claims",
            &camille,
            &json!({"count": 5, "order": "risk"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(claimed["items"].as_array().unwrap().len(), 2);
}

async fn reports_refuse_bad_input_and_floods(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.report_limit_per_ip = 3).await else {
        return;
    };
    let (ingest, _, camille, _) = site_in_post_mode(&app).await;
    let id = post(&app, &ingest, "c-1", "u-1", "Bonjour").await;
    assert_problem(
        app.post_json(
            "/v1/comments/99999/reports",
            &ingest,
            &reader("r-1", "spam"),
        )
        .await,
        404,
        None,
    )
    .await;
    let mut illegal = reader("r-1", "illegal");
    assert_problem(
        app.post_json(&format!("/v1/comments/{id}/reports"), &ingest, &illegal)
            .await,
        422,
        Some("explanation"),
    )
    .await;
    illegal["explanation"] = json!("Injure publique");
    assert_problem(
        app.post_json(&format!("/v1/comments/{id}/reports"), &ingest, &illegal)
            .await,
        422,
        Some("legal_ground"),
    )
    .await;
    illegal["legal_ground"] = json!("Loi de 1881");
    assert_problem(
        app.post_json(&format!("/v1/comments/{id}/reports"), &ingest, &illegal)
            .await,
        422,
        Some("good_faith"),
    )
    .await;
    let mut long = reader("r-1", "spam");
    long["text"] = json!("x".repeat(2001));
    assert_problem(
        app.post_json(&format!("/v1/comments/{id}/reports"), &ingest, &long)
            .await,
        422,
        Some("text"),
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &json!({"category": "spam"}),
        )
        .await,
        422,
        Some("reporter"),
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &json!({"category": "rude", "ip": "198.51.100.1"}),
        )
        .await,
        422,
        Some("category"),
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{id}/reports"),
            &camille,
            &reader("r-1", "spam"),
        )
        .await,
        403,
        None,
    )
    .await;
    // A flood from one network: the fourth report within the window is refused.
    for (i, ext) in ["c-2", "c-3", "c-4"].iter().enumerate() {
        let target = post(&app, &ingest, ext, "u-1", "Encore").await;
        assert_eq!(
            app.post_json(
                &format!("/v1/comments/{target}/reports"),
                &ingest,
                &reader(&format!("f-{i}"), "spam")
            )
            .await
            .status(),
            201
        );
    }
    let flood = app
        .post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &reader("f-9", "spam"),
        )
        .await;
    assert_eq!(flood.headers()["retry-after"], "600");
    assert_problem(flood, 429, None).await;
    // A deleted comment cannot be reported.
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        diesel::update(comments::table.find(id))
            .set(comments::status.eq("deleted"))
            .execute(conn)
            .unwrap();
    })
    .await;
    let mut other_ip = reader("r-5", "spam");
    other_ip["ip"] = json!("203.0.113.5");
    assert_problem(
        app.post_json(&format!("/v1/comments/{id}/reports"), &ingest, &other_ip)
            .await,
        404,
        None,
    )
    .await;
}

async fn appeals_are_open_to_the_author_and_dismissed_reporters_only_once_and_in_time(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, camille, dominique) = site_in_post_mode(&app).await;
    let kept = post(&app, &ingest, "c-kept", "u-kept", "Un avis").await;
    let report: Value = app
        .post_json(
            &format!("/v1/comments/{kept}/reports"),
            &ingest,
            &reader("r-1", "spam"),
        )
        .await
        .json()
        .await
        .unwrap();
    let reference = report["reference"].as_str().unwrap().to_owned();
    // Before any decision, neither the author nor the reporter has anything to appeal.
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{kept}/appeals"),
            &ingest,
            &json!({"author_id": "u-kept", "text": "?"}),
        )
        .await,
        409,
        None,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{kept}/appeals"),
            &ingest,
            &json!({"report_reference": reference, "text": "?"}),
        )
        .await,
        403,
        None,
    )
    .await;
    app.post_json(
        &format!("/v1/comments/{kept}/decisions"),
        &camille,
        &json!({"action": "approve"}),
    )
    .await;
    // The dismissed reporter appeals; a stranger may not; twice is once too many.
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{kept}/appeals"),
            &ingest,
            &json!({"author_id": "u-other", "text": "Moi aussi"}),
        )
        .await,
        403,
        None,
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{kept}/appeals"),
            &ingest,
            &json!({"report_reference": reference, "text": "x".repeat(2001)}),
        )
        .await,
        422,
        Some("text"),
    )
    .await;
    let appeal = app
        .post_json(
            &format!("/v1/comments/{kept}/appeals"),
            &ingest,
            &json!({"report_reference": reference, "text": "C'est pourtant de la publicité."}),
        )
        .await;
    assert_eq!(appeal.status(), 201);
    let appeal: Value = appeal.json().await.unwrap();
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{kept}/appeals"),
            &ingest,
            &json!({"report_reference": reference, "text": "Encore"}),
        )
        .await,
        409,
        None,
    )
    .await;
    let listed: Value = app
        .get("/v1/appeals", &dominique)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["appellant"], "reporter");
    let reversed = app
        .post_json(
            &format!("/v1/appeals/{}/decision", appeal["id"]),
            &dominique,
            &json!({"outcome": "reverse", "reply": "Effectivement, lien promotionnel."}),
        )
        .await;
    assert_eq!(reversed.status(), 200);
    let c: Value = app
        .get(&format!("/v1/comments/{kept}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "rejected");
    let status: Value = app
        .get(&format!("/v1/reports/{reference}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "upheld");
    assert_problem(
        app.post_json(
            &format!("/v1/appeals/{}/decision", appeal["id"]),
            &dominique,
            &json!({"outcome": "maybe", "reply": "?"}),
        )
        .await,
        422,
        Some("outcome"),
    )
    .await;

    // The window closes six months after the decision.
    let old = post(&app, &ingest, "c-old", "u-old", "Vieux").await;
    app.post_json(
        &format!("/v1/comments/{old}/decisions"),
        &camille,
        &json!({"action": "reject", "reason": "spam"}),
    )
    .await;
    app.backdate_decisions(old, 200).await;
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{old}/appeals"),
            &ingest,
            &json!({"author_id": "u-old", "text": "Trop tard ?"}),
        )
        .await,
        422,
        None,
    )
    .await;
    assert_problem(app.get("/v1/appeals", &ingest).await, 403, None).await;
}

async fn a_wave_of_new_reporters_on_one_author_is_flagged_escalated_and_counts_nothing(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, camille, _) = site_in_post_mode(&app).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            post(
                &app,
                &ingest,
                &format!("c-{i}"),
                "u-target",
                [
                    "Un avis minoritaire sur Linux",
                    "Je maintiens que Rust compile trop lentement",
                    "Les SSD de cette marque ne tiennent pas",
                ][i],
            )
            .await,
        );
    }
    for (n, reporter) in ["b-1", "b-2", "b-3", "b-4", "b-5", "b-6"]
        .iter()
        .enumerate()
    {
        let mut r = reader(reporter, "hate");
        r["ip"] = json!(format!("203.0.113.{n}"));
        app.post_json(&format!("/v1/comments/{}/reports", ids[n % 3]), &ingest, &r)
            .await;
    }
    let q: Value = app
        .get("/v1/queues/reported", &camille)
        .await
        .json()
        .await
        .unwrap();
    let items = q["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["brigading"] == true), "{q}");
    for i in items {
        assert_eq!(
            i["comment"]["status"], "published",
            "a wave does not hide comments"
        );
        assert_eq!(i["comment"]["escalated"], true, "it goes to the moderators");
        assert_eq!(
            i["report_weight"], 0.0,
            "weight counted before the wave is withdrawn"
        );
        assert!(i["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("report_burst")));
    }
    let escalated: Value = app
        .get("/v1/queues/reported?escalated=true", &camille)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(escalated["items"].as_array().unwrap().len(), 3);
}

async fn statements_export_as_json_lines_without_personal_data(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin, camille, _) = site_in_post_mode(&app).await;
    let a = post(&app, &ingest, "c-a", "u-a", "Achetez mes montres").await;
    app.post_json(
        &format!("/v1/comments/{a}/reports"),
        &ingest,
        &reader("r-1", "spam"),
    )
    .await;
    app.post_json(
        &format!("/v1/comments/{a}/decisions"),
        &camille,
        &json!({"action": "reject", "reason": "spam"}),
    )
    .await;
    app.post_json(
        "/v1/authors/u-a/status",
        &camille,
        &json!({"status": "banned", "reason": "spam"}),
    )
    .await;
    let r = app.get("/v1/statements?from=2000-01-01", &admin).await;
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["decision_account"], "DECISION_ACCOUNT_SUSPENDED");
    for personal in [
        "fabrice",
        "Lectrice",
        "r-1@example.fr",
        "u-a",
        "198.51.100.7",
        "Achetez",
    ] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    assert_problem(app.get("/v1/statements", &camille).await, 403, None).await;
    assert_problem(
        app.get("/v1/statements?from=2030-01-01&to=2020-01-01", &admin)
            .await,
        422,
        Some("to"),
    )
    .await;
    assert_problem(
        app.get("/v1/comments/999/statement", &ingest).await,
        404,
        None,
    )
    .await;
}

/// Sends `bodies` to `/v1/comments/{id}/reports` all at once; the number of 201 and 429.
async fn report_all_at_once(app: &TestApp, key: &str, sends: Vec<(i64, Value)>) -> (usize, usize) {
    let paths: Vec<String> = sends
        .iter()
        .map(|(id, _)| format!("/v1/comments/{id}/reports"))
        .collect();
    let calls = paths
        .iter()
        .zip(&sends)
        .map(|(path, (_, body))| app.post_json(path, key, body));
    let (mut created, mut limited) = (0, 0);
    for r in futures_util::future::join_all(calls).await {
        match r.status().as_u16() {
            201 => created += 1,
            429 => {
                assert!(r.headers().contains_key("retry-after"));
                limited += 1
            }
            other => panic!("unexpected status {other}: {}", r.text().await.unwrap()),
        }
    }
    (created, limited)
}

async fn forty_reports_at_once_from_one_reporter_accept_exactly_the_limit(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, _, _) = site_in_post_mode(&app).await;
    let mut sends = Vec::new();
    for i in 0..40 {
        let id = post(
            &app,
            &ingest,
            &format!("c-{i}"),
            &format!("u-{i}"),
            "Un avis",
        )
        .await;
        sends.push((id, reader("r-eager", "spam")));
    }
    let (created, limited) = report_all_at_once(&app, &ingest, sends).await;
    assert_eq!(
        (created, limited),
        (10, 30),
        "report_limit_per_reporter is 10 however the reports arrive"
    );
    assert_eq!(app.count("reports").await, 10);
}

async fn sixty_reports_at_once_from_one_ip_accept_exactly_the_limit(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, _, _) = site_in_post_mode(&app).await;
    let mut sends = Vec::new();
    for i in 0..60 {
        let id = post(
            &app,
            &ingest,
            &format!("c-{i}"),
            &format!("u-{i}"),
            "Un avis",
        )
        .await;
        sends.push((id, reader(&format!("r-{i}"), "spam")));
    }
    let (created, limited) = report_all_at_once(&app, &ingest, sends).await;
    assert_eq!(
        (created, limited),
        (30, 30),
        "report_limit_per_ip is 30 however the reports arrive"
    );
    assert_eq!(app.count("reports").await, 30);
}

async fn three_five_or_twenty_fresh_identities_never_hide_a_comment_and_a_burst_escalates_it(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, camille, _) = site_in_post_mode(&app).await;
    for n in [2u8, 3, 5, 20] {
        let id = post(
            &app,
            &ingest,
            &format!("c-{n}"),
            &format!("u-{n}"),
            "Un avis qui déplaît",
        )
        .await;
        for i in 0..n {
            // Fresh identities, each from a network of its own.
            let mut r = reader(&format!("sock-{n}-{i}"), "insult");
            r["ip"] = json!(format!("10.{n}.{i}.1"));
            let resp = app
                .post_json(&format!("/v1/comments/{id}/reports"), &ingest, &r)
                .await;
            assert_eq!(resp.status(), 201);
            let c = comment_json(&app, &ingest, id).await;
            assert_eq!(
                c["status"],
                "published",
                "{} fresh identities hide nothing",
                i + 1
            );
        }
        let item = reported_item(&app, &camille, id).await;
        assert_eq!(item["open_reports"], n);
        if n < 3 {
            assert_eq!(item["comment"]["escalated"], false, "{n}: no burst");
            assert_eq!(item["brigading"], false);
            assert_eq!(item["report_weight"], f64::from(n) * 0.5);
        } else {
            assert_eq!(item["comment"]["escalated"], true, "{n}: a burst");
            assert_eq!(item["brigading"], true);
            assert_eq!(item["report_weight"], 0.0);
            assert!(item["reasons"]
                .as_array()
                .unwrap()
                .contains(&json!("report_burst")));
        }
    }
}

async fn reporters_from_one_ip_or_one_network_count_once_toward_hiding(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, camille, _) = site_in_post_mode(&app).await;
    let ids = ["e-1", "e-2", "e-3", "e-4", "e-5", "e-6"];
    establish(&app, &ingest, &camille, &ids).await;
    // Six established reporters from one IP: one vote.
    let one_ip = post(&app, &ingest, "c-ip", "u-ip", "Un avis").await;
    for r in ids {
        let resp = app
            .post_json(
                &format!("/v1/comments/{one_ip}/reports"),
                &ingest,
                &reader(r, "insult"),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    assert_eq!(
        comment_json(&app, &ingest, one_ip).await["status"],
        "published"
    );
    let item = reported_item(&app, &camille, one_ip).await;
    assert_eq!(item["open_reports"], 6);
    assert_eq!(item["report_weight"], 1.0, "one IP, one vote");
    // Six from one /24, each from its own address: one vote too.
    let one_net = post(&app, &ingest, "c-net", "u-net", "Un second avis").await;
    for (i, r) in ids.into_iter().enumerate() {
        let mut report = reader(r, "insult");
        report["ip"] = json!(format!("198.51.100.{}", 10 + i));
        assert_eq!(
            app.post_json(&format!("/v1/comments/{one_net}/reports"), &ingest, &report)
                .await
                .status(),
            201
        );
    }
    assert_eq!(
        comment_json(&app, &ingest, one_net).await["status"],
        "published"
    );
    assert_eq!(
        reported_item(&app, &camille, one_net).await["report_weight"],
        1.0
    );
    // The same six from one site-made IP hash: one vote.
    let one_hash = post(&app, &ingest, "c-hash", "u-hash", "Encore un avis").await;
    for r in ids {
        let mut report = reader(r, "insult");
        report.as_object_mut().unwrap().remove("ip");
        report["ip_hash"] = json!("site-hash-of-one-reader");
        assert_eq!(
            app.post_json(
                &format!("/v1/comments/{one_hash}/reports"),
                &ingest,
                &report
            )
            .await
            .status(),
            201
        );
    }
    assert_eq!(
        comment_json(&app, &ingest, one_hash).await["status"],
        "published"
    );
    // Established reporters from three networks still hide it at the threshold (3).
    let target = post(&app, &ingest, "c-target", "u-target", "Un avis insultant").await;
    for (n, r) in ["e-1", "e-2"].into_iter().enumerate() {
        app.post_json(
            &format!("/v1/comments/{target}/reports"),
            &ingest,
            &reader_from(r, "insult", n as u8),
        )
        .await;
        assert_eq!(
            comment_json(&app, &ingest, target).await["status"],
            "published"
        );
    }
    app.post_json(
        &format!("/v1/comments/{target}/reports"),
        &ingest,
        &reader_from("e-3", "insult", 2),
    )
    .await;
    assert_eq!(
        comment_json(&app, &ingest, target).await["status"],
        "pending",
        "three established reporters from three networks hide it"
    );
}

async fn reports_with_neither_ip_nor_established_reporter_share_a_limit_per_site(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.report_limit_per_site_without_ip = 5).await
    else {
        return;
    };
    let (ingest, _, camille, _) = site_in_post_mode(&app).await;
    establish(&app, &ingest, &camille, &["known"]).await;
    let id = post(&app, &ingest, "c-1", "u-1", "Un avis").await;
    let without_ip = |who: &str| json!({"category": "spam", "reporter": {"id": who}});
    for i in 0..5 {
        let r = app
            .post_json(
                &format!("/v1/comments/{id}/reports"),
                &ingest,
                &without_ip(&format!("anon-{i}")),
            )
            .await;
        assert_eq!(r.status(), 201, "report {i}");
    }
    // The sixth fresh id without an IP is one too many for the site...
    let refused = app
        .post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &without_ip("anon-5"),
        )
        .await;
    assert_eq!(refused.headers()["retry-after"], "600");
    assert_problem(refused, 429, None).await;
    // ... but a reader with an IP, or an established reporter, is not held by it.
    assert_eq!(
        app.post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &reader("anon-6", "spam")
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        app.post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &without_ip("known")
        )
        .await
        .status(),
        201
    );
    assert_eq!(
        comment_json(&app, &ingest, id).await["status"],
        "published",
        "and a burst of fresh ids still hides nothing"
    );
}

async fn trusted_flagger_and_authority_notices_come_first_and_are_named_in_the_statement(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, camille, _) = site_in_post_mode(&app).await;
    let by_readers = post(&app, &ingest, "c-readers", "u-1", "Premier avis").await;
    let flagged = post(&app, &ingest, "c-flagged", "u-2", "Deuxième avis").await;
    let ordered = post(&app, &ingest, "c-ordered", "u-3", "Troisième avis").await;
    for (n, r) in ["r-1", "r-2"].into_iter().enumerate() {
        app.post_json(
            &format!("/v1/comments/{by_readers}/reports"),
            &ingest,
            &reader_from(r, "hate", n as u8),
        )
        .await;
    }
    // A reader first, then a trusted flagger on the same comment.
    app.post_json(
        &format!("/v1/comments/{flagged}/reports"),
        &ingest,
        &reader_from("r-3", "hate", 3),
    )
    .await;
    let mut notice = reader_from("flagger-1", "hate", 4);
    notice["source"] = json!("trusted_flagger");
    assert_eq!(
        app.post_json(&format!("/v1/comments/{flagged}/reports"), &ingest, &notice)
            .await
            .status(),
        201
    );
    let mut order = reader_from("authority-1", "hate", 5);
    order["source"] = json!("authority");
    assert_eq!(
        app.post_json(&format!("/v1/comments/{ordered}/reports"), &ingest, &order)
            .await
            .status(),
        201
    );
    let expected = [ordered, flagged, by_readers];
    for order in ["risk", "age"] {
        let q: Value = app
            .get(&format!("/v1/queues/reported?order={order}"), &camille)
            .await
            .json()
            .await
            .unwrap();
        let ids: Vec<i64> = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["comment"]["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, expected, "order={order}");
        let priorities: Vec<&str> = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["report_priority"].as_str().unwrap())
            .collect();
        assert_eq!(priorities, ["authority", "trusted_flagger", "reader"]);
        // Page by page, the same order.
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/queues/reported?order={order}&limit=1");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page: Value = app.get(&path, &camille).await.json().await.unwrap();
            paged.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["comment"]["id"].as_i64().unwrap()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(paged, expected, "paged, order={order}");
    }
    // Claiming hands out the authority's, then the trusted flagger's first.
    let claimed: Value = app
        .post_json(
            "/v1/queues/reported/claims",
            &camille,
            &json!({"count": 2, "order": "age"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut claimed: Vec<i64> = claimed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_i64().unwrap())
        .collect();
    claimed.sort_unstable();
    let mut first_two = vec![ordered, flagged];
    first_two.sort_unstable();
    assert_eq!(claimed, first_two);
    // The statement of reasons says a trusted flagger's notice led to the removal.
    let r = app
        .post_json(
            &format!("/v1/comments/{flagged}/decisions"),
            &camille,
            &json!({"action": "reject", "reason": "hate"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let statement: Value = app
        .get(&format!("/v1/comments/{flagged}/statement"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["source_type"], "SOURCE_TRUSTED_FLAGGER");
    assert!(
        statement["decision_facts"]
            .as_str()
            .unwrap()
            .contains("trusted flagger"),
        "{statement}"
    );
    // Resolved, it no longer jumps the queue.
    let q: Value = app
        .get("/v1/queues/reported?order=age", &camille)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["items"].as_array().unwrap().len(), 2);
}

async fn a_reporter_is_told_when_the_removed_comment_was_restored_on_appeal(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, camille, dominique) = site_in_post_mode(&app).await;
    let id = post(&app, &ingest, "c-1", "u-author", "Un avis vif").await;
    let receipt: Value = app
        .post_json(
            &format!("/v1/comments/{id}/reports"),
            &ingest,
            &reader("r-1", "insult"),
        )
        .await
        .json()
        .await
        .unwrap();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    app.post_json(
        &format!("/v1/comments/{id}/decisions"),
        &camille,
        &json!({"action": "reject", "reason": "insult"}),
    )
    .await;
    let status: Value = app
        .get(&format!("/v1/reports/{reference}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "upheld");
    assert_eq!(status["restored_after_appeal"], false);
    assert!(status["outcome"]["en"]
        .as_str()
        .unwrap()
        .contains("removed"));
    let appeal: Value = app
        .post_json(
            &format!("/v1/comments/{id}/appeals"),
            &ingest,
            &json!({"author_id": "u-author", "text": "Ce n'était pas une insulte."}),
        )
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .post_json(
            &format!("/v1/appeals/{}/decision", appeal["id"]),
            &dominique,
            &json!({"outcome": "reverse", "reply": "Relu : vif, pas insultant."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let status: Value = app
        .get(&format!("/v1/reports/{reference}"), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["restored_after_appeal"], true, "{status}");
    let en = status["outcome"]["en"].as_str().unwrap();
    assert!(en.contains("restored"), "{en}");
    assert!(status["outcome"]["fr"]
        .as_str()
        .unwrap()
        .contains("rétabli"));
}
