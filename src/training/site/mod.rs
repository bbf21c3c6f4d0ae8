//! `vigie train --from-decisions`: a site model from the site's own moderators' decisions.
//!
//! The shared training data is not on a newsroom's server, so a site model starts from a trained
//! base model (the configured `model_dir` by default) and adapts it to the labelled rows that
//! `crate::store::datasets` exports (last human approve/reject/restore per comment, Perspective
//! feedback), read by the binary (`src/cli/dataset.rs`): training never touches the database.
//! Two methods, measured by `scripts/site_model_bench.py` (docs/benchmarks.md):
//!
//! - [`Method::Layer`]: per category, a linfa-logistic regression over the base model's stacked
//!   logit and its 16 dense features (text logits, rule evidence, shape), fitted on the site's
//!   rows; it is folded back into the base's stacker format (a linear function of the same
//!   features), so the output is an ordinary model directory.
//! - [`Method::Warm`] (the default): the base's sparse text weights are warm-started on the
//!   site's rows (AdaGrad with a damped history and an L2 pull towards the base weights; with
//!   `--config`, the shared training data too), then the same layer is fitted over out-of-fold
//!   text logits of the adapted weights.
//!
//! The most recent [`HOLDOUT_SHARE`] of the rows by decision time validate the model fitted on
//! the older rows (base vs site, in `validation.json` and `MODEL_CARD.md`); the model written is
//! then refitted the same way on every row. The directory appears whole or not at all: it is
//! written under a temporary name beside `--output` and renamed.

mod card;
mod compare;
mod fit;

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::cli::TrainArgs;
use crate::scoring::model::Model;
use crate::scoring::{default_rules, lang, normalise, Thresholds};
use card::card;
use compare::{at_threshold_rows, holdout_comparison};
use fit::Fitter;

pub use compare::{Comparison, SliceMetrics};
pub use fit::Tuning;

/// Default of `--min-labels`: fewer labelled comments than this and no model is trained.
pub const MIN_LABELS: usize = 200;
/// Fewest rejected and fewest approved comments a site model needs, whatever `--min-labels`.
pub const MIN_PER_CLASS: usize = 30;
/// The most recent share of the rows (by decision time) kept out to validate.
pub const HOLDOUT_SHARE: f64 = 0.2;
/// linfa's L2 penalty for the site layer (a few hundred rows: stronger than the shared fit's).
pub const LAYER_ALPHA: f64 = 1.0;
/// Fewest rows of each class of a category for its layer to be fitted (else the base's stacker).
pub const MIN_CLASS_FIT: usize = 10;
/// Folds for the out-of-fold text logits the layer of a warm-started model learns from.
pub const FOLDS: usize = 3;
/// Warm start: epochs over the site's rows, AdaGrad learning rate, starting squared-gradient
/// sum (damps the first steps), L2 pull towards the base weights.
pub const WARM_EPOCHS: u32 = 5;
pub const WARM_LR: f32 = 0.25;
pub const WARM_G0: f32 = 1.0;
pub const WARM_PRIOR_L2: f32 = 1e-3;
/// Most epochs `--warm-epochs` accepts.
pub const MAX_EPOCHS: u32 = 100;
/// With `--config`: weight of a site row against a shared row (whose weight is its dataset's).
pub const SITE_WEIGHT: f32 = 3.0;
const SEED: u64 = 42;

/// How the base model is adapted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A linfa-logistic layer over the base model's output and features.
    Layer,
    /// Warm start of the base's text weights on the site's rows, then the layer.
    Warm,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Layer => "layer",
            Method::Warm => "warm",
        }
    }
}

/// One labelled comment of the site.
struct SiteRow {
    text: String,
    lang: &'static str,
    /// -1 unknown, 0 negative, 1 positive, per category.
    labels: [i8; 2],
    /// The reason code of a rejection (Perspective feedback: its attribute).
    reason: Option<String>,
    decided_at: NaiveDateTime,
}

/// Category index of a reason code or Perspective attribute: `spam`, else toxicity.
fn category_of(reason: Option<&str>) -> usize {
    match reason {
        Some(r) if r.eq_ignore_ascii_case("spam") => 1,
        _ => 0,
    }
}

/// One labelled comment as the store exports it (`store::datasets::DatasetRow`; the binary's
/// `src/cli/dataset.rs` reads them, as training never touches the database).
#[derive(Debug, Clone)]
pub struct Labelled {
    pub text: String,
    /// 1: rejected; 0: approved or restored.
    pub label: i32,
    /// The rejection's reason code, or the Perspective attribute of a feedback row.
    pub category: Option<String>,
    pub lang: Option<String>,
    pub decided_at: NaiveDateTime,
    /// A moderator's decision (else Perspective feedback).
    pub from_decision: bool,
}

/// What the wiring read from the database for a site.
#[derive(Debug, Clone)]
pub struct SiteData {
    /// Every labelled row, in any order.
    pub rows: Vec<Labelled>,
    /// The site's own thresholds (JSON) if it set some.
    pub stored_thresholds: Option<String>,
    /// How long reading took.
    pub read_seconds: f64,
}

/// A labelled row as training reads it: labels per category, a language (given or detected).
fn site_row(r: Labelled) -> SiteRow {
    let c = category_of(r.category.as_deref());
    let labels = match (r.label, r.from_decision) {
        // a moderator's approval: neither toxic nor spam
        (0, true) => [0, 0],
        // a rejection says why (its category); a feedback row speaks of its attribute only
        (l, _) => {
            let mut v = [-1i8; 2];
            v[c] = i8::from(l == 1);
            v
        }
    };
    let given = r.lang.as_deref().map(lang::primary_subtag);
    let lang: &'static str = match given.as_deref() {
        Some("fr") => "fr",
        Some("en") => "en",
        _ => lang::detect(&normalise::normalise(&r.text), &r.text),
    };
    SiteRow {
        lang,
        labels,
        reason: (r.label == 1).then_some(r.category).flatten(),
        decided_at: r.decided_at,
        text: r.text,
    }
}

/// Refuses too few labels, with what was found and what is needed.
fn check_counts(site: &str, rows: &[SiteRow], min_labels: usize) -> Result<()> {
    let rejected = rows.iter().filter(|r| r.labels.contains(&1)).count();
    let approved = rows.len() - rejected;
    if rows.is_empty() {
        bail!(
            "site `{site}` has no labelled comments (a comment counts once a moderator approved, \
             rejected or restored it): nothing to train on, nothing written"
        );
    }
    if rows.len() < min_labels || rejected < MIN_PER_CLASS || approved < MIN_PER_CLASS {
        bail!(
            "site `{site}` has {} labelled comments ({rejected} rejected, {approved} approved): a \
             site model needs at least {min_labels} (--min-labels) with at least {MIN_PER_CLASS} \
             rejected and {MIN_PER_CLASS} approved; nothing written",
            rows.len()
        );
    }
    Ok(())
}

/// What `validation.json` of a site model holds.
#[derive(Debug, Serialize)]
pub struct SiteReport {
    pub kind: &'static str,
    pub version: String,
    pub base_version: String,
    pub site: String,
    pub method: Method,
    pub tuning: Tuning,
    pub created: String,
    pub labelled: usize,
    pub rejected: usize,
    pub n_train: usize,
    pub n_holdout: usize,
    pub first_decision: String,
    pub holdout_from: String,
    pub last_decision: String,
    pub shared_rows: usize,
    pub thresholds: Thresholds,
    /// `site` (the site's stored thresholds) or `model` (the base model's).
    pub thresholds_source: &'static str,
    pub comparison: Vec<Comparison>,
    /// The site model's precision/recall at the thresholds on the holdout, in the table form
    /// `vigie serve` reads from a model's validation (`| category | lang | step t | n | P | R | F1 |`).
    pub at_thresholds: Vec<String>,
    pub seconds: Vec<(String, f64)>,
}

/// A version name from the base's and the site's: `<base>-<slug>-<YYYYMMDD-HHMM>`.
fn version_name(base: &str, site: &str) -> String {
    let slug: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("{base}-{slug}-{}", chrono::Utc::now().format("%Y%m%d-%H%M"))
}

/// The time each step took.
struct Laps {
    started: Instant,
    done: Vec<(String, f64)>,
}

impl Laps {
    fn new() -> Laps {
        Laps {
            started: Instant::now(),
            done: Vec::new(),
        }
    }

    fn lap(&mut self, what: &str) {
        self.done
            .push((what.to_string(), self.started.elapsed().as_secs_f64()));
        self.started = Instant::now();
    }
}

/// The site and output directory of `args`, refused before any work when unusable.
pub fn check_args(args: &TrainArgs) -> Result<(&str, &Path)> {
    let site = args.site.as_deref().map(str::trim).unwrap_or_default();
    if site.is_empty() {
        bail!("--from-decisions needs --site SLUG");
    }
    let output = args
        .output
        .as_deref()
        .context("--from-decisions needs --output DIR (the model directory to create)")?;
    if output.exists() {
        bail!(
            "{} already exists: choose a new directory (nothing is overwritten)",
            output.display()
        );
    }
    let t = (
        args.warm_lr,
        args.warm_g0,
        args.warm_epochs,
        args.layer_alpha,
    );
    if !(t.0.is_finite() && t.0 > 0.0 && t.1.is_finite() && t.1 > 0.0) {
        bail!("--warm-lr and --warm-g0 must be positive numbers");
    }
    if !(1..=MAX_EPOCHS).contains(&t.2) {
        bail!("--warm-epochs must be between 1 and {MAX_EPOCHS}");
    }
    if !(t.3.is_finite() && t.3 >= 0.0) {
        bail!("--layer-alpha must be a number ≥ 0");
    }
    if output.file_name().is_none() {
        bail!("--output must name a directory");
    }
    Ok((site, output))
}

/// `vigie train --from-decisions --site SLUG --output DIR [--base DIR] [--config FILE]`, on
/// the site's rows read by the wiring.
pub fn train_from_decisions(args: &TrainArgs, base_dir: &Path, data: SiteData) -> Result<()> {
    let (site, output) = check_args(args)?;
    let name = output
        .file_name()
        .context("--output must name a directory")?
        .to_string_lossy()
        .into_owned();
    let mut laps = Laps::new();
    laps.done.push(("read decisions".into(), data.read_seconds));
    let base = Model::load(base_dir)
        .with_context(|| format!("cannot load the base model {}", base_dir.display()))?;
    let mut rows: Vec<SiteRow> = data.rows.into_iter().map(site_row).collect();
    rows.sort_by_key(|r| r.decided_at);
    check_counts(site, &rows, args.min_labels)?;
    let (thresholds, thresholds_source) = thresholds_of(data.stored_thresholds, &base);
    laps.lap("load the base model");

    let rules = default_rules();
    let fitter = Fitter::new(&base, &rows, args, &rules)?;
    laps.lap("features");

    let n = rows.len();
    let n_holdout = ((n as f64 * HOLDOUT_SHARE).round() as usize).clamp(1, n - 1);
    let n_train = n - n_holdout;
    let version = version_name(&base.meta.version, site);
    let train_ids: Vec<usize> = (0..n_train).collect();
    let candidate = fitter.fit(args.method, &train_ids, &version)?;
    laps.lap("fit on the older 80 %");
    let comparison = holdout_comparison(&base, &candidate, &rows[n_train..], &rules, &thresholds);
    laps.lap("validate on the newest 20 %");
    let all_ids: Vec<usize> = (0..n).collect();
    let mut model = fitter.fit(args.method, &all_ids, &version)?;
    laps.lap("refit on every row");

    let stamp = |t: NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let report = SiteReport {
        kind: "site",
        version: version.clone(),
        base_version: base.meta.version.clone(),
        site: site.to_string(),
        method: args.method,
        tuning: fitter.tuning,
        created: model.meta.created.clone(),
        labelled: n,
        rejected: rows.iter().filter(|r| r.labels.contains(&1)).count(),
        n_train,
        n_holdout,
        first_decision: stamp(rows[0].decided_at),
        holdout_from: stamp(rows[n_train].decided_at),
        last_decision: stamp(rows[n - 1].decided_at),
        shared_rows: fitter.shared.len(),
        thresholds,
        thresholds_source,
        at_thresholds: at_threshold_rows(&comparison),
        comparison,
        seconds: Vec::new(),
    };
    let report = write_atomically(output, &name, &mut model, report, &mut laps)?;
    print_summary(&report, output);
    Ok(())
}

/// The thresholds the holdout is measured at, and where they come from: the site's own
/// (`site`) when it stored some that parse, else the base model's (`model`).
fn thresholds_of(stored: Option<String>, base: &Model) -> (Thresholds, &'static str) {
    match stored.and_then(|t| serde_json::from_str::<Thresholds>(&t).ok()) {
        Some(t) => (t, "site"),
        None => (base.meta.thresholds, "model"),
    }
}

/// Writes the model directory under a temporary name beside `output` (named `name`), then
/// renames it: the directory appears whole or not at all (a failed write is removed).
fn write_atomically(
    output: &Path,
    name: &str,
    model: &mut Model,
    report: SiteReport,
    laps: &mut Laps,
) -> Result<SiteReport> {
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let written = write_dir(&tmp, model, report, laps).and_then(|r| {
        std::fs::rename(&tmp, output)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), output.display()))?;
        Ok(r)
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written
}

/// Writes the model, `validation.json` and `MODEL_CARD.md` into `dir`.
fn write_dir(
    dir: &Path,
    model: &mut Model,
    mut report: SiteReport,
    laps: &mut Laps,
) -> Result<SiteReport> {
    let mut files = model
        .save(dir)
        .with_context(|| format!("cannot write {}", dir.display()))?;
    laps.lap("write");
    report.seconds = laps.done.clone();
    let json = serde_json::to_vec_pretty(&report)?;
    std::fs::write(dir.join("validation.json"), &json)?;
    files.push(("validation.json".into(), hex::encode(Sha256::digest(&json))));
    std::fs::write(dir.join("MODEL_CARD.md"), card(&report, &files, dir)?)?;
    Ok(report)
}

/// A figure to 3 decimals, or a dash when undefined.
fn opt(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

/// What `vigie train --from-decisions` prints once the directory is written.
fn print_summary(r: &SiteReport, dir: &Path) {
    println!(
        "site model {} ({}) written to {}",
        r.version,
        r.method.as_str(),
        dir.display()
    );
    println!(
        "{} labelled comments ({} rejected); trained on the older {}, validated on the newest {} \
         (decided from {})",
        r.labelled, r.rejected, r.n_train, r.n_holdout, r.holdout_from
    );
    for c in r.comparison.iter().filter(|c| c.slice == "all") {
        println!(
            "holdout {:<9} n={:<5} ROC AUC base {} → site {}",
            c.category,
            c.n,
            opt(c.base.roc_auc),
            opt(c.site.roc_auc)
        );
    }
    for (what, s) in &r.seconds {
        println!("  {what:<28} {s:.2} s");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: i32, category: Option<&str>, from_decision: bool) -> Labelled {
        Labelled {
            text: "Un texte".into(),
            label,
            category: category.map(str::to_owned),
            lang: Some("fr-CA".into()),
            decided_at: chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc(),
            from_decision,
        }
    }

    #[test]
    fn rejections_label_their_category_and_approvals_both() {
        let (d, f) = (true, false);
        let r = site_row(row(1, Some("insult"), d));
        assert_eq!(
            (r.labels, r.lang, r.reason.as_deref()),
            ([1, -1], "fr", Some("insult"))
        );
        assert_eq!(site_row(row(1, Some("spam"), d)).labels, [-1, 1]);
        assert_eq!(site_row(row(0, None, d)).labels, [0, 0]);
        // Perspective feedback speaks of its attribute only
        assert_eq!(site_row(row(0, Some("TOXICITY"), f)).labels, [0, -1]);
        assert_eq!(site_row(row(1, Some("SPAM"), f)).labels, [-1, 1]);
        assert_eq!(site_row(row(0, None, d)).reason, None);
    }
}
