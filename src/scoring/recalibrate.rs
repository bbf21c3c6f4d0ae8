//! Thresholds from a site's own human decisions, and precision/recall of a model's decisions
//! against them (the shadow report). Pure: the store reads the scores and labels.

use serde::Serialize;

/// Fewest labelled comments a threshold suggestion is computed from.
pub const MIN_LABELS: usize = 200;
/// Fewest comments of each class (approved, rejected) a suggestion needs, and fewest
/// rejections of a category for that category's thresholds to be suggested.
pub const MIN_PER_CLASS: usize = 30;
/// The value that turns a threshold step off (above any score).
pub const OFF: f32 = 1.01;

/// A cut on the scores: comments scoring at or above `threshold` are flagged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cut {
    pub threshold: f32,
    /// Share of flagged comments that moderators rejected.
    pub precision: f64,
    /// Share of rejected comments that are flagged.
    pub recall: f64,
    /// Comments at or above the threshold.
    pub flagged: usize,
}

/// The lowest threshold at which at least `target` of the flagged comments are positives (so
/// the most positives are caught at that precision); `None` when no threshold reaches it.
/// `scored` holds `(score, positive)` pairs.
pub fn lowest_threshold_with_precision(scored: &[(f64, bool)], target: f64) -> Option<Cut> {
    let positives = scored.iter().filter(|(_, p)| *p).count();
    if positives == 0 {
        return None;
    }
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut flagged) = (0usize, 0usize);
    let mut best = None;
    let mut i = 0;
    while i < sorted.len() {
        // every comment with the same score falls on the same side of a threshold
        let score = sorted[i].0;
        while i < sorted.len() && sorted[i].0 == score {
            tp += usize::from(sorted[i].1);
            flagged += 1;
            i += 1;
        }
        let precision = tp as f64 / flagged as f64;
        if precision >= target {
            best = Some(Cut {
                threshold: score as f32,
                precision,
                recall: tp as f64 / positives as f64,
                flagged,
            });
        }
    }
    best
}

/// Precision and recall of a model's decisions against human labels: a comment the model held
/// or rejected counts as flagged, a comment moderators rejected as positive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Agreement {
    /// Labelled comments compared.
    pub labelled: usize,
    /// `null` when the model flagged none of them.
    pub precision: Option<f64>,
    /// `null` when moderators rejected none of them.
    pub recall: Option<f64>,
}

/// [`Agreement`] of `(flagged, rejected)` pairs.
pub fn agreement(pairs: impl IntoIterator<Item = (bool, bool)>) -> Agreement {
    let (mut n, mut tp, mut flagged, mut positives) = (0usize, 0usize, 0usize, 0usize);
    for (f, p) in pairs {
        n += 1;
        tp += usize::from(f && p);
        flagged += usize::from(f);
        positives += usize::from(p);
    }
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    Agreement {
        labelled: n,
        precision: ratio(tp, flagged),
        recall: ratio(tp, positives),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_threshold_reaching_the_precision_is_chosen() {
        let scored = [
            (0.95, true),
            (0.9, true),
            (0.85, false),
            (0.8, true),
            (0.7, true),
            (0.6, false),
            (0.5, false),
            (0.2, false),
        ];
        // at 0.7: 5 flagged, 4 positive = 0.8; any lower: under 0.75
        let cut = lowest_threshold_with_precision(&scored, 0.75).unwrap();
        assert_eq!(cut.threshold, 0.7);
        assert_eq!(cut.flagged, 5);
        assert!((cut.precision - 0.8).abs() < 1e-9);
        assert!((cut.recall - 1.0).abs() < 1e-9);
        let strict = lowest_threshold_with_precision(&scored, 1.0).unwrap();
        assert_eq!(strict.threshold, 0.9);
        assert!(lowest_threshold_with_precision(&[(0.9, false)], 0.5).is_none());
        assert!(lowest_threshold_with_precision(&[], 0.5).is_none());
    }

    #[test]
    fn equal_scores_fall_on_the_same_side() {
        let scored = [(0.9, true), (0.5, true), (0.5, false), (0.5, false)];
        // 0.5 flags three comments at once (precision 0.5), never one of them alone
        let cut = lowest_threshold_with_precision(&scored, 0.6).unwrap();
        assert_eq!(cut.threshold, 0.9);
        let cut = lowest_threshold_with_precision(&scored, 0.5).unwrap();
        assert_eq!((cut.threshold, cut.flagged), (0.5, 4));
    }

    #[test]
    fn agreement_counts_flags_against_rejections() {
        let a = agreement([(true, true), (true, false), (false, true), (false, false)]);
        assert_eq!(a.labelled, 4);
        assert_eq!(a.precision, Some(0.5));
        assert_eq!(a.recall, Some(0.5));
        assert_eq!(agreement([]).precision, None);
    }
}
