//! Quotation marks: which parts of a comment stand between them. A reader who quotes an insult
//! or a threat to condemn or report it mentions it rather than uses it; the word lists'
//! `mention_unless` and the rule file's `[mentions]` ask this module where the quotes are.

/// The byte ranges of `text` that stand between quotation marks (the marks excluded), in order
/// of their opening mark:
/// - `«…»`, `“…”` and `‘…’`, nested or not; a `’` with no `‘` open is an apostrophe;
/// - `"…"` on one line (the first `"` of a line opens, the next one closes);
/// - `'…'` when the opening `'` follows the start of the text, a space or a bracket and
///   precedes a letter, and the closing one follows a character other than a space and precedes
///   something other than a letter or digit, on the same line ("called her a 'retard' and"): a
///   `'` between two letters is an elision or an apostrophe ("l'élue", "don't").
///
/// An opening mark that is never closed quotes nothing.
pub fn spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    // open typographic marks: (the closing mark, byte after the opening one)
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut dquote: Option<usize> = None;
    let mut squote: Option<usize> = None;
    let mut prev: Option<char> = None;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, n)| n);
        let after = i + c.len_utf8();
        match c {
            '«' | '“' | '‘' => open.push((
                match c {
                    '«' => '»',
                    '“' => '”',
                    _ => '’',
                },
                after,
            )),
            '»' | '”' | '’' => {
                if let Some(k) = open.iter().rposition(|&(close, _)| close == c) {
                    out.push((open[k].1, i));
                    open.truncate(k);
                }
            }
            '"' => match dquote.take() {
                Some(s) => out.push((s, i)),
                None => dquote = Some(after),
            },
            '\'' => {
                let opens = prev.is_none_or(|p| p.is_whitespace() || "([{".contains(p))
                    && next.is_some_and(char::is_alphabetic);
                let closes = prev.is_some_and(|p| !p.is_whitespace())
                    && next.is_none_or(|n| !n.is_alphanumeric());
                match squote {
                    Some(s) if closes => {
                        out.push((s, i));
                        squote = None;
                    }
                    None if opens => squote = Some(after),
                    _ => {}
                }
            }
            '\n' => {
                dquote = None;
                squote = None;
            }
            _ => {}
        }
        prev = Some(c);
    }
    out.sort_unstable();
    out
}

/// `text` may hold a quotation: it has an opening mark of [`spans`] (a `'` only after the
/// start, a space or a bracket; other Unicode spaces than the no-break ones are not looked for). One pass over the bytes, for the hot path: most comments have
/// none, and an apostrophe between letters is not one.
pub fn may_quote(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| match c {
        b'"' => true,
        // « is C2 AB; “ and ‘ are E2 80 9C and E2 80 98
        0xC2 => b.get(i + 1) == Some(&0xAB),
        0xE2 => b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(&0x9C) | Some(&0x98)),
        // after a space, a bracket, or the last byte of a no-break space (C2 A0, E2 80 AF)
        b'\'' => {
            i == 0
                || matches!(
                    b[i - 1],
                    b' ' | b'\t' | b'\n' | b'\r' | b'(' | b'[' | b'{' | 0xA0 | 0xAF
                )
        }
        _ => false,
    })
}

/// `text[start..end]` lies within one of `spans` (as returned by [`spans`]).
pub fn within(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans.iter().any(|&(s, e)| s <= start && end <= e)
}

/// `text[start..end]` shares at least one byte with one of `spans`.
pub fn overlaps(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans.iter().any(|&(s, e)| s < end && start < e)
}

/// [`within`] for byte ranges asked in increasing order of start (a comment's tokens): one
/// walk over `spans` for all of them, where `within` reads every span for each.
pub struct Walker<'a> {
    spans: &'a [(usize, usize)],
    next: usize,
    /// The furthest end of the spans that start at or before the last range asked.
    reach: usize,
}

impl<'a> Walker<'a> {
    pub fn new(spans: &'a [(usize, usize)]) -> Walker<'a> {
        Walker {
            spans,
            next: 0,
            reach: 0,
        }
    }

    /// `start..end` lies within one of the spans; `start` must not be smaller than the last
    /// one asked. A span that starts at or before `start` and ends at or after `end` exists
    /// exactly when the furthest end among those starting at or before `start` reaches `end`.
    pub fn inside(&mut self, start: usize, end: usize) -> bool {
        while let Some(&(_, e)) = self.spans.get(self.next).filter(|&&(s, _)| s <= start) {
            self.reach = self.reach.max(e);
            self.next += 1;
        }
        self.next > 0 && self.reach >= end
    }
}

/// The bytes of `text` from the start of the sentence holding `start..end`, `n` sentences
/// before it, to the end of the one holding `end`, `n` sentences after it. A sentence ends at
/// a line break, or at `.`, `!`, `?` or `…` followed by a space or the end of the text ("3.5"
/// and "site.fr" go on); a run of marks ("?!", "...") ends one sentence.
pub fn sentences_around(text: &str, start: usize, end: usize, n: u8) -> (usize, usize) {
    let ends_at = |i: usize| sentence_ends_at(text, i);
    let mut s = start.min(text.len());
    for k in 0..=n {
        // back to the byte after the previous sentence's end (past the end of the sentence
        // just left, after the first)
        let mut from = s;
        if k > 0 {
            from = text[..from].trim_end().len();
            from = text[..from]
                .trim_end_matches(['.', '!', '?', '…', '\n'])
                .len();
        }
        s = (0..from)
            .rev()
            .filter(|&i| text.is_char_boundary(i))
            .find_map(ends_at)
            .unwrap_or(0);
    }
    let mut e = end.min(text.len());
    for _ in 0..=n {
        e = (e..text.len())
            .filter(|&i| text.is_char_boundary(i))
            .find_map(ends_at)
            .unwrap_or(text.len());
    }
    (s, e)
}

/// When the character at byte `i` of `text` (a char boundary) ends a sentence, the byte just
/// after it: a line break, or `.`, `!`, `?` or `…` followed by an ASCII space or the end of the
/// text ("3.5" and "site.fr" go on).
pub fn sentence_ends_at(text: &str, i: usize) -> Option<usize> {
    let c = text.get(i..)?.chars().next()?;
    let after = i + c.len_utf8();
    match c {
        '\n' => Some(after),
        '.' | '!' | '?' | '…' => {
            let next = text.as_bytes().get(after);
            next.is_none_or(u8::is_ascii_whitespace).then_some(after)
        }
        _ => None,
    }
}

/// `text` with every quoted span's content replaced by spaces (same byte offsets): what the
/// writer says in their own words.
pub fn outside(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(s, e) in spans {
        if s < at {
            continue; // nested in a span already blanked
        }
        out.push_str(&text[at..s]);
        out.extend(std::iter::repeat_n(' ', e - s));
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> Vec<&str> {
        spans(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn finds_each_kind_of_quotation() {
        let t = "Il a dit « casse-toi » puis \"va\" et 'non', l’élue a répondu ‘dégage’ à l’autre.";
        assert_eq!(quoted(t), [" casse-toi ", "va", "non", "dégage"]);
        assert_eq!(
            quoted("“He said ‘go’ twice” she wrote"),
            ["He said ‘go’ twice", "go"]
        );
        assert_eq!(
            quoted("calling the minister a 'retard' and 300 likes"),
            ["retard"]
        );
    }

    #[test]
    fn may_quote_is_true_wherever_spans_finds_a_quote() {
        for t in [
            "Il a dit « casse-toi »",
            "\"va\" et",
            "calling her a 'retard' and",
            "'non' dit-il",
            "“He said ‘go’ twice”",
            "(‘go’)",
        ] {
            assert!(!spans(t).is_empty() && may_quote(t), "{t}");
        }
        for t in [
            "L'élue n'a pas dit qu'il fallait l'écrire.",
            "Don't say it's over",
            "l’élue",
        ] {
            assert!(spans(t).is_empty() && !may_quote(t), "{t}");
        }
    }

    #[test]
    fn the_walker_answers_as_within_for_ranges_in_order() {
        for t in [
            "Il a dit « casse-toi » puis \"va\" et 'non', l’élue a répondu ‘dégage’ à l’autre.",
            "“He said ‘go’ twice” she wrote, « puis « encore » et » fin",
            "\"a\" \"b\" \"c\" rien",
            "aucune citation ici",
        ] {
            let s = spans(t);
            let mut w = Walker::new(&s);
            // every word of the text, in order
            let mut at = 0;
            for word in t.split(' ') {
                let (a, b) = (at, at + word.len());
                assert_eq!(w.inside(a, b), within(&s, a, b), "{t}: {word}");
                at = b + 1;
            }
        }
    }

    #[test]
    fn apostrophes_and_unclosed_marks_quote_nothing() {
        for t in [
            "L'élue n'a pas dit qu'il fallait l'écrire aujourd'hui.",
            "Don't say it's the students' fault, it isn't.",
            "« jamais fermé",
            "un \" seul guillemet",
            "l’élue a répondu à l’autre",
            "deux lignes \"a\nb\" séparées",
        ] {
            assert!(quoted(t).is_empty(), "{t}: {:?}", quoted(t));
        }
    }

    #[test]
    fn sentences_around_a_match_stop_at_the_marks_that_end_sentences() {
        let t =
            "Quel match hier soir ! Le prix était 3.5 € sur site.fr, bref. Je vais te tuer… Voilà.";
        let at = |w: &str| (t.find(w).unwrap(), t.find(w).unwrap() + w.len());
        let (s, e) = at("tuer");
        assert_eq!(
            &t[sentences_around(t, s, e, 0).0..sentences_around(t, s, e, 0).1].trim(),
            &"Je vais te tuer…"
        );
        let (a, b) = sentences_around(t, s, e, 1);
        assert_eq!(
            t[a..b].trim(),
            "Le prix était 3.5 € sur site.fr, bref. Je vais te tuer… Voilà."
        );
        let (s, e) = at("Quel");
        assert_eq!(
            t[sentences_around(t, s, e, 0).0..sentences_around(t, s, e, 0).1].trim(),
            "Quel match hier soir !"
        );
        // a line break ends a sentence, even without a mark or a space after it
        let lines = "Quel match hier\nJe vais te tuer";
        let at = lines.find("tuer").unwrap();
        let (a, b) = sentences_around(lines, at, at + 4, 0);
        assert_eq!(&lines[a..b], "Je vais te tuer");
        // one sentence: the whole text, whatever `n`
        let one = "pas de point ici";
        assert_eq!(sentences_around(one, 4, 6, 2), (0, one.len()));
    }

    #[test]
    fn outside_blanks_the_quotes_and_keeps_the_offsets() {
        let t = "Traiter une élue de « salope », c'est “nul ‘x’ ici”.";
        let s = spans(t);
        let o = outside(t, &s);
        assert_eq!(o.len(), t.len());
        assert!(o.starts_with("Traiter une élue de «"));
        assert!(!o.contains("salope") && !o.contains("nul") && o.contains("c'est"));
        let w = t.find("salope").unwrap();
        assert!(within(&s, w, w + "salope".len()));
        assert!(!within(&s, 0, 7));
    }
}
