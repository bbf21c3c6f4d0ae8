use std::collections::HashSet;

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    queues_count_and_list_held_comments_with_their_context,
    queues_filter_and_paginate_by_risk_and_by_age,
    parallel_claims_never_hand_out_the_same_comment,
    expired_claims_return_to_the_queue_and_claims_can_be_renewed_and_released,
    decisions_follow_the_state_machine_and_the_display_reflects_them,
    a_claim_by_another_moderator_blocks_a_decision_unless_an_admin_overrides,
    bulk_decisions_answer_per_item,
    banning_an_author_rejects_pending_and_future_comments,
    the_decision_log_lists_actions_by_moderator_and_date,
    moderator_routes_refuse_ingest_keys_and_hide_other_sites,
    unknown_queues_and_malformed_cursors_are_400,
);

/// Posts `n` comments (held: the site is in pre-moderation); their ids.
async fn held(app: &TestApp, key: &str, n: usize, thread: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let r = app
            .post_json(
                "/v1/comments",
                key,
                &comment(
                    &format!("{thread}-c{i}"),
                    thread,
                    &format!("Commentaire {i}"),
                ),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "pending");
        ids.push(v["id"].as_i64().unwrap());
    }
    ids
}

async fn decide(app: &TestApp, key: &str, id: i64, body: Value) -> reqwest::Response {
    app.post_json(&format!("/v1/comments/{id}/decisions"), key, &body)
        .await
}

async fn set_risk(app: &TestApp, id: i64, risk: f64) {
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        diesel::update(comments::table.find(id))
            .set((
                comments::risk.eq(risk),
                comments::score_toxicity.eq(Some(risk)),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
}

async fn queues_count_and_list_held_comments_with_their_context(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let ids = held(&app, &ingest, 2, "a-1").await;
    let mut reply = comment("a-1-reply", "a-1", "Je ne suis pas d'accord");
    reply["parent_id"] = json!("a-1-c0");
    app.post_json("/v1/comments", &ingest, &reply).await;

    let counts: Value = app
        .get("/v1/queues", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        counts,
        json!({"pending": 3, "reported": 0, "unmoderated": 0, "rejected": 0, "approved": 0, "appeals": 0, "capped_at": 10000})
    );

    let page: Value = app
        .get("/v1/queues/pending", &moderator)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["comment"]["id"], ids[0], "oldest first by default");
    assert_eq!(
        items[0]["thread"]["title"],
        "Les grandes entreprises et le cloud"
    );
    assert_eq!(items[0]["thread"]["url"], "https://example.fr/articles/a-1");
    assert_eq!(items[0]["author"]["name"], "Fabrice");
    assert_eq!(items[0]["author"]["pending"], 3);
    assert!(items[0]["claim"].is_null());
    assert_eq!(items[2]["parent"]["external_id"], "a-1-c0");
    assert_eq!(items[2]["parent"]["body"], "Commentaire 0");
    assert!(
        items[0]["comment"]["first_seen_at"].is_null(),
        "listing is not opening"
    );

    // Opening a comment is the first human knowledge of it.
    app.get(&format!("/v1/comments/{}", ids[0]), &moderator)
        .await;
    let history: Value = app
        .get(&format!("/v1/comments/{}/history", ids[0]), &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert!(history["first_seen_at"].is_string());
    assert_eq!(history["first_seen_by"], "test");
}

async fn queues_filter_and_paginate_by_risk_and_by_age(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let a = held(&app, &ingest, 3, "a-1").await;
    let b = held(&app, &ingest, 3, "a-2").await;
    for (id, risk) in [
        (a[0], 0.2),
        (a[1], 0.9),
        (a[2], 0.5),
        (b[0], 0.9),
        (b[1], 0.1),
        (b[2], 0.7),
    ] {
        set_risk(&app, id, risk).await;
    }
    // By risk, two at a time, ties broken by age.
    let mut seen = Vec::new();
    let mut path = "/v1/queues/pending?order=risk&limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, &moderator).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["comment"]["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/queues/pending?order=risk&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, [a[1], b[0], b[2], a[2], a[0], b[1]]);

    let ids_of = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["comment"]["id"].as_i64().unwrap())
            .collect()
    };
    let thread: Value = app
        .get("/v1/queues/pending?thread=a-2", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids_of(&thread), b);
    let scored: Value = app
        .get(
            "/v1/queues/pending?category=toxicity&min_score=0.6&max_score=1",
            &moderator,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids_of(&scored), [a[1], b[0], b[2]]);
    let by_author: Value = app
        .get("/v1/queues/pending?author=u-fabrice&lang=fr", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids_of(&by_author).len(), 6);
    let nobody: Value = app
        .get("/v1/queues/pending?author=u-nobody", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert!(ids_of(&nobody).is_empty());
    let future: Value = app
        .get("/v1/queues/pending?from=2999-01-01", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert!(ids_of(&future).is_empty());
    let past: Value = app
        .get(
            "/v1/queues/pending?to=2999-01-01T00:00:00Z&from=2000-01-01",
            &moderator,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids_of(&past).len(), 6);
    // Escalation is a reason, and a filter.
    assert_eq!(
        decide(
            &app,
            &moderator,
            b[1],
            json!({"action": "escalate", "internal_note": "avis juridique"})
        )
        .await
        .status(),
        200
    );
    let escalated: Value = app
        .get("/v1/queues/pending?reason=escalated", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids_of(&escalated), [b[1]]);
    let escalated: Value = app
        .get("/v1/queues/pending?escalated=true", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids_of(&escalated), [b[1]]);
    let reasons = escalated["items"][0]["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("escalated")), "{reasons:?}");
    assert_problem(
        app.get("/v1/queues/pending?order=random", &moderator).await,
        422,
        Some("order"),
    )
    .await;
    assert_problem(
        app.get("/v1/queues/pending?min_score=2", &moderator).await,
        422,
        Some("min_score"),
    )
    .await;
    assert_problem(
        app.get("/v1/queues/pending?from=yesterday", &moderator)
            .await,
        422,
        Some("from"),
    )
    .await;
}

async fn parallel_claims_never_hand_out_the_same_comment(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    held(&app, &ingest, 20, "a-1").await;
    let mut moderators = Vec::new();
    for _ in 0..6 {
        moderators.push(app.key("numerama", Role::Moderator).await);
    }
    // Six moderators claim three at a time, twice each, all at once: 36 asked, 20 exist.
    let ask = json!({"count": 3});
    let calls = moderators
        .iter()
        .flat_map(|m| [m, m])
        .map(|m| app.post_json("/v1/queues/pending/claims", m, &ask));
    let responses = futures_util::future::join_all(calls).await;
    let mut all = Vec::new();
    for r in responses {
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        for item in v["items"].as_array().unwrap() {
            assert_eq!(item["claim"]["mine"], true);
            all.push(item["comment"]["id"].as_i64().unwrap());
        }
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "a comment was handed out twice: {all:?}"
    );
    assert_eq!(
        all.len(),
        20,
        "every comment is claimed once there were enough asks"
    );
    let again: Value = app
        .post_json(
            "/v1/queues/pending/claims",
            &moderators[0],
            &json!({"count": 3}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(again["items"].as_array().unwrap().is_empty());
}

async fn expired_claims_return_to_the_queue_and_claims_can_be_renewed_and_released(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let camille = app.key("numerama", Role::Moderator).await;
    let dominique = app.key("numerama", Role::Moderator).await;
    let ids = held(&app, &ingest, 1, "a-1").await;
    let claimed: Value = app
        .post_json(
            "/v1/queues/pending/claims",
            &camille,
            &json!({"count": 5, "lease_seconds": 60}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(claimed["items"].as_array().unwrap().len(), 1);
    let page: Value = app
        .get("/v1/queues/pending", &dominique)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["claim"]["mine"], false);
    assert_problem(
        app.post_json(
            &format!("/v1/comments/{}/claim", ids[0]),
            &dominique,
            &json!({}),
        )
        .await,
        409,
        None,
    )
    .await;
    // Renewing one's own claim works.
    assert_eq!(
        app.post_json(
            &format!("/v1/comments/{}/claim", ids[0]),
            &camille,
            &json!({"lease_seconds": 600})
        )
        .await
        .status(),
        200
    );
    // The lease runs out: the comment is back in the queue for someone else.
    let id = ids[0];
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
        diesel::update(comments::table.find(id))
            .set(comments::claim_expires_at.eq(Some(past)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let taken: Value = app
        .post_json(
            "/v1/queues/pending/claims",
            &dominique,
            &json!({"count": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(taken["items"][0]["comment"]["id"], id);
    // Releasing: by its holder only.
    assert_problem(
        app.client
            .delete(app.url(&format!("/v1/comments/{id}/claim")))
            .bearer_auth(&camille)
            .send()
            .await
            .unwrap(),
        409,
        None,
    )
    .await;
    let released = app
        .client
        .delete(app.url(&format!("/v1/comments/{id}/claim")))
        .bearer_auth(&dominique)
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), 204);
    assert_eq!(
        app.post_json(&format!("/v1/comments/{id}/claim"), &camille, &json!({}))
            .await
            .status(),
        200
    );
    let all: Value = app
        .client
        .delete(app.url("/v1/claims"))
        .bearer_auth(&camille)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["released"], 1);
    assert_problem(
        app.post_json("/v1/queues/pending/claims", &camille, &json!({"count": 0}))
            .await,
        422,
        Some("count"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/queues/pending/claims",
            &camille,
            &json!({"count": 1, "lease_seconds": 5}),
        )
        .await,
        422,
        Some("lease_seconds"),
    )
    .await;
}

async fn decisions_follow_the_state_machine_and_the_display_reflects_them(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let ids = held(&app, &ingest, 2, "a-1").await;
    let id = ids[0];

    assert_problem(
        decide(&app, &moderator, id, json!({"action": "reject"})).await,
        422,
        Some("reason"),
    )
    .await;
    assert_problem(
        decide(
            &app,
            &moderator,
            id,
            json!({"action": "reject", "reason": "rude"}),
        )
        .await,
        422,
        Some("reason"),
    )
    .await;
    assert_problem(
        decide(&app, &moderator, id, json!({"action": "restore"})).await,
        409,
        None,
    )
    .await;
    assert_problem(
        decide(
            &app,
            &moderator,
            id,
            json!({"action": "approve", "expected_revision": 7}),
        )
        .await,
        409,
        None,
    )
    .await;

    let approved = decide(
        &app,
        &moderator,
        id,
        json!({"action": "approve", "expected_revision": 1}),
    )
    .await;
    assert_eq!(approved.status(), 200);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["revision"], 2);
    let shown: Value = app
        .get("/v1/threads/a-1/comments", &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["items"].as_array().unwrap().len(),
        1,
        "the display reflects the decision at once"
    );
    assert_problem(
        decide(&app, &moderator, id, json!({"action": "approve"})).await,
        409,
        None,
    )
    .await;

    let rejected: Value = decide(&app, &moderator, id, json!({"action": "reject", "reason": "insult", "note_to_author": "Attaque personnelle.", "internal_note": "2e avertissement"})).await.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");
    let shown: Value = app
        .get("/v1/threads/a-1/comments", &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert!(shown["items"].as_array().unwrap().is_empty());
    let restored: Value = decide(&app, &moderator, id, json!({"action": "restore"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(restored["status"], "approved");

    let history: Value = app
        .get(&format!("/v1/comments/{id}/history"), &moderator)
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(Value, Value, Value)> = history["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["source"].clone(),
                d["action"].clone(),
                d["to_status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (json!("automated"), Value::Null, json!("pending")),
            (json!("human"), json!("approve"), json!("approved")),
            (json!("human"), json!("reject"), json!("rejected")),
            (json!("human"), json!("restore"), json!("approved")),
        ]
    );
    assert_eq!(history["decisions"][2]["reason"], "insult");
    assert_eq!(
        history["decisions"][2]["note_to_author"],
        "Attaque personnelle."
    );
    assert_eq!(history["decisions"][2]["internal_note"], "2e avertissement");
    assert_eq!(history["decisions"][1]["actor"], "test");
    assert!(history["first_seen_at"].is_string());

    // A deleted comment accepts no decision.
    let other = ids[1];
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments;
        diesel::update(comments::table.find(other))
            .set(comments::status.eq("deleted"))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_problem(
        decide(&app, &moderator, other, json!({"action": "approve"})).await,
        409,
        None,
    )
    .await;
    assert_problem(
        decide(&app, &moderator, 987654, json!({"action": "approve"})).await,
        404,
        None,
    )
    .await;
    assert_problem(
        decide(&app, &moderator, id, json!({"action": "publish"})).await,
        422,
        Some("action"),
    )
    .await;
}

async fn a_claim_by_another_moderator_blocks_a_decision_unless_an_admin_overrides(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let camille = app.key("numerama", Role::Moderator).await;
    let dominique = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let ids = held(&app, &ingest, 1, "a-1").await;
    app.post_json("/v1/queues/pending/claims", &camille, &json!({"count": 1}))
        .await;
    assert_problem(
        decide(&app, &dominique, ids[0], json!({"action": "approve"})).await,
        409,
        None,
    )
    .await;
    assert_problem(
        decide(
            &app,
            &dominique,
            ids[0],
            json!({"action": "approve", "override_claim": true}),
        )
        .await,
        403,
        None,
    )
    .await;
    assert_problem(
        decide(&app, &admin, ids[0], json!({"action": "approve"})).await,
        409,
        None,
    )
    .await;
    let r = decide(
        &app,
        &admin,
        ids[0],
        json!({"action": "approve", "override_claim": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn bulk_decisions_answer_per_item(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let ids = held(&app, &ingest, 4, "a-1").await;
    decide(&app, &moderator, ids[3], json!({"action": "approve"})).await;
    let body = json!({"ids": [ids[0], ids[1], ids[2], ids[3], 424242], "action": "reject", "reason": "spam"});
    let r: Value = app
        .post_json("/v1/decisions/bulk", &moderator, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            r["done"].clone(),
            r["conflict"].clone(),
            r["not_found"].clone()
        ),
        (json!(4), json!(0), json!(1))
    );
    assert_eq!(
        r["items"][4],
        json!({"id": 424242, "result": "not_found", "status": null, "detail": null})
    );
    // Again: every comment is now rejected, so rejecting is a conflict.
    let again: Value = app
        .post_json("/v1/decisions/bulk", &moderator, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["conflict"], 4);
    assert_eq!(app.count("decisions").await, 4 + 1 + 4);
    let too_many: Vec<i64> = (1..=501).collect();
    assert_problem(
        app.post_json(
            "/v1/decisions/bulk",
            &moderator,
            &json!({"ids": too_many, "action": "approve"}),
        )
        .await,
        422,
        Some("ids"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/decisions/bulk",
            &moderator,
            &json!({"ids": [], "action": "approve"}),
        )
        .await,
        422,
        Some("ids"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/decisions/bulk",
            &moderator,
            &json!({"ids": [ids[0]], "action": "reject"}),
        )
        .await,
        422,
        Some("reason"),
    )
    .await;
    // The same id twice is decided once.
    let twice: Value = app
        .post_json(
            "/v1/decisions/bulk",
            &moderator,
            &json!({"ids": [ids[0], ids[1], ids[0]], "action": "restore"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(twice["items"].as_array().unwrap().len(), 2, "{twice}");
    assert_eq!(twice["done"], 2);
}

async fn banning_an_author_rejects_pending_and_future_comments(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let ids = held(&app, &ingest, 2, "a-1").await;
    let r = app.post_json("/v1/authors/u-fabrice/status", &moderator, &json!({"status": "banned", "until": "2999-01-01T00:00:00Z", "reason": "insult", "reject_pending": true})).await;
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["status"], "banned");
    assert_eq!(r["rejected_comments"], json!(ids));
    let after: Value = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("late", "a-1", "Encore moi"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["status"], "rejected");
    // Pre-moderation holds even on a post-moderated site.
    let admin = app.key("numerama", Role::Admin).await;
    app.patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    app.post_json(
        "/v1/authors/u-fabrice/status",
        &moderator,
        &json!({"status": "premod", "reason": "other"}),
    )
    .await;
    let held_now: Value = app
        .post_json("/v1/comments", &ingest, &comment("later", "a-1", "Promis"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(held_now["status"], "pending");
    app.post_json(
        "/v1/authors/u-fabrice/status",
        &moderator,
        &json!({"status": "active", "reason": "other"}),
    )
    .await;
    let free: Value = app
        .post_json("/v1/comments", &ingest, &comment("latest", "a-1", "Merci"))
        .await
        .json()
        .await
        .unwrap();
    // Reinstated, but three rejections in 30 days still hold them: the rule says why.
    assert_eq!(free["status"], "pending", "{free}");
    let rules: Vec<&str> = free["verdict"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"author-rejections"), "{rules:?}");
    let record: Value = app
        .get("/v1/authors/u-fabrice", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["status"], "active");
    assert_eq!(record["rejected"], 3);
    assert_eq!(record["recent"][0]["excerpt"], "Merci", "newest first");
    assert_eq!(record["recent"].as_array().unwrap().len(), 5);
    let steps: Vec<&str> = record["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["banned", "premod", "active"]);
    assert_problem(app.get("/v1/authors/nobody", &moderator).await, 404, None).await;
    assert_problem(app.get("/v1/authors/u-fabrice", &ingest).await, 403, None).await;
    assert_problem(
        app.post_json(
            "/v1/authors/nobody/status",
            &moderator,
            &json!({"status": "banned", "reason": "spam"}),
        )
        .await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/authors/u-fabrice/status",
            &moderator,
            &json!({"status": "banned", "reason": "spam", "until": "2001-01-01"}),
        )
        .await,
        422,
        Some("until"),
    )
    .await;
    assert_problem(
        app.post_json(
            "/v1/authors/u-fabrice/status",
            &moderator,
            &json!({"status": "exiled", "reason": "spam"}),
        )
        .await,
        422,
        Some("status"),
    )
    .await;
}

async fn the_decision_log_lists_actions_by_moderator_and_date(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let camille = app.key("numerama", Role::Moderator).await;
    let ids = held(&app, &ingest, 3, "a-1").await;
    for id in &ids {
        decide(&app, &camille, *id, json!({"action": "approve"})).await;
    }
    let all: Value = app
        .get("/v1/decisions?limit=2", &camille)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["items"][0]["comment_id"], ids[2], "newest first");
    let rest: Value = app
        .get(
            &format!(
                "/v1/decisions?limit=10&cursor={}",
                all["next_cursor"].as_str().unwrap()
            ),
            &camille,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        4,
        "one human and three automated left"
    );
    let human: Value = app
        .get("/v1/decisions?moderator=test&source=human", &camille)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(human["items"].as_array().unwrap().len(), 3);
    let none: Value = app
        .get("/v1/decisions?to=2000-01-01", &camille)
        .await
        .json()
        .await
        .unwrap();
    assert!(none["items"].as_array().unwrap().is_empty());
    assert_problem(
        app.get("/v1/decisions?source=robot", &camille).await,
        400,
        None,
    )
    .await;
}

async fn moderator_routes_refuse_ingest_keys_and_hide_other_sites(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let ids = held(&app, &ingest, 1, "a-1").await;
    let id = ids[0];
    let gets = [
        "/v1/queues".to_owned(),
        "/v1/queues/pending".to_owned(),
        format!("/v1/comments/{id}/history"),
        "/v1/decisions".to_owned(),
    ];
    for path in &gets {
        assert_problem(app.get(path, &ingest).await, 403, None).await;
    }
    let posts = [
        ("/v1/queues/pending/claims".to_owned(), json!({"count": 1})),
        (format!("/v1/comments/{id}/claim"), json!({})),
        (
            format!("/v1/comments/{id}/decisions"),
            json!({"action": "approve"}),
        ),
        (
            "/v1/decisions/bulk".to_owned(),
            json!({"ids": [id], "action": "approve"}),
        ),
        (
            "/v1/authors/u-fabrice/status".to_owned(),
            json!({"status": "banned", "reason": "spam"}),
        ),
    ];
    for (path, body) in &posts {
        assert_problem(app.post_json(path, &ingest, body).await, 403, None).await;
    }
    // A moderator of another site sees nothing of this one.
    let stranger = app.key("autre-site", Role::Moderator).await;
    assert_problem(
        decide(&app, &stranger, id, json!({"action": "approve"})).await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/comments/{id}/history"), &stranger)
            .await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.get(&format!("/v1/comments/{id}"), &stranger).await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.post_json(&format!("/v1/comments/{id}/claim"), &stranger, &json!({}))
            .await,
        404,
        None,
    )
    .await;
    let bulk: Value = app
        .post_json(
            "/v1/decisions/bulk",
            &stranger,
            &json!({"ids": [id], "action": "approve"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bulk["not_found"], 1);
    let counts: Value = app.get("/v1/queues", &stranger).await.json().await.unwrap();
    assert_eq!(counts["pending"], 0);
    assert_problem(
        app.post_json(
            "/v1/authors/u-fabrice/status",
            &stranger,
            &json!({"status": "banned", "reason": "spam"}),
        )
        .await,
        404,
        None,
    )
    .await;
}

async fn unknown_queues_and_malformed_cursors_are_400(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moderator = app.key("numerama", Role::Moderator).await;
    assert_problem(app.get("/v1/queues/limbo", &moderator).await, 400, None).await;
    assert_problem(
        app.post_json("/v1/queues/limbo/claims", &moderator, &json!({"count": 1}))
            .await,
        400,
        None,
    )
    .await;
    assert_problem(
        app.get("/v1/queues/pending?cursor=%%%", &moderator).await,
        400,
        None,
    )
    .await;
    assert_problem(
        app.get("/v1/queues/pending?cursor=cTE6eno6MQ", &moderator)
            .await,
        400,
        None,
    )
    .await;
    assert_problem(
        app.get("/v1/decisions?cursor=zzz", &moderator).await,
        400,
        None,
    )
    .await;
}
