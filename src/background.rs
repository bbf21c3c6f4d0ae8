//! Work every replica does besides answering requests: webhook delivery from the outbox, e-mail
//! alerts (the checker of waiting queues and digests, and sending from the mail outbox) and the
//! scheduled retention purge. It runs on its own thread and small runtime, so a slow
//! receiver never holds an HTTP worker, and stops when its [`Background`] handle is dropped.

use std::time::{Duration, Instant};

use crate::state::AppState;

/// The running background work; dropping it (or [`Background::stop`]) ends it.
pub struct Background {
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(state: AppState) -> std::io::Result<Background> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("vigie-background".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e, "background runtime failed to start");
                        return;
                    }
                };
                runtime.block_on(run(state, stopped));
            })?;
        Ok(Background {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Asks the work to stop and waits for the batch in flight (bounded by the webhook
    /// timeout; leases cover anything cut short).
    pub fn stop(mut self) {
        self.signal();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn signal(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.signal();
    }
}

async fn run(state: AppState, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let settings = state.settings.clone();
    let client = crate::webhooks::client(
        Duration::from_millis(settings.webhook_timeout_ms.max(1)),
        crate::webhooks::AllowedHosts::new(&settings.webhook_allow_hosts),
    );
    let poll = Duration::from_millis(settings.webhook_poll_ms.max(10));
    let purge_every = Duration::from_secs(settings.purge_interval_secs);
    // First purge shortly after start, then every interval.
    let mut next_purge = Instant::now() + Duration::from_secs(5).min(purge_every);
    let mailer = match crate::mail::Mailer::from_settings(&settings) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "e-mail alerts off: the SMTP settings are unusable");
            None
        }
    };
    let check_every = Duration::from_secs(settings.alert_check_interval_secs.max(1));
    let mut next_check = Instant::now();
    loop {
        if *stopped.borrow() {
            break;
        }
        // Drain: a full batch means more may be due at once.
        loop {
            match crate::webhooks::deliver_due(&state, &client).await {
                Ok(n) if n as i64 >= settings.webhook_concurrency.clamp(1, 64) as i64 => {
                    if *stopped.borrow() {
                        break;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker: cannot read the outbox");
                    break;
                }
            }
        }
        if let Some(mailer) = &mailer {
            if Instant::now() >= next_check {
                next_check = Instant::now() + check_every;
                if let Err(e) = crate::mail::check(&state).await {
                    tracing::warn!(error = %e, "e-mail alerts: the checker failed");
                }
            }
            if let Err(e) = crate::mail::deliver_due(&state, mailer).await {
                tracing::warn!(error = %e, "e-mail worker: cannot read the mail outbox");
            }
        }
        if settings.purge_interval_secs > 0 && Instant::now() >= next_purge {
            next_purge = Instant::now() + purge_every;
            let pool = state.pool.clone();
            let policy = settings.retention_policy();
            let result = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get()?;
                crate::store::privacy::purge(&mut conn, &policy, crate::store::now())
            })
            .await;
            match result {
                Ok(Ok(counts)) if counts.total() > 0 => {
                    tracing::info!(?counts, "retention purge")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "retention purge failed"),
                Err(e) => tracing::warn!(error = %e, "retention purge panicked"),
            }
        }
        tokio::select! {
            _ = stopped.changed() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}
