//! Builds the application: pool, migrations, state, routes; binds the listener (port 0 in tests).

use std::net::TcpListener;
use std::time::Duration;

use actix_http::{HttpService, KeepAlive};
use actix_service::{map_config, IntoServiceFactory};
use actix_web::dev::{fn_service, AppConfig, Server};
use actix_web::{web, App};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::state::AppState;
use crate::store;

/// A bound, not yet running, server.
pub struct Application {
    pub port: u16,
    pub server: Server,
    pub state: AppState,
    /// Webhook delivery and the retention purge; stops when dropped.
    pub background: crate::background::Background,
}

/// How long a closing connection may take to shut down (actix's default, set deliberately).
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// First pause between two tries to reach PostgreSQL at start.
const FIRST_RETRY: std::time::Duration = std::time::Duration::from_millis(250);

/// Opens the pool and migrates. PostgreSQL may come up after Vigie (compose, Kubernetes): until
/// `db_startup_wait_secs` have passed, a failure to connect is logged and tried again after a
/// pause that starts at 250 ms and doubles up to `db_retry_max_ms`. A SQLite file is opened
/// once, and a migration that fails is not retried.
pub fn connect_and_migrate(settings: &Settings) -> anyhow::Result<(store::DbPool, Vec<String>)> {
    let wait = match store::Backend::from_url(&settings.database_url) {
        store::Backend::Postgres(_) => {
            std::time::Duration::from_secs(settings.db_startup_wait_secs)
        }
        store::Backend::Sqlite(_) => std::time::Duration::ZERO,
    };
    let deadline = std::time::Instant::now() + wait;
    let max_pause = std::time::Duration::from_millis(settings.db_retry_max_ms.max(1));
    let mut pause = FIRST_RETRY.min(max_pause);
    let mut attempt = 1u32;
    let pool = loop {
        match store::connect(&settings.db_options()) {
            Ok(pool) => break pool,
            Err(e) if std::time::Instant::now() + pause < deadline => {
                // The error names the backend and PostgreSQL's message, never the URL.
                tracing::warn!(attempt, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64,
                    "database not reachable yet");
                std::thread::sleep(pause);
                pause = (pause * 2).min(max_pause);
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let applied = store::migrate(&pool)?;
    Ok((pool, applied))
}

/// Opens the database, migrates it, and prepares the shared state.
pub fn prepare_state(settings: Settings) -> anyhow::Result<AppState> {
    let judge = crate::judge::Judge::load(
        std::path::Path::new(&settings.model_dir),
        settings.rules_file.as_deref().map(std::path::Path::new),
    )?;
    tracing::info!(model = judge.model_version(), "model loaded");
    let (pool, applied) = connect_and_migrate(&settings)?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "database migrated");
    }
    let mut conn = pool.get().context("no database connection")?;
    let key = store::sites::instance_secret(&mut conn, settings.secret_key.as_deref())
        .context("cannot read the hashing key")?;
    // Backtests left queued or running by a process that stopped will never end: failed. A
    // SQLite file is served by one process, so all of them; on PostgreSQL another replica may
    // be running one, so those it has not touched for a while.
    let stale_before = match store::Backend::from_url(&settings.database_url) {
        store::Backend::Sqlite(_) => store::now() + chrono::Duration::seconds(1),
        store::Backend::Postgres(_) => store::now() - crate::backtest::STALE_AFTER,
    };
    let stale = store::backtests::fail_stale(&mut conn, stale_before)
        .context("cannot mark interrupted backtests")?;
    if stale > 0 {
        tracing::warn!(backtests = stale, "interrupted backtests marked failed");
    }
    drop(conn);
    let writer = match store::Backend::from_url(&settings.database_url) {
        store::Backend::Sqlite(_) => Some(store::writer::Writer::start(&pool)?),
        store::Backend::Postgres(_) => None,
    };
    Ok(AppState::new(pool, settings, key, judge, writer))
}

impl Application {
    /// Binds `settings.listen` and builds the server.
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let workers = settings.workers;
        let state = prepare_state(settings)?;
        Self::with_listener(listener, state, workers)
    }

    /// Builds the server on `listener` (bound already; port 0 in tests) with `state`'s settings;
    /// `workers` 0 is one per core. The background worker starts here too.
    pub fn with_listener(
        listener: TcpListener,
        state: AppState,
        workers: usize,
    ) -> anyhow::Result<Application> {
        let addr = listener.local_addr()?;
        let port = addr.port();
        let data = web::Data::new(state.clone());
        // One recorder per app, shared by its workers (see `metrics`).
        let metrics = web::Data::new(crate::metrics::Metrics::new());
        let perspective = web::Data::new(crate::routes::perspective::PerspectiveCalibration::load(
            &state,
        ));
        let app = move || {
            crate::routes::mount(App::new())
                .app_data(data.clone())
                .app_data(metrics.clone())
                .app_data(perspective.clone())
                .service(crate::metrics::metrics_route)
                .default_service(web::to(crate::routes::not_found))
                .wrap(actix_web::middleware::from_fn(
                    crate::auth::authenticate_first,
                ))
                .wrap(actix_web::middleware::from_fn(crate::extract::edge))
                .wrap(actix_web::middleware::from_fn(
                    crate::routes::perspective::google_errors,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::telemetry::request_id_header,
                ))
                .wrap(actix_web::middleware::from_fn(crate::metrics::track))
                .wrap(TracingLogger::<crate::telemetry::VigieRootSpanBuilder>::new())
                .wrap(actix_web::middleware::from_fn(
                    crate::routes::perspective::key_out_of_url,
                ))
        };
        let s = &state.settings;
        let limit = s.max_request_bytes;
        let keep_alive = match s.keep_alive_secs {
            0 => KeepAlive::Disabled,
            secs => KeepAlive::Timeout(Duration::from_secs(secs)),
        };
        let header_timeout = Duration::from_secs(s.header_read_timeout_secs.max(1));
        let builder = server_builder(s, workers);
        let shutdown = builder.graceful_shutdown_signal();
        let builder = builder.listen("vigie-http", listener, move || {
            let shutdown = shutdown.clone();
            HttpService::build()
                // Idle keep-alive connections close as soon as a graceful shutdown starts.
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .keep_alive(keep_alive)
                .client_request_timeout(header_timeout)
                .client_disconnect_timeout(DISCONNECT_TIMEOUT)
                .local_addr(addr)
                .expect(fn_service(move |req| {
                    crate::extract::expect_continue(limit, req)
                }))
                // `AppConfig::new` is private to actix-web; this is its public twin, the one
                // actix-test uses (HttpServer passes the same three values).
                .finish(map_config(app().into_factory(), move |_| {
                    AppConfig::__priv_test_new(false, addr.to_string(), addr)
                }))
                .tcp()
        })?;
        let background = crate::background::Background::start(state.clone())
            .context("cannot start the background worker")?;
        Ok(Application {
            port,
            server: builder.run(),
            state,
            background,
        })
    }
}

/// The server's accept loop: shutdown grace, connection cap and workers from the settings.
/// actix-web's `HttpServer` cannot decide `Expect: 100-continue` (it always answers `100
/// Continue`): the server is assembled from its parts as `HttpServer::listen` does, with our
/// expect handler, and the same defaults otherwise.
fn server_builder(s: &Settings, workers: usize) -> actix_server::ServerBuilder {
    let builder = actix_server::Server::build()
        // On SIGTERM/SIGINT: stop accepting, let in-flight requests finish for this long.
        .shutdown_timeout(s.shutdown_timeout_secs)
        // At the limit a worker stops accepting: new connections wait in the kernel's
        // backlog instead of using up the process's file descriptors.
        .max_concurrent_connections(s.max_connections.max(1));
    if workers > 0 {
        builder.workers(workers)
    } else {
        builder
    }
}
