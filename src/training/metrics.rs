//! Evaluation metrics (ROC AUC and confusion matrices through linfa) and an SVG of PR + ROC.

use linfa::dataset::Pr;
use linfa::prelude::{BinaryClassification, ToConfusionMatrix};
use ndarray::Array1;
use serde::Serialize;

/// ROC AUC through linfa (`BinaryClassification::roc`). `None` if one class is absent.
pub fn roc_auc(scores: &[f32], labels: &[bool]) -> Option<f32> {
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 || pos == labels.len() {
        return None;
    }
    let pr: Vec<Pr> = scores.iter().map(|&s| Pr::new(s.clamp(0.0, 1.0))).collect();
    let roc = pr.as_slice().roc(labels).ok()?;
    Some(roc.area_under_curve())
}

/// Standard ROC curve points (fpr, tpr) from linfa's curve (which accumulates from the lowest
/// scores up).
pub fn roc_curve(scores: &[f32], labels: &[bool]) -> Vec<(f32, f32)> {
    // one class only: the curve is undefined (rates divide by zero)
    if !labels.iter().any(|&l| l) || labels.iter().all(|&l| l) {
        return Vec::new();
    }
    let pr: Vec<Pr> = scores.iter().map(|&s| Pr::new(s.clamp(0.0, 1.0))).collect();
    match pr.as_slice().roc(labels) {
        Ok(r) => r
            .get_curve()
            .into_iter()
            .map(|(tp_low, fp_low)| (1.0 - fp_low, 1.0 - tp_low))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Rank-based AUC (Mann-Whitney, ties count half): independent cross-check of linfa's value and
/// used on logits that are not probabilities.
pub fn auc_rank(scores: &[f32], labels: &[bool]) -> Option<f32> {
    let mut v: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    let pos = v.iter().filter(|x| x.1).count() as f64;
    let neg = v.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0; // ranks are 1-based
        for x in &v[i..j] {
            if x.1 {
                rank_sum += avg;
            }
        }
        i = j;
    }
    Some(((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)) as f32)
}

/// Precision-recall curve: (recall, precision, threshold), thresholds descending.
pub fn pr_curve(scores: &[f32], labels: &[bool]) -> Vec<(f32, f32, f32)> {
    let mut v: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let pos = v.iter().filter(|x| x.1).count() as f32;
    let mut out = Vec::new();
    if pos == 0.0 {
        return out;
    }
    let (mut tp, mut fp) = (0f32, 0f32);
    let mut i = 0;
    while i < v.len() {
        let s = v[i].0;
        while i < v.len() && v[i].0 == s {
            if v[i].1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        out.push((tp / pos, tp / (tp + fp), s));
    }
    out
}

/// Average precision (step-wise area under the PR curve, as scikit-learn computes it).
pub fn average_precision(scores: &[f32], labels: &[bool]) -> Option<f32> {
    let c = pr_curve(scores, labels);
    if c.is_empty() {
        return None;
    }
    let mut ap = 0f32;
    let mut prev_r = 0f32;
    for (r, p, _) in c {
        ap += (r - prev_r) * p;
        prev_r = r;
    }
    Some(ap)
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct AtThreshold {
    pub threshold: f32,
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub flagged: usize,
}

/// Precision / recall / F1 at `t` through linfa's `ConfusionMatrix`.
pub fn at_threshold(scores: &[f32], labels: &[bool], t: f32) -> AtThreshold {
    let pred: Array1<bool> = scores.iter().map(|&s| s >= t).collect();
    let truth: Array1<bool> = labels.iter().copied().collect();
    let flagged = pred.iter().filter(|&&p| p).count();
    let tp = pred.iter().zip(labels).filter(|(p, l)| **p && **l).count();
    let pos = labels.iter().filter(|&&l| l).count();
    // linfa's matrix needs both classes somewhere; fall back to counts otherwise.
    // NB: in linfa 0.8.1 `a.confusion_matrix(&b)` reports precision/recall with `b` as the
    // prediction for bool labels (checked against counts in the tests), hence the order here.
    let (precision, recall) = match truth.confusion_matrix(&pred) {
        Ok(cm) if flagged > 0 && pos > 0 && flagged < labels.len() => (cm.precision(), cm.recall()),
        _ => (
            if flagged > 0 {
                tp as f32 / flagged as f32
            } else {
                f32::NAN
            },
            if pos > 0 {
                tp as f32 / pos as f32
            } else {
                f32::NAN
            },
        ),
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    AtThreshold {
        threshold: t,
        precision,
        recall,
        f1,
        flagged,
    }
}

/// Lowest threshold whose precision is >= `target` (and stays so above it, on the curve).
pub fn threshold_for_precision(scores: &[f32], labels: &[bool], target: f32) -> Option<f32> {
    let c = pr_curve(scores, labels);
    let pos = labels.iter().filter(|&&l| l).count() as f32;
    // walk thresholds downwards; stop at the first violation once at least 20 items are flagged
    // (the very top of the ranking is too noisy to judge precision on)
    let mut lowest_ok = None;
    for (r, p, t) in c.iter() {
        let tp = r * pos;
        let flagged = if *p > 0.0 { tp / p } else { f32::INFINITY };
        if *p >= target {
            lowest_ok = Some(*t);
        } else if flagged >= 20.0 {
            break;
        }
    }
    lowest_ok
}

/// An SVG with the PR curve (left) and the ROC curve (right).
pub fn svg_pr_roc(title: &str, scores: &[f32], labels: &[bool], marks: &[(String, f32)]) -> String {
    let pr = pr_curve(scores, labels);
    let roc = roc_curve(scores, labels);
    let (w, h, m) = (360.0f32, 360.0f32, 40.0f32);
    let plot = |pts: &mut dyn Iterator<Item = (f32, f32)>, ox: f32| -> String {
        let mut s = String::new();
        let mut n = 0;
        for (x, y) in pts {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            s.push_str(&format!(
                "{:.1},{:.1} ",
                ox + m + x * (w - 2.0 * m),
                h - m - y * (h - 2.0 * m)
            ));
            n += 1;
        }
        if n == 0 {
            return String::new();
        }
        format!("<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{s}\"/>")
    };
    let axes = |ox: f32, xl: &str, yl: &str, name: &str| -> String {
        format!(
            "<rect x=\"{x}\" y=\"{m}\" width=\"{pw}\" height=\"{pw}\" fill=\"none\" stroke=\"#333\"/>\
             <text x=\"{cx}\" y=\"{by}\" font-size=\"12\" text-anchor=\"middle\">{xl}</text>\
             <text x=\"{lx}\" y=\"{cy}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 {lx} {cy})\">{yl}</text>\
             <text x=\"{cx}\" y=\"{ty}\" font-size=\"13\" text-anchor=\"middle\">{name}</text>",
            x = ox + m,
            pw = w - 2.0 * m,
            cx = ox + w / 2.0,
            by = h - 10.0,
            lx = ox + 14.0,
            cy = h / 2.0,
            ty = m - 8.0,
        )
    };
    let mut marks_svg = String::new();
    for (name, t) in marks {
        let a = at_threshold(scores, labels, *t);
        if a.precision.is_finite() && a.recall.is_finite() {
            let (x, y) = (
                m + a.recall * (w - 2.0 * m),
                h - m - a.precision * (h - 2.0 * m),
            );
            marks_svg.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#2c3e50\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{} {:.2}</text>",
                x + 6.0,
                y - 6.0,
                xml_escape(name),
                t
            ));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{tw}\" height=\"{th}\" font-family=\"sans-serif\">\
         <text x=\"10\" y=\"16\" font-size=\"13\">{title}</text><g transform=\"translate(0,20)\">{a1}{p1}{marks_svg}{a2}{p2}\
         <line x1=\"{dx1}\" y1=\"{dy1}\" x2=\"{dx2}\" y2=\"{dy2}\" stroke=\"#aaa\" stroke-dasharray=\"4\"/></g></svg>\n",
        tw = 2.0 * w,
        th = h + 20.0,
        title = xml_escape(title),
        a1 = axes(0.0, "recall", "precision", "Precision-recall"),
        p1 = plot(&mut pr.iter().map(|&(r, p, _)| (r, p)), 0.0),
        a2 = axes(w, "false positive rate", "true positive rate", "ROC"),
        p2 = plot(&mut roc.iter().copied(), w),
        dx1 = w + m,
        dy1 = h - m,
        dx2 = 2.0 * w - m,
        dy2 = m,
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linfa_auc_matches_rank_auc() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.9, 0.05];
        let labels = [false, false, true, true, false, false, true, false];
        let a = roc_auc(&scores, &labels).unwrap();
        let b = auc_rank(&scores, &labels).unwrap();
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        let ap = average_precision(&scores, &labels).unwrap();
        assert!(ap > 0.5 && ap <= 1.0);
        let t = at_threshold(&scores, &labels, 0.5);
        assert_eq!(t.flagged, 3);
        assert!((t.precision - 2.0 / 3.0).abs() < 1e-6);
        assert!((t.recall - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(threshold_for_precision(&scores, &labels, 0.95), Some(0.9));
        // asymmetric case: 1 flagged (a true positive) out of 3 positives
        let t = at_threshold(&scores, &labels, 0.85);
        assert_eq!(t.flagged, 1);
        assert!((t.precision - 1.0).abs() < 1e-6, "{t:?}");
        assert!((t.recall - 1.0 / 3.0).abs() < 1e-6, "{t:?}");
        assert!(svg_pr_roc("t", &scores, &labels, &[("review".into(), 0.5)]).starts_with("<svg"));
    }
}
