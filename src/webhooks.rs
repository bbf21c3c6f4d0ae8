//! Webhook delivery: signing (the Standard Webhooks scheme) and the worker that sends what the
//! outbox holds.
//!
//! Each request carries `webhook-id` (the event id, stable across retries: de-duplicate on it),
//! `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature: v1,<base64>`, an
//! HMAC-SHA256 with the endpoint's secret over `{id}.{timestamp}.{body}`. The secret is shown
//! once as `whsec_<base64 of 32 bytes>`; the HMAC key is the decoded bytes. Receivers can use
//! any Standard Webhooks library, or the ten lines in the README.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::state::AppState;
use crate::store::outbox::{self, AttemptOutcome, DueDelivery, MAX_RETRY_DELAY_SECS};

/// The prefix of a shown webhook secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The `purpose` a webhook secret is sealed under.
pub const SEAL_PURPOSE: &str = "webhook-secret";

/// A fresh secret in its shown form.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The HMAC key of a shown secret.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// The `webhook-signature` value of a body.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Delay before retry number `attempt` (1 = the first retry): `base` doubled each time, at
/// most an hour, times a random factor in [0.5, 1.5) so that receivers coming back are not
/// hit by every replica at once.
pub fn retry_delay(base: Duration, attempt: i32) -> chrono::Duration {
    let exp = attempt.clamp(1, 30) as u32 - 1;
    let base_ms = base.as_millis().min(u128::from(u32::MAX)) as u64;
    let capped = base_ms
        .saturating_mul(1u64 << exp.min(20))
        .min(MAX_RETRY_DELAY_SECS as u64 * 1000);
    let jitter: f64 = rand::thread_rng().gen_range(0.5..1.5);
    chrono::Duration::milliseconds((capped as f64 * jitter) as i64)
}

/// The HTTP client of the worker: no redirects followed (a receiver answers itself), a
/// per-request timeout.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Vigie-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with rustls and no custom roots builds")
}

/// Sends one batch of due deliveries and records each outcome; the number sent.
pub async fn deliver_due(state: &AppState, client: &reqwest::Client) -> anyhow::Result<usize> {
    let settings = &state.settings;
    let limit = settings.webhook_concurrency.clamp(1, 64) as i64;
    // The lease outlives one attempt: a replica that dies mid-send leaves the row to others.
    let lease = chrono::Duration::milliseconds(settings.webhook_timeout_ms as i64)
        + chrono::Duration::seconds(30);
    let pool = state.pool.clone();
    let due = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        outbox::claim_due(&mut conn, lease, limit)
    })
    .await??;
    let n = due.len();
    let mut sends = Vec::with_capacity(n);
    for d in due {
        let client = client.clone();
        let key = state
            .open(SEAL_PURPOSE, &d.secret_sealed)
            .and_then(|s| secret_key(std::str::from_utf8(&s).ok()?));
        sends.push(tokio::spawn(async move {
            let outcome = send(&client, &d, key.as_deref()).await;
            (d, outcome)
        }));
    }
    let base = Duration::from_millis(settings.webhook_retry_base_ms.max(1));
    for handle in sends {
        let (d, outcome) = handle.await?;
        if !outcome.succeeded() {
            tracing::warn!(
                endpoint_id = d.delivery.endpoint_id,
                delivery_id = d.delivery.id,
                status = outcome.status_code,
                error = outcome.error.as_deref(),
                "webhook delivery failed"
            );
        }
        let delay = retry_delay(base, d.delivery.attempts + 1);
        let pool = state.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            outbox::record_attempt(&mut conn, &d.delivery, &outcome, delay)
        })
        .await??;
    }
    Ok(n)
}

async fn send(client: &reqwest::Client, d: &DueDelivery, key: Option<&[u8]>) -> AttemptOutcome {
    let started = Instant::now();
    let Some(key) = key else {
        return AttemptOutcome {
            status_code: None,
            error: Some("the endpoint's secret cannot be opened with this instance key".into()),
            duration_ms: 0,
        };
    };
    let timestamp = chrono::Utc::now().timestamp();
    let body = &d.delivery.payload;
    let result = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature(key, &d.delivery.event_id, timestamp, body),
        )
        .header("vigie-event", &d.delivery.event_type)
        .body(body.clone())
        .send()
        .await;
    let duration_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok(resp) => AttemptOutcome {
            status_code: Some(resp.status().as_u16()),
            error: (!resp.status().is_success()).then(|| format!("HTTP {}", resp.status())),
            duration_ms,
        },
        Err(e) => AttemptOutcome {
            status_code: None,
            error: Some(if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                "request failed".to_owned()
            }),
            duration_ms,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_decode_to_32_bytes() {
        let s = new_secret();
        assert!(s.starts_with(SECRET_PREFIX));
        assert_eq!(secret_key(&s).unwrap().len(), 32);
        assert_ne!(new_secret(), s);
    }

    #[test]
    fn retry_delays_double_with_jitter_and_stay_under_an_hour() {
        let base = Duration::from_secs(10);
        for attempt in 1..40 {
            let d = retry_delay(base, attempt).num_milliseconds();
            let nominal = (10_000u64 << (attempt - 1).min(20) as u32).min(3_600_000) as i64;
            assert!(d >= nominal / 2 && d < nominal * 3 / 2, "{attempt}: {d}");
        }
    }
}
