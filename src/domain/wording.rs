//! What an author is told about a decision on their comment, in their language: the wording
//! of a statement of reasons for readers, never rule ids, scores or thresholds (those are for
//! moderators). Integrations that show Vigie's reasons to the author (Coral Talk's rejection
//! notice) take their text from here.

use super::ReasonCode;

/// The languages Vigie writes to readers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderLang {
    Fr,
    En,
}

impl ReaderLang {
    /// The reader's language from a comment's language code: French for `fr`, English for
    /// `en`; any other or unknown language gets French, the language of the sites Vigie is
    /// written for first.
    pub fn of(lang: Option<&str>) -> ReaderLang {
        match lang.map(|l| l.get(..2).unwrap_or(l).to_ascii_lowercase()) {
            Some(l) if l == "en" => ReaderLang::En,
            _ => ReaderLang::Fr,
        }
    }
}

/// The house rule a reason code stands for, as a reader would read it (a short noun phrase,
/// usable as a title).
pub fn rule_title(reason: ReasonCode, lang: ReaderLang) -> &'static str {
    use ReasonCode::*;
    match lang {
        ReaderLang::Fr => match reason {
            Spam => "Publicité ou spam",
            Insult => "Attaque personnelle ou harcèlement",
            Hate => "Propos haineux envers un groupe",
            Threat => "Menace",
            Obscene => "Propos obscènes",
            Illegal => "Contenu illicite",
            OffTopic => "Hors sujet",
            PersonalData => "Données personnelles d'autrui",
            Misinformation => "Fausse information",
            Other => "Non-respect de la charte des commentaires",
        },
        ReaderLang::En => match reason {
            Spam => "Advertising or spam",
            Insult => "Personal attack or harassment",
            Hate => "Hateful speech against a group",
            Threat => "Threat",
            Obscene => "Obscene language",
            Illegal => "Illegal content",
            OffTopic => "Off topic",
            PersonalData => "Other people's personal data",
            Misinformation => "False information",
            Other => "Breach of the comment policy",
        },
    }
}

/// Why a comment was not published, for its author: the rule it breaks, who decided
/// (automated moderation or the editorial team) and that the decision can be appealed.
pub fn rejection_notice(reason: ReasonCode, automated: bool, lang: ReaderLang) -> String {
    let rule = rule_title(reason, lang);
    match (lang, automated) {
        (ReaderLang::Fr, true) => format!(
            "Votre commentaire n'a pas été publié : il ne respecte pas la charte des \
             commentaires ({}). Cette décision a été prise par notre modération automatique ; \
             vous pouvez la contester auprès de la rédaction.",
            lowercase_first(rule)
        ),
        (ReaderLang::Fr, false) => format!(
            "Votre commentaire a été retiré par la rédaction : il ne respecte pas la charte \
             des commentaires ({}). Vous pouvez contester cette décision.",
            lowercase_first(rule)
        ),
        (ReaderLang::En, true) => format!(
            "Your comment was not published: it breaks the comment policy ({}). This decision \
             was taken by our automated moderation; you can appeal it to the editorial team.",
            lowercase_first(rule)
        ),
        (ReaderLang::En, false) => format!(
            "Your comment was removed by the editorial team: it breaks the comment policy \
             ({}). You can appeal this decision.",
            lowercase_first(rule)
        ),
    }
}

/// Why a banned author's comment was not published.
pub fn banned_author_notice(lang: ReaderLang) -> &'static str {
    match lang {
        ReaderLang::Fr => {
            "Votre commentaire n'a pas été publié : votre compte ne peut plus commenter sur ce \
             site pour le moment, à la suite d'une décision de la rédaction. Vous pouvez \
             contester cette décision."
        }
        ReaderLang::En => {
            "Your comment was not published: your account may not comment on this site for \
             now, following a decision of the editorial team. You can appeal this decision."
        }
    }
}

/// The title given with [`banned_author_notice`].
pub fn banned_author_title(lang: ReaderLang) -> &'static str {
    match lang {
        ReaderLang::Fr => "Compte suspendu",
        ReaderLang::En => "Account suspended",
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_title_in_both_languages() {
        for lang in [ReaderLang::Fr, ReaderLang::En] {
            let titles: Vec<_> = ReasonCode::ALL
                .iter()
                .map(|r| rule_title(*r, lang))
                .collect();
            for (i, t) in titles.iter().enumerate() {
                assert!(!t.trim().is_empty());
                assert!(!titles[i + 1..].contains(t), "{t} given twice");
            }
        }
    }

    #[test]
    fn notices_speak_to_the_reader_without_internal_words() {
        for lang in [ReaderLang::Fr, ReaderLang::En] {
            for &reason in ReasonCode::ALL {
                for automated in [true, false] {
                    let n = rejection_notice(reason, automated, lang);
                    assert!(
                        n.contains(&lowercase_first(rule_title(reason, lang))),
                        "{n}"
                    );
                    for internal in ["rule", "règle", "threshold", "seuil", "score", "_"] {
                        assert!(!n.to_lowercase().contains(internal), "{internal} in {n}");
                    }
                    assert!(!n.chars().any(|c| c.is_ascii_digit()), "{n}");
                }
            }
        }
        assert!(rejection_notice(ReasonCode::Spam, true, ReaderLang::En).contains("automated"));
        assert!(rejection_notice(ReasonCode::Threat, false, ReaderLang::Fr).contains("rédaction"));
    }

    #[test]
    fn the_readers_language_comes_from_the_comment() {
        assert_eq!(ReaderLang::of(Some("en")), ReaderLang::En);
        assert_eq!(ReaderLang::of(Some("EN-gb")), ReaderLang::En);
        assert_eq!(ReaderLang::of(Some("fr")), ReaderLang::Fr);
        assert_eq!(ReaderLang::of(Some("und")), ReaderLang::Fr);
        assert_eq!(ReaderLang::of(None), ReaderLang::Fr);
    }
}
