//! `vigie eval --data FILE.csv …`: the model and the rules on a labelled file — ROC AUC,
//! average precision, P/R/F1 at the shipped thresholds, pass rates per functionality, per
//! language, and PR and ROC curves as SVG beside a Markdown report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::{bar, load_rules, load_scorer, opt, parse_label};
use crate::scoring::model::CATEGORIES;
use crate::scoring::rules::RuleSet;
use crate::scoring::{AuthorHistory, CategoryThresholds, Decision, ScoreInput, Scorer};
use crate::training::metrics;

/// `vigie eval`
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Labelled CSV (or TSV by extension) file.
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, default_value = "text")]
    pub text_column: String,
    #[arg(long, default_value = "label")]
    pub label_column: String,
    /// toxicity or spam
    #[arg(long, default_value = "toxicity")]
    pub category: String,
    /// Print one JSON object instead of the text report; no file is written unless
    /// `--report` is given too.
    #[arg(long)]
    pub json: bool,
    /// Model directory (default: `models/<models/DEFAULT>`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Rule file (TOML) instead of the built-in default rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Where to write the report (Markdown); the SVG goes next to it, and missing folders are
    /// created. Default without `--json`: `eval-<data file stem>-<category>.md` in the current
    /// directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct FuncRow {
    functionality: String,
    n: usize,
    pass_rate: f32,
}

#[derive(Debug, Serialize)]
struct EvalOut {
    data: String,
    model_version: String,
    category: String,
    n: usize,
    positives: usize,
    negatives: usize,
    skipped_unlabelled: usize,
    /// Why ranking figures are missing (a file with one class only), else null.
    note: Option<String>,
    roc_auc: Option<f32>,
    average_precision: Option<f32>,
    at_review: metrics::AtThreshold,
    at_reject: metrics::AtThreshold,
    /// precision/recall of the pipeline's verdict (`review` or `reject` = flagged)
    verdict_flagged: metrics::AtThreshold,
    /// Share of the positives the pipeline holds (verdict review or reject): review recall.
    held_positive_rate: Option<f32>,
    /// Share of the negatives the pipeline holds: false holds.
    held_negative_rate: Option<f32>,
    functionality: Vec<FuncRow>,
    per_language: BTreeMap<String, Option<f32>>,
    comments_per_second: f64,
    /// The files written (none with `--json` alone).
    svg: Option<String>,
    report: Option<String>,
}

/// The labelled rows of an eval file, scored.
#[derive(Default)]
struct Scored {
    scores: Vec<f32>,
    labels: Vec<bool>,
    flagged: Vec<bool>,
    langs: Vec<&'static str>,
    funcs: Vec<Option<String>>,
    skipped: usize,
    secs: f64,
}

fn open_eval_csv(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    let tsv = path.extension().is_some_and(|e| e == "tsv");
    csv::ReaderBuilder::new()
        .delimiter(if tsv { b'\t' } else { b',' })
        .quoting(!tsv)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Read and score every labelled row (the whole pipeline: rules and the model's thresholds).
fn score_eval_rows(args: &EvalArgs, c: usize, scorer: &Scorer, rules: &RuleSet) -> Result<Scored> {
    let thresholds = scorer.recommended_thresholds();
    let mut rdr = open_eval_csv(&args.data)?;
    let headers = rdr.byte_headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}') == name)
    };
    let missing = |name: &str| format!("{}: no column `{name}`", args.data.display());
    let tc = col(&args.text_column).with_context(|| missing(&args.text_column))?;
    let lc = col(&args.label_column).with_context(|| missing(&args.label_column))?;
    let fc = col("functionality");
    let lang_c = col("lang").or_else(|| col("language"));
    let mut out = Scored::default();
    let mut rec = csv::ByteRecord::new();
    let pb = bar(0);
    let t = Instant::now();
    while rdr.read_byte_record(&mut rec)? {
        let (Some(text), Some(label)) = (rec.get(tc), rec.get(lc)) else {
            out.skipped += 1;
            continue;
        };
        let Some(y) = parse_label(&String::from_utf8_lossy(label)) else {
            out.skipped += 1;
            continue;
        };
        let text = String::from_utf8_lossy(text);
        let hint = lang_c
            .and_then(|k| rec.get(k))
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let input = ScoreInput {
            body: &text,
            lang: hint.as_deref().filter(|l| !l.is_empty()),
            author: AuthorHistory {
                approved_count: u32::MAX,
                ..Default::default()
            },
        };
        let v = scorer.score(&input, rules, &thresholds);
        out.flagged.push(v.decision != Decision::Allow);
        let s = v.scores;
        out.scores.push(if c == 0 { s.toxicity } else { s.spam });
        out.labels.push(y);
        out.langs.push(match v.language.as_str() {
            "fr" => "fr",
            "en" => "en",
            _ => "und",
        });
        out.funcs.push(
            fc.and_then(|k| rec.get(k))
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        );
        pb.inc(1);
    }
    out.secs = t.elapsed().as_secs_f64();
    pb.finish_and_clear();
    Ok(out)
}

fn functionality_rows(d: &Scored) -> Vec<FuncRow> {
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((f, &fl), &y) in d.funcs.iter().zip(&d.flagged).zip(&d.labels) {
        if let Some(f) = f {
            let e = by.entry(f.clone()).or_default();
            e.0 += 1;
            e.1 += (fl == y) as usize;
        }
    }
    by.into_iter()
        .map(|(f, (n, p))| FuncRow {
            functionality: f,
            n,
            pass_rate: p as f32 / n as f32,
        })
        .collect()
}

fn per_language_auc(d: &Scored) -> BTreeMap<String, Option<f32>> {
    let mut out = BTreeMap::new();
    for l in ["fr", "en", "und"] {
        let sel: Vec<usize> = (0..d.langs.len()).filter(|&k| d.langs[k] == l).collect();
        if sel.is_empty() {
            continue;
        }
        let s: Vec<f32> = sel.iter().map(|&k| d.scores[k]).collect();
        let y: Vec<bool> = sel.iter().map(|&k| d.labels[k]).collect();
        out.insert(l.to_string(), metrics::roc_auc(&s, &y));
    }
    out
}

/// Share of the rows with label `y` that the pipeline held (None when there are none).
fn held_rate(d: &Scored, y: bool) -> Option<f32> {
    let n = d.labels.iter().filter(|&&l| l == y).count();
    let held = d
        .labels
        .iter()
        .zip(&d.flagged)
        .filter(|(&l, &f)| l == y && f)
        .count();
    (n > 0).then(|| held as f32 / n as f32)
}

/// `vigie eval --data FILE.csv ...`
pub fn eval(args: &EvalArgs) -> Result<()> {
    let c = category_index(&args.category)?;
    let scorer = load_scorer(&args.model)?;
    let th = scorer.recommended_thresholds();
    let th = if c == 0 { th.toxicity } else { th.spam };
    let rules = load_rules(&args.rules)?;
    let d = score_eval_rows(args, c, &scorer, &rules)?;
    if d.scores.is_empty() {
        bail!("no labelled rows in {}", args.data.display());
    }
    let report = report_path(args);
    let svg = report.as_ref().map(|r| r.with_extension("svg"));
    let out = eval_out(args, &scorer, th, &d, (report.as_deref(), svg.as_deref()));
    if let (Some(report), Some(svg)) = (&report, &svg) {
        write_curves(args, &out, &d, th, report, svg)?;
    }
    let md = eval_markdown(&out);
    if let Some(report) = &report {
        std::fs::write(report, &md)
            .with_context(|| format!("cannot write {}", report.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print!("{md}");
    }
    Ok(())
}

/// The index in [`CATEGORIES`] of `--category`.
fn category_index(category: &str) -> Result<usize> {
    CATEGORIES
        .iter()
        .position(|c| *c == category)
        .with_context(|| format!("unknown category {category} (expected toxicity or spam)"))
}

/// Why ranking figures are missing when the file holds one class only.
fn one_class_note(data: &Path, positives: usize, negatives: usize) -> Option<String> {
    match (positives, negatives) {
        (0, _) => Some(format!("{} has no positive rows (label 1): ROC AUC, average precision and recall are undefined; only the hold rate of negatives is measured", data.display())),
        (_, 0) => Some(format!("{} has no negative rows (label 0): ROC AUC, average precision and precision are undefined; only the recall is measured", data.display())),
        _ => None,
    }
}

/// Every figure of the run, and the files it writes (`(report, svg)`).
fn eval_out(
    args: &EvalArgs,
    scorer: &Scorer,
    th: CategoryThresholds,
    d: &Scored,
    (report, svg): (Option<&Path>, Option<&Path>),
) -> EvalOut {
    let positives = d.labels.iter().filter(|&&y| y).count();
    let negatives = d.labels.len() - positives;
    let as_score: Vec<f32> = d.flagged.iter().map(|&f| f as u8 as f32).collect();
    EvalOut {
        data: args.data.display().to_string(),
        model_version: scorer.model_version().to_string(),
        category: args.category.clone(),
        n: d.scores.len(),
        positives,
        negatives,
        skipped_unlabelled: d.skipped,
        note: one_class_note(&args.data, positives, negatives),
        roc_auc: metrics::roc_auc(&d.scores, &d.labels),
        average_precision: metrics::average_precision(&d.scores, &d.labels),
        at_review: metrics::at_threshold(&d.scores, &d.labels, th.review),
        at_reject: metrics::at_threshold(&d.scores, &d.labels, th.reject),
        verdict_flagged: metrics::at_threshold(&as_score, &d.labels, 0.5),
        held_positive_rate: held_rate(d, true),
        held_negative_rate: held_rate(d, false),
        functionality: functionality_rows(d),
        per_language: per_language_auc(d),
        comments_per_second: d.scores.len() as f64 / d.secs.max(1e-9),
        svg: svg.map(|p| p.display().to_string()),
        report: report.map(|p| p.display().to_string()),
    }
}

/// Writes the PR and ROC curves (SVG, thresholds marked), creating the report's folder.
fn write_curves(
    args: &EvalArgs,
    out: &EvalOut,
    d: &Scored,
    th: CategoryThresholds,
    report: &Path,
    svg: &Path,
) -> Result<()> {
    if let Some(dir) = report.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let title = format!(
        "{} on {} — {} (AUC {})",
        out.model_version,
        stem(args),
        args.category,
        opt(out.roc_auc)
    );
    let marks = [("review".into(), th.review), ("reject".into(), th.reject)];
    std::fs::write(
        svg,
        metrics::svg_pr_roc(&title, &d.scores, &d.labels, &marks),
    )
    .with_context(|| format!("cannot write {}", svg.display()))
}

fn stem(args: &EvalArgs) -> String {
    args.data
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into())
}

/// `--json` alone prints and writes nothing; otherwise the report and its curves.
fn report_path(args: &EvalArgs) -> Option<PathBuf> {
    match (&args.report, args.json) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(format!(
            "eval-{}-{}.md",
            stem(args),
            args.category
        ))),
        (None, true) => None,
    }
}

fn pct(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

fn eval_markdown(o: &EvalOut) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# vigie eval — {} on `{}`\n", o.category, o.data);
    let _ = writeln!(
        s,
        "model `{}`, n = {} ({} positive, {} negative, {} rows without a usable label skipped)\n",
        o.model_version, o.n, o.positives, o.negatives, o.skipped_unlabelled
    );
    if let Some(note) = &o.note {
        let _ = writeln!(s, "**Note:** {note}.\n");
    }
    let _ = writeln!(
        s,
        "- held by the whole pipeline (verdict review or reject, rules included): {} of the positives (review recall), {} of the negatives (false holds)",
        pct(o.held_positive_rate),
        pct(o.held_negative_rate)
    );
    let _ = writeln!(s, "- ROC AUC (linfa): {}", opt(o.roc_auc));
    let _ = writeln!(s, "- average precision: {}", opt(o.average_precision));
    if o.note.is_none() {
        for (name, a) in [("review", &o.at_review), ("reject", &o.at_reject)] {
            let _ = writeln!(
                s,
                "- at {name} threshold {:.3}: precision {:.3}, recall {:.3}, F1 {:.3} ({} flagged)",
                a.threshold, a.precision, a.recall, a.f1, a.flagged
            );
        }
        let v = &o.verdict_flagged;
        let _ = writeln!(
            s,
            "- whole pipeline: precision {:.3}, recall {:.3}, F1 {:.3} ({} flagged)",
            v.precision, v.recall, v.f1, v.flagged
        );
    }
    for (l, a) in &o.per_language {
        let _ = writeln!(s, "- ROC AUC, detected language {l}: {}", opt(*a));
    }
    let _ = writeln!(
        s,
        "- throughput (batch, one thread, incl. CSV parsing): {:.0} comments/s",
        o.comments_per_second
    );
    if let Some(svg) = &o.svg {
        let _ = writeln!(s, "- curves: `{svg}`");
    }
    if !o.functionality.is_empty() {
        let _ = writeln!(
            s,
            "\n| functionality | n | pass rate (verdict review/reject iff positive) |\n|---|---|---|"
        );
        for f in &o.functionality {
            let _ = writeln!(s, "| {} | {} | {:.2} |", f.functionality, f.n, f.pass_rate);
        }
    }
    s
}
