//! The subcommands of the `vigie` binary that work on the configured database: keys, users,
//! models, dataset export, site-model training from decisions, backtests. Each module holds a
//! subcommand's clap arguments and its implementation; `main.rs` parses and dispatches.

pub mod backtest;
pub mod dataset;
pub mod keys;
pub mod models;
pub mod users;

use anyhow::Context;

use vigie::config::Settings;
use vigie::store;

/// The configured database, migrated, and one connection from its pool (kept open by the
/// caller for as long as the connection is used).
pub fn open_store(settings: &Settings) -> anyhow::Result<(store::DbPool, store::PooledConn)> {
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let conn = pool.get().context("no database connection")?;
    Ok((pool, conn))
}

/// `--site` as `keys create` and `users create` accept it: trimmed, 1 to 100 characters.
pub fn checked_site(site: &str) -> anyhow::Result<&str> {
    let site = site.trim();
    anyhow::ensure!(
        !site.is_empty() && site.len() <= 100,
        "--site must be 1 to 100 characters"
    );
    Ok(site)
}
