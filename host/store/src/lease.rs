//! Connections kept between the hot reads of a request, without going back
//! to the pool.
//!
//! sqlx 0.8's pool pings every connection it takes back (`return_to_pool`,
//! not configurable): on SQLite one more hand-off to the connection's
//! worker thread, on PostgreSQL one more round trip, after every query
//! made on the pool. The reads that every request of a filing makes
//! (opening: [`crate::Store::current_definition`],
//! [`crate::Store::draft_for`]; each page saved:
//! [`crate::Store::draft_to_save`]; the submission:
//! [`crate::Store::draft_to_file`]) go through [`Store::fetch_kept`], on a
//! connection from here instead: a connection detached from the reader
//! pool (sqlx then counts it no more and may open another in its place),
//! lent and put back without a ping. At most [`KEPT`] connections are out
//! of the pool this way (a tokio semaphore); when all are lent, the read
//! goes through the pool as any other, so a kept read never waits longer
//! than a pool read would.
//!
//! A connection whose query failed, however (PostgreSQL reports the end of
//! its backend as a database error, `57P01`), or whose future was dropped
//! mid-query is not put back but closed. On PostgreSQL, when the failure
//! says the connection itself is gone (an I/O or protocol error, SQLSTATE
//! class `08` or `57P0x`: a database restart, a dropped link), the read —
//! which changes nothing — runs once more on a connection opened for it
//! (within the pool's acquire timeout), which then takes the dead one's
//! place: a request fails because a kept connection died while it waited
//! only if the database cannot be reached again within that timeout. (A
//! SQLite connection is a file handle on a worker thread: no server can
//! cut it, and its errors are the query's.) On PostgreSQL one that waited
//! here for [`crate::POSTGRES_PING_AFTER_IDLE`] is pinged before it is lent
//! (within the pool's acquire timeout), as the pool does.
//!
//! Kept connections expire with the pool's limits: one idle for the pool's
//! idle timeout, or kept for its maximum lifetime, is closed (in a task of
//! its own) instead of being lent. As the pool does, a background task
//! ([`reaping`], started by [`Store::connect`] on the current tokio
//! runtime) also closes those that expired while nobody read, within one
//! reaping period ([`Kept::reap_period`], at most 60 s): a quiet host
//! gives its database connections back. The lifetime counts from when a
//! connection left the pool (sqlx does not tell when the pool opened it),
//! so one may live up to twice the pool's maximum lifetime, plus that
//! period. [`Kept::close`] closes them with the store.

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions as _, Connection as _};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{Backend, POSTGRES_PING_AFTER_IDLE, Result, Store};

/// Connections kept at most.
pub(crate) const KEPT: usize = 4;

/// A connection waiting to be lent.
struct Waiting {
    conn: AnyConnection,
    /// When it left the pool (or was opened here).
    kept_since: Instant,
    /// When it came back from its last read.
    idle_since: Instant,
}

/// The connections waiting to be lent, and when they expire.
pub(crate) struct Kept {
    waiting: Mutex<Vec<Waiting>>,
    /// One permit per connection out of the pool, so that at most [`KEPT`]
    /// exist; closed with the store.
    permits: Semaphore,
    /// A connection idle this long is closed, not lent (the pool's idle
    /// timeout; none: never).
    idle_timeout: Option<Duration>,
    /// A connection kept this long is closed, not lent (the pool's maximum
    /// lifetime; none: never).
    max_lifetime: Option<Duration>,
    /// On PostgreSQL, a connection idle this long is pinged before it is
    /// lent ([`POSTGRES_PING_AFTER_IDLE`]).
    ping_after: Duration,
    /// Connections opened in place of dead ones, since the start.
    reconnects: std::sync::atomic::AtomicUsize,
}

impl Kept {
    /// Kept connections that expire as those of `pool` do.
    pub(crate) fn expiring_as(pool: &AnyPool) -> Kept {
        let options = pool.options();
        Kept::expiring(options.get_idle_timeout(), options.get_max_lifetime())
    }

    /// Kept connections closed after `idle_timeout` idle or `max_lifetime`
    /// kept.
    fn expiring(idle_timeout: Option<Duration>, max_lifetime: Option<Duration>) -> Kept {
        Kept {
            waiting: Mutex::default(),
            permits: Semaphore::new(KEPT),
            idle_timeout,
            max_lifetime,
            ping_after: POSTGRES_PING_AFTER_IDLE,
            reconnects: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Whether `waiting` must be closed rather than lent, at `now`.
    fn expired(&self, waiting: &Waiting, now: Instant) -> bool {
        let over = |limit: Option<Duration>, since: Instant| {
            limit.is_some_and(|limit| now.saturating_duration_since(since) >= limit)
        };
        over(self.idle_timeout, waiting.idle_since) || over(self.max_lifetime, waiting.kept_since)
    }

    /// Takes out the connections waiting here that expired at `now`.
    fn take_expired(&self, waiting: &mut Vec<Waiting>, now: Instant) -> Vec<Waiting> {
        waiting.extract_if(.., |w| self.expired(w, now)).collect()
    }

    /// Closes the connections that expired while they waited. It holds a
    /// permit meanwhile, so that [`Kept::close`] waits for it; when every
    /// permit is lent nothing waits here, and when they are closed the
    /// store is: nothing to do either way.
    async fn reap(&self) {
        let Ok(_permit) = self.permits.try_acquire() else {
            return;
        };
        let expired = match self.waiting.lock() {
            Ok(mut waiting) => self.take_expired(&mut waiting, Instant::now()),
            Err(_) => return,
        };
        for old in expired {
            let _ = old.conn.close().await;
        }
    }

    /// How often [`reaping`] looks for expired connections: a quarter of
    /// the shorter limit, between 1 s and 60 s; `None` when they never
    /// expire.
    pub(crate) fn reap_period(&self) -> Option<Duration> {
        let shorter = match (self.idle_timeout, self.max_lifetime) {
            (Some(idle), Some(lifetime)) => idle.min(lifetime),
            (limit, None) | (None, limit) => limit?,
        };
        Some((shorter / 4).clamp(Duration::from_secs(1), Duration::from_secs(60)))
    }

    /// Takes the last connection put back, closing those expired first.
    async fn pop(&self) -> Option<Waiting> {
        let (expired, next) = {
            let Ok(mut waiting) = self.waiting.lock() else {
                return None;
            };
            let expired = self.take_expired(&mut waiting, Instant::now());
            (expired, waiting.pop())
        };
        if !expired.is_empty() {
            // Off the read's path: closing says goodbye to the server.
            tokio::spawn(async move {
                for old in expired {
                    let _ = old.conn.close().await;
                }
            });
        }
        next
    }
}

/// Closes the expired connections of `kept` every `period`, until the
/// store is dropped or closed: the background task of [`Kept`], which
/// holds it weakly so as not to keep it alive.
pub(crate) async fn reaping(kept: Weak<Kept>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(kept) = kept.upgrade() else {
            return;
        };
        if kept.permits.is_closed() {
            return;
        }
        kept.reap().await;
    }
}

/// A connection lent by [`Kept::lease`]; [`Lease::done`] puts it back.
/// Dropped otherwise (its future dropped mid-query), it closes its
/// connection (SQLite: the worker thread ends; PostgreSQL: the socket).
pub(crate) struct Lease<'k> {
    conn: AnyConnection,
    kept_since: Instant,
    kept: &'k Kept,
    _permit: SemaphorePermit<'k>,
}

impl Kept {
    /// A connection, when one of the [`KEPT`] is free: one waiting here, or
    /// one taken from `pool` and detached from it. `None` when all are
    /// lent or the store is closed: the caller reads through the pool.
    ///
    /// # Errors
    /// The pool's error when it has no connection to give (within its
    /// acquire timeout).
    pub(crate) async fn lease(
        &self,
        pool: &AnyPool,
        backend: Backend,
    ) -> Result<Option<Lease<'_>>> {
        let Ok(permit) = self.permits.try_acquire() else {
            return Ok(None);
        };
        loop {
            let Some(waiting) = self.pop().await else {
                let conn = pool.acquire().await?.detach();
                return Ok(Some(Lease {
                    conn,
                    kept_since: Instant::now(),
                    kept: self,
                    _permit: permit,
                }));
            };
            let Waiting {
                mut conn,
                kept_since,
                idle_since,
            } = waiting;
            if backend == Backend::Postgres && idle_since.elapsed() >= self.ping_after {
                let limit = pool.options().get_acquire_timeout();
                if !matches!(tokio::time::timeout(limit, conn.ping()).await, Ok(Ok(()))) {
                    crate::error::lost::record();
                    drop(conn);
                    continue;
                }
            }
            return Ok(Some(Lease {
                conn,
                kept_since,
                kept: self,
                _permit: permit,
            }));
        }
    }

    /// Waits for the connections lent to come back, closes every one kept,
    /// and lends no more.
    pub(crate) async fn close(&self) {
        let all = u32::try_from(KEPT).unwrap_or(u32::MAX);
        if let Ok(permits) = self.permits.acquire_many(all).await {
            self.permits.close();
            drop(permits);
        }
        let waiting = match self.waiting.lock() {
            Ok(mut waiting) => std::mem::take(&mut *waiting),
            Err(_) => Vec::new(),
        };
        for waiting in waiting {
            let _ = waiting.conn.close().await;
        }
    }
}

impl Lease<'_> {
    /// The connection to query on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Puts the connection back after a query that ended with `outcome`:
    /// kept if it succeeded, closed otherwise.
    pub(crate) fn done<T>(self, outcome: &std::result::Result<T, sqlx::Error>) {
        let Lease {
            conn,
            kept_since,
            kept,
            ..
        } = self;
        if outcome.is_ok()
            && let Ok(mut waiting) = kept.waiting.lock()
        {
            waiting.push(Waiting {
                conn,
                kept_since,
                idle_since: Instant::now(),
            });
        }
    }

    /// Replaces the connection, found dead, by one opened with `pool`'s
    /// options (the pool's acquire timeout bounds the connecting). For the
    /// PostgreSQL pool only: it has no `after_connect` hook, which a
    /// connection opened here would miss (the SQLite pools' set pragmas).
    ///
    /// # Errors
    /// The error of connecting, or [`sqlx::Error::PoolTimedOut`].
    async fn reconnect(&mut self, pool: &AnyPool) -> Result<()> {
        let limit = pool.options().get_acquire_timeout();
        let conn = tokio::time::timeout(limit, pool.connect_options().connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        self.conn = conn;
        self.kept_since = Instant::now();
        self.kept
            .reconnects
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Whether `error`, on a connection to `backend`, says the connection
/// itself is gone ([`crate::error::connection_lost`]); never on SQLite,
/// whose I/O and protocol errors are the query's or the file's.
fn connection_lost(error: &sqlx::Error, backend: Backend) -> bool {
    backend == Backend::Postgres && crate::error::connection_lost(error)
}

impl Store {
    /// The row, if any, that the query `query()` builds reads, on a kept
    /// connection when one is free, else through the reader pool: for the
    /// reads every request of a filing makes. When the kept PostgreSQL
    /// connection turns out dead, the query is built again and runs on a
    /// connection opened in its place (once).
    ///
    /// # Errors
    /// A database error.
    pub(crate) async fn fetch_kept<'q>(
        &self,
        query: impl Fn() -> Query<'q, Any, AnyArguments<'q>>,
    ) -> Result<Option<AnyRow>> {
        let Some(mut lease) = self.kept.lease(&self.read, self.backend).await? else {
            return Ok(query().fetch_optional(&self.read).await?);
        };
        let mut read = query().fetch_optional(lease.conn()).await;
        if let Err(error) = &read
            && connection_lost(error, self.backend)
        {
            tracing::debug!(%error, "kept connection lost; reading on a new one");
            // The pool's connections may be gone as well.
            crate::error::lost::record();
            if let Err(again) = lease.reconnect(&self.read).await {
                tracing::warn!(%error, %again, "kept connection lost, and no new one");
                return Err(again);
            }
            read = query().fetch_optional(lease.conn()).await;
        }
        lease.done(&read);
        Ok(read?)
    }
}

#[cfg(test)]
pub(crate) mod tests;
