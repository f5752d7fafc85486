//! Bounds on everything a connector call leaves behind in the host.
//!
//! A guest controls the size and the number of its log records, the URLs it
//! asks for, how often it retries a refused request, and its error strings.
//! None of that may grow the host without bound: each call's record is cut
//! where it is made ([`host`](super::host) for logs and exchanges,
//! [`runtime`](super::runtime) for errors), and every cut leaves a marker
//! saying what was dropped. The in-memory journal is bounded in records and
//! in bytes ([`MemoryJournal`](super::journal::MemoryJournal)).
//!
//! [`RecordLimits`] holds the per-call limits; the runtime takes them from its
//! [`RuntimeConfig`](super::RuntimeConfig).

use serde::{Deserialize, Serialize};

/// Per-call limits on what a call's record keeps. Every text cut by these
/// limits ends with a marker (`… [coupé : N octets au total]`), and every list cut by
/// them ends with an entry saying how many were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordLimits {
    /// Log records kept per call (default 200); the rest are counted.
    pub max_logs: usize,
    /// Bytes of log records kept per call, messages, field keys and values
    /// together (default 256 KiB); once spent, further records are counted.
    pub max_log_bytes: usize,
    /// Longest log message kept, bytes (default 4 KiB).
    pub max_message_bytes: usize,
    /// Fields kept per log record (default 32).
    pub max_fields: usize,
    /// Longest field key kept, bytes (default 128).
    pub max_field_key_bytes: usize,
    /// Longest field value kept, bytes (default 2 KiB).
    pub max_field_value_bytes: usize,
    /// HTTP exchanges that reached the network (or tried to) kept per call
    /// (default 100); the rest are counted.
    pub max_exchanges: usize,
    /// Requests refused by the host (allow-list, bad URL) kept per call
    /// (default 20); the rest are counted.
    pub max_refused: usize,
    /// Longest URL or HTTP error kept in an exchange, bytes (default 2 KiB).
    pub max_exchange_text_bytes: usize,
    /// Longest call error kept, bytes (default 4 KiB): the error returned to
    /// the platform, stored with the demande and written to the server log.
    pub max_error_bytes: usize,
}

impl Default for RecordLimits {
    fn default() -> Self {
        Self {
            max_logs: 200,
            max_log_bytes: 256 * 1024,
            max_message_bytes: 4 * 1024,
            max_fields: 32,
            max_field_key_bytes: 128,
            max_field_value_bytes: 2 * 1024,
            max_exchanges: 100,
            max_refused: 20,
            max_exchange_text_bytes: 2 * 1024,
            max_error_bytes: 4 * 1024,
        }
    }
}

/// Default bytes kept by the in-memory journal (64 MiB).
pub const DEFAULT_JOURNAL_BYTES: usize = 64 * 1024 * 1024;
/// Default records kept by the in-memory journal.
pub const DEFAULT_JOURNAL_RECORDS: usize = 10_000;

/// `text` cut to at most `max` bytes (on a character boundary), followed by a
/// marker giving the whole length. Short texts are returned as they are.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    format!("{}{}", prefix(text, max), marker(text.len()))
}

/// Like [`cut`], with the secrets replaced by `mask` first, so a secret
/// straddling the cut never shows half of itself. Only the kept part (plus
/// `longest_secret` bytes) is masked, so a huge text costs no more than a
/// small one.
pub fn cut_masked(
    text: &str,
    max: usize,
    longest_secret: usize,
    mask: impl Fn(&str) -> String,
) -> String {
    if text.len() <= max {
        return mask(text);
    }
    // Every occurrence that starts in the kept part ends within this window.
    let window = prefix(text, max.saturating_add(longest_secret));
    let masked = mask(window);
    format!("{}{}", prefix(&masked, max), marker(text.len()))
}

/// The marker that ends a cut text.
fn marker(total: usize) -> String {
    format!("… [coupé : {total} octets au total]")
}

/// The longest prefix of `text` of at most `max` bytes.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_kept_whole() {
        assert_eq!(cut("bonjour", 7), "bonjour");
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary_with_a_marker() {
        assert_eq!(cut("ééé", 3), "é… [coupé : 6 octets au total]");
        assert_eq!(
            cut(&"a".repeat(10), 4),
            "aaaa… [coupé : 10 octets au total]"
        );
    }

    #[test]
    fn a_secret_across_the_cut_is_masked_not_halved() {
        let text = format!("{}SECRET{}", "a".repeat(8), "b".repeat(100));
        let masked = cut_masked(&text, 10, 6, |t| t.replace("SECRET", "***"));
        assert!(!masked.contains("SE"), "{masked}");
        assert!(masked.starts_with("aaaaaaaa**…"), "{masked}");
        assert!(masked.contains("coupé : 114 octets"), "{masked}");
    }
}
