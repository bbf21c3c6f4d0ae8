use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, spawn_app_with, Backend};

crate::on_both_backends!(
    malformed_json_and_invalid_utf8_are_400,
    wrong_types_and_missing_fields_are_422_naming_the_field,
    bodies_empty_blank_or_over_the_limit_are_422,
    a_request_over_64_kib_is_413,
    a_rule_file_may_take_512_kib_and_200000_characters,
    a_request_that_is_not_json_is_415,
    missing_wrong_and_revoked_keys_are_401,
    a_role_without_the_right_is_403,
    unknown_ids_and_routes_are_404,
    refused_requests_store_nothing,
    a_nul_in_any_path_query_or_body_string_of_any_route_is_refused_before_the_database,
    invalid_utf8_in_a_query_string_is_400_and_in_a_path_404,
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

async fn a_rule_file_may_take_512_kib_and_200000_characters(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("s", Role::Admin).await;
    let default = app.get_json("/v1/site/rules", &admin).await;
    let source = default["source"].as_str().unwrap();
    let put = |body: Value| {
        let req = app
            .client
            .put(app.url("/v1/site/rules"))
            .bearer_auth(&admin)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    // the default file with comments added: more than 64 KiB of JSON, fewer than 200,000
    // characters
    let padded = format!(
        "{source}\n{}",
        "# commentaire de la rédaction\n".repeat(1_000)
    );
    let chars = padded.chars().count();
    assert!(
        serde_json::to_vec(&json!({ "source": padded }))
            .unwrap()
            .len()
            > 64 * 1024
    );
    assert!(chars < 200_000, "{chars}");
    let r = put(json!({ "source": padded })).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let now = app.get_json("/v1/site/rules", &admin).await;
    assert_eq!(now["source"], padded.as_str());
    // one character over 200,000: refused, the stored file unchanged
    let over = format!(
        "{source}\n#{}",
        "x".repeat(199_999 - source.chars().count())
    );
    assert_eq!(over.chars().count(), 200_001);
    let p = assert_problem(put(json!({ "source": over })).await, 422, Some("source")).await;
    assert!(p["detail"].as_str().unwrap().contains("200000"), "{p}");
    // a body over 512 KiB: 413, on this route and on a backtest
    let huge = json!({ "source": "#".repeat(600 * 1024) });
    assert_problem(put(huge.clone()).await, 413, None).await;
    assert_problem(
        app.post_json("/v1/backtests", &admin, &huge).await,
        413,
        None,
    )
    .await;
    let after = app.get_json("/v1/site/rules", &admin).await;
    assert_eq!(after["version"], now["version"]);
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

const CORAL_SECRET: &str = "ssc_nul_walk_0123456789abcdef";
const CORAL_MODERATE: &str = "/v1/integrations/coral/moderate";

/// A valid body for every operation that takes one (the walk fails on an operation missing
/// here, so a new route is walked too).
fn valid_body(method: &str, path: &str, rules: &str) -> Option<Value> {
    Some(match (method, path) {
        ("post", "/v1/comments") => comment("c-2", "t-1", "Bonjour à tous"),
        ("put", "/v1/comments/{id}") => json!({"body": "Bonjour à tous, corrigé", "lang": "fr"}),
        ("post", "/v1/comments/{id}/reports") => json!({"category": "spam"}),
        ("post", "/v1/comments/{id}/appeals") => {
            json!({"author_id": "u-fabrice", "text": "Je conteste."})
        }
        ("post", "/v1/appeals/{id}/decision") => json!({"outcome": "uphold", "reply": "Merci."}),
        ("post", "/v1/comments/{id}/claim") => json!({}),
        ("post", "/v1/comments/{id}/decisions") => json!({"action": "reject", "reason": "spam",
            "note_to_author": "Lien publicitaire.", "internal_note": "vu"}),
        ("post", "/v1/decisions/bulk") => json!({"ids": [1], "action": "approve"}),
        ("post", "/v1/queues/{queue}/claims") => json!({"count": 1, "order": "age"}),
        ("post", "/v1/authors/{id}/status") => json!({"status": "premod", "reason": "spam",
            "note": "n", "until": "2999-01-01T00:00:00Z"}),
        ("post", "/v1/authors/{id}/notes") => json!({"text": "Insiste souvent."}),
        ("post", "/v1/account/totp/disable") => {
            json!({"password": "le phare de la vigie 1903", "code": "123456"})
        }
        ("post", "/v1/site/rules/words") => {
            json!({"id": "nul-walk", "action": "hold", "lang": "fr", "terms": ["abruti"]})
        }
        ("patch", "/v1/site/rules/words/{id}") => json!({"action": "flag", "terms": ["abruti"]}),
        ("post", "/v1/score") => json!({"body": "Bonjour", "lang": "fr"}),
        ("post", "/v1/session") => {
            json!({"email": "camille@example.fr", "password": "le phare de la vigie 1903"})
        }
        ("post", "/v1/invitations/{token}") => json!({"password": "le phare de la vigie 1903"}),
        ("post", "/v1/accounts") => {
            json!({"email": "camille@example.fr", "role": "moderator", "name": "Camille"})
        }
        ("patch", "/v1/accounts/{id}") => json!({"role": "admin"}),
        ("post", "/v1/account/totp/confirm") => json!({"code": "123456"}),
        ("put", "/v1/account/alerts") => json!({"language": "fr", "on_report": true}),
        ("post", "/v1/account/alerts/test") => json!({"kind": "test"}),
        ("patch", "/v1/site") => json!({"moderation_mode": "post"}),
        ("put", "/v1/site/rules") => json!({"source": rules}),
        ("put", "/v1/site/thresholds") => Value::Null,
        ("post", "/v1/models") => json!({"path": "/srv/vigie/models/site-1"}),
        ("post", "/v1/backtests") => json!({"rules": rules, "model": "vigie-20261203-2302",
            "from": "2026-12-01", "to": "2026-12-02"}),
        ("patch", "/v1/threads/{thread_id}") => json!({"status": "closed"}),
        ("post", "/v1/webhooks") => json!({"url": "https://hooks.example.fr/vigie",
            "events": ["comment.published"], "description": "site"}),
        ("patch", "/v1/webhooks/{id}") => json!({"description": "site"}),
        ("put", "/v1/integrations/coral") => json!({"secrets": [CORAL_SECRET]}),
        ("post", CORAL_MODERATE) => json!({
            "action": "NEW",
            "comment": {"body": "<p>Bonjour</p>", "parentID": null},
            "author": {"id": "coral-user-1", "role": "COMMENTER"},
            "story": {"id": "story-1", "url": "https://www.example.fr/story-1.html"},
            "site": {"id": "site-1"},
            "tenantID": "tenant-1",
            "tenantDomain": "coral.example.fr"
        }),
        _ => return None,
    })
}

/// A value for each path parameter that names something real.
fn sample(param: &str) -> &'static str {
    match param {
        "queue" => "pending",
        "thread_id" => "t-1",
        "reference" => "VIG-0000-0000",
        _ => "1",
    }
}

/// JSON paths (as the 422s name them: `thread.id`, `secrets[0]`) of every string a schema
/// describes, following `$ref`s and optional (`oneOf` with null) members.
fn string_paths(schema: &Value, doc: &Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 8 {
        return;
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return string_paths(
            &doc["components"]["schemas"][name],
            doc,
            path,
            out,
            depth + 1,
        );
    }
    for combined in ["oneOf", "anyOf", "allOf"] {
        for s in schema[combined].as_array().into_iter().flatten() {
            string_paths(s, doc, path, out, depth + 1);
        }
    }
    let is = |t: &str| match &schema["type"] {
        Value::String(s) => s == t,
        Value::Array(ts) => ts.iter().any(|x| x == t),
        _ => false,
    };
    if is("string") && !path.is_empty() && !out.iter().any(|p| p == path) {
        out.push(path.to_owned());
    }
    if let Some(props) = schema["properties"].as_object() {
        for (key, s) in props {
            let p = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            string_paths(s, doc, &p, out, depth + 1);
        }
    }
    if is("array") {
        string_paths(&schema["items"], doc, &format!("{path}[0]"), out, depth + 1);
    }
}

/// Paths of the strings already in a body (fields the schema may not describe).
fn string_leaves(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::String(_) if !path.is_empty() && !out.iter().any(|p| p == path) => {
            out.push(path.to_owned())
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                string_leaves(v, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                string_leaves(v, &p, out);
            }
        }
        _ => {}
    }
}

/// `body` with `new` at `path`, making the objects and arrays on the way.
fn set_at(body: &mut Value, path: &str, new: Value) {
    let mut at = body;
    for segment in path.split('.') {
        let (key, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .unwrap()
            .entry(key)
            .or_insert(Value::Null);
        for index in indexes.split(']').filter(|s| !s.is_empty()) {
            let i: usize = index.trim_start_matches('[').parse().unwrap();
            if !at.is_array() {
                *at = json!([]);
            }
            let items = at.as_array_mut().unwrap();
            while items.len() <= i {
                items.push(Value::Null);
            }
            at = &mut items[i];
        }
    }
    *at = new;
}

fn coral_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(CORAL_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn a_nul_in_any_path_query_or_body_string_of_any_route_is_refused_before_the_database(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("s", Role::Admin).await;
    // Something real behind the sample ids: comment 1 in thread t-1, a Coral secret.
    let r = app
        .post_json("/v1/comments", &admin, &comment("c-1", "t-1", "Bonjour"))
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .client
        .put(app.url("/v1/integrations/coral"))
        .bearer_auth(&admin)
        .json(&json!({"secrets": [CORAL_SECRET]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rules: Value = app
        .get("/v1/site/rules", &admin)
        .await
        .json()
        .await
        .unwrap();
    let rules = rules["source"].as_str().unwrap().to_owned();
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let send = |method: &str, url: String, body: Option<Vec<u8>>, coral: bool| {
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut request = app.client.request(method, url).bearer_auth(&admin);
        if let Some(body) = body {
            if coral {
                request = request.header("x-coral-signature", coral_signature(&body));
            }
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        request.send()
    };
    let mut checked = 0;
    let nul = Value::String("a\u{0}b".into());
    for (path, operations) in doc["paths"].as_object().unwrap() {
        // Perspective's routes answer Google's errors (tests/api/perspective.rs sends NUL there).
        if path.starts_with("/perspective/") {
            continue;
        }
        for (method, operation) in operations.as_object().unwrap() {
            let params = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let of = |place: &str| -> Vec<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == place)
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            };
            let url_with = |nul_param: Option<&str>| {
                let mut url = path.clone();
                for name in of("path") {
                    let value = if nul_param == Some(&name) {
                        "a%00b"
                    } else {
                        sample(&name)
                    };
                    url = url.replace(&format!("{{{name}}}"), value);
                }
                app.url(&url)
            };
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let base = if schema.is_null() {
                None
            } else {
                let body = valid_body(method, path, &rules)
                    .unwrap_or_else(|| panic!("no valid body for {method} {path} in the walk"));
                Some(body)
            };
            let coral = path == CORAL_MODERATE;
            let base_bytes = base.as_ref().map(|b| serde_json::to_vec(b).unwrap());
            let context = |what: &str| format!("{method} {path} with NUL in {what}");

            for name in of("path") {
                let r = send(method, url_with(Some(&name)), base_bytes.clone(), coral)
                    .await
                    .unwrap();
                assert_eq!(r.status(), 404, "{}", context(&name));
                assert_problem(r, 404, None).await;
                checked += 1;
            }
            for name in of("query") {
                let url = format!("{}?{name}=a%00b", url_with(None));
                let r = send(method, url, base_bytes.clone(), coral).await.unwrap();
                assert_eq!(r.status(), 400, "{}", context(&name));
                assert_problem(r, 400, None).await;
                checked += 1;
            }
            if let Some(base) = base {
                let mut fields = Vec::new();
                string_paths(schema, &doc, "", &mut fields, 0);
                string_leaves(&base, "", &mut fields);
                for field in fields {
                    let mut body = base.clone();
                    set_at(&mut body, &field, nul.clone());
                    let bytes = serde_json::to_vec(&body).unwrap();
                    let r = send(method, url_with(None), Some(bytes), coral)
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 422, "{}", context(&field));
                    assert_problem(r, 422, Some(&field)).await;
                    checked += 1;
                }
            }
        }
    }
    // The walk reached every route's strings (46 operations today), not an empty document.
    assert!(checked >= 100, "only {checked} requests walked");
    // Nothing was stored or changed by any of them.
    assert_eq!(app.count("comments").await, 1);
    assert_eq!(app.count("webhook_endpoints").await, 0);
    assert_eq!(app.count("appeals").await, 0);
    assert_eq!(app.count("reports").await, 0);
}

async fn invalid_utf8_in_a_query_string_is_400_and_in_a_path_404(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let moderator = app.key("s", Role::Moderator).await;
    for url in [
        "/v1/queues/pending?thread=%FF",
        "/v1/queues/pending?author=%C3%28",
        "/v1/decisions?moderator=%E2%82",
        "/v1/threads/t-1/comments?cursor=%80abc",
        "/v1/queues/pending?%FF=1",
    ] {
        let problem = assert_problem(app.get(url, &moderator).await, 400, None).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("UTF-8"),
            "{url}: {problem}"
        );
    }
    for url in ["/v1/authors/%FF", "/v1/threads/%C3%28/comments"] {
        assert_problem(app.get(url, &moderator).await, 404, None).await;
    }
    // Percent-encoded UTF-8 is text like any other.
    let r = app
        .get("/v1/queues/pending?thread=%C3%A9t%C3%A9", &moderator)
        .await;
    assert_eq!(r.status(), 200);
}
