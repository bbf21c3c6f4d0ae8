//! The intake policy: where a new comment lands (mode × verdict × author standing), whether an
//! edited text is held again, and the reason code of an automated rejection. Pure: the store
//! reads the facts and writes the outcome.

use chrono::NaiveDateTime;

use super::{AuthorStatus, CommentStatus, ModerationMode, ReasonCode};
use crate::scoring::{Action, Decision, RuleCategory, RuleHit, Thresholds, Verdict};

/// The note of the automated decision that holds or rejects a comment because of its author's
/// status rather than its text (integrations tell the author which it was).
pub const NOTE_AUTHOR_BANNED: &str = "author is banned";
pub const NOTE_AUTHOR_PREMOD: &str = "author is pre-moderated";

/// The note of the automated decision that holds a new author's comment (the site's
/// new-author pre-moderation: fewer than `n` approved comments).
pub fn note_new_author(n: u32) -> String {
    format!("new author: fewer than {n} approved comments (site setting)")
}

/// A verdict with what the policy needs from it, computed before the transaction.
#[derive(Debug, Clone)]
pub struct Scored {
    pub verdict: Verdict,
    /// The verdict as stored (JSON), serialised before the write so that the SQLite writer
    /// thread, the serial part of intake, does not spend its time on it.
    pub json: Option<String>,
    /// Rule ids and categories to file the comment under in the queues.
    pub reasons: Vec<String>,
}

impl Scored {
    pub fn new(verdict: Verdict, thresholds: &Thresholds) -> Self {
        let mut reasons: Vec<String> = verdict.rules.iter().map(|h| h.id.clone()).collect();
        if verdict.scores.toxicity >= thresholds.toxicity.review {
            reasons.push("toxicity".into());
        }
        if verdict.scores.spam >= thresholds.spam.review {
            reasons.push("spam".into());
        }
        reasons.sort();
        reasons.dedup();
        let json = serde_json::to_string(&verdict).ok();
        Scored {
            verdict,
            json,
            reasons,
        }
    }

    /// Adds a rule that fired after scoring (the per-author rate) to the verdict, its reasons
    /// and its stored JSON.
    pub fn add_rule_hit(&mut self, hit: RuleHit, reason: String) {
        self.reasons.push(hit.id.clone());
        self.reasons.sort();
        self.reasons.dedup();
        self.verdict.add_rule_hit(hit, reason);
        self.json = serde_json::to_string(&self.verdict).ok();
    }

    /// The reason code of an automated rejection: a blocking rule's category, else the
    /// category that scored highest.
    pub fn reason_code(&self) -> ReasonCode {
        let category = self
            .verdict
            .rules
            .iter()
            .find(|h| h.action == Action::Block)
            .map(|h| h.category);
        match category {
            Some(RuleCategory::Spam) => ReasonCode::Spam,
            Some(RuleCategory::Toxicity) => ReasonCode::Insult,
            Some(RuleCategory::Behaviour) => ReasonCode::Other,
            None if self.verdict.scores.spam > self.verdict.scores.toxicity => ReasonCode::Spam,
            None => ReasonCode::Insult,
        }
    }
}

/// Which setting gave a comment its moderation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeOrigin {
    Thread,
    Site,
}

impl ModeOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            ModeOrigin::Thread => "thread",
            ModeOrigin::Site => "site",
        }
    }
}

/// The mode that applies: the thread's own when it has one, else the site's.
pub fn effective_mode(
    thread: Option<ModerationMode>,
    site: ModerationMode,
) -> (ModerationMode, ModeOrigin) {
    match thread {
        Some(mode) => (mode, ModeOrigin::Thread),
        None => (site, ModeOrigin::Site),
    }
}

/// An author's status when it is still in force at `now` (a status with an end date lapses);
/// `None` when it has lapsed.
pub fn standing(
    status: AuthorStatus,
    until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Option<AuthorStatus> {
    let in_force = until.is_none_or(|until| until > now);
    in_force.then_some(status)
}

/// Where a new comment lands, and the automated decision that puts it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub status: CommentStatus,
    /// Set on a rejection.
    pub reason: Option<ReasonCode>,
    /// The decision's note: which setting or verdict decided.
    pub note: String,
}

/// The status of a new comment: the mode's, moved by the verdict in post-moderation (reject or
/// hold), then by its author's standing (a banned author's comments are rejected, a
/// pre-moderated author's held), then by the site's new-author pre-moderation
/// (`new_author`: `Some(n)` when it is on and the author has fewer than `n` approved comments:
/// a comment that would be published is held).
pub fn place_new(
    mode: ModerationMode,
    origin: ModeOrigin,
    scored: Option<&Scored>,
    author: Option<AuthorStatus>,
    new_author: Option<u32>,
) -> Placement {
    let origin = origin.as_str();
    let mut placement = Placement {
        status: super::initial_status(mode),
        reason: None,
        note: format!("moderation mode `{mode}` ({origin} setting)"),
    };
    if let Some(scored) = scored {
        let why = if scored.verdict.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", scored.verdict.reasons.join("; "))
        };
        match (mode, scored.verdict.decision) {
            (ModerationMode::Post, Decision::Reject) => {
                placement.status = CommentStatus::Rejected;
                placement.reason = Some(scored.reason_code());
                placement.note = format!("verdict reject{why}");
            }
            (ModerationMode::Post, Decision::Review) => {
                placement.status = CommentStatus::Pending;
                placement.note = format!("verdict review{why}");
            }
            (ModerationMode::Post, Decision::Allow) => {
                placement.note = format!("verdict allow ({origin} mode post)");
            }
            (ModerationMode::Pre, d) => {
                placement.note = format!(
                    "moderation mode `pre` ({origin} setting); verdict {}{why}",
                    d.as_str()
                );
            }
        }
    }
    match author {
        Some(AuthorStatus::Banned) => {
            placement.status = CommentStatus::Rejected;
            placement.reason = Some(ReasonCode::Other);
            placement.note = NOTE_AUTHOR_BANNED.to_owned();
        }
        Some(AuthorStatus::Premod) if placement.status != CommentStatus::Rejected => {
            placement.status = CommentStatus::Pending;
            placement.note = NOTE_AUTHOR_PREMOD.to_owned();
        }
        _ => {}
    }
    if let Some(n) = new_author {
        if placement.status == CommentStatus::Published {
            placement.status = CommentStatus::Pending;
            placement.note = note_new_author(n);
        }
    }
    placement
}

/// Why an edited text would be held: its verdict, pre-moderation, or its author's standing;
/// `None` when it may stay visible.
pub fn edit_held_by(
    verdict: &Verdict,
    mode: ModerationMode,
    author: Option<AuthorStatus>,
) -> Option<String> {
    if verdict.decision != Decision::Allow {
        Some(format!(
            "verdict {}: {}",
            verdict.decision.as_str(),
            verdict.reasons.join("; ")
        ))
    } else if mode == ModerationMode::Pre {
        Some("moderation mode `pre`".to_owned())
    } else if let Some(held @ (AuthorStatus::Premod | AuthorStatus::Banned)) = author {
        Some(format!("author is {held}"))
    } else {
        None
    }
}

/// The status after an edit: a visible comment that would be held goes back to `pending`;
/// otherwise it keeps its status (pending stays pending, rejected stays rejected).
pub fn status_after_edit(from: CommentStatus, held: bool) -> CommentStatus {
    if from.is_visible() && held {
        CommentStatus::Pending
    } else {
        from
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::policy::DEFAULT_THRESHOLDS;
    use crate::scoring::Scores;

    fn verdict(decision: Decision, toxicity: f32, spam: f32, rules: Vec<RuleHit>) -> Verdict {
        Verdict {
            decision,
            scores: Scores { toxicity, spam },
            rules,
            top_terms: vec![],
            model_version: "test".into(),
            rules_version: "test".into(),
            language: "fr".into(),
            reasons: vec![format!("{} by test", decision.as_str())],
        }
    }

    fn hit(id: &str, action: Action, category: RuleCategory) -> RuleHit {
        RuleHit {
            id: id.into(),
            action,
            category,
            term: None,
            start: None,
            end: None,
        }
    }

    fn scored(decision: Decision, toxicity: f32, spam: f32) -> Scored {
        Scored::new(
            verdict(decision, toxicity, spam, vec![]),
            &DEFAULT_THRESHOLDS,
        )
    }

    #[test]
    fn reasons_are_the_rules_and_the_categories_over_their_review_threshold() {
        let v = verdict(
            Decision::Review,
            0.99,
            0.0,
            vec![
                hit("insult.fr", Action::Hold, RuleCategory::Toxicity),
                hit("insult.fr", Action::Flag, RuleCategory::Toxicity),
            ],
        );
        let s = Scored::new(v, &DEFAULT_THRESHOLDS);
        assert_eq!(s.reasons, ["insult.fr", "toxicity"]);
        assert!(s
            .json
            .as_deref()
            .unwrap()
            .contains("\"decision\":\"review\""));
    }

    #[test]
    fn a_rule_added_after_scoring_joins_the_reasons_and_the_stored_json() {
        let mut s = scored(Decision::Allow, 0.0, 0.0);
        s.add_rule_hit(
            hit("author_rate", Action::Hold, RuleCategory::Behaviour),
            "too many comments".into(),
        );
        assert_eq!(s.reasons, ["author_rate"]);
        assert_eq!(s.verdict.decision, Decision::Review);
        assert!(s.json.as_deref().unwrap().contains("author_rate"));
    }

    #[test]
    fn the_reason_code_is_the_blocking_rule_s_category_else_the_highest_score() {
        let blocked = |category| {
            Scored::new(
                verdict(
                    Decision::Reject,
                    0.9,
                    0.1,
                    vec![hit("r", Action::Block, category)],
                ),
                &DEFAULT_THRESHOLDS,
            )
            .reason_code()
        };
        assert_eq!(blocked(RuleCategory::Spam), ReasonCode::Spam);
        assert_eq!(blocked(RuleCategory::Toxicity), ReasonCode::Insult);
        assert_eq!(blocked(RuleCategory::Behaviour), ReasonCode::Other);
        assert_eq!(
            scored(Decision::Reject, 0.2, 0.9).reason_code(),
            ReasonCode::Spam
        );
        assert_eq!(
            scored(Decision::Reject, 0.9, 0.2).reason_code(),
            ReasonCode::Insult
        );
    }

    #[test]
    fn a_thread_s_own_mode_wins_over_the_site_s() {
        assert_eq!(
            effective_mode(Some(ModerationMode::Pre), ModerationMode::Post),
            (ModerationMode::Pre, ModeOrigin::Thread)
        );
        assert_eq!(
            effective_mode(None, ModerationMode::Pre),
            (ModerationMode::Pre, ModeOrigin::Site)
        );
    }

    #[test]
    fn an_author_status_lapses_at_its_end_date() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let later = now + chrono::Duration::hours(1);
        let earlier = now - chrono::Duration::hours(1);
        use AuthorStatus::{Banned, Premod};
        assert_eq!(standing(Banned, None, now), Some(Banned));
        assert_eq!(standing(Premod, Some(later), now), Some(Premod));
        assert_eq!(standing(Banned, Some(earlier), now), None);
        assert_eq!(standing(Banned, Some(now), now), None);
    }

    #[test]
    fn in_post_moderation_the_verdict_decides() {
        let post = |d, t| {
            place_new(
                ModerationMode::Post,
                ModeOrigin::Site,
                Some(&scored(d, t, 0.0)),
                None,
                None,
            )
        };
        let allowed = post(Decision::Allow, 0.0);
        assert_eq!(allowed.status, CommentStatus::Published);
        assert_eq!(allowed.note, "verdict allow (site mode post)");
        let held = post(Decision::Review, 0.7);
        assert_eq!(held.status, CommentStatus::Pending);
        assert_eq!(held.reason, None);
        assert_eq!(held.note, "verdict review: review by test");
        let rejected = post(Decision::Reject, 0.99);
        assert_eq!(rejected.status, CommentStatus::Rejected);
        assert_eq!(rejected.reason, Some(ReasonCode::Insult));
    }

    #[test]
    fn in_pre_moderation_every_comment_is_held_whatever_the_verdict() {
        for d in [Decision::Allow, Decision::Review, Decision::Reject] {
            let p = place_new(
                ModerationMode::Pre,
                ModeOrigin::Thread,
                Some(&scored(d, 0.99, 0.0)),
                None,
                None,
            );
            assert_eq!(p.status, CommentStatus::Pending);
            assert_eq!(p.reason, None);
            assert!(p
                .note
                .starts_with("moderation mode `pre` (thread setting); verdict"));
        }
        let unscored = place_new(ModerationMode::Pre, ModeOrigin::Site, None, None, None);
        assert_eq!(unscored.note, "moderation mode `pre` (site setting)");
    }

    #[test]
    fn a_banned_author_is_rejected_and_a_premoderated_one_held() {
        let allow = scored(Decision::Allow, 0.0, 0.0);
        let banned = place_new(
            ModerationMode::Post,
            ModeOrigin::Site,
            Some(&allow),
            Some(AuthorStatus::Banned),
            None,
        );
        assert_eq!(banned.status, CommentStatus::Rejected);
        assert_eq!(banned.reason, Some(ReasonCode::Other));
        assert_eq!(banned.note, NOTE_AUTHOR_BANNED);
        let premod = place_new(
            ModerationMode::Post,
            ModeOrigin::Site,
            Some(&allow),
            Some(AuthorStatus::Premod),
            None,
        );
        assert_eq!(premod.status, CommentStatus::Pending);
        assert_eq!(premod.note, NOTE_AUTHOR_PREMOD);
        // A rejection by the verdict stays one for a pre-moderated author.
        let rejected = place_new(
            ModerationMode::Post,
            ModeOrigin::Site,
            Some(&scored(Decision::Reject, 0.99, 0.0)),
            Some(AuthorStatus::Premod),
            None,
        );
        assert_eq!(rejected.status, CommentStatus::Rejected);
        assert_eq!(rejected.reason, Some(ReasonCode::Insult));
    }

    #[test]
    fn a_new_author_is_held_when_the_site_asks_and_nothing_else_changes() {
        let allow = scored(Decision::Allow, 0.0, 0.0);
        let place = |mode, scored: &Scored, author, new_author| {
            place_new(mode, ModeOrigin::Site, Some(scored), author, new_author)
        };
        let held = place(ModerationMode::Post, &allow, None, Some(3));
        assert_eq!(held.status, CommentStatus::Pending);
        assert_eq!(
            held.note,
            "new author: fewer than 3 approved comments (site setting)"
        );
        assert_eq!(held.reason, None);
        // off, or enough approved comments (the caller passes None): published
        let published = place(ModerationMode::Post, &allow, None, None);
        assert_eq!(published.status, CommentStatus::Published);
        // a rejection stays a rejection, and its note says why
        let reject = scored(Decision::Reject, 0.99, 0.0);
        let rejected = place(ModerationMode::Post, &reject, None, Some(3));
        assert_eq!(rejected.status, CommentStatus::Rejected);
        assert!(
            rejected.note.starts_with("verdict reject"),
            "{}",
            rejected.note
        );
        let banned = place(
            ModerationMode::Post,
            &allow,
            Some(AuthorStatus::Banned),
            Some(3),
        );
        assert_eq!(banned.note, NOTE_AUTHOR_BANNED);
        // held anyway: the verdict's or the mode's note is kept
        let review = scored(Decision::Review, 0.9, 0.0);
        let verdict = place(ModerationMode::Post, &review, None, Some(3));
        assert!(
            verdict.note.starts_with("verdict review"),
            "{}",
            verdict.note
        );
        let pre = place(ModerationMode::Pre, &allow, None, Some(3));
        assert!(
            pre.note.starts_with("moderation mode `pre`"),
            "{}",
            pre.note
        );
    }

    #[test]
    fn an_edit_is_held_by_its_verdict_the_mode_or_its_author() {
        let allow = verdict(Decision::Allow, 0.0, 0.0, vec![]);
        let review = verdict(Decision::Review, 0.7, 0.0, vec![]);
        assert_eq!(edit_held_by(&allow, ModerationMode::Post, None), None);
        assert_eq!(
            edit_held_by(&allow, ModerationMode::Post, Some(AuthorStatus::Active)),
            None
        );
        assert_eq!(
            edit_held_by(&review, ModerationMode::Post, None).as_deref(),
            Some("verdict review: review by test")
        );
        assert_eq!(
            edit_held_by(&allow, ModerationMode::Pre, None).as_deref(),
            Some("moderation mode `pre`")
        );
        assert_eq!(
            edit_held_by(&allow, ModerationMode::Post, Some(AuthorStatus::Banned)).as_deref(),
            Some("author is banned")
        );
        assert_eq!(
            status_after_edit(CommentStatus::Published, true),
            CommentStatus::Pending
        );
        assert_eq!(
            status_after_edit(CommentStatus::Rejected, true),
            CommentStatus::Rejected
        );
        assert_eq!(
            status_after_edit(CommentStatus::Approved, false),
            CommentStatus::Approved
        );
    }
}
