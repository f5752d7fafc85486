//! Case- and accent-insensitive comparison of French names and labels, as
//! Espace famille matches « Léa » with « LEA » or « Benoît » with « benoit ».

/// `text` reduced to what a match compares: lower case, without diacritics,
/// hyphens and apostrophes read as spaces, runs of spaces collapsed.
pub fn search_key(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => folded.push('a'),
            'ç' => folded.push('c'),
            'è' | 'é' | 'ê' | 'ë' => folded.push('e'),
            'ì' | 'í' | 'î' | 'ï' => folded.push('i'),
            'ñ' => folded.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => folded.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => folded.push('u'),
            'ý' | 'ÿ' => folded.push('y'),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            '-' | '\'' | '’' => folded.push(' '),
            other => folded.push(other),
        }
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::search_key;

    #[test]
    fn accents_case_and_hyphens_do_not_matter() {
        assert_eq!(search_key("Léa"), search_key("LEA"));
        assert_eq!(search_key("BENOÎT"), "benoit");
        assert_eq!(
            search_key("  Jean-Édouard  d’Aubigné "),
            "jean edouard d aubigne"
        );
        assert_eq!(search_key("Cœur"), "coeur");
    }
}
