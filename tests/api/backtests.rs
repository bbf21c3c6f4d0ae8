//! Backtests: `POST /v1/backtests` re-scores the site's comments of a period with another rule
//! set, thresholds or model, and compares with what happened and with moderators' decisions;
//! `vigie backtest` does the same from the command line.

use std::time::Duration;

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    a_stricter_toxicity_threshold_reports_the_counts_the_stored_scores_give,
    a_rule_set_that_holds_a_word_newly_holds_the_comments_with_it,
    bad_backtests_are_refused_with_the_reason,
    one_backtest_runs_per_site_and_can_be_cancelled,
    a_run_stops_between_batches_once_cancelled,
);

/// Texts from polite to rude, so that their toxicity scores spread.
const TEXTS: [&str; 12] = [
    "Merci pour cet article très clair sur la fibre, j'ai appris plein de choses.",
    "Je ne suis pas d'accord avec la conclusion, mais l'analyse est intéressante.",
    "Article un peu léger, il manque les chiffres de l'Arcep.",
    "Encore un article sponsorisé, vous n'avez honte de rien.",
    "L'auteur n'a visiblement rien compris au sujet, c'est nul.",
    "Quel ramassis de bêtises, franchement c'est pathétique.",
    "T'es vraiment un abruti, retourne à l'école.",
    "Ferme-la, personne ne t'a demandé ton avis, crétin.",
    "Espèce de gros c0nnard, ferme ta gueule",
    "Bande de guignols incompétents, vous êtes des nuls.",
    "La fibre arrive enfin dans mon village, excellente nouvelle.",
    "Ce journaliste est une honte, un vrai imbécile.",
];

/// A site in post-moderation (so that verdicts decide) with its three keys.
async fn site(app: &TestApp) -> (String, String, String) {
    let ingest = app.key("numerama", Role::Ingest).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let admin = app.key("numerama", Role::Admin).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    (ingest, moderator, admin)
}

/// Posts the texts, each by its own author; (id, status at intake) of each.
async fn post_all(app: &TestApp, ingest: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for (i, text) in TEXTS.iter().enumerate() {
        let mut c = comment(&format!("c{i}"), "article-1", text);
        c["author"]["id"] = json!(format!("u-{i}"));
        let r = app.post_json("/v1/comments", ingest, &c).await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        out.push((
            v["id"].as_i64().unwrap(),
            v["status"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

async fn decide(app: &TestApp, key: &str, id: i64, body: Value) {
    let r = app
        .post_json(&format!("/v1/comments/{id}/decisions"), key, &body)
        .await;
    assert_eq!(r.status(), 200, "{body}: {}", r.text().await.unwrap());
}

/// Every comment as stored: what a backtest must never change.
type Snapshot = Vec<(
    i64,
    String,
    String,
    Option<String>,
    Option<f64>,
    String,
    i32,
)>;

async fn snapshot(app: &TestApp) -> (Snapshot, i64) {
    let rows = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::comments as c;
            c::table
                .order(c::id)
                .select((
                    c::id,
                    c::status,
                    c::body,
                    c::verdict,
                    c::score_toxicity,
                    c::updated_at,
                    c::revision,
                ))
                .load::<(
                    i64,
                    String,
                    String,
                    Option<String>,
                    Option<f64>,
                    chrono::NaiveDateTime,
                    i32,
                )>(conn)
                .unwrap()
                .into_iter()
                .map(|(a, b, c, d, e, f, g)| (a, b, c, d, e, f.to_string(), g))
                .collect()
        })
        .await;
    (rows, app.count("decisions").await)
}

/// The stored verdict and scores of comment `id`.
pub(crate) async fn stored(app: &TestApp, id: i64) -> (Value, f32, f32) {
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::comments as c;
        let (verdict, toxicity, spam): (Option<String>, Option<f64>, Option<f64>) = c::table
            .find(id)
            .select((c::verdict, c::score_toxicity, c::score_spam))
            .first(conn)
            .unwrap();
        (
            serde_json::from_str(&verdict.unwrap()).unwrap(),
            toxicity.unwrap() as f32,
            spam.unwrap() as f32,
        )
    })
    .await
}

/// Polls a backtest until it ends; its last state.
pub(crate) async fn wait(app: &TestApp, admin: &str, id: i64) -> Value {
    for _ in 0..600 {
        let r = app.get(&format!("/v1/backtests/{id}"), admin).await;
        assert_eq!(r.status(), 200);
        let job: Value = r.json().await.unwrap();
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("backtest {id} did not end");
}

pub(crate) async fn start(app: &TestApp, admin: &str, body: Value) -> i64 {
    let r = app.post_json("/v1/backtests", admin, &body).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let job: Value = r.json().await.unwrap();
    assert!(matches!(
        job["status"].as_str(),
        Some("queued" | "running" | "done")
    ));
    job["id"].as_i64().unwrap()
}

/// Where a verdict puts a comment in post-moderation.
fn outcome(decision: u8) -> &'static str {
    ["published", "held", "rejected"][decision as usize]
}

fn intake_outcome(status: &str) -> &'static str {
    match status {
        "pending" => "held",
        "rejected" => "rejected",
        _ => "published",
    }
}

/// What a backtest of other thresholds must report for `posted` ((id, status at intake) of
/// comments scored by the model the backtest scores with), from their stored verdicts and
/// scores alone, given moderators' last decisions (`human`: id → rejected).
pub(crate) struct Expected {
    pub comments: usize,
    pub before: [u64; 3],
    pub after: [u64; 3],
    /// Ids whose outcome changes, by their new outcome.
    pub newly: std::collections::HashMap<&'static str, Vec<i64>>,
    /// True positives, false positives, false negatives, true negatives of the change.
    pub confusion: [u64; 4],
    pub labelled: usize,
}

/// [`Expected`] under toxicity and spam thresholds `(review, reject)`.
pub(crate) async fn expected(
    app: &TestApp,
    posted: &[(i64, String)],
    human: &std::collections::HashMap<i64, bool>,
    toxicity: (f32, f32),
    spam: (f32, f32),
) -> Expected {
    const OUTCOMES: [&str; 3] = ["published", "held", "rejected"];
    let slot = |o: &str| OUTCOMES.iter().position(|x| *x == o).unwrap();
    let mut e = Expected {
        comments: posted.len(),
        before: [0; 3],
        after: [0; 3],
        newly: std::collections::HashMap::new(),
        confusion: [0; 4],
        labelled: human.len(),
    };
    for (id, status) in posted {
        let (verdict, tox, sp) = stored(app, *id).await;
        let mut d = 0u8;
        for hit in verdict["rules"].as_array().unwrap() {
            match hit["action"].as_str().unwrap() {
                "block" => d = d.max(2),
                "hold" => d = d.max(1),
                _ => {}
            }
        }
        for (s, (r, j)) in [(tox, toxicity), (sp, spam)] {
            if s >= j {
                d = d.max(2);
            } else if s >= r {
                d = d.max(1);
            }
        }
        let before = intake_outcome(status);
        let after = outcome(d);
        e.before[slot(before)] += 1;
        e.after[slot(after)] += 1;
        if before != after {
            e.newly.entry(after).or_default().push(*id);
        }
        if let Some(rejected) = human.get(id) {
            let cell = match (after != "published", *rejected) {
                (true, true) => 0,
                (true, false) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            e.confusion[cell] += 1;
        }
    }
    e
}

impl Expected {
    /// Asserts that a finished backtest's `result` reports these counts, differences (with
    /// every changed comment among the examples) and agreement with moderators.
    pub(crate) fn assert_matches(&self, result: &Value) {
        let counts = |o: &Value| {
            [
                o["published"].as_u64().unwrap(),
                o["held"].as_u64().unwrap(),
                o["rejected"].as_u64().unwrap(),
            ]
        };
        assert_eq!(result["comments"], self.comments);
        assert_eq!(counts(&result["before"]), self.before, "{result}");
        assert_eq!(counts(&result["after"]), self.after, "{result}");
        for kind in ["held", "published", "rejected"] {
            let mut want = self.newly.get(kind).cloned().unwrap_or_default();
            want.sort_unstable();
            assert_eq!(
                result[format!("newly_{kind}")]["count"],
                want.len(),
                "{kind}"
            );
            let mut got: Vec<i64> = result["examples"][format!("newly_{kind}")]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["comment_id"].as_i64().unwrap())
                .collect();
            got.sort_unstable();
            // at most 50 examples of each kind, the first ones in the period
            assert_eq!(got, want[..want.len().min(50)], "examples of newly {kind}");
        }
        let after = &result["human"]["after"];
        assert_eq!(after["labelled"], self.labelled);
        assert_eq!(
            [
                &after["true_positives"],
                &after["false_positives"],
                &after["false_negatives"],
                &after["true_negatives"]
            ],
            self.confusion.map(|n| json!(n)).each_ref(),
            "{after}"
        );
    }
}

async fn a_stricter_toxicity_threshold_reports_the_counts_the_stored_scores_give(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, moderator, admin) = site(&app).await;
    let posted = post_all(&app, &ingest).await;
    // Moderators reject three comments and approve three.
    let mut human = std::collections::HashMap::new();
    for (k, (id, status)) in posted.iter().enumerate() {
        if status == "rejected" {
            continue;
        }
        let reject = k % 4 == 1 || k % 4 == 2;
        let body = if reject {
            json!({"action": "reject", "reason": if k == 2 { "spam" } else { "insult" }})
        } else {
            json!({"action": "approve"})
        };
        if human.len() < 8 {
            decide(&app, &moderator, *id, body).await;
            human.insert(*id, reject);
        }
    }
    let before_snapshot = snapshot(&app).await;

    // Thresholds chosen between stored scores: about two thirds held, the highest rejected.
    let mut scores = Vec::new();
    for (id, _) in &posted {
        scores.push((*id, stored(&app, *id).await));
    }
    let mut sorted: Vec<f32> = scores.iter().map(|(_, (_, t, _))| *t).collect();
    sorted.sort_by(f32::total_cmp);
    let n = sorted.len();
    let review = (sorted[n / 3] + sorted[n / 3 + 1]) / 2.0;
    let reject = (sorted[n - 2] + sorted[n - 1]) / 2.0;
    let shipped = vigie::scoring::policy::DEFAULT_THRESHOLDS.toxicity.review;
    assert!(
        review < shipped,
        "stricter than the shipped review threshold {shipped}"
    );
    let (spam_review, spam_reject) = (0.30f32, 0.50f32);
    let thresholds = json!({
        "toxicity": {"review": review as f64, "reject": reject as f64},
        "spam": {"review": spam_review as f64, "reject": spam_reject as f64},
    });

    let expected = expected(
        &app,
        &posted,
        &human,
        (review, reject),
        (spam_review, spam_reject),
    )
    .await;
    assert!(
        !expected.newly.get("held").is_none_or(Vec::is_empty),
        "the stricter threshold holds more: {:?}",
        expected.newly
    );

    let id = start(&app, &admin, json!({"thresholds": thresholds.clone()})).await;
    let job = wait(&app, &admin, id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["progress"]["done"], TEXTS.len());
    assert_eq!(job["progress"]["total"], TEXTS.len());
    let result = &job["result"];
    expected.assert_matches(result);
    let example = &result["examples"]["newly_held"][0];
    assert!(example["reasons"][0]
        .as_str()
        .unwrap()
        .contains("toxicity score"));
    assert_eq!(
        result["by_language"]["fr"]["after"]["labelled"],
        human.len()
    );

    // The list shows it, without its result.
    let list: Value = app.get_json("/v1/backtests", &admin).await;
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["items"][0]["status"], "done");
    assert!(list["items"][0]["result"].is_null());

    // The command line gives the same counts.
    let dir = tempfile::tempdir().unwrap();
    let args = ["backtest", "--site", "numerama", "--thresholds"];
    let thresholds = thresholds.to_string();
    let out = app.cli(dir.path(), &[&args[..], &[&thresholds, "--json"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["before"], result["before"]);
    assert_eq!(cli["after"], result["after"]);
    assert_eq!(cli["human"], result["human"]);
    assert!(stderr.contains("backtest: 12/12 comments"), "{stderr}");

    // Nothing was changed.
    assert_eq!(snapshot(&app).await, before_snapshot);
}

async fn a_rule_set_that_holds_a_word_newly_holds_the_comments_with_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, admin) = site(&app).await;
    let posted = post_all(&app, &ingest).await;
    let rules: Value = app.get_json("/v1/site/rules", &admin).await;
    let source = format!(
        "{}\n[[words]]\nid = \"test-hold-fibre\"\nlang = \"fr\"\naction = \"hold\"\n\
         category = \"toxicity\"\nterms = [\"fibre\"]\n",
        rules["source"].as_str().unwrap()
    );
    let with_word: Vec<i64> = posted
        .iter()
        .zip(TEXTS)
        .filter(|((_, status), text)| text.contains("fibre") && status == "published")
        .map(|((id, _), _)| *id)
        .collect();
    assert_eq!(with_word.len(), 2, "{posted:?}");
    let id = start(&app, &admin, json!({"rules": source})).await;
    let job = wait(&app, &admin, id).await;
    assert_eq!(job["status"], "done", "{job}");
    let result = &job["result"];
    assert_eq!(result["changed"], 2, "{result}");
    assert_eq!(result["newly_held"]["count"], 2, "{result}");
    let examples = result["examples"]["newly_held"].as_array().unwrap();
    let mut ids: Vec<i64> = examples
        .iter()
        .map(|e| e["comment_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, with_word);
    for e in examples {
        assert_eq!(e["before"], "published");
        assert_eq!(e["after"], "held");
        assert!(e["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("test-hold-fibre")));
    }

    // The same list as a word-list edit: the API applies it as saving would, with the same
    // result, and records the file it tried.
    let entry =
        json!({"id": "test-hold-fibre", "lang": "fr", "action": "hold", "terms": ["fibre"]});
    let id = start(&app, &admin, json!({"words": {"add": entry}})).await;
    let job = wait(&app, &admin, id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["newly_held"], result["newly_held"], "{job}");
    assert_eq!(job["result"]["after"], result["after"]);
    let tried = job["rules"].as_str().unwrap();
    assert!(tried.contains("id = \"test-hold-fibre\""), "{tried}");
    assert!(vigie::scoring::RuleSet::from_toml(tried, "tried").is_ok());
    // A change of a list the site has not got, an id taken, both forms, neither: refused as
    // saving them would be.
    for (body, status, field) in [
        (
            json!({"words": {"change": "nope", "set": {"action": "block"}}}),
            404,
            None,
        ),
        (
            json!({"words": {"add": {"id": "fr-slur", "action": "hold", "terms": ["x"]}}}),
            409,
            None,
        ),
        (
            json!({"words": {"add": entry}, "rules": source}),
            422,
            Some("words"),
        ),
        (json!({"words": {"change": "fr-slur"}}), 422, Some("words")),
        (
            json!({"words": {"add": {"id": "x", "action": "hold", "terms": ["!!!"]}}}),
            422,
            Some("terms"),
        ),
    ] {
        let r = app.post_json("/v1/backtests", &admin, &body).await;
        assert_problem(r, status, field).await;
    }
    // The site's own rules did not change.
    let now: Value = app.get_json("/v1/site/rules", &admin).await;
    assert_eq!(now["source"], rules["source"]);
}

async fn bad_backtests_are_refused_with_the_reason(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, moderator, admin) = site(&app).await;
    post_all(&app, &ingest).await;
    let bad_toml = "name = \"x\"\n\n[[words]]\nid = \"a\"\naction = \"explode\"\nterms = [\"x\"]\n";
    let reversed = json!({"from": "2026-12-02", "to": "2026-12-01"});
    let inverted = json!({"toxicity": {"review": 0.9, "reject": 0.5}});
    let refused = [
        (json!({"rules": bad_toml}), Some("rules"), "line "),
        (
            json!({"from": "2025-01-01", "to": "2026-06-01"}),
            Some("to"),
            "365 days",
        ),
        (
            json!({"from": "2020-01-01", "to": "2020-01-31"}),
            Some("from"),
            "no comment",
        ),
        (reversed, Some("to"), "before"),
        (
            json!({"model": "vigie-19990101-0000"}),
            Some("model"),
            "no such model",
        ),
        (json!({"model": "../models"}), Some("model"), "letters"),
        (json!({"model": ""}), Some("model"), "letters"),
        (
            json!({"thresholds": inverted}),
            Some("thresholds.toxicity"),
            "review",
        ),
        (
            json!({"thresholds": {"toxicity": 3}}),
            Some("thresholds"),
            "",
        ),
        (
            json!({"thresholds": {"spam": {"review": 0.2, "reject": 1.0100000000000002}}}),
            Some("thresholds.spam"),
            "between 0 and 1",
        ),
        (json!({"surprise": true}), None, ""),
    ];
    for (body, field, detail) in refused {
        let r = app.post_json("/v1/backtests", &admin, &body).await;
        let p = assert_problem(r, 422, field).await;
        assert!(
            p["detail"].as_str().unwrap().contains(detail),
            "{body}: {p}"
        );
    }
    assert_problem(
        app.post_raw("/v1/backtests", &admin, "{\"rules\": ").await,
        400,
        None,
    )
    .await;
    // Roles.
    let r = app
        .client
        .post(app.url("/v1/backtests"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, None).await;
    for key in [&moderator, &ingest] {
        assert_problem(
            app.post_json("/v1/backtests", key, &json!({})).await,
            403,
            None,
        )
        .await;
        assert_problem(app.get("/v1/backtests", key).await, 403, None).await;
    }
    // Unknown ids, and another site's backtest.
    assert_problem(app.get("/v1/backtests/999999", &admin).await, 404, None).await;
    let r = app.delete("/v1/backtests/999999", &admin).await;
    assert_problem(r, 404, None).await;
    let id = start(&app, &admin, json!({})).await;
    wait(&app, &admin, id).await;
    let other = app.key("autre", Role::Admin).await;
    assert_problem(
        app.get(&format!("/v1/backtests/{id}"), &other).await,
        404,
        None,
    )
    .await;
    assert!(app
        .get("/v1/backtests", &other)
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Inserts a backtest row as a running job would leave it, touched `minutes_ago`.
async fn running_row(app: &TestApp, minutes_ago: i64) -> i64 {
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::{backtests as b, sites};
        let site: i64 = sites::table
            .filter(sites::slug.eq("numerama"))
            .select(sites::id)
            .first(conn)
            .unwrap();
        let t = vigie::store::now() - chrono::Duration::minutes(minutes_ago);
        diesel::insert_into(b::table)
            .values((
                b::site_id.eq(site),
                b::params.eq("{}"),
                b::status.eq("running"),
                b::created_by.eq("another replica"),
                b::created_at.eq(t),
                b::updated_at.eq(t),
            ))
            .returning(b::id)
            .get_result(conn)
            .unwrap()
    })
    .await
}

async fn one_backtest_runs_per_site_and_can_be_cancelled(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, admin) = site(&app).await;
    post_all(&app, &ingest).await;
    let running = running_row(&app, 0).await;
    let p = assert_problem(
        app.post_json("/v1/backtests", &admin, &json!({})).await,
        409,
        None,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("already"), "{p}");
    let path = |id: i64| format!("/v1/backtests/{id}");
    let r = app.delete(&path(running), &admin).await;
    assert_eq!(r.status(), 200);
    let job: Value = r.json().await.unwrap();
    assert_eq!(job["status"], "cancelled");
    assert!(job["finished_at"].is_string());
    // Now one may start; once done, it cannot be cancelled.
    let id = start(&app, &admin, json!({})).await;
    assert_eq!(wait(&app, &admin, id).await["status"], "done");
    assert_problem(app.delete(&path(id), &admin).await, 409, None).await;
    // A job its process stopped touching (a crash) does not block the site. The shipped
    // model may be named by its version.
    let stale = running_row(&app, 10).await;
    let version = app.state.judge.model_version().to_owned();
    let id = start(&app, &admin, json!({"model": version})).await;
    assert_eq!(wait(&app, &admin, id).await["status"], "done");
    let job: Value = app
        .get_json(&format!("/v1/backtests/{stale}"), &admin)
        .await;
    assert_eq!(job["status"], "failed");
    assert!(job["error"].as_str().unwrap().contains("interrupted"));
}

async fn a_run_stops_between_batches_once_cancelled(backend: Backend) {
    use vigie::backtest::{self, Change, RunError, Setup};
    use vigie::store;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _, admin) = site(&app).await;
    post_all(&app, &ingest).await;
    let state = app.state.clone();
    let (stopped, batches, job) = tokio::task::spawn_blocking(move || {
        let mut conn = state.pool.get().unwrap();
        let site = store::backtests::site_by_slug(&mut conn, "numerama")
            .unwrap()
            .unwrap();
        let now = store::now();
        let job = store::backtests::create(&mut conn, site.id, "{}", "test", now)
            .unwrap()
            .unwrap();
        assert!(store::backtests::start(&mut conn, job.id, 12).unwrap());
        let change = Change {
            rules: None,
            thresholds: None,
            scorer: std::sync::Arc::new(state.judge.scorer().clone()),
        };
        let period = (
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(1),
        );
        let setup = Setup::new(
            &mut conn,
            &state.judge,
            &site,
            change,
            chrono::Duration::hours(24),
            period,
        )
        .unwrap();
        drop(conn);
        let mut batches = 0;
        let run = backtest::run(&state.pool, &setup, 2, |conn, done| {
            batches += 1;
            if batches == 2 {
                store::backtests::cancel(conn, site.id, job.id)?;
            }
            store::backtests::progress(conn, job.id, done as i64)
        });
        (matches!(run, Err(RunError::Cancelled)), batches, job.id)
    })
    .await
    .unwrap();
    assert!(stopped);
    assert_eq!(
        batches, 2,
        "the run stopped after the batch that saw the cancellation"
    );
    let job: Value = app.get_json(&format!("/v1/backtests/{job}"), &admin).await;
    assert_eq!(job["status"], "cancelled");
    assert_eq!(job["progress"]["done"], 2);
}
