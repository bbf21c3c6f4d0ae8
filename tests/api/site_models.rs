//! `vigie train --from-decisions`: a site model from the comments a site's moderators decided
//! through the API, trained by the real binary on the real database, then loaded, scored and
//! evaluated like any model.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::backtests::{expected, start, stored, wait};
use crate::helpers::{comment, spawn_app, spawn_app_with, Backend, TestApp};
use crate::models::{ok_json, post_change};

crate::on_both_backends!(
    the_learning_loop_decisions_site_model_shadow_activation_rollback_and_a_backtest,
    a_site_model_from_300_decisions_loads_scores_evaluates_and_compares_with_its_base,
    too_few_labels_an_unknown_site_or_an_existing_directory_are_refused_and_nothing_is_written,
);

const SITE: &str = "forum";

/// Words this site's moderators reject and the base model hardly knows.
const SITE_SLURS: [&str; 6] = [
    "journalope",
    "merdia",
    "collabo du système",
    "presstituée",
    "vendu à la propagande",
    "clown de rédaction",
];
const TOPICS: [&str; 8] = [
    "la fibre à la campagne",
    "le prix des batteries",
    "la 5G en ville",
    "le cloud souverain",
    "les puces RISC-V",
    "la panne de cette nuit",
    "le nouveau téléphone",
    "la sécurité des mots de passe",
];

/// What this site's readers call an author when moderators approve them.
const NEUTRAL: [&str; 6] = [
    "journaliste sérieux",
    "bon pédagogue",
    "expert du sujet",
    "rédacteur précis",
    "passionné",
    "spécialiste reconnu",
];
const FRAMES: [&str; 3] = [
    "Sur {topic}, l'auteur est un {who} (n°{i})",
    "{topic} : encore un papier d'un {who}, n°{i}",
    "Je lis ce papier sur {topic} et franchement c'est un {who}. n°{i}",
];

/// The `i`th comment of the simulated site and whether its moderators rejected it: both kinds
/// share their frames and topics, only the word for the author differs.
fn site_comment(i: usize) -> (String, bool) {
    let rejected = i % 3 == 0;
    let who = if rejected {
        SITE_SLURS[(i / 3) % SITE_SLURS.len()]
    } else {
        NEUTRAL[i % NEUTRAL.len()]
    };
    let body = FRAMES[(i / 2) % FRAMES.len()]
        .replace("{topic}", TOPICS[i % TOPICS.len()])
        .replace("{who}", who)
        .replace("{i}", &i.to_string());
    (body, rejected)
}

/// What [`seed`] did: (id, status at intake) of each comment, and the comments a moderator
/// decided (id → rejected).
type Seeded = (Vec<(i64, String)>, HashMap<i64, bool>);

/// Posts the site's comments `range` and decides each through the API (reject as an insult or
/// approve; a comment rejected at intake that should be is left alone).
async fn seed(app: &TestApp, range: Range<usize>) -> Seeded {
    let ingest = app.key(SITE, Role::Ingest).await;
    let moderator = app.key(SITE, Role::Moderator).await;
    let (mut posted, mut human) = (Vec::new(), HashMap::new());
    for i in range {
        let (body, rejected) = site_comment(i);
        let mut c = comment(&format!("c{i}"), &format!("t{}", i / 25), &body);
        c["author"]["id"] = json!(format!("u{i}"));
        let r = app.post_json("/v1/comments", &ingest, &c).await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        let id = v["id"].as_i64().unwrap();
        let status = v["status"].as_str().unwrap().to_owned();
        let action = match (rejected, status.as_str()) {
            (true, "rejected") => None,
            (true, _) => Some(json!({"action": "reject", "reason": "insult"})),
            (false, "rejected") => Some(json!({"action": "restore"})),
            (false, _) => Some(json!({"action": "approve"})),
        };
        posted.push((id, status));
        let Some(action) = action else {
            continue;
        };
        let r = app
            .post_json(&format!("/v1/comments/{id}/decisions"), &moderator, &action)
            .await;
        assert_eq!(r.status(), 200, "{action}");
        human.insert(id, rejected);
    }
    (posted, human)
}

fn vigie(app: &TestApp, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .current_dir(dir)
        .env_remove("VIGIE_CONFIG")
        .env("VIGIE_DATABASE_URL", &app.state.settings.database_url)
        .env("VIGIE_LOG_FORMAT", "json")
        .env(
            "VIGIE_MODEL_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
        )
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `vigie train --from-decisions` into `out`; asserts success; the stdout.
fn train(app: &TestApp, dir: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--from-decisions",
        "--site",
        SITE,
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = vigie(app, dir, &args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
}

/// Names in `dir` (to see that nothing, not even a temporary directory, was left behind).
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Issue 17's loop from end to end: a site's comments come in through the API and its
/// moderators decide them; `vigie train --from-decisions` builds a site model on the server;
/// it is registered, scores in shadow beside the shipped model, goes live, is rolled back; and
/// a backtest of a stricter threshold reports the counts the stored scores give.
async fn the_learning_loop_decisions_site_model_shadow_activation_rollback_and_a_backtest(
    backend: Backend,
) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("models");
    std::fs::create_dir_all(&root).unwrap();
    let roots = vec![root.to_string_lossy().into_owned()];
    let Some(app) = spawn_app_with(backend, move |s| s.model_roots = roots).await else {
        return;
    };
    let admin = app.key(SITE, Role::Admin).await;
    let ingest = app.key(SITE, Role::Ingest).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    ok_json(r, 200).await;
    let base = ok_json(app.get("/v1/models", &admin).await, 200).await["default_version"]
        .as_str()
        .unwrap()
        .to_owned();

    // the site's comments and its moderators' decisions; a site model trained on them
    let (mut posted, mut human) = seed(&app, 0..300).await;
    let out = root.join("forum-1");
    let stdout = train(&app, tmp.path(), &out, &[]);
    assert!(stdout.contains("site model"), "{stdout}");
    let meta: Value =
        serde_json::from_slice(&std::fs::read(out.join("model.json")).unwrap()).unwrap();
    let version = meta["version"].as_str().unwrap().to_owned();
    assert_ne!(version, base);

    // registered, then in shadow
    let r = app
        .post_json(
            "/v1/models",
            &admin,
            &json!({"path": out.to_string_lossy()}),
        )
        .await;
    let model = ok_json(r, 201).await;
    assert_eq!(model["version"], version.as_str());
    assert_eq!(model["status"], "registered");
    let list = ok_json(post_change(&app, &admin, &version, "shadow").await, 200).await;
    assert_eq!(list["shadow_version"], version.as_str());
    assert_eq!(list["active_version"], Value::Null);

    // sixty more comments: the shipped model decides them, the site model scores beside it
    let (shadowed, shadow_human) = seed(&app, 300..360).await;
    for (id, _) in &shadowed {
        assert_eq!(stored(&app, *id).await.0["model_version"], base.as_str());
    }
    let labelled = shadow_human.len();
    let site_rejected = shadow_human.values().filter(|r| **r).count();
    posted.extend(shadowed);
    human.extend(shadow_human);
    let report = ok_json(
        app.get(&format!("/v1/models/{version}/shadow-report"), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(report["comments_scored"], 60, "{report}");
    assert_eq!(report["active"]["labelled"], labelled, "{report}");
    assert_eq!(report["shadow"]["labelled"], labelled, "{report}");
    let recall = |who: &str| report[who]["recall"].as_f64().unwrap_or(0.0);
    assert!(
        site_rejected > 0 && recall("shadow") > recall("active"),
        "the site model catches more of what the site's moderators reject: {report}"
    );

    // live: the site model decides (the backtest below stops before this)
    let cut = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let list = ok_json(post_change(&app, &admin, &version, "activate").await, 200).await;
    assert_eq!(list["active_version"], version.as_str());
    assert_eq!(list["shadow_version"], Value::Null);
    let (slur, _) = site_comment(360);
    let dry_run = || async {
        let r = app
            .post_json("/v1/score", &admin, &json!({"body": slur, "lang": "fr"}))
            .await;
        ok_json(r, 200).await
    };
    let live = dry_run().await;
    assert_eq!(live["model_version"], version.as_str());
    let post = |i: usize| {
        let mut c = comment(&format!("late-{i}"), "t-late", &site_comment(i).0);
        c["author"]["id"] = json!(format!("late-{i}"));
        let ingest = ingest.clone();
        let app = &app;
        async move { ok_json(app.post_json("/v1/comments", &ingest, &c).await, 201).await }
    };
    assert_eq!(
        post(361).await["verdict"]["model_version"],
        version.as_str()
    );

    // rolled back: the shipped model decides again, and scores the site's word lower
    let list = ok_json(post_change(&app, &admin, &version, "rollback").await, 200).await;
    assert_eq!(list["active_version"], Value::Null);
    let back = dry_run().await;
    assert_eq!(back["model_version"], base.as_str());
    assert!(
        live["scores"]["toxicity"].as_f64().unwrap() > back["scores"]["toxicity"].as_f64().unwrap(),
        "site {live} vs shipped {back}"
    );
    assert_eq!(post(362).await["verdict"]["model_version"], base.as_str());
    let actions: Vec<Value> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions, ["rollback", "activate", "shadow", "register"]);

    // a backtest of a stricter toxicity review threshold on the 360 comments before going live
    let mut scores = Vec::new();
    for (id, _) in &posted {
        scores.push(stored(&app, *id).await.1);
    }
    scores.sort_by(f32::total_cmp);
    let n = scores.len();
    let review = (scores[n * 2 / 3] + scores[n * 2 / 3 + 1]) / 2.0;
    let reject = 0.93f32;
    let shipped = vigie::scoring::policy::DEFAULT_THRESHOLDS.toxicity.review;
    assert!(
        review < shipped,
        "stricter than the shipped {shipped}: {review}"
    );
    let job = start(
        &app,
        &admin,
        json!({
            "thresholds": {
                "toxicity": {"review": review as f64, "reject": reject as f64},
                "spam": {"review": 0.70, "reject": 0.90},
            },
            "to": cut.to_rfc3339(),
        }),
    )
    .await;
    let job = wait(&app, &admin, job).await;
    assert_eq!(job["status"], "done", "{job}");
    let want = expected(&app, &posted, &human, (review, reject), (0.70, 0.90)).await;
    let result = &job["result"];
    want.assert_matches(result);
    let newly_held = want.newly.get("held").cloned().unwrap_or_default();
    assert!(!newly_held.is_empty(), "{result}");
    let rejected_of_them = newly_held
        .iter()
        .filter(|id| human.get(id) == Some(&true))
        .count();
    assert_eq!(
        result["newly_held"]["moderators_rejected"],
        rejected_of_them
    );
}

async fn a_site_model_from_300_decisions_loads_scores_evaluates_and_compares_with_its_base(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    seed(&app, 0..300).await;
    let tmp = tempfile::tempdir().unwrap();
    let out: PathBuf = tmp.path().join("models").join("forum-site");
    let stdout = train(&app, tmp.path(), &out, &[]);
    assert!(stdout.contains("site model"), "{stdout}");
    assert!(stdout.contains("(warm)"), "warm is the default: {stdout}");
    assert_eq!(
        entries(&out),
        [
            "MODEL_CARD.md",
            "model.json",
            "validation.json",
            "weights.bin"
        ]
    );
    assert_eq!(entries(out.parent().unwrap()), ["forum-site"]);

    // the validation: newest 20 % by decision time, base vs site
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("validation.json")).unwrap()).unwrap();
    assert_eq!(report["kind"], "site");
    assert_eq!(report["method"], "warm");
    let labelled = report["labelled"].as_u64().unwrap();
    assert!(labelled >= 290, "{report}");
    assert_eq!(
        report["n_holdout"].as_u64().unwrap(),
        (labelled as f64 * 0.2).round() as u64
    );
    assert!(report["holdout_from"].as_str().unwrap() >= report["first_decision"].as_str().unwrap());
    assert_eq!(report["thresholds_source"], "model");
    let all = report["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slice"] == "all" && c["category"] == "toxicity")
        .unwrap_or_else(|| panic!("{report}"));
    let (base_auc, site_auc) = (
        all["base"]["roc_auc"].as_f64().unwrap(),
        all["site"]["roc_auc"].as_f64().unwrap(),
    );
    assert!(
        site_auc > 0.95 && site_auc >= base_auc,
        "the site's own words are learnt: base {base_auc}, site {site_auc}"
    );
    let slices: Vec<&str> = report["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slice"].as_str().unwrap())
        .collect();
    assert!(
        slices.contains(&"lang fr") && slices.contains(&"reason insult"),
        "{slices:?}"
    );
    let card = std::fs::read_to_string(out.join("MODEL_CARD.md")).unwrap();
    assert!(
        card.contains("## Base vs site model on the holdout"),
        "{card}"
    );
    assert!(card.contains("| slice | category | n | positives | ROC AUC base | ROC AUC site |"));
    assert!(card.contains("| reason insult | toxicity |"), "{card}");
    assert!(card.contains("`weights.bin`"));

    // it loads like any model, and scores the site's words higher than its base does
    let site = vigie::scoring::Scorer::load(&out).unwrap();
    let base = vigie::scoring::Scorer::load(
        &vigie::judge::resolve_model_dir(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models")))
            .unwrap(),
    )
    .unwrap();
    assert!(site.model_version().starts_with(base.model_version()));
    assert!(site.model_version().contains("-forum-"));
    let rules = vigie::scoring::default_rules();
    let gap = |m: &vigie::scoring::Scorer| {
        let tox = |t: &str| m.scores_only(t, Some("fr"), &rules).0.toxicity;
        tox("Encore un article de journalope sur les écrans")
            - tox("Encore un article de journaliste sur les écrans")
    };
    let (s, b) = (gap(&site), gap(&base));
    assert!(s > b + 0.05, "slur minus neutral: site {s} vs base {b}");

    // vigie eval and vigie score accept it unchanged
    let data = tmp.path().join("eval.csv");
    let mut rows = String::from("text,label\n");
    for i in 300..360 {
        let (body, rejected) = site_comment(i);
        rows.push_str(&format!("\"{body}\",{}\n", u8::from(rejected)));
    }
    std::fs::write(&data, rows).unwrap();
    let o = vigie(
        &app,
        tmp.path(),
        &[
            "eval",
            "--model",
            out.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let eval: Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(eval["model_version"], site.model_version());
    assert_eq!(eval["n"], 60);
    assert!(eval["roc_auc"].as_f64().unwrap() > 0.9, "{eval}");
    let o = vigie(
        &app,
        tmp.path(),
        &[
            "score",
            "--model",
            out.to_str().unwrap(),
            "--input",
            data.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 60);

    // the other method writes a model too, with the base's text weights unchanged
    let layer = tmp.path().join("models").join("forum-layer");
    let stdout = train(&app, tmp.path(), &layer, &["--method", "layer"]);
    assert!(stdout.contains("(layer)"), "{stdout}");
    let layer_model = vigie::scoring::Model::load(&layer).unwrap();
    assert_eq!(layer_model.weights, base.model().weights);
    assert_ne!(layer_model.meta.stackers, base.model().meta.stackers);
}

async fn too_few_labels_an_unknown_site_or_an_existing_directory_are_refused_and_nothing_is_written(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site-model");
    let refused = |args: &[&str]| {
        let mut all = vec![
            "train",
            "--from-decisions",
            "--output",
            out.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let o = vigie(&app, tmp.path(), &all);
        assert!(!o.status.success(), "{}", text(&o.stdout));
        assert!(!out.exists(), "nothing is written");
        text(&o.stderr)
    };
    let e = refused(&["--site", "inconnu"]);
    assert!(e.contains("no site `inconnu`"), "{e}");

    app.key(SITE, Role::Ingest).await;
    let e = refused(&["--site", SITE]);
    assert!(e.contains("no labelled comments"), "{e}");

    seed(&app, 0..96).await;
    let e = refused(&["--site", SITE]);
    assert!(
        e.contains("labelled comments (") && e.contains("at least 200 (--min-labels)"),
        "{e}"
    );
    // a lower minimum still needs 30 of each class
    seed_rejections_only(&app).await;
    let e = refused(&["--site", "only-rejections", "--min-labels", "20"]);
    assert!(e.contains("at least 30 rejected and 30 approved"), "{e}");
    assert_eq!(entries(tmp.path()), Vec::<String>::new());

    // with --min-labels 60 the 96 rows are enough; an existing directory is never overwritten
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let o = vigie(
        &app,
        tmp.path(),
        &[
            "train",
            "--from-decisions",
            "--site",
            SITE,
            "--min-labels",
            "60",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("already exists"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(entries(&out), ["keep.txt"]);
    std::fs::remove_dir_all(&out).unwrap();
    let stdout = train(&app, tmp.path(), &out, &["--min-labels", "60"]);
    assert!(stdout.contains("labelled comments"), "{stdout}");
    assert_eq!(entries(tmp.path()), ["site-model"]);
}

/// A second site whose 40 labels are all rejections.
async fn seed_rejections_only(app: &TestApp) {
    let ingest = app.key("only-rejections", Role::Ingest).await;
    let moderator = app.key("only-rejections", Role::Moderator).await;
    for i in 0..40 {
        let mut c = comment(
            &format!("r{i}"),
            "t",
            &format!("Un journalope de plus (n°{i})"),
        );
        c["author"]["id"] = json!(format!("r{i}"));
        let v: Value = app
            .post_json("/v1/comments", &ingest, &c)
            .await
            .json()
            .await
            .unwrap();
        if v["status"] == "rejected" {
            continue;
        }
        let id = v["id"].as_i64().unwrap();
        let r = app
            .post_json(
                &format!("/v1/comments/{id}/decisions"),
                &moderator,
                &json!({"action": "reject", "reason": "insult"}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
}
