//! Reading the datasets with their declared label mappings, and the features of every row.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::scoring::features::{self, FeatureConfig, SparseFeatures, DENSE_DIM};
use crate::scoring::model::CATEGORIES;
use crate::scoring::normalise::normalise;
use crate::scoring::rules::{RuleInput, RuleSet};
use crate::scoring::AuthorHistory;

use super::config::{held_out, DatasetConfig, Part, SpansConfig, VotesConfig};

#[derive(Debug, Clone)]
pub struct Doc {
    pub text: String,
    pub lang: &'static str,
    pub ds: usize,
    /// -1 unknown, 0 negative, 1 positive (per category).
    pub labels: [i8; 2],
    pub functionality: Option<String>,
    /// Spans of `text` that annotators marked (byte offsets, end exclusive), when the dataset's
    /// votes come with spans ([`super::config::SpansConfig`]).
    pub spans: Vec<(u32, u32)>,
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
    let col = |name: &str| column(d, &path, &headers, name);
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
        let (label, spans) = match &votes {
            // `l` is the row's key: its label is the majority of its votes
            Some(v) => match v.counts.get(&label) {
                Some(&(n, yes)) => (
                    (yes * 2 > n).to_string(),
                    v.spans
                        .get(&label)
                        .map_or(Vec::new(), |s| byte_spans(&text, s)),
                ),
                None => continue,
            },
            None => (label, Vec::new()),
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
            spans,
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

/// A dataset's per-annotator votes, gathered per row key.
struct Votes {
    /// (votes, true votes) in `label_column`
    counts: BTreeMap<String, (u32, u32)>,
    /// The spans every vote of the row marked (character offsets), when the votes have spans.
    spans: BTreeMap<String, Vec<(usize, usize)>>,
}

/// Reads a dataset's vote file and, if it has one, its spans file.
fn read_votes(base: &Path, d: &DatasetConfig, v: &VotesConfig) -> Result<Votes> {
    let path = base.join(&v.path);
    let mut rdr = csv::Reader::from_path(&path)
        .with_context(|| format!("dataset {}: cannot open {}", d.name, path.display()))?;
    let headers = rdr.byte_headers()?.clone();
    let col = |name: &str| column(d, &path, &headers, name);
    let (kc, vc) = (col(&v.key_column)?, col(&d.label_column)?);
    let ac = match &v.spans {
        Some(s) => Some(col(&s.vote_column)?),
        None => None,
    };
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    // vote id -> row key, to place each span
    let mut vote_row: BTreeMap<String, String> = BTreeMap::new();
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
        let key = rec.get(kc).unwrap_or("").trim().to_owned();
        if let Some(a) = ac.and_then(|a| rec.get(a)) {
            vote_row.insert(a.trim().to_owned(), key.clone());
        }
        let e = counts.entry(key).or_default();
        e.0 += 1;
        e.1 += vote as u32;
    }
    let spans = match &v.spans {
        Some(s) => read_spans(base, d, s, &vote_row)?,
        None => BTreeMap::new(),
    };
    Ok(Votes { counts, spans })
}

/// The index of column `name` in a CSV header (a byte-order mark before the first name is
/// ignored), or an error naming the dataset and the file.
fn column(d: &DatasetConfig, path: &Path, headers: &csv::ByteRecord, name: &str) -> Result<usize> {
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
}

/// Row key -> the character spans its votes marked; a span whose vote is not in the vote file
/// is skipped, an offset that is not a number is refused with its file and line.
fn read_spans(
    base: &Path,
    d: &DatasetConfig,
    s: &SpansConfig,
    vote_row: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<(usize, usize)>>> {
    let path = base.join(&s.path);
    let mut rdr = csv::Reader::from_path(&path)
        .with_context(|| format!("dataset {}: cannot open {}", d.name, path.display()))?;
    let headers = rdr.byte_headers()?.clone();
    let col = |name: &str| column(d, &path, &headers, name);
    let (ac, sc, ec) = (
        col(&s.vote_column)?,
        col(&s.start_column)?,
        col(&s.end_column)?,
    );
    let mut out: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec?;
        let Some(key) = rec.get(ac).and_then(|a| vote_row.get(a.trim())) else {
            continue;
        };
        let offset = |c: usize| -> Result<usize> {
            let v = rec.get(c).unwrap_or("").trim();
            v.parse().with_context(|| {
                format!(
                    "dataset {}: {}:{}: span offset `{v}` is not a number",
                    d.name,
                    path.display(),
                    n + 2
                )
            })
        };
        let (start, end) = (offset(sc)?, offset(ec)?);
        out.entry(key.clone()).or_default().push((start, end));
    }
    Ok(out)
}

/// Character spans of `text` as byte spans; empty spans and spans past the end are dropped.
fn byte_spans(text: &str, spans: &[(usize, usize)]) -> Vec<(u32, u32)> {
    let bytes: Vec<u32> = text
        .char_indices()
        .map(|(b, _)| b as u32)
        .chain([text.len() as u32])
        .collect();
    spans
        .iter()
        .filter(|&&(s, e)| s < e && e < bytes.len())
        .map(|&(s, e)| (bytes[s], bytes[e]))
        .collect()
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
        features::extract(&n, cfg, d.lang, &mut sf);
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
