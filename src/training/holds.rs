//! What the whole pipeline holds of a set never trained on, per language: the review recall on
//! its abusive rows and the false holds on the others (the model card's "Whole pipeline on the
//! sets never trained on").

use crate::scoring::hash::FxHashMap;
use serde::Serialize;

use super::data::Doc;

/// What the whole pipeline (scores at the shipped thresholds and the default rules) holds of a
/// set never trained on: the review recall on its abusive rows, the false holds on the others.
#[derive(Debug, Clone, Serialize)]
pub struct HoldRate {
    pub set: String,
    pub lang: String,
    /// rows positive for any category the set labels
    pub abusive: usize,
    pub abusive_held: usize,
    pub others: usize,
    pub others_held: usize,
}

/// [`hold_rate`] for each language of the set's rows.
pub(super) fn hold_rates(
    set: &str,
    docs: &[Doc],
    ids: &[usize],
    flagged: &FxHashMap<usize, bool>,
) -> Vec<HoldRate> {
    let mut langs: Vec<&str> = ids.iter().map(|&i| docs[i].lang).collect();
    langs.sort_unstable();
    langs.dedup();
    langs
        .into_iter()
        .map(|lang| {
            let of_lang: Vec<usize> = ids
                .iter()
                .copied()
                .filter(|&i| docs[i].lang == lang)
                .collect();
            hold_rate(set, lang, docs, &of_lang, flagged)
        })
        .collect()
}

/// Held = the pipeline's verdict is `review` or `reject`; a row is abusive when it is positive
/// for any category its set labels.
fn hold_rate(
    set: &str,
    lang: &str,
    docs: &[Doc],
    ids: &[usize],
    flagged: &FxHashMap<usize, bool>,
) -> HoldRate {
    let mut h = HoldRate {
        set: set.to_string(),
        lang: lang.to_string(),
        abusive: 0,
        abusive_held: 0,
        others: 0,
        others_held: 0,
    };
    for &i in ids {
        let held = flagged[&i] as usize;
        if docs[i].labels.contains(&1) {
            h.abusive += 1;
            h.abusive_held += held;
        } else {
            h.others += 1;
            h.others_held += held;
        }
    }
    h
}
