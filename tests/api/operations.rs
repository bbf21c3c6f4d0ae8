use serde_json::Value;
use vigie::domain::Role;

use crate::helpers::{spawn_app, Backend};

crate::on_both_backends!(
    health_and_readiness_answer,
    every_response_carries_a_request_id,
    the_openapi_document_lists_every_route_and_the_docs_page_is_served,
);

async fn health_and_readiness_answer(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let h = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["status"], "ready");
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    let err = app.client.get(app.url("/v1/site")).send().await.unwrap();
    let a = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    let b = err.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(a.len(), 36, "a UUID: {a}");
    assert_ne!(a, b);
}

async fn the_openapi_document_lists_every_route_and_the_docs_page_is_served(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes.sort();
    assert_eq!(
        routes,
        [
            "DELETE /v1/authors/{id}/notes/{note_id}",
            "DELETE /v1/backtests/{id}",
            "DELETE /v1/claims",
            "DELETE /v1/comments/{id}/claim",
            "DELETE /v1/integrations/coral",
            "DELETE /v1/session",
            "DELETE /v1/sessions",
            "DELETE /v1/site/rules/words/{id}",
            "DELETE /v1/webhooks/{id}",
            "GET /healthz",
            "GET /readyz",
            "GET /v1/account/alerts",
            "GET /v1/accounts",
            "GET /v1/appeals",
            "GET /v1/authors/{id}",
            "GET /v1/authors/{id}/export",
            "GET /v1/authors/{id}/notes",
            "GET /v1/backtests",
            "GET /v1/backtests/{id}",
            "GET /v1/comments/{id}",
            "GET /v1/comments/{id}/history",
            "GET /v1/comments/{id}/statement",
            "GET /v1/datasets/decisions",
            "GET /v1/decisions",
            "GET /v1/decisions.csv",
            "GET /v1/feedback",
            "GET /v1/integrations/coral",
            "GET /v1/models",
            "GET /v1/models/{version}/shadow-report",
            "GET /v1/moderators/figures",
            "GET /v1/queues",
            "GET /v1/queues/{queue}",
            "GET /v1/reports/{reference}",
            "GET /v1/site",
            "GET /v1/site/changes",
            "GET /v1/site/changes.csv",
            "GET /v1/site/rules",
            "GET /v1/site/rules/words",
            "GET /v1/site/thresholds/suggestion",
            "GET /v1/statements",
            "GET /v1/threads/{thread_id}/comments",
            "GET /v1/transparency",
            "GET /v1/webhooks",
            "GET /v1/webhooks/{id}",
            "GET /v1/webhooks/{id}/deliveries",
            "PATCH /v1/accounts/{id}",
            "PATCH /v1/site",
            "PATCH /v1/site/rules/words/{id}",
            "PATCH /v1/threads/{thread_id}",
            "PATCH /v1/webhooks/{id}",
            "POST /perspective/v1alpha1/comments:analyze",
            "POST /perspective/v1alpha1/comments:suggestscore",
            "POST /v1/account/alerts/test",
            "POST /v1/account/totp",
            "POST /v1/account/totp/confirm",
            "POST /v1/account/totp/disable",
            "POST /v1/accounts",
            "POST /v1/accounts/{id}/invitation",
            "POST /v1/appeals/{id}/decision",
            "POST /v1/authors/{id}/erase",
            "POST /v1/authors/{id}/notes",
            "POST /v1/authors/{id}/status",
            "POST /v1/backtests",
            "POST /v1/comments",
            "POST /v1/comments/{id}/appeals",
            "POST /v1/comments/{id}/claim",
            "POST /v1/comments/{id}/decisions",
            "POST /v1/comments/{id}/reports",
            "POST /v1/decisions/bulk",
            "POST /v1/integrations/coral/moderate",
            "POST /v1/invitations/{token}",
            "POST /v1/models",
            "POST /v1/models/{version}/activate",
            "POST /v1/models/{version}/rollback",
            "POST /v1/models/{version}/shadow",
            "POST /v1/queues/{queue}/claims",
            "POST /v1/score",
            "POST /v1/session",
            "POST /v1/site/rules/words",
            "POST /v1/webhooks",
            "POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            "POST /v1/webhooks/{id}/secret",
            "PUT /v1/account/alerts",
            "PUT /v1/comments/{id}",
            "PUT /v1/integrations/coral",
            "PUT /v1/site/rules",
            "PUT /v1/site/thresholds",
        ]
    );
    // Each documented route is served (not the 404 of an unknown route).
    let key = app.key("s", Role::Admin).await;
    for route in &routes {
        let (method, path) = route.split_once(' ').unwrap();
        let path = path
            .replace("{id}", "1")
            .replace("{thread_id}", "t")
            .replace("{queue}", "pending")
            .replace("{version}", "v-1")
            .replace("{reference}", "VIG-2026-000001");
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            let p: Value = r.json().await.unwrap();
            assert!(
                !p["detail"].as_str().unwrap().starts_with("route "),
                "{route} is not served"
            );
        }
    }
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "docs page is Swagger UI");
    assert!(
        !html.contains("https://"),
        "the docs page loads nothing from the network"
    );
}
