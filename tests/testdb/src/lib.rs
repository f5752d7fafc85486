//! Fresh databases for the test suites, and a read of every text they
//! store.
//!
//! A [`TestDatabase`] is a SQLite file in a directory of its own, or a new
//! PostgreSQL database `guichet_<purpose>_<uuid>` on the server named by
//! `GUICHET_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). `GUICHET_SKIP_POSTGRES=1`
//! skips the PostgreSQL half on purpose; otherwise an unreachable server
//! fails the test with a message saying how to start it.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor};
use uuid::Uuid;

/// A database created for one test, with a directory for its files.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its URL (`sqlite://…/guichet.db` or `postgres://…/guichet_…`).
    pub url: String,
    /// The test's own directory (the SQLite file, attachments).
    pub dir: PathBuf,
    /// The PostgreSQL database to drop at the end.
    postgres: Option<String>,
}

fn admin_url() -> String {
    std::env::var("GUICHET_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn database_url(admin: &str, database: &str) -> String {
    match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{database}"),
        None => panic!("GUICHET_TEST_POSTGRES must end with /database: {admin}"),
    }
}

impl TestDatabase {
    /// A fresh database: on PostgreSQL when `postgres`, else a SQLite file
    /// (created by the store on first connection). `purpose` names the
    /// temporary directory and the PostgreSQL database (`store`, `api`…).
    /// `None` when PostgreSQL is skipped with `GUICHET_SKIP_POSTGRES=1`.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable or refuses the database (tests only).
    pub async fn create(postgres: bool, purpose: &str) -> Option<TestDatabase> {
        sqlx::any::install_default_drivers();
        let dir = std::env::temp_dir()
            .join(format!("guichet-{purpose}-tests"))
            .join(Uuid::new_v4().simple().to_string());
        if !postgres {
            return Some(TestDatabase {
                url: format!("sqlite://{}", dir.join("guichet.db").display()),
                dir,
                postgres: None,
            });
        }
        if std::env::var("GUICHET_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("PostgreSQL skipped: GUICHET_SKIP_POSTGRES=1");
            return None;
        }
        let admin = admin_url();
        let database = format!("guichet_{purpose}_{}", Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL unreachable at {admin}: {e}. Start it, or set \
                     GUICHET_SKIP_POSTGRES=1 to skip the PostgreSQL half on purpose."
                )
            });
        conn.execute(format!("CREATE DATABASE {database}").as_str())
            .await
            .expect("database created");
        conn.close().await.expect("connection closed");
        Some(TestDatabase {
            url: database_url(&admin, &database),
            dir,
            postgres: Some(database),
        })
    }

    /// The directory for attachments.
    pub fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
    }

    /// Drops the PostgreSQL database and removes the directory (best
    /// effort: what cannot be removed is reported, not failed on).
    pub async fn remove(self) {
        if let Some(database) = &self.postgres
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url()).await
        {
            let dropped = conn
                .execute(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)").as_str())
                .await;
            if let Err(e) = dropped {
                eprintln!("could not drop {database}: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every text value of every column of every table of the database at
/// `url`, as (`table.column`, value), to look for what must not remain.
/// sqlx's bookkeeping (migration names and checksums) is skipped.
///
/// # Panics
/// When the database cannot be read (tests only).
pub async fn every_stored_text(url: &str) -> Vec<(String, String)> {
    let sqlite = url.starts_with("sqlite:");
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connection");
    let (tables_sql, columns_sql) = if sqlite {
        (
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' ORDER BY name",
            "SELECT name AS c FROM pragma_table_info($1)",
        )
    } else {
        (
            "SELECT CAST(table_name AS TEXT) AS t FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY table_name",
            "SELECT CAST(column_name AS TEXT) AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
    };
    let tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(&mut conn)
        .await
        .expect("tables");
    let mut texts = Vec::new();
    for table in tables.into_iter().filter(|t| !t.starts_with("_sqlx")) {
        let columns: Vec<String> = sqlx::query_scalar(columns_sql)
            .bind(table.clone())
            .fetch_all(&mut conn)
            .await
            .expect("columns");
        for column in columns {
            // SQLite casts a BLOB (a connector component) to a TEXT that
            // need not be UTF-8: read bytes and keep their text parts.
            // PostgreSQL writes a bytea as hexadecimal text.
            let values: Vec<Option<String>> = if sqlite {
                let bytes: Vec<Option<Vec<u8>>> =
                    sqlx::query_scalar(&format!("SELECT CAST({column} AS BLOB) FROM {table}"))
                        .fetch_all(&mut conn)
                        .await
                        .expect("values");
                bytes
                    .into_iter()
                    .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
                    .collect()
            } else {
                sqlx::query_scalar(&format!("SELECT CAST({column} AS TEXT) FROM {table}"))
                    .fetch_all(&mut conn)
                    .await
                    .expect("values")
            };
            texts.extend(
                values
                    .into_iter()
                    .flatten()
                    .map(|value| (format!("{table}.{column}"), value)),
            );
        }
    }
    conn.close().await.expect("closed");
    texts
}

/// Every file under `dir`, with its content (an absent directory holds none).
pub fn stored_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(content) = std::fs::read(&path) {
                out.push((path, content));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// The raw bytes a SQLite database at `url` keeps on disk — the main file,
/// its WAL and rollback journal when present — to look for erased values
/// in free space and old page versions; `None` for PostgreSQL.
pub fn sqlite_files(url: &str) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    let files = ["", "-wal", "-journal"]
        .into_iter()
        .map(|suffix| PathBuf::from(format!("{path}{suffix}")))
        .filter_map(|file| std::fs::read(&file).ok().map(|content| (file, content)))
        .collect();
    Some(files)
}

/// The raw bytes a database at `url` keeps on disk, to look for erased
/// values in free space, dead rows and old page versions: for SQLite, as
/// [`sqlite_files`]; for PostgreSQL, after a `CHECKPOINT` (so that the data
/// files hold what the shared buffers held), every file of the database's
/// directory (`base/<oid>/`) and every segment of the server's write-ahead
/// log (`pg_wal/`, shared by every database of the server).
///
/// # Panics
/// When the database or its files cannot be read (tests only): the caller
/// must be a superuser on the same machine as the server.
pub async fn database_files(url: &str) -> Vec<(PathBuf, Vec<u8>)> {
    if let Some(files) = sqlite_files(url) {
        return files;
    }
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connection");
    sqlx::query("CHECKPOINT")
        .execute(&mut conn)
        .await
        .expect("CHECKPOINT (superuser)");
    let data: String = sqlx::query_scalar(
        "SELECT CAST(setting AS TEXT) FROM pg_settings WHERE name = 'data_directory'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("data_directory");
    let oid: String = sqlx::query_scalar(
        "SELECT CAST(oid AS TEXT) FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .expect("database oid");
    conn.close().await.expect("closed");
    let data = PathBuf::from(data);
    let mut files = Vec::new();
    for dir in [data.join("base").join(oid), data.join("pg_wal")] {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                // A WAL segment may be recycled between listing and reading.
                if let Ok(content) = std::fs::read(&path) {
                    files.push((path, content));
                }
            }
        }
    }
    assert!(!files.is_empty(), "no file found under {}", data.display());
    files
}
