//! Group commit for SQLite: one writer thread runs the intake writes queued by every request in
//! one transaction per batch (each job in its own savepoint), so a batch pays for one `fsync`
//! instead of one per comment. A job's result is handed back only after the batch's `COMMIT`:
//! a 201 still means the comment is on disk.
//!
//! SQLite has a single writer anyway; queueing the jobs here instead of on its lock turns N
//! commits (N syncs of the WAL) into one. A job does its writes in [`super::write_tx`], which is
//! a savepoint inside the batch: a job that fails rolls back its own writes only, and the others
//! of the batch commit. (One savepoint per job, not two: each costs a sub-journal of the pages
//! it touches.)

use std::panic::AssertUnwindSafe;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use tokio::sync::{mpsc, oneshot};

use super::{DbConnection, DbPool, StoreError};

/// Jobs taken into one transaction, at most.
pub const MAX_BATCH: usize = 128;
/// Jobs waiting for the writer, at most; more wait for room (backpressure on requests).
const QUEUE: usize = 4096;

type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut DbConnection) -> Completion + Send>;

/// The handle requests queue their writes on.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on a connection of `pool` (kept for the thread's life: the
    /// SQLite pool has one connection more than `pool_size` for it, see [`super::connect`]).
    pub fn start(pool: &DbPool) -> anyhow::Result<Writer> {
        let mut conn = pool.get()?;
        anyhow::ensure!(
            matches!(**conn, DbConnection::Sqlite(_)),
            "group commit is for SQLite"
        );
        // Checkpoints stay SQLite's automatic ones, run by this connection right after a
        // commit: then no write is in progress, the checkpoint can complete and the next batch
        // starts the WAL over. (Checkpoints from another thread, tried, never caught up with a
        // busy writer: the WAL grew past 1 GB in 15 s of load.)
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("vigie-sqlite-writer".into())
            .spawn(move || {
                let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
                while let Some(first) = queue.blocking_recv() {
                    batch.push(first);
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(&mut conn, &mut batch);
                }
            })?;
        Ok(Writer { jobs })
    }

    /// Runs `f` in the next batch; its result once the batch is committed. `f` must do its
    /// writes inside [`super::write_tx`] (a savepoint here) so that an error rolls back its
    /// writes only.
    pub async fn write<T, E, F>(&self, f: F) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |conn| {
            let _entered = span.enter();
            let result = f(conn);
            Box::new(move |committed: Result<(), String>| {
                let out = match (result, committed) {
                    (Err(e), _) => Ok(Err(e)),
                    (Ok(v), Ok(())) => Ok(Ok(v)),
                    (Ok(_), Err(why)) => Err(StoreError::Unavailable(why)),
                };
                let _ = reply.send(out);
            })
        });
        // A job dropped unrun (its batch could not begin, or another job of the batch
        // panicked and the batch was rolled back) wrote nothing: the caller may try again, so
        // it is a 503 with Retry-After, and the cause is in the log.
        self.jobs.send(job).await.map_err(|_| {
            StoreError::Unavailable("the SQLite writer has stopped (see the log)".into())
        })?;
        answer.await.map_err(|_| {
            StoreError::Unavailable(
                "the SQLite writer could not run the write (see the log)".into(),
            )
        })?
    }
}

fn run_batch(conn: &mut DbConnection, batch: &mut Vec<Job>) {
    let _gate = super::SQLITE_WRITE_GATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("checked at start")
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        // Dropping the jobs tells their callers (503: nothing was written, try again). WARN, like
        // any database that cannot be reached: the clients are told to retry, nothing is lost.
        tracing::warn!(error = %e, "SQLite writer: cannot begin a batch");
        batch.clear();
        return;
    }
    let mut completions: Vec<Completion> = Vec::with_capacity(batch.len());
    let mut poisoned = false;
    for job in batch.drain(..) {
        if poisoned {
            drop(job); // its caller gets an error
            continue;
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok(done) => completions.push(done),
            Err(_) => {
                tracing::error!("a write job panicked; its batch is rolled back");
                poisoned = true;
            }
        }
    }
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("checked at start")
    };
    let committed = if poisoned {
        let _ = AnsiTransactionManager::rollback_transaction(sqlite);
        Err("the batch was rolled back".to_owned())
    } else {
        match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(format!("commit failed: {e}"))
            }
        }
    };
    for done in completions {
        done(committed.clone());
    }
}
