//! Which language a comment is in. Vigie scores French and English; any other language is
//! named so that the site's policy for unscored languages applies (`Policy::unscored`).
//!
//! Fast path: function words of seven Latin-script languages in one compile-time table (one
//! lookup per token, the lookup the top-term filter needs anyway); when one language clearly
//! leads (at least two weighted hits and twice the next), it is the answer. Arabic script is
//! told by its letters. A text that is not clear and hints at another language goes to
//! whatlang (trigram profiles of the eight languages), which costs about 20 µs but is rarely
//! needed on French and English text.

use super::normalise::Normalised;

/// French stop words (normalised: lower case, no accents).
const FR: [&str; 93] = [
    "le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "pas", "que", "qui", "en",
    "dans", "pour", "sur", "avec", "ce", "cette", "il", "elle", "ils", "je", "tu", "nous", "vous",
    "on", "mais", "ou", "donc", "au", "aux", "sont", "ne", "plus", "tout", "tres", "bien", "fait",
    "etre", "avoir", "comme", "meme", "sans", "par", "son", "sa", "ses", "mon", "ma", "mes", "ton",
    "ta", "leur", "c'", "l'", "d'", "j'", "n'", "qu'", "s'", "t'", "m'", "oui", "non", "alors",
    "aussi", "encore", "moi", "toi", "lui", "ca", "cet", "deja", "ici", "quand", "parce", "chez",
    "rien", "faire", "peut", "ont", "va", "vont", "etait", "a", "as", "y", "se", "si", "ni", "es",
];

/// English stop words.
const EN: [&str; 75] = [
    "the", "and", "is", "are", "was", "were", "to", "of", "in", "that", "it", "you", "he", "she",
    "they", "we", "i", "this", "with", "for", "not", "on", "be", "have", "has", "do", "does",
    "what", "so", "but", "just", "my", "your", "his", "her", "their", "at", "all", "if", "or",
    "from", "about", "who", "will", "would", "can", "an", "like", "get", "out", "up", "no", "yes",
    "them", "me", "him", "its", "it's", "dont", "don't", "im", "there", "how", "why", "when",
    "because", "been", "should", "could", "than", "then", "these", "those", "a", "as",
];

/// German function words (normalised: lower case, no accents, ß kept as is).
const DE: [&str; 72] = [
    "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "einer", "ich",
    "du", "er", "sie", "es", "wir", "ihr", "mit", "von", "zu", "den", "dem", "des", "auf", "fur",
    "im", "sind", "war", "wie", "aber", "auch", "noch", "nur", "dass", "oder", "wenn", "man",
    "sich", "hat", "haben", "kann", "wird", "werden", "schon", "mal", "kein", "keine", "mein",
    "dein", "sein", "bei", "nach", "aus", "uber", "diese", "dieser", "vom", "zum", "zur", "doch",
    "ja", "nein", "was", "wer", "ihn", "ihm", "uns", "euch", "jetzt", "hier", "sehr",
];

/// Spanish function words.
const ES: [&str; 66] = [
    "el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "es", "por", "con",
    "para", "no", "lo", "se", "al", "como", "pero", "muy", "mas", "esto", "esta", "este", "estos",
    "estas", "son", "ya", "su", "sus", "le", "les", "me", "mi", "tu", "te", "yo", "hay", "fue",
    "ser", "tiene", "todo", "todos", "nada", "porque", "cuando", "donde", "quien", "tambien",
    "sin", "sobre", "entre", "hasta", "desde", "eso", "ese", "esa", "usted", "ustedes", "nosotros",
    "aqui", "ahora", "solo", "estan",
];

/// Italian function words.
const IT: [&str; 66] = [
    "il", "lo", "la", "i", "gli", "le", "di", "da", "in", "con", "su", "per", "tra", "fra", "che",
    "e", "non", "un", "una", "uno", "del", "della", "dei", "delle", "al", "alla", "sono", "sei",
    "ho", "hai", "ha", "abbiamo", "questo", "questa", "quello", "ma", "come", "piu", "anche",
    "gia", "se", "mi", "ti", "ci", "si", "vi", "io", "tu", "lui", "lei", "noi", "voi", "loro",
    "molto", "tutto", "tutti", "niente", "perche", "quando", "dove", "chi", "cosa", "sempre",
    "ancora", "essere", "nel",
];

/// Portuguese function words.
const PT: [&str; 66] = [
    "o", "a", "os", "as", "de", "do", "da", "dos", "das", "que", "e", "em", "um", "uma", "no",
    "na", "nos", "nas", "por", "para", "com", "nao", "se", "mais", "como", "mas", "muito", "ja",
    "eu", "voce", "ele", "ela", "eles", "elas", "isso", "isto", "esse", "essa", "este", "esta",
    "foi", "ser", "tem", "sao", "estao", "seu", "sua", "meu", "minha", "porque", "quando", "onde",
    "tambem", "ao", "aos", "pelo", "pela", "voces", "aqui", "agora", "so", "entao", "nem", "tudo",
    "nada", "ate",
];

/// Dutch function words.
const NL: [&str; 67] = [
    "de", "het", "een", "en", "van", "ik", "je", "jij", "u", "hij", "zij", "we", "wij", "niet",
    "dat", "die", "is", "zijn", "was", "met", "voor", "op", "aan", "te", "er", "maar", "om", "ook",
    "als", "dan", "nog", "wel", "geen", "heb", "hebt", "heeft", "hebben", "kan", "wordt", "worden",
    "zo", "naar", "uit", "bij", "door", "over", "dit", "deze", "wat", "wie", "waar", "hoe",
    "omdat", "nu", "al", "mijn", "jouw", "haar", "ons", "jullie", "echt", "toch", "gewoon", "zou",
    "moet", "veel", "niets",
];

const FLAG_FR: u8 = 1;
const FLAG_EN: u8 = 2;
/// The other languages of the table, in the order of [`OTHER_LANGS`].
const FLAG_DE: u8 = 4;
const FLAG_ES: u8 = 8;
const FLAG_IT: u8 = 16;
const FLAG_PT: u8 = 32;
const FLAG_NL: u8 = 64;
/// Codes of the table's languages by flag bit.
const TABLE_LANGS: [&str; 7] = ["fr", "en", "de", "es", "it", "pt", "nl"];
const SLOTS: usize = 2048;

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
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 53) as usize
}

const fn build() -> StopWords {
    let mut t = StopWords {
        keys: [0; SLOTS],
        flags: [0; SLOTS],
    };
    let lists: [(&[&str], u8); 7] = [
        (&FR, FLAG_FR),
        (&EN, FLAG_EN),
        (&DE, FLAG_DE),
        (&ES, FLAG_ES),
        (&IT, FLAG_IT),
        (&PT, FLAG_PT),
        (&NL, FLAG_NL),
    ];
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

/// The flags of the languages `w` is a function word of (0 for none). Normalised tokens hold no NUL, so the
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

/// A French or English stop word (not a useful highlight; an English "die" stays one even
/// though German lists it).
#[inline]
pub(crate) fn is_stop_word(w: &str) -> bool {
    stop_flags(w) & (FLAG_FR | FLAG_EN) != 0
}

/// The languages Vigie's models score; any other is "not scored" and the site's policy for it
/// applies.
pub const SCORED: [&str; 2] = ["fr", "en"];

/// Whether `lang` (as [`detect`] or a client names it) is one the model scores. `und` (no
/// language could be told: emoji, a link, "+1") is scored like before.
pub fn is_scored(lang: &str) -> bool {
    SCORED.contains(&lang) || lang == "und"
}

/// The primary subtag of a language tag, lower case (`FR-ca` → `fr`).
pub fn primary_subtag(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Below this many letters, trigram profiles guess more than they know: the stop-word counts
/// and accents decide between French, English and undetermined, as they always did.
const MIN_LETTERS_FOR_TRIGRAMS: usize = 10;

/// The language of a comment: `fr`, `en`, `de`, `es`, `it`, `pt`, `nl`, `ar`, another
/// ISO 639-3 code for text in another script, or `und` (undetermined).
pub fn detect(n: &Normalised, original: &str) -> &'static str {
    let mut counts = [0f32; TABLE_LANGS.len()];
    for t in &n.tokens {
        let w = n.token_str(t);
        if w.len() > 8 {
            continue;
        }
        let f = stop_flags(w);
        if f == 0 {
            continue;
        }
        // A word shared by several languages is weak evidence for each.
        let share = 1.0 / f.count_ones() as f32;
        for (i, c) in counts.iter_mut().enumerate() {
            if f & (1 << i) != 0 {
                *c += share;
            }
        }
    }
    let (mut best, mut second) = (0, 1);
    if counts[1] > counts[0] {
        (best, second) = (1, 0);
    }
    for i in 2..counts.len() {
        if counts[i] > counts[best] {
            second = best;
            best = i;
        } else if counts[i] > counts[second] {
            second = i;
        }
    }
    if counts[best] >= 2.0 && counts[best] >= 2.0 * counts[second] {
        return TABLE_LANGS[best];
    }
    let letters = Letters::of(original);
    if letters.arabic > letters.latin && letters.arabic >= letters.other {
        return "ar";
    }
    // Trigrams cost about 20 µs a comment: only when something says the text may be neither
    // French nor English (more function words of the other languages than of these two,
    // letters French and English do not use, another script), so weakly marked French and
    // English comments stay on the fast path; and on the first `TRIGRAM_BYTES` only.
    let (fr_en, others) = (counts[0] + counts[1], counts[2..].iter().sum::<f32>());
    let foreign = others > fr_en || letters.foreign > 0 || letters.other > 0;
    if foreign && letters.latin + letters.arabic + letters.other >= MIN_LETTERS_FOR_TRIGRAMS {
        let head = prefix(original, TRIGRAM_BYTES);
        let info = if letters.other > letters.latin {
            whatlang::detect(head)
        } else {
            LATIN_DETECTOR.detect(head)
        };
        if let Some(info) = info {
            return code(info.lang());
        }
    }
    french_or_english(counts[0], counts[1], original)
}

/// Text given to trigram detection, at most: a language shows in its first sentences.
const TRIGRAM_BYTES: usize = 240;

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The short-text rule: more French or English function words, else accents for French.
fn french_or_english(fr: f32, en: f32, original: &str) -> &'static str {
    if fr > en {
        return "fr";
    }
    if en > fr {
        return "en";
    }
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
    "und"
}

/// whatlang restricted to the Latin-script languages of the table and Arabic: fewer
/// candidates, fewer confusions on short comments.
static LATIN_DETECTOR: std::sync::LazyLock<whatlang::Detector> = std::sync::LazyLock::new(|| {
    use whatlang::Lang;
    whatlang::Detector::with_allowlist(vec![
        Lang::Fra,
        Lang::Eng,
        Lang::Deu,
        Lang::Spa,
        Lang::Ita,
        Lang::Por,
        Lang::Nld,
        Lang::Ara,
    ])
});

/// ISO 639-1 for the languages Vigie names, ISO 639-3 (whatlang's) for the others.
fn code(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang;
    match lang {
        Lang::Fra => "fr",
        Lang::Eng => "en",
        Lang::Deu => "de",
        Lang::Spa => "es",
        Lang::Ita => "it",
        Lang::Por => "pt",
        Lang::Nld => "nl",
        Lang::Ara => "ar",
        Lang::Rus => "ru",
        Lang::Ukr => "uk",
        Lang::Pol => "pl",
        Lang::Tur => "tr",
        Lang::Ron => "ro",
        Lang::Cmn => "zh",
        Lang::Jpn => "ja",
        Lang::Kor => "ko",
        Lang::Heb => "he",
        Lang::Ell => "el",
        other => other.code(),
    }
}

/// Letters of a text by script.
#[derive(Debug, Default)]
struct Letters {
    latin: usize,
    /// Latin letters French and English do not use (á í ó ú ñ ã õ ä ö ß ì ò ø å).
    foreign: usize,
    arabic: usize,
    other: usize,
}

impl Letters {
    fn of(text: &str) -> Letters {
        let mut l = Letters::default();
        for c in text.chars() {
            match c {
                'á' | 'í' | 'ó' | 'ú' | 'ñ' | 'ã' | 'õ' | 'ä' | 'ö' | 'ß' | 'ì' | 'ò' | 'ø'
                | 'å' | 'Á' | 'Í' | 'Ó' | 'Ú' | 'Ñ' | 'Ã' | 'Õ' | 'Ä' | 'Ö' => {
                    l.latin += 1;
                    l.foreign += 1;
                }
                'a'..='z' | 'A'..='Z' | '\u{C0}'..='\u{24F}' if c.is_alphabetic() => l.latin += 1,
                '\u{600}'..='\u{6FF}'
                | '\u{750}'..='\u{77F}'
                | '\u{8A0}'..='\u{8FF}'
                | '\u{FB50}'..='\u{FDFF}'
                | '\u{FE70}'..='\u{FEFF}'
                    if c.is_alphabetic() =>
                {
                    l.arabic += 1
                }
                c if c.is_alphabetic() => l.other += 1,
                _ => {}
            }
        }
        l
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
        for (words, flag) in [
            (&DE[..], FLAG_DE),
            (&ES[..], FLAG_ES),
            (&IT[..], FLAG_IT),
            (&PT[..], FLAG_PT),
            (&NL[..], FLAG_NL),
        ] {
            for w in words {
                assert!(stop_flags(w) & flag != 0, "{w}");
            }
        }
        // Only French and English function words are kept out of highlights.
        assert!(!is_stop_word("die") && !is_stop_word("nicht"));
        assert!(is_stop_word("the") && is_stop_word("les"));
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

    #[test]
    fn names_the_languages_it_does_not_score() {
        for (s, want) in [
            (
                "Ich bin nicht einverstanden mit diesem Artikel, das ist falsch.",
                "de",
            ),
            ("No estoy de acuerdo con este artículo, es muy malo.", "es"),
            (
                "Non sono d'accordo con questo articolo, è molto sbagliato.",
                "it",
            ),
            ("Não concordo com este artigo, está muito errado.", "pt"),
            (
                "Ik ben het niet eens met dit artikel, het is gewoon fout.",
                "nl",
            ),
            ("لا أتفق مع هذا المقال على الإطلاق", "ar"),
            ("Я не согласен с этой статьёй, она ошибочна.", "ru"),
            (
                "Je ne suis pas d'accord avec cet article, il est faux.",
                "fr",
            ),
            ("I do not agree with this article, it is wrong.", "en"),
        ] {
            assert_eq!(detect(&normalise(s), s), want, "{s}");
        }
        assert!(is_scored("fr") && is_scored("en") && is_scored("und"));
        assert!(!is_scored("de") && !is_scored("ar"));
    }
}
