//! `vigie score --input FILE.(csv|jsonl) [--output FILE]`: a file of comments scored in batch,
//! one JSON verdict per line.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use super::{bar, load_rules, load_scorer};
use crate::scoring::{AuthorHistory, ScoreInput, Thresholds};

/// `vigie score`
#[derive(Debug, Clone, clap::Args)]
pub struct ScoreArgs {
    /// CSV (column `body` or `text`, optional `lang`) or JSONL (`{"body"|"text", "lang"?}`).
    #[arg(long)]
    pub input: PathBuf,
    /// Output JSONL of verdicts (default: stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Model directory (default: `models/<models/DEFAULT>`).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Rule file (TOML) instead of the built-in default rules.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Scoring threads (default: the CPUs this process may run on; `taskset` limits them).
    #[arg(long)]
    pub threads: Option<std::num::NonZeroUsize>,
}

/// One line of `vigie score`'s output.
#[derive(serde::Serialize)]
struct ScoredLine<'a> {
    row: usize,
    verdict: &'a crate::scoring::Verdict,
}

/// Comments scored between two writes to the output (split between the threads).
const BLOCK: usize = 16 * 1024;

/// A comment to score: its body and its language hint.
type Item = (String, Option<String>);

/// `vigie score --input FILE.(csv|jsonl) [--output FILE] [--threads N]`
pub fn score(args: &ScoreArgs) -> Result<()> {
    let scorer = load_scorer(&args.model)?;
    let th: Thresholds = scorer.recommended_thresholds();
    let is_jsonl = args
        .input
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "ndjson" || e == "json");
    // the rules compile (tens of milliseconds) while the input is read
    let (rules, items) = std::thread::scope(|sc| {
        let rules = sc.spawn(|| load_rules(&args.rules));
        let items = if is_jsonl {
            read_jsonl(&args.input)
        } else {
            read_csv(&args.input)
        };
        let rules = rules
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("compiling the rules panicked")));
        (rules, items)
    });
    let (rules, items) = (rules?, items?);
    let threads = args
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get);
    let mut out = open_output(args.output.as_deref())?;
    let pb = bar(items.len() as u64);
    let t = Instant::now();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let job = Job {
        scorer: &scorer,
        rules: &rules,
        th: &th,
    };
    for (b, block) in items.chunks(BLOCK).enumerate() {
        // the block in `threads` contiguous parts, written back in order
        let part = block.len().div_ceil(threads);
        let first = b * BLOCK;
        let parts: Vec<Result<Scored>> = std::thread::scope(|sc| {
            let handles: Vec<_> = block
                .chunks(part)
                .enumerate()
                .map(|(k, chunk)| sc.spawn(move || job.run(first + k * part, chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a scoring thread panicked")))
                })
                .collect()
        });
        for p in parts {
            let p = p?;
            out.write_all(&p.json)?;
            for (d, n) in p.counts {
                *counts.entry(d).or_default() += n;
            }
        }
        pb.set_position((first + block.len()) as u64);
    }
    out.flush()?;
    pb.finish_and_clear();
    eprintln!(
        "scored {} comments in {:.2} s ({:.0}/s, {threads} thread(s)): {:?}",
        items.len(),
        t.elapsed().as_secs_f64(),
        items.len() as f64 / t.elapsed().as_secs_f64().max(1e-9),
        counts
    );
    Ok(())
}

/// What every scoring thread shares.
#[derive(Clone, Copy)]
struct Job<'a> {
    scorer: &'a crate::scoring::Scorer,
    rules: &'a crate::scoring::RuleSet,
    th: &'a Thresholds,
}

/// One part of a block: its verdicts as JSON lines and its decisions counted.
struct Scored {
    json: Vec<u8>,
    counts: BTreeMap<&'static str, usize>,
}

impl Job<'_> {
    /// Scores `items`, the first being row `first` of the input.
    fn run(self, first: usize, items: &[Item]) -> Result<Scored> {
        let mut json = Vec::with_capacity(items.len() * 800);
        let mut counts = BTreeMap::new();
        for (k, (body, lang)) in items.iter().enumerate() {
            let v = self.scorer.score(
                &ScoreInput {
                    body,
                    lang: lang.as_deref().filter(|l| !l.is_empty()),
                    author: AuthorHistory {
                        approved_count: u32::MAX,
                        ..Default::default()
                    },
                },
                self.rules,
                self.th,
            );
            *counts.entry(v.decision.as_str()).or_default() += 1;
            // into a plain buffer: no dynamic dispatch per JSON fragment
            serde_json::to_writer(
                &mut json,
                &ScoredLine {
                    row: first + k,
                    verdict: &v,
                },
            )?;
            json.push(b'\n');
        }
        Ok(Scored { json, counts })
    }
}

/// The comments of a JSONL file: `{"body"|"text", "lang"?}` per line, blank lines skipped.
fn read_jsonl(input: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let f =
        std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: invalid JSON", input.display(), n + 1))?;
        let body = v
            .get("body")
            .or_else(|| v.get("text"))
            .and_then(|b| b.as_str())
            .with_context(|| {
                format!("{}:{}: no `body` or `text` string", input.display(), n + 1)
            })?;
        let lang = v.get("lang").and_then(|l| l.as_str()).map(str::to_string);
        items.push((body.to_string(), lang));
    }
    Ok(items)
}

/// The comments of a CSV file: column `body` (else `text`), optional `lang`.
fn read_csv(input: &Path) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(input)
        .with_context(|| format!("cannot open {}", input.display()))?;
    let h = rdr.headers()?.clone();
    let bc = h
        .iter()
        .position(|c| c == "body")
        .or_else(|| h.iter().position(|c| c == "text"))
        .context("CSV needs a `body` or `text` column")?;
    let lc = h.iter().position(|c| c == "lang");
    for r in rdr.byte_records() {
        let r = r?;
        let body = String::from_utf8_lossy(r.get(bc).unwrap_or_default()).into_owned();
        let lang = lc
            .and_then(|k| r.get(k))
            .map(|b| String::from_utf8_lossy(b).into_owned());
        items.push((body, lang));
    }
    Ok(items)
}

/// Where the verdicts go: `--output FILE`, else stdout (buffered either way).
fn open_output(output: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}
