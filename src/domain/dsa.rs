//! EU Digital Services Act vocabulary: statements of reasons (Art. 17) in the shape of the DSA
//! Transparency Database, built from facts only (no personal data goes in).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ReasonCode;

/// Where a report came from (Art. 16 notice, Art. 22 trusted flagger, an authority order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportSource {
    Reader,
    TrustedFlagger,
    Authority,
}

impl ReportSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportSource::Reader => "reader",
            ReportSource::TrustedFlagger => "trusted_flagger",
            ReportSource::Authority => "authority",
        }
    }
}

/// What was restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restriction {
    /// The comment was rejected (removed).
    Removed,
    /// The comment was hidden pending review.
    Hidden,
    /// The author was banned.
    AccountSuspended,
    /// The author's comments are all held for review.
    AccountPremoderated,
}

/// The facts a statement of reasons is built from.
#[derive(Debug, Clone)]
pub struct StatementFacts<'a> {
    pub uuid: &'a str,
    pub platform: &'a str,
    pub restriction: Restriction,
    pub reason: ReasonCode,
    /// For `illegal`: the law invoked and the explanation.
    pub legal_ground: Option<&'a str>,
    pub explanation: Option<&'a str>,
    /// Free text given to the author by the moderator.
    pub note_to_author: Option<&'a str>,
    pub automated_detection: bool,
    pub automated_decision: bool,
    /// The restriction followed a notice (a reader's report).
    pub notice_source: Option<ReportSource>,
    pub content_language: Option<&'a str>,
    pub content_date: chrono::NaiveDateTime,
    pub application_date: chrono::NaiveDateTime,
}

/// The Transparency Database category closest to a reason code.
pub fn category(reason: ReasonCode) -> &'static str {
    match reason {
        ReasonCode::Spam => "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        ReasonCode::Insult => "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ReasonCode::Hate => "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        ReasonCode::Threat => "STATEMENT_CATEGORY_VIOLENCE",
        ReasonCode::Obscene => "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        ReasonCode::Illegal => "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        ReasonCode::OffTopic => "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        ReasonCode::PersonalData => "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        ReasonCode::Misinformation => {
            "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"
        }
        ReasonCode::Other => "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    }
}

/// The house-rules clause a reason code refers to (the site maps these to its own charter).
fn house_rule(reason: ReasonCode) -> &'static str {
    match reason {
        ReasonCode::Spam => "Charte des commentaires : pas de publicité ni de spam",
        ReasonCode::Insult => {
            "Charte des commentaires : pas d'attaque personnelle ni de harcèlement"
        }
        ReasonCode::Hate => "Charte des commentaires : pas de propos haineux envers un groupe",
        ReasonCode::Threat => "Charte des commentaires : pas de menace",
        ReasonCode::Obscene => "Charte des commentaires : pas d'obscénité",
        ReasonCode::Illegal => "Contenu illicite",
        ReasonCode::OffTopic => "Charte des commentaires : rester dans le sujet de l'article",
        ReasonCode::PersonalData => {
            "Charte des commentaires : pas de données personnelles d'autrui"
        }
        ReasonCode::Misinformation => "Charte des commentaires : pas de fausses informations",
        ReasonCode::Other => "Charte des commentaires",
    }
}

/// A statement of reasons as JSON, in the Transparency Database field names.
pub fn statement(f: &StatementFacts<'_>) -> serde_json::Value {
    use serde_json::json;
    let illegal = f.reason == ReasonCode::Illegal;
    let (visibility, account, provision) = match f.restriction {
        Restriction::Removed => (json!(["DECISION_VISIBILITY_CONTENT_REMOVED"]), None, None),
        Restriction::Hidden => (json!(["DECISION_VISIBILITY_CONTENT_DISABLED"]), None, None),
        Restriction::AccountSuspended => (json!([]), Some("DECISION_ACCOUNT_SUSPENDED"), None),
        Restriction::AccountPremoderated => (
            json!([]),
            None,
            Some("DECISION_PROVISION_PARTIAL_SUSPENSION"),
        ),
    };
    let facts = match (f.restriction, f.notice_source) {
        (Restriction::Hidden, Some(ReportSource::Reader)) => {
            "Comment hidden pending review after reader reports passed the site's threshold."
        }
        (Restriction::Hidden, Some(ReportSource::TrustedFlagger)) => {
            "Comment hidden pending review after reports, including a notice from a trusted \
             flagger (DSA Art. 22), passed the site's threshold."
        }
        (Restriction::Hidden, Some(ReportSource::Authority)) => {
            "Comment hidden pending review after reports, including a notice from an \
             authority, passed the site's threshold."
        }
        (Restriction::Removed, Some(ReportSource::Reader)) => {
            "Comment removed after review of a notice."
        }
        (Restriction::Removed, Some(ReportSource::TrustedFlagger)) => {
            "Comment removed after review of a notice from a trusted flagger (DSA Art. 22), \
             handled with priority."
        }
        (Restriction::Removed, Some(ReportSource::Authority)) => {
            "Comment removed after review of a notice from an authority, handled with priority."
        }
        (Restriction::Removed, None) => {
            "Comment removed on review by the editorial team or its automated moderation."
        }
        (Restriction::Hidden, None) => "Comment held for review.",
        (Restriction::AccountSuspended, _) => "Author's ability to comment suspended.",
        (Restriction::AccountPremoderated, _) => {
            "Author's comments held for review before publication."
        }
    };
    let source = match f.notice_source {
        Some(ReportSource::TrustedFlagger) => "SOURCE_TRUSTED_FLAGGER",
        Some(ReportSource::Reader) | Some(ReportSource::Authority) => "SOURCE_ARTICLE_16",
        None => "SOURCE_VOLUNTARY",
    };
    json!({
        "uuid": f.uuid,
        "platform_name": f.platform,
        "decision_visibility": visibility,
        "decision_account": account,
        "decision_provision": provision,
        "decision_ground": if illegal { "DECISION_GROUND_ILLEGAL_CONTENT" } else { "DECISION_GROUND_INCOMPATIBLE_CONTENT" },
        "illegal_content_legal_ground": if illegal { f.legal_ground } else { None },
        "illegal_content_explanation": if illegal { f.explanation.or(f.note_to_author) } else { None },
        "incompatible_content_ground": if illegal { None } else { Some(house_rule(f.reason)) },
        "incompatible_content_explanation": if illegal { None } else { f.note_to_author },
        "category": category(f.reason),
        "reason_code": f.reason.as_str(),
        "content_type": ["CONTENT_TYPE_TEXT"],
        "content_language": f.content_language.map(|l| l.to_uppercase()),
        "content_date": f.content_date.format("%Y-%m-%d").to_string(),
        "application_date": f.application_date.format("%Y-%m-%d").to_string(),
        "decision_facts": facts,
        "source_type": source,
        "automated_detection": if f.automated_detection { "Yes" } else { "No" },
        "automated_decision": if f.automated_decision { "AUTOMATED_DECISION_FULLY" } else { "AUTOMATED_DECISION_NOT_AUTOMATED" },
        "redress": [
            "internal complaint handling (appeal, within 6 months)",
            "out-of-court dispute settlement (DSA Art. 21)",
            "judicial redress"
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(reason: ReasonCode) -> StatementFacts<'static> {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 2, 16)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        StatementFacts {
            uuid: "u",
            platform: "numerama",
            restriction: Restriction::Removed,
            reason,
            legal_ground: Some("Loi du 29 juillet 1881, art. 29"),
            explanation: Some("Diffamation envers une personne"),
            note_to_author: Some("Attaque personnelle"),
            automated_detection: false,
            automated_decision: false,
            notice_source: Some(ReportSource::Reader),
            content_language: Some("fr"),
            content_date: t,
            application_date: t,
        }
    }

    #[test]
    fn house_rule_statements_name_the_clause_and_no_legal_ground() {
        let s = statement(&facts(ReasonCode::Insult));
        assert_eq!(s["decision_ground"], "DECISION_GROUND_INCOMPATIBLE_CONTENT");
        assert!(s["illegal_content_legal_ground"].is_null());
        assert!(s["incompatible_content_ground"]
            .as_str()
            .unwrap()
            .contains("attaque"));
        assert_eq!(s["source_type"], "SOURCE_ARTICLE_16");
        assert_eq!(s["content_language"], "FR");
    }

    #[test]
    fn a_trusted_flaggers_notice_is_named_in_the_statement() {
        let s = statement(&StatementFacts {
            notice_source: Some(ReportSource::TrustedFlagger),
            ..facts(ReasonCode::Hate)
        });
        assert_eq!(s["source_type"], "SOURCE_TRUSTED_FLAGGER");
        assert!(s["decision_facts"]
            .as_str()
            .unwrap()
            .contains("trusted flagger"));
    }

    #[test]
    fn illegal_statements_carry_the_legal_ground() {
        let s = statement(&facts(ReasonCode::Illegal));
        assert_eq!(s["decision_ground"], "DECISION_GROUND_ILLEGAL_CONTENT");
        assert_eq!(
            s["illegal_content_legal_ground"],
            "Loi du 29 juillet 1881, art. 29"
        );
        assert!(s["incompatible_content_ground"].is_null());
    }
}
