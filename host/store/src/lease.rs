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
pub(crate) mod tests {
    use sqlx::AnyConnection;

    use crate::{FileStore, Store};

    /// A store on a fresh database, when the backend is there.
    pub(crate) async fn store(postgres: bool) -> Option<(guichet_testdb::TestDatabase, Store)> {
        let database = guichet_testdb::TestDatabase::create(postgres, "store").await?;
        let store = Store::connect(&database.url, FileStore::new(database.files_dir()))
            .await
            .unwrap();
        Some((database, store))
    }

    /// A kept connection, if one is free.
    async fn try_lend(store: &Store) -> Option<super::Lease<'_>> {
        store.kept.lease(&store.read, store.backend).await.unwrap()
    }

    /// A kept connection, which there must be.
    async fn lend(store: &Store) -> super::Lease<'_> {
        try_lend(store).await.unwrap()
    }

    fn waiting(store: &Store) -> usize {
        store.kept.waiting.lock().unwrap().len()
    }

    /// Connections opened in place of dead ones.
    pub(crate) fn reconnects(store: &Store) -> usize {
        store
            .kept
            .reconnects
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What names the connection a query runs on: PostgreSQL's backend
    /// pid; on SQLite a temporary table, which only its connection sees.
    async fn mark(conn: &mut AnyConnection, postgres: bool) -> String {
        if postgres {
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(conn)
                .await
                .unwrap();
            pid.to_string()
        } else {
            sqlx::query("CREATE TEMP TABLE IF NOT EXISTS lent (n INTEGER)")
                .execute(&mut *conn)
                .await
                .unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM temp.lent")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            sqlx::query("INSERT INTO temp.lent VALUES (1)")
                .execute(&mut *conn)
                .await
                .unwrap();
            n.to_string()
        }
    }

    /// A connection put back is lent again, without the pool.
    #[tokio::test]
    async fn a_connection_put_back_is_lent_again() {
        for postgres in [false, true] {
            let Some((database, store)) = store(postgres).await else {
                continue;
            };
            let mut lease = lend(&store).await;
            let first = mark(lease.conn(), postgres).await;
            lease.done(&Ok::<(), sqlx::Error>(()));
            assert_eq!(waiting(&store), 1, "put back");

            let mut again = lend(&store).await;
            assert_eq!(waiting(&store), 0, "lent");
            let second = mark(again.conn(), postgres).await;
            if postgres {
                assert_eq!(first, second, "the same backend");
            } else {
                assert_eq!((first.as_str(), second.as_str()), ("0", "1"));
            }
            again.done(&Ok::<(), sqlx::Error>(()));
            store.close().await;
            assert_eq!(waiting(&store), 0, "closed with the store");
            database.remove().await;
        }
    }

    /// At most `KEPT` connections are out of the pool: with all of them
    /// lent, a read goes through the pool, without waiting for one.
    #[tokio::test]
    async fn reads_beyond_the_kept_connections_go_through_the_pool() {
        let Some((database, store)) = store(false).await else {
            return;
        };
        let mut leases = Vec::new();
        for _ in 0..super::KEPT {
            leases.push(lend(&store).await);
        }
        assert!(try_lend(&store).await.is_none(), "no fifth kept connection");
        let row = store
            .fetch_kept(|| sqlx::query("SELECT 1 AS one"))
            .await
            .unwrap();
        assert!(row.is_some(), "read through the pool");
        for lease in leases {
            lease.done(&Ok::<(), sqlx::Error>(()));
        }
        assert_eq!(waiting(&store), super::KEPT);
        store.close().await;
        database.remove().await;
    }

    /// Closing the store waits for a connection lent, closes it with the
    /// others, and lends no more.
    #[tokio::test]
    async fn closing_waits_for_the_connections_lent() {
        let Some((database, store)) = store(false).await else {
            return;
        };
        let mut lease = lend(&store).await;
        let give_back = async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let read = sqlx::query("SELECT 1").execute(lease.conn()).await;
            lease.done(&read);
        };
        tokio::join!(store.close(), give_back);
        assert_eq!(waiting(&store), 0, "closed with the store");
        assert!(try_lend(&store).await.is_none(), "no more leases");
        assert!(store.fetch_kept(|| sqlx::query("SELECT 1")).await.is_err());
        database.remove().await;
    }

    /// A connection whose query failed is not put back: here SQLite
    /// refused the query.
    #[tokio::test]
    async fn a_connection_whose_query_failed_is_not_put_back() {
        let Some((database, store)) = store(false).await else {
            return;
        };
        let mut lease = lend(&store).await;
        let refused = sqlx::query("SELECT * FROM no_such_table")
            .execute(lease.conn())
            .await;
        assert!(refused.is_err());
        lease.done(&refused);
        assert_eq!(waiting(&store), 0, "closed, not put back");
        store.close().await;
        database.remove().await;
    }

    /// A connection whose PostgreSQL backend ended under it is not put
    /// back (the server reports the end as a database error, `57P01`).
    #[tokio::test]
    async fn a_broken_connection_is_not_put_back() {
        use sqlx::Connection;
        let Some((database, store)) = store(true).await else {
            return;
        };
        let mut lease = lend(&store).await;
        let pid = mark(lease.conn(), true).await;
        let mut other = AnyConnection::connect(&database.url).await.unwrap();
        sqlx::query(&format!("SELECT pg_terminate_backend({pid}, 5000)"))
            .execute(&mut other)
            .await
            .unwrap();
        let broken = sqlx::query("SELECT 1").execute(lease.conn()).await;
        assert!(broken.is_err());
        lease.done(&broken);
        assert_eq!(waiting(&store), 0, "closed, not put back");
        other.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }

    /// A kept connection idle for the idle timeout, or kept for the
    /// maximum lifetime, is closed instead of being lent again.
    #[tokio::test]
    async fn an_expired_connection_is_closed_not_lent() {
        use std::time::Duration;
        let Some((database, store)) = store(false).await else {
            return;
        };
        for (idle, lifetime) in [(Some(Duration::ZERO), None), (None, Some(Duration::ZERO))] {
            let kept = super::Kept::expiring(idle, lifetime);
            let mut lease = kept
                .lease(&store.read, store.backend)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(mark(lease.conn(), false).await, "0");
            lease.done(&Ok::<(), sqlx::Error>(()));
            assert_eq!(kept.waiting.lock().unwrap().len(), 1, "put back");

            let mut again = kept
                .lease(&store.read, store.backend)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(kept.waiting.lock().unwrap().len(), 0);
            assert_eq!(
                mark(again.conn(), false).await,
                "0",
                "another connection than the expired one ({idle:?}, {lifetime:?})"
            );
            again.done(&Ok::<(), sqlx::Error>(()));
            kept.close().await;
        }
        store.close().await;
        database.remove().await;
    }

    /// On a quiet host, a kept connection that expired is closed without
    /// waiting for a read (PostgreSQL: its backend ends), and the
    /// background task ends when its store is dropped or closed; the
    /// store starts one of its own.
    #[tokio::test]
    async fn an_expired_connection_is_closed_on_a_quiet_host() {
        use std::sync::Arc;
        use std::time::Duration;
        for postgres in [false, true] {
            let Some((database, store)) = store(postgres).await else {
                continue;
            };
            assert_eq!(
                Arc::weak_count(&store.kept),
                1,
                "the store's own reaping task"
            );
            let kept = Arc::new(super::Kept::expiring(
                Some(Duration::from_millis(100)),
                None,
            ));
            let mut lease = kept
                .lease(&store.read, store.backend)
                .await
                .unwrap()
                .unwrap();
            let pid = mark(lease.conn(), postgres).await;
            lease.done(&Ok::<(), sqlx::Error>(()));
            let reaping = tokio::spawn(super::reaping(
                Arc::downgrade(&kept),
                Duration::from_millis(20),
            ));
            let gone = async {
                loop {
                    let waiting = kept.waiting.lock().unwrap().len();
                    let backend = if postgres {
                        sqlx::query_scalar::<_, i64>(&format!(
                            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = {pid}"
                        ))
                        .fetch_one(&store.read)
                        .await
                        .unwrap()
                    } else {
                        0
                    };
                    if waiting == 0 && backend == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(30), gone)
                .await
                .expect("the expired connection is closed without a read");
            drop(kept);
            tokio::time::timeout(Duration::from_secs(30), reaping)
                .await
                .expect("the task ends when its store is dropped")
                .unwrap();

            let kept = Arc::new(super::Kept::expiring(None, None));
            let reaping = tokio::spawn(super::reaping(
                Arc::downgrade(&kept),
                Duration::from_millis(20),
            ));
            kept.close().await;
            tokio::time::timeout(Duration::from_secs(30), reaping)
                .await
                .expect("the task ends when its store is closed")
                .unwrap();
            drop(kept);
            store.close().await;
            database.remove().await;
        }
    }

    /// The reaping period follows the shorter limit, within bounds.
    #[test]
    fn the_reaping_period_follows_the_shorter_limit() {
        use std::time::Duration;
        let period = |idle, lifetime| super::Kept::expiring(idle, lifetime).reap_period();
        let minutes = |n: u64| Some(Duration::from_secs(60 * n));
        assert_eq!(
            period(minutes(10), minutes(30)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            period(minutes(2), minutes(3)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            period(minutes(3), minutes(2)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(period(None, minutes(2)), Some(Duration::from_secs(30)));
        assert_eq!(
            period(Some(Duration::from_millis(100)), None),
            Some(Duration::from_secs(1))
        );
        assert_eq!(period(None, None), None);
    }

    /// A read on a kept connection whose PostgreSQL backend ended while it
    /// waited (a database restart) answers all the same, on a connection
    /// opened in its place, which is kept.
    #[tokio::test]
    async fn a_read_on_a_dead_kept_connection_runs_on_a_new_one() {
        use sqlx::{Connection, Row};
        let Some((database, mut store)) = store(true).await else {
            return;
        };
        // Never pinged, however slow the machine: the read finds it dead.
        // (A new `Kept`: the store's is shared with its reaping task.)
        store.kept = std::sync::Arc::new(super::Kept {
            ping_after: std::time::Duration::from_secs(3600),
            ..super::Kept::expiring_as(&store.read)
        });
        let mut lease = lend(&store).await;
        let pid = mark(lease.conn(), true).await;
        lease.done(&Ok::<(), sqlx::Error>(()));
        let mut other = AnyConnection::connect(&database.url).await.unwrap();
        let cut: bool = sqlx::query_scalar(&format!("SELECT pg_terminate_backend({pid}, 5000)"))
            .fetch_one(&mut other)
            .await
            .unwrap();
        assert!(cut, "the kept connection's backend ended");

        let row = store
            .fetch_kept(|| sqlx::query("SELECT pg_backend_pid() AS pid"))
            .await
            .expect("the read answers")
            .unwrap();
        let new: i32 = row.try_get("pid").unwrap();
        assert_ne!(new.to_string(), pid, "on another backend");
        assert_eq!(reconnects(&store), 1, "opened in place of the dead one");
        assert_eq!(waiting(&store), 1, "the new connection is kept");
        other.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }
}
