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
    a_model_archive_is_unpacked_checked_and_registered_once,
    a_model_archive_failing_its_check_leaves_nothing_behind,
    a_model_archive_holding_anything_but_a_models_files_is_refused,
    a_model_archive_needs_an_admin_a_known_media_type_and_a_bounded_size,
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

pub(crate) async fn post_change(
    app: &TestApp,
    key: &str,
    version: &str,
    change: &str,
) -> reqwest::Response {
    app.post_json(&format!("/v1/models/{version}/{change}"), key, &json!({}))
        .await
}

pub(crate) async fn ok_json(r: reqwest::Response, status: u16) -> Value {
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

    // the author's export shows what the shadow model said; erasure deletes it (its reasons
    // quote the text)
    let export = ok_json(app.get("/v1/authors/u-2/export", &admin).await, 200).await;
    let shadow = &export["comments"][0]["shadow_verdicts"];
    assert_eq!(shadow.as_array().unwrap().len(), 1, "{export}");
    assert_eq!(shadow[0]["model_version"], "site-strict-1");
    assert_eq!(shadow[0]["decision"], "review");
    assert!(
        !shadow[0]["reasons"].as_array().unwrap().is_empty(),
        "{shadow}"
    );
    let r = app
        .post_json("/v1/authors/u-2/erase", &admin, &json!({}))
        .await;
    let erased = ok_json(r, 200).await;
    assert_eq!(erased["erased"]["shadow_verdicts"], 1, "{erased}");
    assert_eq!(app.count("shadow_scores").await, 2);
    let report = ok_json(
        app.get("/v1/models/site-strict-1/shadow-report", &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(report["comments_scored"], 2);
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

// ---------------------------------------------------------------------------------------------
// Model archives: `POST /v1/models` with a tar(.gz) of a model directory

/// A tar archive of `dir`'s files (gzip-compressed when `gzip`): in directory `top` when given
/// (as `tar czf m.tgz -C parent top` makes it), else at the top as `./name`.
fn archive_of(dir: &Path, top: Option<&str>, gzip: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    if let Some(top) = top {
        builder.append_dir(top, dir).unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let inside = match top {
            Some(top) => format!("{top}/{name}"),
            None => format!("./{name}"),
        };
        builder
            .append_path_with_name(dir.join(&name), inside)
            .unwrap();
    }
    let tar = builder.into_inner().unwrap();
    if gzip {
        gzipped(&tar)
    } else {
        tar
    }
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A tar entry written as is: `name` (and `link`) straight into the header, past the checks
/// `tar::Builder` makes on paths, as a hostile archive would be.
fn raw_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    link: &str,
    data: &[u8],
) {
    let mut header = tar::Header::new_old();
    let old = header.as_old_mut();
    old.name[..name.len()].copy_from_slice(name.as_bytes());
    old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_entry_type(kind);
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

/// A gzip-compressed archive of the model files in `dir` (written as `prefix` + name) with the
/// raw entries `extra` after them: `(name, kind, link, data)`.
fn archive_with(
    dir: &Path,
    prefix: &str,
    extra: &[(&str, tar::EntryType, &str, &[u8])],
) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for name in ["model.json", "weights.bin"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        raw_entry(
            &mut builder,
            &format!("{prefix}{name}"),
            tar::EntryType::Regular,
            "",
            &bytes,
        );
    }
    for (name, kind, link, data) in extra {
        raw_entry(&mut builder, name, *kind, link, data);
    }
    gzipped(&builder.into_inner().unwrap())
}

async fn post_archive(
    app: &TestApp,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url("/v1/models"))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Every file under `dir`, at any depth (directories left out), sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.symlink_metadata().unwrap().is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A temporary directory holding `root`, the only directory models may be registered from
/// (and unpacked into), and `src`, where the test writes its models: what an archive could
/// write outside `root` would show in the temporary directory.
struct ArchiveDirs {
    tmp: tempfile::TempDir,
    root: PathBuf,
    src: PathBuf,
}

fn archive_dirs() -> ArchiveDirs {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&src).unwrap();
    ArchiveDirs { tmp, root, src }
}

async fn a_model_archive_is_unpacked_checked_and_registered_once(backend: Backend) {
    let dirs = archive_dirs();
    let Some(app) = app_with_root(backend, &dirs.root).await else {
        return;
    };
    let (admin, _, submit) = keys(&app).await;
    let model = model_copy(&dirs.src, "site-arch-1", Some("site-arch-1"), None);
    let archive = archive_of(&model, Some("site-arch-1"), true);

    let registered = ok_json(
        post_archive(&app, &admin, "application/gzip", archive.clone()).await,
        201,
    )
    .await;
    assert_eq!(registered["version"], "site-arch-1");
    assert_eq!(registered["status"], "registered");
    assert_eq!(registered["registered_by"], "test");
    let unpacked = PathBuf::from(registered["path"].as_str().unwrap());
    let uploaded = std::fs::canonicalize(&dirs.root).unwrap().join("uploaded");
    assert!(unpacked.starts_with(&uploaded), "{registered}");
    assert!(unpacked.ends_with("site-arch-1"), "{registered}");
    for name in [
        "model.json",
        "weights.bin",
        "validation.json",
        "perspective_calibration.json",
    ] {
        assert_eq!(
            std::fs::read(unpacked.join(name)).unwrap(),
            std::fs::read(model.join(name)).unwrap(),
            "{name}"
        );
    }
    let list = ok_json(app.get("/v1/models", &admin).await, 200).await;
    assert_eq!(list["events"][0]["action"], "register");
    assert_eq!(list["events"][0]["to_version"], "site-arch-1");

    // it scores once activated
    ok_json(
        post_change(&app, &admin, "site-arch-1", "activate").await,
        200,
    )
    .await;
    let c = post_comment(&app, &submit, 0, BENIGN).await;
    assert_eq!(c["verdict"]["model_version"], "site-arch-1", "{c}");

    // the same archive again: 409, and no directory more
    let on_disk = files_under(&dirs.root);
    let p = assert_problem(
        post_archive(&app, &admin, "application/x-gzip", archive).await,
        409,
        None,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("already registered"),
        "{p}"
    );
    assert_eq!(files_under(&dirs.root), on_disk);
    assert_eq!(
        std::fs::read_dir(unpacked.parent().unwrap())
            .unwrap()
            .count(),
        1,
        "a directory was left beside the model"
    );

    // a plain tar of the shipped model (its card checked too), its files at the top
    let shipped = model_copy(&dirs.src, "shipped", None, None);
    let r = post_archive(
        &app,
        &admin,
        "application/x-tar",
        archive_of(&shipped, None, false),
    )
    .await;
    let registered = ok_json(r, 201).await;
    let meta: Value =
        serde_json::from_slice(&std::fs::read(shipped_model().join("model.json")).unwrap())
            .unwrap();
    assert_eq!(registered["version"], meta["version"]);
    let unpacked = PathBuf::from(registered["path"].as_str().unwrap());
    assert!(unpacked.join("MODEL_CARD.md").is_file());
    assert_eq!(app.count("models").await, 2);
}

async fn a_model_archive_failing_its_check_leaves_nothing_behind(backend: Backend) {
    let dirs = archive_dirs();
    let Some(app) = app_with_root(backend, &dirs.root).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;

    // weights changed after training: their sha256 no longer matches model.json
    let tampered = model_copy(&dirs.src, "tampered", Some("site-bad-1"), None);
    let weights = tampered.join("weights.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[1000] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let r = post_archive(
        &app,
        &admin,
        "application/gzip",
        archive_of(&tampered, Some("t"), true),
    )
    .await;
    let p = assert_problem(r, 422, Some("archive")).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("integrity") && detail.contains("sha256"),
        "{p}"
    );
    assert!(
        !detail.contains(".unpacking-"),
        "the reason names a temporary path: {p}"
    );

    // model.json changed after the card was written
    let edited = model_copy(&dirs.src, "edited", None, None);
    let mut text = std::fs::read_to_string(edited.join("model.json")).unwrap();
    text.push('\n');
    std::fs::write(edited.join("model.json"), text).unwrap();
    let r = post_archive(
        &app,
        &admin,
        "application/gzip",
        archive_of(&edited, None, true),
    )
    .await;
    let p = assert_problem(r, 422, Some("archive")).await;
    assert!(
        p["detail"].as_str().unwrap().contains("MODEL_CARD.md"),
        "{p}"
    );

    // no model.json
    let good = model_copy(&dirs.src, "good", Some("site-good-1"), None);
    let minimal = archive_with(&good, "", &[]);
    let mut builder = tar::Builder::new(Vec::new());
    let w = std::fs::read(good.join("weights.bin")).unwrap();
    raw_entry(&mut builder, "weights.bin", tar::EntryType::Regular, "", &w);
    let r = post_archive(
        &app,
        &admin,
        "application/gzip",
        gzipped(&builder.into_inner().unwrap()),
    )
    .await;
    let p = assert_problem(r, 422, Some("archive")).await;
    assert!(
        p["detail"].as_str().unwrap().contains("no model.json"),
        "{p}"
    );

    // not an archive: random bytes, a gzip stream of them, nothing, half an archive
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut magic = vec![0x1f, 0x8b];
    magic.extend_from_slice(&random);
    let half = minimal[..minimal.len() / 2].to_vec();
    for (content_type, body) in [
        ("application/gzip", random.clone()),
        ("application/x-tar", random.clone()),
        ("application/gzip", magic),
        ("application/gzip", gzipped(&random)),
        ("application/gzip", Vec::new()),
        ("application/gzip", half),
    ] {
        let r = post_archive(&app, &admin, content_type, body).await;
        let status = r.status().as_u16();
        assert!(status == 422 || status == 400, "{content_type}: {status}");
        assert_problem(r, status, None).await;
    }

    assert!(files_under(dirs.tmp.path())
        .iter()
        .all(|f| f.starts_with(&dirs.src)));
    assert_eq!(app.count("models").await, 0);
    assert_eq!(app.count("model_events").await, 0);
    // the good model still registers afterwards
    ok_json(
        post_archive(&app, &admin, "application/gzip", minimal).await,
        201,
    )
    .await;
}

async fn a_model_archive_holding_anything_but_a_models_files_is_refused(backend: Backend) {
    use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};
    let dirs = archive_dirs();
    let Some(app) = app_with_root(backend, &dirs.root).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let good = model_copy(&dirs.src, "good", Some("site-good-1"), None);
    let hello: &[u8] = b"hello";
    let outside = dirs.tmp.path().join("evil");
    let outside = outside.to_string_lossy().into_owned();
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, tar::EntryType, &'a str, &'a [u8])>,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        ("", vec![("../evil", Regular, "", hello)], "`..`"),
        ("", vec![("../../../evil", Regular, "", hello)], "`..`"),
        ("m/", vec![("m/../../evil", Regular, "", hello)], "`..`"),
        ("", vec![(&outside, Regular, "", hello)], "absolute"),
        (
            "",
            vec![("validation.json", Symlink, "/etc/passwd", b"")],
            "symbolic link",
        ),
        ("", vec![("evil", Symlink, "..", b"")], "symbolic link"),
        (
            "",
            vec![("validation.json", Link, "model.json", b"")],
            "hard link",
        ),
        ("", vec![("MODEL_CARD.md", Char, "", b"")], "device"),
        ("", vec![("MODEL_CARD.md", Block, "", b"")], "device"),
        ("", vec![("MODEL_CARD.md", Fifo, "", b"")], "FIFO"),
        ("m/", vec![("m/sub/", Directory, "", b"")], "nested"),
        (
            "m/",
            vec![("m/sub/validation.json", Regular, "", hello)],
            "nested",
        ),
        (
            "m/",
            vec![("n/validation.json", Regular, "", hello)],
            "one directory",
        ),
        (
            "m/",
            vec![("validation.json", Regular, "", hello)],
            "one directory",
        ),
        ("", vec![("n/", Directory, "", b"")], "one directory"),
        ("", vec![("model.json", Regular, "", hello)], "twice"),
        (
            "",
            vec![("notes.txt", Regular, "", hello)],
            "not a model's file",
        ),
        (
            "",
            vec![(".model.json", Regular, "", hello)],
            "not a model's file",
        ),
    ];
    for (prefix, extra, cue) in cases {
        let r = post_archive(
            &app,
            &admin,
            "application/gzip",
            archive_with(&good, prefix, &extra),
        )
        .await;
        let p = assert_problem(r, 422, Some("archive")).await;
        assert!(
            p["detail"].as_str().unwrap().contains(cue),
            "{extra:?}: {p}"
        );
    }

    // a file claiming more than the unpacked limit (its bytes are never read)
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_path("weights.bin").unwrap();
    header.set_size(vigie::routes::models::MAX_MODEL_UNPACKED_BYTES + 1);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &[][..]).unwrap();
    let r = post_archive(
        &app,
        &admin,
        "application/gzip",
        gzipped(&builder.into_inner().unwrap()),
    )
    .await;
    let p = assert_problem(r, 422, Some("archive")).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("unpacks to more than"),
        "{p}"
    );

    // a bomb: a small gzip stream of more zeros than the limit
    let zeros = vec![0u8; (vigie::routes::models::MAX_MODEL_UNPACKED_BYTES + (2 << 20)) as usize];
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_path("weights.bin").unwrap();
    header.set_size(zeros.len() as u64);
    header.set_cksum();
    builder.append(&header, &zeros[..]).unwrap();
    let bomb = gzipped(&builder.into_inner().unwrap());
    assert!(bomb.len() < vigie::routes::models::MAX_MODEL_ARCHIVE_BYTES);
    let r = post_archive(&app, &admin, "application/gzip", bomb).await;
    let p = assert_problem(r, 422, Some("archive")).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("unpacks to more than"),
        "{p}"
    );

    // nothing written, in the root or beside it
    assert!(files_under(dirs.tmp.path())
        .iter()
        .all(|f| f.starts_with(&dirs.src)));
    assert!(!Path::new(&outside).exists());
    assert_eq!(app.count("models").await, 0);
    // the same files without the extra entry register
    let r = post_archive(
        &app,
        &admin,
        "application/gzip",
        archive_with(&good, "m/", &[]),
    )
    .await;
    ok_json(r, 201).await;
}

async fn a_model_archive_needs_an_admin_a_known_media_type_and_a_bounded_size(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use vigie::routes::models::MAX_MODEL_ARCHIVE_BYTES;
    let dirs = archive_dirs();
    let Some(app) = app_with_root(backend, &dirs.root).await else {
        return;
    };
    let (admin, moderator, _) = keys(&app).await;
    let model = model_copy(&dirs.src, "a", Some("site-a-1"), None);
    let archive = archive_of(&model, Some("a"), true);

    assert_problem(
        post_archive(&app, &moderator, "application/gzip", archive.clone()).await,
        403,
        None,
    )
    .await;
    let r = app
        .client
        .post(app.url("/v1/models"))
        .header("content-type", "application/gzip")
        .body(archive.clone())
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, None).await;
    for content_type in ["text/plain", "application/octet-stream", "application/zip"] {
        let r = post_archive(&app, &admin, content_type, archive.clone()).await;
        assert_problem(r, 415, None).await;
    }
    let r = app
        .client
        .post(app.url("/v1/models"))
        .bearer_auth(&admin)
        .body(archive.clone())
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, None).await;

    // over the limit, sent in chunks (no Content-Length)
    let chunk = vec![7u8; 256 * 1024];
    let chunks = MAX_MODEL_ARCHIVE_BYTES / chunk.len() + 1;
    let stream = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let r = app
        .client
        .post(app.url("/v1/models"))
        .bearer_auth(&admin)
        .header("content-type", "application/gzip")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_problem(r, 413, None).await;

    let address = app.address.trim_start_matches("http://").to_owned();
    let head = |len: usize, extra: &str| {
        format!(
            "POST /v1/models HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {admin}\r\n\
             Content-Type: application/gzip\r\nContent-Length: {len}\r\n{extra}\r\n"
        )
    };
    let wait = Duration::from_secs(60);
    // over the limit by its Content-Length, with or without `Expect: 100-continue`: answered
    // before the body is sent
    for extra in ["", "Expect: 100-continue\r\n"] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(head(MAX_MODEL_ARCHIVE_BYTES + 1, extra).as_bytes())
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(wait, stream.read_to_end(&mut answer))
            .await
            .expect("no answer without the body")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413 "), "{extra}: {answer}");
        assert!(answer.contains("payload-too-large"), "{answer}");
    }
    // an archive over `max_request_bytes` (64 KiB) but within its own limit is continued
    assert!(archive.len() > app.state.settings.max_request_bytes);
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(head(archive.len(), "Expect: 100-continue\r\n").as_bytes())
        .await
        .unwrap();
    let mut interim = [0u8; 25];
    tokio::time::timeout(wait, stream.read_exact(&mut interim))
        .await
        .expect("no 100 Continue")
        .unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(&archive).await.unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(wait, stream.read_exact(&mut answer))
        .await
        .expect("no answer after the body")
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 201");
    assert_eq!(app.count("models").await, 1);

    // the document states both bodies and the archive's problems
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/v1/models"]["post"];
    let content = &op["requestBody"]["content"];
    assert!(content["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .ends_with("/ModelRegistration"));
    for media_type in [
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
    ] {
        assert!(content[media_type]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .ends_with("/ModelArchive"));
    }
    assert_eq!(
        doc["components"]["schemas"]["ModelArchive"]["format"],
        "binary"
    );
    for status in ["413", "415"] {
        assert!(op["responses"][status]["description"]
            .as_str()
            .unwrap()
            .contains("archive"));
    }
}
