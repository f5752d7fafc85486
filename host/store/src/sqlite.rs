//! SQLite's connections: the writer and reader pools of a file in WAL
//! mode, with their pragmas, the background task that checkpoints the
//! WAL off the request path (see the crate's docs), and [`Immediate`], a
//! write transaction whose `BEGIN` and `COMMIT` travel with its first and
//! last statements.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

use crate::error::{Result, StoreError};
use crate::sql::Batch;
use crate::{
    SQLITE_AUTOCHECKPOINT_PAGES, SQLITE_BUSY_TIMEOUT, SQLITE_CHECKPOINT_PERIOD, SQLITE_READERS,
};

/// Checkpoints the WAL of the SQLite database of `pool` (a reader pool)
/// every [`SQLITE_CHECKPOINT_PERIOD`], until the pool is closed.
/// `PASSIVE`: it copies what no reader still needs and never waits for
/// the writer, which goes on committing meanwhile; the commits stop
/// paying for checkpoints (copying pages and `fsync`ing the database
/// file), which they did every 1,000 pages of WAL before.
pub(crate) async fn checkpoints(pool: AnyPool) {
    let mut ticker = tokio::time::interval(SQLITE_CHECKPOINT_PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "WAL checkpoint failed");
        }
    }
}

/// A write transaction on SQLite's single writer in **two** hand-offs to
/// the connection's worker thread: `BEGIN IMMEDIATE` with the first batch
/// of statements ([`Immediate::begin`]), the last batch with `COMMIT`
/// ([`Immediate::commit`]). sqlx's own transactions send `BEGIN` and
/// `COMMIT` as hand-offs of their own, and every hand-off holds the writer
/// (see `BENCHMARKS.md` §2).
///
/// sqlx does not know of this transaction, so this guard ends it: a failed
/// statement rolls it back ([`Immediate::rollback`]), and a guard dropped
/// before its end (a cancelled request) closes the connection instead of
/// returning it to the pool, which rolls the transaction back.
pub(crate) struct Immediate {
    /// The writer, until the transaction ends.
    conn: Option<PoolConnection<Any>>,
}

impl Immediate {
    /// Takes the writer of `pool` and runs `BEGIN IMMEDIATE` and the
    /// statements `first` adds to the batch, in one hand-off; returns the
    /// guard and the rows of those statements (`RETURNING` and `SELECT`).
    ///
    /// # Errors
    /// A database error; the transaction is rolled back then.
    pub(crate) async fn begin(
        pool: &AnyPool,
        first: impl FnOnce(&mut Batch),
    ) -> Result<(Immediate, Vec<AnyRow>)> {
        let mut open = Immediate {
            conn: Some(pool.acquire().await?),
        };
        let mut batch = Batch::new(crate::Backend::Sqlite);
        batch.statement("BEGIN IMMEDIATE");
        first(&mut batch);
        match batch.run(open.conn()).await {
            Ok(rows) => Ok((open, rows)),
            Err(error) => {
                open.rollback().await;
                Err(error)
            }
        }
    }

    /// The connection, inside the transaction (each statement sent on it
    /// is a hand-off of its own).
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            Some(conn) => conn,
            None => unreachable!("an ended transaction is consumed"),
        }
    }

    /// Runs `last` (a SQLite batch) and `COMMIT` in one hand-off; returns
    /// the rows of `last`'s `RETURNING` statements.
    ///
    /// # Errors
    /// A database error; the transaction is rolled back then.
    pub(crate) async fn commit(mut self, mut last: Batch) -> Result<Vec<AnyRow>> {
        last.statement("COMMIT");
        match last.run(self.conn()).await {
            Ok(rows) => {
                // Back to the pool.
                self.conn = None;
                Ok(rows)
            }
            Err(error) => {
                self.rollback().await;
                Err(error)
            }
        }
    }

    /// Rolls the transaction back; a connection that cannot (its
    /// transaction already ended by an error) is closed rather than
    /// returned to the pool in an unknown state.
    pub(crate) async fn rollback(mut self) {
        if let Some(mut conn) = self.conn.take()
            && sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err()
        {
            drop(conn.detach());
        }
    }
}

impl Drop for Immediate {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Closing the connection rolls its transaction back; the pool
            // opens another one when it is next needed.
            drop(conn.detach());
        }
    }
}

/// The writer and reader pools of a SQLite file, created on first start in
/// WAL mode.
pub(crate) async fn pools(url: &str) -> Result<(AnyPool, AnyPool)> {
    let url = url_creating(url)?;
    let options: AnyConnectOptions = url.parse()?;
    let mut first = options.connect().await?;
    first.execute("PRAGMA journal_mode = WAL").await?;
    first.close().await?;
    // The writer only: `temp_store = MEMORY`, so that the sub-journals of
    // the group commit's savepoints never spill to temporary files.
    // Readers keep SQLite's default: their large sorts (statistics) may
    // spill to disk rather than grow the process. (A 32 MiB page cache for
    // the writer was measured and bought nothing: BENCHMARKS.md §2.)
    let pool = |size: u32, writer: bool| {
        AnyPoolOptions::new()
            .max_connections(size)
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    let busy = SQLITE_BUSY_TIMEOUT.as_millis();
                    let writer = if writer {
                        "; PRAGMA temp_store = MEMORY"
                    } else {
                        ""
                    };
                    conn.execute(
                        format!(
                            "PRAGMA busy_timeout = {busy}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}{writer}"
                        )
                        .as_str(),
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options.clone())
    };
    let write = pool(1, true).await?;
    let read = pool(SQLITE_READERS, false).await?;
    Ok((read, write))
}

/// The SQLite URL with `mode=rwc` (create the file) unless a mode is given,
/// after creating the file's directory.
pub(crate) fn url_creating(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.starts_with(":memory:") || query.contains("mode=memory") {
        return Err(StoreError::UnsupportedUrl(format!(
            "{url} (SQLite en mémoire non pris en charge : indiquez un fichier)"
        )));
    }
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    Ok(if query.contains("mode=") {
        url.to_owned()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::sql::RowExt;

    /// Adds `INSERT INTO t (n) VALUES (n)` to `batch`.
    fn insert(batch: &mut Batch, n: i64) {
        batch
            .statement("INSERT INTO t (n) VALUES (")
            .item(n)
            .push(") RETURNING 'inserted' AS kind, n");
    }

    /// A new SQLite database for `purpose` (to remove at the end) and its
    /// reader and writer pools.
    async fn test_pools(purpose: &str) -> (guichet_testdb::TestDatabase, AnyPool, AnyPool) {
        let db = guichet_testdb::TestDatabase::create(false, purpose)
            .await
            .expect("SQLite is always there");
        std::fs::create_dir_all(&db.dir).unwrap();
        let (read, write) = pools(&db.url).await.unwrap();
        (db, read, write)
    }

    /// The settings each connection is opened with: durable commits and
    /// secure deletion on both pools; the writer's in-memory temporary
    /// store, and the readers' default.
    #[tokio::test]
    async fn the_writer_and_the_readers_have_their_settings() {
        let (db, read, write) = test_pools("pragmas").await;
        let pragma = |pool: AnyPool, name: &'static str| async move {
            sqlx::query(&format!("SELECT * FROM pragma_{name}"))
                .fetch_one(&pool)
                .await
                .unwrap()
                .int(name)
                .unwrap()
        };
        for pool in [&write, &read] {
            // NORMAL is 1; ON is 1.
            assert_eq!(pragma(pool.clone(), "synchronous").await, 1);
            assert_eq!(pragma(pool.clone(), "secure_delete").await, 1);
        }
        // MEMORY is 2; DEFAULT is 0.
        assert_eq!(pragma(write.clone(), "temp_store").await, 2);
        assert_eq!(pragma(read.clone(), "temp_store").await, 0);
        write.close().await;
        read.close().await;
        db.remove().await;
    }

    /// What a write transaction left: committed rows only, whether it was
    /// committed, rolled back after an error, rolled back by hand or
    /// dropped half-way (a cancelled request); and the writer takes the
    /// next transaction each time.
    #[tokio::test]
    async fn an_immediate_transaction_commits_all_or_nothing() {
        let (db, read, write) = test_pools("immediate").await;
        sqlx::query("CREATE TABLE t (n BIGINT NOT NULL)")
            .execute(&write)
            .await
            .unwrap();

        let (tx, rows) = Immediate::begin(&write, |batch| insert(batch, 1))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].int("n").unwrap(), 1);
        let mut last = Batch::new(Backend::Sqlite);
        insert(&mut last, 2);
        assert_eq!(tx.commit(last).await.unwrap().len(), 1);

        let (tx, _) = Immediate::begin(&write, |batch| insert(batch, 3))
            .await
            .unwrap();
        drop(tx);

        let (tx, _) = Immediate::begin(&write, |batch| insert(batch, 4))
            .await
            .unwrap();
        let mut last = Batch::new(Backend::Sqlite);
        insert(&mut last, 5);
        last.statement("INSERT INTO missing (n) VALUES (1)");
        assert!(tx.commit(last).await.is_err());

        let (tx, _) = Immediate::begin(&write, |batch| insert(batch, 6))
            .await
            .unwrap();
        tx.rollback().await;

        assert!(
            Immediate::begin(&write, |batch| {
                batch.statement("SELECT * FROM missing");
            })
            .await
            .is_err()
        );

        let (tx, _) = Immediate::begin(&write, |batch| insert(batch, 7))
            .await
            .unwrap();
        tx.commit(Batch::new(Backend::Sqlite)).await.unwrap();

        let kept: Vec<i64> = sqlx::query("SELECT n FROM t ORDER BY n")
            .fetch_all(&read)
            .await
            .unwrap()
            .iter()
            .map(|row| row.int("n").unwrap())
            .collect();
        assert_eq!(kept, [1, 2, 7]);
        write.close().await;
        read.close().await;
        db.remove().await;
    }
}
