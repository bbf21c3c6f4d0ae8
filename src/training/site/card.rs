//! The `MODEL_CARD.md` of a site model: what it is, its data, base vs site on the holdout,
//! the time each step took and its files.

use std::fmt::{self, Write};
use std::path::Path;

use anyhow::Result;

use super::{opt, Method, SiteReport, FOLDS, MIN_CLASS_FIT, SITE_WEIGHT, WARM_PRIOR_L2};
use crate::training::metrics::AtThreshold;

/// The model card of the site model `r` describes, whose `files` are in `dir`.
pub(super) fn card(r: &SiteReport, files: &[(String, String)], dir: &Path) -> Result<String> {
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
    what_it_is(&mut s, r)?;
    data(&mut s, r)?;
    holdout_table(&mut s, r)?;
    holdout_notes(&mut s, r)?;
    time_and_files(&mut s, r, files, dir)?;
    Ok(s)
}

/// "What it is": the method and its knobs.
fn what_it_is(s: &mut String, r: &SiteReport) -> fmt::Result {
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
    Ok(())
}

/// "Data": the labelled rows and the split by time.
fn data(s: &mut String, r: &SiteReport) -> fmt::Result {
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
    Ok(())
}

/// "Base vs site model on the holdout": the thresholds and one table row per slice.
fn holdout_table(s: &mut String, r: &SiteReport) -> fmt::Result {
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
    Ok(())
}

/// What the holdout's size allows one to read into the table.
fn holdout_notes(s: &mut String, r: &SiteReport) -> fmt::Result {
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
    Ok(())
}

/// "Time" each step took and "Files" with their sizes and digests.
fn time_and_files(
    s: &mut String,
    r: &SiteReport,
    files: &[(String, String)],
    dir: &Path,
) -> fmt::Result {
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
    Ok(())
}
