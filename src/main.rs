//! The `vigie` command: serve, migrate, keys, config, train, eval, score, purge,
//! perspective-calibrate, dataset export.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use vigie::config::Settings;
use vigie::domain::Role;
use vigie::startup::Application;
use vigie::store;

#[derive(Parser)]
#[command(
    name = "vigie",
    version,
    about = "Self-hosted comment moderation service"
)]
struct Cli {
    /// Configuration file (default: vigie.toml in the working directory, when present).
    #[arg(long, global = true, env = "VIGIE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (creates and migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage people's accounts (moderators and admins who sign in with e-mail and password).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print the effective configuration, secrets hidden.
    Config,
    /// Train a model from labelled CSV/TSV files (default config: training.toml), or a site
    /// model from the site's moderation decisions (`--from-decisions`).
    Train(vigie::training::cli::TrainArgs),
    /// Evaluate the model on a labelled file: ROC AUC, average precision, P/R/F1 at the
    /// shipped thresholds, pass rates per functionality, PR and ROC curves as SVG.
    Eval(vigie::training::cli::EvalArgs),
    /// Score a CSV or JSONL file of comments in batch.
    Score(vigie::training::cli::ScoreArgs),
    /// Fit the calibration of the Perspective-compatible TOXICITY on held-out labelled
    /// comments and print what each threshold catches (precision, recall per language).
    PerspectiveCalibrate(vigie::training::calibrate::CalibrateArgs),
    /// Purge personal data past its retention now (`retention_days`, `ip_retention_days`);
    /// `serve` also does it every `purge_interval_secs`.
    Purge,
    /// What a rule set, thresholds or a model would have done to the site's comments of a
    /// period, compared with what happened and with moderators' decisions (nothing is changed).
    Backtest(BacktestArgs),
    /// Export training data from the site's moderation decisions.
    Dataset {
        #[command(subcommand)]
        command: DatasetCommand,
    },
    /// The site's model registry (the same as `/v1/models`).
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
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

#[derive(Subcommand)]
enum DatasetCommand {
    /// Write the site's labelled comments (last human decisions, Perspective feedback) as CSV:
    /// `text, label, category, lang, decided_at, source`.
    Export {
        /// The site's short name (slug).
        #[arg(long)]
        site: String,
        /// Decisions from this day (YYYY-MM-DD, UTC) or RFC 3339 time, inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Decisions up to this day (whole day included) or RFC 3339 time, inclusive.
        #[arg(long)]
        to: Option<String>,
        /// The CSV file to write.
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(clap::Args)]
struct BacktestArgs {
    /// The site's short name (slug).
    #[arg(long)]
    site: String,
    /// A rule file (TOML) to try instead of the site's rules.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Thresholds to try, as JSON: `{"toxicity":{"review":0.5,"reject":0.9}}`.
    #[arg(long)]
    thresholds: Option<String>,
    /// A model version to try (`<model_dir>/<version>` or beside `model_dir`).
    #[arg(long)]
    model: Option<String>,
    /// Comments from this day (YYYY-MM-DD, UTC) or RFC 3339 time (default: 30 days before --to).
    #[arg(long)]
    from: Option<String>,
    /// Comments up to this day (whole day included) or time (default: now).
    #[arg(long)]
    to: Option<String>,
    /// Print the whole result as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum KeysCommand {
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

#[derive(Subcommand)]
enum UsersCommand {
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

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|_| "role must be ingest, moderator or admin".to_owned())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vigie: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    vigie::telemetry::init(&settings.log_format, &settings.log_level);
    match run(cli.command, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigie: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let (_, applied) = vigie::startup::connect_and_migrate(&settings)?;
            println!("{} migration(s) applied", applied.len());
            for m in applied {
                println!("  {m}");
            }
            Ok(())
        }
        Command::Config => {
            print!("{}", settings.redacted_toml());
            Ok(())
        }
        Command::Keys { command } => keys(command, &settings),
        Command::Users { command } => users(command, &settings),
        Command::Train(args) if args.from_decisions => train_site(&settings, &args),
        Command::Train(args) => vigie::training::cli::train(&args),
        Command::Eval(args) => vigie::training::cli::eval(&args),
        Command::Score(args) => vigie::training::cli::score(&args),
        Command::PerspectiveCalibrate(args) => vigie::training::calibrate::calibrate(&args),
        Command::Dataset {
            command:
                DatasetCommand::Export {
                    site,
                    from,
                    to,
                    output,
                },
        } => dataset_export(&settings, &site, from.as_deref(), to.as_deref(), &output),
        Command::Models { command } => models(command, &settings),
        Command::Backtest(args) => backtest(&settings, &args),
        Command::Purge => {
            let pool = store::connect(&settings.db_options())?;
            store::migrate(&pool)?;
            let mut conn = pool.get().context("no database connection")?;
            let policy = settings.retention_policy();
            let counts = store::privacy::purge(&mut conn, &policy, store::now())?;
            println!(
                "purged personal data older than {} days (IP data: {} days)",
                settings.retention_days, settings.ip_retention_days
            );
            let counts = serde_json::to_value(&counts)?;
            for (what, n) in counts.as_object().into_iter().flatten() {
                println!("  {what:<22} {n}");
            }
            Ok(())
        }
    }
}

fn dataset_export(
    settings: &Settings,
    site: &str,
    from: Option<&str>,
    to: Option<&str>,
    output: &std::path::Path,
) -> anyhow::Result<()> {
    let period = vigie::routes::datasets::period(from, to)
        .map_err(|e| anyhow::anyhow!("--{} {}", e.field, e.detail))?;
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
    let site_id = store::datasets::site_id(&mut conn, site.trim())?
        .with_context(|| format!("no site `{site}`"))?;
    let file = std::fs::File::create(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let rows =
        store::datasets::export_csv(&mut conn, site_id, period, std::io::BufWriter::new(file))?;
    println!("{rows} row(s) written to {}", output.display());
    Ok(())
}

/// `vigie train --from-decisions`: reads the site's labelled rows (the store's dataset pages)
/// and its thresholds, then trains (training never touches the database).
fn train_site(settings: &Settings, args: &vigie::training::cli::TrainArgs) -> anyhow::Result<()> {
    use vigie::training::site;
    let (slug, _) = site::check_args(args)?;
    let base_dir = match &args.base {
        Some(d) => d.clone(),
        None => vigie::judge::resolve_model_dir(std::path::Path::new(&settings.model_dir))?,
    };
    let started = std::time::Instant::now();
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
    let site_id =
        store::datasets::site_id(&mut conn, slug)?.with_context(|| format!("no site `{slug}`"))?;
    let mut rows = Vec::new();
    let mut cursor = store::datasets::Cursor::START;
    while cursor != store::datasets::Cursor::Done {
        let period = store::datasets::Period::default();
        let (page, next) = store::datasets::page(&mut conn, site_id, period, cursor)?;
        rows.extend(page.into_iter().map(|r| site::Labelled {
            from_decision: r.source == store::datasets::SOURCE_DECISION,
            text: r.text,
            label: r.label,
            category: r.category,
            lang: r.lang,
            decided_at: r.decided_at,
        }));
        cursor = next;
    }
    let stored_thresholds = store::sites::stored_thresholds(&mut conn, site_id)?;
    drop(conn);
    let data = site::SiteData {
        rows,
        stored_thresholds,
        read_seconds: started.elapsed().as_secs_f64(),
    };
    site::train_from_decisions(args, &base_dir, data)
}

/// `vigie models …`: the registry's store functions, as the API calls them; the actor is
/// `cli`.
fn models(command: ModelsCommand, settings: &Settings) -> anyhow::Result<()> {
    use store::models::Refusal;
    const ACTOR: &str = "cli";
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
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
        ModelsCommand::List { .. } => {
            for m in store::models::list(&mut conn, site_id)? {
                println!(
                    "{:<32} {:<10} {} {} {}",
                    m.version,
                    m.status().as_str(),
                    m.registered_at.format("%Y-%m-%d %H:%M"),
                    m.registered_by,
                    m.path
                );
            }
            for e in store::models::events(&mut conn, site_id, 20)? {
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
            return Ok(());
        }
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

fn backtest(settings: &Settings, args: &BacktestArgs) -> anyhow::Result<()> {
    use std::io::Write;
    use vigie::backtest::{self, Change, Setup};
    let invalid = |e: vigie::domain::intake::ValidationError| {
        anyhow::anyhow!("--{} {}", e.field.split('.').next().unwrap_or(""), e.detail)
    };
    let bounds = vigie::routes::datasets::period(args.from.as_deref(), args.to.as_deref())
        .map_err(invalid)?;
    let period = backtest::period(bounds.from, bounds.until, store::now()).map_err(invalid)?;
    let judge = vigie::judge::Judge::load(
        std::path::Path::new(&settings.model_dir),
        settings.rules_file.as_deref().map(std::path::Path::new),
    )?;
    let rules = match &args.rules {
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(backtest::compile_rules(&source).map_err(invalid)?)
        }
        None => None,
    };
    let thresholds = match &args.thresholds {
        Some(json) => {
            let t: vigie::scoring::Thresholds =
                serde_json::from_str(json).context("--thresholds is not thresholds JSON")?;
            vigie::routes::rules::check_thresholds(&t, "").map_err(invalid)?;
            Some(t)
        }
        None => None,
    };
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
    let site = store::backtests::site_by_slug(&mut conn, args.site.trim())?
        .with_context(|| format!("no site `{}`", args.site))?;
    let scorer = backtest::resolve_backtest_model(
        &judge,
        &mut conn,
        site.id,
        std::path::Path::new(&settings.model_dir),
        args.model.as_deref(),
    )?
    .map_err(invalid)?;
    let total = store::backtests::count_in_period(&mut conn, site.id, period.0, period.1)?;
    anyhow::ensure!(total > 0, "the period holds no comment of the site");
    let change = Change {
        rules,
        thresholds,
        scorer,
    };
    let repeat_window = chrono::Duration::seconds(settings.repeat_window_secs.max(0));
    let setup = Setup::new(&mut conn, &judge, &site, change, repeat_window, period)?;
    drop(conn);
    let started = std::time::Instant::now();
    let report = backtest::run(&pool, &setup, backtest::BATCH_COMMENTS, |_, done| {
        eprint!(
            "\rbacktest: {done}/{total} comments ({}%)",
            done * 100 / total.max(1) as u64
        );
        let _ = std::io::stderr().flush();
        Ok(true)
    })
    .map_err(|e| anyhow::anyhow!("backtest failed: {e}"))?;
    eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let (b, a) = (report.before, report.after);
    println!(
        "{} comments from {} to {} (model {}, rules {})",
        report.comments, period.0, period.1, report.model_version, report.rules_version
    );
    println!("{:<10} {:>10} {:>10}", "", "happened", "change");
    for (name, x, y) in [
        ("published", b.published, a.published),
        ("held", b.held, a.held),
        ("rejected", b.rejected, a.rejected),
    ] {
        println!("{name:<10} {x:>10} {y:>10}");
    }
    for (name, d) in [
        ("newly held", report.newly_held),
        ("newly published", report.newly_published),
        ("newly rejected", report.newly_rejected),
    ] {
        println!(
            "{name}: {} ({} rejected and {} approved by moderators)",
            d.count, d.moderators_rejected, d.moderators_approved
        );
    }
    let pct = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{:.1} %", v * 100.0));
    let h = report.human;
    println!(
        "against {} moderator decisions: precision {} → {}, recall {} → {}",
        h.after.labelled,
        pct(h.before.precision),
        pct(h.after.precision),
        pct(h.before.recall),
        pct(h.after.recall)
    );
    Ok(())
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.listen.clone();
    let backend = store::Backend::from_url(&settings.database_url).name();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        tracing::info!(%listen, port = app.port, backend, "vigie listening");
        // SIGTERM/SIGINT: actix stops accepting and lets in-flight requests finish for
        // `shutdown_timeout_secs`. Each request's writes are one transaction, so a request cut
        // at the deadline is committed or rolled back whole, never half-written. Claims are
        // left alone: they belong to moderators (who may go on through another replica), not
        // to this process, and expire by themselves.
        app.server.await.context("server failed")?;
        // The webhook batch in flight finishes (bounded by the webhook timeout); leases hand
        // anything cut short to another replica.
        app.background.stop();
        drop(app.state); // closes the pool's connections
        tracing::info!("vigie stopped");
        Ok(())
    })
}

fn keys(command: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
    match command {
        KeysCommand::Create {
            site,
            role,
            name,
            quiet,
        } => {
            let site = site.trim();
            anyhow::ensure!(
                !site.is_empty() && site.len() <= 100,
                "--site must be 1 to 100 characters"
            );
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
        KeysCommand::List => {
            println!(
                "{:>5}  {:<20} {:<10} {:<14} {:<22} {:<9} name",
                "id", "site", "role", "prefix", "created", "state"
            );
            for (key, site) in store::keys::list(&mut conn)? {
                println!(
                    "{:>5}  {:<20} {:<10} {:<14} {:<22} {:<9} {}",
                    key.id,
                    site,
                    key.role,
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
        }
        KeysCommand::Revoke { id } => {
            anyhow::ensure!(store::keys::revoke(&mut conn, id)?, "no key with id {id}");
            println!("key {id} revoked");
        }
    }
    Ok(())
}

fn users(command: UsersCommand, settings: &Settings) -> anyhow::Result<()> {
    use vigie::domain::accounts::{account_role, display_name, Email, INVITATION_HOURS};
    use vigie::routes::accounts::{invitation_link, EMAIL_PURPOSE};
    let pool = store::connect(&settings.db_options())?;
    store::migrate(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
    let secrets = vigie::secrets::Secrets::new(
        store::sites::instance_secret(&mut conn, settings.secret_key.as_deref())
            .context("cannot read the hashing key")?,
    );
    let invalid =
        |e: vigie::domain::intake::ValidationError| anyhow::anyhow!("--{} {}", e.field, e.detail);
    match command {
        UsersCommand::Create {
            site,
            email,
            role,
            name,
        } => {
            let site = site.trim();
            anyhow::ensure!(
                !site.is_empty() && site.len() <= 100,
                "--site must be 1 to 100 characters"
            );
            let email = Email::parse("email", &email).map_err(invalid)?;
            let role = account_role("role", &role).map_err(invalid)?;
            let name = display_name("name", name.as_deref().unwrap_or(email.local_part()))
                .map_err(invalid)?;
            let site = store::sites::find_or_create(&mut conn, site)?;
            let created = store::accounts::create(
                &mut conn,
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
        }
        UsersCommand::List => {
            println!(
                "{:>5}  {:<20} {:<10} {:<9} {:<32} name",
                "id", "site", "role", "state", "e-mail"
            );
            for (account, site) in store::accounts::list(&mut conn, None)? {
                let email = secrets
                    .open(EMAIL_PURPOSE, &account.email_sealed)
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                let state = account.state();
                println!(
                    "{:>5}  {:<20} {:<10} {:<9} {:<32} {}",
                    account.id, site, account.role, state, email, account.name
                );
            }
        }
        UsersCommand::Disable { id } => {
            let account = store::accounts::list(&mut conn, None)?
                .into_iter()
                .map(|(a, _)| a)
                .find(|a| a.id == id)
                .with_context(|| format!("no account with id {id}"))?;
            store::accounts::set_disabled(&mut conn, &account, true)?;
            println!("account {id} disabled; its sessions ended");
        }
    }
    Ok(())
}
