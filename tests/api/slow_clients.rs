//! Slow and greedy clients, spoken to over raw TCP: a body that trickles in is cut off with 408,
//! a full set of such connections does not keep `/healthz` or intake from answering, and
//! `Expect: 100-continue` over the size limit is refused before the body is sent.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vigie::domain::Role;

use crate::helpers::{comment, spawn_app_with, Backend, TestApp};

crate::on_both_backends!(
    a_body_sent_one_byte_a_second_is_answered_408_and_the_connection_closed,
    healthz_and_intake_answer_while_slow_clients_hold_every_connection,
    expect_continue_over_the_size_limit_is_answered_413_without_100_continue,
    expect_continue_within_the_limit_is_continued_and_the_comment_taken,
    a_chunked_body_left_unread_does_not_hold_the_connection,
);

/// Longest a test waits for any answer: far above the 1 s body timeout the tests set, so it
/// only turns a hang (no timeout at all) into a failure.
const NO_ANSWER: Duration = Duration::from_secs(60);

fn address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// The head of a `POST /v1/comments` announcing `len` body bytes.
fn post_head(app: &TestApp, key: &str, len: usize, extra: &str) -> String {
    format!(
        "POST /v1/comments HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\n{extra}\r\n",
        address(app)
    )
}

/// Opens a connection to `address`, sends `head`, then `body` one byte every `pace`; returns
/// everything the server sent, read until it closed the connection (`None`: still open after
/// [`NO_ANSWER`]).
async fn trickle(address: String, head: String, body: Vec<u8>, pace: Duration) -> Option<String> {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(head.as_bytes()).await?;
        for byte in body {
            tokio::time::sleep(pace).await;
            wr.write_all(&[byte]).await?;
        }
        Ok::<_, std::io::Error>(wr)
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(NO_ANSWER, rd.read_to_end(&mut answer)).await;
    writer.abort();
    read.ok()
        .map(|_| String::from_utf8_lossy(&answer).into_owned())
}

fn status_of(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("")
}

fn valid_comment() -> Vec<u8> {
    serde_json::to_vec(&comment("c-slow", "a-1", "Un avis posté très lentement.")).unwrap()
}

async fn a_body_sent_one_byte_a_second_is_answered_408_and_the_connection_closed(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.body_read_timeout_secs = 1).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let body = valid_comment();
    let head = post_head(&app, &key, body.len(), "");
    // An answer at all means the server closed the connection.
    let answer = trickle(address(&app), head, body, Duration::from_secs(1))
        .await
        .expect("no answer and the connection still open");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(
        lower.contains("urn:vigie:problem:request-timeout"),
        "{answer}"
    );
    assert_eq!(app.count("comments").await, 0);
}

async fn healthz_and_intake_answer_while_slow_clients_hold_every_connection(backend: Backend) {
    const LIMIT: usize = 8;
    let Some(app) = spawn_app_with(backend, |s| {
        s.body_read_timeout_secs = 1;
        s.max_connections = LIMIT;
    })
    .await
    else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let body = valid_comment();
    // Three times the connection limit: the worker is full and more wait in the backlog.
    let slow: Vec<_> = (0..3 * LIMIT)
        .map(|_| {
            let head = post_head(&app, &key, body.len(), "");
            let pace = Duration::from_millis(500);
            tokio::spawn(trickle(address(&app), head, body.clone(), pace))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let client = reqwest::Client::builder()
        .timeout(NO_ANSWER)
        .build()
        .unwrap();
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let intake = client
        .post(app.url("/v1/comments"))
        .bearer_auth(&key)
        .json(&comment("c-fast", "a-1", "Un avis posté normalement."))
        .send()
        .await
        .unwrap();
    assert_eq!(intake.status(), 201);

    for task in slow {
        let answer = task
            .await
            .unwrap()
            .expect("a slow client was never answered");
        assert_eq!(status_of(&answer), "408", "{answer}");
    }
    assert_eq!(app.count("comments").await, 1);
}

async fn expect_continue_over_the_size_limit_is_answered_413_without_100_continue(
    backend: Backend,
) {
    let Some(app) = spawn_app_with(backend, |s| s.max_request_bytes = 1024).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    let head = post_head(&app, &key, 1025, "Expect: 100-continue\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // The body is never sent: the answer must come, and the connection close, without it.
    let mut answer = Vec::new();
    tokio::time::timeout(NO_ANSWER, stream.read_to_end(&mut answer))
        .await
        .expect("no answer without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(
        answer.contains("urn:vigie:problem:payload-too-large"),
        "{answer}"
    );
    assert_eq!(app.count("comments").await, 0);
}

async fn expect_continue_within_the_limit_is_continued_and_the_comment_taken(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.max_request_bytes = 1024).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    let body = valid_comment();
    assert!(body.len() <= 1024);
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    let head = post_head(&app, &key, body.len(), "Expect: 100-continue\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = [0u8; 25];
    tokio::time::timeout(NO_ANSWER, stream.read_exact(&mut interim))
        .await
        .expect("no 100 Continue")
        .unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(&body).await.unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(NO_ANSWER, stream.read_exact(&mut answer))
        .await
        .expect("no answer after the body")
        .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 201");
    assert_eq!(app.count("comments").await, 1);
}

async fn a_chunked_body_left_unread_does_not_hold_the_connection(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |s| s.body_read_timeout_secs = 1).await else {
        return;
    };
    let key = app.key("s", Role::Ingest).await;
    // Answered before the body is read whole (no key; a route that takes no body; too slow):
    // actix would drain such a chunked body for as long as the client keeps sending it.
    let chunks = b"1\r\na\r\n".repeat(200);
    let with_key = format!(
        "POST /v1/comments HTTP/1.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\n"
    );
    for (head, status) in [
        (
            "POST /v1/comments HTTP/1.1\r\nContent-Type: application/json\r\n",
            "401",
        ),
        ("GET /healthz HTTP/1.1\r\n", "200"),
        (with_key.as_str(), "408"),
    ] {
        let head = format!("{head}Host: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        let answer = trickle(
            address(&app),
            head,
            chunks.clone(),
            Duration::from_millis(100),
        )
        .await
        .expect("the connection stayed open while the unread body trickled in");
        assert_eq!(status_of(&answer), status, "{answer}");
    }
}
