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

/// The 27 EU member states, as the Transparency Database's `territorial_scope` spells them
/// (ISO 3166-1 alpha-2): where a restriction applies unless the site says otherwise.
pub const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The other EEA states, also accepted in a territorial scope.
pub const EEA_NON_EU_STATES: [&str; 3] = ["IS", "LI", "NO"];

/// A site's territorial scope from what an admin sent: upper-cased, sorted, each an EU or EEA
/// state, at least one; or why not.
pub fn parse_territorial_scope(codes: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let c = code.to_ascii_uppercase();
        if !EU_MEMBER_STATES.contains(&c.as_str()) && !EEA_NON_EU_STATES.contains(&c.as_str()) {
            return Err(format!(
                "`{}` is not the two-letter code of an EU or EEA state",
                code.chars().take(10).collect::<String>()
            ));
        }
        out.push(c);
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err("must name at least one state".into());
    }
    Ok(out)
}

/// The scope stored for a site (codes separated by spaces; `None`: the EU member states).
pub fn territorial_scope_of(stored: Option<&str>) -> Vec<String> {
    match stored {
        Some(s) if !s.trim().is_empty() => s.split_whitespace().map(str::to_owned).collect(),
        _ => EU_MEMBER_STATES.iter().map(|c| (*c).to_owned()).collect(),
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
    /// The language of the text (sent by the site, else detected); a BCP 47 tag or ISO 639-1.
    pub content_language: Option<&'a str>,
    /// Member states where the restriction applies.
    pub territorial_scope: &'a [String],
    pub content_date: chrono::NaiveDateTime,
    pub application_date: chrono::NaiveDateTime,
    /// The site's own words on how to appeal (its `appeal_text`), if set.
    pub how_to_appeal: Option<&'a str>,
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

/// What happened, in the statement's `decision_facts`: the restriction and who noticed.
fn decision_facts(f: &StatementFacts<'_>) -> &'static str {
    match (f.restriction, f.notice_source) {
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
    let facts = decision_facts(f);
    let source = match f.notice_source {
        Some(ReportSource::TrustedFlagger) => "SOURCE_TRUSTED_FLAGGER",
        Some(ReportSource::Reader) | Some(ReportSource::Authority) => "SOURCE_ARTICLE_16",
        None => "SOURCE_VOLUNTARY",
    };
    json!({
        "uuid": f.uuid,
        // The platform's own identifier of the statement, unique across its sites.
        "puid": format!("{}-{}", f.platform, f.uuid),
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
        // ISO 639-1, upper case, as the Transparency Database wants it
        "content_language": f
            .content_language
            .and_then(|l| l.split('-').next())
            .filter(|l| l.len() == 2)
            .map(str::to_ascii_uppercase),
        "territorial_scope": f.territorial_scope,
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
        // The site's own instructions (where to write, which form), when it set them.
        "how_to_appeal": f.how_to_appeal,
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
            territorial_scope: &[],
            content_date: t,
            application_date: t,
            how_to_appeal: None,
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
    fn statements_carry_a_puid_a_territorial_scope_and_a_two_letter_language() {
        let eu = territorial_scope_of(None);
        let mut f = facts(ReasonCode::Spam);
        f.territorial_scope = &eu;
        f.content_language = Some("fr-BE");
        let s = statement(&f);
        assert_eq!(s["puid"], "numerama-u");
        assert_eq!(s["territorial_scope"].as_array().unwrap().len(), 27);
        assert_eq!(s["content_language"], "FR");
    }

    #[test]
    fn a_territorial_scope_takes_eu_and_eea_codes_only() {
        let codes = |l: &[&str]| l.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_territorial_scope(&codes(&["fr", "BE", "no", "FR"])).unwrap(),
            codes(&["BE", "FR", "NO"])
        );
        assert!(parse_territorial_scope(&codes(&["FR", "US"])).is_err());
        assert!(parse_territorial_scope(&codes(&["EL"])).is_err());
        assert!(parse_territorial_scope(&[]).is_err());
        assert_eq!(territorial_scope_of(Some("BE FR")), codes(&["BE", "FR"]));
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
