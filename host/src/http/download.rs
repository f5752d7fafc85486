//! Serving stored files: the `Content-Disposition` of a download.
//!
//! A file keeps the name its uploader gave (`Facture été n°3 «vélo».pdf`),
//! which HTTP headers cannot carry raw. [`content_disposition`] writes it
//! the RFC 6266 way: `filename*=UTF-8''…` percent-encoded as RFC 5987 says
//! (the `percent-encoding` crate), for every current browser, and a plain
//! ASCII `filename="…"` fallback (accents dropped through Unicode
//! decomposition by `unicode-normalization`, anything else replaced by `_`)
//! for the others.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// What RFC 5987 lets through unencoded (`attr-char`): letters, digits and
/// `!#$&+-.^_`|~`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The ASCII stand-in of a file name: accents dropped, every other
/// character outside printable ASCII (and `"`, `\`) replaced by `_`.
pub fn ascii_fallback(name: &str) -> String {
    name.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<name>`:
/// printable ASCII only, so always a valid header value.
pub fn content_disposition(name: &str) -> String {
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(name),
        utf8_percent_encode(name, ATTR_CHAR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_french_file_name_has_an_encoded_name_and_an_ascii_fallback() {
        let value = content_disposition("Facture été n°3 «vélo».pdf");
        assert!(axum::http::HeaderValue::from_str(&value).is_ok());
        assert_eq!(
            value,
            "attachment; filename=\"Facture ete n_3 _velo_.pdf\"; \
             filename*=UTF-8''Facture%20%C3%A9t%C3%A9%20n%C2%B03%20%C2%ABv%C3%A9lo%C2%BB.pdf"
        );
    }

    #[test]
    fn quotes_and_line_breaks_cannot_escape_the_header() {
        let value = content_disposition("a\"b\\c\r\nSet-Cookie: x.pdf");
        let text = value.as_str();
        assert!(
            text.starts_with("attachment; filename=\"a_b_c__Set-Cookie: x.pdf\";"),
            "{text}"
        );
        assert!(!text.contains('\r') && !text.contains('\n'));
    }
}
