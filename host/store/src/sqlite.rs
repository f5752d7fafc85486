//! SQLite's connections: the writer and reader pools of a file in WAL
//! mode, with their pragmas, and the background task that checkpoints the
//! WAL off the request path (see the crate's docs).

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use crate::error::{Result, StoreError};
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

/// The writer and reader pools of a SQLite file, created on first start in
/// WAL mode.
pub(crate) async fn pools(url: &str) -> Result<(AnyPool, AnyPool)> {
    let url = url_creating(url)?;
    let options: AnyConnectOptions = url.parse()?;
    let mut first = options.connect().await?;
    first.execute("PRAGMA journal_mode = WAL").await?;
    first.close().await?;
    let pool = |size: u32| {
        AnyPoolOptions::new()
            .max_connections(size)
            .test_before_acquire(false)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    let busy = SQLITE_BUSY_TIMEOUT.as_millis();
                    conn.execute(
                        format!(
                            "PRAGMA busy_timeout = {busy}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                             PRAGMA secure_delete = ON; PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}"
                        )
                        .as_str(),
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options.clone())
    };
    let write = pool(1).await?;
    let read = pool(SQLITE_READERS).await?;
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
