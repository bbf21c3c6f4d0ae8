//! Offline model building: `vigie train`, `vigie eval` and `vigie score` (the [`cli`]), the
//! Perspective calibration (`vigie perspective-calibrate`, [`calibrate`]), data
//! loading with declared label mappings, the sparse text model, the linfa-logistic stacker,
//! validation protocols, baselines, metrics and the model card. Nothing here runs while
//! serving: the runtime pipeline is [`crate::scoring`].

mod baseline;
pub mod calibrate;
mod card;
pub mod cli;
mod config;
mod data;
mod explain;
mod holds;
pub mod metrics;
pub mod site;
mod sparse;
mod stacker;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::scoring::model::{Model, ModelMeta, CATEGORIES, FORMAT, WEIGHTS_FILE};
use crate::scoring::rules::RuleSet;

pub use baseline::{StrongTfidf, DENSE_HASH_BITS};
pub use config::{DatasetConfig, Role, TrainConfig};
pub use data::{load_dataset, prepare, Doc, Prepared};
pub use explain::ExplanationRate;
pub use holds::HoldRate;
pub use sparse::{train_sparse, Rows, Slots, SparseLr, SparseParams};
pub use stacker::{fit_stacker, Ctx, Fitted};
pub use validate::{FunctionalResult, Report, SetMetrics};

/// What `vigie train` produced.
pub struct TrainOutcome {
    pub dir: PathBuf,
    pub version: String,
    pub report: Report,
}

/// Read a training configuration file.
pub fn load_config(path: &Path) -> Result<TrainConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut cfg: TrainConfig = toml::from_str(&text)
        .with_context(|| format!("invalid training config {}", path.display()))?;
    cfg.resolve()
        .with_context(|| format!("invalid training config {}", path.display()))?;
    Ok(cfg)
}

fn load_rules(cfg: &TrainConfig, base: &Path) -> Result<RuleSet> {
    Ok(match &cfg.rules {
        Some(p) => {
            let p = base.join(p);
            let t = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            RuleSet::from_toml(&t, &p.display().to_string())?
        }
        None => crate::scoring::rules::default_rules(),
    })
}

/// Every dataset's rows, each tagged with its dataset index, and the row count per dataset.
fn load_all(cfg: &TrainConfig, base: &Path) -> Result<(Vec<Doc>, Vec<usize>)> {
    let mut docs = Vec::new();
    let mut ds_rows = Vec::new();
    for (k, d) in cfg.datasets.iter().enumerate() {
        let mut v = load_dataset(base, d)?;
        v.iter_mut().for_each(|x| x.ds = k);
        ds_rows.push(v.len());
        docs.extend(v);
    }
    Ok((docs, ds_rows))
}

/// Train on the configured data, validate, and write `output_dir/<version>/`.
pub fn run(
    cfg: &TrainConfig,
    base: &Path,
    progress: &indicatif::ProgressBar,
) -> Result<TrainOutcome> {
    let t0 = Instant::now();
    let now = chrono::Utc::now();
    let version = cfg
        .version
        .clone()
        .unwrap_or_else(|| format!("vigie-{}", now.format("%Y%m%d-%H%M")));
    let rules = load_rules(cfg, base)?;
    progress.set_message("reading datasets");
    let (docs, ds_rows) = load_all(cfg, base)?;
    progress.set_message("normalising and hashing");
    let prep = prepare(&docs, &cfg.features, &rules);
    let weights: Vec<f32> = docs.iter().map(|d| cfg.datasets[d.ds].weight).collect();
    let cx = Ctx {
        cfg,
        docs: &docs,
        prep: &prep,
        weights,
        slots: Slots::new(&prep.idx, 1 << cfg.features.hash_bits),
    };
    let train_ids = cx.train_ids();
    progress.set_length(progress_steps(cfg, &cx));
    let tick = || progress.inc(1);
    let mut v = validate::Validation {
        thresholds: cfg.thresholds.unwrap_or_default(),
        ..Default::default()
    };
    if cfg.validate {
        v = validate::validate(&cx, &train_ids, progress, &tick)?;
    }
    let fitted = match v.fitted.take() {
        Some(f) => f,
        None => {
            progress.set_message("final model");
            cx.fit(&train_ids, None, &tick)?
        }
    };
    let created = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let meta = model_meta(cfg, &version, created, &fitted, v.thresholds, &rules);
    let mut model = Model::from_f32(meta, &cx.slots.bucket_weights(&fitted.sparse.w));
    let held_out = validate::score_held_out(
        &cx,
        &model,
        &rules,
        &v.thresholds,
        &v.baseline_held_out,
        &mut v.metrics,
    );
    tick();
    let dir = base.join(&cfg.output_dir).join(&version);
    let files = model
        .save(&dir)
        .with_context(|| format!("cannot write {}", dir.display()))?;
    let report = Report {
        version: version.clone(),
        created: model.meta.created.clone(),
        n_train: train_ids.len(),
        train_seconds: t0.elapsed().as_secs_f32(),
        metrics: v.metrics,
        functional: held_out.functional,
        holds: held_out.holds,
        explanations: held_out.explanations,
        thresholds: v.thresholds,
        threshold_notes: v.threshold_notes,
        dense_linfa: v.dense_linfa,
        baseline_note: v.baseline_note,
        at_thresholds: v.at_thresholds,
        not_left_out: v.not_left_out,
    };
    write_outputs(cfg, &ds_rows, &report, &files, &rules, &dir)?;
    progress.finish_with_message(format!("model {version} written to {}", dir.display()));
    Ok(TrainOutcome {
        dir,
        version,
        report,
    })
}

/// How many ticks the progress bar counts: `folds + 2` per fit; when validating, the fits of
/// validation too (two, plus one per dataset left out) and two more.
fn progress_steps(cfg: &TrainConfig, cx: &Ctx<'_>) -> u64 {
    let per_fit = cfg.folds.max(2) as u64 + 2;
    if cfg.validate {
        per_fit * (2 + cx.lodo_datasets().len() as u64) + 2
    } else {
        per_fit
    }
}

/// The `model.json` of a freshly trained model (its weights' digest is filled in on saving).
fn model_meta(
    cfg: &TrainConfig,
    version: &str,
    created: String,
    fitted: &Fitted,
    thresholds: crate::scoring::Thresholds,
    rules: &RuleSet,
) -> ModelMeta {
    ModelMeta {
        format: FORMAT,
        version: version.to_owned(),
        created,
        features: cfg.features.clone(),
        categories: CATEGORIES.iter().map(|s| s.to_string()).collect(),
        sparse_bias: fitted.sparse.bias,
        stackers: fitted.stackers.to_vec(),
        thresholds,
        weights_file: WEIGHTS_FILE.into(),
        weights_sha256: String::new(),
        rules: rules.name().to_string(),
    }
}

/// Writes `validation.json` and `MODEL_CARD.md` beside the saved model.
fn write_outputs(
    cfg: &TrainConfig,
    ds_rows: &[usize],
    report: &Report,
    files: &[(String, String)],
    rules: &RuleSet,
    dir: &Path,
) -> Result<()> {
    std::fs::write(
        dir.join("validation.json"),
        serde_json::to_vec_pretty(report)?,
    )?;
    let card = card::model_card(cfg, ds_rows, report, files, rules, dir)?;
    std::fs::write(dir.join("MODEL_CARD.md"), card)?;
    Ok(())
}
