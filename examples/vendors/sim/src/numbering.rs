//! Human-facing record numbers such as `DI-2026-000001` or `INS-2026-0001`:
//! a prefix, the current year and a sequence that starts again at 1 each year.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};

/// The next number is read with [`Numbering::peek`] and only consumed with
/// [`Numbering::take`], so a request that fails validation uses no number.
#[derive(Debug, Clone)]
pub struct Numbering {
    prefix: &'static str,
    width: usize,
    year: i32,
    last: u32,
}

/// One number, formatted by [`fmt::Display`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    prefix: &'static str,
    width: usize,
    year: i32,
    sequence: u32,
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{:0width$}",
            self.prefix,
            self.year,
            self.sequence,
            width = self.width
        )
    }
}

impl Numbering {
    /// Numbers `PREFIX-YEAR-SEQUENCE`, the sequence padded to `width` digits.
    pub fn new(prefix: &'static str, width: usize) -> Self {
        Self {
            prefix,
            width,
            year: 0,
            last: 0,
        }
    }

    /// The number the next record filed at `now` gets.
    pub fn peek(&self, now: DateTime<Utc>) -> Number {
        let year = now.year();
        let sequence = if year == self.year {
            self.last.saturating_add(1)
        } else {
            1
        };
        Number {
            prefix: self.prefix,
            width: self.width,
            year,
            sequence,
        }
    }

    /// Consumes `number`, obtained from [`Numbering::peek`].
    pub fn take(&mut self, number: &Number) {
        self.year = number.year;
        self.last = number.sequence;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn on(year: i32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, 6, 1, 12, 0, 0)
            .single()
            .expect("a valid date")
    }

    #[test]
    fn numbers_follow_each_other_within_a_year() {
        let mut numbering = Numbering::new("DI", 6);
        let first = numbering.peek(on(2026));
        numbering.take(&first);

        assert_eq!(first.to_string(), "DI-2026-000001");
        assert_eq!(numbering.peek(on(2026)).to_string(), "DI-2026-000002");
    }

    #[test]
    fn a_peeked_number_is_not_consumed() {
        let numbering = Numbering::new("INS", 4);
        let _ = numbering.peek(on(2026));

        assert_eq!(numbering.peek(on(2026)).to_string(), "INS-2026-0001");
    }

    #[test]
    fn the_sequence_starts_again_each_year() {
        let mut numbering = Numbering::new("INS", 4);
        numbering.take(&numbering.peek(on(2026)));

        assert_eq!(numbering.peek(on(2027)).to_string(), "INS-2027-0001");
    }
}
