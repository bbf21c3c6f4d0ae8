//! Reading the datasets with their declared label mappings, and the features of every row.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::scoring::features::{self, FeatureConfig, SparseFeatures, DENSE_DIM};
use crate::scoring::model::CATEGORIES;
use crate::scoring::normalise::normalise;
use crate::scoring::rules::{RuleInput, RuleSet};
use crate::scoring::AuthorHistory;

use super::config::{held_out, DatasetConfig, Part, VotesConfig};

#[derive(Debug, Clone)]
pub struct Doc {
    pub text: String,
    pub lang: &'static str,
    pub ds: usize,
    /// -1 unknown, 0 negative, 1 positive (per category).
    pub labels: [i8; 2],
    pub functionality: Option<String>,
}

fn cat_index(name: &str) -> Option<usize> {
    CATEGORIES.iter().position(|c| *c == name)
}

/// Which category indices a dataset labels, and the categories each label value marks
/// positive (`*`: any other value).
struct LabelMapping {
    cats: Vec<usize>,
    positive: BTreeMap<String, Vec<usize>>,
}

/// The dataset's declared language, as the `'static` tag rows carry.
fn dataset_lang(d: &DatasetConfig) -> Result<&'static str> {
    static_lang(&d.lang).with_context(|| format!("dataset {}: unknown lang {}", d.name, d.lang))
}

/// `fr` or `en` as a `'static` tag.
fn static_lang(lang: &str) -> Option<&'static str> {
    match lang {
        "fr" => Some("fr"),
        "en" => Some("en"),
        _ => None,
    }
}

/// A row's language from the dataset's `lang_column`, checked with its file and line.
fn row_lang(d: &DatasetConfig, path: &Path, value: &[u8], line: u64) -> Result<&'static str> {
    let v = String::from_utf8_lossy(value);
    static_lang(v.trim()).with_context(|| {
        format!(
            "dataset {}: {}:{line}: unknown language `{v}` in column `{}` (expected fr or en)",
            d.name,
            path.display(),
            d.lang_column.as_deref().unwrap_or_default()
        )
    })
}

/// The dataset's categories and `positive` table, each category name checked.
fn label_mapping(d: &DatasetConfig) -> Result<LabelMapping> {
    let index = |c: &String| {
        cat_index(c).with_context(|| format!("dataset {}: unknown category {c}", d.name))
    };
    let cats = d.categories.iter().map(index).collect::<Result<Vec<_>>>()?;
    let mut positive: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, v) in &d.positive {
        positive.insert(k.clone(), v.iter().map(index).collect::<Result<Vec<_>>>()?);
    }
    Ok(LabelMapping { cats, positive })
}

/// The dataset's file opened as CSV or TSV (its `delimiter` and `quoting`).
fn open_dataset(d: &DatasetConfig, path: &Path) -> Result<csv::Reader<std::fs::File>> {
    let delim = match d.delimiter.as_deref() {
        None | Some(",") => b',',
        Some("\t") | Some("tab") => b'\t',
        Some(other) => bail!("dataset {}: unsupported delimiter {other:?}", d.name),
    };
    csv::ReaderBuilder::new()
        .delimiter(delim)
        .quoting(d.quoting)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("dataset {}: cannot open {}", d.name, path.display()))
}

/// Read one dataset with its label mapping.
pub fn load_dataset(base: &Path, d: &DatasetConfig) -> Result<Vec<Doc>> {
    let path = base.join(&d.path);
    let lang = dataset_lang(d)?;
    let mapping = label_mapping(d)?;
    let mut rdr = open_dataset(d, &path)?;
    let headers = rdr.byte_headers()?.clone();
    let col = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}') == name)
            .with_context(|| {
                format!(
                    "dataset {}: {}:1: no column `{name}` in the header",
                    d.name,
                    path.display()
                )
            })
    };
    let tc = col(&d.text_column)?;
    let (lc, votes) = match &d.votes {
        Some(v) => (col(&v.key_column)?, Some(read_votes(base, d, v)?)),
        None => (col(&d.label_column)?, None),
    };
    let fc = match &d.functionality_column {
        Some(f) => Some(col(f)?),
        None => None,
    };
    let langc = match &d.lang_column {
        Some(c) => Some(col(c)?),
        None => None,
    };
    let mut out = Vec::new();
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec)? {
        let (Some(t), Some(l)) = (rec.get(tc), rec.get(lc)) else {
            continue;
        };
        let text = String::from_utf8_lossy(t).into_owned();
        let label = String::from_utf8_lossy(l).trim().to_string();
        let label = match &votes {
            // `l` is the row's key: its label is the majority of its votes
            Some(v) => match v.get(&label) {
                Some(&(n, yes)) => (yes * 2 > n).to_string(),
                None => continue,
            },
            None => label,
        };
        if let (Some(share), Some(part)) = (d.holdout_share, d.part) {
            if held_out(&text, share) != (part == Part::HeldOut) {
                continue;
            }
        }
        let line = || rec.position().map_or(0, |p| p.line());
        let lang = match langc.map(|c| rec.get(c).unwrap_or_default()) {
            Some(v) => row_lang(d, &path, v, line())?,
            None => lang,
        };
        out.push(Doc {
            text,
            lang,
            ds: 0,
            labels: row_labels(d, &path, &mapping, &label, line)?,
            functionality: fc
                .and_then(|f| rec.get(f))
                .map(|b| String::from_utf8_lossy(b).into_owned()),
        });
    }
    Ok(out)
}

/// A row's labels per category from its label value (-1 where the dataset says nothing);
/// a value missing from `positive` (and no `*`) is refused with its file and line.
fn row_labels(
    d: &DatasetConfig,
    path: &Path,
    mapping: &LabelMapping,
    label: &str,
    line: impl Fn() -> u64,
) -> Result<[i8; 2]> {
    let positives = mapping
        .positive
        .get(label)
        .or_else(|| mapping.positive.get("*"))
        .with_context(|| {
            format!(
                "dataset {}: {}:{}: label value `{label}` is not in `positive` (known: {})",
                d.name,
                path.display(),
                line(),
                d.positive.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
    let mut labels = [-1i8; 2];
    for &c in &mapping.cats {
        labels[c] = positives.contains(&c) as i8;
    }
    Ok(labels)
}

/// Votes per key of a dataset's vote file: (votes, true votes) in `label_column`.
fn read_votes(
    base: &Path,
    d: &DatasetConfig,
    v: &VotesConfig,
) -> Result<BTreeMap<String, (u32, u32)>> {
    let path = base.join(&v.path);
    let mut rdr = csv::Reader::from_path(&path)
        .with_context(|| format!("dataset {}: cannot open {}", d.name, path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).with_context(|| {
            format!(
                "dataset {}: {}:1: no column `{name}` in the header",
                d.name,
                path.display()
            )
        })
    };
    let (kc, vc) = (col(&v.key_column)?, col(&d.label_column)?);
    let mut out: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec?;
        let vote = match rec
            .get(vc)
            .map(|x| x.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("true" | "1") => true,
            Some("false" | "0") => false,
            other => bail!(
                "dataset {}: {}:{}: vote `{}` is not true/false",
                d.name,
                path.display(),
                n + 2,
                other.unwrap_or("")
            ),
        };
        let e = out
            .entry(rec.get(kc).unwrap_or("").trim().to_owned())
            .or_default();
        e.0 += 1;
        e.1 += vote as u32;
    }
    Ok(out)
}

// ---------------------------------------------------------------- prepared features

pub struct Prepared {
    pub idx: Vec<Vec<u32>>,
    /// Dense features with the two text logits left at 0.
    pub dense: Vec<[f32; DENSE_DIM]>,
}

pub fn prepare(docs: &[Doc], cfg: &FeatureConfig, rules: &RuleSet) -> Prepared {
    let mut sf = SparseFeatures::default();
    let mut hits = Vec::new();
    let author = AuthorHistory {
        approved_count: u32::MAX,
        ..Default::default()
    };
    let mut idx = Vec::with_capacity(docs.len());
    let mut dense = Vec::with_capacity(docs.len());
    for d in docs {
        let n = normalise(&d.text);
        features::extract(&n, cfg, &mut sf);
        idx.push(sf.idx.clone());
        let sh = features::shape(&d.text);
        hits.clear();
        rules.evaluate(
            &RuleInput {
                original: &d.text,
                norm: &n,
                lang: d.lang,
                author: &author,
                links: sh.links,
                letters: sh.letters,
                upper: sh.upper,
            },
            &mut hits,
        );
        dense.push(features::dense(
            [0.0, 0.0],
            &hits,
            &sh,
            d.lang,
            n.is_empty(),
        ));
    }
    Prepared { idx, dense }
}
