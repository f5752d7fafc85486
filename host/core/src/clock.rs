//! Time, injected.
//!
//! Nothing in the core reads the system clock by itself: every function that
//! needs "now" takes it as a parameter, and the host passes `clock.now()` from
//! a [`Clock`]. Production uses [`SystemClock`]; tests use [`ManualClock`] and
//! jump 15, 21 or 27 days without sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock of the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; clones share the same instant.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use guichet_core::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
/// let shared = clock.clone();
/// clock.advance(Duration::days(15));
/// assert_eq!(shared.now(), Utc.with_ymd_and_hms(2026, 3, 17, 9, 0, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Puts the clock at `instant`.
    pub fn set(&self, instant: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = instant;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 8, 30, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);

        clock.advance(Duration::days(27));
        assert_eq!(clock.now(), start + Duration::days(27));

        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn system_clock_is_close_to_now() {
        let before = std::time::SystemTime::now();
        let now = SystemClock.now();
        let after = std::time::SystemTime::now();

        let (before, after) = (DateTime::<Utc>::from(before), DateTime::<Utc>::from(after));
        assert!(
            before <= now && now <= after,
            "{now} is not between {before} and {after}"
        );
    }
}
