//! What reader reports do to a comment: reporters' weights, one vote per network, bursts of new
//! reporters, and the hide-or-escalate decision. Pure rules; the store fetches the inputs and
//! applies the outcome.
//!
//! The decision is recomputed from the whole set of open reports every time a report arrives,
//! so weight counted before a burst was noticed stops counting once it is.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;

use super::{CommentId, ReportId, ReporterId};

/// Weight of a reporter with no history.
pub const NEW_REPORTER_WEIGHT: f64 = 0.5;
/// Added per upheld report.
pub const UPHELD_STEP: f64 = 0.5;
/// Taken per dismissed report.
pub const DISMISSED_STEP: f64 = 0.25;
/// No reporter weighs more than this, however long their record.
pub const MAX_REPORTER_WEIGHT: f64 = 2.0;

/// A reporter's record: reports of theirs that moderators upheld and dismissed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReporterRecord {
    pub upheld: i32,
    pub dismissed: i32,
}

impl ReporterRecord {
    /// 0.5 when new, +0.5 per upheld report, −0.25 per dismissed one, within 0–2.
    pub fn weight(self) -> f64 {
        (NEW_REPORTER_WEIGHT + UPHELD_STEP * f64::from(self.upheld)
            - DISMISSED_STEP * f64::from(self.dismissed))
        .clamp(0.0, MAX_REPORTER_WEIGHT)
    }

    /// A reporter whose upheld reports earned full weight (1); everyone else is "new" — a
    /// fresh identity costs nothing to make.
    pub fn is_established(self) -> bool {
        self.weight() >= 1.0
    }
}

/// Whether a report joins the per-site bucket of reports nobody can be traced by: no IP (nor
/// IP hash) and no established reporter.
pub fn counts_in_site_bucket(has_ip: bool, reporter: ReporterRecord) -> bool {
    !has_ip && !reporter.is_established()
}

/// Burst detection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstRules {
    /// New reporters on one comment within `window_secs` that make a burst.
    pub comment_reporters: usize,
    /// Reports by new reporters on one author's comments within `window_secs` that make one.
    pub author_reports: usize,
    pub window_secs: i64,
}

impl Default for BurstRules {
    fn default() -> Self {
        BurstRules {
            comment_reporters: 3,
            author_reports: 5,
            window_secs: 3600,
        }
    }
}

/// A report, as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFacts {
    pub id: ReportId,
    pub comment_id: CommentId,
    pub reporter_id: ReporterId,
    pub reporter: ReporterRecord,
    /// The network it came from (a keyed hash of the /24 or /48, or the site's IP hash);
    /// `None` when no IP was given.
    pub network: Option<String>,
    /// `illegal` reports never hide anything by themselves: a human decides.
    pub illegal: bool,
    /// Already part of a burst.
    pub brigading: bool,
    pub created_at: NaiveDateTime,
}

/// What the rules decide for one comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The weight that counts toward hiding: one vote per network, the heaviest reporter of
    /// each; reports of a burst and `illegal` reports count 0.
    pub weight: f64,
    /// The same with `illegal` reports counted: what the reported queue ranks by.
    pub queue_weight: f64,
    /// A burst of new reporters on the comment or its author is under way.
    pub burst: bool,
    /// Reports (of this comment or of the author's other comments) that belong to the burst
    /// and are not flagged yet.
    pub wave: Vec<ReportId>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changes.
    Keep,
    /// The weight reached the site's threshold: hide until a moderator decides.
    Hide,
    /// A burst: to the moderators, flagged, and still visible.
    Escalate,
}

/// Decides what the open reports of a comment do.
///
/// `open` are the comment's open reports; `author_recent` the open reports on all of the
/// author's comments (this one included) filed within the burst window.
pub fn assess(
    open: &[ReportFacts],
    author_recent: &[ReportFacts],
    rules: &BurstRules,
    threshold: f64,
    now: NaiveDateTime,
) -> Assessment {
    let since = now - chrono::Duration::seconds(rules.window_secs);
    let fresh = |r: &&ReportFacts| !r.reporter.is_established() && r.created_at >= since;

    let on_comment: HashSet<ReporterId> =
        open.iter().filter(fresh).map(|r| r.reporter_id).collect();
    let on_author = author_recent.iter().filter(fresh).count();
    let burst = on_comment.len() >= rules.comment_reporters || on_author >= rules.author_reports;

    let mut wave: Vec<ReportId> = Vec::new();
    if burst {
        wave.extend(
            open.iter()
                .chain(author_recent)
                .filter(fresh)
                .filter(|r| !r.brigading)
                .map(|r| r.id),
        );
        wave.sort_unstable();
        wave.dedup();
    }
    let in_wave = |r: &ReportFacts| r.brigading || wave.binary_search(&r.id).is_ok();

    // One vote per network (or per reporter when no IP is known): its heaviest reporter.
    let votes = |with_illegal: bool| -> f64 {
        let mut votes: HashMap<Voter<'_>, f64> = HashMap::new();
        for r in open
            .iter()
            .filter(|r| (with_illegal || !r.illegal) && !in_wave(r))
        {
            let voter = match &r.network {
                Some(n) => Voter::Network(n),
                None => Voter::Reporter(r.reporter_id),
            };
            let w = votes.entry(voter).or_insert(0.0);
            *w = w.max(r.reporter.weight());
        }
        votes.values().sum()
    };
    let weight = votes(false);
    let queue_weight = votes(true);

    let outcome = if weight >= threshold {
        Outcome::Hide
    } else if burst {
        Outcome::Escalate
    } else {
        Outcome::Keep
    };
    Assessment {
        weight,
        queue_weight,
        burst,
        wave,
        outcome,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Voter<'a> {
    Network(&'a str),
    Reporter(ReporterId),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            + chrono::Duration::minutes(minutes)
    }

    fn report(id: i64, upheld: i32, network: &str) -> ReportFacts {
        ReportFacts {
            id: ReportId(id),
            comment_id: CommentId(1),
            reporter_id: ReporterId(id),
            reporter: ReporterRecord {
                upheld,
                dismissed: 0,
            },
            network: Some(network.to_owned()),
            illegal: false,
            brigading: false,
            created_at: t(0),
        }
    }

    fn fresh(n: i64) -> Vec<ReportFacts> {
        (1..=n).map(|i| report(i, 0, &format!("net-{i}"))).collect()
    }

    fn assess_alone(open: &[ReportFacts]) -> Assessment {
        assess(open, open, &BurstRules::default(), 3.0, t(1))
    }

    #[test]
    fn new_reporters_start_at_half_weight_and_records_move_it_within_bounds() {
        assert_eq!(ReporterRecord::default().weight(), 0.5);
        let r = |upheld, dismissed| ReporterRecord { upheld, dismissed };
        assert_eq!(r(1, 0).weight(), 1.0);
        assert_eq!(r(100, 0).weight(), MAX_REPORTER_WEIGHT);
        assert_eq!(r(0, 1).weight(), 0.25);
        assert_eq!(r(0, 100).weight(), 0.0);
        assert!(r(1, 0).is_established());
        assert!(!r(1, 1).is_established());
        assert!(!r(0, 0).is_established());
    }

    #[test]
    fn two_fresh_identities_neither_hide_nor_escalate() {
        let a = assess_alone(&fresh(2));
        assert_eq!((a.weight, a.burst, a.outcome), (1.0, false, Outcome::Keep));
    }

    #[test]
    fn three_five_or_twenty_fresh_identities_escalate_and_never_hide() {
        for n in [3, 5, 20] {
            let a = assess_alone(&fresh(n));
            assert_eq!(a.outcome, Outcome::Escalate, "{n} fresh identities");
            assert!(a.burst);
            assert_eq!(a.weight, 0.0, "a burst's weight no longer counts");
            assert_eq!(a.wave, (1..=n).map(ReportId).collect::<Vec<_>>());
        }
    }

    #[test]
    fn weight_counted_before_a_burst_stops_counting_once_it_is_flagged() {
        let mut open = fresh(2);
        assert_eq!(assess_alone(&open).weight, 1.0);
        open.extend(fresh(3).into_iter().skip(2));
        assert_eq!(assess_alone(&open).weight, 0.0);
        // Later, with the wave flagged, it still counts nothing.
        for r in &mut open {
            r.brigading = true;
        }
        let a = assess_alone(&open);
        assert_eq!((a.weight, a.wave.len()), (0.0, 0));
    }

    #[test]
    fn many_reporters_from_one_network_count_once() {
        let open: Vec<ReportFacts> = (1..=30).map(|i| report(i, 4, "one-network")).collect();
        let a = assess(&open, &open, &BurstRules::default(), 3.0, t(1));
        assert_eq!(a.weight, 2.0, "the heaviest of one network, once");
        assert_eq!(a.outcome, Outcome::Keep);
    }

    #[test]
    fn reports_without_network_count_per_reporter() {
        let mut open = vec![report(1, 1, "x"), report(2, 1, "x"), report(3, 1, "y")];
        for r in &mut open {
            r.network = None;
        }
        assert_eq!(assess_alone(&open).weight, 3.0);
    }

    #[test]
    fn established_reporters_from_three_networks_hide_at_the_threshold() {
        let open = vec![report(1, 1, "a"), report(2, 1, "b"), report(3, 1, "c")];
        let a = assess_alone(&open);
        assert_eq!((a.weight, a.outcome), (3.0, Outcome::Hide));
        assert!(!a.burst);
    }

    #[test]
    fn established_reporters_still_hide_during_a_burst_of_new_ones() {
        let mut open = vec![report(1, 1, "a"), report(2, 1, "b"), report(3, 1, "c")];
        open.extend((10..20).map(|i| report(i, 0, &format!("n{i}"))));
        let a = assess_alone(&open);
        assert!(a.burst);
        assert_eq!((a.weight, a.outcome), (3.0, Outcome::Hide));
        assert_eq!(a.wave, (10..20).map(ReportId).collect::<Vec<_>>());
    }

    #[test]
    fn illegal_reports_never_count_toward_hiding() {
        let mut open = vec![report(1, 4, "a"), report(2, 4, "b")];
        for r in &mut open {
            r.illegal = true;
        }
        let a = assess_alone(&open);
        assert_eq!((a.weight, a.outcome), (0.0, Outcome::Keep));
        assert_eq!(
            a.queue_weight, 4.0,
            "but they rank the comment in the queue"
        );
    }

    #[test]
    fn a_burst_on_the_authors_other_comments_escalates_this_one() {
        let mine = vec![report(1, 0, "a")];
        let mut author_recent = mine.clone();
        author_recent.extend((2..=5).map(|i| ReportFacts {
            comment_id: CommentId(i),
            ..report(i, 0, &format!("n{i}"))
        }));
        let a = assess(&mine, &author_recent, &BurstRules::default(), 3.0, t(1));
        assert!(a.burst);
        assert_eq!(a.outcome, Outcome::Escalate);
        assert_eq!(a.wave, [1, 2, 3, 4, 5].map(ReportId));
    }

    #[test]
    fn new_reporters_spread_beyond_the_window_are_no_burst() {
        let mut open = fresh(3);
        open[0].created_at = t(-120);
        open[1].created_at = t(-61);
        let a = assess_alone(&open);
        assert!(!a.burst);
        assert_eq!(a.weight, 1.5);
    }

    #[test]
    fn only_reports_nobody_can_be_traced_by_share_the_site_bucket() {
        let new = ReporterRecord::default();
        let known = ReporterRecord {
            upheld: 1,
            dismissed: 0,
        };
        assert!(counts_in_site_bucket(false, new));
        assert!(!counts_in_site_bucket(true, new));
        assert!(!counts_in_site_bucket(false, known));
    }
}
