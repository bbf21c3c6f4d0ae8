//! Coral Talk's external moderation phase, spoken the way Coral speaks it (pretty-printed JSON,
//! `X-Coral-Signature` over the exact bytes), and its settings.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;
use vigie::domain::Role;

const SECRET: &str = "ssc_0f8e1d2c3b4a5968778695a4b3c2d1e0";
const OLD_SECRET: &str = "ssc_old_1234567890abcdef";

fn coral_body(story: &str, author: &str, body: &str) -> String {
    // Coral sends JSON.stringify(request, null, 2).
    serde_json::to_string_pretty(&json!({
        "action": "NEW",
        "comment": { "body": body, "parentID": null },
        "author": { "id": author, "role": "COMMENTER" },
        "story": { "id": story, "url": format!("https://www.example.fr/{story}.html") },
        "site": { "id": "site-numerama" },
        "tenantID": "tenant-1",
        "tenantDomain": "coral.example.fr"
    }))
    .unwrap()
}

fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn coral(app: &TestApp, signature: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/v1/integrations/coral/moderate"))
        .header("content-type", "application/json")
        .header("user-agent", "Coral Moderation/9.0.0");
    if let Some(s) = signature {
        req = req.header("x-coral-signature", s);
    }
    req.body(body.to_owned()).send().await.unwrap()
}

/// A post-moderated site with Coral configured (two secrets, as during a rotation).
async fn coral_site(app: &TestApp) -> (String, String) {
    let admin = app.key("numerama", Role::Admin).await;
    let moderator = app.key("numerama", Role::Moderator).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .client
        .put(app.url("/v1/integrations/coral"))
        .bearer_auth(&admin)
        .json(&json!({"secrets": [OLD_SECRET, SECRET]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(settings["configured"], true);
    assert_eq!(settings["secrets"], 2);
    (admin, moderator)
}

async fn coral_requests_are_verified_scored_recorded_and_answered_in_corals_format(
    backend: Backend,
) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, moderator) = coral_site(&app).await;

    // A clean comment: no opinion, so Coral's own settings apply. Recorded in Vigie.
    let clean = coral_body(
        "story-1",
        "coral-user-1",
        "<p>Très bon article, merci&nbsp;!</p>",
    );
    let r = coral(&app, Some(&sign(SECRET, &clean)), &clean).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));

    // An insult in leetspeak: held for review with a toxicity flag, and queued in Vigie.
    let rude = coral_body("story-1", "coral-user-2", "<p>T'es qu'un gros c0nn@rd</p>");
    // Rotation: one signature per active secret, in any order.
    let header = format!("sha256={}, {}", "ab".repeat(32), sign(SECRET, &rude));
    let r = coral(&app, Some(&header), &rude).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert!(
        answer["status"] == "SYSTEM_WITHHELD" || answer["status"] == "REJECTED",
        "{answer}"
    );
    assert_eq!(answer["actions"][0]["actionType"], "FLAG");
    assert_eq!(answer["actions"][0]["reason"], "COMMENT_DETECTED_TOXIC");
    if answer["status"] == "REJECTED" {
        assert_eq!(answer["moderationAction"]["status"], "REJECTED");
        assert!(answer["moderationAction"]["rejectionReason"]["code"].is_string());
    }

    // Coral retrying the same request gets the same answer and no second comment.
    let again = coral(&app, Some(&sign(OLD_SECRET, &rude)), &rude).await;
    assert_eq!(again.json::<Value>().await.unwrap(), answer);
    assert_eq!(app.count("comments").await, 2);

    // Vigie's queue sees it, with the story as the thread and the text without HTML.
    let page: Value = app
        .get("/v1/queues/pending", &moderator)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["comment"]["body"], "T'es qu'un gros c0nn@rd");
    assert_eq!(items[0]["thread"]["id"], "story-1");

    // A moderator's rejection through Vigie maps to Coral's codes on the next resend.
    let id = items[0]["comment"]["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &moderator,
            &json!({"action": "reject", "reason": "hate"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let answer: Value = coral(&app, Some(&sign(SECRET, &rude)), &rude)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "REJECTED");
    assert_eq!(
        answer["moderationAction"]["rejectionReason"]["code"],
        "HATE_SPEECH"
    );

    // Settings read back without the secrets; removal turns the endpoint off.
    let s: Value = app
        .get("/v1/integrations/coral", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        s,
        json!({"configured": true, "secrets": 2, "endpoint": "/v1/integrations/coral/moderate"})
    );
    let r = app
        .client
        .delete(app.url("/v1/integrations/coral"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_problem(
        coral(&app, Some(&sign(SECRET, &clean)), &clean).await,
        401,
        None,
    )
    .await;
}

async fn coral_requests_with_bad_signatures_or_bodies_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, _) = coral_site(&app).await;
    let body = coral_body("story-1", "u1", "Bonjour");
    assert_problem(coral(&app, None, &body).await, 401, None).await;
    assert_problem(coral(&app, Some("sha256=zz"), &body).await, 401, None).await;
    assert_problem(
        coral(&app, Some(&sign("wrong-secret-000000", &body)), &body).await,
        401,
        None,
    )
    .await;
    // A signature over other bytes (the body re-serialised) does not verify.
    let compact = serde_json::to_string(&serde_json::from_str::<Value>(&body).unwrap()).unwrap();
    assert_problem(
        coral(&app, Some(&sign(SECRET, &body)), &compact).await,
        401,
        None,
    )
    .await;
    // Signed but malformed, or missing what Vigie needs.
    let broken = "{\n  \"action\": ";
    assert_problem(
        coral(&app, Some(&sign(SECRET, broken)), broken).await,
        400,
        None,
    )
    .await;
    let no_story = serde_json::to_string_pretty(&json!({
        "action": "NEW", "comment": {"body": "x"}, "author": {"id": "u"},
        "site": {"id": "s"}, "tenantID": "t"
    }))
    .unwrap();
    assert_problem(
        coral(&app, Some(&sign(SECRET, &no_story)), &no_story).await,
        422,
        Some("story"),
    )
    .await;
    let empty = coral_body("story-1", "u1", "<p> </p>");
    assert_problem(
        coral(&app, Some(&sign(SECRET, &empty)), &empty).await,
        422,
        Some("comment.body"),
    )
    .await;
    let odd = body.replace("\"NEW\"", "\"DELETE\"");
    assert_problem(
        coral(&app, Some(&sign(SECRET, &odd)), &odd).await,
        422,
        Some("action"),
    )
    .await;
    let r = app
        .client
        .post(app.url("/v1/integrations/coral/moderate"))
        .header("content-type", "text/plain")
        .header("x-coral-signature", sign(SECRET, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, None).await;
    assert_eq!(app.count("comments").await, 0);
    // Settings: admins only, bounded secrets.
    let moderator = app.key("numerama", Role::Moderator).await;
    assert_problem(
        app.get("/v1/integrations/coral", &moderator).await,
        403,
        None,
    )
    .await;
    for (secrets, field) in [
        (json!([]), "secrets"),
        (json!(["short"]), "secrets[0]"),
        (json!([SECRET, " padded-secret-123456 "]), "secrets[1]"),
        (json!(["a".repeat(600)]), "secrets[0]"),
    ] {
        let r = app
            .client
            .put(app.url("/v1/integrations/coral"))
            .bearer_auth(&admin)
            .json(&json!({ "secrets": secrets }))
            .send()
            .await
            .unwrap();
        assert_problem(r, 422, Some(field)).await;
    }
}

async fn past_the_deadline_coral_gets_no_opinion_and_the_comment_is_still_recorded(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |s| s.coral_deadline_ms = 0).await else {
        return;
    };
    coral_site(&app).await;
    let body = coral_body("story-9", "u9", "T'es qu'un gros c0nn@rd");
    let r = coral(&app, Some(&sign(SECRET, &body)), &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));
    for _ in 0..200 {
        if app.count("comments").await == 1 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the comment answered with no opinion was never recorded");
}

/// Site rules that make each verdict on demand: a held and a blocked word per category.
const SHAPE_RULES: &str = r#"name = "coral-shapes"

[[words]]
id = "t-hold-toxic"
action = "hold"
category = "toxicity"
terms = ["ouaftoxique"]

[[words]]
id = "t-hold-spam"
action = "hold"
category = "spam"
terms = ["ouafpromo"]

[[words]]
id = "t-block-toxic"
action = "block"
category = "toxicity"
terms = ["ouafinjure"]

[[words]]
id = "t-block-spam"
action = "block"
category = "spam"
terms = ["ouafcasino"]
"#;

/// Where Node.js and joi are, or why the check cannot run (`None` and a message).
fn coral_validator() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let have_node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let have_joi = dir.join("node_modules/joi/package.json").exists();
    if have_node && have_joi {
        return Some(dir.join("coral-response.mjs"));
    }
    let why = format!(
        "Coral answer validation skipped: node {}, tests/e2e/node_modules/joi {} (run `cd tests/e2e && npm ci`)",
        if have_node { "found" } else { "missing" },
        if have_joi { "found" } else { "missing" },
    );
    let required = ["VIGIE_REQUIRE_NODE", "VIGIE_REQUIRE_BROWSER"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| v == "1"));
    assert!(!required, "{why}");
    eprintln!("{why}");
    None
}

/// Sends one comment through the phase and returns Coral's answer.
async fn coral_answer(app: &TestApp, story: &str, author: &str, text: &str) -> Value {
    let body = coral_body(story, author, text);
    let r = coral(app, Some(&sign(SECRET, &body)), &body).await;
    assert_eq!(r.status(), 200, "{text}");
    r.json().await.unwrap()
}

async fn every_answer_vigie_gives_coral_passes_corals_own_validation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, moderator) = coral_site(&app).await;
    let r = app
        .client
        .put(app.url("/v1/site/rules"))
        .bearer_auth(&admin)
        .json(&json!({ "source": SHAPE_RULES }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mut answers = serde_json::Map::new();
    let mut keep = |name: &str, answer: &Value| {
        answers.insert(name.to_owned(), answer.clone());
    };

    let allow = coral_answer(
        &app,
        "s1",
        "a-allow",
        "<p>Merci pour cet article clair.</p>",
    )
    .await;
    assert_eq!(allow, json!({}));
    keep("allow", &allow);

    let review_toxic = coral_answer(&app, "s1", "a-rt", "Quel ouaftoxique celui-là").await;
    assert_eq!(review_toxic["status"], "SYSTEM_WITHHELD", "{review_toxic}");
    assert_eq!(
        review_toxic["actions"][0]["reason"],
        "COMMENT_DETECTED_TOXIC"
    );
    keep("review, toxic", &review_toxic);

    let review_spam = coral_answer(&app, "s1", "a-rs", "Super ouafpromo ici").await;
    assert_eq!(review_spam["status"], "SYSTEM_WITHHELD", "{review_spam}");
    assert_eq!(review_spam["actions"][0]["reason"], "COMMENT_DETECTED_SPAM");
    keep("review, spam", &review_spam);

    let reject_spam = coral_answer(&app, "s1", "a-js", "Gagnez au ouafcasino").await;
    assert_eq!(reject_spam["status"], "REJECTED", "{reject_spam}");
    let reason = &reject_spam["moderationAction"]["rejectionReason"];
    assert_eq!(reason["code"], "SPAM");
    assert_eq!(reject_spam["actions"][0]["reason"], "COMMENT_DETECTED_SPAM");
    // The author reads this in Coral's rejection notice: the house rule, never the rule id.
    let text = reason["detailedExplanation"].as_str().unwrap();
    assert!(text.contains("publicité ou spam"), "{text}");
    assert!(
        !text.contains("t-block") && !text.contains("ouaf"),
        "{text}"
    );
    keep("reject, automated, spam", &reject_spam);

    let reject_insult = coral_answer(&app, "s1", "a-ji", "Espèce de ouafinjure").await;
    assert_eq!(reject_insult["status"], "REJECTED", "{reject_insult}");
    assert_eq!(
        reject_insult["moderationAction"]["rejectionReason"]["code"],
        "HARASSMENT_BULLYING"
    );
    assert_eq!(
        reject_insult["actions"][0]["reason"],
        "COMMENT_DETECTED_TOXIC"
    );
    keep("reject, automated, insult", &reject_insult);

    // Each reason code a moderator can give, as Coral hears it when it sends the comment again.
    for (i, reason) in [
        "spam",
        "insult",
        "hate",
        "threat",
        "obscene",
        "illegal",
        "off_topic",
        "personal_data",
        "misinformation",
        "other",
    ]
    .into_iter()
    .enumerate()
    {
        let text = format!("Commentaire {reason} numéro {i} ouaftoxique");
        coral_answer(&app, "s2", &format!("a-m{i}"), &text).await;
        let page: Value = app
            .get("/v1/queues/pending?thread=s2", &moderator)
            .await
            .json()
            .await
            .unwrap();
        let id = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|it| it["comment"]["body"] == text.as_str())
            .map(|it| it["comment"]["id"].as_i64().unwrap())
            .unwrap_or_else(|| panic!("{text} not queued: {page}"));
        let mut decision = json!({"action": "reject", "reason": reason});
        if reason == "illegal" {
            decision["legal_ground"] = json!("Loi du 29 juillet 1881, art. 29");
            decision["explanation"] = json!("Diffamation");
        }
        let r = app
            .post_json(
                &format!("/v1/comments/{id}/decisions"),
                &moderator,
                &decision,
            )
            .await;
        assert_eq!(r.status(), 200, "{reason}: {}", r.text().await.unwrap());
        let answer = coral_answer(&app, "s2", &format!("a-m{i}"), &text).await;
        assert_eq!(answer["status"], "REJECTED", "{answer}");
        assert!(
            answer.get("actions").is_none(),
            "a moderator's decision is no detection: {answer}"
        );
        let why = answer["moderationAction"]["rejectionReason"]["detailedExplanation"]
            .as_str()
            .unwrap();
        assert!(why.contains("rédaction"), "{why}");
        if reason == "personal_data" {
            assert_eq!(
                answer["moderationAction"]["rejectionReason"]["customReason"],
                "Données personnelles d'autrui"
            );
        }
        keep(&format!("reject by a moderator, {reason}"), &answer);
    }

    // An English comment gets its notice in English.
    let english = coral_answer(&app, "s1", "a-en", "What an ouafinjure you are, honestly").await;
    let why = english["moderationAction"]["rejectionReason"]["detailedExplanation"]
        .as_str()
        .unwrap();
    assert!(why.starts_with("Your comment"), "{why}");
    keep("reject, automated, english", &english);

    // The author's status, not the text: pre-moderated, then banned.
    coral_answer(&app, "s1", "a-premod", "Premier message, tout va bien.").await;
    let r = app
        .post_json(
            "/v1/authors/a-premod/status",
            &moderator,
            &json!({"status": "premod", "reason": "insult"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let premod_author = coral_answer(&app, "s1", "a-premod", "Un avis tout à fait correct.").await;
    assert_eq!(premod_author, json!({"status": "PREMOD"}));
    keep("author pre-moderated", &premod_author);

    coral_answer(&app, "s1", "a-banned", "Bonjour à tous.").await;
    let r = app
        .post_json(
            "/v1/authors/a-banned/status",
            &moderator,
            &json!({"status": "banned", "reason": "insult"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let banned = coral_answer(&app, "s1", "a-banned", "Un avis tout à fait correct.").await;
    assert_eq!(banned["status"], "REJECTED", "{banned}");
    assert!(
        banned.get("actions").is_none(),
        "no detection flag for a ban: {banned}"
    );
    let why = banned["moderationAction"]["rejectionReason"]["detailedExplanation"]
        .as_str()
        .unwrap();
    assert!(why.contains("votre compte"), "{why}");
    keep("author banned", &banned);

    // The whole site in pre-moderation: every clean comment is Coral's PREMOD.
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "pre"}))
        .await;
    assert_eq!(r.status(), 200);
    let premod = coral_answer(&app, "s3", "a-pre", "Article intéressant, merci.").await;
    assert_eq!(premod, json!({"status": "PREMOD"}));
    keep("site in pre-moderation", &premod);

    // A closed thread: no opinion (the story is closed in Vigie, not in Coral).
    let r = app
        .patch_json("/v1/threads/s3", &moderator, &json!({"status": "closed"}))
        .await;
    assert_eq!(r.status(), 200);
    let closed = coral_answer(&app, "s3", "a-pre", "Encore un commentaire.").await;
    assert_eq!(closed, json!({}));
    keep("closed thread", &closed);

    // Past the deadline.
    let late_app = spawn_app_with(backend, |s| s.coral_deadline_ms = 0)
        .await
        .unwrap();
    coral_site(&late_app).await;
    let late = coral_answer(&late_app, "s1", "a-late", "Espèce de c0nn@rd").await;
    assert_eq!(late, json!({}));
    keep("deadline passed", &late);

    for (name, answer) in &answers {
        assert!(answer.get("tags").is_none(), "{name}: {answer}");
    }
    let Some(validator) = coral_validator() else {
        return;
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec_pretty(&answers).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(&validator)
        .arg(file.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "Coral would throw away some answers:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("ok ")).count(),
        answers.len()
    );
}

on_both_backends!(
    coral_requests_are_verified_scored_recorded_and_answered_in_corals_format,
    coral_requests_with_bad_signatures_or_bodies_are_refused,
    past_the_deadline_coral_gets_no_opinion_and_the_comment_is_still_recorded,
    every_answer_vigie_gives_coral_passes_corals_own_validation,
);
