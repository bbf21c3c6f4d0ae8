//! The model registry (issue 17): registering model directories (integrity check, allowed
//! roots), shadow mode and its report, activation and rollback (the verdicts change model, on
//! every replica), the audit entries, roles, and thresholds suggested from human decisions.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    a_checked_model_directory_is_registered_once,
    a_directory_failing_its_check_or_outside_the_roots_is_refused,
    a_shadow_model_scores_beside_the_active_one_and_reports,
    activation_changes_the_model_and_rollback_returns_to_the_previous_one,
    another_replica_scores_with_the_activated_model_within_seconds,
    the_registry_is_for_admins,
    thresholds_are_suggested_from_enough_human_decisions,
    the_cli_registers_activates_and_lists_with_the_same_rules,
);

/// The shipped model's directory.
fn shipped_model() -> PathBuf {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let version = std::fs::read_to_string(models.join("DEFAULT")).unwrap();
    models.join(version.trim())
}

/// A copy of the shipped model under `root/name`; with `version`, its `model.json` names that
/// version (and `thresholds`, when given, replace its recommended ones) and its card, which no
/// longer matches, is left out.
fn model_copy(
    root: &Path,
    name: &str,
    version: Option<&str>,
    thresholds: Option<Value>,
) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(shipped_model()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    if let Some(version) = version {
        let path = dir.join("model.json");
        let mut meta: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        meta["version"] = json!(version);
        if let Some(t) = thresholds {
            meta["thresholds"] = t;
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
        std::fs::remove_file(dir.join("MODEL_CARD.md")).unwrap();
    }
    dir
}

/// The app with `root` as the only directory models may be registered from.
async fn app_with_root(backend: Backend, root: &Path) -> Option<TestApp> {
    let root = root.to_string_lossy().into_owned();
    spawn_app_with(backend, move |s| s.model_roots = vec![root]).await
}

/// An admin, a moderator and an ingest key of one site.
async fn keys(app: &TestApp) -> (String, String, String) {
    (
        app.key("numerama", Role::Admin).await,
        app.key("numerama", Role::Moderator).await,
        app.key("numerama", Role::Ingest).await,
    )
}

async fn register(app: &TestApp, key: &str, dir: &Path) -> reqwest::Response {
    app.post_json("/v1/models", key, &json!({"path": dir.to_string_lossy()}))
        .await
}

async fn post_change(app: &TestApp, key: &str, version: &str, change: &str) -> reqwest::Response {
    app.post_json(&format!("/v1/models/{version}/{change}"), key, &json!({}))
        .await
}

async fn ok_json(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Posts a comment by its own author; the answer.
async fn post_comment(app: &TestApp, key: &str, n: usize, body: &str) -> Value {
    let mut c = comment(&format!("c-{n}"), "article-1", body);
    c["author"]["id"] = json!(format!("u-{n}"));
    c["author"]["email"] = json!(format!("u{n}@example.fr"));
    ok_json(app.post_json("/v1/comments", key, &c).await, 201).await
}

const BENIGN: &str = "Merci pour cet article très clair sur les data centers";

async fn a_checked_model_directory_is_registered_once(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let dir = model_copy(root.path(), "copy", None, None);
    let model = ok_json(register(&app, &admin, &dir).await, 201).await;
    let default_version = std::fs::read_to_string(shipped_model().join("model.json")).unwrap();
    let default_meta: Value = serde_json::from_str(&default_version).unwrap();
    assert_eq!(model["version"], default_meta["version"]);
    assert_eq!(model["status"], "registered");
    assert_eq!(model["weights_sha256"], default_meta["weights_sha256"]);
    assert_eq!(model["registered_by"], "test");
    assert_eq!(
        model["path"],
        std::fs::canonicalize(&dir)
            .unwrap()
            .to_string_lossy()
            .as_ref()
    );

    // the same version again, from another directory: 409, nothing added
    let again = model_copy(root.path(), "again", None, None);
    let p = assert_problem(register(&app, &admin, &again).await, 409, None).await;
    assert!(
        p["detail"].as_str().unwrap().contains("already registered"),
        "{p}"
    );

    let list = ok_json(app.get("/v1/models", &admin).await, 200).await;
    assert_eq!(list["models"].as_array().unwrap().len(), 1);
    assert_eq!(list["active_version"], Value::Null);
    assert_eq!(list["shadow_version"], Value::Null);
    assert_eq!(list["default_version"], default_meta["version"]);
    assert_eq!(list["events"][0]["action"], "register");
    assert_eq!(list["events"][0]["actor"], "test");
    assert_eq!(list["events"][0]["to_version"], default_meta["version"]);

    // another site has its own registry
    let other = app.key("lemonde", Role::Admin).await;
    let list = ok_json(app.get("/v1/models", &other).await, 200).await;
    assert_eq!(list["models"].as_array().unwrap().len(), 0);
    ok_json(register(&app, &other, &again).await, 201).await;
}

async fn a_directory_failing_its_check_or_outside_the_roots_is_refused(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;

    // weights changed after training: their sha256 no longer matches model.json
    let tampered = model_copy(root.path(), "tampered", None, None);
    let weights = tampered.join("weights.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[1000] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let p = assert_problem(register(&app, &admin, &tampered).await, 422, Some("path")).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("integrity") && detail.contains("sha256"),
        "{p}"
    );

    // model.json changed after the card was written: the card's sha256 no longer matches
    let edited = model_copy(root.path(), "edited", None, None);
    let meta = edited.join("model.json");
    let mut text = std::fs::read_to_string(&meta).unwrap();
    text.push('\n');
    std::fs::write(&meta, text).unwrap();
    let p = assert_problem(register(&app, &admin, &edited).await, 422, Some("path")).await;
    assert!(
        p["detail"].as_str().unwrap().contains("MODEL_CARD.md"),
        "{p}"
    );

    // not a model
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let p = assert_problem(register(&app, &admin, &empty).await, 422, Some("path")).await;
    assert!(p["detail"].as_str().unwrap().contains("model.json"), "{p}");

    // a good model, but outside the allowed roots (also through `..`)
    let outside = model_copy(elsewhere.path(), "good", None, None);
    let p = assert_problem(register(&app, &admin, &outside).await, 422, Some("path")).await;
    assert!(p["detail"].as_str().unwrap().contains("model_roots"), "{p}");
    let dotted = root.path().join("..").join(
        outside
            .strip_prefix(elsewhere.path().parent().unwrap())
            .unwrap(),
    );
    assert_problem(register(&app, &admin, &dotted).await, 422, Some("path")).await;

    for path in ["models/x", "/no/such/dir", ""] {
        let r = app
            .post_json("/v1/models", &admin, &json!({ "path": path }))
            .await;
        assert_problem(r, 422, Some("path")).await;
    }
    let r = app
        .post_json("/v1/models", &admin, &json!({"path": 7}))
        .await;
    assert_problem(r, 422, None).await;
    let r = app.post_raw("/v1/models", &admin, "{\"path\": ").await;
    assert_problem(r, 400, None).await;

    assert_eq!(app.count("models").await, 0);
    assert_eq!(app.count("model_events").await, 0);

    for change in ["shadow", "activate", "rollback"] {
        assert_problem(post_change(&app, &admin, "nope-1", change).await, 404, None).await;
    }
    assert_problem(
        app.get("/v1/models/nope-1/shadow-report", &admin).await,
        404,
        None,
    )
    .await;
}

async fn a_shadow_model_scores_beside_the_active_one_and_reports(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let (admin, moderator, submit) = keys(&app).await;
    // holds everything: review from 0
    let holding = json!({"toxicity": {"review": 0.0, "reject": 1.01}, "spam": {"review": 0.0, "reject": 1.01}});
    let dir = model_copy(root.path(), "strict", Some("site-strict-1"), Some(holding));
    ok_json(register(&app, &admin, &dir).await, 201).await;
    let list = ok_json(
        post_change(&app, &admin, "site-strict-1", "shadow").await,
        200,
    )
    .await;
    assert_eq!(list["shadow_version"], "site-strict-1");
    assert_eq!(list["active_version"], Value::Null);
    assert_eq!(list["events"][0]["action"], "shadow");
    assert_eq!(list["events"][0]["from_version"], Value::Null);
    assert_eq!(list["events"][0]["to_version"], "site-strict-1");
    assert_problem(
        post_change(&app, &admin, "site-strict-1", "shadow").await,
        409,
        None,
    )
    .await;

    let mut ids = Vec::new();
    for n in 0..3 {
        let c = post_comment(&app, &submit, n, &format!("{BENIGN} numéro {n}")).await;
        // the active (shipped) model decided, not the shadow
        assert_eq!(c["verdict"]["decision"], "allow", "{c}");
        assert_ne!(c["verdict"]["model_version"], "site-strict-1");
        ids.push(c["id"].as_i64().unwrap());
    }
    assert_eq!(app.count("shadow_scores").await, 3);

    for (id, body) in [
        (ids[0], json!({"action": "approve"})),
        (ids[1], json!({"action": "reject", "reason": "insult"})),
    ] {
        let r = app
            .post_json(&format!("/v1/comments/{id}/decisions"), &moderator, &body)
            .await;
        ok_json(r, 200).await;
    }

    let report = ok_json(
        app.get("/v1/models/site-strict-1/shadow-report", &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(report["status"], "shadow");
    assert_eq!(report["comments_scored"], 3);
    assert_eq!(report["agreement_rate"], 0.0);
    assert_eq!(
        report["changes"],
        json!([{"from": "publish", "to": "hold", "count": 3}])
    );
    let examples = report["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3);
    let labelled: Vec<(i64, Value)> = examples
        .iter()
        .map(|e| (e["comment_id"].as_i64().unwrap(), e["label"].clone()))
        .collect();
    assert!(labelled.contains(&(ids[0], json!("approved"))), "{report}");
    assert!(labelled.contains(&(ids[1], json!("rejected"))), "{report}");
    assert!(labelled.contains(&(ids[2], Value::Null)), "{report}");
    let e = &examples[0];
    assert_eq!(e["active"]["decision"], "publish");
    assert_eq!(e["shadow"]["decision"], "hold");
    assert_eq!(e["shadow"]["model_version"], "site-strict-1");
    assert!(
        !e["shadow"]["reasons"].as_array().unwrap().is_empty(),
        "{e}"
    );
    assert!(
        !e["active"]["reasons"].as_array().unwrap().is_empty(),
        "{e}"
    );
    // two labels: the active model flagged neither, the shadow both
    assert_eq!(
        report["active"],
        json!({"labelled": 2, "precision": null, "recall": 0.0})
    );
    assert_eq!(
        report["shadow"],
        json!({"labelled": 2, "precision": 0.5, "recall": 1.0})
    );
}

async fn activation_changes_the_model_and_rollback_returns_to_the_previous_one(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let submit = app.key("numerama", Role::Ingest).await;
    let default_version =
        ok_json(app.get("/v1/models", &admin).await, 200).await["default_version"].clone();
    let a_thresholds = json!({"toxicity": {"review": 0.41, "reject": 0.91}, "spam": {"review": 0.42, "reject": 0.92}});
    let a = model_copy(
        root.path(),
        "a",
        Some("site-a-1"),
        Some(a_thresholds.clone()),
    );
    let b = model_copy(root.path(), "b", Some("site-b-1"), None);
    ok_json(register(&app, &admin, &a).await, 201).await;
    ok_json(register(&app, &admin, &b).await, 201).await;
    // a shadow model that is then activated stops being the shadow
    ok_json(post_change(&app, &admin, "site-a-1", "shadow").await, 200).await;

    let version_of = |c: &Value| c["verdict"]["model_version"].clone();
    let c = post_comment(&app, &submit, 0, BENIGN).await;
    assert_eq!(version_of(&c), default_version);

    let list = ok_json(post_change(&app, &admin, "site-a-1", "activate").await, 200).await;
    assert_eq!(list["active_version"], "site-a-1");
    assert_eq!(list["shadow_version"], Value::Null);
    assert_problem(
        post_change(&app, &admin, "site-a-1", "activate").await,
        409,
        None,
    )
    .await;
    assert_problem(
        post_change(&app, &admin, "site-a-1", "shadow").await,
        409,
        None,
    )
    .await;
    let c = post_comment(&app, &submit, 1, BENIGN).await;
    assert_eq!(version_of(&c), "site-a-1");
    // the dry run scores with it too
    let v = ok_json(
        app.post_json("/v1/score", &admin, &json!({"body": BENIGN, "lang": "fr"}))
            .await,
        200,
    )
    .await;
    assert_eq!(v["model_version"], "site-a-1");
    // no stored thresholds: the active model's recommended ones apply
    let r = app
        .client
        .put(app.url("/v1/site/thresholds"))
        .bearer_auth(&admin)
        .json(&Value::Null)
        .send()
        .await
        .unwrap();
    let effective = ok_json(r, 200).await;
    assert_eq!(
        effective["toxicity"]["review"].as_f64().unwrap() as f32,
        0.41
    );
    assert_eq!(effective["spam"]["reject"].as_f64().unwrap() as f32, 0.92);

    ok_json(post_change(&app, &admin, "site-b-1", "activate").await, 200).await;
    let c = post_comment(&app, &submit, 2, BENIGN).await;
    assert_eq!(version_of(&c), "site-b-1");
    assert_problem(
        post_change(&app, &admin, "site-a-1", "rollback").await,
        409,
        None,
    )
    .await;

    let list = ok_json(post_change(&app, &admin, "site-b-1", "rollback").await, 200).await;
    assert_eq!(list["active_version"], "site-a-1");
    let c = post_comment(&app, &submit, 3, BENIGN).await;
    assert_eq!(version_of(&c), "site-a-1");

    let list = ok_json(post_change(&app, &admin, "site-a-1", "rollback").await, 200).await;
    assert_eq!(list["active_version"], Value::Null);
    let c = post_comment(&app, &submit, 4, BENIGN).await;
    assert_eq!(version_of(&c), default_version);

    let statuses: Vec<(String, String)> = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("site-b-1".to_owned(), "retired".to_owned()),
            ("site-a-1".to_owned(), "retired".to_owned())
        ]
    );
    // the audit log, newest first: who, what, from → to
    let events: Vec<Value> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["actor"], "test");
            assert!(e["at"].as_str().unwrap().ends_with('Z'));
            json!([e["action"], e["from_version"], e["to_version"]])
        })
        .collect();
    assert_eq!(
        events,
        [
            json!(["rollback", "site-a-1", null]),
            json!(["rollback", "site-b-1", "site-a-1"]),
            json!(["activate", "site-a-1", "site-b-1"]),
            json!(["activate", null, "site-a-1"]),
            json!(["shadow", null, "site-a-1"]),
            json!(["register", null, "site-b-1"]),
            json!(["register", null, "site-a-1"]),
        ]
    );
}

async fn another_replica_scores_with_the_activated_model_within_seconds(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    // a second app on the same database, as another replica would be
    let mut settings = app.state.settings.as_ref().clone();
    settings.listen = "127.0.0.1:0".into();
    let state = tokio::task::spawn_blocking(move || vigie::startup::prepare_state(settings))
        .await
        .unwrap()
        .expect("second app state");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let second = vigie::startup::Application::with_listener(listener, state, 1).unwrap();
    let second_url = format!("http://127.0.0.1:{}", second.port);
    tokio::spawn(second.server);
    let _second_background = second.background;

    let admin = app.key("numerama", Role::Admin).await;
    let submit = app.key("numerama", Role::Ingest).await;
    let post_to_second = |n: usize| {
        let mut c = comment(&format!("r-{n}"), "article-1", BENIGN);
        c["author"]["id"] = json!(format!("r-{n}"));
        let request = app
            .client
            .post(format!("{second_url}/v1/comments"))
            .bearer_auth(&submit)
            .json(&c);
        async move { ok_json(request.send().await.unwrap(), 201).await }
    };
    // the second replica has looked the site's model up (and caches it)
    let c = post_to_second(0).await;
    let default_version = c["verdict"]["model_version"].clone();

    let dir = model_copy(root.path(), "a", Some("site-a-1"), None);
    ok_json(register(&app, &admin, &dir).await, 201).await;
    ok_json(post_change(&app, &admin, "site-a-1", "activate").await, 200).await;
    let activated = Instant::now();
    let mut n = 1;
    loop {
        let c = post_to_second(n).await;
        if c["verdict"]["model_version"] == "site-a-1" {
            break;
        }
        assert_eq!(c["verdict"]["model_version"], default_version);
        assert!(
            activated.elapsed() < vigie::judge::MODELS_RECHECK + Duration::from_secs(5),
            "the second replica still scores with the shipped model"
        );
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_registry_is_for_admins(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let moderator = app.key("numerama", Role::Moderator).await;
    let dir = model_copy(root.path(), "copy", None, None);
    let body = json!({"path": dir.to_string_lossy()});
    let posts = [
        "/v1/models",
        "/v1/models/v-1/shadow",
        "/v1/models/v-1/activate",
        "/v1/models/v-1/rollback",
    ];
    let gets = [
        "/v1/models",
        "/v1/models/v-1/shadow-report",
        "/v1/site/thresholds/suggestion",
    ];
    for path in posts {
        assert_problem(app.post_json(path, &moderator, &body).await, 403, None).await;
        let r = app
            .client
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(r, 401, None).await;
    }
    for path in gets {
        assert_problem(app.get(path, &moderator).await, 403, None).await;
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_problem(r, 401, None).await;
    }
    assert_eq!(app.count("models").await, 0);
}

async fn thresholds_are_suggested_from_enough_human_decisions(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let (admin, moderator, submit) = keys(&app).await;
    const SUGGEST: &str = "/v1/site/thresholds/suggestion";

    for query in [
        "?precision_review=0",
        "?precision_reject=1.5",
        "?precision_review=abc",
    ] {
        let r = app.get(&format!("{SUGGEST}{query}"), &admin).await;
        let status = r.status().as_u16();
        assert!(status == 400 || status == 422, "{query}: {status}");
        assert_problem(r, status, None).await;
    }
    let p = assert_problem(app.get(SUGGEST, &admin).await, 422, Some("labels")).await;
    assert!(
        p["detail"].as_str().unwrap().contains("at least 200"),
        "{p}"
    );

    // 150 approved ordinary comments, 60 rejected insults
    const INSULTS: [&str; 3] = [
        "Espèce de connard, ferme ta gueule",
        "T'es qu'un gros con et un abruti",
        "Sale merde, va te faire foutre",
    ];
    const ORDINARY: [&str; 3] = [
        "Merci pour cet article, très instructif",
        "Je ne suis pas d'accord avec l'auteur sur le coût du cloud",
        "Quelqu'un a des chiffres sur la consommation des data centers ?",
    ];
    let (mut approve, mut reject) = (Vec::new(), Vec::new());
    for n in 0..210 {
        let (text, list) = if n < 60 {
            (INSULTS[n % 3], &mut reject)
        } else {
            (ORDINARY[n % 3], &mut approve)
        };
        let c = post_comment(&app, &submit, n, &format!("{text} ({n})")).await;
        list.push(c["id"].as_i64().unwrap());
    }
    for (ids, action, reason) in [
        (&approve, "approve", None),
        (&reject, "reject", Some("insult")),
    ] {
        let r = app
            .post_json(
                "/v1/decisions/bulk",
                &moderator,
                &json!({"ids": ids, "action": action, "reason": reason}),
            )
            .await;
        let v = ok_json(r, 200).await;
        assert_eq!(v["done"].as_u64().unwrap() as usize, ids.len(), "{v}");
    }

    let s = ok_json(
        app.get(
            &format!("{SUGGEST}?precision_review=0.8&precision_reject=0.95"),
            &admin,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(s["labels"], 210, "{s}");
    assert_eq!(s["approved"], 150);
    assert_eq!(s["rejected"], 60);
    assert_eq!(s["labels_other_models"], 0);
    assert_eq!(s["toxicity"]["rejected"], 60);
    let review = &s["toxicity"]["review"];
    assert!(review["precision"].as_f64().unwrap() >= 0.8, "{s}");
    let reject = &s["toxicity"]["reject"];
    assert!(reject["precision"].as_f64().unwrap() >= 0.95, "{s}");
    let t = &s["thresholds"]["toxicity"];
    assert_eq!(t["review"], review["threshold"]);
    assert!(t["review"].as_f64().unwrap() <= t["reject"].as_f64().unwrap());
    // no spam rejections: the spam thresholds stay those in force
    assert_eq!(s["spam"]["rejected"], 0);
    assert!(s["spam"]["kept"].as_str().unwrap().contains("at least 30"));
    let in_force = ok_json(
        app.client
            .put(app.url("/v1/site/thresholds"))
            .bearer_auth(&admin)
            .json(&Value::Null)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(s["thresholds"]["spam"], in_force["spam"]);
    // the suggestion is accepted as it is
    let r = app
        .client
        .put(app.url("/v1/site/thresholds"))
        .bearer_auth(&admin)
        .json(&s["thresholds"])
        .send()
        .await
        .unwrap();
    ok_json(r, 200).await;

    // scored by another model now active: those labels do not count for it
    let dir = model_copy(root.path(), "a", Some("site-a-1"), None);
    ok_json(register(&app, &admin, &dir).await, 201).await;
    ok_json(post_change(&app, &admin, "site-a-1", "activate").await, 200).await;
    let p = assert_problem(app.get(SUGGEST, &admin).await, 422, Some("labels")).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("210 more scored by other models"),
        "{p}"
    );
}

async fn the_cli_registers_activates_and_lists_with_the_same_rules(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    let Some(app) = app_with_root(backend, root.path()).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let database_url = app.state.settings.database_url.clone();
    let roots = format!("[\"{}\"]", root.path().display());
    let vigie = move |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(args)
            .env("VIGIE_DATABASE_URL", &database_url)
            .env("VIGIE_MODEL_ROOTS", &roots)
            .env(
                "VIGIE_MODEL_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
            )
            .env("VIGIE_LOG_LEVEL", "error")
            .env_remove("VIGIE_CONFIG")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let dir = model_copy(root.path(), "a", Some("site-a-1"), None);
    let dir = dir.to_string_lossy().into_owned();
    let (ok, out) = vigie(&["models", "register", "--site", "numerama", &dir]);
    assert!(ok, "{out}");
    assert!(out.contains("site-a-1 registered"), "{out}");
    let (ok, out) = vigie(&["models", "register", "--site", "numerama", &dir]);
    assert!(!ok && out.contains("already registered"), "{out}");
    let outside = tempfile::tempdir().unwrap();
    let elsewhere = model_copy(outside.path(), "b", Some("site-b-1"), None);
    let (ok, out) = vigie(&[
        "models",
        "register",
        "--site",
        "numerama",
        &elsewhere.to_string_lossy(),
    ]);
    assert!(!ok && out.contains("model_roots"), "{out}");
    let (ok, out) = vigie(&["models", "activate", "--site", "numerama", "site-a-1"]);
    assert!(ok && out.contains("site-a-1 active"), "{out}");
    let (ok, out) = vigie(&["models", "rollback", "--site", "numerama", "nope-1"]);
    assert!(!ok && out.contains("no such model version"), "{out}");
    let (ok, out) = vigie(&["models", "list", "--site", "nowhere"]);
    assert!(!ok && out.contains("no site"), "{out}");
    let (ok, out) = vigie(&["models", "list", "--site", "numerama"]);
    assert!(
        ok && out.contains("activate (shipped) → site-a-1 by cli"),
        "{out}"
    );

    let list = ok_json(app.get("/v1/models", &admin).await, 200).await;
    assert_eq!(list["active_version"], "site-a-1");
    assert_eq!(list["events"][0]["actor"], "cli");
}
