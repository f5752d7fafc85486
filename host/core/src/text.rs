//! Text as people type it: what counts as blank, and the one cleaning every
//! accepted text goes through.
//!
//! Text pasted from an office suite, a PDF or a phone keyboard carries
//! characters nobody sees: zero-width spaces (U+200B), joiners (U+200C,
//! U+200D, U+2060), byte-order marks (U+FEFF), soft hyphens (U+00AD),
//! bidirectional marks, Hangul fillers… A required field holding only such
//! characters has no answer, and two spellings of « é » (one character, or
//! « e » plus a combining accent) must be stored alike.
//!
//! - [`is_blank`]: nothing visible — only whitespace, format characters
//!   (Unicode category *Cf*, read with the `unicode-properties` crate) and
//!   the few other characters that display as nothing ([`is_invisible`]).
//! - [`clean`]: Unicode NFC (the `unicode-normalization` crate), then the
//!   invisible characters and whitespace at both ends removed. Characters
//!   inside the text are kept: a zero-width joiner builds emoji and some
//!   scripts, and a text is never silently rewritten in the middle.
//!
//! Validation applies [`clean`] to every text-like answer (short and long
//! texts, e-mails, phones, choices, address parts) and the workflow to every
//! text an action carries, so the same text is stored the same way
//! whichever way it came in.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether a character displays as nothing: whitespace, a format character
/// (category *Cf*: U+00AD, U+200B–U+200F, U+2060–U+2064, U+FEFF…), or one of
/// the letters and symbols that render blank (Hangul fillers U+115F, U+1160,
/// U+3164, U+FFA0, the braille blank U+2800, the combining grapheme joiner
/// U+034F).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.general_category() == GeneralCategory::Format
        || matches!(
            c,
            '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
        )
}

/// Whether a text has nothing visible in it.
///
/// ```
/// use guichet_core::text::is_blank;
///
/// assert!(is_blank(" \u{200b}\u{feff}\t"));
/// assert!(!is_blank("\u{200b}Vélo"));
/// ```
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// The text as stored: NFC, without invisible characters or whitespace at
/// either end.
///
/// ```
/// use guichet_core::text::clean;
///
/// assert_eq!(clean("\u{feff} Cycles du Vieux-Port\u{200b} "), "Cycles du Vieux-Port");
/// assert_eq!(clean("Ve\u{301}lo"), "Vélo");
/// ```
pub fn clean(text: &str) -> String {
    // Most answers are NFC already (all of ASCII is): the quick check reads
    // them once and spares the decomposition and recomposition.
    let normalised: Cow<str> =
        if unicode_normalization::is_nfc_quick(text.chars()) == IsNormalized::Yes {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(text.nfc().collect())
        };
    normalised.trim_matches(is_invisible).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_blank() {
        for blank in [
            "",
            "   ",
            "\u{200b}",
            "\u{200c}\u{200d}",
            "\u{2060}",
            "\u{feff}",
            "\u{00ad}",
            "\u{200e}\u{200f}",
            "\u{3164}",
            "\u{a0}\u{202f}",
            "\u{180e}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
            assert_eq!(clean(blank), "", "{blank:?}");
        }
        for visible in ["a", "\u{200b}a", "·", "0"] {
            assert!(!is_blank(visible), "{visible:?}");
        }
    }

    #[test]
    fn cleaning_normalises_to_nfc_and_keeps_inner_characters() {
        assert_eq!(clean("Che\u{301}rie"), "Chérie");
        assert_eq!(clean("  Jean\u{200d}Luc \u{200b}"), "Jean\u{200d}Luc");
        assert_eq!(clean("\u{200b} Dupont"), "Dupont");
    }
}
