//! Circuit breakers of the connector worker, one per connector instance:
//! a vendor that keeps failing is left alone for a while instead of being
//! called for every queued job.
//!
//! After [`THRESHOLD`] failures in a row that may pass (vendor unavailable,
//! timeout), the instance's breaker **opens** for [`COOL_DOWN`]: the
//! worker gives its jobs back to the queue, due when the breaker closes,
//! without calling the vendor and without counting an attempt
//! (`Store::release_job`). When the cool-down ends, the next job is the
//! trial: a success closes the breaker, a failure opens it again at once.
//! A permanent failure (the vendor answered and refused) proves the vendor
//! up and counts as a success here.
//!
//! The breakers live in the host process (each host of a PostgreSQL
//! cluster has its own); they hold no personal data.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Failures in a row that open a breaker.
pub const THRESHOLD: u32 = 5;

/// How long an open breaker keeps the vendor alone.
pub const COOL_DOWN: Duration = Duration::seconds(60);

/// The breakers of every instance. Cheap to share (`Arc`).
#[derive(Debug, Default)]
pub struct Breakers {
    instances: Mutex<HashMap<String, Breaker>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Breaker {
    failures: u32,
    open_until: Option<DateTime<Utc>>,
}

impl Breakers {
    /// Until when `instance` is left alone, if its breaker is open at `now`.
    pub fn open_until(&self, instance: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.with(|map| {
            map.get(instance)
                .and_then(|b| b.open_until)
                .filter(|until| *until > now)
        })
    }

    /// A call to `instance` went through (or the vendor answered a refusal).
    pub fn success(&self, instance: &str) {
        self.with(|map| {
            map.remove(instance);
        });
    }

    /// A call to `instance` failed in a way that may pass, at `now`: opens
    /// the breaker at the [`THRESHOLD`]th failure in a row, and again at
    /// each failed trial.
    pub fn failure(&self, instance: &str, now: DateTime<Utc>) {
        self.with(|map| {
            let breaker = map.entry(instance.to_owned()).or_default();
            breaker.failures = breaker.failures.saturating_add(1);
            if breaker.failures >= THRESHOLD {
                breaker.open_until = Some(now + COOL_DOWN);
            }
        });
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Breaker>) -> T) -> T {
        // A panic while holding the lock leaves a map that is still valid.
        let mut map = self
            .instances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_closes_on_a_successful_trial() {
        let breakers = Breakers::default();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        for _ in 1..THRESHOLD {
            breakers.failure("atal", now);
        }
        assert_eq!(breakers.open_until("atal", now), None);
        breakers.failure("atal", now);
        assert_eq!(breakers.open_until("atal", now), Some(now + COOL_DOWN));
        assert_eq!(breakers.open_until("ef", now), None, "per instance");
        let later = now + COOL_DOWN;
        assert_eq!(breakers.open_until("atal", later), None, "the trial");
        breakers.failure("atal", later);
        assert_eq!(
            breakers.open_until("atal", later),
            Some(later + COOL_DOWN),
            "a failed trial opens it again at once"
        );
        breakers.success("atal");
        assert_eq!(breakers.open_until("atal", later), None);
        breakers.failure("atal", later);
        assert_eq!(breakers.open_until("atal", later), None, "counted anew");
    }
}
