use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, Backend, TestApp};

crate::on_both_backends!(
    an_insult_is_held_with_the_rule_and_the_words_that_weighed,
    whole_words_only_connexion_and_calcul_are_not_insults,
    a_site_rule_set_is_versioned_refused_with_its_line_and_applied_at_once,
    thresholds_and_dry_runs_follow_the_site,
    odd_bodies_are_scored_without_failing,
    what_an_author_did_before_weighs_on_the_next_comment,
    languages_vigie_does_not_score_follow_the_sites_policy_and_are_named,
    thresholds_saved_for_another_model_are_flagged_in_the_site,
);

async fn post_mode(app: &TestApp) -> (String, String) {
    let ingest = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    assert_eq!(
        app.patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
            .await
            .status(),
        200
    );
    (ingest, admin)
}

async fn an_insult_is_held_with_the_rule_and_the_words_that_weighed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin) = post_mode(&app).await;
    let body = "Franchement, espèce de c0nn@rd, tu n'y connais rien.";
    let r: Value = app
        .post_json("/v1/comments", &ingest, &comment("c-1", "a-1", body))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(r["status"], "published", "{r}");
    let verdict = &r["verdict"];
    assert_ne!(verdict["decision"], "allow");
    let rules: Vec<&str> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"fr-insult-strong"),
        "leetspeak is folded before matching: {rules:?}"
    );
    let hit = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "fr-insult-strong")
        .unwrap();
    let (s, e) = (
        hit["start"].as_u64().unwrap() as usize,
        hit["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&body[s..e], "c0nn@rd", "spans point into the original text");
    assert!(
        !verdict["reasons"].as_array().unwrap().is_empty(),
        "the verdict says why"
    );
    // The queue files it under the rule.
    let moderator = app.key("numerama", Role::Moderator).await;
    let q: Value = app
        .get("/v1/queues/pending?reason=fr-insult-strong", &moderator)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["items"][0]["comment"]["id"], r["id"]);
    assert!(q["items"][0]["comment"]["score_toxicity"].as_f64().unwrap() > 0.0);
    // A clean comment passes, with its scores.
    let ok: Value = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment(
                "c-2",
                "a-1",
                "Merci pour cet article très clair sur le stockage en ligne.",
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["status"], "published", "{ok}");
    assert!(
        ok["verdict"]["scores"]["toxicity"].as_f64().unwrap()
            < r["verdict"]["scores"]["toxicity"].as_f64().unwrap()
    );
    let t: Value = app
        .get("/v1/transparency", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(t["classifier"]["model_version"].is_string());
    let measured = t["classifier"]["measured_at_thresholds"]
        .as_array()
        .unwrap();
    let fr_reject = measured
        .iter()
        .find(|m| m["category"] == "toxicity" && m["lang"] == "fr" && m["step"] == "reject")
        .expect("French toxicity precision at the reject threshold");
    assert!(
        fr_reject["precision"].as_f64().unwrap() >= 0.95,
        "{fr_reject}"
    );
}

async fn whole_words_only_connexion_and_calcul_are_not_insults(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _) = post_mode(&app).await;
    let body = "La connexion est lente et le calcul du contrat au cul-de-sac de la rue aussi.";
    let r: Value = app
        .post_json("/v1/comments", &ingest, &comment("c-1", "a-1", body))
        .await
        .json()
        .await
        .unwrap();
    let rules: Vec<String> = r["verdict"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(rules.iter().all(|id| !id.contains("insult")), "{rules:?}");
}

async fn a_site_rule_set_is_versioned_refused_with_its_line_and_applied_at_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin) = post_mode(&app).await;
    let default: Value = app
        .get("/v1/site/rules", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(default["version"].is_null());
    assert!(default["rules"].as_u64().unwrap() > 5);
    let bad = "name = \"maison\"\n\n[[regex]]\nid = \"bad\"\naction = \"block\"\ncategory = \"spam\"\npattern = \"(unclosed\"\n";
    let p = assert_problem(
        app.client
            .put(app.url("/v1/site/rules"))
            .bearer_auth(&admin)
            .json(&json!({"source": bad}))
            .send()
            .await
            .unwrap(),
        422,
        Some("source"),
    )
    .await;
    assert!(p["detail"].as_str().unwrap().starts_with("line "), "{p}");
    let unknown = "name = \"maison\"\n[[words]]\nid = \"w\"\naction = \"explode\"\ncategory = \"spam\"\nterms = [\"x\"]\n";
    assert_problem(
        app.client
            .put(app.url("/v1/site/rules"))
            .bearer_auth(&admin)
            .json(&json!({"source": unknown}))
            .send()
            .await
            .unwrap(),
        422,
        Some("source"),
    )
    .await;
    let still: Value = app
        .get("/v1/site/rules", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        still["version"].is_null(),
        "a refused file leaves the rules in force"
    );

    let good = format!("{}\n[[words]]\nid = \"maison-raclette\"\naction = \"block\"\ncategory = \"spam\"\nterms = [\"raclette\"]\n", default["source"].as_str().unwrap().replace("name = \"vigie-default-2026-12\"", "name = \"maison\""));
    let r = app
        .client
        .put(app.url("/v1/site/rules"))
        .bearer_auth(&admin)
        .json(&json!({"source": good}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["version"], 1);
    let c: Value = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("c-1", "a-1", "Qui vient manger une r4clette ce soir ?"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "rejected", "{c}");
    assert!(c["verdict"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["id"] == "maison-raclette"));
    let history: Value = app
        .get(&format!("/v1/comments/{}/history", c["id"]), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["decisions"][0]["source"], "automated");
    assert_eq!(history["decisions"][0]["reason"], "spam");
    let statement: Value = app
        .get(&format!("/v1/comments/{}/statement", c["id"]), &ingest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["automated_detection"], "Yes");
    assert_eq!(statement["automated_decision"], "AUTOMATED_DECISION_FULLY");
    let again = app
        .client
        .put(app.url("/v1/site/rules"))
        .bearer_auth(&admin)
        .json(&json!({"source": default["source"]}))
        .send()
        .await
        .unwrap();
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["version"], 2);
    let c: Value = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("c-2", "a-1", "Une raclette, alors ?"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        c["status"], "published",
        "version 2 no longer blocks it: {c}"
    );
    assert_problem(app.get("/v1/site/rules", &ingest).await, 403, None).await;
}

async fn thresholds_and_dry_runs_follow_the_site(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin) = post_mode(&app).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let text = "Merci pour cet article très clair sur le stockage en ligne.";
    let dry: Value = app
        .post_json("/v1/score", &moderator, &json!({"body": text}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["decision"], "allow");
    // A site that holds everything above a toxicity of zero.
    let strict = json!({"toxicity": {"review": 0.0, "reject": 1.01}, "spam": {"review": 0.0, "reject": 1.01}});
    assert_eq!(
        app.client
            .put(app.url("/v1/site/thresholds"))
            .bearer_auth(&admin)
            .json(&strict)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let dry: Value = app
        .post_json("/v1/score", &moderator, &json!({"body": text}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["decision"], "review");
    let c: Value = app
        .post_json("/v1/comments", &ingest, &comment("c-1", "a-1", text))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "pending");
    assert_eq!(app.count("comments").await, 1, "dry runs store nothing");
    let bad =
        json!({"toxicity": {"review": 0.9, "reject": 0.5}, "spam": {"review": 0.1, "reject": 0.5}});
    assert_problem(
        app.client
            .put(app.url("/v1/site/thresholds"))
            .bearer_auth(&admin)
            .json(&bad)
            .send()
            .await
            .unwrap(),
        422,
        Some("toxicity"),
    )
    .await;
    assert_problem(
        app.client
            .put(app.url("/v1/site/thresholds"))
            .bearer_auth(&moderator)
            .json(&strict)
            .send()
            .await
            .unwrap(),
        403,
        None,
    )
    .await;
    assert_problem(
        app.post_json("/v1/score", &ingest, &json!({"body": text}))
            .await,
        403,
        None,
    )
    .await;
}

async fn odd_bodies_are_scored_without_failing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _) = post_mode(&app).await;
    let bodies = [
        "é".repeat(10_000),
        "😀😡🔥💩".repeat(20),
        "مرحبا بكم في الموقع، هذا تعليق من اليمين إلى اليسار".to_owned(),
        "Mixed Кириллица and Latin with ｆｕｌｌｗｉｄｔｈ".to_owned(),
        "\u{200b}\u{200b}c\u{200b}o\u{200b}n\u{7}\u{1b}[31m".to_owned(),
        ".....".to_owned(),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let r = app
            .post_json(
                "/v1/comments",
                &ingest,
                &comment(&format!("odd-{i}"), "a-1", body),
            )
            .await;
        assert_eq!(r.status(), 201, "body {i}");
        let v: Value = r.json().await.unwrap();
        assert!(v["verdict"]["scores"]["toxicity"].is_number());
    }
}

/// Posts as `author` in post mode; the comment's answer.
async fn post_as(app: &TestApp, key: &str, id: &str, author: &str, body: &str) -> Value {
    let mut c = comment(id, "t-history", body);
    c["author"]["id"] = json!(author);
    let r = app.post_json("/v1/comments", key, &c).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

fn rule_ids(c: &Value) -> Vec<String> {
    c["verdict"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn what_an_author_did_before_weighs_on_the_next_comment(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, _) = post_mode(&app).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let decide = |id: i64, body: Value| {
        let moderator = moderator.clone();
        let app = &app;
        async move {
            let r = app
                .post_json(&format!("/v1/comments/{id}/decisions"), &moderator, &body)
                .await;
            assert_eq!(r.status(), 200);
        }
    };
    let text = "Bonjour, article intéressant sur la fibre à la campagne.";

    // A first comment: a new author (default rule: evidence only).
    let first = post_as(&app, &ingest, "h-1", "u-claire", text).await;
    assert!(rule_ids(&first).contains(&"author-new".into()), "{first}");
    assert!(!rule_ids(&first).contains(&"repeated-post".into()));
    // The same text again by the same author, within the window: held as a repeat.
    let again = post_as(&app, &ingest, "h-2", "u-claire", text).await;
    assert!(
        rule_ids(&again).contains(&"repeated-post".into()),
        "{again}"
    );
    assert_eq!(again["status"], "pending");
    // The same text by someone else is not a repeat.
    let other = post_as(&app, &ingest, "h-3", "u-marc", text).await;
    assert!(
        !rule_ids(&other).contains(&"repeated-post".into()),
        "{other}"
    );

    // Once one of hers is approved, she is no longer new.
    decide(first["id"].as_i64().unwrap(), json!({"action": "approve"})).await;
    let later = post_as(&app, &ingest, "h-4", "u-claire", "Et la 5G, alors ?").await;
    assert!(!rule_ids(&later).contains(&"author-new".into()), "{later}");

    // Three recent rejections hold the author's next comment.
    for n in 0..3 {
        let c = post_as(
            &app,
            &ingest,
            &format!("r-{n}"),
            "u-troll",
            &format!("Message {n}"),
        )
        .await;
        decide(
            c["id"].as_i64().unwrap(),
            json!({"action": "reject", "reason": "spam"}),
        )
        .await;
    }
    let next = post_as(&app, &ingest, "r-3", "u-troll", "Encore moi.").await;
    assert!(
        rule_ids(&next).contains(&"author-rejections".into()),
        "{next}"
    );
    assert_eq!(next["status"], "pending");
}

/// `POST /v1/comments`, the answer's JSON.
async fn intake(app: &TestApp, key: &str, comment: &Value) -> Value {
    app.post_json("/v1/comments", key, comment)
        .await
        .json()
        .await
        .unwrap()
}

/// A comment without `lang`: Vigie detects it.
fn detected(id: &str, thread: &str, body: &str) -> Value {
    let mut c = comment(id, thread, body);
    c.as_object_mut().unwrap().remove("lang");
    c
}

async fn languages_vigie_does_not_score_follow_the_sites_policy_and_are_named(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (ingest, admin) = post_mode(&app).await;
    let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
    assert_eq!(site["unscored_language"], "review", "{site}");

    // Detected: German incitement is not scored, so it is held, and the verdict says why.
    let german = "Man sollte diese Politiker alle aufhängen, das ist die einzige Lösung.";
    let r = intake(&app, &ingest, &detected("c-de", "a-1", german)).await;
    assert_eq!(r["status"], "pending", "{r}");
    assert_eq!(r["verdict"]["language"], "de", "{r}");
    assert_eq!(r["verdict"]["decision"], "review");
    let reasons = r["verdict"]["reasons"].to_string();
    assert!(reasons.contains("language de is not scored"), "{reasons}");

    // French and English are scored as before: a clean French comment is published.
    let fr = "Je ne suis pas d'accord avec cet article, mais il est bien écrit.";
    let r = intake(&app, &ingest, &detected("c-fr", "a-1", fr)).await;
    assert_eq!(r["status"], "published", "{r}");
    assert_eq!(r["verdict"]["language"], "fr");

    // The client's language is used as given, even where detection would say otherwise.
    let mut given = comment(
        "c-given",
        "a-2",
        "Un texte tout à fait ordinaire sur le cloud.",
    );
    given["lang"] = json!("es");
    let r = intake(&app, &ingest, &given).await;
    assert_eq!(r["verdict"]["language"], "es", "{r}");
    assert_eq!(r["status"], "pending", "{r}");
    let mut given = comment(
        "c-given-fr",
        "a-2",
        "Ein ganz normaler Text über die Cloud.",
    );
    given["lang"] = json!("fr-CA");
    let r = intake(&app, &ingest, &given).await;
    assert_eq!(r["verdict"]["language"], "fr", "{r}");

    // `allow`: the rules alone decide; `reject`: rejected with the language as the reason.
    let r = app
        .patch_json("/v1/site", &admin, &json!({"unscored_language": "allow"}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["unscored_language"],
        "allow"
    );
    let spanish = "No estoy de acuerdo con este artículo, es muy malo y sin fuentes.";
    let r = intake(&app, &ingest, &detected("c-es", "a-3", spanish)).await;
    assert_eq!(r["verdict"]["language"], "es", "{r}");
    assert_eq!(r["status"], "published", "{r}");
    let r = app
        .patch_json("/v1/site", &admin, &json!({"unscored_language": "reject"}))
        .await;
    assert_eq!(r.status(), 200);
    let arabic = "لا أتفق مع هذا المقال على الإطلاق، إنه سيئ جدا";
    let r = intake(&app, &ingest, &detected("c-ar", "a-4", arabic)).await;
    assert_eq!(r["verdict"]["language"], "ar", "{r}");
    assert_eq!(r["status"], "rejected", "{r}");

    // The dry run follows the same policy.
    let moderator = app.key("numerama", Role::Moderator).await;
    let v: Value = app
        .post_json("/v1/score", &moderator, &json!({"body": german}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["language"], "de");
    assert_eq!(v["decision"], "reject", "{v}");

    // Bad values are refused with the field.
    let r = app
        .patch_json("/v1/site", &admin, &json!({"unscored_language": "maybe"}))
        .await;
    assert_problem(r, 422, Some("unscored_language")).await;
}

/// Language identification measured on the project's own evaluation sets (`tests/eval/lang_id*.csv`,
/// never used to build anything): the table printed, and floors. Issue 15's target is 95 % in
/// all and for each language; since 2026-12-06 every set reaches it in all (`lang_id_blind5.csv`,
/// written before that day's change and scored once after it, 95.6 %; `lang_id_blind6.csv`,
/// written after it, 98.1 %; `lang_id_blind7.csv`, written after it by someone else, 97.2 %,
/// every language 97 %), not in each language everywhere (German and Dutch 92.5 and 90.0 % on
/// the fifth set, Italian and Portuguese 92.5 % on the fourth): the floors only guard what was
/// measured.
#[test]
fn languages_are_told_apart_on_short_comments() {
    use std::collections::BTreeMap;
    use vigie::scoring::{lang, normalise};
    for (name, all_floor, lang_floor) in [
        ("lang_id.csv", 0.95, 0.90),
        ("lang_id_blind2.csv", 0.95, 0.90),
        ("lang_id_blind3.csv", 0.95, 0.90),
        ("lang_id_blind4.csv", 0.95, 0.90),
        ("lang_id_blind5.csv", 0.95, 0.85),
        ("lang_id_blind6.csv", 0.95, 0.90),
        ("lang_id_blind7.csv", 0.95, 0.95),
    ] {
        let path = format!("{}/tests/eval/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut reader = csv::Reader::from_path(path).unwrap();
        let mut per_lang: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for row in reader.deserialize::<BTreeMap<String, String>>() {
            let row = row.unwrap();
            let (text, want) = (&row["text"], &row["lang"]);
            if text.chars().count() < 20 {
                continue;
            }
            let got = lang::detect(&normalise::normalise(text), text);
            let e = per_lang.entry(want.clone()).or_default();
            e.0 += u32::from(got == want);
            e.1 += 1;
        }
        let (ok, n) = per_lang
            .values()
            .fold((0, 0), |(a, b), (o, t)| (a + o, b + t));
        println!("{name}");
        for (l, (o, t)) in &per_lang {
            println!("{l}: {o}/{t} = {:.3}", f64::from(*o) / f64::from(*t));
        }
        println!("all: {ok}/{n} = {:.3}", f64::from(ok) / f64::from(n));
        assert_eq!(per_lang.len(), 8, "{name}: {per_lang:?}");
        assert!(
            f64::from(ok) / f64::from(n) >= all_floor,
            "{name}: {per_lang:?}"
        );
        for (l, (o, t)) in &per_lang {
            assert!(
                f64::from(*o) / f64::from(*t) >= lang_floor,
                "{name}: {l}: {o}/{t}"
            );
        }
    }
}

async fn thresholds_saved_for_another_model_are_flagged_in_the_site(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
    assert_eq!(site["thresholds"], Value::Null, "{site}");
    assert_eq!(
        site["thresholds_outdated"], false,
        "the model's own are never outdated"
    );
    let mine = json!({"toxicity": {"review": 0.4, "reject": 0.9}, "spam": {"review": 0.5, "reject": 0.95}});
    let put = |body: Value| {
        app.client
            .put(app.url("/v1/site/thresholds"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    assert_eq!(put(mine.clone()).await.unwrap().status(), 200);
    let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
    let model = app.state.judge.scorer().model_version().to_string();
    assert_eq!(site["thresholds"], mine, "{site}");
    assert_eq!(site["thresholds_model"], model.as_str(), "{site}");
    assert_eq!(site["thresholds_outdated"], false, "{site}");
    // The same stored values, as if saved while an older model was the default, and as saved
    // before Vigie recorded the model (NULL).
    for older in [Some("vigie-20261128-1849-older"), None] {
        app.with_db(move |conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::sites;
            diesel::update(sites::table)
                .set(sites::thresholds_model.eq(older))
                .execute(conn)
                .unwrap()
        })
        .await;
        let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
        assert_eq!(site["thresholds_outdated"], true, "{site}");
        assert_eq!(site["thresholds_model"], json!(older), "{site}");
    }
    // Saving them again for the current model, or returning to the model's, clears the flag.
    assert_eq!(put(Value::Null).await.unwrap().status(), 200);
    let site: Value = app.get("/v1/site", &admin).await.json().await.unwrap();
    assert_eq!(site["thresholds_outdated"], false, "{site}");
    assert_eq!(site["thresholds_model"], Value::Null, "{site}");
}
