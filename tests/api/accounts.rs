//! Named accounts: invitations, passwords, sign-in sessions with CSRF, roles, disabling, rate
//! limits on failed sign-ins; the audit log names the person.

use serde_json::{json, Value};
use vigie::domain::Role;

use crate::helpers::{assert_problem, comment, spawn_app, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    an_invited_moderator_sets_a_password_signs_in_decides_and_signs_out,
    invitations_refuse_weak_passwords_and_answer_410_once_used_or_expired,
    unknown_e_mail_wrong_password_and_disabled_account_answer_alike,
    a_disabled_account_loses_its_sessions_at_once,
    failed_sign_ins_are_limited_per_account_and_per_address,
    sign_out_everywhere_ends_every_session_of_the_account,
    a_reset_replaces_the_link_and_the_password,
    roles_and_sites_bound_what_an_account_reaches,
    an_idle_session_ends,
    sign_in_and_account_requests_reject_bad_input_precisely,
    a_second_factor_is_enrolled_then_asked_at_sign_in_and_codes_work_once,
    one_turns_ones_own_second_factor_off_with_password_and_code,
);

const PASSWORD: &str = "le phare de la vigie 1903";

/// A cookie session: the `name=value` pair and the CSRF token.
pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// An admin key of `site` invites `email` with `role`; the invitation token.
async fn invite(app: &TestApp, admin: &str, email: &str, role: &str, name: &str) -> String {
    let r = app
        .post_json(
            "/v1/accounts",
            admin,
            &json!({"email": email, "role": role, "name": name}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["account"]["state"], "invited");
    let url = body["invitation_url"].as_str().unwrap();
    assert!(url.contains("/console/#invitation="), "{url}");
    url.rsplit('=').next().unwrap().to_owned()
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/invitations/{token}")))
        .json(&json!({"password": password}))
        .send()
        .await
        .unwrap()
}

async fn try_sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Session {
    let r = try_sign_in(app, email, password).await;
    assert_eq!(r.status(), 201);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{flag} missing: {set_cookie}");
    }
    let body: Value = r.json().await.unwrap();
    Session {
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

/// An invited account with its password set, signed in.
pub(crate) async fn person(
    app: &TestApp,
    admin: &str,
    email: &str,
    role: &str,
    name: &str,
) -> Session {
    let token = invite(app, admin, email, role, name).await;
    assert_eq!(set_password(app, &token, PASSWORD).await.status(), 200);
    sign_in(app, email, PASSWORD).await
}

impl Session {
    pub(crate) fn get(&self, app: &TestApp, path: &str) -> reqwest::RequestBuilder {
        app.client.get(app.url(path)).header("cookie", &self.cookie)
    }

    pub(crate) fn send(
        &self,
        app: &TestApp,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        app.client
            .request(method, app.url(path))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
    }
}

async fn set_disabled(app: &TestApp, admin: &str, id: i64, disabled: bool) -> reqwest::Response {
    app.patch_json(
        &format!("/v1/accounts/{id}"),
        admin,
        &json!({"disabled": disabled}),
    )
    .await
}

/// The session no longer authenticates anything.
async fn assert_signed_out(app: &TestApp, session: &Session) {
    let r = session.get(app, "/v1/queues").send().await.unwrap();
    assert_problem(r, 401, None).await;
}

async fn first_account_id(app: &TestApp, admin: &str) -> i64 {
    let list: Value = app.get("/v1/accounts", admin).await.json().await.unwrap();
    list["items"][0]["id"].as_i64().unwrap()
}

async fn pending_comment(app: &TestApp, ingest: &str, id: &str) -> i64 {
    let r = app
        .post_json(
            "/v1/comments",
            ingest,
            &comment(
                id,
                "a-1",
                "Je ne suis pas d'accord avec cet article, voici pourquoi.",
            ),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn an_invited_moderator_sets_a_password_signs_in_decides_and_signs_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let ingest = app.key("numerama", Role::Ingest).await;
    let camille = person(
        &app,
        &admin,
        "Camille.Martin@Example.fr",
        "moderator",
        "Camille Martin",
    )
    .await;
    let id = pending_comment(&app, &ingest, "c-1").await;

    // The session reaches the moderator routes.
    let r = camille.get(&app, "/v1/queues").send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A decision without the CSRF token is refused; with it, made in Camille's name.
    let decision = json!({"action": "reject", "reason": "spam"});
    let r = app
        .client
        .post(app.url(&format!("/v1/comments/{id}/decisions")))
        .header("cookie", &camille.cookie)
        .json(&decision)
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, None).await;
    let r = camille
        .send(
            &app,
            reqwest::Method::POST,
            &format!("/v1/comments/{id}/decisions"),
        )
        .json(&decision)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let log: Value = app.get("/v1/decisions", &admin).await.json().await.unwrap();
    let human: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["source"] == "human")
        .collect();
    assert_eq!(human.len(), 1, "{log}");
    assert_eq!(human[0]["actor"], "Camille Martin");

    // The author appeals; the admin reverses: Camille's figures count one decision overturned.
    let r = app
        .post_json(
            &format!("/v1/comments/{id}/appeals"),
            &ingest,
            &json!({"author_id": "u-fabrice", "text": "Ce n'était pas de la publicité."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let appeal = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/v1/appeals/{appeal}/decision"),
            &admin,
            &json!({"outcome": "reverse", "reply": "Rétabli."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let figures: Value = app
        .get("/v1/moderators/figures?days=7", &admin)
        .await
        .json()
        .await
        .unwrap();
    let camille_figures = figures["moderators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Camille Martin")
        .unwrap_or_else(|| panic!("{figures}"));
    assert_eq!(camille_figures["decisions"], 1);
    assert_eq!(camille_figures["overturned"], 1);
    assert_eq!(camille_figures["overturned_share"], 1.0);
    assert_eq!(
        camille_figures["decisions_per_day"][0]["decisions"], 1,
        "{figures}"
    );
    assert!(
        camille_figures["median_seconds_to_decision"]
            .as_i64()
            .unwrap()
            >= 0
    );
    let r = camille
        .get(&app, "/v1/moderators/figures")
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, None).await;
    let r = app.get("/v1/moderators/figures?days=0", &admin).await;
    assert_problem(r, 422, Some("days")).await;

    // The admin sees the account, its e-mail (lower-cased) and that it signed in.
    let list: Value = app.get("/v1/accounts", &admin).await.json().await.unwrap();
    let account = &list["items"][0];
    assert_eq!(account["email"], "camille.martin@example.fr");
    assert_eq!(account["state"], "active");
    assert_eq!(account["role"], "moderator");
    assert!(account["last_sign_in_at"].is_string());
    // The e-mail is stored hashed and sealed, never in clear.
    let stored: Vec<String> = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::accounts::dsl::*;
            accounts
                .select(email_hash.concat(email_sealed))
                .load::<String>(conn)
                .unwrap()
        })
        .await;
    assert!(!stored[0].contains("camille"), "{stored:?}");

    // Signing out needs the CSRF token too; then the cookie is dead and cleared.
    let r = app
        .client
        .delete(app.url("/v1/session"))
        .header("cookie", &camille.cookie)
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, None).await;
    let r = camille
        .send(&app, reqwest::Method::DELETE, "/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_signed_out(&app, &camille).await;
}

async fn invitations_refuse_weak_passwords_and_answer_410_once_used_or_expired(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let token = invite(&app, &admin, "lea@example.fr", "moderator", "Léa").await;

    let r = set_password(&app, &token, "court").await;
    let p = assert_problem(r, 422, Some("password")).await;
    assert!(p["detail"].as_str().unwrap().contains("12"), "{p}");
    let r = set_password(&app, &token, "QwertyQwerty").await;
    let p = assert_problem(r, 422, Some("password")).await;
    assert!(p["detail"].as_str().unwrap().contains("common"), "{p}");
    let r = set_password(&app, &token, PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "active");
    // Used: 410, and the password stays the first one.
    let r = set_password(&app, &token, "un autre mot de passe long").await;
    assert_problem(r, 410, None).await;
    sign_in(&app, "lea@example.fr", PASSWORD).await;
    // An unknown token is 404; only the token's hash is stored.
    let r = set_password(&app, "not-a-token", PASSWORD).await;
    assert_problem(r, 404, None).await;
    let hashes: Vec<String> = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::account_invitations::dsl::*;
            account_invitations
                .select(token_hash)
                .load::<String>(conn)
                .unwrap()
        })
        .await;
    assert!(!hashes.contains(&token));

    // An invitation past its 72 hours is 410.
    let late = invite(&app, &admin, "noe@example.fr", "moderator", "Noé").await;
    app.with_db(|conn| {
        use diesel::prelude::*;
        use vigie::store::test_schema::account_invitations::dsl::*;
        diesel::update(account_invitations.filter(used_at.is_null()))
            .set(expires_at.eq(chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let r = set_password(&app, &late, PASSWORD).await;
    let p = assert_problem(r, 410, None).await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
}

async fn unknown_e_mail_wrong_password_and_disabled_account_answer_alike(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    let invited_only = invite(&app, &admin, "ines@example.fr", "moderator", "Inès").await;
    assert!(!invited_only.is_empty());

    let mut answers = Vec::new();
    for (email, password) in [
        ("sam@example.fr", "pas le bon mot de passe"),
        ("personne@example.fr", PASSWORD),
        ("ines@example.fr", PASSWORD),
    ] {
        let r = try_sign_in(&app, email, password).await;
        assert!(r.headers().get("set-cookie").is_none());
        let mut p = assert_problem(r, 401, None).await;
        p.as_object_mut().unwrap().remove("instance");
        answers.push(p);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    assert_eq!(answers[0]["type"], "urn:vigie:problem:sign-in-failed");
}

async fn a_disabled_account_loses_its_sessions_at_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let sam = person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    assert_eq!(
        sam.get(&app, "/v1/queues").send().await.unwrap().status(),
        200
    );
    let id = first_account_id(&app, &admin).await;
    let r = set_disabled(&app, &admin, id, true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "disabled");
    assert_signed_out(&app, &sam).await;
    let r = try_sign_in(&app, "sam@example.fr", PASSWORD).await;
    assert_problem(r, 401, None).await;

    // Enabled again, the account signs in anew (the old session stays ended).
    let r = set_disabled(&app, &admin, id, false).await;
    assert_eq!(r.status(), 200);
    assert_signed_out(&app, &sam).await;
    sign_in(&app, "sam@example.fr", PASSWORD).await;
}

async fn failed_sign_ins_are_limited_per_account_and_per_address(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| {
        s.sign_in_limit_per_account = 3;
        s.sign_in_limit_per_ip = 5;
        s.sign_in_window_secs = 600;
    })
    .await
    else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let token = invite(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    assert_eq!(set_password(&app, &token, PASSWORD).await.status(), 200);

    for _ in 0..3 {
        let r = try_sign_in(&app, "sam@example.fr", "pas le bon mot de passe").await;
        assert_problem(r, 401, None).await;
    }
    // The account's limit is reached: even the right password waits.
    let r = try_sign_in(&app, "sam@example.fr", PASSWORD).await;
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_problem(r, 429, None).await;

    // Two more failures from this address on other e-mails fill the address's limit of 5.
    for email in ["a@example.fr", "b@example.fr"] {
        let r = try_sign_in(&app, email, PASSWORD).await;
        assert_problem(r, 401, None).await;
    }
    let r = try_sign_in(&app, "c@example.fr", PASSWORD).await;
    assert_problem(r, 429, None).await;
}

async fn sign_out_everywhere_ends_every_session_of_the_account(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let laptop = person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    let phone = sign_in(&app, "sam@example.fr", PASSWORD).await;
    let other = person(&app, &admin, "lea@example.fr", "moderator", "Léa").await;

    let r = phone
        .send(&app, reqwest::Method::DELETE, "/v1/sessions")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["ended"], 2);
    for session in [&laptop, &phone] {
        assert_signed_out(&app, session).await;
    }
    // Another person's session is untouched.
    assert_eq!(
        other.get(&app, "/v1/queues").send().await.unwrap().status(),
        200
    );
}

async fn a_reset_replaces_the_link_and_the_password(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let pending = invite(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    let id = first_account_id(&app, &admin).await;
    let r = app
        .post_json(&format!("/v1/accounts/{id}/invitation"), &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 201);
    let url = r.json::<Value>().await.unwrap()["invitation_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh = url.rsplit('=').next().unwrap().to_owned();
    // The first link no longer works; the new one does.
    assert_problem(set_password(&app, &pending, PASSWORD).await, 410, None).await;
    assert_eq!(set_password(&app, &fresh, PASSWORD).await.status(), 200);
    let session = sign_in(&app, "sam@example.fr", PASSWORD).await;

    // A second reset ends the session and clears the password.
    let r = app
        .post_json(&format!("/v1/accounts/{id}/invitation"), &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 201);
    assert_signed_out(&app, &session).await;
    assert_problem(
        try_sign_in(&app, "sam@example.fr", PASSWORD).await,
        401,
        None,
    )
    .await;
    // A taken e-mail cannot be invited twice.
    let r = app
        .post_json(
            "/v1/accounts",
            &admin,
            &json!({"email": "SAM@example.fr", "role": "admin"}),
        )
        .await;
    assert_problem(r, 409, None).await;
}

async fn roles_and_sites_bound_what_an_account_reaches(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let other_admin = app.key("lemonde", Role::Admin).await;
    let sam = person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    let boss = person(&app, &admin, "boss@example.fr", "admin", "Dominique").await;

    // A moderator's session cannot manage accounts nor change the site.
    let r = sam.get(&app, "/v1/accounts").send().await.unwrap();
    assert_problem(r, 403, None).await;
    let r = sam
        .send(&app, reqwest::Method::PATCH, "/v1/site")
        .json(&json!({"moderation_mode": "post"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, None).await;

    // An admin's session invites, promotes; it cannot demote or disable itself.
    let list: Value = boss
        .get(&app, "/v1/accounts")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    let id_of = |name: &str| {
        items.iter().find(|a| a["name"] == name).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (sam_id, boss_id) = (id_of("Sam"), id_of("Dominique"));
    let r = boss
        .send(
            &app,
            reqwest::Method::PATCH,
            &format!("/v1/accounts/{sam_id}"),
        )
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The promotion holds for Sam's open session.
    assert_eq!(
        sam.get(&app, "/v1/accounts").send().await.unwrap().status(),
        200
    );
    let r = boss
        .send(
            &app,
            reqwest::Method::PATCH,
            &format!("/v1/accounts/{boss_id}"),
        )
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, None).await;

    // Another site's admin sees none of this site's accounts.
    let r = set_disabled(&app, &other_admin, sam_id, true).await;
    assert_problem(r, 404, None).await;
    let list: Value = app
        .get("/v1/accounts", &other_admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
}

async fn an_idle_session_ends(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.session_idle_secs = 1).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let sam = person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    assert_eq!(
        sam.get(&app, "/v1/queues").send().await.unwrap().status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_signed_out(&app, &sam).await;
}

async fn sign_in_and_account_requests_reject_bad_input_precisely(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let moderator_key = app.key("numerama", Role::Moderator).await;
    let post = |path: &str, body: &'static str| {
        app.client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_problem(post("/v1/session", "{").await.unwrap(), 400, None).await;
    assert_problem(
        post("/v1/session", r#"{"email": 3, "password": "x"}"#)
            .await
            .unwrap(),
        422,
        Some("email"),
    )
    .await;
    assert_problem(
        post(
            "/v1/session",
            r#"{"email": "sans-arobase", "password": "x"}"#,
        )
        .await
        .unwrap(),
        422,
        Some("email"),
    )
    .await;
    assert_problem(
        post("/v1/invitations/abc", r#"{"password": null}"#)
            .await
            .unwrap(),
        422,
        Some("password"),
    )
    .await;

    for (body, field) in [
        (json!({"email": "x@example.fr", "role": "ingest"}), "role"),
        (json!({"email": "x@example", "role": "moderator"}), "email"),
        (
            json!({"email": "x@example.fr", "role": "moderator", "name": "  "}),
            "name",
        ),
    ] {
        let r = app.post_json("/v1/accounts", &admin, &body).await;
        assert_problem(r, 422, Some(field)).await;
    }
    let r = app
        .post_json(
            "/v1/accounts",
            &moderator_key,
            &json!({"email": "x@example.fr", "role": "moderator"}),
        )
        .await;
    assert_problem(r, 403, None).await;
    let r = app
        .client
        .get(app.url("/v1/accounts"))
        .send()
        .await
        .unwrap();
    assert_problem(r, 401, None).await;
    let r = app
        .patch_json("/v1/accounts/999", &admin, &json!({"role": "admin"}))
        .await;
    assert_problem(r, 404, None).await;
    let r = app
        .patch_json("/v1/accounts/999", &admin, &json!({"role": "root"}))
        .await;
    assert_problem(r, 422, Some("role")).await;
}

fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes() {
        value = (value << 5) | ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

async fn sign_in_with_code(app: &TestApp, code: Option<&str>) -> reqwest::Response {
    let mut body = json!({"email": "sam@example.fr", "password": PASSWORD});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    app.client
        .post(app.url("/v1/session"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn a_second_factor_is_enrolled_then_asked_at_sign_in_and_codes_work_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let sam = person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    // A key has no second factor.
    let r = app.post_json("/v1/account/totp", &admin, &json!({})).await;
    assert_problem(r, 403, None).await;
    let r = sam
        .send(&app, reqwest::Method::POST, "/v1/account/totp/confirm")
        .json(&json!({"code": "123456"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 409, None).await;

    let r = sam
        .send(&app, reqwest::Method::POST, "/v1/account/totp")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let enrolment: Value = r.json().await.unwrap();
    let url = enrolment["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/Vigie:sam%40example.fr?secret="),
        "{url}"
    );
    let secret = base32_decode(enrolment["secret"].as_str().unwrap());
    let now = chrono::Utc::now().timestamp() as u64;
    let code_at = |secs: u64| vigie::domain::totp::code_at(&secret, secs);
    // Until confirmed, sign-in does not ask for a code; a wrong code does not confirm.
    assert_eq!(sign_in_with_code(&app, None).await.status(), 201);
    let r = sam
        .send(&app, reqwest::Method::POST, "/v1/account/totp/confirm")
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
    if code_at(now) != "000000" {
        assert_problem(r, 422, Some("code")).await;
    }
    let r = sam
        .send(&app, reqwest::Method::POST, "/v1/account/totp/confirm")
        .json(&json!({"code": code_at(now)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let codes: Vec<String> =
        serde_json::from_value(r.json::<Value>().await.unwrap()["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);

    // The password alone is no longer enough; the code is asked (and not counted as a failure).
    let p = assert_problem(sign_in_with_code(&app, None).await, 401, None).await;
    assert_eq!(p["type"], "urn:vigie:problem:second-factor-required");
    let p = assert_problem(sign_in_with_code(&app, Some("12345")).await, 401, None).await;
    assert_eq!(p["type"], "urn:vigie:problem:sign-in-failed");
    // The next step's code (within the skew) signs in, once.
    let next = code_at(now + 30);
    assert_eq!(sign_in_with_code(&app, Some(&next)).await.status(), 201);
    let p = assert_problem(sign_in_with_code(&app, Some(&next)).await, 401, None).await;
    assert_eq!(p["type"], "urn:vigie:problem:sign-in-failed");
    // A recovery code, typed in capitals, works once too.
    let typed = codes[3].to_uppercase();
    assert_eq!(sign_in_with_code(&app, Some(&typed)).await.status(), 201);
    assert_problem(sign_in_with_code(&app, Some(&typed)).await, 401, None).await;
    // Only keyed hashes of the recovery codes are stored.
    let stored: Vec<String> = app
        .with_db(|conn| {
            use diesel::prelude::*;
            use vigie::store::test_schema::account_recovery_codes::dsl::*;
            account_recovery_codes
                .select(code_hash)
                .load::<String>(conn)
                .unwrap()
        })
        .await;
    assert_eq!(stored.len(), 10);
    assert!(!stored.contains(&codes[0]));
    let list: Value = app.get("/v1/accounts", &admin).await.json().await.unwrap();
    assert_eq!(list["items"][0]["second_factor"], true);

    // An admin's reset turns the second factor off with the password.
    let id = first_account_id(&app, &admin).await;
    let r = app
        .post_json(&format!("/v1/accounts/{id}/invitation"), &admin, &json!({}))
        .await;
    assert_eq!(r.status(), 201);
    let list: Value = app.get("/v1/accounts", &admin).await.json().await.unwrap();
    assert_eq!(list["items"][0]["second_factor"], false);
}

async fn one_turns_ones_own_second_factor_off_with_password_and_code(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let admin = app.key("numerama", Role::Admin).await;
    let sam = person(&app, &admin, "sam@example.fr", "moderator", "Sam").await;
    let disable = |body: Value| {
        sam.send(&app, reqwest::Method::POST, "/v1/account/totp/disable")
            .json(&body)
            .send()
    };
    // Not on yet: 409; an API key: 403.
    let r = disable(json!({"password": PASSWORD, "code": "123456"}))
        .await
        .unwrap();
    assert_problem(r, 409, None).await;
    let r = app
        .post_json(
            "/v1/account/totp/disable",
            &admin,
            &json!({"password": PASSWORD, "code": "123456"}),
        )
        .await;
    assert_problem(r, 403, None).await;

    let r = sam
        .send(&app, reqwest::Method::POST, "/v1/account/totp")
        .send()
        .await
        .unwrap();
    let secret = base32_decode(r.json::<Value>().await.unwrap()["secret"].as_str().unwrap());
    let now = chrono::Utc::now().timestamp() as u64;
    let code_at = |secs: u64| vigie::domain::totp::code_at(&secret, secs);
    let r = sam
        .send(&app, reqwest::Method::POST, "/v1/account/totp/confirm")
        .json(&json!({"code": code_at(now)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Wrong password, or a code that is not the current one: 403, the factor stays on.
    let wrong_code = if code_at(now + 30) == "000000" {
        "111111"
    } else {
        "000000"
    };
    for body in [
        json!({"password": "pas le bon mot de passe", "code": code_at(now + 30)}),
        json!({"password": PASSWORD, "code": wrong_code}),
    ] {
        assert_problem(disable(body).await.unwrap(), 403, None).await;
    }
    // Bad input names the field.
    for (body, field) in [
        (json!({"password": PASSWORD}), Some("code")),
        (json!({"code": "123456"}), Some("password")),
        (json!({"password": PASSWORD, "code": 123456}), Some("code")),
        (
            json!({"password": "x".repeat(257), "code": "123456"}),
            Some("password"),
        ),
        (
            json!({"password": PASSWORD, "code": "123456", "extra": 1}),
            None,
        ),
    ] {
        assert_problem(disable(body).await.unwrap(), 422, field).await;
    }
    assert_eq!(
        assert_problem(sign_in_with_code(&app, None).await, 401, None).await["type"],
        "urn:vigie:problem:second-factor-required"
    );
    // The password and the current code: off, recovery codes gone; sign-in asks no code.
    let r = disable(json!({"password": PASSWORD, "code": code_at(now + 30)}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.count("account_recovery_codes").await, 0);
    assert_eq!(sign_in_with_code(&app, None).await.status(), 201);
    let list: Value = app.get("/v1/accounts", &admin).await.json().await.unwrap();
    assert_eq!(list["items"][0]["second_factor"], false);
    let r = disable(json!({"password": PASSWORD, "code": code_at(now + 60)}))
        .await
        .unwrap();
    assert_problem(r, 409, None).await;
}
