//! Keyword, regex, shape and behaviour rules, configured from TOML.
//!
//! Word and phrase lists match whole normalised tokens only (never substrings): `con` does not
//! hit "connexion" and `cul` does not hit "cul-de-sac" (a hyphenated compound is one token).
//!
//! This module holds the compiled rule set and the types a verdict reports; `raw` reads a TOML
//! rule file, `compile` turns it into a [`RuleSet`] and `eval` runs one against a comment.

mod compile;
mod eval;
mod raw;

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::hash::FxHashMap;

pub use eval::RuleInput;

/// What a rule asks for when it fires. Ordered: `Flag < Hold < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Evidence only: feeds the classifier, does not change the verdict by itself.
    Flag,
    /// At least `review`.
    Hold,
    /// `reject`.
    Block,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        match s {
            "flag" => Some(Action::Flag),
            "hold" => Some(Action::Hold),
            "block" => Some(Action::Block),
            _ => None,
        }
    }
}

/// Category a rule gives evidence for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleCategory {
    Toxicity,
    Spam,
    /// Author behaviour and shape (shouting, repeated posts, history).
    Behaviour,
}

impl RuleCategory {
    fn parse(s: &str) -> Option<RuleCategory> {
        match s {
            "toxicity" => Some(RuleCategory::Toxicity),
            "spam" => Some(RuleCategory::Spam),
            "behaviour" | "behavior" => Some(RuleCategory::Behaviour),
            _ => None,
        }
    }
}

/// One fired rule, reported in the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleHit {
    pub id: String,
    pub action: Action,
    pub category: RuleCategory,
    /// Matched term (normalised form) for word/phrase/regex rules.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub term: Option<String>,
    /// Byte span in the original text, when the rule matched text.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub end: Option<u32>,
}

/// A rule file that could not be loaded: file, line and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Any,
    Fr,
    En,
}

#[derive(Debug, Clone)]
struct Meta {
    id: String,
    action: Action,
    category: RuleCategory,
    lang: Lang,
}

/// Everything a normalised token can trigger: words and phrases starting with it, and the gated
/// regexes it opens (one map lookup per token).
#[derive(Debug, Clone, Default)]
struct TokenRules {
    words: Vec<WordEntry>,
    gates: Vec<usize>,
}

#[derive(Debug, Clone)]
struct WordEntry {
    /// tokens after the first one (phrases)
    rest: Vec<String>,
    list: u32,
    term: String,
}

#[derive(Debug, Clone)]
struct LinkRule {
    meta: Meta,
    min: u32,
}

#[derive(Debug, Clone)]
struct ShoutRule {
    meta: Meta,
    min_letters: u32,
    ratio: f32,
}

#[derive(Debug, Clone)]
struct CountRule {
    meta: Meta,
    n: u32,
}

/// The per-author rate: more than `max` comments by one author within `window_secs` fires the
/// rule. Counted where the comment is written (the count must see the comments stored just
/// before it, also in a burst), so it is applied with [`AuthorRate::check`] rather than in
/// [`RuleSet::evaluate`].
#[derive(Debug, Clone)]
pub struct AuthorRate {
    meta: Meta,
    /// Comments allowed within the window; the next one fires the rule.
    pub max: u32,
    pub window_secs: u32,
}

impl AuthorRate {
    /// The rule's hit when the author already has `recent` comments within the window.
    pub fn check(&self, recent: u32) -> Option<RuleHit> {
        (recent >= self.max).then(|| RuleSet::hit(&self.meta, None, None))
    }

    /// The reason shown with the verdict, in words a reader understands.
    pub fn reason(&self) -> String {
        format!(
            "rule `{}` fired ({}): more than {} comments by this author within {} seconds",
            self.meta.id,
            match self.meta.action {
                Action::Flag => "flag",
                Action::Hold => "hold",
                Action::Block => "block",
            },
            self.max,
            self.window_secs
        )
    }
}

/// Longest per-author rate window (a day).
pub const MAX_RATE_WINDOW_SECS: u32 = 86_400;

/// Room for each regex's lazy DFA (per thread that runs it; grown only as states are built).
/// The regex crate's default (2 MiB) is too small for the rule set's large alternations: the
/// cache filled and was rebuilt while scoring, which took a third of `vigie score`'s time.
const REGEX_DFA_CACHE: usize = 32 << 20;

/// Largest compiled size of one rule's regex (the regex crate's own default is 10 MiB). With
/// the 200,000 characters of a rule file, it bounds what a site's rules can take.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A rule's regex as the scorer runs it; refused over [`REGEX_SIZE_LIMIT`].
fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_CACHE)
        .build()
}

/// The regex rules that run on one text (original or normalised): each rule's own regex, and
/// per comment language the rules of that language, so an English comment never runs the
/// French patterns (most of the rules' cost).
///
/// The rules run one by one rather than as one [`regex::RegexSet`]: the union of the default
/// rules' large alternations made the set's lazy DFA give up (its states multiply across
/// patterns, and a Unicode `\b` stops it at the first non-ASCII byte), and the set then ran
/// the PikeVM over the whole comment: 61 % of the scoring bench's time. One by one, each
/// regex keeps a small DFA, or on a short comment the bounded backtracker; the full verdict
/// went from 112–128 ms to 65 ms for the bench's 3,250 comments on the same machine.
#[derive(Debug, Clone)]
struct RegexGroup {
    /// (meta index, the rule's regex)
    singles: Vec<(usize, Regex)>,
    /// Indexed by [`RegexGroup::slot`]: the indices in `singles` of the rules that run.
    by_lang: [Vec<usize>; 3],
}

impl RegexGroup {
    /// Which rules a comment language runs: French, English, or every rule (other languages).
    fn slot(lang: &str) -> usize {
        match lang {
            "fr" => 0,
            "en" => 1,
            _ => 2,
        }
    }

    /// The group of compiled rules (`idxs`: their meta indices); `None` when there is none.
    fn build(pats: Vec<Regex>, idxs: Vec<usize>, meta: &[(Meta, bool)]) -> Option<RegexGroup> {
        if pats.is_empty() {
            return None;
        }
        let by_lang = ["fr", "en", ""].map(|lang| {
            (0..pats.len())
                .filter(|&k| RuleSet::lang_ok(meta[idxs[k]].0.lang, lang))
                .collect()
        });
        let singles: Vec<(usize, Regex)> = idxs.into_iter().zip(pats).collect();
        Some(RegexGroup { singles, by_lang })
    }
}

/// A compiled rule set. Cheap to share behind an `Arc`; immutable once built.
#[derive(Debug, Clone)]
pub struct RuleSet {
    name: String,
    source: String,
    lists: Vec<Meta>,
    /// Per word list: the pattern that, with the term between quotation marks, makes a hit a
    /// mention (`mention_unless`).
    list_mention_unless: Vec<Option<Regex>>,
    tokens: FxHashMap<String, TokenRules>,
    regex_meta: Vec<(Meta, bool)>, // (meta, on_normalised)
    /// Per regex rule: a pattern on the original text that cancels the hit (quotes, reports),
    /// and where it is read: the match's sentence and that many sentences either side, or
    /// (`None`) the whole comment.
    regex_unless: Vec<Option<(Regex, Option<u8>)>>,
    /// Per regex rule: the pattern of the writer's own words that makes a quoted match a
    /// mention (`mention_unless`), and whether a match overlapping a quote is quoted
    /// (`quoted = "overlapping"`) rather than only one inside it.
    regex_mention_unless: Vec<Option<(Regex, bool)>>,
    /// Per regex rule: a faster necessary condition on the same text (`prefilter`).
    regex_prefilter: Vec<Option<Regex>>,
    regex_orig: Option<RegexGroup>,
    regex_norm: Option<RegexGroup>,
    /// regexes gated by `requires` words: (meta index, regex)
    gated: Vec<(usize, Regex)>,
    links: Vec<LinkRule>,
    shouting: Vec<ShoutRule>,
    repeated_post: Option<Meta>,
    new_author: Option<CountRule>,
    recent_rejections: Option<CountRule>,
    author_rate: Option<AuthorRate>,
    mentions: Option<Mentions>,
}

/// Quotes a comment mentions rather than uses: how much the classifier's evidence inside them
/// counts and their byte ranges ([`RuleSet::mentions_of`]).
pub type Mention = (f32, Vec<(usize, usize)>);

/// `[mentions]`, compiled: how much the classifier's evidence between quotation marks counts
/// in a comment whose own words report, condemn or discuss what it quotes
/// ([`RuleSet::mentioned_quotes`]).
#[derive(Debug, Clone)]
struct Mentions {
    weight: f32,
    /// Matches the text outside the quotes when the writer warns about a scam or spam.
    spam_context: Option<Regex>,
    /// French, English.
    by_lang: [Option<MentionContext>; 2],
}

/// One language's patterns of `[mentions]`.
#[derive(Debug, Clone)]
struct MentionContext {
    /// Matches the text outside the quotes when the writer reports, condemns or discusses.
    context: Regex,
    /// Matches the words around a quote (written `«Q»`) addressed to someone (scare quotes).
    addressed: Option<Regex>,
    /// Matches the words around an unquoted word-list term (written `«Q»`) that is mentioned.
    framed: Option<Regex>,
    /// Match a condemnation of what others say, without quotation marks (`reported`, then
    /// `condemned`); their groups `q`, `q1`, `q2`… are read as quotes.
    reported: Vec<Regex>,
}

impl RuleSet {
    /// Name given in the file (`name = ...`) or the file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The TOML text this rule set was built from (for the admin API).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of words/phrases, regexes and other rules.
    pub fn len(&self) -> usize {
        self.tokens.values().map(|v| v.words.len()).sum::<usize>()
            + self.regex_meta.len()
            + self.links.len()
            + self.shouting.len()
            + self.repeated_post.is_some() as usize
            + self.new_author.is_some() as usize
            + self.recent_rejections.is_some() as usize
            + self.author_rate.is_some() as usize
    }

    /// The per-author rate rule, if the set has one.
    pub fn author_rate(&self) -> Option<&AuthorRate> {
        self.author_rate.as_ref()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lang_ok(l: Lang, lang: &str) -> bool {
        match l {
            Lang::Any => true,
            Lang::Fr => lang != "en",
            Lang::En => lang != "fr",
        }
    }

    fn hit(meta: &Meta, term: Option<String>, span: Option<(u32, u32)>) -> RuleHit {
        RuleHit {
            id: meta.id.clone(),
            action: meta.action,
            category: meta.category,
            term,
            start: span.map(|s| s.0),
            end: span.map(|s| s.1),
        }
    }
}

/// The embedded default rule set (French + English), see `default_rules.toml`.
pub const DEFAULT_RULES_TOML: &str = include_str!("../default_rules.toml");

/// The default rule set. Panics only if the embedded file is broken (covered by a test).
pub fn default_rules() -> RuleSet {
    RuleSet::from_toml(DEFAULT_RULES_TOML, "default_rules.toml")
        .expect("embedded default_rules.toml is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boundary_next_to_an_accented_letter_still_counts_for_the_rule() {
        // The candidate set matches `pay` inside `payé`; the rule's own regex does not.
        let toml = "[[regex]]\nid = \"pay\"\naction = \"flag\"\ncategory = \"spam\"\n\
                    on = \"original\"\npattern = '\\bpay\\b'\n";
        let rs = RuleSet::from_toml(toml, "t.toml").unwrap();
        let fired = |text: &str| !super::eval::tests::hits(&rs, text, "fr").is_empty();
        assert!(fired("pay now"));
        assert!(fired("Il faut pay maintenant, très vite"));
        assert!(!fired("Il a payé très cher"));
        assert!(!fired("payé"));
    }

    #[test]
    fn default_rules_parse() {
        let rs = default_rules();
        assert!(rs.len() > 100);
    }

    #[test]
    fn the_default_author_rate_fires_from_the_sixth_comment_of_a_minute() {
        let rs = default_rules();
        let rate = rs
            .author_rate()
            .expect("the default rules have an author rate");
        assert_eq!((rate.max, rate.window_secs), (5, 60));
        assert!(rate.check(4).is_none());
        let hit = rate.check(5).expect("a sixth comment fires the rule");
        assert_eq!(hit.id, "author-rate");
        assert_eq!(hit.action, Action::Hold);
        assert!(
            rate.reason().contains("more than 5 comments"),
            "{}",
            rate.reason()
        );
    }
}
