//! `vigie keys create|list|revoke`: API keys.

use clap::Subcommand;

use vigie::config::Settings;
use vigie::domain::{ApiKeyId, Role};
use vigie::store;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key (and the site, if it is new); prints the secret once.
    Create {
        /// The site's short name (slug).
        #[arg(long)]
        site: String,
        /// ingest (the site's backend), moderator or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A name to tell keys apart (for moderators: who they are).
        #[arg(long)]
        name: Option<String>,
        /// Print only the secret, for scripts.
        #[arg(long)]
        quiet: bool,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: i64 },
}

/// `--role` of `keys create`.
fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|_| "role must be ingest, moderator or admin".to_owned())
}

/// Runs a `vigie keys` subcommand.
pub fn keys(command: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    let (_pool, mut conn) = super::open_store(settings)?;
    match command {
        KeysCommand::Create {
            site,
            role,
            name,
            quiet,
        } => {
            let site = super::checked_site(&site)?;
            let name = name.unwrap_or_else(|| format!("{role} key"));
            let created = store::keys::create(&mut conn, site, role, &name)?;
            if quiet {
                println!("{}", created.secret);
            } else {
                println!(
                    "created key {} ({role}, \"{name}\") for site `{}`",
                    created.record.id, created.site.slug
                );
                println!("secret (shown once, store it now): {}", created.secret);
            }
        }
        KeysCommand::List => list(&mut conn)?,
        KeysCommand::Revoke { id } => {
            anyhow::ensure!(
                store::keys::revoke(&mut conn, ApiKeyId(id))?,
                "no key with id {id}"
            );
            println!("key {id} revoked");
        }
    }
    Ok(())
}

/// `vigie keys list`: one line per key, never its secret.
fn list(conn: &mut store::DbConnection) -> anyhow::Result<()> {
    println!(
        "{:>5}  {:<20} {:<10} {:<14} {:<22} {:<9} name",
        "id", "site", "role", "prefix", "created", "state"
    );
    for (key, site) in store::keys::list(conn)? {
        println!(
            "{:>5}  {:<20} {:<10} {:<14} {:<22} {:<9} {}",
            key.id,
            site,
            key.role.as_str(),
            format!("{}…", key.prefix),
            key.created_at.format("%Y-%m-%d %H:%M:%S"),
            if key.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
            key.name
        );
    }
    Ok(())
}
