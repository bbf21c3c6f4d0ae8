//! Which language a comment is in. Vigie scores French and English; any other language is
//! named so that the site's policy for unscored languages applies (`Policy::unscored`).
//!
//! Fast path: function words (and a few very frequent words) of seven Latin-script languages
//! in one compile-time table (one lookup per token, the lookup the top-term filter needs
//! anyway); when one language clearly leads (at least two weighted hits and twice the next),
//! it is the answer. Otherwise letters of the original text are looked at: Arabic script is
//! told by its letters, and letters that belong to one language (ñ ¿ -ía, ã õ, ß ä ö, ì ò -tà,
//! ij) count like function words. A text still not clear that hints at another language goes
//! to whatlang (trigram profiles of the eight languages), which costs about 20 µs but is
//! rarely needed on French and English text; its answer is one more vote, worth half a
//! word, because on short comments it confuses close languages (Spanish for Portuguese).
//! `training/lang_dev.csv` is the development set these lists and weights were tuned on.

mod letters;
mod words;

use super::normalise::{head, Normalised};
use letters::Letters;
use words::{stop_flags, FLAG_EN, FLAG_FR, TABLE_LANGS};

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
    detect_traced(n, original).0
}

/// Which step of [`detect`] gave the answer (for tests and the development-set report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Words,
    Arabic,
    Letters,
    Trigrams,
    Fallback,
}

/// [`detect`] and the step that answered.
fn detect_traced(n: &Normalised, original: &str) -> (&'static str, Stage) {
    let mut counts = word_counts(n);
    if let Some(best) = clear_leader(&counts) {
        return (TABLE_LANGS[best], Stage::Words);
    }
    let letters = Letters::of(original);
    if letters.arabic > letters.latin && letters.arabic >= letters.other {
        return ("ar", Stage::Arabic);
    }
    let fr_en_words = counts[0] + counts[1];
    // Letters that belong to one language (ñ, ã, ß, ij, a final è) weigh like function words,
    // at most two per language so that one foreign name does not outweigh a sentence.
    let endings = ending_cues(n);
    for ((c, cue), ending) in counts.iter_mut().zip(letters.cues).zip(endings) {
        *c += (cue + ending).min(MAX_CUES);
    }
    if let Some(best) = clear_leader(&counts) {
        return (TABLE_LANGS[best], Stage::Letters);
    }
    // Trigrams cost about 20 µs a comment: only when something says the text may be neither
    // French nor English (more function words or letter cues of the other languages than
    // function words of these two, letters French and English do not use, another script), so
    // weakly marked French and English comments stay on the fast path; and on the first
    // `TRIGRAM_BYTES` only.
    let others = counts[2..].iter().sum::<f32>();
    let (romance, long) = romance_endings(n);
    let unmarked = fr_en_words == 0.0 && others == 0.0 && romance >= 2 && 2 * romance >= long;
    // most content words end in a, i or o: Italian "l'acqua manca tre giorni a settimana",
    // whose only French-looking words are its elisions
    let romance_lean = romance >= 3 && 3 * romance >= 2 * long;
    // a tie counts: Italian "il governo non fa niente" has only words it shares with French
    let foreign = (others > 0.0 && others >= fr_en_words)
        || unmarked
        || romance_lean
        || letters.foreign > 0
        || letters.other > 0;
    if foreign && letters.latin + letters.arabic + letters.other >= MIN_LETTERS_FOR_TRIGRAMS {
        let start = head(original, TRIGRAM_BYTES);
        let info = if letters.other > letters.latin {
            whatlang::detect(start)
        } else {
            LATIN_DETECTOR.detect(start)
        };
        if let Some(info) = info {
            return (with_trigrams(counts, code(info.lang()), n), Stage::Trigrams);
        }
    }
    (
        french_or_english(counts[0], counts[1], original),
        Stage::Fallback,
    )
}

/// Of the words of four letters or more that are not French or English function words, how
/// many end in a, i or o (as Italian, Spanish and Portuguese words do and French and English
/// words seldom do), and how many there are.
fn romance_endings(n: &Normalised) -> (usize, usize) {
    let (mut romance, mut long) = (0, 0);
    for t in &n.tokens {
        let w = n.token_str(t).as_bytes();
        if w.len() >= 4 && stop_flags(n.token_str(t)) & (FLAG_FR | FLAG_EN) == 0 {
            long += 1;
            romance += usize::from(matches!(w[w.len() - 1], b'a' | b'i' | b'o'));
        }
    }
    (romance, long)
}

/// Word endings that belong to one language of the table, counted like its letter cues:
/// Spanish -ción -dad -aba, Portuguese -ção -ções -dade -inho -lho -eiro -agem and a final
/// -ão (written "nao", "entao" without accents), Italian -zione -ggio -glio -issimo -ati
/// -cchio -accia and the -anno -ono of verbs (not -uti: French "abruti"), German -ung -keit
/// -heit -lich -schaft -tz -sch -ig -chen -iert and pf, Dutch -heid -tje, aa and uu. Few
/// French or English words end so ("lmao", "ciao", "young", "shoes", "kitchen" are kept out
/// by name or length).
fn ending_cues(n: &Normalised) -> [f32; TABLE_LANGS.len()] {
    use words::{FLAG_DE, FLAG_ES, FLAG_IT, FLAG_NL, FLAG_PT};
    let mut cues = [0f32; TABLE_LANGS.len()];
    for t in &n.tokens {
        let w = n.token_str(t);
        if let Some(flag) = ending_flag(w) {
            cues[flag.trailing_zeros() as usize] += 1.0;
        }
    }
    return cues;

    fn ending_flag(w: &str) -> Option<u8> {
        let len = w.len();
        let ends = |sfx: &[&str]| sfx.iter().any(|s| w.ends_with(s));
        if !w.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        if w.ends_with("ao") {
            // "nao", "entao", "questao": a final -ão written without its accent, but not the
            // English "lmao" nor "ciao", "Mao", "tao", "cacao"
            let not = ["ciao", "tao", "mao", "lmao", "lmfao", "cacao", "kakao"];
            return (len >= 3 && !not.contains(&w)).then_some(FLAG_PT);
        }
        if len < 5 {
            return None;
        }
        // not -dades, Portuguese too ("saudades")
        if ends(&["cion", "ciones"]) || (len >= 6 && ends(&["dad", "aba", "aban"])) {
            Some(FLAG_ES)
        } else if ends(&[
            "cao", "coes", "soes", "dade", "nho", "nha", "nhos", "nhas", "lho", "lha", "lhos",
            "lhas", "eiro", "eira", "eiros", "eiras", "agem",
        ]) {
            Some(FLAG_PT)
        } else if ends(&[
            "zione", "zioni", "ggio", "ggia", "glio", "glia", "issimo", "issima", "issimi", "ati",
            "cchio", "cchia", "cchi", "accia", "accio", "anno", "ono",
        ]) {
            Some(FLAG_IT)
        } else if (len >= 6 && ends(&["ung", "ungen"]))
            || ends(&[
                "keit", "heit", "lich", "schaft", "tz", "sch", "ig", "ieren", "iert",
            ])
            || (w.ends_with("chen") && w != "kitchen")
            || w.contains("pf")
        {
            Some(FLAG_DE)
        } else if ends(&["heid", "tje", "tjes"]) || w[1..].contains("aa") || w.contains("uu") {
            Some(FLAG_NL)
        } else {
            None
        }
    }
}

/// Letter cues counted per language, at most.
const MAX_CUES: f32 = 2.0;

/// What trigrams' answer weighs against the function words and letter cues: on short
/// comments whatlang confuses close languages (Spanish and Portuguese above all), where a
/// word or a letter of the other language is better evidence.
const TRIGRAM_VOTE: f32 = 0.5;

/// The weighted function-word hits of each language of the table: a word shared by several
/// languages is weak evidence for each.
fn word_counts(n: &Normalised) -> [f32; TABLE_LANGS.len()] {
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
        let share = 1.0 / f.count_ones() as f32;
        for (i, c) in counts.iter_mut().enumerate() {
            if f & (1 << i) != 0 {
                *c += share;
            }
        }
    }
    counts
}

/// The language that clearly leads: at least two weighted hits and twice the next.
fn clear_leader(counts: &[f32; TABLE_LANGS.len()]) -> Option<usize> {
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
    (counts[best] >= 2.0 && counts[best] >= 2.0 * counts[second]).then_some(best)
}

/// Trigrams' answer `lang` as one more vote ([`TRIGRAM_VOTE`]) beside the counts: the
/// language with the most; on a tie, one that has function words or letter cues of its own,
/// then French or English (a wrong "not scored" holds a comment, a wrong French or English
/// only scores it), then trigrams' own; a language outside the table as is.
/// Between Spanish and Portuguese, which trigrams confuse most on short comments, the
/// spelling decides when the counts are close ([`spanish_or_portuguese`]).
fn with_trigrams(
    mut counts: [f32; TABLE_LANGS.len()],
    lang: &'static str,
    n: &Normalised,
) -> &'static str {
    let Some(voted) = TABLE_LANGS.iter().position(|&l| l == lang) else {
        return lang;
    };
    let evidence = counts.map(|c| c > 0.0);
    counts[voted] += TRIGRAM_VOTE;
    let rank = |i: usize| (counts[i], evidence[i], i < 2, i == voted);
    let mut best = voted;
    for i in 0..counts.len() {
        let (a, b) = (rank(i), rank(best));
        if a.0 > b.0 || (a.0 == b.0 && (a.1, a.2, a.3) > (b.1, b.2, b.3)) {
            best = i;
        }
    }
    let (es, pt) = (SPANISH, PORTUGUESE);
    if (best == es || best == pt) && (counts[es] - counts[pt]).abs() <= ES_PT_CLOSE {
        match spanish_or_portuguese(n) {
            Some(true) => return "es",
            Some(false) => return "pt",
            None => {}
        }
    }
    TABLE_LANGS[best]
}

/// Indexes of Spanish and Portuguese in [`TABLE_LANGS`].
const SPANISH: usize = 3;
const PORTUGUESE: usize = 5;

/// How close the Spanish and Portuguese counts must be for the spelling to decide.
const ES_PT_CLOSE: f32 = 1.0;

/// Spanish or Portuguese by spelling, word by word (accents already gone): Spanish
/// diphthongs -ie- and -ue- (not after q or g: "tiene", "bueno", "nuevo", against Portuguese
/// "tem", "bom", "novo"), ll and a final -d ("calle", "verdad"); Portuguese nh and lh
/// ("tenho", "melhor"), ss ("isso", "nosso"), final -m, -ou and -ei ("tem", "sou", "sei",
/// against Spanish "tiene", "soy", "sé"). `Some(true)` for Spanish, `None` on a tie.
fn spanish_or_portuguese(n: &Normalised) -> Option<bool> {
    let (mut es, mut pt) = (0u32, 0u32);
    for t in &n.tokens {
        let w = n.token_str(t).as_bytes();
        if w.len() < 2 || !w.iter().all(u8::is_ascii_lowercase) {
            continue;
        }
        let has = |pair: &[u8; 2], not_after: &[u8]| {
            w.windows(2)
                .enumerate()
                .any(|(i, p)| p == pair && (i == 0 || !not_after.contains(&w[i - 1])))
        };
        let last = w[w.len() - 1];
        // ll before a vowel: "lleno", "calle", not English "troll", "trolls", "all"
        let ll = w
            .windows(3)
            .any(|p| p[..2] == *b"ll" && matches!(p[2], b'a' | b'e' | b'i' | b'o' | b'u'));
        let spanish = has(b"ie", b"") || has(b"ue", b"qg") || ll || last == b'd';
        let portuguese = has(b"nh", b"")
            || has(b"lh", b"")
            || has(b"ss", b"")
            || (last == b'm' && matches!(w[w.len() - 2], b'a' | b'e' | b'i' | b'o' | b'u'))
            || w.ends_with(b"ou")
            || w.ends_with(b"ei");
        es += u32::from(spanish && !portuguese);
        pt += u32::from(portuguese && !spanish);
    }
    (es != pt).then_some(es > pt)
}

/// Text given to trigram detection, at most: a language shows in its first sentences.
const TRIGRAM_BYTES: usize = 240;

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

#[cfg(test)]
mod tests {
    use super::super::normalise::normalise;
    use super::words::{
        load, pack, DE, EN, ES, FLAG_DE, FLAG_ES, FLAG_IT, FLAG_NL, FLAG_PT, FR, IT, NL, PT,
    };
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
            ("À FOND", "und"),
            ("À VOIR", "fr"),
            ("ÉNORME", "fr"),
            ("ça", "fr"),
            ("Ã©", "und"),
            ("naïve café", "fr"),
        ] {
            assert_eq!(detect(&normalise(s), s), want, "{s}");
        }
    }

    /// One sentence per cause found on the development set (`training/lang_dev.csv`).
    #[test]
    fn short_comments_in_close_languages() {
        for (s, want, cause) in [
            // Words of one language only, among shared ones.
            ("Estoy harto de este alcalde", "es", "estoy"),
            ("Lehrer verdienen mehr Geld", "de", "mehr"),
            ("Allemaal leugens van de krant", "nl", "allemaal, de"),
            ("Ottimo lavoro, grazie ragazzi", "it", "grazie"),
            ("Isso é assim mesmo, pessoal", "pt", "assim, mesmo, é"),
            // A word of one language outweighs trigrams' guess on a near tie.
            ("Siempre lo mismo con este gobierno", "es", "siempre, mismo"),
            ("Ninguém liga, como sempre", "pt", "ninguem"),
            // Letters of one language.
            ("¿Dónde estaba la policía?", "es", "¿ ía"),
            ("Qué vergüenza, otra vez", "es", "qué as a word"),
            ("A decisão foi adiada", "pt", "ã"),
            ("Questa città è una follia", "it", "-tà, final è"),
            ("Wij blijven erbij", "nl", "ij"),
            // No function word at all: word endings send it to trigrams.
            ("Bellissima partita, complimenti ragazzi", "it", "endings"),
            // English chat words shared with other languages stay English.
            ("u look so stupid, nobody cares", "en", "u, nobody"),
            ("ha ha ha nice try clown", "en", "ha"),
            // French with English words and accented endings stays French.
            (
                "Voici le commentaire off_topic numéro 6",
                "fr",
                "off, topic",
            ),
            ("Le bug est remarqué et bloqué", "fr", "final -ué"),
            ("Quel gâchis.", "fr", "quel"),
            // French verb forms and adverbs no other table language writes (2026-12-05): these
            // went to Dutch ("je"), Portuguese or undetermined, and the first two were held as
            // "not scored".
            ("Je vais aider un homo demain.", "fr", "vais, demain"),
            ("je vais te crever, t'entends, te crever", "fr", "vais"),
            ("Tu fais pitié, pauvre tâche.", "fr", "fais"),
            ("Tant mieux.", "fr", "mieux"),
            // Italian elisions are not French.
            ("Sono d'accordo con te, bravo", "it", "te"),
            // Only words shared with French (il, non): a tie goes to trigrams.
            ("il governo non fa niente", "it", "tie of il, non"),
            // Trigrams' guess without a word of its own loses a tie to English.
            (
                "Typical clickbait headline, do better",
                "en",
                "do (en, pt); trigrams de",
            ),
            // 2026-12-06, from `training/lang_dev_short.csv`: frequent words of one language
            // (Spanish "mejor", "tenes", Portuguese "melhor", "parabens", "lixo", Italian "roba",
            // "accordo"), word endings, the spelling between Spanish and Portuguese, "és", "l'ha".
            ("Mejor callate, no tenes idea", "es", "mejor, tenes"),
            ("Parabens pelo trabalho, galera", "pt", "parabens, galera"),
            ("Texto lixo, como sempre", "pt", "lixo"),
            ("Sn d'accordo, roba da matti", "it", "accordo, roba"),
            (
                "Grandissima delusione, ennesima figuraccia",
                "it",
                "-issima, -accia",
            ),
            ("Eleicao roubada, questao de tempo", "pt", "-cao, -ao"),
            (
                "Rechtschreibung mangelhaft, Freundlichkeit null",
                "de",
                "-ung, -keit",
            ),
            (
                "Vuelve pronto, cuenta conmigo",
                "es",
                "ue, not after q or g",
            ),
            ("Tu és chato, sabias?", "pt", "és"),
            ("Rigore? L'ha inventato lui", "it", "l'ha"),
            ("Allez les gars, voila", "fr", "allez, voila"),
            ("Same old story, love it", "en", "same, love"),
            // 2026-12-06, from `training/lang_dev_short2.csv`: German endings, short
            // accented words
            ("Mietwucher überall, richtig traurig", "de", "-ig, ü"),
            ("Quatsch mit Soße, Spritpreis-Irrsinn", "de", "-sch, ß"),
            ("Más claro, imposible", "es", "más"),
            ("Já era, acabou a festa", "pt", "já, -ou"),
        ] {
            assert_eq!(detect(&normalise(s), s), want, "{s} ({cause})");
        }
        assert_eq!(
            spanish_or_portuguese(&normalise("quiero una calle")),
            Some(true)
        );
        assert_eq!(
            spanish_or_portuguese(&normalise("tenho um filho")),
            Some(false)
        );
        // English "troll(s)", "lmao" are not Spanish ll nor Portuguese -ao
        assert_eq!(spanish_or_portuguese(&normalise("troll trolls")), None);
        assert_eq!(ending_cues(&normalise("lmao ciao"))[PORTUGUESE], 0.0);
        // Not "dois" among those French words: it is Portuguese for "two".
        let s = "A bateria dura dois dias tranquilamente.";
        assert_ne!(detect(&normalise(s), s), "fr", "{s}");
        // Clear French and English never reach trigrams.
        for s in [
            "Je trouve que le maire a raison sur ce point",
            "Les prix de l'essence explosent et personne ne bouge",
            "The trains are late again, what a surprise",
            "I have been saying this for years",
        ] {
            assert_eq!(detect_traced(&normalise(s), s).1, Stage::Words, "{s}");
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

    /// Accuracy per language on the development sets (`training/lang_dev.csv`, what the lists
    /// and weights were tuned on, and `training/lang_dev_romance.csv`, 400 short Italian,
    /// Spanish and Portuguese comments written on 2026-12-05, with dialects, slang and words
    /// shared with French: a guard against undoing a fix, not a measure), with each miss, the
    /// step that answered and the counts printed; French and English rarely reach trigrams.
    /// With `VIGIE_LANG_SHARE` (`path#column;…`) it also prints the share of the comments of
    /// those CSV files that reach trigrams and the languages told.
    /// `cargo test --lib development_set -- --nocapture`.
    #[test]
    fn development_set() {
        development_file("lang_dev.csv", 0.95, true);
        development_file("lang_dev_romance.csv", 0.95, false);
        // 440 comments of 20-70 characters, most under 40, written on 2026-12-06
        development_file("lang_dev_short.csv", 0.97, false);
        // 420 more, German and Dutch above all, written on 2026-12-06 after the first change
        development_file("lang_dev_short2.csv", 0.93, false);
        share_reaching_trigrams();
    }

    /// `trigram_share`: French and English comments must rarely reach trigrams (the share on
    /// real comments is what `VIGIE_LANG_SHARE` prints; the short set's English comments
    /// often have no function word at all).
    fn development_file(name: &str, floor: f64, trigram_share: bool) {
        use std::collections::BTreeMap;
        let path = format!("{}/training/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut per_lang: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
        println!("{name}");
        for row in csv::Reader::from_path(&path).unwrap().records() {
            let row = row.unwrap();
            let (text, want) = (&row[0], &row[1]);
            let (got, stage) = detect_traced(&normalise(text), text);
            let e = per_lang.entry(want.to_string()).or_default();
            e.0 += u32::from(got == want);
            e.1 += 1;
            e.2 += u32::from(stage == Stage::Trigrams);
            if got != want {
                let wl = LATIN_DETECTOR.detect(text).map(|i| code(i.lang()));
                let words = word_counts(&normalise(text)).map(|c| (c * 100.0).round() / 100.0);
                let cues = Letters::of(text).cues;
                println!("MISS {want}->{got} {stage:?} (trigrams {wl:?}, words {words:?}, letters {cues:?}): {text}");
            }
        }
        for (l, (o, t, g)) in &per_lang {
            println!(
                "{l}: {o}/{t} = {:.3}  trigrams {g}",
                f64::from(*o) / f64::from(*t)
            );
        }
        let (ok, n) = per_lang
            .values()
            .fold((0, 0), |(a, b), v| (a + v.0, b + v.1));
        println!("all: {ok}/{n} = {:.3}", f64::from(ok) / f64::from(n));
        assert!(
            f64::from(ok) >= floor * f64::from(n),
            "{name}: {per_lang:?}"
        );
        for (l, (o, t, g)) in &per_lang {
            assert!(f64::from(*o) >= 0.85 * f64::from(*t), "{l}: {o}/{t}");
            if trigram_share && (l == "fr" || l == "en") {
                assert!(
                    f64::from(*g) <= 0.05 * f64::from(*t),
                    "{l}: trigrams {g}/{t}"
                );
            }
        }
    }

    /// `VIGIE_LANG_SHARE` of [`development_set`].
    fn share_reaching_trigrams() {
        use std::collections::BTreeMap;
        for spec in std::env::var("VIGIE_LANG_SHARE")
            .unwrap_or_default()
            .split(';')
        {
            let Some((file, column)) = spec.split_once('#') else {
                continue;
            };
            let mut reader = csv::Reader::from_path(file).unwrap();
            let at = reader
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == column)
                .unwrap();
            let (mut calls, mut total) = (0u32, 0u32);
            let mut langs: BTreeMap<&str, u32> = BTreeMap::new();
            for row in reader.records().map_while(Result::ok) {
                let text = &row[at];
                let (got, stage) = detect_traced(&normalise(text), text);
                calls += u32::from(stage == Stage::Trigrams);
                total += 1;
                *langs.entry(got).or_default() += 1;
            }
            println!(
                "{file}: trigrams on {calls}/{total} = {:.2} %; {langs:?}",
                100.0 * f64::from(calls) / f64::from(total)
            );
        }
    }
}
