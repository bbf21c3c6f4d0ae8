//! Loading a rule file: the TOML as written (`raw`), checked section by section and compiled
//! into a [`RuleSet`]. Every refusal names the file, the line and the reason ([`RuleError`]).

use regex::Regex;
use toml::Spanned;

use super::raw::{
    RawFile, RawLinks, RawMentionLang, RawMentions, RawRate, RawRegex, RawShout, RawWords,
};
use super::{
    build_regex, Action, AuthorRate, CountRule, Lang, LinkRule, MentionContext, Mentions, Meta,
    RegexGroup, RuleCategory, RuleError, RuleSet, ShoutRule, WordEntry, MAX_RATE_WINDOW_SECS,
};
use crate::scoring::hash::FxHashMap;
use crate::scoring::normalise::normalise;

/// The 1-based line of byte `pos` in `text`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The rule file as written; a TOML error (syntax, unknown field) names its line.
fn parse_raw(text: &str, file_name: &str) -> Result<RawFile, RuleError> {
    toml::from_str(text).map_err(|e| RuleError {
        file: file_name.to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        reason: e.message().trim().to_string(),
    })
}

/// The regex patterns of one ungated group (original or normalised text), with each pattern's
/// index in `regex_meta`, in file order.
#[derive(Default)]
struct Patterns {
    pats: Vec<Regex>,
    idxs: Vec<usize>,
}

/// What compiling a file needs besides the rule set being built: the text (for line numbers),
/// the file name (for errors) and the rule ids seen so far (ids are unique in a file).
struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    ids: std::collections::HashSet<String>,
    /// Every pattern compiled so far: a pattern is compiled once (the threat rules share their
    /// `unless`; compiling is most of a rule set's load time).
    compiled: std::collections::HashMap<String, Regex>,
    /// The file's `[patterns]`, which a value `$name` refers to.
    patterns: &'a std::collections::BTreeMap<String, Spanned<String>>,
}

impl Ctx<'_> {
    fn line(&self, pos: usize) -> usize {
        line_of(self.text, pos)
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

    /// The fields every rule has: a new id, an action, a category (or `default_cat`) and a
    /// language (or any).
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
        Ok(Meta {
            id: idv.to_string(),
            action: a,
            category: self.category(category, default_cat)?,
            lang: self.lang(lang)?,
        })
    }

    /// A rule's `category`, `default_cat` when absent.
    fn category(
        &self,
        category: Option<&Spanned<String>>,
        default_cat: RuleCategory,
    ) -> Result<RuleCategory, RuleError> {
        let Some(c) = category else {
            return Ok(default_cat);
        };
        match RuleCategory::parse(c.get_ref().trim()) {
            Some(c) => Ok(c),
            None => self.err(
                c.span(),
                format!(
                    "unknown category `{}` (expected toxicity, spam or behaviour)",
                    c.get_ref()
                ),
            ),
        }
    }

    /// A rule's `lang`, any when absent.
    fn lang(&self, lang: Option<&Spanned<String>>) -> Result<Lang, RuleError> {
        let Some(l) = lang else {
            return Ok(Lang::Any);
        };
        match l.get_ref().trim() {
            "any" | "*" => Ok(Lang::Any),
            "fr" => Ok(Lang::Fr),
            "en" => Ok(Lang::En),
            other => self.err(
                l.span(),
                format!("unknown language `{other}` (expected fr, en or any)"),
            ),
        }
    }

    /// `[[words]]`: each list's terms, indexed by their first normalised token.
    fn words(&mut self, rs: &mut RuleSet, raw: &[RawWords]) -> Result<(), RuleError> {
        for w in raw {
            let meta = self.meta(
                &w.id,
                &w.action,
                w.category.as_ref(),
                w.lang.as_ref(),
                RuleCategory::Toxicity,
            )?;
            let mention = match &w.mention_unless {
                Some(m) => Some(self.regex(m, "mention_unless", &meta)?),
                None => None,
            };
            let li = rs.lists.len() as u32;
            rs.lists.push(meta);
            rs.list_mention_unless.push(mention);
            if w.terms.get_ref().is_empty() {
                return self.err(w.terms.span(), "word list `terms` is empty");
            }
            for t in w.terms.get_ref() {
                self.term(rs, li, t)?;
            }
        }
        Ok(())
    }

    /// One term of word list `li`: a word, or a phrase (also matched hyphenated).
    fn term(&self, rs: &mut RuleSet, li: u32, t: &Spanned<String>) -> Result<(), RuleError> {
        let n = normalise(t.get_ref());
        if n.tokens.is_empty() {
            return self.err(
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
        Ok(())
    }

    /// `[[regex]]`: gated rules compiled one by one, the others grouped per text they run on.
    fn regexes(&mut self, rs: &mut RuleSet, raw: &[RawRegex]) -> Result<(), RuleError> {
        let mut orig = Patterns::default();
        let mut norm = Patterns::default();
        for r in raw {
            let meta = self.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                r.lang.as_ref(),
                RuleCategory::Spam,
            )?;
            let on_norm = self.regex_on(r)?;
            let re = self.regex(&r.pattern, "pattern", &meta)?;
            let unless = self.optional(r.unless.as_ref(), "unless", &meta)?;
            let unless = match (unless, &r.unless_sentences) {
                (None, Some(n)) => {
                    return self.err(
                        n.span(),
                        "`unless_sentences` says where `unless` is read: it needs `unless`",
                    )
                }
                (u, n) => u.map(|u| (u, n.as_ref().map(|n| *n.get_ref()))),
            };
            let prefilter = self.optional(r.prefilter.as_ref(), "prefilter", &meta)?;
            let mention = self.optional(r.mention_unless.as_ref(), "mention_unless", &meta)?;
            let overlapping = self.quoted_overlapping(r)?;
            let mention = mention.map(|m| (m, overlapping));
            let idx = rs.regex_meta.len();
            rs.regex_meta.push((meta, on_norm));
            rs.regex_unless.push(unless);
            rs.regex_mention_unless.push(mention);
            rs.regex_prefilter.push(prefilter);
            if let Some(req) = &r.requires {
                self.gated(rs, re, req, idx)?;
                continue;
            }
            let target = if on_norm { &mut norm } else { &mut orig };
            target.pats.push(re);
            target.idxs.push(idx);
        }
        rs.regex_orig = RegexGroup::build(orig.pats, orig.idxs, &rs.regex_meta);
        rs.regex_norm = RegexGroup::build(norm.pats, norm.idxs, &rs.regex_meta);
        Ok(())
    }

    /// Whether a regex rule runs on the normalised text (`on`).
    fn regex_on(&self, r: &RawRegex) -> Result<bool, RuleError> {
        let Some(on) = &r.on else {
            return Ok(false);
        };
        match on.get_ref().as_str() {
            "original" => Ok(false),
            "normalised" | "normalized" => Ok(true),
            other => self.err(
                on.span(),
                format!("unknown `on` value `{other}` (expected original or normalised)"),
            ),
        }
    }

    /// A regex rule's `quoted`: whether a match overlapping a quote is quoted ("overlapping")
    /// or only one inside it ("inside", the default).
    fn quoted_overlapping(&self, r: &RawRegex) -> Result<bool, RuleError> {
        let Some(q) = &r.quoted else {
            return Ok(false);
        };
        if r.mention_unless.is_none() {
            return self.err(
                q.span(),
                "`quoted` says where a mention stands: it needs `mention_unless`",
            );
        }
        match q.get_ref().as_str() {
            "inside" => Ok(false),
            "overlapping" => Ok(true),
            other => self.err(
                q.span(),
                format!("unknown `quoted` value `{other}` (expected inside or overlapping)"),
            ),
        }
    }

    /// `pattern`, compiled once per distinct text (see [`Ctx::compiled`]).
    fn compile(&mut self, pattern: &str) -> Result<Regex, regex::Error> {
        if let Some(re) = self.compiled.get(pattern) {
            return Ok(re.clone());
        }
        let re = build_regex(pattern)?;
        self.compiled.insert(pattern.to_string(), re.clone());
        Ok(re)
    }

    /// A rule's regex (its `field`), written in place or as `$name` of a `[patterns]` entry,
    /// compiled; refused with the rule's id when the name is unknown or the regex does not
    /// compile within the per-rule size limit.
    fn regex(
        &mut self,
        value: &Spanned<String>,
        field: &str,
        meta: &Meta,
    ) -> Result<Regex, RuleError> {
        let text = value.get_ref();
        let pattern = match text.strip_prefix('$') {
            // `$` then a letter never matches as a regex: it names a shared pattern
            Some(name) if name.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                match self.patterns.get(name) {
                    Some(p) => p.get_ref().as_str(),
                    None => {
                        return self.err(
                            value.span(),
                            format!("rule `{}`: `{field}` names an unknown pattern `{text}` (not in [patterns])", meta.id),
                        )
                    }
                }
            }
            _ => text.as_str(),
        };
        self.compile(pattern).or_else(|e| {
            let msg = e.to_string().replace('\n', " ");
            let what = if field == "pattern" {
                "regex".to_string()
            } else {
                format!("`{field}` regex")
            };
            self.err(
                value.span(),
                format!("invalid {what} in rule `{}`: {msg}", meta.id),
            )
        })
    }

    /// Compiles every `[patterns]` entry, so that a bad one is refused with its line even
    /// before a rule uses it; the rules then reuse them (see [`Ctx::compile`]).
    fn shared_patterns(&mut self) -> Result<(), RuleError> {
        for (name, p) in self.patterns {
            if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                return self.err(
                    p.span(),
                    format!("pattern name `{name}` must start with a letter (rules refer to it as \"$name\")"),
                );
            }
            if let Err(e) = self.compile(p.get_ref()) {
                let msg = e.to_string().replace('\n', " ");
                return self.err(
                    p.span(),
                    format!("invalid regex in [patterns] `{name}`: {msg}"),
                );
            }
        }
        Ok(())
    }

    /// An optional regex field of a rule (`unless`, `prefilter`), compiled.
    fn optional(
        &mut self,
        value: Option<&Spanned<String>>,
        field: &str,
        meta: &Meta,
    ) -> Result<Option<Regex>, RuleError> {
        value.map(|v| self.regex(v, field, meta)).transpose()
    }

    /// `[mentions.<lang>] reported` and `condemned`: regexes whose capture groups named `q`
    /// (`reported`) or starting with `q` (`condemned`: `q1`, `q2`…) are what is reported.
    /// Two regexes, not one: together they pass the per-regex size limit.
    fn reported(
        &mut self,
        reported: Option<&Spanned<String>>,
        condemned: Option<&Spanned<String>>,
        meta: &Meta,
    ) -> Result<Vec<Regex>, RuleError> {
        let mut out = Vec::new();
        for (v, field) in [(reported, "reported"), (condemned, "condemned")] {
            let Some(v) = v else { continue };
            let re = self.regex(v, field, meta)?;
            let named = |n: &str| {
                if field == "reported" {
                    n == "q"
                } else {
                    n.starts_with('q') && n != "q"
                }
            };
            if !re.capture_names().flatten().any(named) {
                let what = if field == "reported" {
                    "a capture group named `q`"
                } else {
                    "capture groups named `q1`, `q2`…"
                };
                return self.err(
                    v.span(),
                    format!(
                        "rule `{}`: `{field}` needs {what} (what is reported)",
                        meta.id
                    ),
                );
            }
            out.push(re);
        }
        Ok(out)
    }

    /// A regex rule run only when one of its `requires` words is a token of the comment: each
    /// word's tokens open the gate.
    fn gated(
        &self,
        rs: &mut RuleSet,
        re: Regex,
        req: &Spanned<Vec<String>>,
        idx: usize,
    ) -> Result<(), RuleError> {
        if req.get_ref().is_empty() {
            return self.err(req.span(), "`requires` is empty");
        }
        let gi = rs.gated.len();
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
        Ok(())
    }

    /// `[[links]]`: a number of links from which the rule fires.
    fn links(&mut self, rs: &mut RuleSet, raw: &[RawLinks]) -> Result<(), RuleError> {
        for l in raw {
            let meta = self.meta(
                &l.id,
                &l.action,
                l.category.as_ref(),
                None,
                RuleCategory::Spam,
            )?;
            if l.min == 0 {
                return self.err(l.id.span(), "links rule needs `min` >= 1");
            }
            rs.links.push(LinkRule { meta, min: l.min });
        }
        Ok(())
    }

    /// `[[shouting]]`: a share of upper-case letters from which the rule fires.
    fn shouting(&mut self, rs: &mut RuleSet, raw: &[RawShout]) -> Result<(), RuleError> {
        for s in raw {
            let meta = self.meta(
                &s.id,
                &s.action,
                s.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            if !(s.ratio > 0.0 && s.ratio <= 1.0) {
                return self.err(s.id.span(), "shouting `ratio` must be in (0, 1]");
            }
            rs.shouting.push(ShoutRule {
                meta,
                min_letters: s.min_letters,
                ratio: s.ratio,
            });
        }
        Ok(())
    }

    /// `[repeated_post]`, `[new_author]` and `[recent_rejections]`: rules on the author's
    /// history.
    fn history(&mut self, rs: &mut RuleSet, raw: &RawFile) -> Result<(), RuleError> {
        if let Some(r) = &raw.repeated_post {
            rs.repeated_post = Some(self.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                r.lang.as_ref(),
                RuleCategory::Spam,
            )?);
        }
        if let Some(r) = &raw.new_author {
            let meta = self.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            rs.new_author = Some(CountRule { meta, n: r.n });
        }
        if let Some(r) = &raw.recent_rejections {
            let meta = self.meta(
                &r.id,
                &r.action,
                r.category.as_ref(),
                None,
                RuleCategory::Behaviour,
            )?;
            if r.n == 0 {
                return self.err(r.id.span(), "recent_rejections needs `n` >= 1");
            }
            rs.recent_rejections = Some(CountRule { meta, n: r.n });
        }
        Ok(())
    }

    /// `[author_rate]`: at most `max` comments per author within `window_secs`.
    fn author_rate(&mut self, r: &RawRate) -> Result<AuthorRate, RuleError> {
        let meta = self.meta(
            &r.id,
            &r.action,
            r.category.as_ref(),
            None,
            RuleCategory::Behaviour,
        )?;
        if r.max == 0 {
            return self.err(r.id.span(), "author_rate needs `max` >= 1");
        }
        if r.window_secs == 0 || r.window_secs > MAX_RATE_WINDOW_SECS {
            return self.err(
                r.id.span(),
                format!("author_rate needs `window_secs` from 1 to {MAX_RATE_WINDOW_SECS}"),
            );
        }
        Ok(AuthorRate {
            meta,
            max: r.max,
            window_secs: r.window_secs,
        })
    }

    /// `[mentions]`: a weight from 0 to 1 and, per language, the context and addressed
    /// patterns.
    fn mentions(&mut self, m: &RawMentions) -> Result<Mentions, RuleError> {
        let weight = *m.weight.get_ref();
        if !(0.0..=1.0).contains(&weight) {
            return self.err(
                m.weight.span(),
                format!("[mentions] `weight` must be from 0.0 to 1.0, not {weight}"),
            );
        }
        let spam_meta = Meta {
            id: "mentions".into(),
            action: Action::Flag,
            category: RuleCategory::Spam,
            lang: Lang::Any,
        };
        let spam_context = self.optional(m.spam_context.as_ref(), "spam_context", &spam_meta)?;
        let mut by_lang = [None, None];
        for (k, (raw, lang, name)) in [(&m.fr, Lang::Fr, "fr"), (&m.en, Lang::En, "en")]
            .into_iter()
            .enumerate()
        {
            let Some(RawMentionLang {
                context,
                addressed,
                framed,
                reported,
                condemned,
            }) = raw
            else {
                continue;
            };
            let meta = Meta {
                id: format!("mentions.{name}"),
                action: Action::Flag,
                category: RuleCategory::Toxicity,
                lang,
            };
            by_lang[k] = Some(MentionContext {
                context: self.regex(context, "context", &meta)?,
                addressed: self.optional(addressed.as_ref(), "addressed", &meta)?,
                framed: self.optional(framed.as_ref(), "framed", &meta)?,
                reported: self.reported(reported.as_ref(), condemned.as_ref(), &meta)?,
            });
        }
        Ok(Mentions {
            weight,
            spam_context,
            by_lang,
        })
    }
}

impl RuleSet {
    /// Parse and compile a rule file. `file_name` is only used in error messages.
    pub fn from_toml(text: &str, file_name: &str) -> Result<RuleSet, RuleError> {
        let raw = parse_raw(text, file_name)?;
        let mut cx = Ctx {
            text,
            file: file_name,
            ids: Default::default(),
            compiled: Default::default(),
            patterns: &raw.patterns,
        };
        let mut rs = RuleSet::empty(
            raw.name.clone().unwrap_or_else(|| file_name.to_string()),
            text.to_string(),
        );
        cx.shared_patterns()?;
        cx.words(&mut rs, &raw.words)?;
        cx.regexes(&mut rs, &raw.regex)?;
        cx.links(&mut rs, &raw.links)?;
        cx.shouting(&mut rs, &raw.shouting)?;
        cx.history(&mut rs, &raw)?;
        if let Some(r) = &raw.author_rate {
            rs.author_rate = Some(cx.author_rate(r)?);
        }
        if let Some(m) = &raw.mentions {
            rs.mentions = Some(cx.mentions(m)?);
        }
        Ok(rs)
    }

    /// A rule set with no rules yet.
    fn empty(name: String, source: String) -> RuleSet {
        RuleSet {
            name,
            source,
            lists: Vec::new(),
            list_mention_unless: Vec::new(),
            tokens: FxHashMap::default(),
            regex_meta: Vec::new(),
            regex_unless: Vec::new(),
            regex_mention_unless: Vec::new(),
            regex_prefilter: Vec::new(),
            regex_orig: None,
            regex_norm: None,
            gated: Vec::new(),
            links: Vec::new(),
            shouting: Vec::new(),
            repeated_post: None,
            new_author: None,
            recent_rejections: None,
            author_rate: None,
            mentions: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mentions_section_is_checked_with_its_line() {
        let ok = "[patterns]\nctx = 'lamentable'\n\n[mentions]\nweight = 0.5\n\n\
                  [mentions.fr]\ncontext = \"$ctx\"\naddressed = 'es «Q»'\n";
        let rs = RuleSet::from_toml(ok, "m.toml").unwrap();
        let t = "« con » ici, lamentable";
        assert_eq!(rs.mentioned_quotes(t, "fr").map(|m| m.0), Some(0.5));
        assert!(rs.mentioned_quotes(t, "en").is_none());
        for (bad, line, what) in [
            (
                ok.replace("0.5", "1.5"),
                5,
                "`weight` must be from 0.0 to 1.0",
            ),
            (ok.replace("$ctx", "$nope"), 8, "unknown pattern `$nope`"),
            (
                ok.replace("'es «Q»'", "'(oops'"),
                9,
                "invalid `addressed` regex",
            ),
            (
                ok.replace("addressed", "adressed"),
                9,
                "unknown field `adressed`",
            ),
            (
                format!("{ok}reported = 'arrêtez de dire que (.+)'\n"),
                10,
                "`reported` needs a capture group named `q`",
            ),
            (
                format!("{ok}condemned = 'traiter (?P<q>.+) est honteux'\n"),
                10,
                "`condemned` needs capture groups named `q1`",
            ),
            (
                ok.replace("weight = 0.5\n", "weight = 0.5\nspam_context = '(oops'\n"),
                6,
                "invalid `spam_context` regex",
            ),
        ] {
            let e = RuleSet::from_toml(&bad, "m.toml").unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.reason.contains(what), "{e}");
        }
        // `spam_context`: quotes in a comment whose own words warn, in any language
        assert!(rs.spam_mentioned_quotes(t).is_none());
        let spam = ok.replace("weight = 0.5\n", "weight = 0.5\nspam_context = 'arnaque'\n");
        let rs = RuleSet::from_toml(&spam, "m.toml").unwrap();
        let warned = "« gagnez 500 € » : arnaque";
        assert_eq!(rs.spam_mentioned_quotes(warned), Some((0.5, vec![(2, 18)])));
        assert!(rs
            .spam_mentioned_quotes("« gagnez 500 € » : super")
            .is_none());
        assert!(rs
            .spam_mentioned_quotes("gagnez 500 €, pas une arnaque")
            .is_none());
    }

    #[test]
    fn quoted_overlapping_makes_a_match_sharing_words_with_a_quote_a_mention() {
        let file = "[[regex]]\nid = \"t\"\naction = \"hold\"\non = \"normalised\"\n\
                    pattern = 'faire sauter la \\w+'\nmention_unless = '\\w'\nquoted = \"overlapping\"\n";
        let fired =
            |rs: &RuleSet, text: &str| super::super::eval::tests::hits(rs, text, "fr").len();
        let text = "Il avait promis de « faire sauter » la préfecture, il a été jugé.";
        let rs = RuleSet::from_toml(file, "q.toml").unwrap();
        assert_eq!(fired(&rs, text), 0);
        // the same rule written beside an unrelated quote keeps its hit
        assert_eq!(
            fired(&rs, "Tu dis « non » ? On va faire sauter la mairie."),
            1
        );
        // by default (`inside`) the match must lie within the quote
        let inside = RuleSet::from_toml(&file.replace("overlapping", "inside"), "q.toml").unwrap();
        assert_eq!(fired(&inside, text), 1);
        let e = RuleSet::from_toml(&file.replace("overlapping", "partly"), "q.toml").unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.reason.contains("unknown `quoted` value `partly`"), "{e}");
        // without `mention_unless` it would say nothing: refused
        let alone = file.replace("mention_unless = '\\w'\n", "");
        let e = RuleSet::from_toml(&alone, "q.toml").unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.reason.contains("needs `mention_unless`"), "{e}");
    }

    #[test]
    fn unless_sentences_reads_unless_only_around_the_match() {
        let file = "[[regex]]\nid = \"t\"\naction = \"hold\"\non = \"normalised\"\n\
                    pattern = 'je vais te tuer'\nunless = '(?i)\\bmatch\\b'\nunless_sentences = 0\n";
        let fired =
            |rs: &RuleSet, text: &str| super::super::eval::tests::hits(rs, text, "fr").len();
        let rs = RuleSet::from_toml(file, "u.toml").unwrap();
        let long = "Quel match hier soir, une honte. Toi l'arbitre, je vais te tuer.";
        let banter = "Je vais te tuer au match retour, prépare-toi !";
        assert_eq!(fired(&rs, long), 1);
        assert_eq!(fired(&rs, banter), 0);
        // one sentence either side: the match's context is back in reach
        let wide = RuleSet::from_toml(&file.replace("= 0", "= 1"), "u.toml").unwrap();
        assert_eq!(fired(&wide, long), 0);
        // a second match outside the context's sentence still fires
        let two = "Je vais te tuer au match. Sérieux. Je vais te tuer.";
        assert_eq!(fired(&rs, two), 1);
        // by default `unless` is read on the whole comment
        let whole =
            RuleSet::from_toml(&file.replace("unless_sentences = 0\n", ""), "u.toml").unwrap();
        assert_eq!(fired(&whole, long), 0);
        assert_eq!(fired(&whole, two), 0);
        // without `unless` it would say nothing: refused with its line
        let alone = file.replace("unless = '(?i)\\bmatch\\b'\n", "");
        let e = RuleSet::from_toml(&alone, "u.toml").unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.reason.contains("needs `unless`"), "{e}");
    }

    #[test]
    fn a_regex_over_the_size_limit_is_refused_with_its_line() {
        // `\w{1000}` compiles to several MiB of Unicode classes: over the 1 MiB a rule may take.
        let big = "[[regex]]\nid = \"big\"\naction = \"flag\"\npattern = '\\w{1000}'\n";
        let e = RuleSet::from_toml(big, "big.toml").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.reason.contains("invalid regex in rule `big`"), "{e}");
        assert!(e.reason.contains("size limit"), "{e}");
        // A short repetition of the same class loads.
        let small = big.replace("{1000}", "{10}");
        assert!(RuleSet::from_toml(&small, "small.toml").is_ok());
    }

    #[test]
    fn a_shared_pattern_is_named_once_and_an_unknown_name_is_refused_with_its_line() {
        let file = "[patterns]\nquoted = '«[^»]+»'\n\n[[regex]]\nid = \"r\"\naction = \"hold\"\n\
                    pattern = '(?i)\\bvoleurs?\\b'\nunless = \"$quoted\"\n";
        let rs = RuleSet::from_toml(file, "p.toml").unwrap();
        let fired = |text: &str| super::super::eval::tests::hits(&rs, text, "fr").len();
        assert_eq!(fired("Ce sont des voleurs."), 1);
        assert_eq!(fired("Il a écrit « des voleurs » et a été condamné."), 0);
        let e = RuleSet::from_toml(&file.replace("$quoted", "$quote"), "p.toml").unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(e.reason.contains("unknown pattern `$quote`"), "{e}");
        // a shared pattern is checked even when no rule uses it
        let bad = file.replace("quoted = '«[^»]+»'", "quoted = '«[^»]+»'\nunused = '(oops'");
        let e = RuleSet::from_toml(&bad, "p.toml").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.reason.contains("[patterns] `unused`"), "{e}");
        // `$` before anything but a letter is a regex (an end anchor)
        let anchored = file.replace("\"$quoted\"", "'$^'");
        assert!(RuleSet::from_toml(&anchored, "p.toml").is_ok());
    }

    #[test]
    fn a_prefilter_lets_the_pattern_run_only_where_it_matches_and_a_bad_one_is_refused() {
        let file = "[[regex]]\nid = \"r\"\naction = \"hold\"\n\
                    pattern = '(?i)\\bvoleurs?\\b'\nprefilter = '(?i)voleur'\n";
        let rs = RuleSet::from_toml(file, "p.toml").unwrap();
        let fired =
            |rs: &RuleSet, text: &str| super::super::eval::tests::hits(rs, text, "fr").len();
        assert_eq!(fired(&rs, "Ce sont des voleurs."), 1);
        assert_eq!(fired(&rs, "Ce sont des volontaires."), 0);
        // the prefilter decides whether the pattern runs, never what it matches: one that is
        // not a necessary condition hides the pattern's hits (the rule file's author's mistake)
        let wrong =
            RuleSet::from_toml(&file.replace("'(?i)voleur'", "'escroc'"), "p.toml").unwrap();
        assert_eq!(fired(&wrong, "Ce sont des voleurs."), 0);
        assert_eq!(fired(&wrong, "Ce sont des voleurs et des escrocs."), 1);
        let e = RuleSet::from_toml(&file.replace("'(?i)voleur'", "'(oops'"), "p.toml").unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(
            e.reason.contains("invalid `prefilter` regex in rule `r`"),
            "{e}"
        );
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
