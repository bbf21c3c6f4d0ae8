//! Running a compiled [`RuleSet`] on one comment: words and phrases by token lookup, the regexes
//! their tokens open, the regexes of the comment's language, then shape and author-history rules. This is
//! the scoring hot path: helpers borrow the caller's buffers and allocate only for hits.

use super::{Mention, MentionContext, Meta, RegexGroup, RuleHit, RuleSet};
use crate::scoring::normalise::Normalised;
use crate::scoring::{quotes, AuthorHistory};

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
    /// A regex rule's hit: the matched text (at most 64 characters) and its span in the
    /// original (mapped back through the tokens when the regex ran on the normalised text).
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

    /// The regex rule's `prefilter`, if any, matches `text`: its pattern may match there.
    #[inline]
    fn may_match(&self, idx: usize, text: &str) -> bool {
        self.regex_prefilter[idx]
            .as_ref()
            .is_none_or(|p| p.is_match(text))
    }

    /// The regex rule's `unless` pattern cancels `hit`: it matches the original text, or with
    /// `unless_sentences` the sentences around the hit.
    fn cancelled(&self, idx: usize, original: &str, hit: &RuleHit) -> bool {
        let Some((u, scope)) = self.regex_unless[idx].as_ref() else {
            return false;
        };
        match (scope, hit.start, hit.end) {
            (Some(n), Some(start), Some(end)) => {
                let (s, e) = quotes::sentences_around(original, start as usize, end as usize, *n);
                u.is_match(&original[s..e])
            }
            _ => u.is_match(original),
        }
    }

    /// The first match of regex rule `idx` in `text` that is a use, not a mention, and that
    /// its `unless` does not cancel.
    fn regex_rule_hit(
        &self,
        idx: usize,
        re: &regex::Regex,
        text: &str,
        inp: &RuleInput<'_>,
    ) -> Option<RuleHit> {
        let (meta, on_norm) = &self.regex_meta[idx];
        let f = re.find(text)?;
        let hit = Self::regex_hit(meta, *on_norm, inp.norm, f);
        let scoped = matches!(self.regex_unless[idx], Some((_, Some(_))));
        // read over the whole comment, `unless` cancels every match at once
        if !scoped && self.cancelled(idx, inp.original, &hit) {
            return None;
        }
        let mention = self.regex_mention_unless[idx].as_ref();
        // the comment's quotes and reports, and whether its own words match `mention_unless`:
        // worked out once, for every match of the rule
        let mut memo = None;
        let mut accepted = |h: &RuleHit| {
            !(scoped && self.cancelled(idx, inp.original, h))
                && mention.is_none_or(|m| !self.mentioned_match(m, inp, h, &mut memo))
        };
        if accepted(&hit) {
            return Some(hit);
        }
        re.find_iter(text)
            .skip(1)
            .map(|f| Self::regex_hit(meta, *on_norm, inp.norm, f))
            .find(accepted)
    }

    /// The regex rule's match `hit` is a mention: it lies inside a quote (or what a
    /// `[mentions]` `reported` frame reports, or after its `framed` words), or with
    /// `overlapping` (`quoted = "overlapping"`) shares a byte with a quote, and the rule's
    /// `mention_unless` (`m`) matches the writer's own words, outside the quotes. `memo` keeps
    /// the quotes, the reports and that answer for the rule's other matches.
    #[cold]
    fn mentioned_match(
        &self,
        &(ref m, overlapping): &(regex::Regex, bool),
        inp: &RuleInput<'_>,
        hit: &RuleHit,
        memo: &mut Option<(Spans, Spans, bool)>,
    ) -> bool {
        let (Some(start), Some(end)) = (hit.start, hit.end) else {
            return false;
        };
        let original = inp.original;
        let (quoted, reported, own_words) = memo.get_or_insert_with(|| {
            let quoted = quotes::spans(original);
            let reported = self.reported_spans(inp.lang, original);
            let mut all = [quoted.as_slice(), reported.as_slice()].concat();
            all.sort_unstable();
            let own_words = m.is_match(&quotes::outside(original, &all));
            (quoted, reported, own_words)
        });
        let (start, end) = (start as usize, end as usize);
        *own_words
            && (overlapping && quotes::overlaps(quoted, start, end)
                || self.mention_span(inp.lang, original, (start, end), quoted, reported))
    }

    /// `original[start..end]` stands where a mention can: between quotation marks, after the
    /// words of `[mentions]`'s `framed` pattern, or in what a `reported` frame reports unless it
    /// is aimed at someone there (`addressed`: "arrête de dire que je mens espèce de connard",
    /// "stop saying that crap you idiot" — the report's own words are the writer's; inside
    /// quotation marks they are someone else's, so "« sale connard »" stays a quote).
    fn mention_span(
        &self,
        lang: &str,
        original: &str,
        (start, end): (usize, usize),
        quoted: &[(usize, usize)],
        reported: &[(usize, usize)],
    ) -> bool {
        if quotes::within(quoted, start, end) || self.framed(lang, original, start, end) {
            return true;
        }
        quotes::within(reported, start, end)
            && !self
                .mention_context(lang)
                .and_then(|cx| cx.addressed.as_ref())
                .is_some_and(|a| a.is_match(&probe(original, start, end)))
    }

    /// The term at `start..end` of word list `list` is a mention: it stands between quotation
    /// marks or after the words of `[mentions]`'s `framed` pattern ("le mot", "the word"), and
    /// the list's `mention_unless` matches the comment. `memo` keeps what does not depend on
    /// the term (where the quotes are, whether a list's pattern matches) for the comment's
    /// other hits: a long comment with a thousand quoted insults scans its text once, not a
    /// thousand times.
    #[cold]
    fn mentioned(
        &self,
        list: usize,
        inp: &RuleInput<'_>,
        (start, end): (u32, u32),
        memo: &mut MentionMemo,
    ) -> bool {
        let Some(m) = self.list_mention_unless[list].as_ref() else {
            return false;
        };
        let (original, start, end) = (inp.original, start as usize, end as usize);
        let (quoted, reported) = memo.spans.get_or_insert_with(|| {
            (
                quotes::spans(original),
                self.reported_spans(inp.lang, original),
            )
        });
        if !self.mention_span(inp.lang, original, (start, end), quoted, reported) {
            return false;
        }
        match memo.context.iter().find(|(l, _)| *l == list) {
            Some(&(_, matched)) => matched,
            None => {
                let matched = m.is_match(original);
                memo.context.push((list, matched));
                matched
            }
        }
    }

    /// The `[mentions]` patterns of a comment language, if the file has them.
    fn mention_context(&self, lang: &str) -> Option<&MentionContext> {
        let slot = match lang {
            "fr" => 0,
            "en" => 1,
            _ => return None,
        };
        self.mentions.as_ref()?.by_lang[slot].as_ref()
    }

    /// `[mentions]`'s `framed` pattern of `lang` matches the words around `original[start..end]`.
    fn framed(&self, lang: &str, original: &str, start: usize, end: usize) -> bool {
        self.mention_context(lang)
            .and_then(|cx| cx.framed.as_ref())
            .is_some_and(|f| f.is_match(&probe(original, start, end)))
    }

    /// The quotes of `original` that its writer mentions rather than uses, and how much the
    /// classifier's evidence inside them counts (`[mentions]`): every quoted span when the rule
    /// file has a `[mentions]` entry for `lang` and the writer's own words (the text outside
    /// the quotes) match its `context`, less the spans whose surrounding words match
    /// `addressed` (scare quotes aimed at someone). `None` when nothing is a mention.
    pub fn mentioned_quotes(&self, original: &str, lang: &str) -> Option<Mention> {
        let [tox, _] = self.mentions_of(original, lang, [true, false]);
        tox
    }

    /// The quotes of a comment that warns about what it quotes (`[mentions] spam_context`
    /// matches its own words): the weight of the spam evidence inside them and their byte
    /// ranges. A reader quoting a scam message to warn others mentions it.
    pub fn spam_mentioned_quotes(&self, original: &str) -> Option<Mention> {
        let [_, spam] = self.mentions_of(original, "", [false, true]);
        spam
    }

    /// [`RuleSet::mentioned_quotes`] and [`RuleSet::spam_mentioned_quotes`] at once: the
    /// quotes and the words outside them are found once.
    pub fn mentions_of(&self, original: &str, lang: &str, want: [bool; 2]) -> [Option<Mention>; 2] {
        let Some(m) = self.mentions.as_ref() else {
            return [None, None];
        };
        let cx = self.mention_context(lang).filter(|_| want[0]);
        let spam_cx = m.spam_context.as_ref().filter(|_| want[1]);
        if cx.is_none() && spam_cx.is_none() {
            return [None, None];
        }
        // the quoted spans and the writer's own words, when there are quotes
        let quoted = quotes::may_quote(original)
            .then(|| quotes::spans(original))
            .filter(|spans| !spans.is_empty())
            .map(|spans| {
                let outside = quotes::outside(original, &spans);
                (spans, outside)
            });
        let spam = spam_cx.and_then(|r| {
            quoted
                .as_ref()
                .filter(|(_, outside)| r.is_match(outside))
                .map(|(spans, _)| (m.weight, spans.clone()))
        });
        let tox = cx.and_then(|cx| {
            let mut spans = match &quoted {
                Some((spans, outside)) if cx.context.is_match(outside) => {
                    let mut spans = spans.clone();
                    if let Some(a) = &cx.addressed {
                        spans.retain(|&(s, e)| !a.is_match(&quote_probe(original, s, e)));
                    }
                    spans
                }
                _ => Vec::new(),
            };
            let reported = self.reported_spans(lang, original);
            if !reported.is_empty() {
                spans.extend(reported);
                // in order of their start, as the quotes are, and a quote inside a condemned
                // statement ("traiter X de « Y » parce que…, c'est lamentable") one with it
                spans.sort_unstable();
                spans.dedup_by(|next, kept| {
                    let joined = next.0 < kept.1;
                    if joined {
                        kept.1 = kept.1.max(next.1);
                    }
                    joined
                });
            }
            (!spans.is_empty()).then_some((m.weight, spans))
        });
        [tox, spam]
    }

    /// What `[mentions]`'s `reported` and `condemned` patterns of `lang` read as quoted in
    /// `original` (the group `q` of each match of `reported`: "arrêtez de dire que «les X sont
    /// …»"; the group `q1`, `q2`… that matched of `condemned`: "traiter «les X de Y», c'est
    /// indigne"), each pattern's in order: the callers that walk them sort them with the quotes.
    fn reported_spans(&self, lang: &str, original: &str) -> Vec<(usize, usize)> {
        let Some(cx) = self.mention_context(lang) else {
            return Vec::new();
        };
        let mut spans = Vec::new();
        for r in &cx.reported {
            // most comments have none: the lazy DFA says so without the capture engine's set-up
            if !r.is_match(original) {
                continue;
            }
            spans.extend(
                r.captures_iter(original)
                    .filter_map(|c| {
                        // the group of the frame that matched: `q`, or `condemned`'s `q1`, `q2`…
                        c.iter()
                            .zip(r.capture_names())
                            .find_map(|(m, n)| m.filter(|_| n.is_some_and(|n| n.starts_with('q'))))
                    })
                    .map(|m| {
                        let q = crate::scoring::normalise::head(m.as_str(), MAX_REPORTED);
                        (m.start(), m.start() + q.len())
                    }),
            );
        }
        spans
    }

    /// Run every rule; push hits into `out`.
    pub fn evaluate(&self, inp: &RuleInput<'_>, out: &mut Vec<RuleHit>) {
        let mut gates: Vec<usize> = Vec::new();
        let first = out.len();
        if !self.tokens.is_empty() {
            self.match_words(inp, &mut gates, out);
        }
        self.match_gated(inp, gates, first, out);
        self.match_regexes(inp, out);
        self.match_shape_and_history(inp, out);
    }

    /// Words and phrases, looked up by each token; records the gates the tokens open in
    /// `gates` (first seen first). A list hits a given start once.
    #[inline]
    fn match_words(&self, inp: &RuleInput<'_>, gates: &mut Vec<usize>, out: &mut Vec<RuleHit>) {
        let n = inp.norm;
        let toks = &n.tokens;
        let mut memo = MentionMemo::default();
        for (i, t) in toks.iter().enumerate() {
            let s = n.token_str(t);
            if s.contains('-') {
                self.open_segment_gates(s, gates);
            }
            let Some(tr) = self.tokens.get(s) else {
                continue;
            };
            Self::open_gates(&tr.gates, gates);
            for e in &tr.words {
                let meta = &self.lists[e.list as usize];
                if !Self::lang_ok(meta.lang, inp.lang) {
                    continue;
                }
                let ok = e
                    .rest
                    .iter()
                    .enumerate()
                    .all(|(k, w)| toks.get(i + 1 + k).is_some_and(|t2| n.token_str(t2) == w));
                if ok {
                    let last = &toks[i + e.rest.len()];
                    if out
                        .iter()
                        .any(|h| h.id == meta.id && h.start == Some(t.orig_start))
                        || self.mentioned(
                            e.list as usize,
                            inp,
                            (t.orig_start, last.orig_end),
                            &mut memo,
                        )
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

    /// Adds `opened` to `gates`, each once, keeping the order they were first seen in.
    #[inline]
    fn open_gates(opened: &[usize], gates: &mut Vec<usize>) {
        for &gi in opened {
            if !gates.contains(&gi) {
                gates.push(gi);
            }
        }
    }

    /// A hyphenated token ("depannage-express") also opens the gates of its parts: a regex on
    /// the original text sees "dépannage" as a word there, so its `requires` word must open.
    #[cold]
    fn open_segment_gates(&self, token: &str, gates: &mut Vec<usize>) {
        for seg in token.split('-') {
            if let Some(tr) = self.tokens.get(seg) {
                Self::open_gates(&tr.gates, gates);
            }
        }
    }

    /// The regexes opened by `gates`: their hits go before the words' (from `first`), in the
    /// order the gates were seen.
    #[inline]
    fn match_gated(
        &self,
        inp: &RuleInput<'_>,
        gates: Vec<usize>,
        first: usize,
        out: &mut Vec<RuleHit>,
    ) {
        let n = inp.norm;
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
            if !self.may_match(*idx, text) {
                continue;
            }
            if let Some(h) = self.regex_rule_hit(*idx, re, text, inp) {
                gated_hits.push(h);
            }
        }
        if !gated_hits.is_empty() {
            out.splice(first..first, gated_hits);
        }
    }

    /// The ungated regexes of the comment's language, on the original text then on the
    /// normalised one, in rule order.
    #[inline]
    fn match_regexes(&self, inp: &RuleInput<'_>, out: &mut Vec<RuleHit>) {
        let n = inp.norm;
        let slot = RegexGroup::slot(inp.lang);
        for (group, text) in [
            (&self.regex_orig, inp.original),
            (&self.regex_norm, n.text.as_str()),
        ] {
            let Some(group) = group.as_ref() else {
                continue;
            };
            for &member in &group.by_lang[slot] {
                let (idx, re) = &group.singles[member];
                if !self.may_match(*idx, text) {
                    continue;
                }
                if let Some(h) = self.regex_rule_hit(*idx, re, text, inp) {
                    out.push(h);
                }
            }
        }
    }

    /// Rules on the comment's shape (links, shouting) and on its author's history.
    #[inline]
    fn match_shape_and_history(&self, inp: &RuleInput<'_>, out: &mut Vec<RuleHit>) {
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

/// At most this many bytes after a `reported` frame are read as a quote (the pattern's group
/// `q` runs to the end of the clause, which a long rant may not have).
const MAX_REPORTED: usize = 240;

/// The words around the quote `original[s..e]`, the quote and its marks written `«Q»`: what
/// `[mentions]`'s `addressed` pattern reads ("t'es qu'un «Q», et", "the «Q» who wrote").
fn quote_probe(original: &str, s: usize, e: usize) -> String {
    let open = original[..s].chars().next_back().map_or(0, char::len_utf8);
    let close = original[e..].chars().next().map_or(0, char::len_utf8);
    probe(original, s - open, e + close)
}

/// `original` from up to 48 bytes before `before_end` to up to 32 bytes after `after_start`,
/// with what lies between written `«Q»`.
fn probe(original: &str, before_end: usize, after_start: usize) -> String {
    let mut from = before_end.saturating_sub(48);
    while !original.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (after_start + 32).min(original.len());
    while !original.is_char_boundary(to) {
        to += 1;
    }
    format!(
        "{}«Q»{}",
        &original[from..before_end],
        &original[after_start..to]
    )
}

/// Byte spans of a text, in order.
type Spans = Vec<(usize, usize)>;

/// What [`RuleSet::mentioned`] works out once per comment: the quoted spans, and per word list
/// (by index) whether its `mention_unless` matches.
#[derive(Default)]
struct MentionMemo {
    /// The comment's quotes and reported statements.
    spans: Option<(Spans, Spans)>,
    context: Vec<(usize, bool)>,
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::scoring::normalise::normalise;
    use crate::scoring::rules::{default_rules, Action, RuleCategory};

    /// What the rules fire on `text` for an author with ten approved comments.
    pub(in crate::scoring::rules) fn hits(rs: &RuleSet, text: &str, lang: &str) -> Vec<RuleHit> {
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

    /// Asserts that the default rule `id` fires on every text of `held` and on none of `not`.
    fn assert_rule_fires(id: &str, lang: &str, held: &[&str], not: &[&str]) {
        let rs = default_rules();
        let fired = |text: &str| hits(&rs, text, lang).iter().any(|h| h.id == id);
        for text in held {
            assert!(fired(text), "{id} should fire: {text}");
        }
        for text in not {
            assert!(!fired(text), "{id} should not fire: {text}");
        }
    }

    #[test]
    fn a_quoted_insult_that_is_condemned_is_a_mention_not_a_use() {
        let rs = default_rules();
        let fired = |text: &str, lang: &str| -> Vec<String> {
            hits(&rs, text, lang).into_iter().map(|h| h.id).collect()
        };
        // mentions: between quotation marks, in a comment that condemns or reports the word
        for (text, lang) in [
            (
                "Traiter une élue de « salope » parce qu'elle vote contre, c'est lamentable.",
                "fr",
            ),
            ("Le mot “bougnoule” est raciste, point.", "fr"),
            ("Calling the reporter a \"whore\" is disgusting.", "en"),
            // aimed at someone inside the quote: the quoted writer's words, still a mention
            ("Il m'a écrit « sale connard », c'est honteux.", "fr"),
        ] {
            let ids = fired(text, lang);
            assert!(
                !ids.iter()
                    .any(|id| id.contains("slur") || id.contains("strong")),
                "{text}: {ids:?}"
            );
        }
        // uses: no quotation marks, scare quotes without a word that condemns, a quote that
        // closes before the insult
        for (text, lang) in [
            ("C'est lamentable ce que tu écris, pauvre connard.", "fr"),
            ("T'es qu'un « connard », et tout le monde le sait.", "fr"),
            ("« Honte à vous », sale bougnoule.", "fr"),
            ("You \"reporter\" are a whore, report me if you want.", "en"),
        ] {
            let ids = fired(text, lang);
            assert!(
                ids.iter()
                    .any(|id| id.contains("slur") || id.contains("strong")),
                "{text}: {ids:?}"
            );
        }
    }

    /// A hate statement between quotation marks, in a comment whose own words (outside the
    /// quotes) report or condemn it, is a mention for the hate rules' `mention_unless`; the same
    /// statement unquoted, quoted without such words, or used again after the quote is a hit.
    #[test]
    fn a_quoted_hate_statement_condemned_in_the_writers_own_words_is_no_hate_hit() {
        let rs = default_rules();
        let hate = |text: &str, lang: &str| -> Vec<String> {
            hits(&rs, text, lang)
                .into_iter()
                .map(|h| h.id)
                .filter(|id| id.starts_with("hate-"))
                .collect()
        };
        for (text, lang) in [
            (
                "« Les migrants sont des parasites » : ce genre de phrase est honteux.",
                "fr",
            ),
            (
                "He posted \"immigrants are vermin\" and got banned, rightly.",
                "en",
            ),
            (
                "Writing \"kill all muslims\" under an article about a funeral is vile.",
                "en",
            ),
        ] {
            assert_eq!(hate(text, lang), Vec::<String>::new(), "{text}");
        }
        for (text, lang) in [
            (
                "Les migrants sont des parasites, c'est honteux mais vrai.",
                "fr",
            ),
            ("\"Immigrants are vermin\", and I stand by it.", "en"),
            // the words that condemn are inside the quote, not the writer's own
            ("\"Immigrants are vermin, disgusting ones\"", "en"),
            (
                "Someone wrote \"muslims are vermin\" and frankly muslims are vermin.",
                "en",
            ),
        ] {
            assert_eq!(hate(text, lang).len(), 1, "{text}");
        }
    }

    /// `original[start..end]` stands between quotation marks ([`quotes::spans`]).
    fn quoted(original: &str, start: usize, end: usize) -> bool {
        quotes::within(&quotes::spans(original), start, end)
    }

    #[test]
    fn quoted_looks_for_an_open_quotation_around_the_span() {
        let t = "Il a dit « casse-toi » puis \"va\" et 'non', l’élue a répondu ‘dégage’ à l’autre.";
        let at = |w: &str| {
            let s = t.find(w).unwrap();
            quoted(t, s, s + w.len())
        };
        assert!(at("casse-toi"));
        assert!(at("va"));
        assert!(!at("puis"));
        // a straight ' opens after a space and closes before a non-letter
        assert!(at("non"));
        assert!(!at("Il"));
        assert!(at("dégage"));
        // after an apostrophe ’ but no opening ‘
        assert!(!at("élue"));
        assert!(!at("autre"));
    }

    #[test]
    fn a_term_after_the_words_that_frame_a_mention_is_a_mention_without_quotes() {
        let rs = default_rules();
        let listed = |text: &str, lang: &str| {
            hits(&rs, text, lang).iter().any(|h| {
                ["homophobic", "strong", "slur"]
                    .iter()
                    .any(|k| h.id.contains(k))
            })
        };
        for (text, lang) in [
            ("Le mot pédé n'est pas une blague, arrêtez.", "fr"),
            (
                "Elle s'est fait traiter de salope pendant tout le live.",
                "fr",
            ),
            (
                "Nobody deserves to be called a slut for posting a photo.",
                "en",
            ),
            (
                "Whoever keeps calling the goalkeeper a faggot should be banned from the ground.",
                "en",
            ),
        ] {
            assert!(!listed(text, lang), "{text}");
        }
        for (text, lang) in [
            ("T'es qu'un pédé, et le mot est faible.", "fr"),
            ("Ferme-la, salope.", "fr"),
            ("Reported you, slut.", "en"),
            (
                "I'm calling you a faggot because that's what you are.",
                "en",
            ),
        ] {
            assert!(listed(text, lang), "{text}");
        }
    }

    /// What [`RuleSet::mentioned_quotes`] reads as quoted in `t`, as text.
    fn mentioned_texts(rs: &RuleSet, t: &str, lang: &str) -> Vec<String> {
        rs.mentioned_quotes(t, lang)
            .map(|(_, sp)| {
                sp.iter()
                    .map(|&(s, e)| t[s..e].trim().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A statement that is the subject of its own condemnation ("traiter X de Y, c'est
    /// indigne", "calling X Y is vile") is read as a quote: `condemned`'s groups. The same
    /// frames approving what they report, or without a condemnation after them, are not.
    #[test]
    fn a_condemned_statement_is_a_mention_without_quotation_marks() {
        let rs = default_rules();
        let quoted = |t: &str, lang: &str| mentioned_texts(&rs, t, lang);
        for (t, lang, q) in [
            (
                "Traiter les infirmières de feignasses, c'est indigne.",
                "fr",
                "les infirmières de feignasses",
            ),
            (
                "Franchement, dire que les Roms sont tous des voleurs en dit long sur vous.",
                "fr",
                "que les Roms sont tous des voleurs",
            ),
            (
                "Menacer de tuer un arbitre, ça peut valoir un procès.",
                "fr",
                "de tuer un arbitre",
            ),
            (
                "Ceux qui traitent les supporters adverses de singes devraient être bannis.",
                "fr",
                "les supporters adverses de singes",
            ),
            (
                "Le joueur qui a traité son adversaire de tarlouze doit être suspendu.",
                "fr",
                "son adversaire de tarlouze",
            ),
            (
                "Je ne laisserai personne dire que mon frère est un débile.",
                "fr",
                "que mon frère est un débile",
            ),
            (
                "Calling nurses lazy freeloaders is disgraceful.",
                "en",
                "nurses lazy freeloaders",
            ),
            (
                "Writing that all Muslims are terrorists says a lot about you.",
                "en",
                "that all Muslims are terrorists",
            ),
            (
                "Threatening to kill a referee will get you jailed.",
                "en",
                "to kill a referee",
            ),
            (
                "People who call refugees vermin should be ashamed.",
                "en",
                "refugees vermin",
            ),
            (
                "No one deserves to be called a dyke outside a bar.",
                "en",
                "a dyke outside a bar",
            ),
        ] {
            assert_eq!(quoted(t, lang), [q], "{t}");
        }
        for (t, lang) in [
            ("Dire que les Roms sont des voleurs, c'est la vérité.", "fr"),
            (
                "Dire que les femmes sont nulles en maths, c'est pas sexiste.",
                "fr",
            ),
            (
                "Traiter les vieux de boulets, c'est encore trop gentil.",
                "fr",
            ),
            (
                "On ne peut plus dire que les Noirs sont moins intelligents.",
                "fr",
            ),
            ("Ceux qui traitent les migrants de rats ont raison.", "fr"),
            ("Calling them parasites is being polite.", "en"),
            ("Saying Muslims are terrorists is just the truth.", "en"),
            ("Calling them vermin isn't wrong.", "en"),
            // the group stops at a comma: the writer's own insult after one stays his
            ("Calling people bigots, you idiot, is all you do.", "en"),
        ] {
            assert!(quoted(t, lang).is_empty(), "{t}: {:?}", quoted(t, lang));
        }
        // the frames' words are counted as a mention by the rules as well
        let ids = |t: &str, lang: &str| -> Vec<String> {
            hits(&rs, t, lang).into_iter().map(|h| h.id).collect()
        };
        for t in [
            "Dire que les Roms sont tous des voleurs, c'est une honte.",
            "Writing that all Muslims are terrorists says a lot about you.",
        ] {
            assert!(
                ids(t, if t.starts_with('D') { "fr" } else { "en" }).is_empty(),
                "{t}"
            );
        }
        assert_eq!(
            ids(
                "Dire que les Roms sont tous des voleurs, c'est la vérité.",
                "fr"
            ),
            ["hate-dehumanising-fr"]
        );
        assert_eq!(
            ids(
                "Writing that all Muslims are terrorists is just the truth.",
                "en"
            ),
            ["hate-dehumanising-en", "hate-stereotype-en"]
        );
    }

    /// Without quotation marks, a condemnation of what others say ("arrêtez de dire que…")
    /// reads what follows as a quote; the same words in the writer's own voice do not.
    #[test]
    fn reported_speech_is_a_mention_without_quotation_marks() {
        let rs = default_rules();
        let quoted = |t: &str, lang: &str| mentioned_texts(&rs, t, lang);
        for (t, lang, q) in [
            (
                "Vous devez arrêter de dire que les femmes sont dégueulasses.",
                "fr",
                "les femmes sont dégueulasses",
            ),
            (
                "Tu dois arrêter d'appeler les gens des connasses.",
                "fr",
                "les gens des connasses",
            ),
            (
                "Ces gens continuent à dire que les réfugiés sont des parasites !",
                "fr",
                "les réfugiés sont des parasites",
            ),
            (
                "Stop saying that immigrants are criminals.",
                "en",
                "immigrants are criminals",
            ),
        ] {
            assert_eq!(quoted(t, lang), [q], "{t}");
        }
        for (t, lang) in [
            (
                "Je continue à dire que les réfugiés sont des parasites.",
                "fr",
            ),
            (
                "Dire que les femmes sont inférieures, c'est la vérité.",
                "fr",
            ),
            ("I can't believe that women can vote.", "en"),
        ] {
            assert!(quoted(t, lang).is_empty(), "{t}");
        }
        // a sentence without an end is read for at most 240 bytes, cut on a character
        let long = format!(
            "Arrêtez de dire que {}",
            "les élus sont honnêtes et ".repeat(30)
        );
        let (_, sp) = rs.mentioned_quotes(&long, "fr").unwrap();
        assert!(
            sp[0].1 - sp[0].0 <= 240 && sp[0].1 - sp[0].0 > 230,
            "{sp:?}"
        );
        assert!(long.is_char_boundary(sp[0].1));
        // a word list's term inside is a mention, as between quotation marks
        let ids = |t: &str| -> Vec<String> {
            super::tests::hits(&rs, t, "fr")
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        assert!(!ids("Tu dois arrêter d'appeler les gens des connasses.")
            .contains(&"fr-insult-strong".to_string()));
        assert!(ids("Bande de connasses.").contains(&"fr-insult-strong".to_string()));
        // the report ends with its clause: an insult at the reader after a comma is a use
        for (t, lang, q) in [
            ("Arrête de dire que je mens, sale pute.", "fr", "je mens"),
            (
                "Arrêtez de dire que vous avez raison, bande de bougnoules.",
                "fr",
                "vous avez raison",
            ),
            ("Stop saying that, you faggot.", "en", "that"),
            // without a comma, the insult is in the report but aimed at the reader
            (
                "Arrête de dire que je mens espèce de connard",
                "fr",
                "je mens espèce de connard",
            ),
            (
                "Stop saying that crap you asshole",
                "en",
                "crap you asshole",
            ),
        ] {
            assert_eq!(quoted(t, lang), [q], "{t}");
            let fired: Vec<String> = super::tests::hits(&rs, t, lang)
                .into_iter()
                .map(|h| h.id)
                .collect();
            assert!(
                fired
                    .iter()
                    .any(|id| id.contains("slur") || id.contains("strong")),
                "{t}: {fired:?}"
            );
        }
    }

    #[test]
    fn mentioned_quotes_are_the_quotes_of_a_comment_that_reports_or_condemns_them() {
        let rs = default_rules();
        let t = "Traiter une élue de « salope » parce qu'elle vote contre, c'est lamentable.";
        let (w, spans) = rs.mentioned_quotes(t, "fr").unwrap();
        assert_eq!(w, 0.25);
        assert_eq!(
            spans
                .iter()
                .map(|&(s, e)| t[s..e].trim())
                .collect::<Vec<_>>(),
            ["une élue de « salope » parce qu'elle vote contre"],
            "the quote inside the condemned statement is one span with it"
        );
        let t = "Une élue traitée de « salope » parce qu'elle vote contre : lamentable.";
        let (_, spans) = rs.mentioned_quotes(t, "fr").unwrap();
        assert_eq!(
            spans
                .iter()
                .map(|&(s, e)| t[s..e].trim())
                .collect::<Vec<_>>(),
            ["salope"]
        );
        // the comment's own words must report or condemn: here the condemning word is quoted
        assert!(rs
            .mentioned_quotes("Ma voisine répète « quelle honte » à chaque match.", "fr")
            .is_none());
        // scare quotes aimed at someone keep their weight
        for (t, lang) in [
            (
                "T'es qu'un « génie », on le sait, ça se lit dans tes commentaires.",
                "fr",
            ),
            (
                "Le « sale arabe » qui a écrit cet article n'a rien compris.",
                "fr",
            ),
            ("You're a complete 'genius', as your comments show.", "en"),
        ] {
            assert!(rs.mentioned_quotes(t, lang).is_none(), "{t}");
        }
        // no quotes nor a condemned statement, another language, or a rule file without
        // [mentions]
        assert!(rs
            .mentioned_quotes("Cette élue est une salope, c'est lamentable.", "fr")
            .is_none());
        assert!(rs
            .mentioned_quotes("Llamar « puta » a una diputada es lamentable.", "es")
            .is_none());
        let bare = RuleSet::from_toml("name = \"bare\"\n", "bare.toml").unwrap();
        assert!(bare.mentioned_quotes(t, "fr").is_none());
    }

    #[test]
    fn a_weapon_or_an_act_named_by_the_writer_is_a_threat_and_news_or_games_are_not() {
        assert_rule_fires(
            "fr-threat-weapon",
            "fr",
            &[
                "Le jour où ils manifestent devant ma boutique, je sors le fusil.",
                "On attend le juge à la sortie avec des barres de fer.",
                "S'il y a une caméra de plus, on crame la mairie.",
                "Qu'on les pende, ces traîtres, sur la place publique.",
                "Tu effaces pas ce commentaire et je te démolis.",
            ],
            &[
                "Un chauffeur de bus a été menacé avec un couteau par un passager.",
                "Les bots du mode solo sont si nuls qu'on les tue en deux coups.",
                "Il a écrit « je sors le fusil » sous l'article, j'ai signalé.",
                "Je sors le couteau à pain, le gâteau est prêt.",
            ],
        );
    }

    /// Rules 07e: a helpline or a broadcast source is no spam offer; phishing that borrows a
    /// public body's name and ads open "7j/7" still are.
    #[test]
    fn helplines_and_replays_are_not_spam_offers_since_rules_07e() {
        assert_rule_fires(
            "spam-offer-contact-fr",
            "fr",
            &[
                "Gagnez 500 € par jour depuis chez vous, contactez-moi sur WhatsApp.",
                "Dossier ameli : 214 € à récupérer avant vendredi, cliquez ici : http://ameli-remb.xyz",
                "Serrurier 7j/7, devis gratuit, appelez le 06 39 98 12 34.",
            ],
            &[
                "Violences conjugales : appelez le 3919, anonyme et gratuit, même la nuit.",
                "Le reportage est gratuit en replay : https://www.france.tv/documentaires/",
                "Numéro vert gratuit pour les aidants : 0 800 12 34 56, on y est bien écouté.",
            ],
        );
    }

    /// Rules 07f, written on tests/eval/fr_spam_dev.csv's misses and false holds: links on the
    /// domain endings spam registers, domains spelled out with "point", links sent to a profile.
    #[test]
    fn cheap_domains_spelled_domains_and_profile_links_are_spam_since_rules_07f() {
        assert_rule_fires(
            "spam-cheap-domain",
            "fr",
            &[
                "Super article ! La vidéo complète est ici : clip-direct.xyz/v/88",
                "Écrivez-moi à contact.pret@finance-rapide.top pour un dossier.",
                "Great post, more on my blog https://crypto-tips.online/go",
            ],
            &[
                "Attention, arnaque : ne cliquez pas sur colis-suivi.top, c'est du phishing.",
                "Le site officiel est https://www.service-public.fr/particuliers.",
                "Les onglets du site, la boutique et le club de lecture sont en haut.",
            ],
        );
        assert_rule_fires(
            "spam-spelled-domain-fr",
            "fr",
            &[
                "Échantillon gratuit sur jeunesse-eternelle point online",
                "Packs à partir de 5 € sur boost24 point com",
            ],
            &["La bulle point com a éclaté en 2000, souvenez-vous."],
        );
        assert_rule_fires(
            "spam-profile-link-fr",
            "fr",
            &[
                "Je connais une dame qui prête sans condition, son contact est sur mon profil.",
                "Le remède que les pharmacies cachent, regardez ma bio.",
            ],
            &[
                "Son profil LinkedIn dit qu'il a travaillé dix ans chez Thales.",
                "Méfiez-vous des « lien en bio » sous les articles, c'est toujours une arnaque.",
            ],
        );
        // a warning that copies the message it got: its quote is a mention
        assert_rule_fires(
            "spam-phone-number",
            "fr",
            &["Appelez vite le 06 39 98 12 34 pour votre prime."],
            &["Je copie ce qu'on m'a envoyé : « Votre compte sera bloqué, appelez le 06 39 98 12 34 ». Ne faites jamais ça."],
        );
    }

    /// Rules 08a, written on tests/eval/fr_long_dev.csv's misses: the mild insults said of
    /// someone, in the second or the third person.
    #[test]
    fn mild_insults_said_of_someone_are_held_since_rules_08a() {
        assert_rule_fires(
            "fr-insult-aimed",
            "fr",
            &[
                "et toi qui défends Apple à chaque commentaire, t'es vraiment un pauvre tocard",
                "Cet adjoint au commerce est un crétin fini, tout le monde le sait.",
                "L'arbitre, M. Lefort, est une tanche lamentable.",
                "Toi qui dis qu'il suffit de partir plus tôt, tu es le roi des cons.",
                "Les supporters qui défendent ce gouffre sont des beaufs sans cervelle.",
            ],
            &[
                "C'est con, j'ai raté le début du match.",
                "Ce projet de rocade est débile, il coûtera deux fois le budget.",
                "Le nouveau ministre n'est pas un idiot, il connaît ses dossiers.",
                "Ce maire est un incapable, il a ruiné la commune en dix ans.",
                "Ce plan de relance est un boulet pour les finances publiques.",
                "Un lecteur m'a écrit « t'es vraiment un pauvre tocard », j'ai signalé son message.",
            ],
        );
    }

    /// Rules 08b, written on tests/eval/fr_long_dev.csv's misses: the stock tropes of French
    /// hate, and the same words condemned, reported or about something else.
    #[test]
    fn hate_tropes_are_held_since_rules_08b_and_their_condemnation_is_not() {
        assert_rule_fires(
            "hate-trope-fr",
            "fr",
            &[
                "Les médias sont tenus par les Juifs, qui se moquent bien de nos paysans.",
                "Comme d'habitude, ce sont les Juifs qui tirent les ficelles de la finance.",
                "Mais l'islam est une religion de terroristes, chaque mosquée est une base arrière.",
                "Les femmes n'ont rien à faire dans ce bureau, leur place est à la cuisine.",
                "Les homos sont des malades qu'il faudrait soigner.",
            ],
            &[
                "Dire que l'islam est une religion de terroristes, c'est un amalgame honteux.",
                "Le vieux cliché des Juifs qui contrôlent les médias revient dans les commentaires.",
                "Les élus de la majorité tirent les ficelles du budget depuis dix ans.",
                "Sa place est à la maison de retraite des Tilleuls depuis mars.",
                "Les gays sont des cibles d'agressions de plus en plus nombreuses.",
            ],
        );
    }

    /// Rules 07g, written on tests/eval/fr_links_dev.csv's misses: links on shorteners Vigie does
    /// not know, more of the endings spam registers.
    #[test]
    fn unknown_shorteners_are_spam_and_newsroom_shorteners_are_not_since_rules_07g() {
        assert_rule_fires(
            "spam-unknown-shortener",
            "fr",
            &[
                "URGENT tout le monde doit voir ça avant ce soir !!! https://kk.to/9fQ",
                "Ce que les médias vous cachent... regardez avant suppression ! vz.gg/Qm4p",
                "Personne ne s'attendait à cette fin. https://wzl.link/Ko1i.",
            ],
            &[
                "L'article complet du Monde : https://lemde.fr/3xK9pQ",
                "La vidéo de la séance : https://youtu.be/dQ4w9WgX",
                "Attention, arnaque : ne cliquez pas sur https://kk.to/9fQ",
                "Le décret : https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000047",
                "Le rapport en PDF, lien raccourci : https://bit.ly/3Qx7RcF",
                "Voir la page abc.fr/contact pour les horaires.",
            ],
        );
        assert_rule_fires(
            "spam-cheap-domain",
            "fr",
            &["Tous les films récents gratuits en VF sur cinemaxfr.link, sans pub"],
            &["Le lien du site de la mairie est dans l'article."],
        );
    }

    /// Rules 07f, written on tests/eval/fr_threats_dev3.csv's misses: the act after a trip,
    /// harm foretold, calls on others in the plural.
    #[test]
    fn threats_of_rules_07f_are_held_and_their_look_alikes_are_not() {
        assert_rule_fires(
            "fr-threat",
            "fr",
            &[
                "Le propriétaire ne répond plus. Je vais aller chez lui et lui casser les deux jambes.",
                "Le flic qui m'a verbalisé hier, je vais le plomber.",
                "Toi le gamin au quad, tu repasses devant chez moi et je te tire dessus.",
                "Il se moque de moi depuis des mois : on lui refait sa boutique et sa figure.",
            ],
            &[
                "Je vais te tuer au match retour, prépare-toi !",
                "Je vais aller chez lui et lui rendre sa perceuse.",
                "Cette dépense va plomber le budget de la commune.",
            ],
        );
        assert_rule_fires(
            "fr-threat-veiled",
            "fr",
            &[
                "Au cas où tu me répondrais encore, prévois une bonne mutuelle.",
                "S'il revient chez moi, il repartira sur un brancard.",
                "On ira les voir chez eux, et ils nous expliqueront avec quelques dents en moins.",
                "Sa maison est bien isolée, personne n'entendrait rien là-bas.",
                "Le livreur ferait bien de regarder derrière lui.",
            ],
            &[
                "Prévois une bonne assiette de pâtes avant le marathon.",
                "Le boxeur est reparti sur ses deux jambes, sonné mais debout.",
            ],
        );
        assert_rule_fires(
            "fr-threat-incitement",
            "fr",
            &[
                "Le premier qui croise le numéro 14 en ville, défoncez-le.",
                "Faut le retrouver et le massacrer, partagez sa photo.",
                "Y'a pas un courageux pour aller planter le dealer ?",
                "Que quelqu'un donne une bonne correction à ce commentateur.",
                "Rendez-vous devant la mairie lundi, venez nombreux et équipés.",
            ],
            &[
                "Faut le retrouver et le rendre à son propriétaire, ce chien.",
                "Venez nombreux au vide-grenier dimanche !",
            ],
        );
    }

    /// Rules 07d, written on tests/eval/fr_threats_dev2.csv's misses and false holds.
    #[test]
    fn threats_of_rules_07d_are_held_and_their_look_alikes_are_not() {
        assert_rule_fires(
            "fr-threat-weapon",
            "fr",
            &[
                "J'ai un couteau dans la boîte à gants et il est pour toi.",
                "Ce ministre va se prendre une balle un de ces jours.",
                "Le prochain contrôleur qui me parle comme ça, je lui mets un coup de boule.",
                "Qui est partant pour aller tabasser ce conseiller à la sortie ?",
                "Faudrait que quelqu'un lui règle son compte, à ce préfet.",
            ],
            &[
                "J'ai un couteau suisse dans mon sac, il sert à tout.",
                "Tu viens pas jeudi et je te mets une raclée au tarot.",
                "Qui est partant pour aller courir dimanche matin ?",
            ],
        );
        assert_rule_fires(
            "fr-threat-veiled",
            "fr",
            &[
                "Tu devrais regarder sous ta voiture avant de démarrer, je dis ça pour toi.",
                "Continue comme ça et tu repartiras sans tes dents.",
                "Des types ont disparu pour moins que ça, hein.",
            ],
            &["Il a regardé sous le capot de sa voiture avant de partir."],
        );
        let rs = default_rules();
        for text in [
            "Faites attention à vos enfants au carrefour de la gare, les voitures y passent à fond.",
            "Surveillez vos arrières dans le métro, il y a eu des vols à l'arraché.",
            "Ce compteur qui bipe la nuit, je vais finir par le noyer dans l'évier.",
            "On va vous faire la peau aux municipales, messieurs les sortants.",
        ] {
            let ids: Vec<String> = hits(&rs, text, "fr")
                .into_iter()
                .filter(|h| h.id.starts_with("fr-threat"))
                .map(|h| h.id)
                .collect();
            assert!(ids.is_empty(), "{text}: {ids:?}");
        }
    }

    #[test]
    fn english_threats_are_held_by_their_family_and_look_alikes_are_not() {
        let rs = default_rules();
        let ids = |text: &str| -> Vec<String> {
            hits(&rs, text, "en")
                .into_iter()
                .filter(|h| h.id.starts_with("en-threat-"))
                .map(|h| h.id)
                .collect()
        };
        for (text, id) in [
            ("I'm gonna kill you, you hear me?", "en-threat-direct"),
            (
                "Touch my car again and I'll break both your arms.",
                "en-threat-direct",
            ),
            (
                "Don't you dare publish that or you're dead.",
                "en-threat-direct",
            ),
            (
                "Mess with my sister and u get stabbed, end of.",
                "en-threat-direct",
            ),
            (
                "We know where your kids go to school. Nice house you've got.",
                "en-threat-veiled",
            ),
            (
                "Be a real shame if something happened to your shop.",
                "en-threat-veiled",
            ),
            (
                "Anyone got his home address? Let's pay him a visit.",
                "en-threat-incitement",
            ),
            (
                "Someone should put a bullet in this reporter.",
                "en-threat-incitement",
            ),
            // an unrelated quote does not cover the threat beside it
            (
                "You wrote \"the council acted fairly\"? I'm coming for you.",
                "en-threat-direct",
            ),
        ] {
            assert!(ids(text).iter().any(|i| i == id), "{text}: {:?}", ids(text));
        }
        for text in [
            "I'm going to kill my printer if it jams again.",
            "You're dead wrong about the budget.",
            "We're going to kill them in the cup final on Saturday.",
            "If you camp the spawn point I will hunt you down next round 😂",
            "She wrote \"I'm going to kill you\" under my post, reported.",
            "Got a DM saying “we know where you live”. Screenshots sent to the mods.",
            "You'll regret this at the ballot box, councillor.",
        ] {
            assert!(ids(text).is_empty(), "{text}: {:?}", ids(text));
        }
    }

    #[test]
    fn french_stereotypes_about_a_group_are_held_and_their_refutations_are_not() {
        assert_rule_fires(
            "hate-stereotype-fr",
            "fr",
            &[
                "Les Arabes sont incapables de s'intégrer.",
                "Les Marocains sont des menteurs nés.",
                "Aucun musulman n'est digne de confiance.",
                "Les lesbiennes me répugnent, désolé mais c'est viscéral.",
                "J'éprouve une aversion totale pour les Maghrébins.",
                "Les femmes ne seront jamais aussi compétentes que les hommes.",
                "Les Roms n'ont aucune morale.",
                // an opinion framed as one is still the writer's own
                "Je pense que les Marocains sont des menteurs.",
            ],
            &[
                "Dire que les Roms sont des voleurs est un préjugé.",
                "On entend que les Arabes sont paresseux : c'est faux et les chiffres le montrent.",
                "Non, les femmes ne sont pas moins intelligentes, arrêtez.",
                "Les personnes handicapées sont incapables d'accéder à la gare à cause des escaliers.",
                "Aucune femme ne devrait avoir peur de rentrer seule.",
                "Aucun migrant n'a été blessé dans l'incendie.",
                "Les Chinois sont agressifs sur les prix des smartphones.",
                "Il a écrit « les Turcs sont violents par nature » : signalé.",
            ],
        );
    }

    #[test]
    fn english_stereotypes_about_a_group_are_held_and_their_refutations_are_not() {
        assert_rule_fires(
            "hate-stereotype-en",
            "en",
            &[
                "Romanians are thieves by nature, it's in their blood.",
                "Asylum seekers are an infestation.",
                "Muslims aren't compatible with a civilised society, full stop.",
                "Foreigners are leeches, all of them.",
                "No Muslim can be trusted.",
                "Those migrants have no morals.",
                "I think that migrants are leeches.",
            ],
            &[
                "The claim that migrants are criminals is a myth.",
                "Women are sick of being ignored by this council.",
                "Immigrants are a drain on public services, says the report I don't believe.",
                "Refugees are traumatised and need support.",
                "Someone posted \"Jews are evil\" under the article. Reported.",
            ],
        );
    }

    #[test]
    fn wishing_a_person_dead_or_hurt_is_held_and_mourning_or_idioms_are_not() {
        assert_rule_fires(
            "en-threat-wish",
            "en",
            &[
                "I hope the reporter who wrote this gets hit by a bus.",
                "Hoping that councillor drops dead before the vote.",
                "Can't wait to dance on the chairman's grave.",
                "May you and your family die slowly.",
                "I pray every day that his plane goes down.",
                "The world would be a better place if that judge died tomorrow.",
                "hope u choke on ur coffee and never wake up",
            ],
            &[
                "I hope nobody gets hurt at the march on Saturday.",
                "Praying for the victims who died in the crash.",
                "I hope he doesn't die waiting for that operation.",
                "Let that sink in for a minute.",
                "Lock him up and let him rot.",
                "I hope the markets don't crash again this year.",
                "Hoping for a speedy recovery for the driver hit by the bus.",
            ],
        );
    }

    #[test]
    fn knowing_a_persons_routine_with_a_menacing_aside_is_a_french_threat() {
        assert_rule_fires(
            "fr-threat-dox",
            "fr",
            &[
                "Votre fille rentre seule à 17h le jeudi, je dis ça je dis rien.",
                "Tu te gares toujours près de la gare, frérot. Pense à ça.",
                "On a pris quelques photos de ta maison hier. Je les garde précieusement.",
                "On connaît le nom de ton fils et son collège. Prends soin de lui.",
            ],
            &[
                "Le marché se tient tous les jeudis à 17h, je dis ça pour ceux qui cherchent.",
                "Ma fille rentre seule à 17h le jeudi, c'est dur pour une maman qui travaille.",
                "J'ai pris des photos de ta maison pour l'agence, elles sont superbes.",
                "La déchetterie ferme à 18h le samedi, pensez-y avant de charger la voiture.",
            ],
        );
    }

    #[test]
    fn the_english_threat_shapes_of_06j_are_held_and_their_look_alikes_are_not() {
        assert_rule_fires(
            "en-threat-intent",
            "en",
            &[
                "I will personally strangle you if you show up at the meeting again.",
                "imma stab you next time i see you, clown",
            ],
            &[
                "I'm going to smash this exam tomorrow.",
                "We'll batter them in the derby on Saturday.",
            ],
        );
        assert_rule_fires(
            "en-threat-harm",
            "en",
            &[
                "Print one more lie and I'll beat the living daylights out of you.",
                "Show your face here again and you'll be carried out.",
                "He's not getting home in one piece after that penalty.",
            ],
            &[
                "The firefighters carried out a rescue at the flats.",
                "The bus got the kids home in one piece despite the snow.",
            ],
        );
        assert_rule_fires(
            "en-threat-call",
            "en",
            &["Someone in Leeds pls go batter this guy, he lives round the corner from you."],
            &["Someone should tell him the meeting moved to Tuesday."],
        );
        assert_rule_fires(
            "en-threat-hint",
            "en",
            &["Be a shame if your brakes failed on the way home, wouldn't it."],
            &["It would be a shame if the library closed for good."],
        );
    }

    #[test]
    fn a_reply_that_is_only_a_wish_of_death_is_held_and_ordinary_dying_words_are_not() {
        assert_rule_fires(
            "fr-death-wish",
            "fr",
            &["Crève.", "Va crever, connard.", "Crevez tous."],
            &[
                "Je vais crever de chaud dans ce train.",
                "Encore un pneu crevé ce matin.",
            ],
        );
        assert_rule_fires(
            "en-death-wish",
            "en",
            &["Drop dead.", "Just die already, loser."],
            &[
                "I could die laughing at this.",
                "Die Hard is the best Christmas film.",
            ],
        );
    }

    #[test]
    fn defanged_links_and_miracle_cures_are_spam_unless_a_reader_warns_about_them() {
        let rs = default_rules();
        let fired = |text: &str, id: &str| hits(&rs, text, "fr").iter().any(|h| h.id == id);
        for (text, id) in [
            ("Nouveau message vocal, écoutez-le ici : vocal-msg[.]shop/ecoute", "spam-defanged-link"),
            ("Infos sur revenus-libres (point) xyz, places limitées", "spam-defanged-link"),
            ("J'ai perdu 12 kg en un mois grâce à ces gélules, lien en bio", "spam-health-claims-fr"),
            ("Mon diabète guéri en 3 semaines, la recette que les laboratoires veulent interdire", "spam-health-claims-fr"),
        ] {
            assert!(fired(text, id), "{text}");
        }
        for (text, id) in [
            (
                "Attention, arnaque : ne cliquez pas sur vocal-msg[.]shop, c'est du phishing.",
                "spam-defanged-link",
            ),
            (
                "J'ai perdu 10 kg en six mois avec du vélo et moins de sucre, sans rien acheter.",
                "spam-health-claims-fr",
            ),
            (
                "Méfiez-vous des pubs « perdu 12 kg grâce à ces gélules », c'est une arnaque.",
                "spam-health-claims-fr",
            ),
        ] {
            assert!(!fired(text, id), "{text}");
        }
    }

    #[test]
    fn a_spam_offer_quoted_to_warn_about_it_is_a_mention_and_one_written_is_a_hit() {
        let rs = default_rules();
        let fired =
            |text: &str, lang: &str, id: &str| hits(&rs, text, lang).iter().any(|h| h.id == id);
        for (text, lang, id) in [
            (
                "Contactez-moi sur WhatsApp pour un placement sûr.",
                "fr",
                "spam-phrase",
            ),
            (
                "Gagnez 500 € par jour avec le trading, écrivez-moi.",
                "fr",
                "spam-money",
            ),
            // quotes, but no warning in the writer's own words
            (
                "« Offre du jour » : 500 € offerts, contactez-moi.",
                "fr",
                "spam-money",
            ),
            (
                "DM me on \"WhatsApp\" for the best crypto signals",
                "en",
                "spam-phrase",
            ),
            // a warning beside an offer written outside the quotes
            (
                "Attention aux « faux conseillers » ! Moi je gagne 300 € par jour, contactez-moi.",
                "fr",
                "spam-money",
            ),
        ] {
            assert!(fired(text, lang, id), "{text}");
        }
        for (text, lang, id) in [
            (
                "Si quelqu'un vous écrit « contactez-moi sur WhatsApp pour un placement sûr », bloquez directement.",
                "fr",
                "spam-phrase",
            ),
            (
                "Je cite le spam sous l'article d'hier : « Gagnez 500 € par jour avec le trading ». Modération, c'est pour vous.",
                "fr",
                "spam-money",
            ),
            (
                "If someone writes \"DM me on WhatsApp for guaranteed returns\", it's a scam: report it.",
                "en",
                "spam-phrase",
            ),
        ] {
            assert!(!fired(text, lang, id), "{text}");
        }
    }

    #[test]
    fn gated_spam_rules_open_on_their_words() {
        let rs = default_rules();
        let ids = |text: &str| -> Vec<String> {
            hits(&rs, text, "fr").into_iter().map(|h| h.id).collect()
        };
        let seo = "Le meilleur comparatif est sur meilleur-comparatif-aspirateur.fr, promo -30 %";
        assert!(
            ids(seo).iter().any(|id| id == "spam-seo-domain-fr"),
            "{seo}"
        );
        // the gate is a token of its own: a hyphenated word opens the gates of its parts
        let phone = "Dépannage-express 24h/24, appelez le 06 39 98 00 00";
        assert!(
            ids(phone).iter().any(|id| id == "spam-services-phone-fr"),
            "{phone}"
        );
        let plain = "Le plombier est passé, la réparation a pris une heure.";
        assert!(
            !ids(plain).iter().any(|id| id.starts_with("spam-")),
            "{plain}"
        );
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
mod hate_pattern_tests {
    use crate::scoring::rules::default_rules;

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

    /// Expressed hatred of a group holds (the model gives the group's name no weight), the same
    /// verbs aimed elsewhere, negated or quoted to report them do not.
    #[test]
    fn hatred_of_a_group_holds_and_its_look_alikes_do_not() {
        let rs = default_rules();
        let holding = |t: &str, l: &str| -> Vec<String> {
            super::tests::hits(&rs, t, l)
                .into_iter()
                .filter(|h| h.action == crate::scoring::rules::Action::Hold)
                .map(|h| h.id)
                .collect()
        };
        for (text, lang, id) in [
            ("Je déteste les musulmans.", "fr", "hate-emotion-fr"),
            (
                "J'en ai ras le bol de ces migrants",
                "fr",
                "hate-emotion-fr",
            ),
            ("je ne supporte plus les homos", "fr", "hate-emotion-fr"),
            ("Ces réfugiés me dégoûtent.", "fr", "hate-emotion-fr"),
            (
                "Les blacks comme vous me rendent malade",
                "fr",
                "hate-emotion-fr",
            ),
            ("I really hate muslims", "en", "hate-emotion-en"),
            // condemning words are haters' words too: they do not cancel the rule
            (
                "Je ne suis pas raciste mais je ne supporte plus les arabes, c'est une honte.",
                "fr",
                "hate-emotion-fr",
            ),
        ] {
            assert!(holding(text, lang).iter().any(|i| i == id), "{text}");
        }
        for (text, lang) in [
            ("Je déteste les lundis et les bouchons.", "fr"),
            (
                "Je ne déteste pas les musulmans, je déteste les fanatiques.",
                "fr",
            ),
            (
                "Il m'a écrit « je déteste les juifs », j'ai signalé le message.",
                "fr",
            ),
            (
                "Les commentaires racistes sur les réfugiés me dégoûtent.",
                "fr",
            ),
            ("I hate Mondays", "en"),
        ] {
            assert!(holding(text, lang).is_empty(), "{text}");
        }
    }

    /// Sexual acts and organs described or offered hold; the same words in their everyday
    /// sense, and a reader reporting such a message, do not.
    #[test]
    fn sexually_explicit_comments_hold_and_everyday_senses_do_not() {
        let rs = default_rules();
        let fires = |t: &str, lang: &str| {
            let id = format!("sexual-explicit-{lang}");
            super::tests::hits(&rs, t, lang).iter().any(|h| h.id == id)
        };
        let explicit = |t: &str| fires(t, "fr");
        let explicit_en = |t: &str| fires(t, "en");
        for text in [
            "Envoie des nudes en mp",
            "Je te ferais bien sucer ma bite",
            "elle suce des queues pour percer",
            "Je vais la baiser ce soir",
            "Moi je baise ta sœur",
            "il s'est tapé une escort à Dubaï",
            "photo de ta chatte stp",
            "que du sperme dans le cerveau celui-là",
            "Ça me fait bander",
        ] {
            assert!(explicit(text), "{text}");
        }
        for text in [
            "Le Baiser de Klimt est exposé à Vienne.",
            "Un baiser volé dans ce film, très réussi.",
            "La bande de Gaza est encore sous les bombes.",
            "Je bande mes muscles avant la course.",
            "Il a sucé la roue de Pogacar pendant 50 km.",
            "Mon FAP est encrassé, le garage veut 800 euros.",
            "On se fait encore baiser par les banques.",
            "Le plan de relance est enfin voté.",
            "Une photo de ton chat, vite !",
            "Il m'a écrit « suce ma bite », j'ai signalé le message.",
        ] {
            assert!(!explicit(text), "{text}");
        }
        for text in [
            "send nudes babe",
            "she can suck my dick",
            "nice tits, show us more",
            "I'd bang your mom",
        ] {
            assert!(explicit_en(text), "{text}");
        }
        for text in [
            "Blue tits and great tits are back at the feeder.",
            "The rooster's cock-a-doodle-doo woke the whole street.",
            "This update sucks, my battery dies by noon.",
            "We got screwed over by the bank again.",
            "He sent me \"suck my dick\" in a DM, I reported it.",
        ] {
            assert!(!explicit_en(text), "{text}");
        }
    }
}

#[cfg(test)]
mod french_family_tests {
    use super::*;
    use crate::scoring::rules::{default_rules, Action};

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
            // a quote elsewhere in the comment does not cover a threat outside it
            (
                "Tu as écrit « la police fait son travail » ? Je vais te retrouver et te buter.",
                "fr-threat",
            ),
            (
                "Ton \"droit de réponse\", garde-le. On sait où tu habites.",
                "fr-threat-veiled",
            ),
            // forms of 2026-12-06b
            ("Tu verras pas Noël, je te le garantis.", "fr-threat-veiled"),
            (
                "Je sais dans quelle école vont tes enfants, pas besoin d'en dire plus.",
                "fr-threat-veiled",
            ),
            (
                "Publie mon nom et je publie ton avis de décès.",
                "fr-threat-veiled",
            ),
            (
                "wesh jvais t fumer frérot, c pas une blague",
                "fr-threat-incitement",
            ),
            (
                "Mon tabarnak, m'as te péter la yeule.",
                "fr-threat-incitement",
            ),
            (
                "Tu me rembourses avant vendredi ou je t'envoie à l'hôpital.",
                "fr-threat-incitement",
            ),
            // "plainte" and "signaler" no longer cancel the threat rules
            (
                "Si tu portes plainte, t'es mort, c'est aussi simple que ça.",
                "fr-threat",
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
                // quoted without a word of report: the quote is someone else's
                "Sous la vidéo : \"je vais te buter\", \"on sait où tu habites\"... Triste époque.",
                "Mon voisin m'a crié « je vais te crever » hier soir, ça fait froid dans le dos.",
                // one's own devices, pets and food; idioms; "fumer" without a victim
                "Je vais étrangler mon routeur, troisième coupure ce soir.",
                "je vais le tuer mon chat, il a encore marché sur le clavier",
                "jvais crever de chaud dans ce bureau sans clim",
                "Je vais fracasser le record de pompes ce soir, préparez-vous.",
                "Je vais fumer une clope et je reviens.",
                "Je sais à quelle heure passe le bus, il est toujours en retard.",
                "J'ai signalé ce compte à Pharos. Faites pareil si vous le voyez.",
                "Tu vas le regretter... dans les urnes, en 2027.",
                "Faites attention à vos enfants sur les réseaux sociaux.",
                "Il faut que quelqu'un explique au maire que la piste est dangereuse.",
                "Tuer le processus suffit, pas besoin de redémarrer le serveur.",
                "Faut que quelqu'un meure pour qu'ils réparent ce carrefour ?",
                "Mon colis n'est pas arrivé en un seul morceau.",
                // idioms
                "On va tuer le temps au café en attendant le verdict.",
                "Je vais exploser le record de commentaires aujourd'hui.",
                "Je vais massacrer une chanson de Johnny au karaoké.",
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
            // "s'appelle" is a name, not a call to a phone; "sans ordonnance" alone is pharmacy news
            "Le chat de ma sœur s'appelle Minou et il pèse 8 kilos, un vrai pacha.",
            "La pilule du lendemain est délivrée gratuitement et sans ordonnance en pharmacie.",
            // "eu" and "app" (domain endings that are French words) and "envoie" alone are no
            // way to reach a sender; an app a repaired phone runs is no contact either
            "La formation des apprentis est gratuite, on n'en a jamais eu autant.",
            "L'app est gratuite et la méthode marche, sans pub.",
            "Mon fils a fini sa formation, il envoie des CV partout.",
            "Réparation de l'écran pour 89 €, il marche encore pour WhatsApp et les mails.",
            "Après la réparation, mon ancien WhatsApp est revenu avec tous les messages.",
            ],
        );
    }
}
