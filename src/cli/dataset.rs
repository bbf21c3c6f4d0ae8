//! The site's moderation decisions as training data: `vigie dataset export` (CSV) and
//! `vigie train --from-decisions` (rows read here, the model trained by
//! `vigie::training::site`, which never touches the database).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use vigie::config::Settings;
use vigie::domain::SiteId;
use vigie::store::{self, datasets, DbConnection};
use vigie::training::cli::TrainArgs;
use vigie::training::site;

#[derive(Subcommand)]
pub enum DatasetCommand {
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

/// Runs a `vigie dataset` subcommand.
pub fn dataset(command: DatasetCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        DatasetCommand::Export {
            site,
            from,
            to,
            output,
        } => export(settings, &site, from.as_deref(), to.as_deref(), &output),
    }
}

/// `vigie dataset export`: the site's labelled rows of the period, written as CSV.
fn export(
    settings: &Settings,
    site: &str,
    from: Option<&str>,
    to: Option<&str>,
    output: &Path,
) -> anyhow::Result<()> {
    let period = vigie::routes::datasets::period(from, to)
        .map_err(|e| anyhow::anyhow!("--{} {}", e.field, e.detail))?;
    let (_pool, mut conn) = super::open_store(settings)?;
    let site_id =
        datasets::site_id(&mut conn, site.trim())?.with_context(|| format!("no site `{site}`"))?;
    let file = std::fs::File::create(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let rows = datasets::export_csv(&mut conn, site_id, period, std::io::BufWriter::new(file))?;
    println!("{rows} row(s) written to {}", output.display());
    Ok(())
}

/// `vigie train --from-decisions`: reads the site's labelled rows (the store's dataset pages)
/// and its thresholds, then trains (training never touches the database).
pub fn train_site(settings: &Settings, args: &TrainArgs) -> anyhow::Result<()> {
    let (slug, _) = site::check_args(args)?;
    let base_dir = match &args.base {
        Some(d) => d.clone(),
        None => vigie::judge::resolve_model_dir(Path::new(&settings.model_dir))?,
    };
    let started = std::time::Instant::now();
    let (_pool, mut conn) = super::open_store(settings)?;
    let site_id =
        datasets::site_id(&mut conn, slug)?.with_context(|| format!("no site `{slug}`"))?;
    let rows = labelled_rows(&mut conn, site_id)?;
    let stored_thresholds = store::sites::stored_thresholds(&mut conn, site_id)?;
    drop(conn);
    let data = site::SiteData {
        rows,
        stored_thresholds,
        read_seconds: started.elapsed().as_secs_f64(),
    };
    site::train_from_decisions(args, &base_dir, data)
}

/// Every labelled row of the site, page after page, as training reads them.
fn labelled_rows(conn: &mut DbConnection, site_id: SiteId) -> anyhow::Result<Vec<site::Labelled>> {
    let mut rows = Vec::new();
    let mut cursor = datasets::Cursor::START;
    while cursor != datasets::Cursor::Done {
        let period = datasets::Period::default();
        let (page, next) = datasets::page(conn, site_id, period, cursor)?;
        rows.extend(page.into_iter().map(|r| site::Labelled {
            from_decision: r.source == datasets::SOURCE_DECISION,
            text: r.text,
            label: r.label,
            category: r.category,
            lang: r.lang,
            decided_at: r.decided_at,
        }));
        cursor = next;
    }
    Ok(rows)
}
