//! `vigie models register|list|shadow|activate|rollback`: the site's model registry (the same
//! as `/v1/models`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use vigie::config::Settings;
use vigie::domain::SiteId;
use vigie::store::{self, DbConnection};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Register a model directory (under `model_roots`, integrity-checked) for a site.
    Register {
        #[arg(long)]
        site: String,
        /// The model directory.
        path: PathBuf,
    },
    /// The site's models and the last changes.
    List {
        #[arg(long)]
        site: String,
    },
    /// Run a registered model in shadow.
    Shadow {
        #[arg(long)]
        site: String,
        version: String,
    },
    /// Make a registered model the site's active model.
    Activate {
        #[arg(long)]
        site: String,
        version: String,
    },
    /// Roll the active model back to the one it replaced (or the shipped model).
    Rollback {
        #[arg(long)]
        site: String,
        version: String,
    },
}

/// `vigie models …`: the registry's store functions, as the API calls them; the actor is
/// `cli`.
pub fn models(command: ModelsCommand, settings: &Settings) -> anyhow::Result<()> {
    use store::models::Refusal;
    const ACTOR: &str = "cli";
    let (_pool, mut conn) = super::open_store(settings)?;
    let (ModelsCommand::Register { site, .. }
    | ModelsCommand::List { site }
    | ModelsCommand::Shadow { site, .. }
    | ModelsCommand::Activate { site, .. }
    | ModelsCommand::Rollback { site, .. }) = &command;
    let site = site.trim().to_owned();
    let site_id =
        store::datasets::site_id(&mut conn, &site)?.with_context(|| format!("no site `{site}`"))?;
    let changed = match command {
        ModelsCommand::Register { ref path, .. } => {
            let roots = vigie::routes::models::allowed_roots(settings);
            let (dir, checked) =
                vigie::routes::models::check_registration(&path.to_string_lossy(), &roots)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let new = vigie::routes::models::new_model(site_id, &dir, checked, ACTOR);
            store::models::register(&mut conn, &new)?
        }
        ModelsCommand::List { .. } => return list(&mut conn, site_id),
        ModelsCommand::Shadow { ref version, .. } => {
            store::models::shadow(&mut conn, site_id, version, ACTOR)?
        }
        ModelsCommand::Activate { ref version, .. } => {
            store::models::activate(&mut conn, site_id, version, ACTOR)?
        }
        ModelsCommand::Rollback { ref version, .. } => {
            store::models::rollback(&mut conn, site_id, version, ACTOR)?
        }
    };
    match changed {
        Ok(m) => {
            println!("{} {}", m.version, m.status().as_str());
            Ok(())
        }
        Err(Refusal::NotFound) => anyhow::bail!("no such model version on site `{site}`"),
        Err(Refusal::Conflict(reason)) => anyhow::bail!("{reason}"),
    }
}

/// `vigie models list`: the site's models, then its last 20 registry changes.
fn list(conn: &mut DbConnection, site_id: SiteId) -> anyhow::Result<()> {
    for m in store::models::list(conn, site_id)? {
        println!(
            "{:<32} {:<10} {} {} {}",
            m.version,
            m.status().as_str(),
            m.registered_at.format("%Y-%m-%d %H:%M"),
            m.registered_by,
            m.path
        );
    }
    for e in store::models::events(conn, site_id, 20)? {
        let name = |v: Option<String>| v.unwrap_or_else(|| "(shipped)".into());
        println!(
            "{} {:<8} {} → {} by {}",
            e.created_at.format("%Y-%m-%d %H:%M:%S"),
            e.action,
            name(e.from_version),
            name(e.to_version),
            e.actor
        );
    }
    Ok(())
}
