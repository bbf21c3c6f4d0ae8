//! Do explanations point at the right words? On a set never trained on whose rows carry spans
//! that annotators marked as toxic, the share of toxic rows whose first highlighted term (the
//! verdict's `top_terms[0]`, the word that weighed most) overlaps a marked span (the model
//! card's "Explanations"; `scripts/explanation_spans.py` gives the same figure per span type).

use serde::Serialize;

use crate::scoring::normalise::normalise;
use crate::scoring::TopTerm;

use super::data::Doc;

/// Explanations against annotated spans, on the toxic rows of one set that have spans.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExplanationRate {
    pub set: String,
    pub lang: String,
    /// toxic rows with at least one annotated span
    pub comments: usize,
    /// rows whose first highlighted term overlaps a span
    pub first_inside: usize,
    /// rows where any highlighted term does
    pub any_inside: usize,
    /// rows with no highlighted term
    pub no_term: usize,
    /// For scale: the expected number of rows where a word of the comment (a token of the
    /// normaliser, which top terms are) picked at random overlaps a span (the sum over rows
    /// of the share of their tokens that do).
    pub random_word_inside: f64,
}

impl ExplanationRate {
    pub fn new(set: &str, lang: &str) -> Self {
        ExplanationRate {
            set: set.to_string(),
            lang: lang.to_string(),
            ..Default::default()
        }
    }

    /// Counts one row, if it is toxic and has spans.
    pub fn add(&mut self, doc: &Doc, terms: &[TopTerm]) {
        if doc.spans.is_empty() || doc.labels[0] != 1 {
            return;
        }
        let inside = |s: u32, e: u32| doc.spans.iter().any(|&(a, b)| s < b && a < e);
        self.comments += 1;
        self.first_inside += terms.first().is_some_and(|t| inside(t.start, t.end)) as usize;
        self.any_inside += terms.iter().any(|t| inside(t.start, t.end)) as usize;
        self.no_term += terms.is_empty() as usize;
        let tokens = normalise(&doc.text).tokens;
        if !tokens.is_empty() {
            let hit = tokens
                .iter()
                .filter(|t| inside(t.orig_start, t.orig_end))
                .count();
            self.random_word_inside += hit as f64 / tokens.len() as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::Category;

    fn doc(text: &str, toxic: bool, spans: Vec<(u32, u32)>) -> Doc {
        Doc {
            text: text.into(),
            lang: "en",
            ds: 0,
            labels: [toxic as i8, 0],
            functionality: None,
            spans,
        }
    }

    fn term(start: u32, end: u32) -> TopTerm {
        TopTerm {
            term: String::new(),
            start,
            end,
            category: Category::Toxicity,
            weight: 1.0,
        }
    }

    #[test]
    fn the_first_term_counts_only_inside_a_span() {
        let mut r = ExplanationRate::new("spans", "en");
        // "you are an idiot": the span is "idiot" (bytes 11..16)
        let d = doc("you are an idiot", true, vec![(11, 16)]);
        r.add(&d, &[term(11, 16), term(0, 3)]);
        r.add(&d, &[term(0, 3), term(12, 14)]);
        r.add(&d, &[]);
        // not toxic, or toxic without spans: not counted
        r.add(
            &doc("you are an idiot", false, vec![(11, 16)]),
            &[term(11, 16)],
        );
        r.add(&doc("you are an idiot", true, vec![]), &[term(11, 16)]);
        assert_eq!(
            (r.comments, r.first_inside, r.any_inside, r.no_term),
            (3, 1, 2, 1)
        );
        // one word of four inside, three times
        assert!((r.random_word_inside - 0.75).abs() < 1e-9);
    }
}
