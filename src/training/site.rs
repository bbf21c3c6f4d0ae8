//! `vigie train --from-decisions`: a site model from the site's own moderators' decisions.
//!
//! The shared training data is not on a newsroom's server, so a site model starts from a trained
//! base model (the configured `model_dir` by default) and adapts it to the labelled rows that
//! `crate::store::datasets` exports (last human approve/reject/restore per comment, Perspective
//! feedback), read by `main.rs`: training never touches the database. Two methods, measured by
//! `scripts/site_model_bench.py` (docs/benchmarks.md):
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

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::cli::TrainArgs;
use super::data::{prepare, Doc, Prepared};
use super::metrics::{self, AtThreshold};
use super::sparse::{shuffle, train_sparse_from, Rows, SparseLr, SparseParams, WarmStart};
use super::stacker::fit_layer;
use crate::scoring::features::SparseFeatures;
use crate::scoring::model::{Model, CATEGORIES};
use crate::scoring::{default_rules, lang, normalise, RuleSet, Scorer, Thresholds};

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

/// One labelled comment as the store exports it (`store::datasets::DatasetRow`; the wiring in
/// `main.rs` reads them, as training never touches the database).
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

/// The base model's trained text weights as floats, interleaved `[toxicity, spam]` per bucket.
fn dequantise(m: &Model) -> Vec<f32> {
    let book = &m.weights.codebook;
    m.weights
        .codes
        .iter()
        .enumerate()
        .map(|(k, &code)| book[(k % 2) * 256 + code as usize])
        .collect()
}

/// Everything a fit needs: the base model, the rows (site rows first, then shared rows with
/// `--config`) and their features.
struct Fitter<'a> {
    base: &'a Model,
    base_w: Vec<f32>,
    prep: Prepared,
    labels: Vec<[i8; 2]>,
    weights: Vec<f32>,
    /// Indices of the shared rows (`--config`), added to every warm start.
    shared: Vec<usize>,
    tuning: Tuning,
}

/// The knobs of `--warm-lr`, `--warm-g0`, `--warm-epochs`, `--layer-alpha`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tuning {
    pub warm_lr: f32,
    pub warm_g0: f32,
    pub warm_epochs: u32,
    pub layer_alpha: f64,
}

impl Fitter<'_> {
    fn rows(&self) -> Rows<'_> {
        Rows {
            idx: &self.prep.idx,
            val: None,
        }
    }

    fn base_margins(&self, i: usize) -> [f32; 2] {
        let sf = SparseFeatures {
            idx: self.prep.idx[i].clone(),
            tok_start: Vec::new(),
        };
        self.base.margins(&sf, None)
    }

    fn warm(&self, ids: &[usize], seed_off: u64) -> SparseLr {
        let start = WarmStart {
            w: &self.base_w,
            bias: self.base.meta.sparse_bias,
            g0: self.tuning.warm_g0,
            prior_l2: WARM_PRIOR_L2,
        };
        let mut all = ids.to_vec();
        all.extend_from_slice(&self.shared);
        let params = SparseParams {
            dim: 1 << self.base.meta.features.hash_bits,
            epochs: self.tuning.warm_epochs,
            lr: self.tuning.warm_lr,
            l2: 0.0,
            seed: SEED.wrapping_add(seed_off),
        };
        train_sparse_from(
            &self.rows(),
            &self.labels,
            &self.weights,
            &all,
            &params,
            Some(&start),
        )
    }

    /// A site model fitted on the site rows `ids`.
    fn fit(&self, method: Method, ids: &[usize], version: &str) -> Result<Model> {
        let (margins, sparse): (Vec<[f32; 2]>, Option<SparseLr>) = match method {
            Method::Layer => (ids.iter().map(|&i| self.base_margins(i)).collect(), None),
            Method::Warm => {
                let mut order: Vec<usize> = (0..ids.len()).collect();
                shuffle(&mut order, SEED);
                let mut oof = vec![[0f32; 2]; ids.len()];
                for f in 0..FOLDS {
                    let train: Vec<usize> = order
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| j % FOLDS != f)
                        .map(|(_, &k)| ids[k])
                        .collect();
                    let m = self.warm(&train, f as u64);
                    for (_, &k) in order.iter().enumerate().filter(|(j, _)| j % FOLDS == f) {
                        oof[k] = m.margins(&self.rows(), ids[k]);
                    }
                }
                (oof, Some(self.warm(ids, 99)))
            }
        };
        let mut stackers = Vec::with_capacity(CATEGORIES.len());
        for c in 0..CATEGORIES.len() {
            let mut x = Vec::new();
            let mut y = Vec::new();
            for (k, &i) in ids.iter().enumerate() {
                if self.labels[i][c] < 0 {
                    continue;
                }
                let mut d = self.prep.dense[i];
                d[0] = margins[k][0];
                d[1] = margins[k][1];
                x.push(d);
                y.push(self.labels[i][c] == 1);
            }
            let pos = y.iter().filter(|&&v| v).count();
            let base = &self.base.meta.stackers[c];
            stackers.push(if pos >= MIN_CLASS_FIT && y.len() - pos >= MIN_CLASS_FIT {
                fit_layer(base, &x, &y, self.tuning.layer_alpha)?
            } else {
                base.clone()
            });
        }
        let mut meta = self.base.meta.clone();
        meta.version = version.to_string();
        meta.created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        meta.stackers = stackers;
        meta.weights_sha256 = String::new();
        Ok(match sparse {
            Some(s) => {
                meta.sparse_bias = s.bias;
                Model::from_f32(meta, &s.w)
            }
            None => Model {
                meta,
                weights: self.base.weights.clone(),
            },
        })
    }
}

/// Ranking and precision/recall of one model on one slice of the holdout.
#[derive(Debug, Serialize)]
pub struct SliceMetrics {
    pub roc_auc: Option<f32>,
    pub review: AtThreshold,
    pub reject: AtThreshold,
}

/// Base vs site on one slice of the holdout (all rows, a language, a reason code).
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub slice: String,
    pub category: &'static str,
    pub n: usize,
    pub positives: usize,
    pub base: SliceMetrics,
    pub site: SliceMetrics,
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

/// Scores of the holdout rows (toxicity, spam) by one model.
fn holdout_scores(model: &Model, rows: &[&SiteRow], rules: &RuleSet) -> Vec<[f32; 2]> {
    let scorer = Scorer::from_model(model.clone());
    rows.iter()
        .map(|r| {
            let (s, _) = scorer.scores_only(&r.text, Some(r.lang), rules);
            [s.toxicity, s.spam]
        })
        .collect()
}

fn slice_metrics(scores: &[f32], y: &[bool], th: (f32, f32)) -> SliceMetrics {
    SliceMetrics {
        roc_auc: metrics::roc_auc(scores, y),
        review: metrics::at_threshold(scores, y, th.0),
        reject: metrics::at_threshold(scores, y, th.1),
    }
}

/// Base vs site on the holdout: every labelled category, each language, each reason code
/// (its rejections against all approvals).
fn compare(
    rows: &[&SiteRow],
    base: &[[f32; 2]],
    site: &[[f32; 2]],
    th: &Thresholds,
) -> Vec<Comparison> {
    let th_of = |c: usize| {
        let t = if c == 0 { th.toxicity } else { th.spam };
        (t.review, t.reject)
    };
    let mut out = Vec::new();
    let mut push = |slice: String, c: usize, keep: &dyn Fn(&SiteRow) -> bool| {
        let sel: Vec<usize> = (0..rows.len())
            .filter(|&k| rows[k].labels[c] >= 0 && keep(rows[k]))
            .collect();
        let y: Vec<bool> = sel.iter().map(|&k| rows[k].labels[c] == 1).collect();
        let positives = y.iter().filter(|&&v| v).count();
        if positives == 0 {
            return;
        }
        let sb: Vec<f32> = sel.iter().map(|&k| base[k][c]).collect();
        let ss: Vec<f32> = sel.iter().map(|&k| site[k][c]).collect();
        out.push(Comparison {
            slice,
            category: CATEGORIES[c],
            n: sel.len(),
            positives,
            base: slice_metrics(&sb, &y, th_of(c)),
            site: slice_metrics(&ss, &y, th_of(c)),
        });
    };
    for c in 0..CATEGORIES.len() {
        push("all".into(), c, &|_| true);
    }
    let langs: BTreeSet<&str> = rows.iter().map(|r| r.lang).collect();
    for l in langs {
        for c in 0..CATEGORIES.len() {
            push(format!("lang {l}"), c, &|r| r.lang == l);
        }
    }
    let reasons: BTreeSet<&str> = rows.iter().filter_map(|r| r.reason.as_deref()).collect();
    for reason in reasons {
        let c = category_of(Some(reason));
        push(format!("reason {reason}"), c, &|r| {
            r.labels[c] == 0 || r.reason.as_deref() == Some(reason)
        });
    }
    out
}

/// The site model's rows in the form `vigie serve` reads (`Judge::measured_at_thresholds`).
fn at_threshold_rows(comparison: &[Comparison]) -> Vec<String> {
    let mut out = Vec::new();
    for c in comparison {
        let lang = match c.slice.as_str() {
            "all" => "all",
            s => match s.strip_prefix("lang ") {
                Some(l) => l,
                None => continue,
            },
        };
        for (step, a) in [("review", &c.site.review), ("reject", &c.site.reject)] {
            out.push(format!(
                "| {} | {lang} | {step} {:.3} | {} | {:.3} | {:.3} | {:.3} |",
                c.category, a.threshold, c.n, a.precision, a.recall, a.f1
            ));
        }
    }
    out
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

/// The shared training rows of `--config` (role `train`), with their datasets' weights.
fn shared_docs(config: &Path) -> Result<Vec<(Doc, f32)>> {
    let cfg = super::load_config(config)?;
    let base = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (docs, _) = super::load_all(&cfg, base)?;
    Ok(docs
        .into_iter()
        .filter(|d| cfg.datasets[d.ds].role == super::Role::Train)
        .map(|d| {
            let w = cfg.datasets[d.ds].weight;
            (d, w)
        })
        .collect())
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
    let (thresholds, thresholds_source) = match data
        .stored_thresholds
        .and_then(|t| serde_json::from_str::<Thresholds>(&t).ok())
    {
        Some(t) => (t, "site"),
        None => (base.meta.thresholds, "model"),
    };
    laps.lap("load the base model");

    let rules = default_rules();
    let mut docs: Vec<Doc> = rows
        .iter()
        .map(|r| Doc {
            text: r.text.clone(),
            lang: r.lang,
            ds: 0,
            labels: r.labels,
            functionality: None,
        })
        .collect();
    let mut weights = vec![1.0f32; docs.len()];
    let mut shared = Vec::new();
    if let Some(config) = &args.config {
        for (d, w) in shared_docs(config)? {
            shared.push(docs.len());
            docs.push(d);
            weights.push(w / SITE_WEIGHT);
        }
    }
    let prep = prepare(&docs, &base.meta.features, &rules);
    let fitter = Fitter {
        base: &base,
        base_w: dequantise(&base),
        labels: docs.iter().map(|d| d.labels).collect(),
        prep,
        weights,
        shared,
        tuning: Tuning {
            warm_lr: args.warm_lr,
            warm_g0: args.warm_g0,
            warm_epochs: args.warm_epochs,
            layer_alpha: args.layer_alpha,
        },
    };
    laps.lap("features");

    let n = rows.len();
    let n_holdout = ((n as f64 * HOLDOUT_SHARE).round() as usize).clamp(1, n - 1);
    let n_train = n - n_holdout;
    let version = version_name(&base.meta.version, site);
    let train_ids: Vec<usize> = (0..n_train).collect();
    let candidate = fitter.fit(args.method, &train_ids, &version)?;
    laps.lap("fit on the older 80 %");
    let holdout: Vec<&SiteRow> = rows[n_train..].iter().collect();
    let base_scores = holdout_scores(&base, &holdout, &rules);
    let site_scores = holdout_scores(&candidate, &holdout, &rules);
    let comparison = compare(&holdout, &base_scores, &site_scores, &thresholds);
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
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let written = write_dir(&tmp, &mut model, report, &mut laps).and_then(|r| {
        std::fs::rename(&tmp, output)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), output.display()))?;
        Ok(r)
    });
    let report = match written {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    print_summary(&report, output);
    Ok(())
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

fn opt(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

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

fn card(r: &SiteReport, files: &[(String, String)], dir: &Path) -> Result<String> {
    use std::fmt::Write;
    let mut s = String::new();
    writeln!(s, "# Vigie site model card — `{}`\n", r.version)?;
    writeln!(
        s,
        "Created {} by `vigie train --from-decisions --site {} --method {}` from the base model \
         `{}` and the site's own moderation decisions.\n",
        r.created,
        r.site,
        r.method.as_str(),
        r.base_version
    )?;
    writeln!(s, "## What it is\n")?;
    match r.method {
        Method::Layer => writeln!(
            s,
            "The base model's text weights unchanged, and per category a **site layer**: a \
             linfa-logistic regression (L2 α = {}) over the base model's stacked \
             logit and its 16 dense features (text logits, rule evidence, shape), fitted on the \
             site's labelled comments and folded into the stacker of `model.json`.",
            r.tuning.layer_alpha
        )?,
        Method::Warm => writeln!(
            s,
            "The base model's sparse text weights **warm-started** on the site's labelled \
             comments ({} AdaGrad epochs, learning rate {}, damped start {}, L2 pull \
             {WARM_PRIOR_L2} towards the base weights{}), then per category the site layer: a \
             linfa-logistic regression (L2 α = {}) over the base \
             stacker's logit and the 16 dense features, with out-of-fold ({FOLDS} folds) text \
             logits of the adapted weights.",
            r.tuning.warm_epochs,
            r.tuning.warm_lr,
            r.tuning.warm_g0,
            if r.shared_rows > 0 {
                format!(
                    "; with {} rows of the shared training data, each site row weighing \
                     {SITE_WEIGHT}× a shared one",
                    r.shared_rows
                )
            } else {
                String::new()
            },
            r.tuning.layer_alpha
        )?,
    }
    writeln!(
        s,
        "A category with fewer than {MIN_CLASS_FIT} rows of either class keeps the base's \
         stacker. Same features, categories and format as the base model: `vigie serve`, `vigie \
         eval` and `vigie score` load it like any model.\n"
    )?;
    writeln!(s, "## Data\n")?;
    writeln!(
        s,
        "{} labelled comments of site `{}` ({} rejected), decided from {} to {}: each comment's \
         last human approve, reject or restore (and Perspective feedback), as `vigie dataset \
         export` writes them. A rejection for `spam` is a spam label, any other rejection a \
         toxicity label; an approval is negative for both.\n",
        r.labelled, r.site, r.rejected, r.first_decision, r.last_decision
    )?;
    writeln!(
        s,
        "**Validation**: the model was fitted on the older {} rows and measured on the newest {} \
         (decided from {}; a split by time, never random). The model in this directory was then \
         refitted the same way on all {} rows.\n",
        r.n_train, r.n_holdout, r.holdout_from, r.labelled
    )?;
    writeln!(s, "## Base vs site model on the holdout\n")?;
    let th = r.thresholds;
    writeln!(
        s,
        "Thresholds ({}): toxicity review {:.3}, reject {:.3}; spam review {:.3}, reject {:.3}. \
         A reason code's slice holds its rejections and every approval.\n",
        if r.thresholds_source == "site" {
            "the site's own"
        } else {
            "the base model's; the site has none of its own"
        },
        th.toxicity.review,
        th.toxicity.reject,
        th.spam.review,
        th.spam.reject
    )?;
    writeln!(
        s,
        "| slice | category | n | positives | ROC AUC base | ROC AUC site | review P/R base | \
         review P/R site | reject P/R base | reject P/R site |\n|---|---|---|---|---|---|---|---|---|---|"
    )?;
    let num = |v: f32| {
        if v.is_finite() {
            format!("{v:.2}")
        } else {
            "–".into()
        }
    };
    let pr = |a: &AtThreshold| format!("{} / {}", num(a.precision), num(a.recall));
    for c in &r.comparison {
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.slice,
            c.category,
            c.n,
            c.positives,
            opt(c.base.roc_auc),
            opt(c.site.roc_auc),
            pr(&c.base.review),
            pr(&c.site.review),
            pr(&c.base.reject),
            pr(&c.site.reject)
        )?;
    }
    for c in r.comparison.iter().filter(|c| c.slice == "all") {
        let fewest = c.positives.min(c.n - c.positives);
        if fewest < MIN_CLASS_FIT {
            writeln!(
                s,
                "\n**Note:** the holdout has only {fewest} {} row(s) of one class for `{}`: its \
                 ROC AUC rests on them and says little.",
                if c.positives == fewest {
                    "positive"
                } else {
                    "negative"
                },
                c.category
            )?;
        }
    }
    if r.comparison.is_empty() {
        writeln!(
            s,
            "\nThe holdout has no rejected comment: no figure can be given."
        )?;
    }
    writeln!(
        s,
        "\nA few dozen holdout rows give wide intervals: with 50 rows, an AUC differs from the \
         true one by ±0.07 or so. Compare again as decisions accumulate.\n"
    )?;
    writeln!(s, "## Time\n")?;
    for (what, sec) in &r.seconds {
        writeln!(s, "- {what}: {sec:.2} s")?;
    }
    writeln!(s, "\n## Files\n")?;
    writeln!(s, "| file | bytes | sha256 |\n|---|---|---|")?;
    for (f, sha) in files {
        let len = std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        writeln!(s, "| `{f}` | {len} | `{sha}` |")?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::model::tiny_model;

    #[test]
    fn dequantised_weights_give_the_models_own_text_logits() {
        let m = tiny_model();
        let w = dequantise(&m);
        let lr = SparseLr {
            w,
            bias: m.meta.sparse_bias,
        };
        let idx = vec![vec![1u32, 7, 300, 1023], vec![], vec![5, 5, 9]];
        let rows = Rows {
            idx: &idx,
            val: None,
        };
        for (i, ix) in idx.iter().enumerate() {
            let sf = SparseFeatures {
                idx: ix.clone(),
                tok_start: Vec::new(),
            };
            let (a, b) = (lr.margins(&rows, i), m.margins(&sf, None));
            assert!((a[0] - b[0]).abs() < 1e-5 && (a[1] - b[1]).abs() < 1e-5);
        }
    }

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
