//! Brute-force protection of the login: wrong passwords are counted per
//! account and per client address, and past a budget the next attempt must
//! wait ([`TooManyAttempts`], which the API answers 429 `too_many_attempts`
//! with `Retry-After`) — before any password is hashed. A wrong current
//! password given to change one's password counts like a failed login.
//!
//! The counting is `governor`'s GCRA, one keyed limiter per tier, running
//! on the API's injected clock (so tests move time instead of sleeping).
//! Each dimension has two tiers, which make the delays grow: a short one
//! (a few failures in a row, then one try per short period) and a long one
//! (more failures, then one try per long period). Only failures are
//! counted: people logging in successfully from one office address never
//! use up its budget. The budgets refill on their own, so an attacker can
//! at most slow a real user down to one try per long period while the
//! attack lasts, and nothing is ever locked for good.
//!
//! After a failure uses the last cell of a tier, the key is blocked until
//! the tier allows the next cell; the gate ([`LoginThrottle::check`])
//! reads those blocks without touching the limiters. Memory follows the
//! recent failures only: an account is kept as a 64-bit keyed hash of its
//! login (never the text an attacker sends), and every [`SWEEP_EVERY`]
//! failures the expired blocks and the limiter states that have fully
//! refilled are dropped.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use guichet_core::clock::Clock;

/// A login attempt refused until the budget refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "trop de tentatives de connexion : réessayez dans {seconds} seconde{}",
    if *.seconds > 1 { "s" } else { "" }
)]
pub struct TooManyAttempts {
    /// Seconds to wait before the next attempt may pass (at least 1).
    pub seconds: u64,
}

/// One tier of a budget: `burst` failures allowed in a row, then one more
/// per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Failures allowed before any wait.
    pub burst: u32,
    /// The wait between further tries, and the time one failure takes to be
    /// forgiven.
    pub period: Duration,
}

impl Tier {
    /// A tier.
    pub const fn new(burst: u32, period: Duration) -> Self {
        Self { burst, period }
    }

    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.period.max(Duration::from_millis(1)))
            .map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
    }
}

/// The budgets of wrong passwords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimits {
    /// Per account (by login): short tier, long tier.
    pub account: [Tier; 2],
    /// Per client address: short tier, long tier.
    pub address: [Tier; 2],
}

impl Default for LoginLimits {
    /// Per account: 5 failures, then one try per 30 s; 20 failures, then
    /// one per 10 min. Per address: 20 failures, then one per 5 s; 100
    /// failures, then one per minute.
    fn default() -> Self {
        Self {
            account: [
                Tier::new(5, Duration::from_secs(30)),
                Tier::new(20, Duration::from_secs(600)),
            ],
            address: [
                Tier::new(20, Duration::from_secs(5)),
                Tier::new(100, Duration::from_secs(60)),
            ],
        }
    }
}

/// The API's clock as `governor` reads it: nanoseconds since the epoch.
#[derive(Clone)]
struct InjectedClock(Arc<dyn Clock>);

impl governor::clock::Clock for InjectedClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().timestamp_nanos_opt().unwrap_or_default();
        Nanos::from(u64::try_from(nanos).unwrap_or_default())
    }
}

type Limiter<K> = RateLimiter<K, DashMapStateStore<K>, InjectedClock, StateInformationMiddleware>;

/// Failures between two sweeps of expired blocks and refilled limiters.
pub const SWEEP_EVERY: usize = 1024;

/// The failures of one dimension (accounts or addresses).
struct Budget<K: Hash + Eq + Clone> {
    tiers: Vec<Limiter<K>>,
    blocked: Mutex<HashMap<K, DateTime<Utc>>>,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    fn new(tiers: &[Tier], clock: &InjectedClock) -> Self {
        Self {
            tiers: tiers
                .iter()
                .map(|tier| {
                    RateLimiter::dashmap_with_clock(tier.quota(), clock.clone())
                        .with_middleware::<StateInformationMiddleware>()
                })
                .collect(),
            blocked: Mutex::default(),
        }
    }

    /// Until when `key` must wait, if it must.
    fn blocked_until(&self, key: &K, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        blocked.get(key).copied().filter(|until| *until > now)
    }

    /// Counts a failure of `key`; blocks it when a tier is used up.
    fn fail(&self, key: &K, now: DateTime<Utc>, clock: &InjectedClock) {
        use governor::clock::Clock as _;
        let mut wait = Duration::ZERO;
        for tier in &self.tiers {
            match tier.check_key(key) {
                Ok(snapshot) if snapshot.remaining_burst_capacity() == 0 => {
                    wait = wait.max(snapshot.quota().replenish_interval());
                }
                Ok(_) => {}
                Err(not_until) => wait = wait.max(not_until.wait_time_from(clock.now())),
            }
        }
        if wait.is_zero() {
            return;
        }
        let until = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = blocked.entry(key.clone()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Drops expired blocks and the states of keys whose tiers refilled.
    fn sweep(&self, now: DateTime<Utc>) {
        self.blocked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, until| *until > now);
        for tier in &self.tiers {
            tier.retain_recent();
        }
    }
}

/// Counts wrong passwords per account and per address and says who must
/// wait.
pub struct LoginThrottle {
    clock: InjectedClock,
    accounts: Budget<u64>,
    addresses: Budget<IpAddr>,
    failures: AtomicUsize,
    hasher: RandomState,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// A throttle with these budgets on this clock.
    pub fn new(limits: &LoginLimits, clock: Arc<dyn Clock>) -> Self {
        let clock = InjectedClock(clock);
        Self {
            accounts: Budget::new(&limits.account, &clock),
            addresses: Budget::new(&limits.address, &clock),
            clock,
            failures: AtomicUsize::new(0),
            hasher: RandomState::new(),
        }
    }

    /// The key of an account: a keyed hash of its login as the store
    /// compares it (trimmed, lowercase).
    fn account_key(&self, login: &str) -> u64 {
        self.hasher.hash_one(login.trim().to_lowercase())
    }

    /// Lets a login attempt through, or says how long to wait.
    ///
    /// # Errors
    /// [`TooManyAttempts`] while the account or the address is blocked.
    pub fn check(&self, login: &str, address: IpAddr) -> Result<(), TooManyAttempts> {
        let now = self.clock.0.now();
        let until = [
            self.accounts.blocked_until(&self.account_key(login), now),
            self.addresses.blocked_until(&address, now),
        ]
        .into_iter()
        .flatten()
        .max();
        match until {
            None => Ok(()),
            Some(until) => Err(TooManyAttempts {
                seconds: u64::try_from((until - now).num_seconds()).unwrap_or(0) + 1,
            }),
        }
    }

    /// Counts a wrong password (or unknown login) from `address`.
    pub fn failed(&self, login: &str, address: IpAddr) {
        let now = self.clock.0.now();
        self.accounts
            .fail(&self.account_key(login), now, &self.clock);
        self.addresses.fail(&address, now, &self.clock);
        if (self.failures.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(SWEEP_EVERY) {
            self.accounts.sweep(now);
            self.addresses.sweep(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use guichet_core::clock::ManualClock;

    use super::*;

    fn throttle(clock: &ManualClock) -> LoginThrottle {
        LoginThrottle::new(&LoginLimits::default(), Arc::new(clock.clone()))
    }

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn delays_grow_with_failures_and_decay_with_time() {
        let clock = ManualClock::new(DateTime::UNIX_EPOCH + chrono::Duration::days(20_000));
        let throttle = throttle(&clock);
        for _ in 0..5 {
            throttle.check("a@b.fr", HOME).expect("let through");
            throttle.failed("a@b.fr", HOME);
        }
        let refused = throttle.check("A@b.fr ", HOME).expect_err("slowed down");
        assert!((1..=31).contains(&refused.seconds), "{refused}");
        // Another account from another address is not concerned.
        let elsewhere = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));
        throttle.check("c@d.fr", elsewhere).expect("let through");
        // Short tier: one more try every 30 s, until the long tier (20).
        for _ in 5..20 {
            clock.advance(chrono::Duration::seconds(30));
            throttle.check("a@b.fr", HOME).expect("let through");
            throttle.failed("a@b.fr", HOME);
        }
        clock.advance(chrono::Duration::seconds(30));
        assert!(throttle.check("a@b.fr", HOME).is_err(), "long tier");
        clock.advance(chrono::Duration::seconds(600));
        throttle.check("a@b.fr", HOME).expect("let through");
    }

    #[test]
    fn memory_follows_recent_failures_only() {
        let clock = ManualClock::new(DateTime::UNIX_EPOCH + chrono::Duration::days(20_000));
        let throttle = throttle(&clock);
        for n in 0..SWEEP_EVERY - 1 {
            throttle.failed(&format!("inconnu{n}@exemple.fr"), HOME);
        }
        assert_eq!(throttle.accounts.tiers[0].len(), SWEEP_EVERY - 1);
        clock.advance(chrono::Duration::hours(2));
        throttle.failed("dernier@exemple.fr", HOME);
        assert!(
            throttle.accounts.tiers[0].len() <= 1,
            "refilled states dropped"
        );
        assert!(throttle.addresses.blocked.lock().expect("lock").len() <= 1);
    }
}
