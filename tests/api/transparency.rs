//! The period of the transparency figures and the statements export: a date given as `to`
//! counts that whole day.

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{comment, spawn_app, Backend};

crate::on_both_backends!(a_date_as_the_end_of_the_period_includes_that_whole_day);

async fn a_date_as_the_end_of_the_period_includes_that_whole_day(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let ingest = app.key("numerama", Role::Ingest).await;
    let admin = app.key("numerama", Role::Admin).await;
    let camille = app.key("numerama", Role::Moderator).await;
    let r = app
        .patch_json("/v1/site", &admin, &json!({"moderation_mode": "post"}))
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .post_json(
            "/v1/comments",
            &ingest,
            &comment("c-1", "a-1", "Achetez mes montres, prix imbattables"),
        )
        .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let report = json!({"category": "spam", "text": "Publicité", "reporter": {"id": "r-1"}, "ip": "198.51.100.7"});
    let r = app
        .post_json(&format!("/v1/comments/{id}/reports"), &ingest, &report)
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/decisions"),
            &camille,
            &json!({"action": "reject", "reason": "spam"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let yesterday = today.pred_opt().unwrap();
    // Today only: from its midnight to the next.
    let t: Value = app
        .get(&format!("/v1/transparency?from={today}&to={today}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["notices"]["total"], 1, "{t}");
    assert_eq!(t["actions"]["total"], 1, "{t}");
    assert_eq!(t["from"], format!("{today}T00:00:00Z"));
    assert_eq!(t["to"], format!("{tomorrow}T00:00:00Z"), "exclusive end");
    // A period ending yesterday does not hold today's notice.
    let t: Value = app
        .get(&format!("/v1/transparency?to={yesterday}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["notices"]["total"], 0, "{t}");
    // An RFC 3339 end stays exclusive, as given.
    let t: Value = app
        .get(
            &format!("/v1/transparency?from={yesterday}&to={today}T00:00:00Z"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["notices"]["total"], 0, "{t}");
    // The statements export reads the period the same way.
    let lines = app
        .get(&format!("/v1/statements?from={today}&to={today}"), &admin)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(lines.lines().count(), 1, "{lines}");
}
