//! Tiny French/English detector from stop words over normalised tokens.

use super::normalise::Normalised;

/// French stop words (normalised: lower case, no accents).
const FR: [&str; 86] = [
    "le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "pas", "que", "qui", "en",
    "dans", "pour", "sur", "avec", "ce", "cette", "il", "elle", "ils", "je", "tu", "nous", "vous",
    "on", "mais", "ou", "donc", "au", "aux", "sont", "ne", "plus", "tout", "tres", "bien", "fait",
    "etre", "avoir", "comme", "meme", "sans", "par", "son", "sa", "ses", "mon", "ma", "mes", "ton",
    "ta", "leur", "c'", "l'", "d'", "j'", "n'", "qu'", "s'", "t'", "m'", "oui", "non", "alors",
    "aussi", "encore", "moi", "toi", "lui", "ca", "cet", "deja", "ici", "quand", "parce", "chez",
    "rien", "faire", "peut", "ont", "va", "vont", "etait",
];

/// English stop words.
const EN: [&str; 73] = [
    "the", "and", "is", "are", "was", "were", "to", "of", "in", "that", "it", "you", "he", "she",
    "they", "we", "i", "this", "with", "for", "not", "on", "be", "have", "has", "do", "does",
    "what", "so", "but", "just", "my", "your", "his", "her", "their", "at", "all", "if", "or",
    "from", "about", "who", "will", "would", "can", "an", "like", "get", "out", "up", "no", "yes",
    "them", "me", "him", "its", "it's", "dont", "don't", "im", "there", "how", "why", "when",
    "because", "been", "should", "could", "than", "then", "these", "those",
];

const FLAG_FR: u8 = 1;
const FLAG_EN: u8 = 2;
const SLOTS: usize = 512;

/// Open-addressing table of the stop words packed into a `u64` (all are at most 8 bytes), built
/// at compile time: one multiply and usually one comparison per token.
struct StopWords {
    keys: [u64; SLOTS],
    flags: [u8; SLOTS],
}

const fn pack(w: &[u8]) -> u64 {
    let mut k = 0u64;
    let mut i = 0;
    while i < w.len() {
        k |= (w[i] as u64) << (8 * i);
        i += 1;
    }
    k
}

const fn slot(key: u64) -> usize {
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 55) as usize
}

const fn build() -> StopWords {
    let mut t = StopWords {
        keys: [0; SLOTS],
        flags: [0; SLOTS],
    };
    let lists: [(&[&str], u8); 2] = [(&FR, FLAG_FR), (&EN, FLAG_EN)];
    let mut l = 0;
    while l < lists.len() {
        let (words, flag) = lists[l];
        let mut i = 0;
        while i < words.len() {
            let w = words[i].as_bytes();
            assert!(!w.is_empty() && w.len() <= 8);
            let key = pack(w);
            let mut s = slot(key);
            while t.keys[s] != 0 && t.keys[s] != key {
                s = (s + 1) % SLOTS;
            }
            t.keys[s] = key;
            t.flags[s] |= flag;
            i += 1;
        }
        l += 1;
    }
    t
}

static STOP_WORDS: StopWords = build();

/// `pack` at run time: two overlapping little-endian loads instead of a loop over the bytes
/// (the overlapping bytes are the same bytes, so OR-ing them is exact). `b` holds 1 to 8 bytes.
#[inline]
fn load(b: &[u8]) -> u64 {
    let n = b.len();
    let u32_at = |at: usize| <[u8; 4]>::try_from(&b[at..at + 4]).map_or(0, u32::from_le_bytes);
    let u16_at = |at: usize| <[u8; 2]>::try_from(&b[at..at + 2]).map_or(0, u16::from_le_bytes);
    match n {
        4..=8 => u64::from(u32_at(0)) | u64::from(u32_at(n - 4)) << (8 * (n - 4)),
        2..=3 => u64::from(u16_at(0)) | u64::from(u16_at(n - 2)) << (8 * (n - 2)),
        _ => b.first().map_or(0, |&x| u64::from(x)),
    }
}

/// `FLAG_FR` and/or `FLAG_EN` when `w` is a stop word. Normalised tokens hold no NUL, so the
/// zero padding of the packed key cannot collide.
#[inline]
fn stop_flags(w: &str) -> u8 {
    let b = w.as_bytes();
    if b.is_empty() || b.len() > 8 {
        return 0;
    }
    let key = load(b);
    let mut s = slot(key);
    loop {
        match STOP_WORDS.keys[s] {
            0 => return 0,
            k if k == key => return STOP_WORDS.flags[s],
            _ => s = (s + 1) % SLOTS,
        }
    }
}

/// A French or English stop word (not a useful highlight).
#[inline]
pub(crate) fn is_stop_word(w: &str) -> bool {
    stop_flags(w) != 0
}

/// "fr", "en" or "und" (undetermined).
pub fn detect(n: &Normalised, original: &str) -> &'static str {
    let mut fr = 0i32;
    let mut en = 0i32;
    for t in &n.tokens {
        let w = n.token_str(t);
        if w.len() > 7 {
            continue;
        }
        let f = stop_flags(w);
        fr += i32::from(f & FLAG_FR != 0);
        en += i32::from(f & FLAG_EN != 0);
    }
    if fr == en {
        // accents are a decent tie-breaker for French
        // é è ê à ç ù â î ô û É are 0xC3 followed by one of these bytes in UTF-8
        let b = original.as_bytes();
        if memchr::memchr_iter(0xC3, b).any(|i| {
            matches!(
                b.get(i + 1),
                Some(0xA9 | 0xA8 | 0xAA | 0xA0 | 0xA7 | 0xB9 | 0xA2 | 0xAE | 0xB4 | 0xBB | 0x89)
            )
        }) {
            return "fr";
        }
        return "und";
    }
    if fr > en {
        "fr"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalise::normalise;
    use super::*;

    #[test]
    fn every_stop_word_is_found_and_others_are_not() {
        for w in FR {
            assert!(stop_flags(w) & FLAG_FR != 0, "{w}");
        }
        for w in EN {
            assert!(stop_flags(w) & FLAG_EN != 0, "{w}");
        }
        assert_eq!(stop_flags("on"), FLAG_FR | FLAG_EN);
        for w in [
            "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh",
        ] {
            assert_eq!(load(w.as_bytes()), pack(w.as_bytes()), "{w}");
        }
        for w in [
            "", "connard", "lest", "thee", "l", "ll'", "because!", "parcelle",
        ] {
            assert_eq!(stop_flags(w), 0, "{w}");
        }
    }

    #[test]
    fn detects() {
        let s = "Je ne suis pas d'accord avec cet article.";
        assert_eq!(detect(&normalise(s), s), "fr");
        let s = "I do not agree with this article at all.";
        assert_eq!(detect(&normalise(s), s), "en");
        assert_eq!(detect(&normalise("😀"), "😀"), "und");
        for (s, want) in [
            ("Très bien", "fr"),
            ("à voir", "fr"),
            ("À VOIR", "und"),
            ("ÉNORME", "fr"),
            ("ça", "fr"),
            ("Ã©", "und"),
            ("naïve café", "fr"),
        ] {
            assert_eq!(detect(&normalise(s), s), want, "{s}");
        }
    }
}
