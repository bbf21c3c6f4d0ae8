//! Hashed sparse features (word unigrams, word bigrams, byte n-grams inside padded tokens) and
//! dense "shape" features for the stacker.

use serde::{Deserialize, Serialize};

use super::hash::{finish, hash_bytes, mix};
use super::normalise::{normalise, Normalised};
use super::rules::{Action, RuleCategory, RuleHit};

const SEED_WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_BIGRAM: u64 = 0xc2b2_ae3d_27d4_eb4f;
const SEED_CHAR: u64 = 0x1656_67b1_9e37_79f9;
/// Salt of a word's feature "near a neutral term" (`neutral_window`).
const SEED_NEAR_NEUTRAL: u64 = 0x3c6e_f372_fe94_f82b;
/// Salts of the language's own copy of the word features (`lang_words`).
const SEED_LANG_FR: u64 = 0x27d4_eb2f_1656_67c5;
const SEED_LANG_EN: u64 = 0x85eb_ca77_c2b2_ae63;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawFeatureConfig")]
pub struct FeatureConfig {
    pub hash_bits: u32,
    pub char_min: u32,
    pub char_max: u32,
    pub word_bigrams: bool,
    /// Each word unigram and bigram also gets a copy of its own for the comment's language
    /// (French or English): the weights shared by both languages, plus what the word means in
    /// one of them ("feature augmentation" for two domains). Absent in older models: off.
    pub lang_words: bool,
    /// Words that are never evidence of toxicity (names of religions, origins, genders, sexual
    /// orientations, disabilities; normalised forms): such a token has no n-gram or bigram of
    /// its own, only one shared "neutral term" feature whose toxicity weight training keeps at
    /// or below zero ([`FeatureConfig::neutral_buckets`]). Absent in older models: none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub neutral_terms: Vec<String>,
    /// What is said about a group is evidence: each other word within this many tokens of a
    /// neutral term also gets a feature of its own "near a neutral term" ("je déteste les
    /// femmes": `deteste` near one), unless it is one of `neutral_context_skip` (articles,
    /// pronouns, copulas: they would only learn that a group is named). 0: none.
    #[serde(skip_serializing_if = "is_zero")]
    pub neutral_window: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub neutral_context_skip: Vec<String>,
    /// Word hashes of `neutral_terms`, sorted (derived, not stored).
    #[serde(skip)]
    neutral: Vec<u64>,
    /// Word hashes of `neutral_context_skip`, sorted (derived).
    #[serde(skip)]
    context_skip: Vec<u64>,
    /// 1,024-bit filter over `neutral`: most tokens are ruled out with one bit test.
    #[serde(skip)]
    neutral_filter: [u64; 16],
}

/// [`FeatureConfig`] as written in a model or training file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeatureConfig {
    hash_bits: u32,
    char_min: u32,
    char_max: u32,
    word_bigrams: bool,
    #[serde(default)]
    lang_words: bool,
    #[serde(default)]
    neutral_terms: Vec<String>,
    #[serde(default)]
    neutral_window: u32,
    #[serde(default)]
    neutral_context_skip: Vec<String>,
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

/// Sorted word hashes of the one-token terms among `terms` (normalised as comments are).
fn word_hashes(terms: &[String]) -> Vec<u64> {
    let mut h: Vec<u64> = terms
        .iter()
        .filter_map(|t| {
            let n = normalise(t);
            match n.tokens.as_slice() {
                [tok] => Some(hash_bytes(SEED_WORD, n.token_str(tok).as_bytes())),
                _ => None,
            }
        })
        .collect();
    h.sort_unstable();
    h.dedup();
    h
}

impl From<RawFeatureConfig> for FeatureConfig {
    fn from(r: RawFeatureConfig) -> Self {
        FeatureConfig {
            hash_bits: r.hash_bits,
            char_min: r.char_min,
            char_max: r.char_max,
            word_bigrams: r.word_bigrams,
            lang_words: r.lang_words,
            neutral_terms: Vec::new(),
            neutral_window: r.neutral_window,
            context_skip: word_hashes(&r.neutral_context_skip),
            neutral_context_skip: r.neutral_context_skip,
            neutral: Vec::new(),
            neutral_filter: [0; 16],
        }
        .with_neutral_terms(r.neutral_terms)
    }
}

impl Default for FeatureConfig {
    fn default() -> Self {
        RawFeatureConfig {
            hash_bits: 18,
            char_min: 3,
            char_max: 5,
            word_bigrams: true,
            lang_words: false,
            neutral_terms: Vec::new(),
            neutral_window: 0,
            neutral_context_skip: Vec::new(),
        }
        .into()
    }
}

/// The word hash every neutral term is replaced by.
const NEUTRAL_WORD: u64 = 0x6a09_e667_f3bc_c908;

/// Largest `neutral_window` a training file or a model may ask for (tokens on each side).
pub const MAX_NEUTRAL_WINDOW: u32 = 32;

/// Token kinds of [`SparseFeatures::kinds`]: an ordinary word, a neutral term, a word within
/// `neutral_window` tokens of one.
const PLAIN: u8 = 0;
const NEUTRAL: u8 = 1;
const NEAR: u8 = 2;

impl FeatureConfig {
    /// The same configuration with these neutral terms, each normalised as a comment is
    /// ("Réfugiés" is the token `refugies`); a term that is not one token is ignored
    /// ([`FeatureConfig::invalid_neutral_terms`]).
    pub fn with_neutral_terms(mut self, terms: Vec<String>) -> Self {
        let h = word_hashes(&terms);
        self.neutral_filter = [0; 16];
        for &x in &h {
            self.neutral_filter[(x >> 6 & 15) as usize] |= 1 << (x & 63);
        }
        self.neutral = h;
        self.neutral_terms = terms;
        self
    }

    /// Pairs each word with the neutral terms within `window` tokens of it (skipping
    /// `context_skip` words).
    pub fn with_neutral_context(mut self, window: u32, skip: Vec<String>) -> Self {
        self.neutral_window = window;
        self.context_skip = word_hashes(&skip);
        self.neutral_context_skip = skip;
        self
    }

    /// The neutral terms and context words that do not normalise to exactly one token (and
    /// so are ignored).
    pub fn invalid_neutral_terms(&self) -> Vec<&str> {
        self.neutral_terms
            .iter()
            .chain(&self.neutral_context_skip)
            .filter(|t| normalise(t).tokens.len() != 1)
            .map(String::as_str)
            .collect()
    }

    #[inline]
    fn is_neutral(&self, hw: u64) -> bool {
        self.neutral_filter[(hw >> 6 & 15) as usize] & (1 << (hw & 63)) != 0
            && self.neutral.binary_search(&hw).is_ok()
    }

    /// The buckets of the shared neutral-term feature (and of its language copies), whose
    /// toxicity weight training keeps at or below zero; empty without neutral terms.
    pub fn neutral_buckets(&self) -> Vec<u32> {
        if self.neutral.is_empty() {
            return Vec::new();
        }
        let mask = (1u64 << self.hash_bits) - 1;
        let mut b = vec![(finish(NEUTRAL_WORD) & mask) as u32];
        if self.lang_words {
            for salt in [SEED_LANG_FR, SEED_LANG_EN] {
                b.push((finish(mix(salt, NEUTRAL_WORD)) & mask) as u32);
            }
        }
        b
    }
}

/// Sparse feature buffer: bucket indices, grouped per token. Token `t` owns
/// `idx[tok_start[t]..tok_start[t + 1]]` (its word, the bigram ending at it, its n-grams).
#[derive(Debug, Default, Clone)]
pub struct SparseFeatures {
    pub idx: Vec<u32>,
    pub tok_start: Vec<u32>,
    /// Scratch of [`extract`] with `neutral_window`: each token's word hash and kind
    /// ([`PLAIN`], [`NEUTRAL`], [`NEAR`]).
    pub words: Vec<u64>,
    pub kinds: Vec<u8>,
}

impl SparseFeatures {
    pub fn clear(&mut self) {
        self.idx.clear();
        self.tok_start.clear();
    }
    /// Feature range of token `t`.
    #[inline]
    pub fn token_range(&self, t: usize) -> std::ops::Range<usize> {
        let s = self.tok_start[t] as usize;
        let e = self
            .tok_start
            .get(t + 1)
            .map_or(self.idx.len(), |&e| e as usize);
        s..e
    }
    /// Every feature has the same value `1/sqrt(n)` (L2-normalised counts).
    pub fn scale(&self) -> f32 {
        if self.idx.is_empty() {
            0.0
        } else {
            1.0 / (self.idx.len() as f32).sqrt()
        }
    }
}

/// Maximum number of tokens looked at (longer comments are scored on their first tokens).
pub const MAX_TOKENS: usize = 4000;

/// The features of `n`, a comment in language `lang` (the language copies of `lang_words`
/// exist for `fr` and `en` only).
pub fn extract(n: &Normalised, cfg: &FeatureConfig, lang: &str, out: &mut SparseFeatures) {
    extract_with(n, cfg, lang, out, true)
}

/// Like [`extract`]; `with_tokens = false` skips the token attribution (faster).
pub fn extract_with(
    n: &Normalised,
    cfg: &FeatureConfig,
    lang: &str,
    out: &mut SparseFeatures,
    with_tokens: bool,
) {
    let salt = match lang {
        "fr" if cfg.lang_words => Some(SEED_LANG_FR),
        "en" if cfg.lang_words => Some(SEED_LANG_EN),
        _ => None,
    };
    out.clear();
    let want = 3 * n.text.len() + 4 * n.tokens.len() + 8;
    if out.idx.capacity() < want {
        out.idx.reserve(want);
    }
    let mask = (1u64 << cfg.hash_bits) - 1;
    let bytes = n.text.as_bytes();
    let mut prev: Option<u64> = None;
    let cmin = cfg.char_min as usize;
    let cmax = cfg.char_max as usize;
    let mut pad = [0u8; 66];
    // with `neutral_window`, which words are neutral terms or near one: hashes first, then
    // one pass each way (linear, whatever the number of neutral terms)
    out.words.clear();
    out.kinds.clear();
    if cfg.neutral_window > 0 && !cfg.neutral.is_empty() {
        for t in n.tokens.iter().take(MAX_TOKENS) {
            let tb = &bytes[t.norm_start as usize..t.norm_end as usize];
            let hw = hash_bytes(SEED_WORD, &tb[..tb.len().min(64)]);
            out.words.push(hw);
            out.kinds
                .push(if cfg.is_neutral(hw) { NEUTRAL } else { PLAIN });
        }
        if out.kinds.contains(&NEUTRAL) {
            let w = cfg.neutral_window as usize;
            mark_near(out.kinds.iter_mut(), w);
            mark_near(out.kinds.iter_mut().rev(), w);
            for (k, hw) in out.kinds.iter_mut().zip(&out.words) {
                if *k == NEAR && cfg.context_skip.binary_search(hw).is_ok() {
                    *k = PLAIN;
                }
            }
        }
    }
    for (i, t) in n.tokens.iter().take(MAX_TOKENS).enumerate() {
        let tb = &bytes[t.norm_start as usize..t.norm_end as usize];
        let tb = &tb[..tb.len().min(64)];
        if with_tokens {
            out.tok_start.push(out.idx.len() as u32);
        }
        let (hw, kind) = match (out.words.get(i), out.kinds.get(i)) {
            (Some(&h), Some(&k)) => (h, k),
            _ => {
                let h = hash_bytes(SEED_WORD, tb);
                let neutral = !cfg.neutral.is_empty() && cfg.is_neutral(h);
                (h, if neutral { NEUTRAL } else { PLAIN })
            }
        };
        if kind == NEUTRAL {
            // a neutral term: one shared feature, no bigram on either side, no n-grams
            out.idx.push((finish(NEUTRAL_WORD) & mask) as u32);
            if let Some(salt) = salt {
                out.idx
                    .push((finish(mix(salt, NEUTRAL_WORD)) & mask) as u32);
            }
            prev = None;
            continue;
        }
        if kind == NEAR {
            out.idx
                .push((finish(mix(SEED_NEAR_NEUTRAL, hw)) & mask) as u32);
        }
        out.idx.push((finish(hw) & mask) as u32);
        if let Some(salt) = salt {
            out.idx.push((finish(mix(salt, hw)) & mask) as u32);
        }
        if cfg.word_bigrams {
            if let Some(p) = prev {
                let hb = mix(p ^ SEED_BIGRAM, hw);
                out.idx.push((finish(hb) & mask) as u32);
                if let Some(salt) = salt {
                    out.idx.push((finish(mix(salt, hb)) & mask) as u32);
                }
            }
            prev = Some(hw);
        }
        // byte n-grams over " token "
        let len = tb.len() + 2;
        pad[0] = b' ';
        pad[1..len - 1].copy_from_slice(tb);
        pad[len - 1] = b' ';
        let p = &pad[..len];
        if len < cmin {
            continue;
        }
        for s in 0..=len - cmin {
            let mut h = SEED_CHAR;
            let end = (s + cmax).min(len);
            for (k, &b) in p[s..end].iter().enumerate() {
                h = mix(h, b as u64);
                if k + 1 >= cmin {
                    out.idx.push((finish(h) & mask) as u32);
                }
            }
        }
    }
}

/// Marks as [`NEAR`] every ordinary token at most `w` tokens after a neutral term, in the
/// order `kinds` walks (run forwards, then backwards, for both sides).
fn mark_near<'a>(kinds: impl Iterator<Item = &'a mut u8>, w: usize) {
    let mut since = usize::MAX;
    for k in kinds {
        if *k == NEUTRAL {
            since = 0;
        } else {
            since = since.saturating_add(1);
            if since <= w {
                *k = NEAR;
            }
        }
    }
}

/// Number of dense features fed to the stacker.
pub const DENSE_DIM: usize = 16;

pub const DENSE_NAMES: [&str; DENSE_DIM] = [
    "text_toxicity_logit",
    "text_spam_logit",
    "rule_tox_flag",
    "rule_tox_hold",
    "rule_tox_block",
    "rule_spam_flag",
    "rule_spam_hold",
    "log_length",
    "links",
    "caps_ratio",
    "digit_ratio",
    "punct_ratio",
    "non_letter_ratio",
    "lang_fr",
    "empty_after_normalisation",
    "mentions",
];

/// Character-level shape statistics of the original text (one pass).
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    pub chars: u32,
    pub letters: u32,
    pub upper: u32,
    pub digits: u32,
    pub punct: u32,
    pub other: u32,
    pub links: u32,
    pub mentions: u32,
}

/// Classes of ASCII bytes counted by [`shape`].
const LOWER: u8 = 0;
const UPPER: u8 = 1;
const DIGIT: u8 = 2;
const AT: u8 = 3;
const PUNCT: u8 = 4;
const SPACE: u8 = 5;
const OTHER: u8 = 6;
/// U+000B: whitespace for `char::is_whitespace`, not for `u8::is_ascii_whitespace`.
const VTAB: u8 = 7;

const ASCII_CLASS: [u8; 128] = {
    let mut t = [OTHER; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' => UPPER,
            b'0'..=b'9' => DIGIT,
            b'@' => AT,
            0x0b => VTAB,
            _ if b.is_ascii_punctuation() => PUNCT,
            _ if b.is_ascii_whitespace() => SPACE,
            _ => OTHER,
        };
        i += 1;
    }
    t
};

/// Counts the characters of `original` by class (in the first 80,000 bytes of ASCII text, the
/// first 20,000 characters of other text) and its links (in the whole text).
pub fn shape(original: &str) -> Shape {
    let b = original.as_bytes();
    // per ASCII class, plus non-ASCII letters, upper-case letters, digits and others
    let mut n = [0u32; 8];
    let (mut letters, mut upper, mut digits, mut other) = (0u32, 0u32, 0u32, 0u32);
    let chars;
    if original.is_ascii() {
        // ASCII text: its first 80,000 bytes
        let b = &b[..b.len().min(80_000)];
        for &x in b {
            n[ASCII_CLASS[x as usize] as usize] += 1;
        }
        chars = b.len() as u32;
        n[OTHER as usize] += std::mem::take(&mut n[VTAB as usize]);
    } else {
        // other text: its first 20,000 characters
        let mut count = 0;
        for c in original.chars().take(20_000) {
            count += 1;
            if c.is_ascii() {
                n[ASCII_CLASS[c as usize] as usize] += 1;
            } else if c.is_alphabetic() {
                letters += 1;
                upper += u32::from(c.is_uppercase());
            } else if c.is_numeric() {
                digits += 1;
            } else if !c.is_whitespace() {
                other += 1;
            }
        }
        chars = count;
    }
    Shape {
        chars,
        letters: letters + n[LOWER as usize] + n[UPPER as usize],
        upper: upper + n[UPPER as usize],
        digits: digits + n[DIGIT as usize],
        punct: n[AT as usize] + n[PUNCT as usize],
        other: other + n[OTHER as usize],
        links: count_links(b),
        mentions: n[AT as usize],
    }
}

/// Top-level domains that make `word.tld` count as a link.
const LINK_TLDS: [&[u8]; 9] = [
    b"com", b"fr", b"net", b"org", b"ly", b"io", b"info", b"biz", b"ru",
];

/// Links: `http(s)://`, `www.` at a word start, and bare domains with common TLDs. One URL counts
/// once (the rest of its whitespace-delimited run is skipped). Only `.` and `:` can complete a
/// link, so the scan jumps between them.
fn count_links(b: &[u8]) -> u32 {
    let mut links = 0;
    let mut from = 0;
    while let Some(off) = memchr::memchr2(b'.', b':', &b[from..]) {
        let p = from + off;
        let hit = if b[p] == b':' {
            b.get(p + 1..p + 3) == Some(b"//")
                && (p >= 4 && b[p - 4..p].eq_ignore_ascii_case(b"http")
                    || p >= 5 && b[p - 5..p].eq_ignore_ascii_case(b"https"))
        } else {
            let www = p >= 3
                && b[p - 3..p].eq_ignore_ascii_case(b"www")
                && (p == 3 || !b[p - 4].is_ascii_alphanumeric());
            www || p + 4 <= b.len()
                && p > 0
                && b[p - 1].is_ascii_alphanumeric()
                && LINK_TLDS.iter().any(|tld| {
                    let w = &b[p + 1..];
                    w.len() >= tld.len()
                        && w[..tld.len()].eq_ignore_ascii_case(tld)
                        && w.get(tld.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
                })
        };
        from = p + 1;
        if hit {
            links += 1;
            while from < b.len() && !b[from].is_ascii_whitespace() {
                from += 1;
            }
        }
    }
    links
}

/// Dense feature vector for the stacker.
pub fn dense(
    margins: [f32; 2],
    hits: &[RuleHit],
    sh: &Shape,
    lang: &str,
    empty: bool,
) -> [f32; DENSE_DIM] {
    let mut d = [0f32; DENSE_DIM];
    d[0] = margins[0];
    d[1] = margins[1];
    for h in hits {
        let k = match (h.category, h.action) {
            (RuleCategory::Toxicity, Action::Flag) => 2,
            (RuleCategory::Toxicity, Action::Hold) => 3,
            (RuleCategory::Toxicity, Action::Block) => 4,
            (RuleCategory::Spam, Action::Flag) => 5,
            (RuleCategory::Spam, _) => 6,
            _ => continue,
        };
        d[k] = (d[k] + 1.0).min(3.0);
    }
    let chars = sh.chars.max(1) as f32;
    d[7] = (1.0 + sh.chars as f32).ln();
    d[8] = (sh.links as f32).min(5.0);
    d[9] = if sh.letters >= 4 {
        sh.upper as f32 / sh.letters as f32
    } else {
        0.0
    };
    d[10] = sh.digits as f32 / chars;
    d[11] = sh.punct as f32 / chars;
    d[12] = sh.other as f32 / chars;
    d[13] = if lang == "fr" { 1.0 } else { 0.0 };
    d[14] = if empty { 1.0 } else { 0.0 };
    d[15] = (sh.mentions as f32).min(3.0);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte scan that `shape` used until 2026-12-02 (the shipped model was trained
    /// on its counts): the memchr scan must count the same links.
    fn links_reference(b: &[u8]) -> u32 {
        let mut links = 0;
        let mut i = 0;
        while i + 4 <= b.len() {
            if !matches!(b[i], b'h' | b'H' | b'w' | b'W' | b'.') {
                i += 1;
                continue;
            }
            let w = &b[i..];
            let hit = if w.len() >= 7 && (w[..7].eq_ignore_ascii_case(b"http://"))
                || w.len() >= 8 && w[..8].eq_ignore_ascii_case(b"https://")
            {
                Some(7)
            } else if w[..4].eq_ignore_ascii_case(b"www.")
                && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            {
                Some(4)
            } else if w[0] == b'.'
                && i > 0
                && b[i - 1].is_ascii_alphanumeric()
                && LINK_TLDS.iter().any(|tld| {
                    w.len() > tld.len()
                        && w[1..1 + tld.len()].eq_ignore_ascii_case(tld)
                        && w.get(1 + tld.len())
                            .is_none_or(|c| !c.is_ascii_alphanumeric())
                })
            {
                Some(2)
            } else {
                None
            };
            match hit {
                Some(skip) => {
                    links += 1;
                    i += skip;
                    while i < b.len() && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                }
                None => i += 1,
            }
        }
        links
    }

    /// Character counts as `shape` computed them until 2026-12-02 (the model was trained on them).
    fn counts_reference(original: &str) -> [u32; 7] {
        let mut s = Shape::default();
        let b = original.as_bytes();
        if original.is_ascii() {
            for &x in &b[..b.len().min(80_000)] {
                s.chars += 1;
                match x {
                    b'a'..=b'z' => s.letters += 1,
                    b'A'..=b'Z' => {
                        s.letters += 1;
                        s.upper += 1;
                    }
                    b'0'..=b'9' => s.digits += 1,
                    b'@' => {
                        s.punct += 1;
                        s.mentions += 1;
                    }
                    x if x.is_ascii_punctuation() => s.punct += 1,
                    x if x.is_ascii_whitespace() => {}
                    _ => s.other += 1,
                }
            }
        } else {
            for c in original.chars().take(20_000) {
                s.chars += 1;
                if c.is_alphabetic() {
                    s.letters += 1;
                    if c.is_uppercase() {
                        s.upper += 1;
                    }
                } else if c.is_numeric() {
                    s.digits += 1;
                } else if c.is_ascii_punctuation() {
                    s.punct += 1;
                    if c == '@' {
                        s.mentions += 1;
                    }
                } else if !c.is_whitespace() {
                    s.other += 1;
                }
            }
        }
        [
            s.chars, s.letters, s.upper, s.digits, s.punct, s.other, s.mentions,
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        #[test]
        fn counts_match_the_reference(s in "(\\PC|[\\x00-\\x20]|[A-Z@]|É|ⅷ|٣){0,40}") {
            let sh = shape(&s);
            proptest::prop_assert_eq!(
                [sh.chars, sh.letters, sh.upper, sh.digits, sh.punct, sh.other, sh.mentions],
                counts_reference(&s)
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        #[test]
        fn links_match_the_reference_scan(
            s in "([ a-zA-Z0-9./:@\\-]|https?://|HTTP://|www\\.|WWW\\.|\\.(com|fr|ly|info|ru)|é){0,24}"
        ) {
            proptest::prop_assert_eq!(count_links(s.as_bytes()), links_reference(s.as_bytes()), "{:?}", s);
        }
    }

    #[test]
    fn links_counted_once() {
        assert_eq!(shape("see https://example.com/x and www.foo.fr").links, 2);
        assert_eq!(shape("visit example.com now").links, 1);
        assert_eq!(shape("version 1.2 is out").links, 0);
        assert_eq!(shape("").links, 0);
        assert_eq!(
            shape("site.fr").links,
            0,
            "the trained counts ignore a TLD in the last 3 bytes"
        );
        assert_eq!(shape("site.com").links, 1);
        assert_eq!(shape("HTTPS://x http://y").links, 2);
        assert_eq!(shape("awww.foo bwww.com").links, 1);
    }

    #[test]
    fn features_are_deterministic() {
        let n = super::super::normalise::normalise("Bonjour tout le monde");
        let mut a = SparseFeatures::default();
        let mut b = SparseFeatures::default();
        extract(&n, &FeatureConfig::default(), "fr", &mut a);
        extract(&n, &FeatureConfig::default(), "fr", &mut b);
        assert_eq!(a.idx, b.idx);
        assert!(a.idx.iter().all(|&i| i < 1 << 18));
    }

    #[test]
    fn language_copies_of_words_only_when_asked_and_only_for_fr_and_en() {
        let n = super::super::normalise::normalise("tu es un con");
        let on = FeatureConfig {
            lang_words: true,
            ..FeatureConfig::default()
        };
        let feats = |cfg: &FeatureConfig, lang: &str| {
            let mut sf = SparseFeatures::default();
            extract(&n, cfg, lang, &mut sf);
            sf.idx
        };
        let plain = feats(&FeatureConfig::default(), "fr");
        // off: the language changes nothing
        assert_eq!(plain, feats(&FeatureConfig::default(), "en"));
        // on: four unigrams and three bigrams get one more feature each in fr and in en...
        let (fr, en) = (feats(&on, "fr"), feats(&on, "en"));
        assert_eq!(fr.len(), plain.len() + 7);
        assert_eq!(en.len(), plain.len() + 7);
        assert_ne!(fr, en);
        // ...and none in a language without its own copy
        assert_eq!(feats(&on, "de"), plain);
    }

    #[test]
    fn a_neutral_term_is_one_shared_feature_without_ngrams_or_bigrams() {
        let cfg = FeatureConfig {
            lang_words: true,
            ..FeatureConfig::default()
        }
        .with_neutral_terms(vec!["Réfugiés".into(), "femmes".into(), "gay".into()]);
        assert!(cfg.invalid_neutral_terms().is_empty());
        let feats = |text: &str| {
            let n = super::super::normalise::normalise(text);
            let mut sf = SparseFeatures::default();
            extract(&n, &cfg, "fr", &mut sf);
            (
                sf.idx.clone(),
                (0..n.tokens.len())
                    .map(|t| sf.idx[sf.token_range(t)].to_vec())
                    .collect::<Vec<_>>(),
            )
        };
        // every neutral term gives the same features, whatever its case and accents...
        let (a, ta) = feats("les réfugiés sont magnifiques");
        let (b, _) = feats("LES FEMMES sont magnifiques");
        let (c, _) = feats("les Refugies sont magnifiques");
        assert_eq!(a, b);
        assert_eq!(a, c);
        // ...the shared word and its French copy only: no n-grams, no bigram on either side
        let shared = cfg.neutral_buckets();
        assert_eq!(shared.len(), 3);
        assert_eq!(ta[1], vec![shared[0], shared[1]]);
        let (plain, tp) = feats("les voisins sont magnifiques");
        assert!(tp[1].len() > 2);
        assert_eq!(
            tp[2].len(),
            ta[2].len() + 2,
            "the bigram after a neutral term is skipped"
        );
        assert_ne!(a, plain);
        // an insult next to a neutral term keeps its own features
        let (_, ti) = feats("sales réfugiés");
        let (_, tj) = feats("sales voisins");
        assert_eq!(ti[0], tj[0]);
    }

    #[test]
    fn words_near_a_neutral_term_get_a_feature_of_their_own_function_words_excepted() {
        let base = FeatureConfig::default().with_neutral_terms(vec!["femmes".into()]);
        let near = base
            .clone()
            .with_neutral_context(2, vec!["les".into(), "je".into()]);
        assert!(near.invalid_neutral_terms().is_empty());
        let per_token = |cfg: &FeatureConfig, text: &str| {
            let n = super::super::normalise::normalise(text);
            let mut sf = SparseFeatures::default();
            extract(&n, cfg, "fr", &mut sf);
            (0..n.tokens.len())
                .map(|t| sf.token_range(t).len())
                .collect::<Vec<_>>()
        };
        let text = "je deteste vraiment les femmes du quartier ici";
        let (a, b) = (per_token(&base, text), per_token(&near, text));
        // "vraiment" (2 before), "du" and "quartier" (1 and 2 after) get one feature more;
        // "je" and "les" are skipped, "deteste" and "ici" are 3 tokens away
        assert_eq!(
            b.iter().zip(&a).map(|(x, y)| x - y).collect::<Vec<_>>(),
            vec![0, 0, 1, 0, 0, 1, 1, 0]
        );
        // without a neutral term, nothing changes
        assert_eq!(
            per_token(&base, "je deteste les lundis"),
            per_token(&near, "je deteste les lundis")
        );
        // the feature is the word's own, not its plain unigram
        let feats = |cfg: &FeatureConfig, text: &str| {
            let n = super::super::normalise::normalise(text);
            let mut sf = SparseFeatures::default();
            extract(&n, cfg, "fr", &mut sf);
            sf.idx
        };
        let extra: Vec<u32> = feats(&near, "deteste femmes")
            .into_iter()
            .filter(|i| !feats(&base, "deteste femmes").contains(i))
            .collect();
        assert_eq!(extra.len(), 1);
        assert!(!feats(&base, "deteste lundis").contains(&extra[0]));
    }

    #[test]
    fn words_near_neutral_terms_are_those_a_brute_force_finds() {
        let base = FeatureConfig::default().with_neutral_terms(vec!["femmes".into()]);
        let near = base.clone().with_neutral_context(2, vec!["les".into()]);
        let vocab = [
            "femmes", "les", "voisins", "parlent", "femmes", "souvent", "ici",
        ];
        let (mut x, mut words) = (7u32, Vec::new());
        for _ in 0..300 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            words.push(vocab[(x >> 16) as usize % vocab.len()]);
        }
        let text = words.join(" ");
        let n = super::super::normalise::normalise(&text);
        let count = |cfg: &FeatureConfig| {
            let mut sf = SparseFeatures::default();
            extract(&n, cfg, "fr", &mut sf);
            (0..n.tokens.len())
                .map(|t| sf.token_range(t).len())
                .collect::<Vec<_>>()
        };
        let extra: Vec<usize> = count(&near)
            .iter()
            .zip(count(&base))
            .map(|(a, b)| a - b)
            .collect();
        let want: Vec<usize> = (0..words.len())
            .map(|i| {
                let close = (i.saturating_sub(2)..=(i + 2).min(words.len() - 1))
                    .any(|j| j != i && words[j] == "femmes");
                usize::from(close && words[i] != "femmes" && words[i] != "les")
            })
            .collect();
        assert_eq!(extra, want);
        assert!(want.contains(&1) && want.contains(&0));
    }

    #[test]
    fn neutral_terms_of_several_words_are_reported_and_an_empty_list_changes_nothing() {
        let cfg = FeatureConfig::default().with_neutral_terms(vec![
            "gay".into(),
            "gens du voyage".into(),
            "".into(),
        ]);
        assert_eq!(cfg.invalid_neutral_terms(), vec!["gens du voyage", ""]);
        assert!(FeatureConfig::default().neutral_buckets().is_empty());
        let none = FeatureConfig::default().with_neutral_terms(Vec::new());
        assert_eq!(none, FeatureConfig::default());
    }

    #[test]
    fn neutral_terms_survive_a_round_trip_through_model_json() {
        let cfg = FeatureConfig::default()
            .with_neutral_terms(vec!["musulmans".into()])
            .with_neutral_context(4, vec!["les".into()]);
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains(r#""neutral_terms":["musulmans"]"#), "{json}");
        assert!(json.contains(r#""neutral_window":4"#), "{json}");
        let back: FeatureConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(back.neutral_buckets(), cfg.neutral_buckets());
        // without any, the field is not written (older readers see the same file)
        let plain = serde_json::to_string(&FeatureConfig::default()).unwrap();
        assert!(!plain.contains("neutral"), "{plain}");
    }

    #[test]
    fn a_model_file_without_lang_words_reads_as_off() {
        let cfg: FeatureConfig = serde_json::from_str(
            r#"{"hash_bits":18,"char_min":3,"char_max":5,"word_bigrams":true}"#,
        )
        .unwrap();
        assert_eq!(cfg, FeatureConfig::default());
    }
}
