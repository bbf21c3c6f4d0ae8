//! The Perspective API drop-in: `comments:analyze` and `comments:suggestscore` answer as
//! Google's API does (scores, spans, languages, errors in Google's JSON), feedback is stored per
//! site, deduplicated, listed, purged and erased; and Coral Talk's own request bodies get what
//! Coral reads.

use serde_json::{json, Value};
use vigie::domain::Role;
use vigie::scoring::perspective::RECOMMENDED_THRESHOLD;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    every_attribute_is_a_probability_and_the_request_is_echoed,
    span_annotations_point_at_the_words_behind_a_score,
    languages_given_detected_and_unsupported_answer_as_perspective_does,
    every_bad_request_is_answered_in_googles_json,
    the_key_is_read_from_the_query_or_googles_header_and_judged_first,
    an_analysis_stores_nothing_and_is_counted_in_metrics,
    feedback_is_stored_per_site_and_the_latest_label_wins,
    feedback_follows_retention_erasure_and_export,
    corals_own_request_bodies_get_what_coral_reads,
);

const ANALYZE: &str = "/perspective/v1alpha1/comments:analyze";
const SUGGEST: &str = "/perspective/v1alpha1/comments:suggestscore";
const ALL: [&str; 7] = [
    "TOXICITY",
    "SEVERE_TOXICITY",
    "INSULT",
    "THREAT",
    "IDENTITY_ATTACK",
    "PROFANITY",
    "SPAM",
];

async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(format!("{}?key={key}", app.url(path)))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn analyze(app: &TestApp, key: &str, body: &Value) -> Value {
    let response = post(app, ANALYZE, key, body).await;
    assert_eq!(response.status(), 200, "{body}");
    response.json().await.unwrap()
}

/// `TOXICITY` of a text as Coral asks for it.
async fn toxicity(app: &TestApp, key: &str, text: &str, lang: &str) -> f64 {
    let answer = analyze(
        app,
        key,
        &json!({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "languages": [lang]}),
    )
    .await;
    answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
        .as_f64()
        .unwrap()
}

/// Asserts Google's error shape: status, JSON (never a problem), code, status name, errorType.
async fn assert_google(
    response: reqwest::Response,
    code: u16,
    status: &str,
    error_type: &str,
) -> Value {
    assert_eq!(response.status().as_u16(), code, "unexpected HTTP status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let body: Value = response.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["status"], status, "{body}");
    assert!(!error["message"].as_str().unwrap().is_empty(), "{body}");
    assert_eq!(
        error["details"][0]["@type"],
        "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
    );
    assert_eq!(error["details"][0]["errorType"], error_type, "{body}");
    body
}

async fn every_attribute_is_a_probability_and_the_request_is_echoed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let requested: serde_json::Map<String, Value> =
        ALL.iter().map(|a| (a.to_string(), json!({}))).collect();
    for text in [
        "Merci pour cet article très clair sur la fibre.",
        "Espèce de gros connard, ferme ta gueule, je vais te retrouver.",
        "Gagnez 1000 euros par jour ! Cliquez ici http://bit.ly/x http://bit.ly/y",
    ] {
        let answer = analyze(
            &app,
            &key,
            &json!({"comment": {"text": text}, "requestedAttributes": requested, "languages": ["fr"],
                    "clientToken": "tok-1", "doNotStore": true, "communityId": "c", "context": {"entries": []}}),
        )
        .await;
        for attribute in ALL {
            let score = &answer["attributeScores"][attribute]["summaryScore"];
            let value = score["value"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&value), "{attribute}: {value}");
            assert_eq!(score["type"], "PROBABILITY");
            assert!(answer["attributeScores"][attribute]
                .get("spanScores")
                .is_none());
        }
        assert_eq!(answer["languages"], json!(["fr"]));
        assert_eq!(answer["detectedLanguages"], json!(["fr"]));
        assert_eq!(answer["clientToken"], "tok-1");
    }
    // What the rules say shows in the attribute of their kind.
    let threat = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "Toi je vais te tuer, je sais où tu habites."},
                "requestedAttributes": {"THREAT": {}, "INSULT": {}, "TOXICITY": {}, "SEVERE_TOXICITY": {}}}),
    )
    .await;
    let value = |a: &str| {
        threat["attributeScores"][a]["summaryScore"]["value"]
            .as_f64()
            .unwrap()
    };
    assert!(value("THREAT") >= 0.9, "{threat}");
    assert!(value("TOXICITY") > RECOMMENDED_THRESHOLD as f64, "{threat}");
    assert!(value("SEVERE_TOXICITY") >= 0.9, "{threat}");
    assert!(value("INSULT") < value("THREAT"), "{threat}");
    let spam = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "Check out my channel http://bit.ly/abc and subscribe!!! Free money"},
                "requestedAttributes": {"SPAM": {}, "TOXICITY": {}}, "languages": ["en"]}),
    )
    .await;
    let spam_value = spam["attributeScores"]["SPAM"]["summaryScore"]["value"]
        .as_f64()
        .unwrap();
    assert!(spam_value > 0.5, "{spam}");
    // scoreThreshold leaves out the attributes scored below it.
    let filtered = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "Merci pour cet article très clair."}, "languages": ["fr"],
                "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.99, "scoreType": "PROBABILITY"}, "SPAM": {"scoreThreshold": 0}}}),
    )
    .await;
    assert!(
        filtered["attributeScores"].get("TOXICITY").is_none(),
        "{filtered}"
    );
    assert!(
        filtered["attributeScores"].get("SPAM").is_some(),
        "{filtered}"
    );
}

async fn span_annotations_point_at_the_words_behind_a_score(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let text = "Élodie, espèce de connard, ferme ta gueule.";
    let answer = analyze(
        &app,
        &key,
        &json!({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
                "languages": ["fr"], "spanAnnotations": true}),
    )
    .await;
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    for attribute in ["TOXICITY", "INSULT"] {
        let summary = answer["attributeScores"][attribute]["summaryScore"]["value"].clone();
        let spans = answer["attributeScores"][attribute]["spanScores"]
            .as_array()
            .unwrap_or_else(|| panic!("{attribute} has no spanScores: {answer}"));
        assert!(!spans.is_empty(), "{answer}");
        for span in spans {
            let (begin, end) = (
                span["begin"].as_u64().unwrap() as usize,
                span["end"].as_u64().unwrap() as usize,
            );
            assert!(begin < end && end <= chars.len(), "{span}");
            assert_eq!(span["score"]["value"], summary);
            assert_eq!(span["score"]["type"], "PROBABILITY");
            words.push(chars[begin..end].iter().collect::<String>().to_lowercase());
        }
    }
    // Offsets are in characters ("Élodie" is 7 bytes, 6 characters): the words come out whole.
    assert!(
        words.iter().any(|w| w == "connard"),
        "spans {words:?} in {answer}"
    );
}

async fn languages_given_detected_and_unsupported_answer_as_perspective_does(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let body = |text: &str, languages: Value| json!({"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "languages": languages});
    // Given, with a region: scored as its primary language, echoed as given.
    let fr = analyze(
        &app,
        &key,
        &body("Merci pour cet article très clair.", json!(["fr-FR"])),
    )
    .await;
    assert_eq!(fr["languages"], json!(["fr"]));
    // Detected when absent.
    let detected = analyze(
        &app,
        &key,
        &body(
            "Thanks for the very clear article about the new phones.",
            Value::Null,
        ),
    )
    .await;
    assert_eq!(detected["languages"], json!(["en"]));
    assert_eq!(detected["detectedLanguages"], json!(["en"]));
    // A language Vigie does not score, given or detected: Perspective's 400.
    let given = assert_google(
        post(
            &app,
            ANALYZE,
            &key,
            &body("Danke für den Artikel.", json!(["de"])),
        )
        .await,
        400,
        "INVALID_ARGUMENT",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    .await;
    assert!(given["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Attribute TOXICITY does not support request languages: de"));
    assert_google(
        post(
            &app,
            ANALYZE,
            &key,
            &body(
                "Das ist der dümmste Artikel, den ich je gelesen habe, und die Kommentare sind nicht besser.",
                Value::Null,
            ),
        )
        .await,
        400,
        "INVALID_ARGUMENT",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    .await;
    assert_google(
        post(&app, ANALYZE, &key, &body("Merci", json!(["fr", "es"]))).await,
        400,
        "INVALID_ARGUMENT",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
    )
    .await;
    // dropUnsupportedAttributes: no error, no score.
    let dropped = analyze(
        &app,
        &key,
        &json!({"comment": {"text": "Danke für den Artikel."}, "requestedAttributes": {"TOXICITY": {}},
                "languages": ["de"], "dropUnsupportedAttributes": true}),
    )
    .await;
    assert_eq!(dropped["attributeScores"], json!({}));
    assert_eq!(dropped["languages"], json!(["de"]));
}

async fn every_bad_request_is_answered_in_googles_json(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"requestedAttributes": {"TOXICITY": {}}}),
            "COMMENT_EMPTY",
        ),
        (
            json!({"comment": {}, "requestedAttributes": {"TOXICITY": {}}}),
            "COMMENT_EMPTY",
        ),
        (
            json!({"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}),
            "COMMENT_EMPTY",
        ),
        (
            json!({"comment": {"text": "a".repeat(20_481)}, "requestedAttributes": {"TOXICITY": {}}}),
            "COMMENT_TOO_LONG",
        ),
        (
            json!({"comment": {"text": "Bonjour"}}),
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {}}),
            "NO_REQUESTED_ATTRIBUTES",
        ),
        (
            json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {"FLIRTATION": {}}}),
            "ATTRIBUTE_NOT_SUPPORTED",
        ),
        (
            json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {"toxicity": {}}}),
            "ATTRIBUTE_NOT_SUPPORTED",
        ),
        (
            json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}}}),
            "INVALID_SCORE_TYPE",
        ),
        (
            json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 2}}}),
            "INVALID_REQUEST",
        ),
        (
            json!({"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}),
            "INVALID_REQUEST",
        ),
        (
            json!({"comment": "text", "requestedAttributes": {"TOXICITY": {}}}),
            "INVALID_REQUEST",
        ),
        (
            json!({"comment": {"text": "a\u{0}b"}, "requestedAttributes": {"TOXICITY": {}}}),
            "INVALID_REQUEST",
        ),
        (json!([1, 2]), "INVALID_REQUEST"),
        (
            json!({"comment": {"text": "Bonjour"}, "requestedAttributes": {"TOXICITY": {}}, "languages": "fr"}),
            "INVALID_REQUEST",
        ),
    ];
    for (body, error_type) in &cases {
        assert_google(
            post(&app, ANALYZE, &key, body).await,
            400,
            "INVALID_ARGUMENT",
            error_type,
        )
        .await;
    }
    let suggest_cases: Vec<(Value, &str)> = vec![
        (
            json!({"attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}}}),
            "COMMENT_EMPTY",
        ),
        (json!({"comment": {"text": "x"}}), "NO_REQUESTED_ATTRIBUTES"),
        (
            json!({"comment": {"text": "x"}, "attributeScores": {"NOPE": {"summaryScore": {"value": 1}}}}),
            "ATTRIBUTE_NOT_SUPPORTED",
        ),
        (
            json!({"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {}}}),
            "INVALID_REQUEST",
        ),
        (
            json!({"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {"summaryScore": {"value": 3}}}}),
            "INVALID_REQUEST",
        ),
        (
            json!({"comment": {"text": "x"}, "attributeScores": {"TOXICITY": {"summaryScore": {}}}}),
            "INVALID_REQUEST",
        ),
    ];
    for (body, error_type) in &suggest_cases {
        assert_google(
            post(&app, SUGGEST, &key, body).await,
            400,
            "INVALID_ARGUMENT",
            error_type,
        )
        .await;
    }
    let url = format!("{}?key={key}", app.url(ANALYZE));
    let raw = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_google(
        raw(b"{\"comment\":".to_vec(), "application/json")
            .await
            .unwrap(),
        400,
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    )
    .await;
    assert_google(
        raw(
            b"{\"comment\":{\"text\":\"\xff\"}}".to_vec(),
            "application/json",
        )
        .await
        .unwrap(),
        400,
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    )
    .await;
    assert_google(
        raw(b"{}".to_vec(), "text/plain").await.unwrap(),
        400,
        "INVALID_ARGUMENT",
        "INVALID_CONTENT_TYPE",
    )
    .await;
    assert_google(
        app.client.post(&url).send().await.unwrap(),
        400,
        "INVALID_ARGUMENT",
        "INVALID_CONTENT_TYPE",
    )
    .await;
    let huge = format!("{{\"comment\":{{\"text\":\"{}\"}}}}", "a".repeat(70_000));
    assert_google(
        raw(huge.into_bytes(), "application/json").await.unwrap(),
        400,
        "INVALID_ARGUMENT",
        "COMMENT_TOO_LONG",
    )
    .await;
    // What is answered before the handlers: a NUL in the query string, an unknown path,
    // another method.
    assert_google(
        app.client
            .post(format!("{}?key=%00", app.url(ANALYZE)))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        400,
        "INVALID_ARGUMENT",
        "INVALID_REQUEST",
    )
    .await;
    assert_google(
        app.client
            .post(format!(
                "{}?key={key}",
                app.url("/perspective/v1alpha1/comments:nothing")
            ))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        404,
        "NOT_FOUND",
        "NOT_FOUND",
    )
    .await;
    let get = app.client.get(&url).send().await.unwrap();
    assert_eq!(get.headers()["allow"], "POST");
    assert_google(get, 405, "UNIMPLEMENTED", "METHOD_NOT_ALLOWED").await;
    // Nothing was stored by any of these.
    assert_eq!(app.count("perspective_feedback").await, 0);
}

async fn the_key_is_read_from_the_query_or_googles_header_and_judged_first(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("s", Role::Ingest).await;
    let admin = app.key("s", Role::Admin).await;
    let moderator = app.key("s", Role::Moderator).await;
    let body = json!({"comment": {"text": "Merci"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["fr"]});
    assert_eq!(post(&app, ANALYZE, &ingest, &body).await.status(), 200);
    assert_eq!(post(&app, ANALYZE, &admin, &body).await.status(), 200);
    let header = app
        .client
        .post(app.url(ANALYZE))
        .header("X-Goog-Api-Key", &ingest)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    assert_google(
        post(&app, ANALYZE, &moderator, &body).await,
        403,
        "PERMISSION_DENIED",
        "PERMISSION_DENIED",
    )
    .await;
    assert_google(
        post(&app, ANALYZE, "vigie_wrong", &body).await,
        400,
        "INVALID_ARGUMENT",
        "API_KEY_INVALID",
    )
    .await;
    assert_google(
        app.client
            .post(app.url(ANALYZE))
            .json(&body)
            .send()
            .await
            .unwrap(),
        403,
        "PERMISSION_DENIED",
        "API_KEY_MISSING",
    )
    .await;
    // A bearer key is not a Perspective key.
    assert_google(
        app.client
            .post(app.url(SUGGEST))
            .bearer_auth(&ingest)
            .json(&body)
            .send()
            .await
            .unwrap(),
        403,
        "PERMISSION_DENIED",
        "API_KEY_MISSING",
    )
    .await;
    // A wrong key is judged before a bad body.
    let bad = app
        .client
        .post(format!("{}?key=vigie_wrong", app.url(ANALYZE)))
        .header("content-type", "text/plain")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_google(bad, 400, "INVALID_ARGUMENT", "API_KEY_INVALID").await;
    // A revoked key is refused.
    let revoked = app.key("s", Role::Ingest).await;
    app.with_db({
        let revoked = revoked.clone();
        move |conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::api_keys;
            diesel::update(
                api_keys::table
                    .filter(api_keys::secret_hash.eq(vigie::store::keys::hash_secret(&revoked))),
            )
            .set(api_keys::revoked_at.eq(Some(vigie::store::now())))
            .execute(conn)
            .unwrap();
        }
    })
    .await;
    assert_google(
        post(&app, SUGGEST, &revoked, &body).await,
        400,
        "INVALID_ARGUMENT",
        "API_KEY_INVALID",
    )
    .await;
}

async fn an_analysis_stores_nothing_and_is_counted_in_metrics(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let tables = [
        "comments",
        "authors",
        "threads",
        "perspective_feedback",
        "decisions",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    for do_not_store in [true, false] {
        analyze(
            &app,
            &key,
            &json!({"comment": {"text": "Un texte unique 7f3a9 à ne jamais garder, connard."},
                    "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}, "languages": ["fr"], "doNotStore": do_not_store}),
        )
        .await;
    }
    for (t, n) in tables.iter().zip(&before) {
        assert_eq!(app.count(t).await, *n, "{t}");
    }
    assert_google(
        post(
            &app,
            ANALYZE,
            &key,
            &json!({"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}),
        )
        .await,
        400,
        "INVALID_ARGUMENT",
        "COMMENT_EMPTY",
    )
    .await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"vigie_perspective_requests_total{operation="analyze",outcome="ok"} 2"#,
        r#"vigie_perspective_requests_total{operation="analyze",outcome="comment_empty"} 1"#,
        r#"vigie_perspective_attributes_total{attribute="TOXICITY"} 2"#,
        r#"vigie_perspective_attributes_total{attribute="INSULT"} 2"#,
    ] {
        assert!(metrics.contains(line), "no {line} in\n{metrics}");
    }
    assert!(!metrics.contains("7f3a9"));
}

fn suggestion(text: &str, value: f64, token: Option<&str>) -> Value {
    let mut body = json!({
        "comment": {"text": text},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": value}}},
        "languages": ["fr"],
    });
    if let Some(token) = token {
        body["clientToken"] = json!(token);
    }
    body
}

async fn feedback_is_stored_per_site_and_the_latest_label_wins(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let other = app.key("autre", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    for (value, token) in [
        (0.0, Some("comment:1")),
        (1.0, Some("comment:1")),
        (1.0, None),
        (0.0, None),
    ] {
        let response = post(
            &app,
            SUGGEST,
            &key,
            &suggestion("Un commentaire jugé", value, token),
        )
        .await;
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            answer["clientToken"],
            token.map_or(Value::Null, |t| json!(t))
        );
        assert_eq!(answer["requestedLanguages"], json!(["fr"]));
    }
    // The same token on another site is another example.
    assert_eq!(
        post(
            &app,
            SUGGEST,
            &other,
            &suggestion("Ailleurs", 1.0, Some("comment:1"))
        )
        .await
        .status(),
        200
    );
    let page: Value = app.get("/v1/feedback", &admin).await.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{page}");
    let token_rows: Vec<&Value> = items
        .iter()
        .filter(|i| i["client_token"] == "comment:1")
        .collect();
    assert_eq!(token_rows.len(), 1);
    assert_eq!(token_rows[0]["label"], 1);
    assert_eq!(token_rows[0]["score"], 1.0);
    assert_eq!(token_rows[0]["text"], "Un commentaire jugé");
    assert_eq!(token_rows[0]["lang"], "fr");
    assert_eq!(
        page["counts"],
        json!([{"attribute": "TOXICITY", "label": 0, "count": 1}, {"attribute": "TOXICITY", "label": 1, "count": 2}])
    );
    // Pages, newest first.
    let first: Value = app
        .get("/v1/feedback?limit=2", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let before = first["next_before"].as_i64().unwrap();
    let second: Value = app
        .get(&format!("/v1/feedback?limit=2&before={before}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_before"], Value::Null);
    // Admins only; limits checked.
    assert_problem(app.get("/v1/feedback", &key).await, 403, None).await;
    assert_problem(
        app.get("/v1/feedback?limit=0", &admin).await,
        422,
        Some("limit"),
    )
    .await;
    assert_problem(app.get("/v1/feedback?limit=x", &admin).await, 400, None).await;
    assert_problem(app.get("/v1/feedback", "vigie_wrong").await, 401, None).await;
}

async fn feedback_follows_retention_erasure_and_export(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let admin = app.key("s", Role::Admin).await;
    // Fabrice's comment reached Vigie (intake), and Coral sent its moderator's decision on the
    // same text (case and spaces aside).
    let body = "Ce commentaire de Fabrice sera effacé à sa demande.";
    let created = app
        .post_json("/v1/comments", &key, &comment("c-1", "t-1", body))
        .await;
    assert_eq!(created.status(), 201);
    let coral_text = format!("  {}  ", body.to_uppercase());
    assert_eq!(
        post(
            &app,
            SUGGEST,
            &key,
            &suggestion(&coral_text, 1.0, Some("comment:c-1"))
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post(
            &app,
            SUGGEST,
            &key,
            &suggestion(
                "Un autre texte, d'un autre auteur.",
                0.0,
                Some("comment:c-2")
            )
        )
        .await
        .status(),
        200
    );
    let export: Value = app
        .get("/v1/authors/u-fabrice/export", &admin)
        .await
        .json()
        .await
        .unwrap();
    let feedback = export["perspective_feedback"].as_array().unwrap();
    assert_eq!(feedback.len(), 1, "{export}");
    assert_eq!(feedback[0]["client_token"], "comment:c-1");
    let erased: Value = app
        .post_json("/v1/authors/u-fabrice/erase", &admin, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(erased["erased"]["perspective_feedback"], 1, "{erased}");
    assert_eq!(app.count("perspective_feedback").await, 1);
    // The retention purge removes what is older than retention_days.
    let policy = app.state.settings.retention_policy();
    let now = vigie::store::now();
    let kept = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(conn, &policy, now + chrono::Duration::days(30)).unwrap()
        })
        .await;
    assert_eq!(kept.perspective_feedback, 0);
    let purged = app
        .with_db(move |conn| {
            vigie::store::privacy::purge(conn, &policy, now + chrono::Duration::days(400)).unwrap()
        })
        .await;
    assert_eq!(purged.perspective_feedback, 1);
    assert_eq!(app.count("perspective_feedback").await, 0);
}

/// Coral Talk's `services/perspective/perspective.ts`, re-expressed: the bodies it builds for
/// `comments:analyze` (in the toxic-comment phase) and `comments:suggestscore` (when a
/// moderator approves or rejects, with "send feedback" on), sent to `{endpoint}/{operation}`
/// with `?key=`. Coral reads `attributeScores[model].summaryScore.value` and holds the comment
/// when it is above its threshold (`score > threshold`).
fn coral_analyze(text: &str, language: &str) -> Value {
    json!({
        "comment": {"text": text},
        "doNotStore": true,
        "requestedAttributes": {"TOXICITY": {}},
        "languages": [language],
    })
}

fn coral_suggest(text: &str, comment_id: &str, parent: Option<&str>, approved: bool) -> Value {
    let story = "https://www.numerama.com/tech/article-42.html";
    let context = json!({
        "url": format!("{story}?commentID={comment_id}"),
        "reply_to_id_Coral_comment_id": parent,
        "Coral_comment_id": comment_id,
    });
    json!({
        "comment": {"text": text},
        "context": {"entries": [{"text": context.to_string()}]},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": if approved { 0 } else { 1 }}}},
        "languages": ["fr"],
        "communityId": "Coral:https://www.numerama.com",
        "clientToken": format!("comment:{comment_id}"),
    })
}

fn eval_rows(file: &str) -> Vec<(String, String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/eval")
        .join(file);
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| {
            let r = r.unwrap();
            (r["text"].clone(), r["label"].clone(), r["lang"].clone())
        })
        .collect()
}

async fn corals_own_request_bodies_get_what_coral_reads(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let key = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    let threshold = RECOMMENDED_THRESHOLD as f64;
    for (text, lang) in [
        ("Espèce de gros connard, ferme ta gueule.", "fr"),
        (
            "Je vais te retrouver et je vais te tuer, je sais où tu habites.",
            "fr",
        ),
        ("Sale bougnoule, retourne dans ton pays.", "fr"),
        ("Fuck you, you worthless piece of shit, nobody cares.", "en"),
    ] {
        let value = toxicity(&app, &key, text, lang).await;
        assert!(value > threshold, "{text}: {value} not above {threshold}");
    }
    // Ordinary news comments (the project's own set, never trained on), as Coral sends them.
    let benign = eval_rows("benign_news_comments.csv");
    let mut above = Vec::new();
    let mut above_070 = 0;
    for (text, _, lang) in &benign {
        let response = post(&app, ANALYZE, &key, &coral_analyze(text, lang)).await;
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        let value = answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
            .as_f64()
            .expect("Coral reads a number");
        assert!((0.0..=1.0).contains(&value));
        if value > threshold {
            above.push((text.clone(), value));
        }
        above_070 += usize::from(value > 0.7);
    }
    // 0 of the 420 at the calibration of `vigie-20261207-1419`, 1 above 0.70 (the same with
    // `vigie-20261207-1202`); 0 with
    // `vigie-20261207-0910`, 2 above 0.70; 0 with
    // `vigie-20261207-0706`, 1 above 0.70 (the same with
    // `vigie-20261207-0208` and `vigie-20261206-2302`); 0 with
    // `vigie-20261206-2140` (2 above 0.70); 2 with
    // `vigie-20261206-1826` (2 above 0.70); 3 with
    // `vigie-20261206-1357` (French comments scored 0.62-0.67 that the French map lifts to
    // 0.81-0.82); 0 with `vigie-20261206-1113`, `-0339` and `vigie-20261205-2125` (README,
    // "Replacing Perspective API").
    eprintln!(
        "ordinary news comments above {threshold}: {} of {} (above 0.70: {above_070})",
        above.len(),
        benign.len()
    );
    assert!(
        above.len() * 100 <= benign.len() * 3,
        "{} of {} benign comments above {threshold}: {above:?}",
        above.len(),
        benign.len()
    );
    // The moderator's decisions, as Coral sends them back.
    for (id, parent, approved) in [("c-100", None, true), ("c-101", Some("c-100"), false)] {
        let response = post(
            &app,
            SUGGEST,
            &key,
            &coral_suggest("Un commentaire modéré dans Coral.", id, parent, approved),
        )
        .await;
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["clientToken"], format!("comment:{id}"));
    }
    let page: Value = app.get("/v1/feedback", &admin).await.json().await.unwrap();
    let reply = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["coral_comment_id"] == "c-101")
        .unwrap_or_else(|| panic!("{page}"));
    assert_eq!(reply["coral_parent_id"], "c-100");
    assert_eq!(reply["label"], 1);
    assert_eq!(reply["community_id"], "Coral:https://www.numerama.com");
    assert_eq!(
        reply["story_url"],
        "https://www.numerama.com/tech/article-42.html?commentID=c-101"
    );
}
