//! A rule file as written: the TOML sections, deserialised with their spans (for the line
//! numbers of errors) and no unknown fields. `compile` checks them and builds the rule set.

use serde::Deserialize;
use toml::Spanned;

/// The whole file: an optional name and each section.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) name: Option<String>,
    /// Named regexes that `pattern`, `unless` and `mention_unless` values refer to as `$name`
    /// (a pattern several rules share is written once).
    #[serde(default)]
    pub(super) patterns: std::collections::BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) words: Vec<RawWords>,
    #[serde(default)]
    pub(super) regex: Vec<RawRegex>,
    #[serde(default)]
    pub(super) links: Vec<RawLinks>,
    #[serde(default)]
    pub(super) shouting: Vec<RawShout>,
    #[serde(default)]
    pub(super) repeated_post: Option<RawCommon>,
    #[serde(default)]
    pub(super) new_author: Option<RawCount>,
    #[serde(default)]
    pub(super) recent_rejections: Option<RawCount>,
    #[serde(default)]
    pub(super) author_rate: Option<RawRate>,
    #[serde(default)]
    pub(super) mentions: Option<RawMentions>,
}

/// `[mentions]`: how much the classifier's evidence between quotation marks counts in a
/// comment that reports, condemns or discusses what it quotes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMentions {
    /// 0.0 (quoted words are no evidence) to 1.0 (as much as the writer's own words).
    pub(super) weight: Spanned<f32>,
    /// Matches the writer's own words (outside the quotes) when they warn about a scam or spam:
    /// the spam evidence between the quotes then counts for `weight` too (any language).
    #[serde(default)]
    pub(super) spam_context: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) fr: Option<RawMentionLang>,
    #[serde(default)]
    pub(super) en: Option<RawMentionLang>,
}

/// `[mentions.fr]`, `[mentions.en]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMentionLang {
    /// Matches the writer's own words (the text outside the quotes) when they report, condemn
    /// or discuss.
    pub(super) context: Spanned<String>,
    /// Matches the words around a quote, the quote written `«Q»`, when it is addressed to
    /// someone ("t'es qu'un «Q»", "you're a «Q»"): a use in scare quotes, not a mention.
    #[serde(default)]
    pub(super) addressed: Option<Spanned<String>>,
    /// Matches the words around an unquoted term of a word list with `mention_unless`, the term
    /// written `«Q»`, when they mention it ("le mot «Q»", "the word «Q»").
    #[serde(default)]
    pub(super) framed: Option<Spanned<String>>,
    /// Matches the writer's words when they condemn what others say without quotation marks
    /// ("arrêtez de dire que …", "stop saying that …"): the capture group `q` of each match is
    /// read as a quote, whatever `context` says (the frame itself condemns).
    #[serde(default)]
    pub(super) reported: Option<Spanned<String>>,
    /// Matches a statement reported in order to condemn it, the condemnation after it
    /// ("traiter X de Y, c'est indigne", "calling X Y is vile", "menacer de … vous vaudra un
    /// procès"): each capture group whose name starts with `q` is read as a quote, as
    /// `reported`'s `q` is.
    #[serde(default)]
    pub(super) condemned: Option<Spanned<String>>,
}

fn default_rate_window() -> u32 {
    60
}

/// `[author_rate]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRate {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    /// Comments allowed within the window.
    pub(super) max: u32,
    #[serde(default = "default_rate_window")]
    pub(super) window_secs: u32,
}

/// `[repeated_post]`: the fields every rule has.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCommon {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) lang: Option<Spanned<String>>,
}

/// One `[[words]]` list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWords {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) lang: Option<Spanned<String>>,
    pub(super) terms: Spanned<Vec<Spanned<String>>>,
    /// A term between quotation marks is a mention, not a use, when this pattern also matches
    /// the original text (words that report, condemn or discuss): the hit is dropped.
    #[serde(default)]
    pub(super) mention_unless: Option<Spanned<String>>,
}

/// One `[[regex]]` rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegex {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) lang: Option<Spanned<String>>,
    pub(super) pattern: Spanned<String>,
    /// "original" (default) or "normalised"
    #[serde(default)]
    pub(super) on: Option<Spanned<String>>,
    /// Only run this regex when one of these words (normalised tokens) is present: a cheap
    /// gate for large patterns.
    #[serde(default)]
    pub(super) requires: Option<Spanned<Vec<String>>>,
    /// No hit when this regex matches the ORIGINAL text (e.g. a reader quoting a threat between
    /// guillemets to report it): quotation marks do not survive normalisation.
    #[serde(default)]
    pub(super) unless: Option<Spanned<String>>,
    /// Where `unless` is read: the sentence of the match and this many sentences either side
    /// (a threat in the middle of a long complaint about a football match is no sport banter).
    /// Default: the whole comment.
    #[serde(default)]
    pub(super) unless_sentences: Option<Spanned<u8>>,
    /// A match between quotation marks (or reported, or framed: `[mentions]`) is a mention, not
    /// a use, when this pattern matches the writer's own words (the text outside the quotes):
    /// that match is no hit ("Statements like \"X are scum\" are hurtful.").
    #[serde(default)]
    pub(super) mention_unless: Option<Spanned<String>>,
    /// Where a match stands to be a mention: "inside" (default) the quotes, or "overlapping"
    /// them (a threat whose verb is quoted and its object not: « faire sauter » la préfecture).
    #[serde(default)]
    pub(super) quoted: Option<Spanned<String>>,
    /// A faster regex on the same text that every match of `pattern` contains (no word
    /// boundary, so the lazy DFA runs it on accented text too): `pattern` runs only where it
    /// matches.
    #[serde(default)]
    pub(super) prefilter: Option<Spanned<String>>,
}

/// One `[[links]]` rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLinks {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    pub(super) min: u32,
}

/// One `[[shouting]]` rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShout {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    #[serde(default = "default_min_letters")]
    pub(super) min_letters: u32,
    pub(super) ratio: f32,
}

fn default_min_letters() -> u32 {
    12
}

/// `[new_author]` or `[recent_rejections]`: a count from which the rule fires.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCount {
    pub(super) id: Spanned<String>,
    pub(super) action: Spanned<String>,
    #[serde(default)]
    pub(super) category: Option<Spanned<String>>,
    pub(super) n: u32,
}
