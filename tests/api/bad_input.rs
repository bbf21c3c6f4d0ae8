use serde_json::json;
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, spawn_app_with, Backend};

crate::on_both_backends!(
    malformed_json_and_invalid_utf8_are_400,
    wrong_types_and_missing_fields_are_422_naming_the_field,
    bodies_empty_blank_or_over_the_limit_are_422,
    a_request_over_64_kib_is_413,
    a_request_that_is_not_json_is_415,
    missing_wrong_and_revoked_keys_are_401,
    a_role_without_the_right_is_403,
    unknown_ids_and_routes_are_404,
    refused_requests_store_nothing,
);

async fn malformed_json_and_invalid_utf8_are_400(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    for body in [
        &b"{\"external_id\": "[..],
        b"not json",
        b"",
        b"{\"a\":1} {\"b\":2}",
    ] {
        assert_problem(
            app.post_raw("/v1/comments", &key, body.to_vec()).await,
            400,
            None,
        )
        .await;
    }
    let mut bytes = serde_json::to_vec(&comment("c-1", "a-1", "X")).unwrap();
    let at = bytes.windows(3).position(|w| w == b"\"X\"").unwrap() + 1;
    bytes[at] = 0xff;
    let problem = assert_problem(app.post_raw("/v1/comments", &key, bytes).await, 400, None).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("UTF-8"),
        "{problem}"
    );
}

async fn wrong_types_and_missing_fields_are_422_naming_the_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let cases = [
        ("body", json!(42), "body"),
        ("thread", json!("a-1"), "thread"),
        ("author", json!({"name": "x"}), "author.id"),
        ("parent_id", json!(["c"]), "parent_id"),
        ("lang", json!("pas une langue"), "lang"),
        ("client", json!({"ip": "999.1.1.1"}), "client.ip"),
        ("external_id", json!(""), "external_id"),
    ];
    for (name, value, field) in cases {
        let mut c = comment("c-1", "a-1", "Bonjour");
        c[name] = value;
        assert_problem(
            app.post_json("/v1/comments", &key, &c).await,
            422,
            Some(field),
        )
        .await;
    }
    let mut c = comment("c-1", "a-1", "Bonjour");
    c["thread"]["url"] = json!("javascript:alert(1)");
    assert_problem(
        app.post_json("/v1/comments", &key, &c).await,
        422,
        Some("thread.url"),
    )
    .await;
    let mut c = comment("c-1", "a-1", "Bonjour");
    c["author"]["email"] = json!("pas-un-email");
    assert_problem(
        app.post_json("/v1/comments", &key, &c).await,
        422,
        Some("author.email"),
    )
    .await;
    for missing in ["body", "external_id", "thread", "author"] {
        let mut c = comment("c-1", "a-1", "Bonjour");
        c.as_object_mut().unwrap().remove(missing);
        assert_problem(
            app.post_json("/v1/comments", &key, &c).await,
            422,
            Some(missing),
        )
        .await;
    }
    let mut c = comment("c-1", "a-1", "Bonjour");
    c["thread"].as_object_mut().unwrap().remove("id");
    assert_problem(
        app.post_json("/v1/comments", &key, &c).await,
        422,
        Some("thread.id"),
    )
    .await;
    assert_problem(
        app.post_json("/v1/comments", &key, &json!([1, 2])).await,
        422,
        None,
    )
    .await;
}

async fn bodies_empty_blank_or_over_the_limit_are_422(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.max_body_chars = 500).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    for body in [
        String::new(),
        " \n\t ".to_owned(),
        "é".repeat(501),
        "a\u{0}b".to_owned(),
    ] {
        assert_problem(
            app.post_json("/v1/comments", &key, &comment("c-1", "a-1", &body))
                .await,
            422,
            Some("body"),
        )
        .await;
    }
    let at_limit = app
        .post_json(
            "/v1/comments",
            &key,
            &comment("c-1", "a-1", &"é".repeat(500)),
        )
        .await;
    assert_eq!(at_limit.status(), 201);
}

async fn a_request_over_64_kib_is_413(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let huge = comment("c-1", "a-1", &"a".repeat(70 * 1024));
    assert_problem(app.post_json("/v1/comments", &key, &huge).await, 413, None).await;
    // Without a Content-Length the limit still holds.
    let bytes = serde_json::to_vec(&huge).unwrap();
    let stream = futures_util::stream::iter(
        bytes
            .chunks(8192)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let chunked = app
        .client
        .post(app.url("/v1/comments"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_problem(chunked, 413, None).await;
}

async fn a_request_that_is_not_json_is_415(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let r = app
        .client
        .post(app.url("/v1/comments"))
        .bearer_auth(&key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("body=hello")
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, None).await;
}

async fn missing_wrong_and_revoked_keys_are_401(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let c = comment("c-1", "a-1", "Bonjour");
    let none = app
        .client
        .post(app.url("/v1/comments"))
        .json(&c)
        .send()
        .await
        .unwrap();
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert_problem(none, 401, None).await;
    assert_problem(
        app.post_json("/v1/comments", "vigie_wrong", &c).await,
        401,
        None,
    )
    .await;
    let basic = app
        .client
        .post(app.url("/v1/comments"))
        .basic_auth("u", Some("p"))
        .json(&c)
        .send()
        .await
        .unwrap();
    assert_problem(basic, 401, None).await;
    let key = app.key("s", Role::Ingest).await;
    let revoked = app
        .with_db(|conn| {
            let k = vigie::store::keys::list(conn).unwrap();
            vigie::store::keys::revoke(conn, k[0].0.id).unwrap()
        })
        .await;
    assert!(revoked);
    assert_problem(app.post_json("/v1/comments", &key, &c).await, 401, None).await;
    assert_problem(app.get("/v1/site", "").await, 401, None).await;
}

async fn a_role_without_the_right_is_403(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moderator = app.key("s", Role::Moderator).await;
    let ingest = app.key("s", Role::Ingest).await;
    let c = comment("c-1", "a-1", "Bonjour");
    assert_problem(
        app.post_json("/v1/comments", &moderator, &c).await,
        403,
        None,
    )
    .await;
    assert_problem(
        app.patch_json("/v1/site", &ingest, &json!({"moderation_mode": "post"}))
            .await,
        403,
        None,
    )
    .await;
    assert_problem(
        app.patch_json("/v1/site", &moderator, &json!({"moderation_mode": "post"}))
            .await,
        403,
        None,
    )
    .await;
    let admin = app.key("s", Role::Admin).await;
    assert_problem(
        app.patch_json("/v1/site", &admin, &json!({"moderation_mode": "sometimes"}))
            .await,
        422,
        Some("moderation_mode"),
    )
    .await;
    assert_eq!(
        app.post_json("/v1/comments", &admin, &c).await.status(),
        201,
        "admin can do everything"
    );
}

async fn unknown_ids_and_routes_are_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    assert_problem(app.get("/v1/comments/999999", &key).await, 404, None).await;
    assert_problem(app.get("/v1/comments/not-a-number", &key).await, 404, None).await;
    assert_problem(
        app.get("/v1/comments/99999999999999999999999", &key).await,
        404,
        None,
    )
    .await;
    assert_problem(app.get("/v1/nothing-here", &key).await, 404, None).await;
    // A known path asked with another method is 405 (tests/api/contract.rs).
}

async fn refused_requests_store_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let mut c = comment("c-1", "a-1", "");
    app.post_json("/v1/comments", &key, &c).await;
    c["body"] = json!("ok");
    c["lang"] = json!(12);
    app.post_json("/v1/comments", &key, &c).await;
    assert_eq!(app.count("comments").await, 0);
    assert_eq!(app.count("threads").await, 0);
    assert_eq!(app.count("authors").await, 0);
    assert_eq!(app.count("decisions").await, 0);
}
