//! Pure types and rules: the words of moderation as Rust types, and the parsing of untrusted
//! input into them. Nothing here does I/O.

pub mod accounts;
pub mod dsa;
pub mod events;
pub mod ids;
pub mod intake;
pub mod policy;
pub mod report_weight;
pub mod totp;
pub mod wording;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use ids::*;

/// Declares a closed set of lower-case string values stored as TEXT and sent as JSON strings.
/// Records can hold the enum itself: it loads from and stores to a TEXT column on either
/// backend, and a stored text that is not one of the values fails the load (never a silent
/// default).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                Ok(text.parse::<$name>()?)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        kind: stringify!($name),
                        value: s.chars().take(64).collect(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A stored or sent text that is not one of the allowed values.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

text_enum! {
    /// What a site does with a comment in a language its model does not score: hold it for
    /// review (the default), let the rules alone decide, or reject it.
    UnscoredLanguage { Review => "review", Allow => "allow", Reject => "reject" }
}

text_enum! {
    /// What an API key may do. Admin includes everything a moderator may do.
    Role { Ingest => "ingest", Moderator => "moderator", Admin => "admin" }
}

text_enum! {
    /// Status of a comment.
    CommentStatus {
        Pending => "pending",
        Published => "published",
        Approved => "approved",
        Rejected => "rejected",
        Deleted => "deleted",
    }
}

impl CommentStatus {
    /// Whether the site shows the comment to readers.
    pub fn is_visible(self) -> bool {
        matches!(self, CommentStatus::Published | CommentStatus::Approved)
    }
}

text_enum! {
    /// `pre` holds every comment for review; `post` publishes unless scoring objects.
    ModerationMode { Pre => "pre", Post => "post" }
}

text_enum! {
    /// Whether a thread accepts new comments.
    ThreadStatus { Open => "open", Closed => "closed" }
}

text_enum! {
    /// Who made a decision.
    DecisionSource { Automated => "automated", Human => "human" }
}

text_enum! {
    /// Reason codes shared by decisions, reports and statements of reasons. Stable: sites map
    /// them to their own words.
    ReasonCode {
        Spam => "spam",
        Insult => "insult",
        Hate => "hate",
        Threat => "threat",
        Obscene => "obscene",
        Illegal => "illegal",
        OffTopic => "off_topic",
        PersonalData => "personal_data",
        Misinformation => "misinformation",
        Other => "other",
    }
}

text_enum! {
    /// Status of an author on one site; `deleted` only by erasure (`POST /v1/authors/{id}/erase`).
    AuthorStatus {
        Active => "active",
        Premod => "premod",
        Banned => "banned",
        Deleted => "deleted",
    }
}

text_enum! {
    /// The status of a report: `open` until a decision on the comment upholds or dismisses it
    /// (an appeal reversed by a reporter upholds it too).
    ReportStatus { Open => "open", Upheld => "upheld", Dismissed => "dismissed" }
}

text_enum! {
    /// The status of an appeal.
    AppealStatus { Open => "open", Upheld => "upheld", Reversed => "reversed" }
}

// `registered`: known, neither scoring nor shadowing; `shadow`: scores every new comment beside
// the active model, without deciding; `active`: scores and decides; `retired`: was active,
// replaced or rolled back. (Not doc comments: the OpenAPI document shows the type's own.)
text_enum! {
    /// Where a registered model stands on its site.
    ModelStatus {
        Registered => "registered",
        Shadow => "shadow",
        Active => "active",
        Retired => "retired",
    }
}

text_enum! {
    /// Where a backtest job stands: `queued`, `running`, then `done`, `cancelled` or `failed`
    /// (at most one queued or running per site).
    BacktestStatus {
        Queued => "queued",
        Running => "running",
        Done => "done",
        Cancelled => "cancelled",
        Failed => "failed",
    }
}

text_enum! {
    /// The status of a webhook delivery.
    DeliveryStatus { Pending => "pending", Delivered => "delivered", Failed => "failed" }
}

text_enum! {
    /// Where an e-mail of the mail outbox stands: `pending` (to send, or retried), `sent`,
    /// `failed` (retries given up) or `dropped` (its account is no longer active).
    MailStatus { Pending => "pending", Sent => "sent", Failed => "failed", Dropped => "dropped" }
}

/// The status the site policy gives a new comment before any scoring.
pub fn initial_status(mode: ModerationMode) -> CommentStatus {
    match mode {
        ModerationMode::Pre => CommentStatus::Pending,
        ModerationMode::Post => CommentStatus::Published,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_enum_round_trips_through_its_text() {
        for s in CommentStatus::ALL {
            assert_eq!(s.as_str().parse::<CommentStatus>().unwrap(), *s);
        }
        for r in ReasonCode::ALL {
            assert_eq!(r.as_str().parse::<ReasonCode>().unwrap(), *r);
        }
        assert!("Pending".parse::<CommentStatus>().is_err());
    }

    #[test]
    fn only_published_and_approved_comments_are_visible() {
        let visible: Vec<_> = CommentStatus::ALL
            .iter()
            .filter(|s| s.is_visible())
            .collect();
        assert_eq!(
            visible,
            [&CommentStatus::Published, &CommentStatus::Approved]
        );
    }
}

text_enum! {
    /// The moderators' queues.
    Queue {
        Pending => "pending",
        Reported => "reported",
        Unmoderated => "unmoderated",
        Rejected => "rejected",
        Approved => "approved",
    }
}

impl Queue {
    /// The comment status a queue holds; `None` for `reported`, which is defined by open
    /// reports rather than by status.
    pub fn status(self) -> Option<CommentStatus> {
        match self {
            Queue::Pending => Some(CommentStatus::Pending),
            Queue::Unmoderated => Some(CommentStatus::Published),
            Queue::Rejected => Some(CommentStatus::Rejected),
            Queue::Approved => Some(CommentStatus::Approved),
            Queue::Reported => None,
        }
    }
}

text_enum! {
    /// What a moderator does to a comment.
    Action {
        Approve => "approve",
        Reject => "reject",
        Escalate => "escalate",
        Restore => "restore",
    }
}

/// Where a comment goes when `action` is applied to it: the state machine of moderation.
/// `None` is a transition that does not exist (answered 409).
pub fn transition(action: Action, from: CommentStatus, escalated: bool) -> Option<CommentStatus> {
    use CommentStatus::*;
    match (action, from) {
        (Action::Approve, Pending | Published) => Some(Approved),
        (Action::Reject, Pending | Published | Approved) => Some(Rejected),
        (Action::Escalate, Pending | Published) if !escalated => Some(Pending),
        (Action::Restore, Rejected) => Some(Approved),
        _ => None,
    }
}

#[cfg(test)]
mod transition_tests {
    use super::*;

    #[test]
    fn deleted_comments_accept_no_action() {
        for a in Action::ALL {
            assert_eq!(transition(*a, CommentStatus::Deleted, false), None);
        }
    }

    #[test]
    fn restore_only_undoes_a_rejection() {
        assert_eq!(
            transition(Action::Restore, CommentStatus::Rejected, false),
            Some(CommentStatus::Approved)
        );
        for s in [
            CommentStatus::Pending,
            CommentStatus::Published,
            CommentStatus::Approved,
        ] {
            assert_eq!(transition(Action::Restore, s, false), None);
        }
    }

    #[test]
    fn escalating_twice_or_approving_twice_is_refused() {
        assert_eq!(
            transition(Action::Escalate, CommentStatus::Pending, true),
            None
        );
        assert_eq!(
            transition(Action::Approve, CommentStatus::Approved, false),
            None
        );
        assert_eq!(
            transition(Action::Approve, CommentStatus::Pending, true),
            Some(CommentStatus::Approved)
        );
    }
}
