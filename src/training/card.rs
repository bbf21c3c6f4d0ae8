//! The model card (`MODEL_CARD.md`) written next to a trained model.

use std::path::Path;

use anyhow::Result;

use crate::scoring::features::{self, DENSE_DIM};
use crate::scoring::rules::RuleSet;

use super::baseline::{BLOCK_BITS, C_GRID, MAX_PASSES};
use super::config::TrainConfig;
use super::validate::{Report, SetMetrics, RANDOM_SPLIT};

fn fmt_opt(v: Option<f32>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

pub fn model_card(
    cfg: &TrainConfig,
    rows: &[usize],
    r: &Report,
    files: &[(String, String)],
    rules: &RuleSet,
    dir: &Path,
) -> Result<String> {
    use std::fmt::Write;
    let mut s = String::new();
    writeln!(s, "# Vigie model card — `{}`\n", r.version)?;
    // The time of one run depends on the machine's load: the reference measurement (figure and
    // command) is kept in one place, docs/benchmarks.md.
    writeln!(s, "Created {} by `vigie train` ({} training rows; training time: see docs/benchmarks.md, \"Scoring\").\n", r.created, r.n_train)?;
    what_it_is(&mut s, cfg, rules)?;
    data_section(&mut s, cfg, rows)?;
    validation_section(&mut s, cfg, r)?;
    thresholds_section(&mut s, r)?;
    holds_section(&mut s, r)?;
    explanations_section(&mut s, r)?;
    files_section(&mut s, files, dir)?;
    Ok(s)
}

fn what_it_is(s: &mut String, cfg: &TrainConfig, rules: &RuleSet) -> Result<()> {
    use std::fmt::Write;
    writeln!(s, "## What it is\n")?;
    writeln!(s, "Two categories, `toxicity` (insults, harassment, hate, obscenity, threats) and `spam`, French and English.\n")?;
    writeln!(s, "1. **Normaliser** (NFKD + case and accent folding, leetspeak, repeated letters, split letters, look-alikes).")?;
    writeln!(
        s,
        "2. **Sparse text model** (Vigie's own): logistic regression trained by AdaGrad over 2^{} hashed features — word unigrams, word bigrams{} and byte {}–{}-grams inside padded tokens — one weight per category per bucket, L2-normalised counts. {} epochs, learning rate {}, L2 {}.",
        cfg.features.hash_bits,
        if cfg.features.lang_words {
            " (each also in a copy of its own for the comment's language, French or English: weights shared by both languages plus what the word weighs in one of them)"
        } else {
            ""
        },
        cfg.features.char_min,
        cfg.features.char_max,
        cfg.epochs,
        cfg.learning_rate,
        cfg.l2
    )?;
    if cfg.average_fold_models {
        writeln!(
            s,
            "   **The mean of {} fits** (`average_fold_models`): the weights are the mean of the fit on every training row and of the {} out-of-fold fits that give the stacker its inputs, so the order of the steps (the seed) moves the scores less; no fit is added.",
            cfg.folds.max(2) + 1,
            cfg.folds.max(2)
        )?;
    }
    if cfg.dataset_intercepts {
        writeln!(
            s,
            "   **An intercept per dataset while it trains** (`dataset_intercepts`): the words learn what tells toxic from benign inside each dataset, not one dataset's share of positives from another's; the model keeps one intercept, the datasets' mean over the training rows."
        )?;
    }
    if !cfg.features.neutral_terms.is_empty() {
        writeln!(
            s,
            "   **Identity words are not evidence**: {} words naming a religion, an origin, a gender, a sexual orientation or a disability (`[features] neutral_terms`: {}) have no n-gram or bigram of their own; each is one shared feature whose toxicity weight training keeps at or below zero, so naming a group never raises the score — only what is said about it does{}.",
            cfg.features.neutral_terms.len(),
            cfg.features.neutral_terms.join(", "),
            if cfg.features.neutral_window > 0 {
                format!(
                    ": each other word within {} tokens of one also gets a feature of its own \"near a group\" (\"je déteste les femmes\": `deteste` near one), which training weighs either way; {} function words are not paired (`neutral_context_skip`)",
                    cfg.features.neutral_window,
                    cfg.features.neutral_context_skip.len()
                )
            } else {
                String::new()
            }
        )?;
    }
    writeln!(
        s,
        "3. **linfa-logistic stacker**, one per category, over {} dense features: the two text logits (out-of-fold, {} folds, so the stacker learns how much to trust them), rule evidence from rule set `{}` (counts of flag/hold/block hits per category), and comment shape (length, links, caps ratio, digits, punctuation, other symbols, language, empty-after-normalisation, mentions). Its coefficients are exported from the fitted linfa model into `model.json` and evaluated as a dot product at scoring time. Features: `{}`.",
        DENSE_DIM,
        cfg.folds,
        rules.name(),
        features::DENSE_NAMES.join("`, `")
    )?;
    writeln!(
        s,
        "4. **Policy**: thresholds below; `block`/`hold` rules force `reject`/`review`.\n"
    )?;
    Ok(())
}

fn data_section(s: &mut String, cfg: &TrainConfig, rows: &[usize]) -> Result<()> {
    use std::fmt::Write;
    writeln!(s, "## Data and label mapping\n")?;
    writeln!(
        s,
        "Read from `../shared/datasets/` at train time (never copied into this repository).\n"
    )?;
    writeln!(s, "| dataset | lang | role | rows | label column | mapping (value → positive categories; categories labelled) | weight |")?;
    writeln!(s, "|---|---|---|---|---|---|---|")?;
    for (d, n) in cfg.datasets.iter().zip(rows) {
        let map = d
            .positive
            .iter()
            .map(|(k, v)| {
                format!(
                    "`{k}`→{}",
                    if v.is_empty() {
                        "none".into()
                    } else {
                        v.join("+")
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            s,
            "| {} (`{}`) | {} | {:?} | {} | {} | {}; labels {} | {} |",
            d.name,
            d.path.display(),
            d.lang,
            d.role,
            n,
            match &d.votes {
                Some(v) => format!(
                    "`{}`: majority of the votes in `{}`",
                    d.label_column,
                    v.path.display()
                ),
                None => format!("`{}`", d.label_column),
            },
            map,
            d.categories.join("+"),
            d.weight
        )?;
    }
    writeln!(s, "\nCaveats: all sets are keyword-sampled or balanced (30–90 % positive); real comment sections have a few percent abusive comments, so precision in production will be lower than the validation precision below at the same threshold. Labels mean different things across sets (offensive, hateful, racist); all are mapped to `toxicity`. Tweets dominate; there is no French spam data, so `spam` in French rests on English spam plus French negatives.\n")?;
    Ok(())
}

fn validation_section(s: &mut String, cfg: &TrainConfig, r: &Report) -> Result<()> {
    use std::fmt::Write;
    writeln!(s, "## Validation protocol\n")?;
    writeln!(s, "- **random 80/20**: stratified by dataset (seed {}); the whole pipeline (out-of-fold stacker included) is fitted on the 80 %.", cfg.seed)?;
    writeln!(s, "- **leave-dataset-out**: for every training dataset with both classes in a category, fit on all the others and score it (whole datasets held out; each YouTube video is its own dataset, so this is also leave-one-video-out; a dataset of one class, such as the benign news comments we wrote, has no ROC AUC and is not left out).")?;
    if !r.not_left_out.is_empty() {
        writeln!(
            s,
            "  Not left out (one class): {}.",
            r.not_left_out.join(", ")
        )?;
    }
    writeln!(s, "- **held-out / functional sets** (role `holdout`/`functional`) are never trained on and are scored by the final model through the real pipeline; functional suites report a pass rate per functionality (pass = the pipeline's verdict is `review` or `reject` (score thresholds and hold/block rules) iff the case is hateful).")?;
    writeln!(s, "- **Designs compared** on the same splits: `stacked` (shipped: sparse + linfa stacker; on held-out and functional sets, the whole pipeline's score with the default rules), `sparse` (sparse text model alone), `tfidf` (the **strong baseline** of issue 15, trained on the same training part; on held-out and functional sets, on every training row): TF-IDF of word 1–2-grams (scikit-learn's tokens `\\w\\w+`, lower-case) beside character 2–5-grams within word boundaries (`char_wb`), sublinear tf, smooth idf, `min_df` 2, each block L2-normalised (hashed into 2^{} buckets per block instead of a vocabulary), and an L2 logistic regression with an intercept solved by dual coordinate descent (liblinear's solver for scikit-learn's `LogisticRegression(solver=\"liblinear\")`, at most {} passes), `C` chosen from {:?} per category.", BLOCK_BITS, MAX_PASSES, C_GRID)?;
    if let Some(n) = &r.baseline_note {
        writeln!(s, "  {n}.")?;
    }
    writeln!(s)?;
    writeln!(s, "ROC AUC through linfa (`BinaryClassification::roc`) for `stacked`; rank AUC (Mann–Whitney) for the others; AP = average precision; Δ = AUC stacked − AUC tfidf.\n")?;
    writeln!(s, "| protocol | set | lang | category | n | pos | AUC stacked | AUC sparse | AUC tfidf | Δ | AP stacked | AP tfidf |")?;
    writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
    for m in &r.metrics {
        let delta = match (m.auc_stacked, m.auc_tfidf) {
            (Some(a), Some(b)) => format!("{:+.3}", a - b),
            _ => "–".into(),
        };
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {delta} | {} | {} |",
            m.protocol,
            m.set,
            m.lang,
            m.category,
            m.n,
            m.positives,
            fmt_opt(m.auc_stacked),
            fmt_opt(m.auc_sparse),
            fmt_opt(m.auc_tfidf),
            fmt_opt(m.ap_stacked),
            fmt_opt(m.ap_tfidf)
        )?;
    }
    writeln!(
        s,
        "\n(For held-out and functional sets the sparse model alone is not scored.)\n"
    )?;
    margin_summary(s, &r.metrics)?;
    if let Some(d) = &r.dense_linfa {
        writeln!(s, "Third design tried: {d}.\n")?;
    }
    Ok(())
}

/// Issue 15's first target: the shipped model beats the strong baseline by at least 0.03 ROC
/// AUC on every leave-dataset-out set, on the held-out and on the functional sets.
fn margin_summary(s: &mut String, metrics: &[SetMetrics]) -> Result<()> {
    use std::fmt::Write;
    const MARGIN: f32 = 0.03;
    let compared: Vec<(&SetMetrics, f32)> = metrics
        .iter()
        .filter(|m| m.protocol != RANDOM_SPLIT)
        .filter_map(|m| Some((m, m.auc_stacked? - m.auc_tfidf?)))
        .collect();
    let short: Vec<String> = compared
        .iter()
        .filter(|(_, d)| *d < MARGIN)
        .map(|(m, d)| format!("{} {} ({}) {d:+.3}", m.set, m.category, m.lang))
        .collect();
    writeln!(
        s,
        "**Against the strong baseline** (issue 15: Δ ≥ +{MARGIN} on every leave-dataset-out, held-out and functional set): met on {} of {} sets{}.\n",
        compared.len() - short.len(),
        compared.len(),
        if short.is_empty() {
            String::new()
        } else {
            format!("; not on {}", short.join(", "))
        }
    )?;
    Ok(())
}

fn thresholds_section(s: &mut String, r: &Report) -> Result<()> {
    use std::fmt::Write;
    writeln!(s, "## Thresholds\n")?;
    writeln!(s, "Chosen on the random-split validation predictions of the stacked model. `reject` = the lowest score from which validation precision is ≥ 0.95 **in each language** that has enough positives (the higher of the per-language values); `review` = the higher of the lowest score that at most 1.5 % of the validation negatives of each language reach and of the lowest score with validation precision ≥ 0.80 in each language: real comment sections are 2–5 % abusive, and a review threshold chosen for precision on these balanced sets held far too many benign comments. Rule: reject only where validation precision ≥ 0.95.\n")?;
    for n in &r.threshold_notes {
        writeln!(s, "- {n}")?;
    }
    writeln!(
        s,
        "\n```json\n{}\n```\n",
        serde_json::to_string_pretty(&r.thresholds)?
    )?;
    writeln!(
        s,
        "Precision / recall / F1 at the shipped thresholds (random-split validation):\n"
    )?;
    writeln!(s, "| category | lang | threshold | n | precision | recall | F1 | negatives held | precision at a 3 % base rate |\n|---|---|---|---|---|---|---|---|---|")?;
    for l in &r.at_thresholds {
        writeln!(s, "{l}")?;
    }
    if !r.functional.is_empty() {
        writeln!(s, "\n## Functional suites (never trained on)\n")?;
        writeln!(
            s,
            "| suite | functionality | gold | n | pass rate |\n|---|---|---|---|---|"
        )?;
        for f in &r.functional {
            writeln!(
                s,
                "| {} | {} | {} | {} | {:.2} |",
                f.suite,
                f.functionality,
                if f.expected_hateful {
                    "hateful"
                } else {
                    "non-hateful"
                },
                f.n,
                f.pass_rate
            )?;
        }
    }
    Ok(())
}

/// What the whole pipeline holds of each set never trained on, at the shipped thresholds.
fn holds_section(s: &mut String, r: &Report) -> Result<()> {
    use std::fmt::Write;
    if r.holds.is_empty() {
        return Ok(());
    }
    let pct = |held: usize, n: usize| {
        if n == 0 {
            "–".to_string()
        } else {
            format!("{:.1} %", 100.0 * held as f64 / n as f64)
        }
    };
    writeln!(s, "\n## Whole pipeline on the sets never trained on\n")?;
    writeln!(s, "Held = the verdict is `review` or `reject` at the shipped thresholds with the default rules (scored as for an author with a long approved history). On a news comment section, where 2–5 % of comments are abusive, what matters is the share of ordinary comments held (`benign_news_comments`, the project's own set: target ≤ 2 %) and the review recall on abusive ones (French forum messages: target ≥ 50 %).\n")?;
    writeln!(s, "| set | lang | abusive | held (review recall) | others | held (false holds) |\n|---|---|---|---|---|---|")?;
    for h in &r.holds {
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            h.set,
            h.lang,
            h.abusive,
            pct(h.abusive_held, h.abusive),
            h.others,
            pct(h.others_held, h.others)
        )?;
    }
    Ok(())
}

/// How often the first highlighted term falls inside a span annotators marked as toxic.
fn explanations_section(s: &mut String, r: &Report) -> Result<()> {
    use std::fmt::Write;
    if r.explanations.is_empty() {
        return Ok(());
    }
    writeln!(s, "\n## Explanations\n")?;
    writeln!(s, "On the toxic comments of a set never trained on whose annotators marked the toxic words, the share whose first highlighted term (the verdict's `top_terms[0]`, scored with the language given) overlaps a marked span; for scale, the share a word of the comment (a token of the normaliser, as highlighted terms are) picked at random would reach. `python3 scripts/explanation_spans.py` gives it per span type.\n")?;
    writeln!(s, "| set | lang | toxic comments with spans | first term inside a span | any term inside | no term | a word at random |\n|---|---|---|---|---|---|---|")?;
    for e in &r.explanations {
        let pct = |k: f64| format!("{:.1} %", 100.0 * k / e.comments as f64);
        writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            e.set,
            e.lang,
            e.comments,
            pct(e.first_inside as f64),
            pct(e.any_inside as f64),
            pct(e.no_term as f64),
            pct(e.random_word_inside)
        )?;
    }
    Ok(())
}

fn files_section(s: &mut String, files: &[(String, String)], dir: &Path) -> Result<()> {
    use std::fmt::Write;
    writeln!(s, "\n## Files\n")?;
    writeln!(s, "| file | bytes | sha256 |\n|---|---|---|")?;
    for (f, sha) in files {
        let len = std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        writeln!(s, "| `{f}` | {len} | `{sha}` |")?;
    }
    writeln!(
        s,
        "\n`validation.json` holds every number above in machine-readable form.\n"
    )?;
    writeln!(s, "## Sources and licences\n")?;
    writeln!(s, "MLMA (MIT), FTR (MIT), OLID v1.0 (citation requested), Davidson et al. 2017 (MIT), Measuring Hate Speech / Kennedy et al. 2020 (CC BY 4.0), YouTube Spam Collection and SMS Spam Collection (CC BY 4.0, UCI), HateCheck and Multilingual HateCheck (CC BY 4.0, evaluation only). The default rule set was written for Vigie after reading LDNOOBW (CC BY 4.0) and french-badwords-list (MIT). Texts are third-party content and are not distributed with the model; the weights are hashed n-gram statistics.")?;
    Ok(())
}
