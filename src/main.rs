//! The `vigie` command: serve, migrate, keys, config, train, eval, score, purge,
//! perspective-calibrate, dataset export.
//!
//! This file parses the command line and dispatches; the subcommands that work on the database
//! live in [`cli`], the offline ones (train, eval, score, calibrate) in `vigie::training`.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use cli::backtest::BacktestArgs;
use cli::dataset::DatasetCommand;
use cli::keys::KeysCommand;
use cli::models::ModelsCommand;
use cli::users::UsersCommand;
use vigie::config::Settings;
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

/// Runs one subcommand.
fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Config => {
            print!("{}", settings.redacted_toml());
            Ok(())
        }
        Command::Keys { command } => cli::keys::keys(command, &settings),
        Command::Users { command } => cli::users::users(command, &settings),
        Command::Train(args) if args.from_decisions => cli::dataset::train_site(&settings, &args),
        Command::Train(args) => vigie::training::cli::train(&args),
        Command::Eval(args) => vigie::training::cli::eval(&args),
        Command::Score(args) => vigie::training::cli::score(&args),
        Command::PerspectiveCalibrate(args) => vigie::training::calibrate::calibrate(&args),
        Command::Dataset { command } => cli::dataset::dataset(command, &settings),
        Command::Models { command } => cli::models::models(command, &settings),
        Command::Backtest(args) => cli::backtest::backtest(&settings, &args),
        Command::Purge => purge(&settings),
    }
}

/// `vigie migrate`: applies pending migrations and lists them.
fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let (_, applied) = vigie::startup::connect_and_migrate(settings)?;
    println!("{} migration(s) applied", applied.len());
    for m in applied {
        println!("  {m}");
    }
    Ok(())
}

/// `vigie purge`: purges personal data past its retention and prints what it changed.
fn purge(settings: &Settings) -> anyhow::Result<()> {
    let (_pool, mut conn) = cli::open_store(settings)?;
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

/// `vigie serve`: runs the HTTP service until SIGTERM/SIGINT.
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
