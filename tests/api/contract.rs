//! The server keeps the contract of its own `/openapi.json`: a wrong key is 401 whatever else is
//! wrong, known paths answer other methods with 405, bodies of the wrong JSON type are 422, and
//! every operation documents the problems it answers.

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    a_wrong_key_is_401_before_anything_else_about_the_request_is_judged,
    a_known_path_asked_with_another_method_is_405_with_allow,
    a_wrong_json_type_in_a_decision_is_422_naming_the_field,
    statements_are_sent_as_the_documented_ndjson,
    every_operation_documents_and_answers_401_without_a_key_and_415_for_a_body_that_is_not_json,
);

const WRONG_KEY: &str = "vk_this-key-does-not-exist";

async fn document(app: &TestApp) -> Value {
    app.client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Each documented operation as (method, path with ids filled in, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let concrete = path
                .split('/')
                .map(|segment| match segment {
                    "{queue}" => "pending",
                    s if s.starts_with('{') => "1",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            out.push((method.to_uppercase(), concrete, operation.clone()));
        }
    }
    out
}

async fn a_wrong_key_is_401_before_anything_else_about_the_request_is_judged(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // A bad body of every kind: wrong types, malformed JSON, not JSON at all.
    for (path, body) in [
        ("/v1/comments", r#"{"external_id": 5}"#),
        ("/v1/comments", "{not json"),
        ("/v1/comments/1/decisions", r#"{"action": 5}"#),
        ("/v1/score", r#"{"body": []}"#),
    ] {
        let response = app.post_raw(path, WRONG_KEY, body).await;
        assert_problem(response, 401, None).await;
    }
    let not_json = app
        .client
        .post(app.url("/v1/comments"))
        .bearer_auth(WRONG_KEY)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, 401, None).await;
    // An unreadable query or path parameter.
    for path in [
        "/v1/threads/t/comments?limit=many",
        "/v1/decisions?limit=0",
        "/v1/comments/not-a-number",
    ] {
        assert_problem(app.get(path, WRONG_KEY).await, 401, None).await;
    }
    // With a valid key the same requests get their own answer.
    let key = app.key("s", Role::Ingest).await;
    assert_problem(
        app.post_raw("/v1/comments", &key, r#"{"external_id": 5}"#)
            .await,
        422,
        Some("external_id"),
    )
    .await;
    assert_problem(
        app.get("/v1/threads/t/comments?limit=many", &key).await,
        400,
        None,
    )
    .await;
}

async fn a_known_path_asked_with_another_method_is_405_with_allow(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Admin).await;
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/v1/site", "GET, PATCH"),
        (reqwest::Method::PUT, "/v1/comments", "POST"),
        (reqwest::Method::DELETE, "/v1/comments", "POST"),
        (reqwest::Method::PATCH, "/v1/comments/12", "GET, PUT"),
        (reqwest::Method::POST, "/v1/queues", "GET"),
        (
            reqwest::Method::GET,
            "/v1/integrations/coral/moderate",
            "POST",
        ),
        (
            reqwest::Method::POST,
            "/v1/webhooks/3",
            "GET, PATCH, DELETE",
        ),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let got_allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got_allow.as_deref(), Some(allow), "{method} {path}");
        assert_problem(response, 405, None).await;
    }
    // Unknown paths stay 404.
    assert_problem(app.get("/v1/nothing-here", &key).await, 404, None).await;
    let response = app
        .client
        .delete(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, None).await;
}

async fn a_wrong_json_type_in_a_decision_is_422_naming_the_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("s", Role::Ingest).await;
    let moderator = app.key("s", Role::Moderator).await;
    let created: Value = app
        .post_json("/v1/comments", &ingest, &comment("c-1", "a-1", "Bonjour"))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/comments/{}/decisions", created["id"]);
    for (body, field) in [
        (json!({"action": 5}), "action"),
        (json!({"action": null}), "action"),
        (json!({"action": ["approve"]}), "action"),
        (json!({"action": "reject", "reason": 3}), "reason"),
        (
            json!({"action": "approve", "override_claim": "yes"}),
            "override_claim",
        ),
        (
            json!({"action": "approve", "expected_revision": "1"}),
            "expected_revision",
        ),
    ] {
        let response = app.post_json(&path, &moderator, &body).await;
        assert_problem(response, 422, Some(field)).await;
    }
    let bulk = app
        .post_json(
            "/v1/decisions/bulk",
            &moderator,
            &json!({"ids": [1], "action": 7}),
        )
        .await;
    assert_problem(bulk, 422, Some("action")).await;
    // Malformed JSON is still 400.
    assert_problem(
        app.post_raw(&path, &moderator, r#"{"action": "#).await,
        400,
        None,
    )
    .await;
}

async fn statements_are_sent_as_the_documented_ndjson(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("s", Role::Admin).await;
    let response = app.get("/v1/statements", &admin).await;
    assert_eq!(response.status(), 200);
    let sent = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let doc = document(&app).await;
    let documented = doc["paths"]["/v1/statements"]["get"]["responses"]["200"]["content"]
        .as_object()
        .unwrap();
    assert_eq!(sent, "application/x-ndjson");
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        ["application/x-ndjson"]
    );
}

async fn every_operation_documents_and_answers_401_without_a_key_and_415_for_a_body_that_is_not_json(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("s", Role::Admin).await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 46, "only {} operations documented", ops.len());
    let mut keyed = 0;
    for (method, path, op) in &ops {
        // Perspective's routes answer Google's errors, not problems (tests/api/perspective.rs).
        if path.starts_with("/perspective/") {
            continue;
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let responses = &op["responses"];
        let bearer = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        if bearer {
            keyed += 1;
            assert!(
                responses.get("401").is_some(),
                "{method} {path} needs a key but does not document 401"
            );
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_problem(response, 401, None).await;
        }
        if op.get("requestBody").is_some() {
            assert!(
                responses.get("415").is_some(),
                "{method} {path} takes a JSON body but does not document 415"
            );
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(&admin)
                .header("content-type", "text/plain")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_problem(response, 415, None).await;
        }
        // Every problem an operation documents is a problem document.
        for (status, response) in responses.as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let reference = response["$ref"]
                    .as_str()
                    .map(|r| r.rsplit('/').next().unwrap().to_owned());
                let resolved = match &reference {
                    Some(name) => &doc["components"]["responses"][name.as_str()],
                    None => response,
                };
                assert!(
                    resolved["content"]["application/problem+json"].is_object(),
                    "{method} {path}: {status} is not documented as problem+json"
                );
            }
        }
    }
    assert!(keyed >= 43, "only {keyed} operations need a key");
}
