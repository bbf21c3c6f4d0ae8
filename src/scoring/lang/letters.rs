//! Letters of the original text: their scripts, and the letters that point to one language of
//! the table (ñ ¿ -ía, ã õ, ß ä ö, ì ò -tà, ij, and the elisions only Italian writes: "all'",
//! "c'è").

use super::words::{FLAG_DE, FLAG_ES, FLAG_IT, FLAG_NL, FLAG_PT, TABLE_LANGS};

/// Letters of a text by script, and the letters that point to one language of the table.
#[derive(Debug, Default)]
pub(super) struct Letters {
    pub(super) latin: usize,
    /// Latin letters French and English do not use (á í ó ú ñ ã õ ä ö ß ì ò ø å).
    pub(super) foreign: usize,
    pub(super) arabic: usize,
    pub(super) other: usize,
    /// Per language of [`TABLE_LANGS`], the letters ([`cue`]) that belong to it.
    pub(super) cues: [f32; TABLE_LANGS.len()],
}

impl Letters {
    pub(super) fn of(text: &str) -> Letters {
        let mut l = Letters::default();
        // the three characters before `c`, nearest first
        let mut before = [' '; 3];
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            let mut ahead = chars.clone();
            let next = [ahead.next().unwrap_or(' '), ahead.next().unwrap_or(' ')];
            let flag = cue(before[0], c, next)
                .or_else(|| spanish_que(before, c, next[0]))
                .or_else(|| short_accented(before, c, next[0]));
            if let Some(flag) = flag {
                l.cues[flag.trailing_zeros() as usize] += 1.0;
            }
            before = [c, before[0], before[1]];
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
        l.cues[FLAG_IT.trailing_zeros() as usize] += italian_elisions(text) as f32;
        l
    }
}

/// Elided words that only Italian writes before an apostrophe and a letter ("all'autore",
/// "bell'articolo", "un'altra"; the normaliser leaves `all`, which is English, and `un`, which
/// is French). French elides "l'", "d'", "qu'"… which Italian shares, so those say nothing.
const ITALIAN_ELIDED: [&str; 14] = [
    "all", "dell", "nell", "sull", "dall", "coll", "bell", "quell", "quest", "un", "nessun",
    "buon", "sant", "senz",
];

/// How many of [`ITALIAN_ELIDED`] stand before an apostrophe and a letter in `text`, plus the
/// "c'è", "dov'è", "com'è" of Italian (an apostrophe, then an è that ends the word) and its
/// "l'ha", "l'ho", "l'hanno".
fn italian_elisions(text: &str) -> usize {
    let mut n = 0;
    for (i, c) in text.char_indices() {
        if c != '\'' && c != '’' {
            continue;
        }
        let after = &text[i + c.len_utf8()..];
        let mut next = after.chars();
        let (first, second) = (next.next(), next.next());
        let word_start = text[..i]
            .char_indices()
            .rev()
            .take_while(|&(_, b)| b.is_alphabetic())
            .last()
            .map_or(i, |(k, _)| k);
        let word = &text[word_start..i];
        if word.is_empty() {
            continue;
        }
        let e_grave = matches!(first, Some('è' | 'È')) && !second.is_some_and(char::is_alphabetic);
        // "l'ha", "l'ho", "l'hanno": French elides before "ha…" only inside a longer word
        let next_word: String = after.chars().take_while(|c| c.is_alphabetic()).collect();
        let l_avere = word.eq_ignore_ascii_case("l")
            && ["ha", "ho", "hai", "hanno"]
                .iter()
                .any(|w| w.eq_ignore_ascii_case(&next_word));
        let elided = first.is_some_and(char::is_alphabetic)
            && word.len() <= 6
            && ITALIAN_ELIDED.iter().any(|w| w.eq_ignore_ascii_case(word));
        n += usize::from(e_grave || elided || l_avere);
    }
    n
}

/// "qué" as a word of its own (Spanish), not the final -qué of French "bloqué".
fn spanish_que(before: [char; 3], c: char, next: char) -> Option<u8> {
    let word = matches!(c, 'é' | 'É')
        && matches!(before[0], 'u' | 'U')
        && matches!(before[1], 'q' | 'Q')
        && !before[2].is_alphabetic()
        && !next.is_alphabetic();
    word.then_some(FLAG_ES)
}

/// Short words with an acute accent that only Spanish or only Portuguese writes, ending at
/// `c`: Spanish "sé", "mí", "tú", "sí", "él", "más"; Portuguese "tá", "já", "lá", "só", "pá",
/// "vá", "dá", "há", "pé", "fé" (not "né": French "il est né").
fn short_accented(before: [char; 3], c: char, next: char) -> Option<u8> {
    if next.is_alphabetic() || !before[0].is_alphabetic() {
        return None;
    }
    let lower = |c: char| c.to_lowercase().next().unwrap_or(c);
    let (a, b) = (lower(before[0]), lower(c));
    if !before[1].is_alphabetic() {
        return match (a, b) {
            ('s', 'é') | ('m', 'í') | ('t', 'ú') | ('s', 'í') | ('é', 'l') => Some(FLAG_ES),
            ('t' | 'j' | 'l' | 'p' | 'v' | 'd' | 'h', 'á') | ('s', 'ó') | ('p' | 'f', 'é') => {
                Some(FLAG_PT)
            }
            _ => None,
        };
    }
    let three = !before[2].is_alphabetic() && lower(before[1]) == 'm';
    (three && a == 'á' && b == 's').then_some(FLAG_ES)
}

/// The language of the table (its flag) that the character `c` points to, between `prev`
/// and the next two characters: ñ ¿ ¡, -ía and a final -ón Spanish (qué: [`spanish_que`]);
/// ã õ and é alone
/// Portuguese; ß ä ö and ü (not in güe) German; ì ò, a final è, -tà and -ù (not où) Italian;
/// ij Dutch.
fn cue(prev: char, c: char, next: [char; 2]) -> Option<u8> {
    let ends_word = !next[0].is_alphabetic();
    let starts_word = !prev.is_alphabetic();
    match c {
        'ñ' | 'Ñ' | '¿' | '¡' => Some(FLAG_ES),
        'ó' if next[0] == 'n' && !next[1].is_alphabetic() => Some(FLAG_ES),
        'í' if next[0] == 'a' => Some(FLAG_ES),
        'é' | 'É' if ends_word && starts_word => Some(FLAG_PT),
        // "és" alone: Portuguese "tu és" (Spanish writes "es")
        'é' if starts_word && next[0] == 's' && !next[1].is_alphabetic() => Some(FLAG_PT),
        'ã' | 'õ' | 'Ã' | 'Õ' => Some(FLAG_PT),
        'ß' | 'ä' | 'ö' | 'Ä' | 'Ö' => Some(FLAG_DE),
        'ü' | 'Ü' if !matches!(prev, 'g' | 'G') => Some(FLAG_DE),
        'ì' | 'ò' | 'Ì' | 'Ò' => Some(FLAG_IT),
        'è' | 'È' if ends_word => Some(FLAG_IT),
        'à' if ends_word && prev == 't' => Some(FLAG_IT),
        'ù' if ends_word && prev != 'o' => Some(FLAG_IT),
        'j' | 'J' if matches!(prev, 'i' | 'I') => Some(FLAG_NL),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_accented_words_of_one_language() {
        let flags = |t: &str| Letters::of(t).cues;
        let (es, pt) = (
            FLAG_ES.trailing_zeros() as usize,
            FLAG_PT.trailing_zeros() as usize,
        );
        assert_eq!(flags("sé que sí, más o menos")[es], 3.0);
        assert_eq!(flags("tá bom, já vou, só isso")[pt], 3.0);
        // French "né", "été", "là", and longer words with the same ending
        assert_eq!(flags("il est né là, un été à Paris"), [0.0; 7]);
        assert_eq!(
            flags("además, sofá, café")[es] + flags("además, sofá")[pt],
            0.0
        );
    }

    #[test]
    fn italian_elisions_are_the_forms_french_does_not_write() {
        assert_eq!(italian_elisions("Bell'articolo, complimenti all’autore"), 2);
        assert_eq!(
            italian_elisions("Un'altra volta? C'è sempre qualcosa, dov'è finito?"),
            3
        );
        // French elisions, an English possessive, a quote after "all"
        assert_eq!(
            italian_elisions("L'article de l'auteur, c'est qu'il l'a écrit"),
            0
        );
        assert_eq!(
            italian_elisions("l'ère des écrans, all' in, it's all 'fine'"),
            0
        );
    }
}
