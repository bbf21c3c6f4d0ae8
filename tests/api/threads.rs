use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend};

crate::on_both_backends!(
    in_post_mode_the_thread_shows_visible_comments_and_replies_in_order,
    a_thread_in_pre_moderation_overrides_a_post_site_and_a_closed_thread_refuses_comments,
    thread_listing_is_keyset_paginated_with_an_opaque_cursor,
    a_reply_must_name_a_parent_of_the_same_thread,
);

async fn post_mode(app: &crate::helpers::TestApp, site: &str) {
    let admin = app.key(site, Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["moderation_mode"], "post");
}

async fn in_post_mode_the_thread_shows_visible_comments_and_replies_in_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    // Held while the site is in pre-moderation: not displayed.
    let held: Value = app
        .post_json("/v1/comments", &key, &comment("c-0", "a-1", "Tenu"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(held["status"], "pending");
    post_mode(&app, "numerama").await;
    let first: Value = app
        .post_json("/v1/comments", &key, &comment("c-1", "a-1", "Premier"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "published");
    let mut reply = comment("c-2", "a-1", "Réponse");
    reply["parent_id"] = json!("c-1");
    let reply = app.post_json("/v1/comments", &key, &reply).await;
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.unwrap();
    assert_eq!(reply["parent_id"], "c-1");

    let page: Value = app
        .get("/v1/threads/a-1/comments", &key)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c-1", "c-2"]);
    assert_eq!(page["items"][1]["parent_id"], "c-1");
    assert!(page["next_cursor"].is_null());
}

async fn a_thread_in_pre_moderation_overrides_a_post_site_and_a_closed_thread_refuses_comments(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    post_mode(&app, "numerama").await;
    app.post_json("/v1/comments", &key, &comment("c-1", "sensible", "Premier"))
        .await;
    let r = app
        .patch_json(
            "/v1/threads/sensible",
            &moderator,
            &json!({"moderation_mode": "pre"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let c: Value = app
        .post_json("/v1/comments", &key, &comment("c-2", "sensible", "Second"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "pending");
    // Back to the site's mode with null.
    let r: Value = app
        .patch_json(
            "/v1/threads/sensible",
            &moderator,
            &json!({"moderation_mode": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(r["moderation_mode"].is_null());
    let c: Value = app
        .post_json(
            "/v1/comments",
            &key,
            &comment("c-3", "sensible", "Troisième"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "published");

    let r = app
        .patch_json(
            "/v1/threads/sensible",
            &moderator,
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let refused = app
        .post_json(
            "/v1/comments",
            &key,
            &comment("c-4", "sensible", "Trop tard"),
        )
        .await;
    assert_problem(refused, 409, None).await;
    // A resend of a comment stored before the thread closed still gets it back.
    let resent = app
        .post_json("/v1/comments", &key, &comment("c-1", "sensible", "Premier"))
        .await;
    assert_eq!(resent.status(), 200);
    assert_eq!(app.count("comments").await, 3);
    // An ingest key cannot change threads; unknown threads are created (see
    // `console_tools::a_thread_can_be_set_up_before_its_first_comment`); bad values are 422.
    assert_problem(
        app.patch_json("/v1/threads/sensible", &key, &json!({"status": "open"}))
            .await,
        403,
        None,
    )
    .await;
    assert_eq!(
        app.patch_json("/v1/threads/nope", &moderator, &json!({"status": "open"}))
            .await
            .status(),
        201
    );
    assert_problem(
        app.patch_json(
            "/v1/threads/sensible",
            &moderator,
            &json!({"status": "ajar"}),
        )
        .await,
        422,
        Some("status"),
    )
    .await;
}

async fn thread_listing_is_keyset_paginated_with_an_opaque_cursor(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    post_mode(&app, "numerama").await;
    for i in 0..5 {
        let r = app
            .post_json(
                "/v1/comments",
                &key,
                &comment(&format!("c-{i}"), "a-1", &format!("Commentaire {i}")),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/threads/a-1/comments?limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, &key).await.json().await.unwrap();
        for c in page["items"].as_array().unwrap() {
            seen.push(c["external_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/threads/a-1/comments?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["c-0", "c-1", "c-2", "c-3", "c-4"]);
    assert_problem(
        app.get("/v1/threads/a-1/comments?cursor=not-a-cursor", &key)
            .await,
        400,
        None,
    )
    .await;
    assert_problem(
        app.get("/v1/threads/a-1/comments?limit=0", &key).await,
        422,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/v1/threads/a-1/comments?limit=abc", &key).await,
        400,
        None,
    )
    .await;
    assert_problem(
        app.get("/v1/threads/unknown/comments", &key).await,
        404,
        None,
    )
    .await;
}

async fn a_reply_must_name_a_parent_of_the_same_thread(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    app.post_json(
        "/v1/comments",
        &key,
        &comment("c-1", "a-1", "Sur l'article 1"),
    )
    .await;
    let mut reply = comment("c-2", "a-2", "Réponse égarée");
    reply["parent_id"] = json!("c-1");
    assert_problem(
        app.post_json("/v1/comments", &key, &reply).await,
        422,
        Some("parent_id"),
    )
    .await;
    reply["parent_id"] = json!("c-unknown");
    assert_problem(
        app.post_json("/v1/comments", &key, &reply).await,
        422,
        Some("parent_id"),
    )
    .await;
    assert_eq!(app.count("comments").await, 1);
}
