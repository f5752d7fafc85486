//! Tests of the kept connections (`super`), on both backends when
//! PostgreSQL is there.

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
