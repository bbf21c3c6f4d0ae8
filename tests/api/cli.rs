//! The `vigie` binary itself: key management, configuration, and a served request whose logs
//! hold neither the key nor the email address.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::comment;

fn vigie(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
    cmd.current_dir(dir)
        .env_remove("VIGIE_DATABASE_URL")
        .env_remove("VIGIE_LISTEN")
        .env_remove("VIGIE_CONFIG")
        .env("VIGIE_LOG_FORMAT", "json")
        .env(
            "VIGIE_MODEL_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/models"),
        );
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn keys_are_created_listed_and_revoked_in_the_default_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = stdout_of(vigie(dir.path()).args([
        "keys", "create", "--site", "numerama", "--role", "ingest", "--quiet",
    ]));
    let secret = secret.trim();
    assert!(
        secret.starts_with("vigie_") && secret.len() > 40,
        "{secret}"
    );
    assert!(
        dir.path().join("vigie.db").exists(),
        "no configuration: vigie.db in the working directory"
    );

    let loud = stdout_of(vigie(dir.path()).args([
        "keys",
        "create",
        "--site",
        "numerama",
        "--role",
        "moderator",
        "--name",
        "Camille",
    ]));
    assert!(loud.contains("secret (shown once"), "{loud}");

    let list = stdout_of(vigie(dir.path()).args(["keys", "list"]));
    assert!(
        list.contains("numerama") && list.contains("Camille") && list.contains("ingest"),
        "{list}"
    );
    assert!(!list.contains(secret), "secrets are never listed");

    stdout_of(vigie(dir.path()).args(["keys", "revoke", "1"]));
    let list = stdout_of(vigie(dir.path()).args(["keys", "list"]));
    assert!(list.contains("revoked"), "{list}");
    let missing = vigie(dir.path())
        .args(["keys", "revoke", "99"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let bad_role = vigie(dir.path())
        .args(["keys", "create", "--site", "x", "--role", "root"])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());
}

#[test]
fn config_prints_the_effective_settings_with_secrets_hidden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vigie.toml"),
        "listen = \"127.0.0.1:9999\"\nmax_body_chars = 2000\n",
    )
    .unwrap();
    let out = stdout_of(
        vigie(dir.path())
            .args(["config"])
            .env("VIGIE_SECRET_KEY", "hush-hush")
            .env("VIGIE_DATABASE_URL", "postgres://vigie:pa55word@db/vigie")
            .env("VIGIE_MAX_BODY_CHARS", "3000"),
    );
    assert!(
        out.contains("listen = \"127.0.0.1:9999\""),
        "file layer: {out}"
    );
    assert!(
        out.contains("max_body_chars = 3000"),
        "environment wins over the file: {out}"
    );
    assert!(
        !out.contains("hush-hush") && !out.contains("pa55word"),
        "{out}"
    );
    assert!(out.contains("<hidden>"), "{out}");
}

#[test]
fn serve_logs_json_with_request_ids_and_never_the_key_or_email() {
    let dir = tempfile::tempdir().unwrap();
    let secret = stdout_of(vigie(dir.path()).args([
        "keys", "create", "--site", "s", "--role", "ingest", "--quiet",
    ]));
    let secret = secret.trim().to_owned();
    let mut child = vigie(dir.path())
        .arg("serve")
        .env("VIGIE_LISTEN", "127.0.0.1:0")
        .env("VIGIE_LOG_LEVEL", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    let port = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        log.push(line.clone());
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["message"] == "vigie listening" {
            break v["port"].as_u64().unwrap();
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/v1/comments"))
            .bearer_auth(&secret)
            .json(&comment("c-1", "a-1", "Bonjour"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 201);
    child.kill().unwrap();
    child.wait().unwrap();
    log.extend(lines.map_while(Result::ok));
    let all = log.join("\n");
    assert!(all.contains("request_id"), "{all}");
    assert!(all.contains("comment received"), "{all}");
    assert!(!all.contains(&secret), "the key leaked into the logs");
    assert!(
        !all.contains("fabrice@example.fr"),
        "the email leaked into the logs"
    );
    assert!(
        !all.contains("192.0.2.10"),
        "the reader's IP leaked into the logs"
    );
    for line in &log {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
    }
}

#[test]
fn purge_runs_from_the_command_line_and_says_what_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout_of(
        vigie(dir.path())
            .args(["purge"])
            .env("VIGIE_RETENTION_DAYS", "30"),
    );
    assert!(
        out.contains("purged personal data older than 30 days (IP data: 7 days)"),
        "{out}"
    );
    assert!(out.contains("comment_ip"), "{out}");
    assert!(dir.path().join("vigie.db").exists());
}

#[test]
fn client_errors_are_logged_at_debug_not_warn_and_the_browser_icon_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let secret = stdout_of(vigie(dir.path()).args([
        "keys", "create", "--site", "s", "--role", "ingest", "--quiet",
    ]));
    let secret = secret.trim().to_owned();
    let mut child = vigie(dir.path())
        .arg("serve")
        .env("VIGIE_LISTEN", "127.0.0.1:0")
        .env("VIGIE_LOG_LEVEL", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["message"] == "vigie listening" {
            break v["port"].as_u64().unwrap();
        }
    };
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        // What a browser asks for on every console load.
        for path in ["/favicon.ico", "/console/favicon.svg"] {
            let icon = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(icon.status(), 200, "{path}");
            assert_eq!(icon.headers()["content-type"], "image/svg+xml");
            assert!(icon.text().await.unwrap().starts_with("<svg"));
        }
        let console = http
            .get(format!("{base}/console"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(console.contains(r#"rel="icon""#), "the page names its icon");
        // Client errors: unknown route, no key, invalid body.
        let missing = http.get(format!("{base}/apple-touch-icon.png")).send();
        assert_eq!(missing.await.unwrap().status(), 404);
        let no_key = http.get(format!("{base}/v1/site")).send();
        assert_eq!(no_key.await.unwrap().status(), 401);
        let invalid = http
            .post(format!("{base}/v1/comments"))
            .bearer_auth(&secret)
            .json(&serde_json::json!({"external_id": "c-1"}))
            .send();
        assert_eq!(invalid.await.unwrap().status(), 422);
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let log: Vec<Value> = lines
        .map_while(Result::ok)
        .map(|l| serde_json::from_str(&l).unwrap_or(Value::Null))
        .collect();
    let client_errors: Vec<&Value> = log
        .iter()
        .filter(|v| v["message"] == "client error")
        .collect();
    let statuses: Vec<u64> = client_errors
        .iter()
        .map(|v| v["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [404, 401, 422], "{log:?}");
    assert_eq!(client_errors[2]["field"], "thread", "{log:?}");
    assert_eq!(
        client_errors[1]["problem"],
        "urn:vigie:problem:unauthorized"
    );
    assert!(
        client_errors.iter().all(|v| v["level"] == "DEBUG"),
        "{client_errors:?}"
    );
    let loud: Vec<&Value> = log
        .iter()
        .filter(|v| v["level"] == "WARN" || v["level"] == "ERROR")
        .collect();
    assert!(loud.is_empty(), "client errors logged loudly: {loud:?}");
}

/// A small labelled file and the shipped model's directory, for `vigie eval`.
fn eval_inputs(dir: &std::path::Path) -> String {
    let rows = [
        ("Merci pour cet article très clair.", 0),
        ("Je ne suis pas d'accord avec l'auteur sur ce point.", 0),
        ("Thanks for the detailed explanation.", 0),
        ("Ferme ta gueule, espèce de connard.", 1),
        ("You are a worthless idiot, shut up.", 1),
        ("Bande de sales cons, dégagez.", 1),
    ];
    let mut csv = String::from("text,label\n");
    for (text, label) in rows {
        csv.push_str(&format!("\"{text}\",{label}\n"));
    }
    std::fs::write(dir.join("data.csv"), csv).unwrap();
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
    let version = std::fs::read_to_string(format!("{models}/DEFAULT")).unwrap();
    format!("{models}/{}", version.trim())
}

#[test]
fn eval_creates_the_folder_of_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let model = eval_inputs(dir.path());
    let out = stdout_of(vigie(dir.path()).args([
        "eval",
        "--data",
        "data.csv",
        "--model",
        &model,
        "--report",
        "target/eval/x.md",
    ]));
    assert!(out.contains("n = 6"), "{out}");
    let report = std::fs::read_to_string(dir.path().join("target/eval/x.md")).unwrap();
    assert_eq!(report, out, "the report printed is the one written");
    let svg = std::fs::read_to_string(dir.path().join("target/eval/x.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
}

#[test]
fn eval_with_json_alone_prints_one_object_and_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = eval_inputs(dir.path());
    let out = stdout_of(
        vigie(dir.path()).args(["eval", "--data", "data.csv", "--model", &model, "--json"]),
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["n"], 6);
    assert_eq!(v["positives"], 3);
    assert!(v["roc_auc"].is_number(), "{v}");
    assert_eq!(v["report"], Value::Null);
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["data.csv"], "nothing written beside the data");
}

#[test]
fn webhook_allow_hosts_is_read_as_a_list_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let default = stdout_of(vigie(dir.path()).args(["config"]));
    assert!(default.contains("webhook_allow_hosts = []"), "{default}");
    let out = stdout_of(vigie(dir.path()).args(["config"]).env(
        "VIGIE_WEBHOOK_ALLOW_HOSTS",
        r#"["hooks.internal", "10.0.0.5"]"#,
    ));
    assert!(
        out.contains(r#"webhook_allow_hosts = ["hooks.internal", "10.0.0.5"]"#),
        "{out}"
    );
}

#[test]
fn users_are_invited_from_the_command_line_and_sign_ins_are_logged_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let created = stdout_of(vigie(dir.path()).args([
        "users",
        "create",
        "--site",
        "numerama",
        "--email",
        "Camille@Example.fr",
        "--role",
        "moderator",
        "--name",
        "Camille Martin",
    ]));
    assert!(created.contains("Camille Martin"), "{created}");
    let link = created
        .split_whitespace()
        .find(|w| w.contains("/console/#invitation="))
        .unwrap_or_else(|| panic!("no invitation link in {created}"))
        .to_owned();
    let token = link.rsplit('=').next().unwrap().to_owned();
    let refused = vigie(dir.path())
        .args([
            "users",
            "create",
            "--site",
            "numerama",
            "--email",
            "camille@example.fr",
            "--role",
            "ingest",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "ingest is not a role for people");

    let mut child = vigie(dir.path())
        .arg("serve")
        .env("VIGIE_LISTEN", "127.0.0.1:0")
        .env("VIGIE_LOG_LEVEL", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    let port = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        log.push(line.clone());
        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if v["message"] == "vigie listening" {
            break v["port"].as_u64().unwrap();
        }
    };
    let base = format!("http://127.0.0.1:{port}");
    let password = "le phare de la vigie 1903";
    let wrong = "mauvais mot de passe secret";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for (path, body) in [
            (
                format!("/v1/invitations/{token}"),
                serde_json::json!({"password": password}),
            ),
            (
                "/v1/session".to_owned(),
                serde_json::json!({"email": "camille@example.fr", "password": wrong}),
            ),
            (
                "/v1/session".to_owned(),
                serde_json::json!({"email": "camille@example.fr", "password": password}),
            ),
        ] {
            let r = client
                .post(format!("{base}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        statuses
    });
    assert_eq!(statuses, [200, 401, 201]);
    child.kill().unwrap();
    child.wait().unwrap();
    log.extend(lines.map_while(Result::ok));
    let all = log.join("\n");
    assert!(all.contains("sign-in failed"), "{all}");
    assert!(all.contains("signed in"), "{all}");
    for secret in [password, wrong, "camille@example.fr", token.as_str()] {
        assert!(!all.contains(secret), "{secret} leaked into the logs");
    }

    let list = stdout_of(vigie(dir.path()).args(["users", "list"]));
    assert!(
        list.contains("camille@example.fr") && list.contains("active"),
        "{list}"
    );
    let disabled = stdout_of(vigie(dir.path()).args(["users", "disable", "1"]));
    assert!(disabled.contains("disabled"), "{disabled}");
    let list = stdout_of(vigie(dir.path()).args(["users", "list"]));
    assert!(list.contains("disabled"), "{list}");
    assert!(!vigie(dir.path())
        .args(["users", "disable", "9"])
        .output()
        .unwrap()
        .status
        .success());
}

#[test]
fn eval_on_a_file_with_one_class_says_so_and_prints_no_nan() {
    let dir = tempfile::tempdir().unwrap();
    let model = eval_inputs(dir.path());
    let benign = "text,label\n\"Merci pour cet article.\",0\n\"Bon résumé, merci.\",0\n\"Thanks, very clear.\",0\n";
    std::fs::write(dir.path().join("benign.csv"), benign).unwrap();
    let toxic = "text,label\n\"Ferme ta gueule, connard.\",1\n\"Shut up, you idiot.\",1\n";
    std::fs::write(dir.path().join("toxic.csv"), toxic).unwrap();
    for (file, says) in [
        ("benign.csv", "no positive rows"),
        ("toxic.csv", "no negative rows"),
    ] {
        let md = stdout_of(vigie(dir.path()).args([
            "eval", "--data", file, "--model", &model, "--report", "r.md",
        ]));
        assert!(md.contains(says), "{md}");
        assert!(!md.to_lowercase().contains("nan"), "{md}");
        let svg = std::fs::read_to_string(dir.path().join("r.svg")).unwrap();
        assert!(!svg.contains("NaN"), "{svg}");
        let json = stdout_of(
            vigie(dir.path()).args(["eval", "--data", file, "--model", &model, "--json"]),
        );
        let v: Value = serde_json::from_str(json.trim()).unwrap();
        assert!(v["note"].as_str().unwrap().contains(says), "{v}");
        assert_eq!(v["roc_auc"], Value::Null, "{v}");
    }
    let json = stdout_of(vigie(dir.path()).args([
        "eval",
        "--data",
        "benign.csv",
        "--model",
        &model,
        "--json",
    ]));
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["negatives"], 3);
    assert_eq!(
        v["held_negative_rate"], 0.0,
        "ordinary comments are not held: {v}"
    );
    assert_eq!(v["held_positive_rate"], Value::Null);
}

/// A training configuration over one small file, written in `dir`.
fn train_config(dir: &std::path::Path, text_column: &str, rows: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("data.csv"), format!("body,label\n{rows}")).unwrap();
    let cfg = format!(
        "output_dir = \"out\"\nvalidate = false\n\n[[dataset]]\nname = \"mine\"\npath = \"data.csv\"\nlang = \"fr\"\ntext_column = \"{text_column}\"\nlabel_column = \"label\"\ncategories = [\"toxicity\"]\npositive = {{ \"1\" = [\"toxicity\"], \"0\" = [] }}\n"
    );
    let path = dir.join("training.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// Runs `vigie train --config training.toml` in `dir` (its `output_dir` is `out`) and returns
/// the model card it wrote.
fn train_and_read_card(dir: &std::path::Path) -> String {
    let out = vigie(dir)
        .args(["train", "--config", "training.toml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read_to_string(model.join("MODEL_CARD.md")).unwrap()
}

fn train_error(dir: &std::path::Path) -> String {
    let out = vigie(dir)
        .args(["train", "--config", "training.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "training should have been refused");
    assert!(!dir.join("out").exists(), "no model is written");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn train_refuses_a_config_naming_a_missing_column_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    train_config(dir.path(), "text", "\"Merci.\",0\n\"Connard.\",1\n");
    let err = train_error(dir.path());
    assert!(err.contains("data.csv:1"), "{err}");
    assert!(err.contains("no column `text`"), "{err}");
}

#[test]
fn train_refuses_an_unknown_label_value_with_file_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    train_config(
        dir.path(),
        "body",
        "\"Merci.\",0\n\"Connard.\",1\n\"Bof.\",maybe\n",
    );
    let err = train_error(dir.path());
    assert!(err.contains("data.csv:4"), "{err}");
    assert!(err.contains("`maybe`"), "{err}");
}

#[test]
fn train_refuses_an_unknown_language_in_the_lang_column_with_file_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("data.csv"),
        "body,label,lang\n\"Merci.\",0,fr\n\"Thanks.\",0,en\n\"Danke.\",0,de\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("training.toml"),
        "output_dir = \"out\"\nvalidate = false\n\n[[dataset]]\nname = \"mixed\"\npath = \"data.csv\"\nlang = \"fr\"\nlang_column = \"lang\"\ntext_column = \"body\"\nlabel_column = \"label\"\ncategories = [\"toxicity\"]\npositive = { \"1\" = [\"toxicity\"], \"0\" = [] }\n",
    )
    .unwrap();
    let err = train_error(dir.path());
    assert!(err.contains("data.csv:4"), "{err}");
    assert!(err.contains("unknown language `de`"), "{err}");
    assert!(err.contains("column `lang`"), "{err}");
}

#[test]
fn train_reads_labels_from_votes_and_refuses_a_vote_that_is_not_a_boolean() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("comments.csv"),
        "comment_id,comment_text\n1,Merci.\n2,Connard.\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("votes.csv"),
        "comment_id,worker,not toxic\n1,7,True\n1,8,True\n2,7,False\n2,8,perhaps\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("training.toml"),
        "output_dir = \"out\"\nvalidate = false\n\n[[dataset]]\nname = \"voted\"\n\
         path = \"comments.csv\"\nlang = \"en\"\ntext_column = \"comment_text\"\n\
         label_column = \"not toxic\"\n\
         votes = { path = \"votes.csv\", key_column = \"comment_id\" }\n\
         categories = [\"toxicity\"]\npositive = { \"true\" = [], \"false\" = [\"toxicity\"] }\n\
         holdout_share = 0.5\n",
    )
    .unwrap();
    let err = train_error(dir.path());
    assert!(err.contains("votes.csv:5"), "{err}");
    assert!(err.contains("`perhaps`"), "{err}");
}

#[test]
fn train_reports_how_often_the_first_highlighted_term_is_inside_an_annotated_span() {
    let dir = tempfile::tempdir().unwrap();
    let (mut comments, mut votes, mut spans) = (
        String::from("comment_id,comment_text\n"),
        String::from("annotation,comment_id,not toxic\n"),
        // a byte-order mark before the header, as spreadsheet exports write it
        String::from("\u{feff}annotation,type,start,end\n"),
    );
    let toxic = ["idiot", "crétin", "imbécile", "abruti"];
    for i in 0..120 {
        let (text, span) = if i % 2 == 0 {
            let w = toxic[i / 2 % 4];
            // the span is the insult, in characters ("é" is one)
            let text = format!("Écoute bien {w}, numéro {i}.");
            let start = "Écoute bien ".chars().count();
            (text, Some((start, start + w.chars().count())))
        } else {
            (format!("Écoute bien ce podcast, numéro {i}."), None)
        };
        comments.push_str(&format!("{i},\"{text}\"\n"));
        votes.push_str(&format!(
            "{i},{i},{}\n",
            if span.is_some() { "False" } else { "True" }
        ));
        if let Some((s, e)) = span {
            spans.push_str(&format!("{i},Insult,{s},{e}\n"));
        }
    }
    for (name, text) in [
        ("comments.csv", comments),
        ("votes.csv", votes),
        ("spans.csv", spans),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(
        dir.path().join("training.toml"),
        "output_dir = \"out\"\nvalidate = false\n\n[[dataset]]\nname = \"voted\"\n\
         path = \"comments.csv\"\nlang = \"fr\"\ntext_column = \"comment_text\"\n\
         label_column = \"not toxic\"\n\
         votes = { path = \"votes.csv\", key_column = \"comment_id\", \
         spans = { path = \"spans.csv\", vote_column = \"annotation\" } }\n\
         categories = [\"toxicity\"]\npositive = { \"true\" = [], \"false\" = [\"toxicity\"] }\n\
         holdout_share = 0.4\n",
    )
    .unwrap();
    let card = train_and_read_card(dir.path());
    let section = card
        .split("## Explanations")
        .nth(1)
        .unwrap_or_else(|| panic!("no Explanations section:\n{card}"));
    let row = section
        .lines()
        .find(|l| l.starts_with("| voted_holdout |"))
        .unwrap_or_else(|| panic!("no row for the held-out set:\n{section}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // set, lang, toxic comments with spans, first term inside, any inside, no term, random word
    let toxic_held_out: usize = cells[3].parse().unwrap();
    assert!(toxic_held_out > 10, "{row}");
    let pct = |c: &str| c.trim_end_matches(" %").parse::<f64>().unwrap();
    // the insult is the only word that separates the classes: it is highlighted first, and
    // a word at random (one of five) is inside far less often
    assert_eq!(pct(cells[4]), 100.0, "{row}");
    assert!(pct(cells[7]) < 30.0, "{row}");
    // a span offset that is not a number is refused with its file and line
    std::fs::write(
        dir.path().join("spans.csv"),
        "annotation,type,start,end\n0,Insult,twelve,17\n",
    )
    .unwrap();
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let err = train_error(dir.path());
    assert!(err.contains("spans.csv:2"), "{err}");
    assert!(err.contains("`twelve`"), "{err}");
}

/// `vigie train` with validation compares the shipped design with issue 15's strong TF-IDF
/// baseline on every protocol, held-out sets included, and says where the model beats it by
/// 0.03 ROC AUC and where not.
#[test]
fn train_compares_with_the_strong_tfidf_baseline_on_every_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let insults = ["idiot", "crétin", "imbécile", "abruti", "débile", "guignol"];
    let topics = [
        "le budget",
        "la réforme",
        "le match",
        "la météo",
        "le concert",
    ];
    let rows = |seed: usize, n: usize| -> String {
        let mut s = String::from("body,label\n");
        for i in seed..seed + n {
            let topic = topics[i % topics.len()];
            if i % 2 == 0 {
                let w = insults[i / 2 % insults.len()];
                s.push_str(&format!("\"Sur {topic}, tu es un {w}, numéro {i}.\",1\n"));
            } else {
                s.push_str(&format!("\"Sur {topic}, bon article, numéro {i}.\",0\n"));
            }
        }
        s
    };
    let mut cfg = String::from(
        "output_dir = \"out\"\nvalidate = true\ncompare_dense_linfa = false\nthreads = 2\n",
    );
    for (k, (name, role)) in [
        ("one", "train"),
        ("two", "train"),
        ("later", "holdout"),
        ("calm", "train"),
    ]
    .iter()
    .enumerate()
    {
        let mut csv = rows(k * 1000, 90);
        if *name == "calm" {
            // benign comments only: nothing for leave-dataset-out to measure
            csv = csv
                .lines()
                .filter(|l| !l.ends_with(",1"))
                .collect::<Vec<_>>()
                .join("\n");
        }
        std::fs::write(dir.path().join(format!("{name}.csv")), csv).unwrap();
        cfg.push_str(&format!(
            "\n[[dataset]]\nname = \"{name}\"\npath = \"{name}.csv\"\nrole = \"{role}\"\nlang = \"fr\"\n\
             text_column = \"body\"\nlabel_column = \"label\"\ncategories = [\"toxicity\"]\n\
             positive = {{ \"1\" = [\"toxicity\"], \"0\" = [] }}\n"
        ));
    }
    std::fs::write(dir.path().join("training.toml"), cfg).unwrap();
    let card = train_and_read_card(dir.path());
    assert!(
        card.contains("C chosen by 3-fold cross-validation"),
        "the card says how C was chosen:\n{card}"
    );
    // protocol, set, lang, category, n, pos, AUC stacked, AUC sparse, AUC tfidf, Δ, AP, AP
    let row = |protocol: &str, set: &str| -> Vec<String> {
        let line = card
            .lines()
            .find(|l| l.starts_with(&format!("| {protocol} | {set} |")))
            .unwrap_or_else(|| panic!("no {protocol} row for {set}:\n{card}"));
        line.split('|').map(|c| c.trim().to_string()).collect()
    };
    for (protocol, set) in [
        ("leave-dataset-out", "one"),
        ("leave-dataset-out", "two"),
        ("held-out set (never trained)", "later"),
    ] {
        let cells = row(protocol, set);
        // the insult separates the classes: the baseline ranks them all, and Δ is the
        // difference of the two AUCs
        let tfidf: f32 = cells[9].parse().unwrap_or_else(|_| panic!("{cells:?}"));
        assert!(tfidf > 0.95, "{cells:?}");
        let stacked: f32 = cells[7].parse().unwrap();
        let delta: f32 = cells[10].parse().unwrap();
        assert!((delta - (stacked - tfidf)).abs() < 0.0015, "{cells:?}");
    }
    assert!(
        !card.contains("| leave-dataset-out | calm |")
            && card.contains("Not left out (one class): calm."),
        "a dataset of one class is not left out, and the card says so:\n{card}"
    );
    let summary = card
        .lines()
        .find(|l| l.starts_with("**Against the strong baseline**"))
        .unwrap_or_else(|| panic!("no summary line:\n{card}"));
    assert!(summary.contains("of 3 sets"), "{summary}");
}

/// `dataset_intercepts = true`: each dataset trains with an intercept of its own, the card says
/// so, and the model tells insults from ordinary comments with and without the mostly toxic
/// dataset's word (the weights themselves: `training::sparse`'s unit test).
#[test]
fn train_with_an_intercept_per_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let insults = ["idiot", "crétin", "imbécile", "abruti"];
    // "tweets" is 80 % toxic and always says "wesh"; "news" is 20 % toxic and never does
    let rows = |wesh: bool, toxic_every: usize| -> String {
        let mut s = String::from("body,label\n");
        for i in 0..200 {
            let hi = if wesh { "wesh, " } else { "" };
            if i % 10 < toxic_every {
                let w = insults[i % insults.len()];
                s.push_str(&format!("\"{hi}tu es un {w}, numéro {i}.\",1\n"));
            } else {
                s.push_str(&format!("\"{hi}bon article, numéro {i}.\",0\n"));
            }
        }
        s
    };
    std::fs::write(dir.path().join("tweets.csv"), rows(true, 8)).unwrap();
    std::fs::write(dir.path().join("news.csv"), rows(false, 2)).unwrap();
    let mut cfg =
        String::from("output_dir = \"out\"\nvalidate = false\ndataset_intercepts = true\n");
    for name in ["tweets", "news"] {
        cfg.push_str(&format!(
            "\n[[dataset]]\nname = \"{name}\"\npath = \"{name}.csv\"\nlang = \"fr\"\n\
             text_column = \"body\"\nlabel_column = \"label\"\ncategories = [\"toxicity\"]\n\
             positive = {{ \"1\" = [\"toxicity\"], \"0\" = [] }}\n"
        ));
    }
    std::fs::write(dir.path().join("training.toml"), cfg).unwrap();
    let card = train_and_read_card(dir.path());
    assert!(
        card.contains("**An intercept per dataset while it trains**"),
        "{card}"
    );
    let model = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bodies = [
        "wesh, bon article, numéro 7.",
        "wesh, tu es un crétin, numéro 7.",
        "bon article, numéro 7.",
        "tu es un crétin, numéro 7.",
    ];
    let mut csv = String::from("body\n");
    for b in bodies {
        csv.push_str(&format!("\"{b}\"\n"));
    }
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    let out = stdout_of(vigie(dir.path()).args([
        "score",
        "--input",
        "in.csv",
        "--model",
        model.to_str().unwrap(),
    ]));
    let tox: Vec<f64> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["verdict"]["scores"]["toxicity"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(tox[1] > tox[0] && tox[3] > tox[2], "{tox:?}");
}

#[test]
fn score_writes_one_verdict_per_row_in_input_order_whatever_the_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let model = eval_inputs(dir.path());
    // more rows than one block (16,384), so blocks and the parts of a block both meet
    let bodies = [
        "Merci pour cet article très clair.",
        "Ferme ta gueule, connard.",
        "Gagnez 500 € par jour depuis chez vous : bit.ly/abc",
        "Thanks, very clear.",
        "Il y a des erreurs dans le deuxième paragraphe.",
    ];
    let n = 17_000;
    let mut csv = String::from("body,lang\n");
    for i in 0..n {
        csv.push_str(&format!("\"{} ({i})\",\n", bodies[i % bodies.len()]));
    }
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    let run = |threads: &str| {
        let out = stdout_of(vigie(dir.path()).args([
            "score",
            "--input",
            "in.csv",
            "--model",
            &model,
            "--threads",
            threads,
        ]));
        out.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<Value>>()
    };
    let one = run("1");
    assert_eq!(one.len(), n);
    for (i, line) in one.iter().enumerate() {
        assert_eq!(line["row"], i, "rows in input order");
    }
    let spoken = |i: usize| one[i]["verdict"]["decision"].as_str().unwrap().to_owned();
    assert_eq!(spoken(0), "allow", "{}", one[0]);
    assert_ne!(spoken(1), "allow", "{}", one[1]);
    assert_ne!(spoken(2), "allow", "{}", one[2]);
    assert_eq!(run("3"), one, "three threads write what one writes");
    let o = vigie(dir.path())
        .args(["score", "--input", "in.csv", "--threads", "0"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--threads"));
}
