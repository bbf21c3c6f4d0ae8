//! Text normalisation for matching and features.
//!
//! The output is a sequence of tokens separated by single spaces. Every token keeps the byte
//! span of the ORIGINAL text it came from, so that highlights can point into the original.
//!
//! Steps, per character: zero-width / format characters removed, compatibility decomposition
//! (NFKD, which subsumes NFKC for matching), lower-casing (case folding), combining marks dropped
//! (accent folding), Latin/Cyrillic/Greek look-alikes mapped to Latin. Per token: leetspeak
//! decoded (`c0nn@rd` → `connard`, `3ncul3` → `encule`) when the token holds at least one letter,
//! runs of three or more identical letters collapsed (`nuuuul` → `nul`), and runs of three or more
//! single-letter tokens joined (`c.o.n.n.a.r.d`, `c o n` → `connard`, `con`).
//!
//! The function is idempotent: `normalise(&normalise(x).text).text == normalise(x).text`.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Longest input (bytes) looked at; longer input is cut at a character boundary.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// One normalised token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte range in [`Normalised::text`].
    pub norm_start: u32,
    pub norm_end: u32,
    /// Byte range in the original text.
    pub orig_start: u32,
    pub orig_end: u32,
}

/// Result of [`normalise`].
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// Tokens joined by single spaces.
    pub text: String,
    pub tokens: Vec<Token>,
}

impl Normalised {
    pub fn token_str(&self, t: &Token) -> &str {
        &self.text[t.norm_start as usize..t.norm_end as usize]
    }
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Characters removed outright (zero-width, bidi controls, variation selectors, tags...).
#[inline]
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5
        | 0x180B..=0x180F | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F
        | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB
        | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
        || (c.is_control() && !c.is_whitespace())
}

/// Look-alike folding to Latin (after lower-casing).
#[inline]
fn lookalike(c: char) -> char {
    match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' | 'є' => 'e',
        'з' => '3',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ɡ' => 'g',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ς' => 'σ',
        // Latin odds
        'ı' => 'i',
        'ł' => 'l',
        'đ' | 'ð' => 'd',
        'ø' => 'o',
        'ħ' => 'h',
        _ => c,
    }
}

/// Push the folded form of `c` into `out` (at most `cap` chars).
#[inline]
fn fold_char(c: char, out: &mut Vec<char>) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let mut budget = 4 * c.len_utf8();
    let mut push = |x: char, out: &mut Vec<char>| {
        if is_combining_mark(x) || is_invisible(x) {
            return;
        }
        let x = lookalike(x);
        let need = match x {
            'ß' | 'œ' | 'æ' => 2,
            _ => x.len_utf8(),
        };
        if need > budget {
            budget = 0;
            return;
        }
        budget -= need;
        match x {
            'ß' => {
                out.push('s');
                out.push('s');
            }
            'œ' => {
                out.push('o');
                out.push('e');
            }
            'æ' => {
                out.push('a');
                out.push('e');
            }
            _ => out.push(x),
        }
    };
    decompose_compatible(c, |d| {
        for l in d.to_lowercase() {
            if l == d || l.is_ascii() {
                push(l, out);
            } else {
                decompose_compatible(l, |e| push(e, out));
            }
        }
    });
}

#[inline]
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '@' => 'a',
        '$' => 's',
        '€' => 'e',
        '!' => 'i',
        '|' => 'l',
        _ => return None,
    })
}

#[inline]
fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

#[inline]
fn is_leet_symbol(c: char) -> bool {
    matches!(c, '@' | '$' | '€' | '!' | '|')
}

#[inline]
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`' | '´')
}

/// A folded character with the original byte span it came from.
#[derive(Clone, Copy)]
struct FChar {
    c: char,
    start: u32,
    end: u32,
}

struct RawTok {
    chars: std::ops::Range<usize>, // into fchars
    elision: bool,
}

/// Normalise `input` (see module docs).
pub fn normalise(input: &str) -> Normalised {
    SCRATCH.with(|sc| match sc.try_borrow_mut() {
        Ok(mut sc) => {
            let Scratch {
                fchars,
                tmp,
                toks,
                buf,
            } = &mut *sc;
            normalise_with(input, fchars, tmp, toks, buf)
        }
        // re-entrant call (cannot happen today): fall back to fresh buffers
        Err(_) => normalise_with(
            input,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut Vec::new(),
            &mut Vec::new(),
        ),
    })
}

#[derive(Default)]
struct Scratch {
    fchars: Vec<FChar>,
    tmp: Vec<char>,
    toks: Vec<RawTok>,
    buf: Vec<char>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// [`normalise`] with the caller's scratch buffers (cleared first, reused across calls).
fn normalise_with(
    input: &str,
    fchars: &mut Vec<FChar>,
    tmp: &mut Vec<char>,
    toks: &mut Vec<RawTok>,
    buf: &mut Vec<char>,
) -> Normalised {
    fchars.clear();
    toks.clear();
    buf.clear();
    tmp.clear();
    let input = head(input, MAX_INPUT_BYTES);
    fold_input(input, fchars, tmp);
    tokenise(fchars, toks);
    build_tokens(input.len(), fchars, toks, buf)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
#[inline]
pub(crate) fn head(s: &str, max: usize) -> &str {
    let mut cut = max.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// Step 1: fold every character into `fchars`, each with its original span (`tmp` holds one
/// character's folded form).
#[inline]
fn fold_input(input: &str, fchars: &mut Vec<FChar>, tmp: &mut Vec<char>) {
    for (i, c) in input.char_indices() {
        let end = (i + c.len_utf8()) as u32;
        if c.is_ascii() {
            if c.is_ascii_control() && !c.is_ascii_whitespace() {
                continue;
            }
            fchars.push(FChar {
                c: c.to_ascii_lowercase(),
                start: i as u32,
                end,
            });
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        tmp.clear();
        fold_char(c, tmp);
        for &x in tmp.iter() {
            fchars.push(FChar {
                c: x,
                start: i as u32,
                end,
            });
        }
    }
}

/// Step 2: tokenise `fchars` into `toks`: runs of word characters, with interior leet symbols
/// and hyphens; a single letter followed by an apostrophe is an elision (`l'`).
#[inline]
fn tokenise(fchars: &[FChar], toks: &mut Vec<RawTok>) {
    let n = fchars.len();
    let mut i = 0;
    while i < n {
        let c = fchars[i].c;
        let starts = is_word(c) || (c == '$' && i + 1 < n && fchars[i + 1].c.is_alphabetic());
        if !starts {
            i += 1;
            continue;
        }
        let s = i;
        i = token_end(fchars, s);
        let mut elision = false;
        if i - s == 1 && fchars[s].c.is_alphabetic() && i < n && is_apostrophe(fchars[i].c) {
            elision = true;
            i += 1; // swallow the apostrophe
        }
        toks.push(RawTok {
            chars: s..i,
            elision,
        });
    }
}

/// Where the token starting at `s` ends (exclusive index into `fchars`).
#[inline]
fn token_end(fchars: &[FChar], s: usize) -> usize {
    let n = fchars.len();
    let mut i = s + 1;
    while i < n {
        let c = fchars[i].c;
        let interior_symbol =
            is_leet_symbol(c) && i + 1 < n && is_word(fchars[i + 1].c) && is_word(fchars[i - 1].c);
        let interior_hyphen = c == '-'
            && i + 2 < n
            && is_word(fchars[i + 1].c)
            && is_word(fchars[i + 2].c)
            && i >= s + 2
            && is_word(fchars[i - 2].c);
        if is_word(c) || interior_symbol || interior_hyphen {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A token of one letter (or leet character), a candidate for joining with its neighbours.
#[inline]
fn is_single(t: &RawTok, fchars: &[FChar]) -> bool {
    !t.elision && t.chars.len() == 1 && {
        let c = fchars[t.chars.start].c;
        c.is_alphabetic() || leet(c).is_some()
    }
}

/// Step 3: the output tokens: leet decoded, runs of single letters joined, runs collapsed
/// (`buf` holds one token's characters).
#[inline]
fn build_tokens(
    input_len: usize,
    fchars: &[FChar],
    toks: &[RawTok],
    buf: &mut Vec<char>,
) -> Normalised {
    let mut out = Normalised {
        text: String::with_capacity(input_len + 8),
        tokens: Vec::with_capacity(toks.len()),
    };
    let mut k = 0;
    while k < toks.len() {
        // run of single-character tokens
        let mut j = k;
        while j < toks.len() && is_single(&toks[j], fchars) {
            j += 1;
        }
        let letters = (k..j)
            .filter(|&m| fchars[toks[m].chars.start].c.is_alphabetic())
            .count();
        if j - k >= 3 && letters * 2 >= j - k {
            buf.clear();
            for t in &toks[k..j] {
                buf.push(fchars[t.chars.start].c);
            }
            let (os, oe) = (
                fchars[toks[k].chars.start].start,
                fchars[toks[j - 1].chars.start].end,
            );
            emit(&mut out, buf, os, oe, false);
            k = j;
            continue;
        }
        let t = &toks[k];
        let fc = &fchars[t.chars.clone()];
        let os = fc[0].start;
        let oe = fc[fc.len() - 1].end;
        if t.elision {
            buf.clear();
            buf.push(fc[0].c);
            buf.push('\'');
            push_token(&mut out, buf, os, oe);
            k += 1;
            continue;
        }
        buf.clear();
        buf.extend(fc.iter().map(|f| f.c));
        emit(&mut out, buf, os, oe, true);
        k += 1;
    }
    out
}

/// Leet-decode + collapse runs, then push.
fn emit(out: &mut Normalised, buf: &mut Vec<char>, os: u32, oe: u32, _plain: bool) {
    let mut alpha = false;
    let mut special = false; // leet candidates or hyphen
    for &c in buf.iter() {
        if c.is_ascii_lowercase() || (!c.is_ascii() && c.is_alphabetic()) {
            alpha = true;
        } else if leet(c).is_some() || c == '-' {
            special = true;
        }
    }
    if alpha && special {
        for c in buf.iter_mut() {
            if let Some(l) = leet(*c) {
                *c = l;
            }
        }
    }
    // fast path: nothing to collapse
    let has_hyphen = special && buf.contains(&'-');
    if !has_hyphen && !has_long_run(buf) {
        push_token(out, buf, os, oe);
        return;
    }
    // collapse runs of >= 3 identical letters to one; inside hyphenated tokens keep every
    // segment at least 2 characters long (so the hyphen stays interior on a second pass)
    if has_hyphen {
        let mut res: Vec<char> = Vec::with_capacity(buf.len());
        for (k, seg) in buf.split(|&c| c == '-').enumerate() {
            if k > 0 {
                res.push('-');
            }
            let mut s1 = collapse(seg, 1);
            if s1.len() < 2 {
                s1 = collapse(seg, 2);
            }
            res.extend(s1);
        }
        *buf = res;
    } else {
        let mut s1 = collapse(buf, 1);
        if s1.len() < 2 {
            // "aaa" -> "aa", never a new single letter (it could join neighbours next time)
            s1 = collapse(buf, 2);
        }
        *buf = s1;
    }
    push_token(out, buf, os, oe);
}

#[inline]
fn has_long_run(buf: &[char]) -> bool {
    buf.windows(3)
        .any(|w| w[0] == w[1] && w[1] == w[2] && w[0].is_alphabetic())
}

fn collapse(buf: &[char], keep_max: usize) -> Vec<char> {
    let mut out = Vec::with_capacity(buf.len());
    let mut r = 0;
    let len = buf.len();
    while r < len {
        let c = buf[r];
        let mut e = r + 1;
        while e < len && buf[e] == c {
            e += 1;
        }
        let keep = if e - r >= 3 && c.is_alphabetic() {
            keep_max
        } else {
            e - r
        };
        out.extend(std::iter::repeat_n(c, keep));
        r = e;
    }
    out
}

fn push_token(out: &mut Normalised, buf: &[char], os: u32, oe: u32) {
    if buf.is_empty() {
        return;
    }
    if !out.text.is_empty() {
        out.text.push(' ');
    }
    let ns = out.text.len() as u32;
    out.text.extend(buf.iter());
    out.tokens.push(Token {
        norm_start: ns,
        norm_end: out.text.len() as u32,
        orig_start: os,
        orig_end: oe,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn head_cuts_on_a_character_boundary() {
        for (s, max, want) in [
            ("éé", 3, "é"),
            ("éé", 4, "éé"),
            ("abc", 9, "abc"),
            ("aé", 1, "a"),
        ] {
            assert_eq!(head(s, max), want);
        }
    }

    fn n(s: &str) -> String {
        normalise(s).text
    }

    #[test]
    fn basic_cases() {
        assert_eq!(n("C0NN@RD"), "connard");
        assert_eq!(n("3ncul3"), "encule");
        assert_eq!(n("nuuuul"), "nul");
        assert_eq!(n("c.o.n.n.a.r.d"), "connard");
        assert_eq!(n("c o n"), "con");
        assert_eq!(n("c-o-n-n-a-r-d"), "connard");
        assert_eq!(n("Enculé !"), "encule");
        assert_eq!(n("con\u{200B}nard"), "connard");
        assert_eq!(n("сonnard"), "connard"); // Cyrillic с
        assert_eq!(n("ＣＯＮＮＡＲＤ"), "connard"); // fullwidth
        assert_eq!(n("l'enculé"), "l' encule");
        assert_eq!(n("cul-de-sac"), "cul-de-sac");
        assert_eq!(n("en 2024, 10 000 €"), "en 2024 10 000");
        assert_eq!(n("Œuvre straße"), "oeuvre strasse");
        assert_eq!(n("connexion"), "connexion");
        assert_eq!(n("@user salut!"), "user salut");
    }

    #[test]
    fn offsets_point_into_original() {
        let s = "Espèce de C0NN@RD, va !";
        let nz = normalise(s);
        let t = nz
            .tokens
            .iter()
            .find(|t| nz.token_str(t) == "connard")
            .unwrap();
        assert_eq!(&s[t.orig_start as usize..t.orig_end as usize], "C0NN@RD");
        let t = nz
            .tokens
            .iter()
            .find(|t| nz.token_str(t) == "espece")
            .unwrap();
        assert_eq!(&s[t.orig_start as usize..t.orig_end as usize], "Espèce");
    }

    #[test]
    fn bad_inputs() {
        for s in [
            "",
            "😀😀😀🔥",
            "\u{202E}مرحبا بالعالم\u{202C}",
            "\u{0}\u{1}\u{7f}\u{9f}",
            "Привет hello 你好 שלום",
            &"a".repeat(10_000),
            &"é".repeat(100_000),
        ] {
            let a = normalise(s);
            assert_eq!(normalise(&a.text).text, a.text);
        }
        assert!(normalise("😀😀😀").is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        #[test]
        fn idempotent_bounded_no_panic(s in any::<String>()) {
            let a = normalise(&s);
            prop_assert!(a.text.len() <= 5 * s.len() + 1);
            let b = normalise(&a.text);
            prop_assert_eq!(&b.text, &a.text);
            for t in &a.tokens {
                prop_assert!(s.is_char_boundary(t.orig_start as usize));
                prop_assert!(s.is_char_boundary(t.orig_end as usize));
                prop_assert!(t.orig_start < t.orig_end);
            }
        }

        #[test]
        fn idempotent_on_tricky_alphabet(s in "[a-cA-C0-4@$!|. '’\\-éÉœ\u{200B}сοＣ]{0,40}") {
            let a = normalise(&s);
            let b = normalise(&a.text);
            prop_assert_eq!(&b.text, &a.text);
        }
    }
}
