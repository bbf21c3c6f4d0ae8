//! Webhook delivery: signing (the Standard Webhooks scheme) and the worker that sends what the
//! outbox holds.
//!
//! Each request carries `webhook-id` (the event id, stable across retries: de-duplicate on it),
//! `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature: v1,<base64>`, an
//! HMAC-SHA256 with the endpoint's secret over `{id}.{timestamp}.{body}`. The secret is shown
//! once as `whsec_<base64 of 32 bytes>`; the HMAC key is the decoded bytes. Receivers can use
//! any Standard Webhooks library, or the ten lines in the README.
//!
//! Receivers on internal addresses are refused (server-side request forgery): loopback, private,
//! link-local, unique-local, shared (CGNAT), unspecified, broadcast and multicast addresses, and
//! `localhost`. A literal address is refused when the endpoint is created; a host name is
//! checked when it is resolved, at each delivery (a name that later points inside is caught, and
//! the connection goes to the address that was checked). `webhook_allow_hosts` names the hosts
//! that may be internal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
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
/// per-request timeout, and host names resolved only to addresses Vigie may reach (`allow`
/// lifts that for the hosts it names).
pub fn client(timeout: Duration, allow: AllowedHosts) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver { allow }))
        .user_agent(concat!("Vigie-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with rustls and no custom roots builds")
}

/// An address a webhook must not reach unless its host is allowed: this machine, the private
/// networks, link-local and multicast ranges (IPv4-mapped IPv6 addresses by their IPv4 part).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal_v4(v4),
            None => is_internal_v6(v6),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), RFC 6598
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still routed inside)
}

/// The hosts of `webhook_allow_hosts`: names (case-insensitive, exact) and IP addresses that
/// receivers may use even when they are internal.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    names: Vec<String>,
    ips: Vec<IpAddr>,
}

impl AllowedHosts {
    pub fn new(list: &[String]) -> AllowedHosts {
        let mut allowed = AllowedHosts::default();
        for entry in list {
            let host = normalise_host(entry);
            match host.parse::<IpAddr>() {
                Ok(ip) => allowed.ips.push(ip),
                Err(_) if !host.is_empty() => allowed.names.push(host),
                Err(_) => {}
            }
        }
        allowed
    }

    /// Whether `host` (a URL's host: a name, an IPv4 address or a bracketed IPv6 one) is listed.
    pub fn allows(&self, host: &str) -> bool {
        let host = normalise_host(host);
        match host.parse::<IpAddr>() {
            Ok(ip) => self.ips.contains(&ip),
            Err(_) => self.names.contains(&host),
        }
    }
}

/// Lower case, without IPv6 brackets or the root's trailing dot.
fn normalise_host(host: &str) -> String {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase()
}

/// The URL's host when it is a literal internal address or a name of this machine
/// (`localhost`, `*.localhost`) that `allow` does not list. Names that resolve inside are caught
/// at delivery, when they are resolved.
pub fn refused_destination(url: &url::Url, allow: &AllowedHosts) -> Option<String> {
    let host = url.host()?;
    let host_text = url.host_str().unwrap_or_default();
    if allow.allows(host_text) {
        return None;
    }
    let internal = match host {
        url::Host::Ipv4(ip) => is_internal(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => is_internal(IpAddr::V6(ip)),
        url::Host::Domain(name) => {
            let name = normalise_host(name);
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    internal.then(|| host_text.to_owned())
}

/// The reason a delivery was not attempted: the host resolved only to internal addresses.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to internal addresses (not in webhook_allow_hosts)")]
pub struct InternalDestination(String);

/// Resolves with the system resolver, then drops internal addresses unless the host is allowed.
struct GuardedResolver {
    allow: AllowedHosts,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.allow.allows(&host);
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allowed || !is_internal(a.ip()))
                .collect();
            if usable.is_empty() {
                return Err(Box::new(InternalDestination(host)) as _);
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
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
    let allow = AllowedHosts::new(&settings.webhook_allow_hosts);
    let mut sends = Vec::with_capacity(n);
    for d in due {
        let client = client.clone();
        let key = state
            .open(SEAL_PURPOSE, &d.secret_sealed)
            .and_then(|s| secret_key(std::str::from_utf8(&s).ok()?));
        let allow = allow.clone();
        sends.push(tokio::spawn(async move {
            let outcome = send(&client, &d, key.as_deref(), &allow).await;
            (d, outcome)
        }));
    }
    let base = Duration::from_millis(settings.webhook_retry_base_ms.max(1));
    for handle in sends {
        let (d, outcome) = handle.await?;
        if !outcome.succeeded() {
            tracing::warn!(
                endpoint_id = d.delivery.endpoint_id.0,
                delivery_id = d.delivery.id.0,
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

async fn send(
    client: &reqwest::Client,
    d: &DueDelivery,
    key: Option<&[u8]>,
    allow: &AllowedHosts,
) -> AttemptOutcome {
    let started = Instant::now();
    // Literal addresses are not resolved, so the resolver cannot check them: checked here
    // (an endpoint created before the check existed, or with a host since removed from the list).
    if let Some(host) = url::Url::parse(&d.url)
        .ok()
        .and_then(|u| refused_destination(&u, allow))
    {
        return AttemptOutcome {
            status_code: None,
            error: Some(format!(
                "not sent: {host} is an internal address (not in webhook_allow_hosts)"
            )),
            duration_ms: 0,
        };
    }
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
            } else if let Some(internal) = internal_destination(&e) {
                format!("not sent: {internal}")
            } else if e.is_connect() {
                "connection failed".to_owned()
            } else {
                "request failed".to_owned()
            }),
            duration_ms,
        },
    }
}

/// The resolver's refusal, when that is why a request failed.
fn internal_destination(e: &reqwest::Error) -> Option<&InternalDestination> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(found) = err.downcast_ref::<InternalDestination>() {
            return Some(found);
        }
        source = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised_and_public_ones_are_not() {
        for internal in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.215.14",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "2001:db8::1",
            "2a00:1450:4007::1",
            "::ffff:93.184.215.14",
        ] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    /// The resolver path: a name (here `localhost`) that resolves to loopback is refused by the
    /// worker's client itself, and reached once listed.
    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_not_connected_to_unless_listed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                        .await;
                });
            }
        });
        let url = format!("http://localhost:{port}/hooks");
        let refused = client(Duration::from_secs(5), AllowedHosts::default())
            .post(&url)
            .send()
            .await
            .unwrap_err();
        let reason = internal_destination(&refused).expect("refused by the resolver");
        assert_eq!(
            reason.to_string(),
            "localhost resolves only to internal addresses (not in webhook_allow_hosts)"
        );
        let allowed = client(
            Duration::from_secs(5),
            AllowedHosts::new(&["localhost".into()]),
        )
        .post(&url)
        .send()
        .await
        .unwrap();
        assert_eq!(allowed.status(), 204);
    }

    #[test]
    fn literal_internal_hosts_and_localhost_are_refused_unless_listed() {
        let none = AllowedHosts::default();
        for url in [
            "http://127.0.0.1/hooks",
            "http://10.0.0.1:8080/hooks",
            "http://[::1]/hooks",
            "http://localhost/hooks",
            "http://LOCALHOST./hooks",
            "http://api.localhost/hooks",
            "http://[::ffff:192.168.0.1]/hooks",
            "http://2130706433/hooks", // 127.0.0.1 written as a number
        ] {
            let u = url::Url::parse(url).unwrap();
            assert!(refused_destination(&u, &none).is_some(), "{url}");
        }
        let u = url::Url::parse("https://hooks.example.fr/x").unwrap();
        assert_eq!(refused_destination(&u, &none), None);
        let allow = AllowedHosts::new(&["127.0.0.1".into(), "[::1]".into(), "LocalHost".into()]);
        for url in [
            "http://127.0.0.1:9000/hooks",
            "http://[::1]/hooks",
            "http://localhost/hooks",
        ] {
            let u = url::Url::parse(url).unwrap();
            assert_eq!(refused_destination(&u, &allow), None, "{url}");
        }
        let u = url::Url::parse("http://10.0.0.1/hooks").unwrap();
        assert!(refused_destination(&u, &allow).is_some());
    }

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
