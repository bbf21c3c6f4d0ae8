//! Webhook event types: what a site can subscribe to.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An event sent to a site's webhook endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A comment became visible (published or approved) from pending or new.
    CommentPublished,
    /// A comment was held for review (new and held, or hidden after reports).
    CommentHeld,
    CommentRejected,
    /// A rejected comment was made visible again (an appeal reversed, a moderator restored it).
    CommentRestored,
    ReportReceived,
    /// A report was closed by a moderator's decision: `upheld` or `dismissed`.
    ReportResolved,
    AppealDecided,
    AuthorStatusChanged,
}

impl EventType {
    pub const ALL: &'static [EventType] = &[
        EventType::CommentPublished,
        EventType::CommentHeld,
        EventType::CommentRejected,
        EventType::CommentRestored,
        EventType::ReportReceived,
        EventType::ReportResolved,
        EventType::AppealDecided,
        EventType::AuthorStatusChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CommentPublished => "comment.published",
            EventType::CommentHeld => "comment.held",
            EventType::CommentRejected => "comment.rejected",
            EventType::CommentRestored => "comment.restored",
            EventType::ReportReceived => "report.received",
            EventType::ReportResolved => "report.resolved",
            EventType::AppealDecided => "appeal.decided",
            EventType::AuthorStatusChanged => "author.status_changed",
        }
    }

    /// The event a change of a comment's status causes, if any (`None` for a new comment's
    /// `from`). Approving a published comment or escalating a held one changes nothing a
    /// reader sees: no event.
    pub fn of_status_change(
        from: Option<super::CommentStatus>,
        to: super::CommentStatus,
    ) -> Option<EventType> {
        use super::CommentStatus::*;
        match (from, to) {
            (Some(Rejected | Deleted), Published | Approved) => Some(EventType::CommentRestored),
            (Some(Published | Approved), Published | Approved) => None,
            (_, Published | Approved) => Some(EventType::CommentPublished),
            (Some(Pending), Pending) => None,
            (_, Pending) => Some(EventType::CommentHeld),
            (Some(Rejected), Rejected) => None,
            (_, Rejected) => Some(EventType::CommentRejected),
            (_, Deleted) => None,
        }
    }
}

impl std::str::FromStr for EventType {
    type Err = super::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| super::UnknownValue {
                kind: "event type",
                value: s.chars().take(64).collect(),
            })
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(EventType::ALL.iter().map(|e| e.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for EventType {}

#[cfg(test)]
mod tests {
    use super::EventType;
    use crate::domain::CommentStatus::*;

    #[test]
    fn event_types_round_trip_through_their_text() {
        for e in EventType::ALL {
            assert_eq!(e.as_str().parse::<EventType>().unwrap(), *e);
            let json = serde_json::to_string(e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
        assert!("comment.deleted".parse::<EventType>().is_err());
    }

    #[test]
    fn status_changes_map_to_the_events_readers_would_notice() {
        let ev = EventType::of_status_change;
        assert_eq!(ev(None, Published), Some(EventType::CommentPublished));
        assert_eq!(ev(None, Pending), Some(EventType::CommentHeld));
        assert_eq!(ev(None, Rejected), Some(EventType::CommentRejected));
        assert_eq!(
            ev(Some(Pending), Approved),
            Some(EventType::CommentPublished)
        );
        assert_eq!(ev(Some(Published), Pending), Some(EventType::CommentHeld));
        assert_eq!(
            ev(Some(Rejected), Approved),
            Some(EventType::CommentRestored)
        );
        assert_eq!(ev(Some(Published), Approved), None);
        assert_eq!(ev(Some(Pending), Pending), None);
        assert_eq!(ev(Some(Pending), Deleted), None);
    }
}
