//! `vigie users create|list|disable`: people's accounts (moderators and admins who sign in
//! with e-mail and password).

use anyhow::Context;
use clap::Subcommand;

use vigie::config::Settings;
use vigie::domain::accounts::{account_role, display_name, Email, INVITATION_HOURS};
use vigie::domain::intake::ValidationError;
use vigie::routes::accounts::{invitation_link, EMAIL_PURPOSE};
use vigie::secrets::Secrets;
use vigie::store::{self, DbConnection};

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Create an account (and the site, if it is new); prints its one-time invitation link
    /// (valid 72 hours), through which the person sets a password.
    Create {
        /// The site's short name (slug).
        #[arg(long)]
        site: String,
        #[arg(long)]
        email: String,
        /// moderator or admin.
        #[arg(long)]
        role: String,
        /// Shown in the audit log; the part of the e-mail before `@` by default.
        #[arg(long)]
        name: Option<String>,
    },
    /// List accounts (every site's).
    List,
    /// Disable an account by id: its sessions end at once, its sign-ins are refused.
    Disable { id: i64 },
}

/// Runs a `vigie users` subcommand.
pub fn users(command: UsersCommand, settings: &Settings) -> anyhow::Result<()> {
    let (_pool, mut conn) = super::open_store(settings)?;
    let secrets = Secrets::new(
        store::sites::instance_secret(&mut conn, settings.secret_key.as_deref())
            .context("cannot read the hashing key")?,
    );
    match command {
        UsersCommand::Create {
            site,
            email,
            role,
            name,
        } => {
            let new = NewUser {
                site: &site,
                email: &email,
                role: &role,
                name: name.as_deref(),
            };
            create(&mut conn, &secrets, settings, new)?;
        }
        UsersCommand::List => list(&mut conn, &secrets)?,
        UsersCommand::Disable { id } => {
            let account = store::accounts::list(&mut conn, None)?
                .into_iter()
                .map(|(a, _)| a)
                .find(|a| a.id.0 == id)
                .with_context(|| format!("no account with id {id}"))?;
            store::accounts::set_disabled(&mut conn, &account, true)?;
            println!("account {id} disabled; its sessions ended");
        }
    }
    Ok(())
}

/// The flags of `vigie users create`, as typed.
struct NewUser<'a> {
    site: &'a str,
    email: &'a str,
    role: &'a str,
    name: Option<&'a str>,
}

/// A flag's validation error as the command line reports it (`--email …`).
fn invalid(e: ValidationError) -> anyhow::Error {
    anyhow::anyhow!("--{} {}", e.field, e.detail)
}

/// `vigie users create`: validates the flags, creates the account (and the site) and prints
/// its one-time invitation link.
fn create(
    conn: &mut DbConnection,
    secrets: &Secrets,
    settings: &Settings,
    new: NewUser<'_>,
) -> anyhow::Result<()> {
    let site = super::checked_site(new.site)?;
    let email = Email::parse("email", new.email).map_err(invalid)?;
    let role = account_role("role", new.role).map_err(invalid)?;
    let name = display_name("name", new.name.unwrap_or(email.local_part())).map_err(invalid)?;
    let site = store::sites::find_or_create(conn, site)?;
    let created = store::accounts::create(
        conn,
        &store::accounts::NewAccount {
            site_id: site.id,
            role,
            name: &name,
            email_hash: &secrets.keyed_hash(EMAIL_PURPOSE, email.as_str()),
            email_sealed: &secrets.seal(EMAIL_PURPOSE, email.as_str().as_bytes()),
            created_by: "vigie users create",
        },
        chrono::Duration::hours(INVITATION_HOURS),
    )?;
    let Some((account, invitation)) = created else {
        anyhow::bail!("{} already has an account", email.as_str());
    };
    let base = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    println!(
        "created account {} ({role}, \"{name}\") for site `{}`",
        account.id, site.slug
    );
    println!(
        "invitation link (shown once, valid until {} UTC): {}",
        invitation.expires_at.format("%Y-%m-%d %H:%M"),
        invitation_link(&base, &invitation.token)
    );
    Ok(())
}

/// `vigie users list`: every site's accounts, their e-mail opened with the instance key.
fn list(conn: &mut DbConnection, secrets: &Secrets) -> anyhow::Result<()> {
    println!(
        "{:>5}  {:<20} {:<10} {:<9} {:<32} name",
        "id", "site", "role", "state", "e-mail"
    );
    for (account, site) in store::accounts::list(conn, None)? {
        let email = secrets
            .open(EMAIL_PURPOSE, &account.email_sealed)
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let state = account.state();
        println!(
            "{:>5}  {:<20} {:<10} {:<9} {:<32} {}",
            account.id,
            site,
            account.role.as_str(),
            state,
            email,
            account.name
        );
    }
    Ok(())
}
