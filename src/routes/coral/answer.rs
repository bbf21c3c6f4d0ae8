//! Coral's answer: built from what Vigie decided about the comment, in the exact shape Coral
//! accepts (the response schema re-expressed in `tests/e2e/coral-response.mjs`).

use serde_json::{json, Value};

use crate::domain::wording::{self, ReaderLang};
use crate::domain::{CommentStatus, ReasonCode};
use crate::scoring::{Decision, Verdict};
use crate::store;

/// Vigie's reason code as Coral's rejection code, one to one. Coral's `BANNED_WORD` and `AD`
/// have no Vigie counterpart of their own (Vigie says which word list or rule fired in the
/// explanation); `personal_data` has no Coral code and goes as `OTHER` with a custom reason.
pub fn coral_code(reason: ReasonCode) -> (&'static str, Option<&'static str>) {
    match reason {
        ReasonCode::Spam => ("SPAM", None),
        ReasonCode::Insult => ("HARASSMENT_BULLYING", None),
        ReasonCode::Hate => ("HATE_SPEECH", None),
        ReasonCode::Threat => ("ABUSIVE", None),
        ReasonCode::Obscene => ("OFFENSIVE", None),
        ReasonCode::Illegal => ("ILLEGAL_CONTENT", None),
        ReasonCode::OffTopic => ("IRRELEVANT_CONTENT", None),
        ReasonCode::PersonalData => ("OTHER", Some("personal_data")),
        ReasonCode::Misinformation => ("MISINFORMATION", None),
        ReasonCode::Other => ("OTHER", None),
    }
}

/// Why a comment is held or rejected when the reason is its author, not its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorHold {
    Banned,
    Premod,
}

/// What Coral's answer is built from: the comment's status and the decision that gave it.
#[derive(Debug, Clone)]
pub struct CoralFacts {
    pub status: CommentStatus,
    /// The verdict's decision was not `allow` (something was detected).
    pub detected: bool,
    /// Spam rather than toxicity was what weighed most.
    pub spam: bool,
    /// The reason code of the decision that set the status (rejections).
    pub reason: Option<ReasonCode>,
    /// The status was set by Vigie's automated moderation rather than a moderator.
    pub automated: bool,
    pub author_hold: Option<AuthorHold>,
    /// The language the author wrote in (for the notice shown to them).
    pub lang: ReaderLang,
}

impl CoralFacts {
    pub(super) fn of(
        c: &store::records::CommentRecord,
        verdict: Option<&Verdict>,
        last: Option<&store::records::DecisionRecord>,
    ) -> CoralFacts {
        let author_hold = match last.and_then(|d| d.note.as_deref()) {
            Some(crate::domain::policy::NOTE_AUTHOR_BANNED) => Some(AuthorHold::Banned),
            Some(crate::domain::policy::NOTE_AUTHOR_PREMOD) => Some(AuthorHold::Premod),
            _ => None,
        };
        let lang = verdict
            .map(|v| v.language.as_str())
            .filter(|l| *l != "und")
            .or(c.lang.as_deref());
        CoralFacts {
            status: c.status,
            detected: verdict.is_some_and(|v| v.decision != Decision::Allow),
            spam: verdict.is_some_and(spam_weighed_most),
            reason: last.and_then(|d| d.reason.as_deref()?.parse().ok()),
            automated: last.is_none_or(|d| d.source == "automated"),
            author_hold,
            lang: ReaderLang::of(lang),
        }
    }
}

/// Whether the verdict is about spam rather than toxicity: the category of the first rule that
/// held or blocked the comment, or else the higher of the two scores.
fn spam_weighed_most(v: &Verdict) -> bool {
    use crate::scoring::{Action, RuleCategory};
    v.rules
        .iter()
        .find(|h| matches!(h.action, Action::Block | Action::Hold))
        .map_or(v.scores.spam > v.scores.toxicity, |h| {
            h.category == RuleCategory::Spam
        })
}

/// Coral's answer. Coral validates it field by field and throws the whole answer away for one
/// invalid value (its custom moderation phase's response schema, re-expressed in
/// `tests/e2e/coral-response.mjs`): no empty arrays (`tags: []` voids it), no empty
/// or null strings, only the statuses, codes and flag reasons it lists. Text in
/// `rejectionReason` is shown to the author, so it is the reader's wording, never rule ids or
/// scores.
pub fn answer(f: &CoralFacts) -> Value {
    let flag = |spam: bool| {
        json!([{
            "actionType": "FLAG",
            "reason": if spam { "COMMENT_DETECTED_SPAM" } else { "COMMENT_DETECTED_TOXIC" },
        }])
    };
    match f.status {
        CommentStatus::Rejected if f.author_hold == Some(AuthorHold::Banned) => json!({
            "moderationAction": {
                "status": "REJECTED",
                "rejectionReason": {
                    "code": "OTHER",
                    "customReason": wording::banned_author_title(f.lang),
                    "detailedExplanation": wording::banned_author_notice(f.lang),
                },
            },
            "status": "REJECTED",
        }),
        CommentStatus::Rejected => {
            let reason = f.reason.unwrap_or(ReasonCode::Other);
            let (code, custom) = coral_code(reason);
            let mut rejection = json!({
                "code": code,
                "detailedExplanation": wording::rejection_notice(reason, f.automated, f.lang),
            });
            if custom.is_some() {
                rejection["customReason"] = json!(wording::rule_title(reason, f.lang));
            }
            let mut answer = json!({
                "moderationAction": { "status": "REJECTED", "rejectionReason": rejection },
                "status": "REJECTED",
            });
            // A flag says what automated detection found; a moderator's rejection has none.
            if f.automated && f.detected {
                answer["actions"] = flag(reason == ReasonCode::Spam || f.spam);
            }
            answer
        }
        CommentStatus::Pending if f.detected => json!({
            "status": "SYSTEM_WITHHELD",
            "actions": flag(f.spam),
        }),
        // Held by pre-moderation (the site's, the thread's or the author's), not the verdict.
        CommentStatus::Pending => json!({ "status": "PREMOD" }),
        CommentStatus::Published | CommentStatus::Approved | CommentStatus::Deleted => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_code_maps_to_its_own_coral_reason() {
        let mapped: Vec<_> = ReasonCode::ALL.iter().map(|r| coral_code(*r)).collect();
        for (i, a) in mapped.iter().enumerate() {
            for b in &mapped[i + 1..] {
                assert_ne!(a, b, "two reason codes map to the same Coral reason");
            }
        }
    }

    /// Every value in an answer, for the checks Coral applies to each.
    fn walk<'a>(v: &'a Value, out: &mut Vec<(String, &'a Value)>, at: String) {
        out.push((at.clone(), v));
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, x)| walk(x, out, format!("{at}.{k}"))),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out, format!("{at}[]"))),
            _ => {}
        }
    }

    #[test]
    fn no_answer_holds_an_empty_array_an_empty_string_or_null() {
        let mut seen = 0;
        for &status in CommentStatus::ALL {
            for detected in [false, true] {
                for spam in [false, true] {
                    for reason in
                        std::iter::once(None).chain(ReasonCode::ALL.iter().map(|r| Some(*r)))
                    {
                        for automated in [false, true] {
                            for author_hold in
                                [None, Some(AuthorHold::Banned), Some(AuthorHold::Premod)]
                            {
                                for lang in [ReaderLang::Fr, ReaderLang::En] {
                                    let a = answer(&CoralFacts {
                                        status,
                                        detected,
                                        spam,
                                        reason,
                                        automated,
                                        author_hold,
                                        lang,
                                    });
                                    let mut values = Vec::new();
                                    walk(&a, &mut values, String::new());
                                    for (at, v) in values {
                                        assert!(!v.is_null(), "null at {at}: {a}");
                                        assert_ne!(v.as_str(), Some(""), "empty at {at}: {a}");
                                        assert_ne!(
                                            v.as_array().map(Vec::len),
                                            Some(0),
                                            "[] at {at}: {a}"
                                        );
                                    }
                                    assert!(a.get("tags").is_none());
                                    seen += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(seen > 1000);
    }

    #[test]
    fn a_banned_authors_comment_is_rejected_for_the_author_without_a_detection_flag() {
        let a = answer(&CoralFacts {
            status: CommentStatus::Rejected,
            detected: true,
            spam: false,
            reason: Some(ReasonCode::Other),
            automated: true,
            author_hold: Some(AuthorHold::Banned),
            lang: ReaderLang::En,
        });
        assert_eq!(a["status"], "REJECTED");
        assert!(a.get("actions").is_none(), "{a}");
        assert_eq!(
            a["moderationAction"]["rejectionReason"]["customReason"],
            "Account suspended"
        );
    }
}
