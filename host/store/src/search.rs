//! Text folded for search: lowercase, without accents or ligatures, so that
//! « vélo », « VELO » and « Vélo » match each other on both backends with a
//! plain `LIKE` (SQLite and PostgreSQL fold accents differently, or not at
//! all, so the store folds in Rust and stores the folded text).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The folded form of a text: decomposed, combining marks dropped, `œ` and
/// `æ` spelled out, lowercase, runs of non-alphanumeric characters turned
/// into one space.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        let lower: String = match c {
            'œ' | 'Œ' => "oe".to_owned(),
            'æ' | 'Æ' => "ae".to_owned(),
            'ß' => "ss".to_owned(),
            c => c.to_lowercase().collect(),
        };
        for c in lower.chars() {
            if c.is_alphanumeric() {
                out.push(c);
                space = false;
            } else if !space {
                out.push(' ');
                space = true;
            }
        }
    }
    out.trim_end().to_owned()
}

/// The words of a search query, folded.
pub(crate) fn words(query: &str) -> Vec<String> {
    fold(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_ligatures() {
        assert_eq!(fold("Réparation d'un VÉLO"), "reparation d un velo");
        assert_eq!(fold("Cœur  —  Ænéide"), "coeur aeneide");
        assert_eq!(words("  vélo, électrique "), ["velo", "electrique"]);
    }
}
