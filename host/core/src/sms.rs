//! SMS texts and their segments (GSM 03.38, 3GPP TS 23.038).
//!
//! An SMS carries 140 bytes. A text written only with the GSM 7-bit default
//! alphabet (and its extension table, whose characters take two septets)
//! fits 160 characters in one SMS; longer, it is sent in parts of 153
//! (each part gives 7 to the concatenation header). Any other character
//! sends the whole text in UCS-2: 70 UTF-16 units in one SMS, parts of 67.
//! A two-septet character or a surrogate pair is never split across parts.
//!
//! French is mostly but not wholly GSM 7-bit: `é è à ù É` (and `ì ò Ç`) are
//! in it, `ê â î ô û ë ï ç À È` are not, nor the typographic quotes,
//! apostrophe and dashes, nor the no-break spaces. One `ê` doubles the
//! price of a 100-character text.
//!
//! Start with [`segments`] (what a text costs) and [`fit`] (a text made to
//! fit a number of segments, changed as little as possible). No crate does
//! both: the GSM 7-bit crates encode and decode, which delivery leaves to
//! the provider.

use std::borrow::Cow;

/// Septets of one GSM 7-bit SMS.
pub const GSM7_SINGLE: usize = 160;
/// Septets of each part of a GSM 7-bit SMS in several parts.
pub const GSM7_PART: usize = 153;
/// UTF-16 units of one UCS-2 SMS.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 units of each part of a UCS-2 SMS in several parts.
pub const UCS2_PART: usize = 67;

/// The GSM 7-bit default alphabet, in code order (0x00 to 0x7F, without
/// 0x1B, the escape to the extension table).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each is sent as the escape and one septet.
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// How a text is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The GSM 7-bit default alphabet and its extension table.
    Gsm7,
    /// UCS-2 (UTF-16 units).
    Ucs2,
}

/// What a text costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segments {
    /// The encoding the text needs.
    pub encoding: Encoding,
    /// Septets (GSM 7-bit) or UTF-16 units (UCS-2).
    pub units: usize,
    /// SMS billed: 1 up to the single limit, then the number of parts
    /// (an empty text is one empty SMS).
    pub count: usize,
}

/// A text made to fit, and how it was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fitted {
    /// The text to send.
    pub text: String,
    /// What it costs, at most the segments asked for.
    pub segments: Segments,
    /// Letters outside the GSM 7-bit alphabet were replaced
    /// ([`transliterate`]).
    pub transliterated: bool,
    /// The end was cut and replaced by an ellipsis.
    pub truncated: bool,
}

/// Septets a character takes in GSM 7-bit, `None` outside the alphabet.
fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether the whole text can be sent in GSM 7-bit.
///
/// ```
/// use guichet_core::sms::is_gsm7;
///
/// assert!(is_gsm7("Votre demande a été traitée : 12 € à régler."));
/// assert!(!is_gsm7("Demande reçue"));
/// ```
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| septets(c).is_some())
}

/// The encoding a text needs and the width of each of its characters.
fn widths(text: &str) -> (Encoding, Vec<usize>) {
    if is_gsm7(text) {
        let widths = text.chars().filter_map(septets).collect();
        (Encoding::Gsm7, widths)
    } else {
        (Encoding::Ucs2, text.chars().map(char::len_utf16).collect())
    }
}

fn limits(encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_PART),
    }
}

/// Fills parts one character at a time, never splitting a character.
#[derive(Clone, Copy)]
struct Packer {
    single: usize,
    part: usize,
    units: usize,
    parts: usize,
    filled: usize,
}

impl Packer {
    fn new(encoding: Encoding) -> Self {
        let (single, part) = limits(encoding);
        Self {
            single,
            part,
            units: 0,
            parts: 1,
            filled: 0,
        }
    }

    fn push(&mut self, width: usize) {
        self.units += width;
        if self.filled + width > self.part {
            self.parts += 1;
            self.filled = 0;
        }
        self.filled += width;
    }

    fn count(&self) -> usize {
        if self.units <= self.single {
            1
        } else {
            self.parts
        }
    }
}

/// What `text` costs: its encoding, units and SMS count.
///
/// ```
/// use guichet_core::sms::{Encoding, segments};
///
/// let short = segments("Votre demande SIG-2026-000042 a été traitée.");
/// assert_eq!((short.encoding, short.count), (Encoding::Gsm7, 1));
/// assert_eq!(segments(&"a".repeat(161)).count, 2);
/// assert_eq!(segments("Demande reçue").encoding, Encoding::Ucs2);
/// ```
pub fn segments(text: &str) -> Segments {
    let (encoding, widths) = widths(text);
    let mut packer = Packer::new(encoding);
    widths.into_iter().for_each(|w| packer.push(w));
    Segments {
        encoding,
        units: packer.units,
        count: packer.count(),
    }
}

/// The text with the characters outside the GSM 7-bit alphabet that French
/// uses replaced by their closest GSM letters (`ê` → `e`, `ç` → `c`,
/// `œ` → `oe`, `’` → `'`, `« ici »` → `"ici"`, `…` → `...`, no-break spaces →
/// spaces, `°` → `o` as in `n°`). Other characters are kept: the result
/// is GSM 7-bit only if the text had nothing else.
pub fn transliterate(text: &str) -> Cow<'_, str> {
    if is_gsm7(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // French guillemets hold a space inside: `« ici »` becomes `"ici"`.
        if is_space(c) && chars.peek() == Some(&'»') {
            continue;
        }
        match replacement(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
        if c == '«' && chars.peek().copied().is_some_and(is_space) {
            chars.next();
        }
    }
    Cow::Owned(out)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

fn replacement(c: char) -> Option<&'static str> {
    Some(match c {
        'á' | 'â' | 'ã' => "a",
        'À' | 'Á' | 'Â' | 'Ã' => "A",
        'ç' => "c",
        'ê' | 'ë' => "e",
        'È' | 'Ê' | 'Ë' => "E",
        'í' | 'î' | 'ï' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ó' | 'ô' | 'õ' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' => "O",
        'ú' | 'û' => "u",
        'Ù' | 'Ú' | 'Û' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'œ' => "oe",
        'Œ' => "OE",
        '«' | '»' | '“' | '”' | '„' => "\"",
        '‘' | '’' | '‚' | '′' | '`' => "'",
        '‐' | '‑' | '‒' | '–' | '—' | '−' => "-",
        '…' => "...",
        '°' => "o",
        '\u{a0}' | '\u{202f}' | '\u{2009}' | '\t' => " ",
        _ => return None,
    })
}

/// `text` made to cost at most `max_segments` SMS (at least 1), changed
/// as little as possible: as it is when it fits; else transliterated
/// ([`transliterate`]) when that makes it GSM 7-bit and it then fits;
/// else cut at a character boundary, trailing spaces dropped, and ended
/// with an ellipsis (`...` in GSM 7-bit, `…` in UCS-2) — in GSM 7-bit
/// whenever transliterating allows, which leaves the most room.
///
/// ```
/// use guichet_core::sms::{Encoding, fit};
///
/// // 80 characters with a « ê »: two UCS-2 parts, or one GSM 7-bit SMS.
/// let text = format!("Votre rendez-vous est prêt. {}", "x".repeat(52));
/// let fitted = fit(&text, 1);
/// assert!(fitted.transliterated && !fitted.truncated);
/// assert_eq!(fitted.segments.encoding, Encoding::Gsm7);
///
/// let long = fit(&"Mairie ".repeat(40), 1);
/// assert!(long.truncated && long.text.ends_with("..."));
/// assert_eq!(long.segments.count, 1);
/// ```
pub fn fit(text: &str, max_segments: usize) -> Fitted {
    let max = max_segments.max(1);
    let as_is = segments(text);
    if as_is.count <= max {
        return Fitted {
            text: text.to_owned(),
            segments: as_is,
            transliterated: false,
            truncated: false,
        };
    }
    let plain = transliterate(text);
    let transliterated = matches!(plain, Cow::Owned(_)) && is_gsm7(&plain);
    if transliterated {
        let cost = segments(&plain);
        if cost.count <= max {
            return Fitted {
                text: plain.into_owned(),
                segments: cost,
                transliterated,
                truncated: false,
            };
        }
    }
    let base = if transliterated { &*plain } else { text };
    let cut = truncate(base, max);
    Fitted {
        segments: segments(&cut),
        text: cut,
        transliterated,
        truncated: true,
    }
}

/// The longest start of `text` that, ended with an ellipsis, costs at most
/// `max` SMS, with that ellipsis.
fn truncate(text: &str, max: usize) -> String {
    let (encoding, widths) = widths(text);
    let ellipsis = match encoding {
        Encoding::Gsm7 => "...",
        Encoding::Ucs2 => "…",
    };
    let ellipsis_widths: Vec<usize> = match encoding {
        Encoding::Gsm7 => ellipsis.chars().filter_map(septets).collect(),
        Encoding::Ucs2 => ellipsis.chars().map(char::len_utf16).collect(),
    };
    let fits_with_ellipsis = |packer: &Packer| {
        let mut ended = *packer;
        ellipsis_widths.iter().for_each(|w| ended.push(*w));
        ended.count() <= max
    };
    let mut packer = Packer::new(encoding);
    let mut end = 0;
    for ((index, c), width) in text.char_indices().zip(widths) {
        packer.push(width);
        if !fits_with_ellipsis(&packer) {
            break;
        }
        end = index + c.len_utf8();
    }
    let mut cut = text[..end].trim_end().to_owned();
    cut.push_str(ellipsis);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_127_characters_and_the_extension_10_apart() {
        assert_eq!(BASIC.chars().count(), 127);
        assert_eq!(EXTENSION.chars().count(), 10);
        assert!(EXTENSION.chars().all(|c| !BASIC.contains(c)));
    }

    #[test]
    fn french_letters_in_and_out_of_gsm7() {
        for c in ['é', 'è', 'à', 'ù', 'ì', 'ò', 'É', 'Ç', 'ü', 'ä', '€', '@'] {
            assert!(is_gsm7(&c.to_string()), "{c} is GSM 7-bit");
        }
        for c in [
            'ê', 'â', 'î', 'ô', 'û', 'ë', 'ï', 'ç', 'À', 'È', 'œ', '’', '«', '…', '\u{a0}', '\t',
        ] {
            assert!(!is_gsm7(&c.to_string()), "{c} is not GSM 7-bit");
        }
    }

    #[test]
    fn gsm7_texts_take_160_septets_then_parts_of_153() {
        for (length, count) in [
            (0, 1),
            (1, 1),
            (160, 1),
            (161, 2),
            (306, 2),
            (307, 3),
            (459, 3),
        ] {
            let text = "a".repeat(length);
            let cost = segments(&text);
            assert_eq!(cost.encoding, Encoding::Gsm7, "{length}");
            assert_eq!((cost.units, cost.count), (length, count), "{length}");
        }
    }

    #[test]
    fn extension_characters_take_two_septets_and_are_never_split() {
        assert_eq!(segments(&"€".repeat(80)).count, 1);
        assert_eq!(segments(&"€".repeat(81)).units, 162);
        // 306 septets, but the euro sign cannot straddle the first two parts.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        let cost = segments(&text);
        assert_eq!((cost.units, cost.count), (306, 3));
    }

    #[test]
    fn other_texts_take_70_utf16_units_then_parts_of_67() {
        for (length, count) in [(70, 1), (71, 2), (134, 2), (135, 3)] {
            let cost = segments(&"ê".repeat(length));
            assert_eq!(cost.encoding, Encoding::Ucs2, "{length}");
            assert_eq!((cost.units, cost.count), (length, count), "{length}");
        }
        // An emoji is two UTF-16 units, never split across parts.
        assert_eq!(segments(&"🚲".repeat(35)).count, 1);
        let split = format!("{}🚲{}", "ê".repeat(66), "ê".repeat(66));
        assert_eq!(segments(&split).count, 3);
    }

    #[test]
    fn a_text_that_fits_is_sent_as_it_is() {
        let text = "Votre demande a été reçue.";

        let fitted = fit(text, 1);

        assert_eq!(fitted.text, text);
        assert!(!fitted.transliterated && !fitted.truncated);
        assert_eq!(fitted.segments.encoding, Encoding::Ucs2);
    }

    #[test]
    fn transliterating_french_keeps_a_text_in_one_sms() {
        let text = "Votre demande n° SIG-2026-000042 « Lampadaire éteint » a été reçue \
                    par le service Voirie de Saint-Étienne ; elle sera traitée très \
                    rapidement. À bientôt.";
        assert_eq!(segments(text).count, 3);

        let fitted = fit(text, 1);

        assert!(fitted.transliterated && !fitted.truncated);
        assert_eq!(fitted.segments.encoding, Encoding::Gsm7);
        assert_eq!(fitted.segments.count, 1);
        assert!(
            fitted
                .text
                .contains("no SIG-2026-000042 \"Lampadaire éteint\"")
        );
        assert!(
            fitted
                .text
                .contains("recue par le service Voirie de Saint-Étienne")
        );
        assert!(fitted.text.ends_with("rapidement. A bientot."));
    }

    #[test]
    fn a_long_text_is_cut_with_an_ellipsis_at_a_character_boundary() {
        let text = "Votre demande est traitée. ".repeat(20);

        for max in 1..=3 {
            let fitted = fit(&text, max);

            assert!(fitted.truncated, "{max}");
            assert!(fitted.text.ends_with("..."), "{max}");
            assert!(!fitted.text.ends_with(" ..."), "{max}");
            assert_eq!(fitted.segments.count, max, "{max}");
            assert_eq!(fitted.segments.encoding, Encoding::Gsm7);
            let kept = fitted.text.trim_end_matches("...");
            assert!(text.starts_with(kept.trim_end()), "{max}: {kept}");
        }
    }

    #[test]
    fn a_text_that_cannot_be_gsm7_is_cut_in_ucs2_with_one_ellipsis_character() {
        let text = "Votre vélo 🚲 est réparé. ".repeat(10);

        let fitted = fit(&text, 2);

        assert!(fitted.truncated && !fitted.transliterated);
        assert!(fitted.text.ends_with('…'));
        assert_eq!(fitted.segments.encoding, Encoding::Ucs2);
        assert_eq!(fitted.segments.count, 2);
        assert!(fitted.segments.units <= 2 * UCS2_PART);
    }

    #[test]
    fn fitting_never_exceeds_the_segments_asked_for() {
        for length in (0..700).step_by(7) {
            for text in [
                "é€a".repeat(length / 3),
                "ê".repeat(length),
                "🚲a".repeat(length / 2),
            ] {
                for max in [0, 1, 2, 4] {
                    let fitted = fit(&text, max);
                    assert!(fitted.segments.count <= max.max(1), "{length} {max}");
                    assert_eq!(fitted.segments, segments(&fitted.text));
                }
            }
        }
    }
}
