//! `GET /metrics`: Prometheus text. Request counts and latencies per route pattern and status,
//! intake outcomes, and, computed when scraped, queue depths, expired claims, the database pool
//! and the build.
//!
//! Each app owns its recorder (`PrometheusBuilder::build_recorder`, kept in app data) instead of
//! installing a process-wide one: a global recorder can be set once per process, so tests that
//! run many apps in one process would share (and mix) their figures. Recording goes through
//! `metrics::with_local_recorder`, which points the `metrics` macros at this app's recorder for
//! the duration of one synchronous call. Labels are bounded: route patterns (never raw paths),
//! status codes, queue names. Nothing per comment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::state::AppState;
use crate::store;

/// Latency buckets (seconds): intake is expected in milliseconds, slow pages in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Histogram samples are buffered until drained; without a scrape they would pile up.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The label of requests that matched no route (the raw path would be unbounded).
const UNMATCHED: &str = "unmatched";

/// One app's metrics: its recorder and what renders it.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    started: Instant,
    last_upkeep_ms: Arc<AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            recorder: Arc::new(recorder),
            handle,
            started: Instant::now(),
            last_upkeep_ms: Arc::new(AtomicU64::new(0)),
        };
        metrics.record(|| {
            metrics::describe_counter!(
                "vigie_http_requests_total",
                "HTTP requests answered, by method, route pattern and status"
            );
            metrics::describe_histogram!(
                "vigie_http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to the response head, by method, route pattern and status"
            );
            metrics::describe_counter!(
                "vigie_comments_intake_total",
                "Comments received on POST /v1/comments: created (201) or duplicate (200), by the status the comment has"
            );
            metrics::describe_gauge!(
                "vigie_queue_depth",
                "Comments in a moderation queue, all sites (when scraped)"
            );
            metrics::describe_gauge!(
                "vigie_claims_expired",
                "Claims past their lease not yet taken again (when scraped)"
            );
            metrics::describe_gauge!(
                "vigie_webhook_deliveries",
                "Webhook deliveries waiting in the outbox (pending) or given up after 24 h (failed), all sites (when scraped)"
            );
            metrics::describe_gauge!(
                "vigie_db_up",
                "1 when the scrape-time queries answered"
            );
            metrics::describe_gauge!(
                "vigie_db_pool_connections",
                "Open connections of this process's pool"
            );
            metrics::describe_gauge!(
                "vigie_db_pool_idle_connections",
                "Idle connections of this process's pool"
            );
            metrics::describe_gauge!(
                "vigie_db_pool_max_connections",
                "The pool's size (pool_size; on SQLite one more, kept by the intake writer)"
            );
            metrics::describe_gauge!("vigie_build_info", "Always 1; the version in a label");
            metrics::describe_counter!(
                "vigie_verdicts_total",
                "Scoring verdicts of new comments by decision and highest-scoring category"
            );
            metrics::describe_gauge!(
                "vigie_model_info",
                "Always 1; the loaded model's version in a label"
            );
        });
        metrics
    }

    /// Runs `f` with this app's recorder behind the `metrics` macros (synchronous only).
    pub fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self.recorder.as_ref(), f)
    }

    /// Drains buffered histogram samples now and then, scraped or not.
    fn upkeep(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_upkeep_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= UPKEEP_EVERY.as_millis() as u64
            && self
                .last_upkeep_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.handle.run_upkeep();
        }
    }

    /// The text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// Middleware (`middleware::from_fn`): counts and times every request by route pattern.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(metrics) = req.app_data::<web::Data<Metrics>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    };
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let result = next.call(req).await;
    let elapsed = start.elapsed().as_secs_f64();
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let res = result.map(|r| r.map_into_boxed_body());
    // The comment's resulting status is in the answer: read it for intake's successes only.
    let mut intake = None;
    if method == "POST" && route == "/v1/comments" && (status == 200 || status == 201) {
        if let Some(labels) = res
            .as_ref()
            .ok()
            .and_then(|r| r.response().extensions().get::<IntakeLabels>().copied())
        {
            let (comment_status, verdict) = (labels.status, labels.verdict);
            intake = Some((
                if status == 201 {
                    "created"
                } else {
                    "duplicate"
                },
                comment_status,
                // A resend repeats the first verdict: count verdicts once.
                verdict.filter(|_| status == 201),
            ));
        }
    }
    metrics.record(|| {
        let labels = [
            ("method", method),
            ("route", route),
            ("status", status.as_u16().to_string()),
        ];
        metrics::counter!("vigie_http_requests_total", &labels).increment(1);
        metrics::histogram!("vigie_http_request_duration_seconds", &labels).record(elapsed);
        if let Some((outcome, comment_status, verdict)) = intake {
            metrics::counter!("vigie_comments_intake_total",
                "outcome" => outcome, "status" => comment_status)
            .increment(1);
            if let Some((decision, category)) = verdict {
                metrics::counter!("vigie_verdicts_total",
                    "decision" => decision, "category" => category)
                .increment(1);
            }
        }
    });
    metrics.upkeep();
    res
}

/// The verdict's decision and its highest-scoring category, as label values.
pub type VerdictLabels = (&'static str, &'static str);

/// The comment's status and verdict labels of an intake answer, put in the response's
/// extensions by the handler (no parsing of the body again here).
#[derive(Debug, Clone, Copy)]
pub struct IntakeLabels {
    pub status: &'static str,
    pub verdict: Option<VerdictLabels>,
}

impl IntakeLabels {
    pub fn of(status: &str, verdict: Option<&serde_json::Value>) -> IntakeLabels {
        IntakeLabels {
            status: known_status(status),
            verdict: verdict.and_then(verdict_labels),
        }
    }
}

/// Fixed label values only: the decision, and which category scored highest.
fn verdict_labels(v: &serde_json::Value) -> Option<VerdictLabels> {
    let decision = match v["decision"].as_str()? {
        "allow" => "allow",
        "review" => "review",
        "reject" => "reject",
        _ => "unknown",
    };
    let toxicity = v["scores"]["toxicity"].as_f64().unwrap_or(0.0);
    let spam = v["scores"]["spam"].as_f64().unwrap_or(0.0);
    Some((decision, if spam > toxicity { "spam" } else { "toxicity" }))
}

/// Only statuses Vigie knows become label values.
fn known_status(s: &str) -> &'static str {
    s.parse::<crate::domain::CommentStatus>()
        .map(|s| s.as_str())
        .unwrap_or("unknown")
}

/// Prometheus text exposition. No key: bind it to a private interface or filter it in the
/// reverse proxy.
#[get("/metrics")]
pub async fn metrics_route(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> HttpResponse {
    let scraped = store::run(&state.pool, store::statistics::depths).await;
    let pool = state.pool.state();
    let backend = store::Backend::from_url(&state.settings.database_url).name();
    metrics.record(|| {
        match &scraped {
            Ok(d) => {
                for (queue, n) in [
                    ("pending", d.pending),
                    ("reported", d.reported),
                    ("unmoderated", d.unmoderated),
                ] {
                    metrics::gauge!("vigie_queue_depth", "queue" => queue).set(n as f64);
                }
                metrics::gauge!("vigie_claims_expired").set(d.claims_expired as f64);
                for (status, n) in [
                    ("pending", d.webhooks_pending),
                    ("failed", d.webhooks_failed),
                ] {
                    metrics::gauge!("vigie_webhook_deliveries", "status" => status).set(n as f64);
                }
                metrics::gauge!("vigie_db_up").set(1.0);
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: database figures unavailable");
                metrics::gauge!("vigie_db_up").set(0.0);
            }
        }
        metrics::gauge!("vigie_db_pool_connections").set(f64::from(pool.connections));
        metrics::gauge!("vigie_db_pool_idle_connections").set(f64::from(pool.idle_connections));
        metrics::gauge!("vigie_db_pool_max_connections").set(f64::from(state.pool.max_size()));
        metrics::gauge!("vigie_build_info",
            "version" => env!("CARGO_PKG_VERSION"), "backend" => backend)
        .set(1.0);
        metrics::gauge!("vigie_model_info",
            "version" => state.judge.model_version().to_owned())
        .set(1.0);
    });
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .body(metrics.render())
}
