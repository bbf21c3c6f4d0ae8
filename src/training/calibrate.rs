//! `vigie perspective-calibrate`: fits the calibration of the Perspective-compatible `TOXICITY`
//! on held-out labelled comments and prints what each threshold catches and holds.
//!
//! Every comment goes through the real pipeline (default rules, the given model). The table is
//! measured out of fold (two folds split by a hash of the text: each half is calibrated by the
//! map fitted on the other), the map written to the file is fitted on everything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::scoring::perspective::{attribute_scores, caught, Attribute, Calibration, IsotonicMap};
use crate::scoring::{
    default_rules, AuthorHistory, Decision, ScoreInput, Scorer, Thresholds, Verdict,
};

/// Thresholds the table reports (Coral's default is 0.80).
pub const TABLE_THRESHOLDS: [f32; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];

/// `vigie perspective-calibrate`
#[derive(Debug, Clone, clap::Args)]
pub struct CalibrateArgs {
    /// `LANG:FILE.csv` with columns `text` and `label` (1: a moderator would remove it, 0: not);
    /// repeat for each file. `scripts/perspective_calibration.sh` prepares them from the
    /// shared datasets.
    #[arg(long = "data", required = true)]
    pub data: Vec<String>,
    /// Model directory (default: `models/<models/DEFAULT>`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Where to write the calibration (default: `perspective_calibration.json` in the model
    /// directory, where `serve` reads it).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

struct Row {
    lang: String,
    fold: usize,
    label: bool,
    verdict: Verdict,
    text: String,
}

fn fold_of(text: &str) -> usize {
    (Sha256::digest(text.as_bytes())[0] & 1) as usize
}

fn read_rows(spec: &str, scorer: &Scorer) -> Result<Vec<Row>> {
    let (lang, path) = spec
        .split_once(':')
        .with_context(|| format!("--data {spec}: expected LANG:FILE"))?;
    let rules = default_rules();
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot read {path}"))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{path} has no `{name}` column"))
    };
    let (ti, li) = (col("text")?, col("label")?);
    let mut rows = Vec::new();
    for record in rdr.records() {
        let record = record?;
        let text = record.get(ti).unwrap_or("").to_owned();
        let label = match record.get(li).unwrap_or("").trim() {
            "1" => true,
            "0" => false,
            other => bail!("{path}: label {other:?} is neither 0 nor 1"),
        };
        if text.trim().is_empty() {
            continue;
        }
        let verdict = scorer.score_with(
            &ScoreInput {
                body: &text,
                lang: Some(lang),
                author: AuthorHistory {
                    approved_count: u32::MAX,
                    ..AuthorHistory::default()
                },
            },
            &rules,
            &Thresholds::default(),
            Decision::Review,
        );
        rows.push(Row {
            lang: lang.to_owned(),
            fold: fold_of(&text),
            label,
            verdict,
            text,
        });
    }
    Ok(rows)
}

fn fit(rows: &[&Row], model_version: &str, fitted_on: Vec<String>) -> Calibration {
    let mut by_lang: BTreeMap<String, (Vec<f32>, Vec<bool>)> = BTreeMap::new();
    for r in rows {
        for key in [r.lang.as_str(), "all"] {
            let e = by_lang.entry(key.to_owned()).or_default();
            e.0.push(r.verdict.scores.toxicity);
            e.1.push(r.label);
        }
    }
    Calibration {
        model_version: model_version.to_owned(),
        method: "isotonic".into(),
        fitted_on,
        created: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        toxicity: by_lang
            .into_iter()
            .map(|(k, (x, y))| (k, IsotonicMap::fit(&x, &y)))
            .collect(),
    }
}

fn pct(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

/// Runs the command; prints the table (Markdown) on stdout.
pub fn calibrate(args: &CalibrateArgs) -> Result<()> {
    let dir = match &args.model {
        Some(m) => m.clone(),
        None => super::cli::default_model_dir(Path::new("models"))?,
    };
    let scorer =
        Scorer::load(&dir).with_context(|| format!("cannot load model {}", dir.display()))?;
    let (rows, fitted_on) = read_all(&args.data, &scorer)?;
    if rows.is_empty() {
        bail!("no labelled comment in the --data files");
    }
    let version = scorer.model_version().to_owned();
    let out_of_fold = out_of_fold(&rows, &version);
    print_table(&rows, &out_of_fold, &version);
    let all: Vec<&Row> = rows.iter().collect();
    let calibration = fit(&all, &version, fitted_on);
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| dir.join(crate::scoring::perspective::CALIBRATION_FILE));
    let json = serde_json::to_string_pretty(&calibration)?;
    std::fs::write(&output, json + "\n")
        .with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!("calibration written to {}", output.display());
    Ok(())
}

/// Every `--data` file's rows, scored, and a line per file saying what it held (for the
/// calibration's `fitted_on`).
fn read_all(specs: &[String], scorer: &Scorer) -> Result<(Vec<Row>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut fitted_on = Vec::new();
    for spec in specs {
        let before = rows.len();
        rows.extend(read_rows(spec, scorer)?);
        let added = &rows[before..];
        let pos = added.iter().filter(|r| r.label).count();
        // The file's name only: the folder is a temporary one.
        let (lang, path) = spec.split_once(':').unwrap_or(("", spec));
        let name = Path::new(path)
            .file_name()
            .map_or(path.into(), |n| n.to_string_lossy());
        fitted_on.push(format!(
            "{lang}: {name}, {} comments, {pos} to remove",
            added.len()
        ));
    }
    Ok((rows, fitted_on))
}

/// Each row's (calibrated, uncalibrated) `TOXICITY`, the calibration fitted on the other fold.
fn out_of_fold(rows: &[Row], version: &str) -> Vec<(f32, f32)> {
    let mut out_of_fold: Vec<(f32, f32)> = vec![(0.0, 0.0); rows.len()];
    for fold in 0..2 {
        let others: Vec<&Row> = rows.iter().filter(|r| r.fold != fold).collect();
        let cal = fit(&others, version, Vec::new());
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.fold == fold) {
            let a = attribute_scores(&r.verdict, &r.text, &cal);
            let raw = attribute_scores(&r.verdict, &r.text, &Calibration::identity(version));
            out_of_fold[i] = (a.value(Attribute::Toxicity), raw.value(Attribute::Toxicity));
        }
    }
    out_of_fold
}

/// The Markdown table: per language (and all), what each of [`TABLE_THRESHOLDS`] catches,
/// calibrated and not.
fn print_table(rows: &[Row], out_of_fold: &[(f32, f32)], version: &str) {
    let mut langs: Vec<String> = rows.iter().map(|r| r.lang.clone()).collect();
    langs.sort();
    langs.dedup();
    println!(
        "TOXICITY on held-out data, model {version}, out of fold (`score > threshold`, as Coral compares)\n"
    );
    println!("| lang | n | to remove | threshold | calibrated: flagged | precision | recall | uncalibrated: precision | recall |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for lang in langs.iter().map(String::as_str).chain(["all"]) {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| lang == "all" || rows[i].lang == lang)
            .collect();
        let labels: Vec<bool> = idx.iter().map(|&i| rows[i].label).collect();
        let cal: Vec<f32> = idx.iter().map(|&i| out_of_fold[i].0).collect();
        let raw: Vec<f32> = idx.iter().map(|&i| out_of_fold[i].1).collect();
        let pos = labels.iter().filter(|&&l| l).count();
        for t in TABLE_THRESHOLDS {
            let c = caught(&cal, &labels, t);
            let r = caught(&raw, &labels, t);
            println!(
                "| {lang} | {} | {pos} | {t:.1} | {} | {} | {} | {} | {} |",
                labels.len(),
                c.flagged,
                pct(c.precision),
                pct(c.recall),
                pct(r.precision),
                pct(r.recall)
            );
        }
    }
}
