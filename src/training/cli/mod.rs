//! `vigie train`, `vigie eval` and `vigie score` as library functions (wire them into clap).
//! `train` is here with what the three share (loading the model and the rules, the progress
//! bar, label cells); `eval` and `score` have their own modules.

mod eval;
mod score;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::scoring::rules::{default_rules, RuleSet};
use crate::scoring::Scorer;

pub use eval::{eval, EvalArgs};
pub use score::{score, ScoreArgs};

/// `vigie train`
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Training configuration (TOML). Default: `training.toml`. With `--from-decisions`: the
    /// shared training data to add to the site's rows (optional).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Train a site model from the site's moderation decisions (read from the configured
    /// database), starting from a trained base model.
    #[arg(long, requires_all = ["site", "output"])]
    pub from_decisions: bool,
    /// The site's short name (slug), with `--from-decisions`.
    #[arg(long, requires = "from_decisions")]
    pub site: Option<String>,
    /// The model directory to create (must not exist), with `--from-decisions`.
    #[arg(long, requires = "from_decisions")]
    pub output: Option<PathBuf>,
    /// The base model directory (default: the configured `model_dir`).
    #[arg(long, requires = "from_decisions")]
    pub base: Option<PathBuf>,
    /// Fewest labelled comments to train a site model (and at least 30 rejected, 30 approved).
    #[arg(long, default_value_t = super::site::MIN_LABELS)]
    pub min_labels: usize,
    /// How the base model is adapted: `warm` (its text weights warm-started on the site's
    /// rows, then a site layer) or `layer` (a site layer over its output only).
    #[arg(long, value_enum, default_value = "warm")]
    pub method: super::site::Method,
    /// Warm start: AdaGrad learning rate.
    #[arg(long, default_value_t = super::site::WARM_LR)]
    pub warm_lr: f32,
    /// Warm start: starting squared-gradient sum per weight (larger: smaller first steps).
    #[arg(long, default_value_t = super::site::WARM_G0)]
    pub warm_g0: f32,
    /// Warm start: epochs over the site's rows.
    #[arg(long, default_value_t = super::site::WARM_EPOCHS)]
    pub warm_epochs: u32,
    /// Site layer: linfa's L2 penalty.
    #[arg(long, default_value_t = super::site::LAYER_ALPHA)]
    pub layer_alpha: f64,
}

/// Resolve the default model: `models/DEFAULT` holds the version name.
pub fn default_model_dir(models: &Path) -> Result<PathBuf> {
    let p = models.join("DEFAULT");
    let v = std::fs::read_to_string(&p).with_context(|| {
        format!(
            "cannot read {} (it names the default model version)",
            p.display()
        )
    })?;
    let v = v.trim();
    if v.is_empty() || v.contains('/') || v.contains("..") {
        bail!("{} does not hold a plain version name", p.display());
    }
    Ok(models.join(v))
}

/// The model of `--model DIR`, else the default model; says on stderr what it loaded.
fn load_scorer(model: &Option<PathBuf>) -> Result<Scorer> {
    let dir = match model {
        Some(m) => m.clone(),
        None => default_model_dir(Path::new("models"))?,
    };
    let t = Instant::now();
    let s = Scorer::load(&dir).with_context(|| format!("cannot load model {}", dir.display()))?;
    tracing_free_log(&format!(
        "loaded model {} from {} in {:.1} ms",
        s.model_version(),
        dir.display(),
        t.elapsed().as_secs_f64() * 1e3
    ));
    Ok(s)
}

/// The rules of `--rules FILE`, else the built-in default rules.
fn load_rules(path: &Option<PathBuf>) -> Result<RuleSet> {
    let Some(p) = path else {
        return Ok(default_rules());
    };
    let text =
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(RuleSet::from_toml(&text, &p.display().to_string())?)
}

fn tracing_free_log(msg: &str) {
    eprintln!("{msg}");
}

/// A progress bar on stderr.
fn bar(len: u64) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// `vigie train [--config training.toml]`
pub fn train(args: &TrainArgs) -> Result<()> {
    let cfg_path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("training.toml"));
    let cfg = super::load_config(&cfg_path)?;
    let base = cfg_path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let pb = bar(1);
    let out = super::run(&cfg, &base, &pb)?;
    println!("model {} written to {}", out.version, out.dir.display());
    println!(
        "trained on {} rows in {:.1} s",
        out.report.n_train, out.report.train_seconds
    );
    for m in &out.report.metrics {
        println!(
            "{:<34} {:<28} {:<3} {:<9} n={:<6} AUC stacked {} sparse {} tfidf {}",
            m.protocol,
            m.set,
            m.lang,
            m.category,
            m.n,
            opt(m.auc_stacked),
            opt(m.auc_sparse),
            opt(m.auc_tfidf)
        );
    }
    println!(
        "thresholds: {}",
        serde_json::to_string(&out.report.thresholds)?
    );
    Ok(())
}

/// A figure to 3 decimals, or a dash when undefined.
fn opt(v: Option<f32>) -> String {
    v.map_or("  –  ".into(), |v| format!("{v:.3}"))
}

/// Map a label cell to a boolean (None = not usable for this category).
pub fn parse_label(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "hateful" | "toxic" | "off" | "offensive" | "abusive" | "hate"
        | "spam" | "racist" | "positive" => Some(true),
        "0" | "false" | "no" | "non-hateful" | "not" | "ham" | "normal" | "none" | "clean"
        | "negative" | "neither" => Some(false),
        _ => None,
    }
}
