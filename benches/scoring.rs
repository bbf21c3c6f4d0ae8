//! Whole pipeline (normalise + rules + classifier + policy) per comment, on real comments from
//! ../shared/datasets. Model: $VIGIE_MODEL or models/<models/DEFAULT>.
//!
//! cargo bench --bench scoring

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie::scoring::{default_rules, AuthorHistory, ScoreInput, Scorer, Thresholds};

fn model_dir() -> PathBuf {
    if let Ok(p) = std::env::var("VIGIE_MODEL") {
        return PathBuf::from(p);
    }
    let models = Path::new("models");
    let v = std::fs::read_to_string(models.join("DEFAULT")).expect("models/DEFAULT or VIGIE_MODEL");
    models.join(v.trim())
}

fn datasets() -> PathBuf {
    std::env::var("VIGIE_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../shared/datasets"))
}

/// About 4,000 real comments, French and English, in a fixed order.
fn comments() -> Vec<String> {
    let d = datasets();
    let mut out = Vec::new();
    for (file, col, delim, quoting) in [
        ("mlma/fr_dataset.csv", "tweet", b',', true),
        ("ftr_fr/FTR_new_labels.csv", "tweet", b',', true),
        ("olid_en/olid-training-v1.0.tsv", "tweet", b'\t', false),
        ("youtube_spam_en/Youtube01-Psy.csv", "CONTENT", b',', true),
        ("mhs_kennedy_en/dev_500.csv", "text", b',', true),
    ] {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delim)
            .quoting(quoting)
            .flexible(true)
            .from_path(d.join(file))
            .expect("dataset");
        let h = r.byte_headers().unwrap().clone();
        let k = h.iter().position(|x| x == col.as_bytes()).unwrap();
        for rec in r.byte_records().take(800) {
            let rec = rec.unwrap();
            out.push(String::from_utf8_lossy(rec.get(k).unwrap_or_default()).into_owned());
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let scorer = Scorer::load(&model_dir()).expect("model");
    let rules = default_rules();
    let th = Thresholds::default();
    let texts = comments();
    let author = AuthorHistory {
        approved_count: 5,
        recent_rejections: 0,
        same_text_recently: false,
    };

    // the full verdict of one comment, as every measure below takes it
    let verdict = |t: &str| {
        scorer.score(
            &ScoreInput {
                body: t,
                lang: None,
                author,
            },
            &rules,
            &th,
        )
    };

    // latency distribution of single calls (p50 / p99), printed once, after one unmeasured
    // pass over the comments: the regexes' lazy DFAs build their states on first use, as they
    // do in a server's first minutes, not on every call
    for t in &texts {
        std::hint::black_box(verdict(t));
    }
    let mut lat = Vec::with_capacity(texts.len() * 5);
    for _ in 0..5 {
        for t in &texts {
            let s = Instant::now();
            let v = verdict(t);
            lat.push(s.elapsed().as_nanos() as u64);
            std::hint::black_box(v);
        }
    }
    lat.sort_unstable();
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
    let mean = lat.iter().sum::<u64>() as f64 / lat.len() as f64 / 1000.0;
    let avg_len = texts.iter().map(|t| t.len()).sum::<usize>() as f64 / texts.len() as f64;
    println!(
        "single-call latency over {} calls ({} comments, mean {:.0} bytes): mean {:.2} us, p50 {:.2} us, p99 {:.2} us, p99.9 {:.2} us, max {:.1} us => {:.0} comments/s on one core",
        lat.len(),
        texts.len(),
        avg_len,
        mean,
        q(0.5),
        q(0.99),
        q(0.999),
        *lat.last().unwrap() as f64 / 1000.0,
        1e6 / mean
    );

    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.sample_size(20);
    g.bench_function("score_verdict_all_comments", |b| {
        b.iter(|| {
            for t in &texts {
                std::hint::black_box(verdict(t));
            }
        })
    });
    g.bench_function("scores_only_all_comments", |b| {
        b.iter(|| {
            for t in &texts {
                std::hint::black_box(scorer.scores_only(t, None, &rules));
            }
        })
    });
    g.finish();
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.sample_size(20);
    g.bench_function("normalise_all_comments", |b| {
        b.iter(|| {
            for t in &texts {
                std::hint::black_box(vigie::scoring::normalise::normalise(t));
            }
        })
    });
    g.finish();
    let t = Instant::now();
    let s = Scorer::load(&model_dir()).unwrap();
    println!("model load: {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
    std::hint::black_box(s);
}

criterion_group!(benches, bench);
criterion_main!(benches);
