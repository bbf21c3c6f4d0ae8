//! Keyword, regex, shape and behaviour rules, configured from TOML.
//!
//! Word and phrase lists match whole normalised tokens only (never substrings): `con` does not
//! hit "connexion" and `cul` does not hit "cul-de-sac" (a hyphenated compound is one token).

use std::fmt;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::hash::FxHashMap;
use super::normalise::{normalise, Normalised};
use super::AuthorHistory;

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

/// A rule's regex as the scorer runs it.
fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .dfa_size_limit(REGEX_DFA_CACHE)
        .build()
}

fn default_rate_window() -> u32 {
    60
}

/// The regex rules that run on one text (original or normalised): each rule's own regex, and
/// one [`RegexSet`] per comment language holding only the rules of that language, so an English
/// comment never runs the French patterns (most of the rules' cost).
#[derive(Debug, Clone)]
struct RegexGroup {
    /// (meta index, the rule's regex)
    singles: Vec<(usize, Regex)>,
    /// Indexed by [`RegexGroup::slot`]: the set and, per set pattern, its index in `singles`.
    by_lang: [Option<(RegexSet, Vec<usize>)>; 3],
}

impl RegexGroup {
    /// Which set a comment language runs: French, English, or every rule (other languages).
    fn slot(lang: &str) -> usize {
        match lang {
            "fr" => 0,
            "en" => 1,
            _ => 2,
        }
    }

    /// Compiles the group; `None` when a set exceeds the size limit.
    fn build(pats: Vec<String>, idxs: Vec<usize>, meta: &[(Meta, bool)]) -> Option<RegexGroup> {
        if pats.is_empty() {
            return None;
        }
        let singles: Vec<(usize, Regex)> = pats
            .iter()
            .zip(&idxs)
            .map(|(p, &i)| compile(p).ok().map(|r| (i, r)))
            .collect::<Option<_>>()?;
        let mut by_lang: [Option<(RegexSet, Vec<usize>)>; 3] = [None, None, None];
        for (slot, lang) in ["fr", "en", ""].into_iter().enumerate() {
            let members: Vec<usize> = (0..pats.len())
                .filter(|&k| RuleSet::lang_ok(meta[idxs[k]].0.lang, lang))
                .collect();
            if members.is_empty() {
                continue;
            }
            let set = RegexSetBuilder::new(members.iter().map(|&k| &pats[k]))
                .size_limit(1 << 22)
                .dfa_size_limit(REGEX_DFA_CACHE)
                .build()
                .ok()?;
            by_lang[slot] = Some((set, members));
        }
        Some(RegexGroup { singles, by_lang })
    }
}

/// A compiled rule set. Cheap to share behind an `Arc`; immutable once built.
#[derive(Debug, Clone)]
pub struct RuleSet {
    name: String,
    source: String,
    lists: Vec<Meta>,
    tokens: FxHashMap<String, TokenRules>,
    regex_meta: Vec<(Meta, bool)>, // (meta, on_normalised)
    /// Per regex rule: a pattern on the original text that cancels the hit (quotes, reports).
    regex_unless: Vec<Option<Regex>>,
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
}

// ---------- raw TOML ----------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    words: Vec<RawWords>,
    #[serde(default)]
    regex: Vec<RawRegex>,
    #[serde(default)]
    links: Vec<RawLinks>,
    #[serde(default)]
    shouting: Vec<RawShout>,
    #[serde(default)]
    repeated_post: Option<RawCommon>,
    #[serde(default)]
    new_author: Option<RawCount>,
    #[serde(default)]
    recent_rejections: Option<RawCount>,
    #[serde(default)]
    author_rate: Option<RawRate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRate {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    /// Comments allowed within the window.
    max: u32,
    #[serde(default = "default_rate_window")]
    window_secs: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommon {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default)]
    lang: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWords {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default)]
    lang: Option<Spanned<String>>,
    terms: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegex {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default)]
    lang: Option<Spanned<String>>,
    pattern: Spanned<String>,
    /// "original" (default) or "normalised"
    #[serde(default)]
    on: Option<Spanned<String>>,
    /// Only run this regex when one of these words (normalised tokens) is present: a cheap
    /// gate for large patterns.
    #[serde(default)]
    requires: Option<Spanned<Vec<String>>>,
    /// No hit when this regex matches the ORIGINAL text (e.g. a reader quoting a threat between
    /// guillemets to report it): quotation marks do not survive normalisation.
    #[serde(default)]
    unless: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    min: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShout {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    #[serde(default = "default_min_letters")]
    min_letters: u32,
    ratio: f32,
}

fn default_min_letters() -> u32 {
    12
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCount {
    id: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    category: Option<Spanned<String>>,
    n: u32,
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    ids: std::collections::HashSet<String>,
}

impl Ctx<'_> {
    fn line(&self, pos: usize) -> usize {
        let pos = pos.min(self.text.len());
        self.text.as_bytes()[..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        reason: impl Into<String>,
    ) -> Result<T, RuleError> {
        Err(RuleError {
            file: self.file.to_string(),
            line: self.line(span.start),
            reason: reason.into(),
        })
    }
    fn meta(
        &mut self,
        id: &Spanned<String>,
        action: &Spanned<String>,
        category: Option<&Spanned<String>>,
        lang: Option<&Spanned<String>>,
        default_cat: RuleCategory,
    ) -> Result<Meta, RuleError> {
        let idv = id.get_ref().trim();
        if idv.is_empty() || idv.len() > 100 {
            return self.err(id.span(), "rule id must be 1 to 100 characters");
        }
        if !self.ids.insert(idv.to_string()) {
            return self.err(id.span(), format!("duplicate rule id `{idv}`"));
        }
        let Some(a) = Action::parse(action.get_ref().trim()) else {
            return self.err(
                action.span(),
                format!(
                    "unknown action `{}` (expected block, hold or flag)",
                    action.get_ref()
                ),
            );
        };
        let c = match category {
            None => default_cat,
            Some(c) => match RuleCategory::parse(c.get_ref().trim()) {
                Some(c) => c,
                None => {
                    return self.err(
                        c.span(),
                        format!(
                            "unknown category `{}` (expected toxicity, spam or behaviour)",
                            c.get_ref()
                        ),
                    )
                }
            },
        };
        let l = match lang {
            None => Lang::Any,
            Some(l) => match l.get_ref().trim() {
                "any" | "*" => Lang::Any,
                "fr" => Lang::Fr,
                "en" => Lang::En,
                other => {
                    return self.err(
                        l.span(),
                        format!("unknown language `{other}` (expected fr, en or any)"),
                    )
                }
            },
        };
        Ok(Meta {
            id: idv.to_string(),
            action: a,
            category: c,
            lang: l,
        })
    }
}

/// Context for [`RuleSet::evaluate`].
pub struct RuleInput<'a> {
    pub original: &'a str,
    pub norm: &'a Normalised,
    /// "fr", "en" or anything else (all lists apply)
    pub lang: &'a str,
    pub author: &'a AuthorHistory,
    pub links: u32,
    pub letters: u32,
    pub upper: u32,
}

impl RuleSet {
    /// Parse and compile a rule file. `file_name` is only used in error messages.
    pub fn from_toml(text: &str, file_name: &str) -> Result<RuleSet, RuleError> {
        let raw: RawFile = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .span()
                    .map(|s| {
                        text.as_bytes()[..s.start.min(text.len())]
                            .iter()
                            .filter(|&&b| b == b'\n')
                            .count()
                            + 1
                    })
                    .unwrap_or(1);
                return Err(RuleError {
                    file: file_name.to_string(),
                    line,
                    reason: e.message().trim().to_string(),
                });
            }
        };
        let mut cx = Ctx {
            text,
            file: file_name,
            ids: Default::default(),
        };
        let mut rs = RuleSet {
            name: raw.name.clone().unwrap_or_else(|| file_name.to_string()),
            source: text.to_string(),
            lists: Vec::new(),
            tokens: FxHashMap::default(),
            regex_meta: Vec::new(),
            regex_unless: Vec::new(),
            regex_orig: None,
            regex_norm: None,
            gated: Vec::new(),
            links: Vec::new(),
            shouting: Vec::new(),
            repeated_post: None,
            new_author: None,
            recent_rejections: None,
            author_rate: None,
        };
        for w in &raw.words {
            let meta = cx.meta(
                &w.id,
                &w.action,
                w.category.as_ref(),
                w.lang.as_ref(),
                RuleCategory::Toxicity,
            )?;
            let li = rs.lists.len() as u32;
            rs.lists.push(meta);
            if w.terms.get_ref().is_empty() {
                return cx.err(w.terms.span(), "word list `terms` is empty");
            }
            for t in w.terms.get_ref() {
                let n = normalise(t.get_ref());
                if n.tokens.is_empty() {
                    return cx.err(
                        t.span(),
                        format!("term `{}` is empty after normalisation", t.get_ref()),
                    );
                }
                let toks: Vec<String> = n
                    .tokens
                    .iter()
                    .map(|k| n.token_str(k).to_string())
                    .collect();
                let term = n.text.clone();
                let entry = WordEntry {
                    rest: toks[1..].to_vec(),
                    list: li,
                    term: term.clone(),
                };
                rs.tokens
                    .entry(toks[0].clone())
                    .or_default()
                    .words
                    .push(entry);
                if toks.len() > 1 && toks.iter().all(|t| t.chars().count() >= 2) {
                    // also match the hyphenated spelling of a phrase: fils-de-pute
                    rs.tokens
                        .entry(toks.join("-"))
                        .or_default()
                        .words
                        .push(WordEntry {
                            rest: Vec::new(),
                            list: li,
                            term,
                        });
                }
            }
        }
        let mut orig: (Vec<String>, Vec<usize>) = Default::default();
        let mut norm: (Vec<String>, Vec<usize>) = Default::default();
        for r in &raw.regex {
            let meta = cx.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                r.lang.as_ref(),
                RuleCategory::Spam,
            )?;
            let on_norm = match r.on.as_ref().map(|o| o.get_ref().as_str()) {
                None | Some("original") => false,
                Some("normalised") | Some("normalized") => true,
                Some(other) => {
                    let sp = r.on.as_ref().map(|o| o.span()).unwrap_or(0..0);
                    return cx.err(
                        sp,
                        format!("unknown `on` value `{other}` (expected original or normalised)"),
                    );
                }
            };
            if let Err(e) = RegexBuilder::new(r.pattern.get_ref())
                .size_limit(1 << 20)
                .build()
            {
                let msg = e.to_string().replace('\n', " ");
                return cx.err(
                    r.pattern.span(),
                    format!("invalid regex in rule `{}`: {msg}", meta.id),
                );
            }
            let unless = match &r.unless {
                None => None,
                Some(u) => match compile(u.get_ref()) {
                    Ok(re) => Some(re),
                    Err(e) => {
                        let msg = e.to_string().replace('\n', " ");
                        return cx.err(
                            u.span(),
                            format!("invalid `unless` regex in rule `{}`: {msg}", meta.id),
                        );
                    }
                },
            };
            let idx = rs.regex_meta.len();
            rs.regex_meta.push((meta, on_norm));
            rs.regex_unless.push(unless);
            if let Some(req) = &r.requires {
                if req.get_ref().is_empty() {
                    return cx.err(req.span(), "`requires` is empty");
                }
                let gi = rs.gated.len();
                let re = compile(r.pattern.get_ref()).map_err(|e| RuleError {
                    file: file_name.to_string(),
                    line: cx.line(r.pattern.span().start),
                    reason: e.to_string(),
                })?;
                rs.gated.push((idx, re));
                for w in req.get_ref() {
                    let n = normalise(w);
                    for t in &n.tokens {
                        let v = &mut rs
                            .tokens
                            .entry(n.token_str(t).to_string())
                            .or_default()
                            .gates;
                        if !v.contains(&gi) {
                            v.push(gi);
                        }
                    }
                }
                continue;
            }
            let target = if on_norm { &mut norm } else { &mut orig };
            target.0.push(r.pattern.get_ref().clone());
            target.1.push(idx);
        }
        let n_orig = orig.0.len();
        let n_norm = norm.0.len();
        rs.regex_orig = RegexGroup::build(orig.0, orig.1, &rs.regex_meta);
        rs.regex_norm = RegexGroup::build(norm.0, norm.1, &rs.regex_meta);
        if (n_orig > 0 && rs.regex_orig.is_none()) || (n_norm > 0 && rs.regex_norm.is_none()) {
            return cx.err(0..0, "the regexes together are too large to compile");
        }
        for l in &raw.links {
            let meta = cx.meta(
                &l.id,
                &l.action,
                l.category.as_ref(),
                None,
                RuleCategory::Spam,
            )?;
            if l.min == 0 {
                return cx.err(l.id.span(), "links rule needs `min` >= 1");
            }
            rs.links.push(LinkRule { meta, min: l.min });
        }
        for s in &raw.shouting {
            let meta = cx.meta(
                &s.id,
                &s.action,
                s.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            if !(s.ratio > 0.0 && s.ratio <= 1.0) {
                return cx.err(s.id.span(), "shouting `ratio` must be in (0, 1]");
            }
            rs.shouting.push(ShoutRule {
                meta,
                min_letters: s.min_letters,
                ratio: s.ratio,
            });
        }
        if let Some(r) = &raw.repeated_post {
            rs.repeated_post = Some(cx.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                r.lang.as_ref(),
                RuleCategory::Spam,
            )?);
        }
        if let Some(r) = &raw.new_author {
            let meta = cx.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            rs.new_author = Some(CountRule { meta, n: r.n });
        }
        if let Some(r) = &raw.recent_rejections {
            let meta = cx.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            if r.n == 0 {
                return cx.err(r.id.span(), "recent_rejections needs `n` >= 1");
            }
            rs.recent_rejections = Some(CountRule { meta, n: r.n });
        }
        if let Some(r) = &raw.author_rate {
            let meta = cx.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            if r.max == 0 {
                return cx.err(r.id.span(), "author_rate needs `max` >= 1");
            }
            if r.window_secs == 0 || r.window_secs > MAX_RATE_WINDOW_SECS {
                return cx.err(
                    r.id.span(),
                    format!("author_rate needs `window_secs` from 1 to {MAX_RATE_WINDOW_SECS}"),
                );
            }
            rs.author_rate = Some(AuthorRate {
                meta,
                max: r.max,
                window_secs: r.window_secs,
            });
        }
        Ok(rs)
    }

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

    fn regex_hit(meta: &Meta, on_norm: bool, n: &Normalised, f: regex::Match<'_>) -> RuleHit {
        let span = if on_norm {
            // map back to the original through the tokens
            let (s, e) = (f.start() as u32, f.end() as u32);
            let first = n.tokens.iter().find(|t| t.norm_end > s);
            let last = n.tokens.iter().rev().find(|t| t.norm_start < e);
            match (first, last) {
                (Some(a), Some(b)) => Some((a.orig_start, b.orig_end.max(a.orig_start))),
                _ => None,
            }
        } else {
            Some((f.start() as u32, f.end() as u32))
        };
        Self::hit(meta, Some(f.as_str().chars().take(64).collect()), span)
    }

    /// The regex rule's `unless` pattern matches the original text.
    fn cancelled(&self, idx: usize, original: &str) -> bool {
        self.regex_unless[idx]
            .as_ref()
            .is_some_and(|u| u.is_match(original))
    }

    /// Run every rule; push hits into `out`.
    pub fn evaluate(&self, inp: &RuleInput<'_>, out: &mut Vec<RuleHit>) {
        let n = inp.norm;
        let toks = &n.tokens;
        let mut gates: Vec<usize> = Vec::new();
        let first = out.len();
        if !self.tokens.is_empty() {
            for (i, t) in toks.iter().enumerate() {
                let Some(tr) = self.tokens.get(n.token_str(t)) else {
                    continue;
                };
                for &gi in &tr.gates {
                    if !gates.contains(&gi) {
                        gates.push(gi);
                    }
                }
                for e in &tr.words {
                    let meta = &self.lists[e.list as usize];
                    if !Self::lang_ok(meta.lang, inp.lang) {
                        continue;
                    }
                    let ok =
                        e.rest.iter().enumerate().all(|(k, w)| {
                            toks.get(i + 1 + k).is_some_and(|t2| n.token_str(t2) == w)
                        });
                    if ok {
                        let last = &toks[i + e.rest.len()];
                        if out
                            .iter()
                            .any(|h| h.id == meta.id && h.start == Some(t.orig_start))
                        {
                            continue;
                        }
                        out.push(Self::hit(
                            meta,
                            Some(e.term.clone()),
                            Some((t.orig_start, last.orig_end)),
                        ));
                    }
                }
            }
        }
        // gated regexes report before the words, in the order their gates were seen
        let mut gated_hits = Vec::new();
        for gi in gates {
            let (idx, re) = &self.gated[gi];
            let (meta, on_norm) = &self.regex_meta[*idx];
            if !Self::lang_ok(meta.lang, inp.lang) {
                continue;
            }
            let text = if *on_norm {
                n.text.as_str()
            } else {
                inp.original
            };
            if let Some(f) = re
                .find(text)
                .filter(|_| !self.cancelled(*idx, inp.original))
            {
                gated_hits.push(Self::regex_hit(meta, *on_norm, n, f));
            }
        }
        if !gated_hits.is_empty() {
            out.splice(first..first, gated_hits);
        }
        let slot = RegexGroup::slot(inp.lang);
        for (group, text) in [
            (&self.regex_orig, inp.original),
            (&self.regex_norm, n.text.as_str()),
        ] {
            let Some((group, (set, members))) = group
                .as_ref()
                .and_then(|g| g.by_lang[slot].as_ref().map(|s| (g, s)))
            else {
                continue;
            };
            let m = set.matches(text);
            if !m.matched_any() {
                continue;
            }
            for k in m.iter() {
                let (idx, re) = &group.singles[members[k]];
                let (meta, on_norm) = &self.regex_meta[*idx];
                if let Some(f) = re
                    .find(text)
                    .filter(|_| !self.cancelled(*idx, inp.original))
                {
                    out.push(Self::regex_hit(meta, *on_norm, n, f));
                }
            }
        }
        if let Some(l) = self
            .links
            .iter()
            .filter(|l| inp.links >= l.min)
            .max_by_key(|l| l.min)
        {
            out.push(Self::hit(&l.meta, None, None));
        }
        for s in &self.shouting {
            if inp.letters >= s.min_letters && inp.upper as f32 >= s.ratio * inp.letters as f32 {
                out.push(Self::hit(&s.meta, None, None));
            }
        }
        if let Some(m) = &self.repeated_post {
            if inp.author.same_text_recently {
                out.push(Self::hit(m, None, None));
            }
        }
        if let Some(r) = &self.new_author {
            if inp.author.approved_count < r.n {
                out.push(Self::hit(&r.meta, None, None));
            }
        }
        if let Some(r) = &self.recent_rejections {
            if inp.author.recent_rejections >= r.n {
                out.push(Self::hit(&r.meta, None, None));
            }
        }
    }
}

/// The embedded default rule set (French + English), see `default_rules.toml`.
pub const DEFAULT_RULES_TOML: &str = include_str!("default_rules.toml");

/// The default rule set. Panics only if the embedded file is broken (covered by a test).
pub fn default_rules() -> RuleSet {
    RuleSet::from_toml(DEFAULT_RULES_TOML, "default_rules.toml")
        .expect("embedded default_rules.toml is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the rules fire on `text` for an author with ten approved comments.
    pub(super) fn hits(rs: &RuleSet, text: &str, lang: &str) -> Vec<RuleHit> {
        let n = normalise(text);
        let a = AuthorHistory {
            approved_count: 10,
            recent_rejections: 0,
            same_text_recently: false,
        };
        let mut out = Vec::new();
        rs.evaluate(
            &RuleInput {
                original: text,
                norm: &n,
                lang,
                author: &a,
                links: 0,
                letters: 0,
                upper: 0,
            },
            &mut out,
        );
        out
    }

    #[test]
    fn default_rules_parse() {
        let rs = default_rules();
        assert!(rs.len() > 100);
    }

    #[test]
    fn whole_word_only() {
        let rs = default_rules();
        for clean in [
            "La connexion est lente",
            "Le contrat est signé",
            "une impasse, un cul-de-sac",
            "le calcul est faux",
            "Consultez la documentation",
            "Il faut se baisser",
            "a classic assessment",
        ] {
            let h = hits(&rs, clean, "fr");
            assert!(
                h.iter().all(|h| h.category != RuleCategory::Toxicity),
                "{clean}: {h:?}"
            );
        }
        let h = hits(&rs, "Quel con celui-là", "fr");
        assert!(h
            .iter()
            .any(|h| h.term.as_deref() == Some("con") && h.action == Action::Flag));
        let h = hits(&rs, "t'es qu'un c0nn@rd", "fr");
        assert!(
            h.iter().any(|h| h.term.as_deref() == Some("connard")),
            "{h:?}"
        );
        let s = "espèce de c.o.n.n.a.r.d";
        let h = hits(&rs, s, "fr");
        let hit = h
            .iter()
            .find(|h| h.term.as_deref() == Some("connard"))
            .unwrap();
        assert_eq!(
            &s[hit.start.unwrap() as usize..hit.end.unwrap() as usize],
            "c.o.n.n.a.r.d"
        );
        let h = hits(&rs, "sale fils de pute", "fr");
        assert!(h.iter().any(|h| h.term.as_deref() == Some("fils de pute")));
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad_action =
            "name = \"x\"\n\n[[words]]\nid = \"a\"\naction = \"destroy\"\nterms = [\"x\"]\n";
        let e = RuleSet::from_toml(bad_action, "site.toml").unwrap_err();
        assert_eq!(e.file, "site.toml");
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("unknown action"), "{e}");
        let bad_re = "[[regex]]\nid = \"r\"\naction = \"flag\"\npattern = \"(unclosed\"\n";
        let e = RuleSet::from_toml(bad_re, "re.toml").unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.reason.contains("invalid regex"), "{e}");
        assert!(e.to_string().starts_with("re.toml:4: "));
        let bad_syntax = "[[words]]\nid = \"a\"\naction = \"flag\"\nterms = [\"x\"\n";
        let e = RuleSet::from_toml(bad_syntax, "s.toml").unwrap_err();
        assert!(e.line >= 4, "{e}");
        let unknown_field =
            "[[words]]\nid = \"a\"\naction = \"flag\"\nterms = [\"x\"]\nseverity = 3\n";
        let e = RuleSet::from_toml(unknown_field, "u.toml").unwrap_err();
        assert!(e.reason.contains("severity"), "{e}");
        let dup = "[[words]]\nid = \"a\"\naction = \"flag\"\nterms = [\"x\"]\n[[words]]\nid = \"a\"\naction = \"flag\"\nterms = [\"y\"]\n";
        let e = RuleSet::from_toml(dup, "d.toml").unwrap_err();
        assert_eq!(e.line, 6);
    }

    #[test]
    fn behaviour_rules() {
        let rs = default_rules();
        let n = normalise("hello");
        let a = AuthorHistory {
            approved_count: 0,
            recent_rejections: 5,
            same_text_recently: true,
        };
        let mut out = Vec::new();
        rs.evaluate(
            &RuleInput {
                original: "hello",
                norm: &n,
                lang: "en",
                author: &a,
                links: 4,
                letters: 30,
                upper: 30,
            },
            &mut out,
        );
        let ids: Vec<&str> = out.iter().map(|h| h.id.as_str()).collect();
        assert!(ids.contains(&"repeated-post"), "{ids:?}");
        assert!(ids.contains(&"author-new"), "{ids:?}");
        assert!(ids.contains(&"author-rejections"), "{ids:?}");
        assert!(ids.contains(&"links-many"), "{ids:?}");
        assert!(ids.contains(&"shouting"), "{ids:?}");
    }
}

#[cfg(test)]
mod author_rate_tests {
    use super::*;

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

    #[test]
    fn an_author_rate_without_a_maximum_or_with_a_day_long_window_is_refused() {
        let zero = "[author_rate]\nid = \"r\"\naction = \"hold\"\nmax = 0\n";
        let e = RuleSet::from_toml(zero, "r.toml").unwrap_err();
        assert!(e.reason.contains("max"), "{e}");
        let long = "[author_rate]\nid = \"r\"\naction = \"hold\"\nmax = 3\nwindow_secs = 90000\n";
        let e = RuleSet::from_toml(long, "r.toml").unwrap_err();
        assert!(e.reason.contains("window_secs"), "{e}");
        let ok = "[author_rate]\nid = \"r\"\naction = \"block\"\nmax = 3\n";
        let rs = RuleSet::from_toml(ok, "r.toml").unwrap();
        assert_eq!(rs.author_rate().unwrap().window_secs, 60);
    }
}

#[cfg(test)]
mod hate_pattern_tests {
    use super::*;

    #[test]
    fn identity_hate_patterns() {
        let rs = default_rules();
        let ids = |t: &str, l: &str| -> Vec<String> {
            super::tests::hits(&rs, t, l)
                .into_iter()
                .map(|h| h.id)
                .filter(|i| i.starts_with("hate-"))
                .collect()
        };
        assert!(ids("Immigrants are nothing but VERMIN", "en")
            .contains(&"hate-dehumanising-en".to_string()));
        assert!(ids("Les migrants sont des parasites.", "fr")
            .contains(&"hate-dehumanising-fr".to_string()));
        assert!(ids("il faut gazer tous les juifs", "fr").contains(&"hate-violence-fr".to_string()));
        assert!(ids("c'est un rat de bibliothèque", "fr").is_empty());
        assert!(ids("Rats are animals", "en").is_empty());
        // The example, a generalisation by a negative attribute, and exclusion.
        assert!(ids("Les immigrés sont tous des voleurs.", "fr")
            .contains(&"hate-dehumanising-fr".to_string()));
        assert!(
            ids("Immigrants are all criminals", "en").contains(&"hate-dehumanising-en".to_string())
        );
        assert!(ids("Dehors les arabes !", "fr").contains(&"hate-exclusion-fr".to_string()));
        assert!(ids(
            "Send the migrants home? No: kick all the migrants out.",
            "en"
        )
        .contains(&"hate-exclusion-en".to_string()));
        for clean in [
            "Les politiciens sont tous des voleurs.",
            "Les immigrés ne sont pas tous des voleurs, loin de là.",
            "Les immigrés ont contribué à reconstruire le pays.",
        ] {
            assert!(ids(clean, "fr").is_empty(), "{clean}");
        }
    }
}

#[cfg(test)]
mod french_family_tests {
    use super::*;

    /// The ids of the default rules that hold or block `text` (French).
    fn holding(rs: &RuleSet, text: &str) -> Vec<String> {
        super::tests::hits(rs, text, "fr")
            .into_iter()
            .filter(|h| h.action != Action::Flag)
            .map(|h| h.id)
            .collect()
    }

    /// Each text is held by the rule named beside it.
    fn assert_held_by(cases: &[(&str, &str)]) {
        let rs = default_rules();
        for (text, id) in cases {
            let ids = holding(&rs, text);
            assert!(ids.iter().any(|i| i == id), "{text}: {ids:?}");
        }
    }

    /// No rule whose id starts with `family` holds any of the texts.
    fn assert_not_held_by(family: &str, texts: &[&str]) {
        let rs = default_rules();
        for text in texts {
            let ids = holding(&rs, text);
            assert!(
                ids.iter().all(|i| !i.starts_with(family)),
                "{text}: {ids:?}"
            );
        }
    }

    #[test]
    fn each_french_threat_family_holds_its_own_form() {
        assert_held_by(&[
            (
                "Continue tes articles et tu vas finir aux urgences.",
                "fr-threat-veiled",
            ),
            (
                "Ce juge ne rentrera pas chez lui ce soir.",
                "fr-threat-veiled",
            ),
            (
                "On viendra te chercher à ton boulot, compte là-dessus.",
                "fr-threat-incitement",
            ),
            (
                "Encore un mot et je m'occupe personnellement de toi.",
                "fr-threat-incitement",
            ),
            (
                "Je vais trouver ton nom et ensuite te défoncer.",
                "fr-threat-incitement",
            ),
            (
                "Ton fils va au collège Victor-Hugo, je dis ça je dis rien.",
                "fr-threat-veiled",
            ),
            (
                "Heureusement que je n'ai pas encore ton adresse.",
                "fr-threat-veiled",
            ),
            (
                "Qui a son adresse ? On passe ce week-end.",
                "fr-threat-incitement",
            ),
            (
                "Je paie un resto à celui qui lui crève les pneus.",
                "fr-threat-incitement",
            ),
            (
                "Ce week-end on va casser du migrant, ramenez vos potes.",
                "fr-threat-incitement",
            ),
            (
                "Publie encore ça et on brûle vos locaux.",
                "fr-threat-veiled",
            ),
            (
                "Si jamais je croise ce modo, il est mort.",
                "fr-threat-veiled",
            ),
        ]);
    }

    #[test]
    fn look_alikes_of_threats_are_not_held_by_the_threat_families() {
        assert_not_held_by(
            "fr-threat",
            &[
                "Ce patch va finir par tuer ma batterie.",
                "On va les écraser en finale, ce match est plié.",
                "Je vais défoncer ce boss en ranked ce soir.",
                "« Je sais où tu habites » : la journaliste a porté plainte pour ces messages.",
                "Faites attention à vos enfants sur les réseaux sociaux.",
                "Il faut que quelqu'un explique au maire que la piste est dangereuse.",
                "Tuer le processus suffit, pas besoin de redémarrer le serveur.",
                "Faut que quelqu'un meure pour qu'ils réparent ce carrefour ?",
                "Mon colis n'est pas arrivé en un seul morceau.",
            ],
        );
    }

    #[test]
    fn french_spam_families_hold_link_drops_giveaways_and_services_by_phone() {
        assert_held_by(&[
            (
                "Super article ! Le meilleur comparatif est sur top-robots-cuisine-pas-cher.fr",
                "spam-seo-domain-fr",
            ),
            (
                "Carrefour offre 3 bons d'achat, il suffit de commenter MERCI et de partager",
                "spam-giveaway-fr",
            ),
            (
                "Voyance sérieuse et retour affectif rapide, appelez le 01 99 00 12 34",
                "spam-services-phone-fr",
            ),
        ]);
        assert_not_held_by(
            "spam-",
            &[
            "Source : le rapport est sur service-public.fr, page 4.",
            "Attention, arnaque : « serrurier pas cher 06 39 98 00 00 » demande 900 € après coup.",
            "J'ai payé mon serrurier 120 €, c'est le tarif normal.",
            ],
        );
    }
}
