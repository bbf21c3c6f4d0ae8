//! `vigie backtest`: what a rule set, thresholds or a model would have done to the site's
//! comments of a period (the service is `vigie::backtest`; nothing is changed).

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDateTime;

use vigie::backtest::{self, Change, Report, Setup};
use vigie::config::Settings;
use vigie::domain::intake::ValidationError;
use vigie::store;

#[derive(clap::Args)]
pub struct BacktestArgs {
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

/// A validation error as the command line reports it: `--<flag> <detail>`, the flag being the
/// first part of the field (`thresholds.toxicity.review` → `--thresholds`).
fn invalid(e: ValidationError) -> anyhow::Error {
    anyhow::anyhow!("--{} {}", e.field.split('.').next().unwrap_or(""), e.detail)
}

/// Runs `vigie backtest`: checks the flags, sets the change up, re-scores the period with a
/// progress line on stderr, and prints the result (a summary, or JSON with `--json`).
pub fn backtest(settings: &Settings, args: &BacktestArgs) -> anyhow::Result<()> {
    let bounds = vigie::routes::datasets::period(args.from.as_deref(), args.to.as_deref())
        .map_err(invalid)?;
    let period = backtest::period(bounds.from, bounds.until, store::now()).map_err(invalid)?;
    let model_dir = Path::new(&settings.model_dir);
    let judge =
        vigie::judge::Judge::load(model_dir, settings.rules_file.as_deref().map(Path::new))?;
    let rules = match &args.rules {
        Some(path) => Some(tried_rules(path)?),
        None => None,
    };
    let thresholds = match &args.thresholds {
        Some(json) => Some(tried_thresholds(json)?),
        None => None,
    };
    let (pool, mut conn) = super::open_store(settings)?;
    let site = store::backtests::site_by_slug(&mut conn, args.site.trim())?
        .with_context(|| format!("no site `{}`", args.site))?;
    let scorer = backtest::resolve_backtest_model(
        &judge,
        &mut conn,
        site.id,
        model_dir,
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
    let report = run_with_progress(&pool, &setup, total)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_summary(&report, period);
    Ok(())
}

/// The rule file of `--rules`, compiled.
fn tried_rules(path: &Path) -> anyhow::Result<std::sync::Arc<vigie::scoring::RuleSet>> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    backtest::compile_rules(&source).map_err(invalid)
}

/// The thresholds of `--thresholds`, parsed and checked as the API checks them.
fn tried_thresholds(json: &str) -> anyhow::Result<vigie::scoring::Thresholds> {
    let t: vigie::scoring::Thresholds =
        serde_json::from_str(json).context("--thresholds is not thresholds JSON")?;
    vigie::routes::rules::check_thresholds(&t, "").map_err(invalid)?;
    Ok(t)
}

/// Runs the backtest, printing `done/total` on stderr after each batch and the time taken.
fn run_with_progress(pool: &store::DbPool, setup: &Setup, total: i64) -> anyhow::Result<Report> {
    use std::io::Write;
    let started = std::time::Instant::now();
    let report = backtest::run(pool, setup, backtest::BATCH_COMMENTS, |_, done| {
        eprint!(
            "\rbacktest: {done}/{total} comments ({}%)",
            done * 100 / total.max(1) as u64
        );
        let _ = std::io::stderr().flush();
        Ok(true)
    })
    .map_err(|e| anyhow::anyhow!("backtest failed: {e}"))?;
    eprintln!(" in {:.1} s", started.elapsed().as_secs_f64());
    Ok(report)
}

/// The summary `vigie backtest` prints without `--json`: outcomes before and after, the
/// comments that change, and precision/recall against moderators' decisions.
fn print_summary(report: &Report, period: (NaiveDateTime, NaiveDateTime)) {
    let (b, a) = (&report.before, &report.after);
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
        ("newly held", &report.newly_held),
        ("newly published", &report.newly_published),
        ("newly rejected", &report.newly_rejected),
    ] {
        println!(
            "{name}: {} ({} rejected and {} approved by moderators)",
            d.count, d.moderators_rejected, d.moderators_approved
        );
    }
    let pct = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{:.1} %", v * 100.0));
    let h = &report.human;
    println!(
        "against {} moderator decisions: precision {} → {}, recall {} → {}",
        h.after.labelled,
        pct(h.before.precision),
        pct(h.after.precision),
        pct(h.before.recall),
        pct(h.after.recall)
    );
}
