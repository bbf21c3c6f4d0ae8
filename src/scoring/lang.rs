//! Tiny French/English detector from stop words over normalised tokens.

use super::normalise::Normalised;

#[inline]
pub(crate) fn is_fr(w: &str) -> bool {
    matches!(
        w,
        "le" | "la"
            | "les"
            | "de"
            | "des"
            | "du"
            | "un"
            | "une"
            | "et"
            | "est"
            | "pas"
            | "que"
            | "qui"
            | "en"
            | "dans"
            | "pour"
            | "sur"
            | "avec"
            | "ce"
            | "cette"
            | "il"
            | "elle"
            | "ils"
            | "je"
            | "tu"
            | "nous"
            | "vous"
            | "on"
            | "mais"
            | "ou"
            | "donc"
            | "au"
            | "aux"
            | "sont"
            | "ne"
            | "plus"
            | "tout"
            | "tres"
            | "bien"
            | "fait"
            | "etre"
            | "avoir"
            | "comme"
            | "meme"
            | "sans"
            | "par"
            | "son"
            | "sa"
            | "ses"
            | "mon"
            | "ma"
            | "mes"
            | "ton"
            | "ta"
            | "leur"
            | "c'"
            | "l'"
            | "d'"
            | "j'"
            | "n'"
            | "qu'"
            | "s'"
            | "t'"
            | "m'"
            | "oui"
            | "non"
            | "alors"
            | "aussi"
            | "encore"
            | "moi"
            | "toi"
            | "lui"
            | "ca"
            | "cet"
            | "deja"
            | "ici"
            | "quand"
            | "parce"
            | "chez"
            | "rien"
            | "faire"
            | "peut"
            | "ont"
            | "va"
            | "vont"
            | "etait"
    )
}

#[inline]
pub(crate) fn is_en(w: &str) -> bool {
    matches!(
        w,
        "the"
            | "and"
            | "is"
            | "are"
            | "was"
            | "were"
            | "to"
            | "of"
            | "in"
            | "that"
            | "it"
            | "you"
            | "he"
            | "she"
            | "they"
            | "we"
            | "i"
            | "this"
            | "with"
            | "for"
            | "not"
            | "on"
            | "be"
            | "have"
            | "has"
            | "do"
            | "does"
            | "what"
            | "so"
            | "but"
            | "just"
            | "my"
            | "your"
            | "his"
            | "her"
            | "their"
            | "at"
            | "all"
            | "if"
            | "or"
            | "from"
            | "about"
            | "who"
            | "will"
            | "would"
            | "can"
            | "an"
            | "like"
            | "get"
            | "out"
            | "up"
            | "no"
            | "yes"
            | "them"
            | "me"
            | "him"
            | "its"
            | "it's"
            | "dont"
            | "don't"
            | "im"
            | "there"
            | "how"
            | "why"
            | "when"
            | "because"
            | "been"
            | "should"
            | "could"
            | "than"
            | "then"
            | "these"
            | "those"
    )
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
        if is_fr(w) {
            fr += 1;
        }
        if is_en(w) {
            en += 1;
        }
    }
    if fr == en {
        // accents are a decent tie-breaker for French
        if original.chars().any(|c| {
            matches!(
                c,
                'é' | 'è' | 'ê' | 'à' | 'ç' | 'ù' | 'â' | 'î' | 'ô' | 'û' | 'É'
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
    fn detects() {
        let s = "Je ne suis pas d'accord avec cet article.";
        assert_eq!(detect(&normalise(s), s), "fr");
        let s = "I do not agree with this article at all.";
        assert_eq!(detect(&normalise(s), s), "en");
        assert_eq!(detect(&normalise("😀"), "😀"), "und");
    }
}
