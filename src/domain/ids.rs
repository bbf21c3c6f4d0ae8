//! Typed ids (as Lemmy's `newtypes.rs`): one newtype per kind of row, so that a comment's id
//! cannot be passed where a site's is expected. Each loads from and stores to a BIGINT column on
//! either backend and is sent as the bare number; response bodies still carry `i64` (the OpenAPI
//! document describes them), converted at the route.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares id newtypes over `i64`, stored as BIGINT and serialised and displayed as the bare
/// number. (`tracing::Value` is sealed: a span field takes `id.0`, which logs the same integer.)
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB> for $name
        where
            DB: diesel::backend::Backend,
            i64: diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                <i64 as diesel::deserialize::FromSql<diesel::sql_types::BigInt, DB>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::BigInt, DB> for $name
        where
            DB: diesel::backend::Backend,
            i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <i64 as diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>>::to_sql(
                    &self.0, out,
                )
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )+};
}

id_type! {
    /// A site (`sites.id`): the tenant every other row belongs to.
    SiteId;
    /// A discussion thread of a site (`threads.id`).
    ThreadId;
    /// An author known to a site (`authors.id`).
    AuthorId;
    /// A comment (`comments.id`).
    CommentId;
    /// A decision on a comment (`decisions.id`).
    DecisionId;
    /// A report on a comment (`reports.id`).
    ReportId;
    /// A reporter's weighted identity on a site (`reporters.id`).
    ReporterId;
    /// An appeal against a decision (`appeals.id`).
    AppealId;
    /// A statement of reasons (`statements.id`).
    StatementId;
    /// A text a comment had before an edit (`comment_revisions.id`).
    RevisionId;
    /// An API key, also the principal of a named account (`api_keys.id`).
    ApiKeyId;
    /// A change of an author's status (`author_actions.id`).
    AuthorActionId;
    /// A named account (`accounts.id`).
    AccountId;
    /// A registered model of a site (`models.id`).
    ModelId;
    /// A backtest job (`backtests.id`).
    BacktestId;
    /// A webhook endpoint (`webhook_endpoints.id`).
    EndpointId;
    /// A webhook delivery (`webhook_deliveries.id`).
    DeliveryId;
    /// An e-mail of the mail outbox (`mail_outbox.id`).
    MailId;
    /// A moderator's note about an author (`author_notes.id`).
    NoteId;
    /// A Perspective feedback row (`perspective_feedback.id`).
    FeedbackId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_sent_and_read_as_the_bare_number() {
        let id = CommentId(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<CommentId>("42").unwrap(), id);
        assert_eq!(
            serde_json::from_str::<Option<SiteId>>("null").unwrap(),
            None
        );
        assert!(serde_json::from_str::<CommentId>("\"42\"").is_err());
    }

    #[test]
    fn an_id_displays_as_the_bare_number() {
        assert_eq!(SiteId(7).to_string(), "7");
        assert_eq!(format!("comment {}", CommentId(-1)), "comment -1");
        // Width and fill reach the number (the CLI's tables, report references).
        assert_eq!(
            format!("{:>5}|{:06}", ApiKeyId(42), ReportId(7)),
            "   42|000007"
        );
    }
}
