//! The persistence of Guichet: démarches and their versions, accounts,
//! groups and grants, drafts, demandes with their histories, timers, the
//! durable outbox of jobs, attachments, and the connector journal — on
//! SQLite (the embedded default, a file created on first start) or on
//! PostgreSQL (several host processes sharing one database), with the same
//! queries and the same test suite on both.
//!
//! # Where to start
//!
//! [`Store::connect`] opens (and migrates) a database from its URL. Then one
//! module per aggregate adds its methods to [`Store`]: [`demarche`]
//! (import with versioning, catalogue), [`account`] (users), [`session`]
//! (sessions, API tokens), [`group`] (groups, members, grants, rights),
//! [`draft`] (with this host's memory of drafts, `draft::memory`),
//! [`demande`] (filing, reading, the processing table, its numbers taken
//! together on PostgreSQL by `numbering`) and [`outcome`]
//! (writing a workflow [`Outcome`](guichet_core::workflow::Outcome)
//! atomically), [`timer`], [`job`], [`file`](mod@file), [`connector`] (the
//! journal of calls), [`registry`] (installed connector versions and
//! configured instances, their secrets sealed, and how the platform uses
//! them), [`link`] (usagers' accounts linked to their record at a
//! vendor) and [`statistics`] (the figures of the 27-day promise, by SQL
//! over columns each outcome keeps).
//!
//! # Design decisions
//!
//! - **One set of runtime-checked, portable queries through `sqlx::Any`**,
//!   rather than one implementation per backend behind a trait. The two
//!   backends share nearly all their SQL: `INSERT … ON CONFLICT … DO UPDATE`,
//!   `RETURNING`, row values, `LIKE … ESCAPE`, `CAST(… AS TEXT)` are the same
//!   on SQLite ≥ 3.35 and PostgreSQL. One implementation means one place to
//!   fix a bug and no drift between backends, and the same test suite runs
//!   on both (`tests/`). The price is losing sqlx's compile-time checking
//!   (its macros check against one database kind only), which the suite
//!   pays back by running every query on both backends. The few places where
//!   the SQL must differ branch on [`Backend`]: claiming jobs and timers
//!   adds `FOR UPDATE SKIP LOCKED` on PostgreSQL, and write transactions
//!   start with `BEGIN IMMEDIATE` on SQLite.
//! - **Storage forms** (module `sql`): instants are `BIGINT` epoch
//!   milliseconds, dates `TEXT` `YYYY-MM-DD`, ids `TEXT` UUIDs, structured
//!   values `TEXT` JSON. A demande is kept whole as JSON (`data`), beside the
//!   columns that are filtered, sorted or joined on.
//! - **Migrations** are numbered and immutable, one directory per backend
//!   (`migrations/sqlite/`, `migrations/postgres/`), because DDL types and
//!   identity columns differ; both are embedded in the binary and applied by
//!   [`Store::migrate`] (sqlx's migrator: checksums refuse an edited landed
//!   migration; an advisory lock serialises hosts migrating at once on
//!   PostgreSQL).
//! - **SQLite** runs in WAL mode (readers never block the writer) with a
//!   busy timeout, and `synchronous = NORMAL` (a commit survives the
//!   process's crash; a power loss may lose the last commits, never
//!   corrupt the file). A background task checkpoints the WAL every
//!   [`SQLITE_CHECKPOINT_PERIOD`] from a reader connection, so that
//!   commits do not (they would every 1,000 pages of WAL). SQLite allows one writer at a time, so the store keeps one
//!   pool of a single connection for writes, which queues writers in the
//!   process instead of letting them poll the file lock, and a pool of
//!   readers. Write transactions start with `BEGIN IMMEDIATE` so that a
//!   second process (a CLI import beside a server) waits for the lock
//!   instead of failing on a lock upgrade. `sqlite::memory:` is therefore not
//!   supported: the two pools would see two databases. Its pools lend a
//!   connection without pinging it first: a SQLite connection cannot be
//!   cut by a server, and the ping would cost a round trip per query.
//! - **PostgreSQL** uses one pool of [`POSTGRES_POOL_SIZE`] connections,
//!   and up to 4 more kept between the hot reads of drafts ([`lease`])
//!   (several hosts × 14 stays far below PostgreSQL's default limit of
//!   100), and `READ COMMITTED`; concurrent writers are made safe by row
//!   locks: optimistic revisions on demandes, upserts on counters, `SKIP
//!   LOCKED` on claims. It pings a connection before lending it only when
//!   it sat idle for [`POSTGRES_PING_AFTER_IDLE`], or when a query found a
//!   connection gone since it came back (a database restart: the requests
//!   given a dead connection before the first such failure fail, those
//!   after it get connections pinged and replaced). sqlx's pool pings each one it takes back regardless, which
//!   [`lease`] avoids for the reads every page save and filing make.
//! - **Nothing is half-written**: every write that touches several rows is
//!   one transaction, rolled back on any error. The only effect outside the
//!   database, deleting files from disk, is recorded in the transaction
//!   (`file_deletions`) and carried out after the commit; what a crash
//!   leaves is carried out by [`Store::purge_deleted_files`]. This is why
//!   [`Store::connect`] takes the [`FileStore`] beside the URL: the store
//!   that commits an anonymisation is the one that can delete its files.
//!
//! # Erasure reaches the disk
//!
//! Deleting or overwriting a row removes it from the live tables, not from
//! the database's files: the old bytes stay in the free space of pages, in
//! freed pages and in the write-ahead log until something overwrites them.
//! Personal data that anonymisation, a purge of the trash, an expired draft
//! or a filing (the deleted draft) erases must not be readable from the
//! files afterwards. The mechanism, per storage:
//!
//! - **SQLite**: every connection sets `PRAGMA secure_delete = ON`, so
//!   SQLite overwrites with zeros the content it deletes — freed cell space
//!   in live pages, and pages moved to the freelist. That covers the main
//!   file once the changes reach it; until then the previous versions of the
//!   pages sit in the WAL. So every commit that erases personal data marks
//!   the store, and [`Store::scrub`] (run by the scheduler after each round,
//!   hence after each anonymisation run and within one round of a filing)
//!   runs `PRAGMA wal_checkpoint(TRUNCATE)`: the whole WAL is copied into
//!   the main file (where `secure_delete` zeroed what was erased) and the
//!   WAL file is truncated to zero bytes. A checkpoint that active readers
//!   keep from completing is retried at the next round. Chosen over
//!   `VACUUM` (which rewrites the whole file, holding the write lock for
//!   its duration) and over a checkpoint per commit (a filing would wait on
//!   a full checkpoint). The cost of `secure_delete` is extra writes when
//!   deleting, small for the sizes of rows here.
//! - **File storage** ([`FileStore::delete`]): the file's bytes are
//!   overwritten with zeros and synced before it is unlinked. This is real
//!   on file systems that write in place (ext4, xfs); on copy-on-write file
//!   systems (btrfs, zfs), on SSDs' remapped blocks and in snapshots and
//!   backups of the directory the old blocks may survive: put the data
//!   directory on a file system that writes in place, or on an encrypted
//!   volume.
//! - **Sealing, on both backends** ([`seal`]): PostgreSQL cannot be made to
//!   forget bytes — deleted and updated rows leave dead tuples in the data
//!   files until `VACUUM` reclaims them (without zeroing the freed space),
//!   and every change is written to the WAL, whose segments are recycled,
//!   not wiped, and are copied by WAL archiving and backups. So personal
//!   values never reach the database in clear: a demande's data, its
//!   history's texts and attachment names, its jobs' payloads, its files'
//!   names, its draft's answers and its connector journal are encrypted
//!   (XChaCha20-Poly1305) with a key of the demande's, kept wrapped under
//!   the host's master key (outside the database) in `data_keys`, and
//!   anonymisation rewrites what it keeps in clear and deletes the key.
//!   This also covers database backups, on SQLite too. What remains (a
//!   deleted wrapped key in old WAL or backups, readable with the master
//!   key) is in [`seal`]'s docs.
//!

pub mod account;
#[cfg(feature = "test-support")]
mod baseline;
pub mod connector;
pub mod contact;
pub mod demande;
pub mod demarche;
pub mod draft;
mod error;
pub mod file;
pub mod group;
mod group_commit;
mod history;
pub mod job;
mod lease;
pub mod link;
mod numbering;
pub mod outcome;
pub mod password_link;
pub mod registry;
pub mod seal;
mod search;
pub mod session;
mod sql;
mod sqlite;
pub mod statistics;
pub mod survey;
pub mod timer;
pub mod trash;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use guichet_core::calendar::Zone;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Connection as _, Transaction};

pub use error::{Result, StoreError};
pub use file::FileStore;
pub use seal::MasterKey;

use crate::demarche::VersionFacts;

/// Connections of the PostgreSQL pool of one host.
pub const POSTGRES_POOL_SIZE: u32 = 10;

/// A PostgreSQL connection idle in the pool for at least this long is
/// pinged before it is lent (one round trip), so that one broken while
/// idle (a database restart, a dropped link) is replaced before a request
/// uses it. One lent again sooner is not: under load every connection
/// comes back within milliseconds, and pinging each loan cost a round trip
/// per query, 2 of the 7 a submission made (BENCHMARKS.md §2) — unless a
/// query found a connection gone since it came back (`error::lost`): after
/// a restart under load, the requests given a dead connection before the
/// first such failure fail, and the pool pings the others before lending
/// them.
pub const POSTGRES_PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Reader connections of the SQLite pool (writes have their own
/// connection); up to 4 more are kept out of it for the hot reads
/// ([`lease`]).
pub const SQLITE_READERS: u32 = 4;

/// How long a SQLite connection waits for the file lock held by another
/// process before failing.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the store's background task checkpoints a SQLite WAL (copies
/// its committed pages into the database file), off the request path.
pub const SQLITE_CHECKPOINT_PERIOD: Duration = Duration::from_millis(200);

/// How many times [`Store::scrub`] tries to truncate SQLite's WAL in one
/// call, [`SCRUB_RETRY_PAUSE`] apart, while a checkpoint or a reader holds
/// it.
const SCRUB_ATTEMPTS: u32 = 5;

/// The pause between two of [`Store::scrub`]'s attempts.
const SCRUB_RETRY_PAUSE: Duration = Duration::from_millis(20);

/// WAL pages after which a commit checkpoints by itself (SQLite's
/// `wal_autocheckpoint`; its default is 1,000): a safety net, reached
/// only when the background checkpoints fall behind (about 64 MiB of WAL
/// with 4 KiB pages).
pub const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 16_384;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database kind behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: one file, one host.
    Sqlite,
    /// PostgreSQL: one database shared by several hosts.
    Postgres,
}

impl Backend {
    /// The backend a URL names: `sqlite:…` or `postgres:…`/`postgresql:…`.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`] for any other scheme.
    pub fn of(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redacted(url)))
        }
    }
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The structural facts of démarche versions, by (slug, version).
type FactsCache = Mutex<HashMap<(String, u32), Arc<VersionFacts>>>;

/// Parsed definitions of démarche versions, by (slug, version), each with
/// the version's `updated_at` (ms) it was read at ([`Store::definition_at`]).
type DefinitionCache =
    Mutex<HashMap<(String, u32), (i64, Arc<guichet_core::demarche::Definition>)>>;

/// The storage of Guichet: a database (SQLite or PostgreSQL) and a
/// directory of files. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The database URL (a PostgreSQL listener opens its own connection).
    url: Arc<str>,
    read: AnyPool,
    write: AnyPool,
    files: FileStore,
    facts: Arc<FactsCache>,
    /// Parsed definitions ([`Store::definition_at`]).
    definitions: Arc<DefinitionCache>,
    /// Sessions recently read ([`session::SessionCache`]).
    sessions: Arc<session::SessionCache>,
    /// The collectivité's time zone: the year of numbers, the catalogue's
    /// "today", the processing deadline column.
    zone: Zone,
    /// Set when a commit erased personal data and the database's files have
    /// not been scrubbed since ([`Store::scrub`]).
    erased: Arc<AtomicBool>,
    /// The master key that wraps the data keys of sealed values
    /// ([`seal`]).
    keys: seal::Keyring,
    /// SQLite's writes committed in groups ([`group_commit`]).
    groups: Arc<group_commit::GroupCommit>,
    /// Reader connections kept between hot reads ([`lease`]).
    kept: Arc<lease::Kept>,
    /// PostgreSQL's demande numbers, taken together ([`numbering`]).
    numbering: Arc<numbering::Numbering>,
    /// The drafts this host remembers ([`draft::memory`]).
    drafts: Arc<draft::memory::DraftMemory>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date; keeps
    /// attachments in `files`. Personal values are sealed under the master
    /// key of the file [`seal::MASTER_KEY_FILE`] beside `files`' directory
    /// (in its parent), created on first start ([`Store::connect_with_key`]
    /// takes one from the configuration instead).
    ///
    /// `url` is `sqlite://path/to/guichet.db` (the file and its directory
    /// are created on first start) or `postgres://user@host/database`.
    ///
    /// # Errors
    /// As [`Store::connect_with_key`], and [`StoreError::File`] if the key
    /// file cannot be read or created.
    pub async fn connect(url: &str, files: FileStore) -> Result<Store> {
        let beside = files.dir().parent().unwrap_or(files.dir());
        let master = MasterKey::load_or_create(&beside.join(seal::MASTER_KEY_FILE))?;
        Store::connect_with_key(url, files, &master).await
    }

    /// Opens the database at `url` as [`Store::connect`] does, sealing
    /// personal values under `master`.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`], a database error if it cannot be
    /// reached, a migration error, or [`StoreError::Invalid`] if the
    /// database was sealed under another master key.
    pub async fn connect_with_key(
        url: &str,
        files: FileStore,
        master: &MasterKey,
    ) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let (read, write) = match backend {
            Backend::Sqlite => sqlite::pools(url).await?,
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_POOL_SIZE)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= POSTGRES_PING_AFTER_IDLE
                                || error::lost::since_idle(meta.idle_for)
                            {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    .connect(url)
                    .await?;
                (pool.clone(), pool)
            }
        };
        let kept = Arc::new(lease::Kept::expiring_as(&read));
        let store = Store {
            backend,
            url: Arc::from(url),
            read,
            write,
            files,
            facts: Arc::default(),
            definitions: Arc::default(),
            sessions: Arc::default(),
            zone: Zone::default(),
            erased: Arc::default(),
            keys: seal::Keyring::new(master),
            groups: Arc::default(),
            kept,
            numbering: Arc::default(),
            drafts: Arc::default(),
        };
        store.migrate().await?;
        let mut conn = store.write.acquire().await?;
        store.keys.check(&mut conn).await?;
        drop(conn);
        // Started once the store is sure to be returned: a store given up
        // above leaves no task behind.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            if backend == Backend::Sqlite {
                runtime.spawn(sqlite::checkpoints(store.read.clone()));
            }
            if let Some(period) = store.kept.reap_period() {
                runtime.spawn(lease::reaping(Arc::downgrade(&store.kept), period));
            }
        }
        Ok(store)
    }

    /// Applies the migrations not applied yet (idempotent).
    ///
    /// # Errors
    /// A migration error, for instance when a landed migration was edited.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                // SQLite changes a constraint by rebuilding the table, which
                // its documented procedure does with foreign keys off (they
                // cannot be switched inside the migration's transaction),
                // then checks them before going on.
                let mut conn = self.write.acquire().await?;
                sqlx::query("PRAGMA foreign_keys = OFF")
                    .execute(&mut *conn)
                    .await?;
                // `run_direct` rather than `run`: `run` is generic over
                // `Acquire`, which makes the future of every caller not
                // `Send` for all lifetimes (sqlx's own comment on it).
                let migrated = SQLITE_MIGRATIONS.run_direct(&mut *conn).await;
                let broken = sqlx::query("PRAGMA foreign_key_check")
                    .fetch_all(&mut *conn)
                    .await;
                sqlx::query("PRAGMA foreign_keys = ON")
                    .execute(&mut *conn)
                    .await?;
                migrated?;
                if !broken?.is_empty() {
                    return Err(StoreError::Corrupt(
                        "la migration a laissé des clés étrangères orphelines".into(),
                    ));
                }
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.write).await?,
        }
        Ok(())
    }

    /// The same store counting calendar dates in `zone` (the year of
    /// demande numbers, the catalogue's open periods, the deadline column);
    /// `Europe/Paris` until told otherwise.
    pub fn with_zone(mut self, zone: Zone) -> Store {
        self.zone = zone;
        self
    }

    /// The collectivité's time zone.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The database kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The directory of attachments.
    pub fn files(&self) -> &FileStore {
        &self.files
    }

    /// Closes the pools (waits for connections in use to come back).
    pub async fn close(&self) {
        self.kept.close().await;
        self.write.close().await;
        self.read.close().await;
    }

    /// Notes that a commit erased personal data: the next [`Store::scrub`]
    /// clears what the database's files may still hold of it.
    pub(crate) fn personal_data_erased(&self) {
        self.erased.store(true, Ordering::SeqCst);
    }

    /// Clears from the database's files the bytes of personal data erased
    /// since the last call (see "Erasure reaches the disk" in the crate
    /// docs): on SQLite, a checkpoint of the whole WAL into the main file
    /// (whose freed space `secure_delete` has zeroed) and the WAL truncated
    /// to nothing. On PostgreSQL, where personal values are sealed
    /// ([`seal`]), a `VACUUM` of `data_keys` prunes the deleted wrapped keys
    /// from its pages (old WAL segments keep them until recycled). Returns
    /// whether the scrub ran; a checkpoint the readers kept from completing
    /// is retried at the next call.
    ///
    /// The scheduler calls it after each round that anonymised, purged or
    /// expired something.
    ///
    /// # Errors
    /// A database error (the next call retries).
    pub async fn scrub(&self) -> Result<bool> {
        if !self.erased.swap(false, Ordering::SeqCst) {
            return Ok(false);
        }
        if self.backend == Backend::Postgres {
            if let Err(error) = sqlx::query("VACUUM data_keys").execute(&self.write).await {
                self.personal_data_erased();
                return Err(error.into());
            }
            return Ok(true);
        }
        // The background checkpoint (`sqlite::checkpoints`) or a reader
        // finishing its query may hold the WAL for a moment: a few short
        // retries before leaving it to the next round.
        let mut busy = true;
        for attempt in 0..SCRUB_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(SCRUB_RETRY_PAUSE).await;
            }
            let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.write)
                .await;
            busy = match done {
                Ok(row) => {
                    use crate::sql::RowExt;
                    row.int("busy")? != 0
                }
                Err(error) => {
                    self.personal_data_erased();
                    return Err(error.into());
                }
            };
            if !busy {
                break;
            }
        }
        if busy {
            self.personal_data_erased();
            tracing::warn!(
                "checkpoint du WAL incomplet (lecteurs actifs) : réessayé au prochain tour"
            );
        }
        Ok(!busy)
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite (take the
    /// write lock now, not on the first write), `BEGIN` on PostgreSQL.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        })
    }

    /// A write of a few statements made durable together, outside any
    /// transaction of the caller's: on SQLite in the open group of writes
    /// (one hand-off under the writer, [`group_commit`]), on PostgreSQL as
    /// one statement of data-modifying CTEs (one round trip,
    /// [`sql::Batch::one_statement`], whose rule holds: no two statements
    /// touch the same row). `push` adds the statements to the batch; `read`
    /// reads the rows their `RETURNING` clauses gave (`kind`, `returned`)
    /// and may refuse them, which on SQLite rolls the statements back.
    ///
    /// # Errors
    /// `push`'s or `read`'s refusal, the database's (a constraint), or a
    /// database error; nothing is written then (on PostgreSQL, a refusal
    /// by `read` comes after the statement was committed: `read` only
    /// refuses what wrote nothing).
    pub(crate) async fn write_together<T: Send + 'static>(
        &self,
        push: impl FnOnce(&mut sql::Batch) -> Result<()>,
        read: impl FnOnce(Vec<sqlx::any::AnyRow>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        match self.backend {
            Backend::Sqlite => self.write_in_group(push, read).await,
            Backend::Postgres => {
                let mut batch = sql::Batch::one_statement(Backend::Postgres);
                push(&mut batch)?;
                let mut conn = self.write.acquire().await?;
                read(batch.run(&mut conn).await?)
            }
        }
    }

    /// `FOR UPDATE SKIP LOCKED` on PostgreSQL, nothing on SQLite (whose
    /// single writer already excludes concurrent claims).
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// `FOR UPDATE` on PostgreSQL, nothing on SQLite (whose `BEGIN
    /// IMMEDIATE` already excludes other writers): for a read-modify-write
    /// inside [`Store::begin`]'s transaction.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// The version facts cached for a démarche version.
    pub(crate) fn cached_facts(&self, slug: &str, version: u32) -> Option<Arc<VersionFacts>> {
        let facts = self.facts.lock().unwrap_or_else(PoisonError::into_inner);
        facts.get(&(slug.to_owned(), version)).cloned()
    }

    /// Remembers the facts of a démarche version (they never change: what
    /// they hold is structural, and a structural change makes a new version).
    pub(crate) fn cache_facts(&self, slug: &str, version: u32, facts: Arc<VersionFacts>) {
        let mut cache = self.facts.lock().unwrap_or_else(PoisonError::into_inner);
        cache.insert((slug.to_owned(), version), facts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_told_by_the_url_scheme() {
        assert_eq!(Backend::of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(
            Backend::of("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        let refused = Backend::of("mysql://root:secret@h/db").unwrap_err();
        assert!(!refused.to_string().contains("secret"), "{refused}");
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        let dir = std::env::temp_dir().join(format!("guichet-url-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/g.db", dir.display());
        assert_eq!(
            sqlite::url_creating(&url).unwrap(),
            format!("{url}?mode=rwc")
        );
        assert!(dir.is_dir());
        assert_eq!(
            sqlite::url_creating(&format!("{url}?mode=ro")).unwrap(),
            format!("{url}?mode=ro")
        );
        assert!(sqlite::url_creating("sqlite::memory:").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Waits (up to a second) for at least `count` connections idle in
    /// the reader pool, which takes each back in a task of its own.
    async fn idle_in_pool(store: &Store, count: usize) -> usize {
        for _ in 0..100 {
            if store.read.num_idle() >= count {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        store.read.num_idle()
    }

    /// Ends every other backend of `database` with `pg_terminate_backend`,
    /// as a database restart would, from a connection of its own (to
    /// close at the end); the number ended.
    async fn cut_connections(
        database: &guichet_testdb::TestDatabase,
    ) -> (sqlx::AnyConnection, usize) {
        use sqlx::Connection;
        let mut other = sqlx::AnyConnection::connect(&database.url).await.unwrap();
        let cut = sqlx::query(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut other)
        .await
        .unwrap();
        (other, cut.len())
    }

    /// After a database restart under load (here `pg_terminate_backend` on
    /// every connection of the pool, lent again within
    /// [`POSTGRES_PING_AFTER_IDLE`]), one request meets a dead connection
    /// and fails; the pool then pings the others before lending them, and
    /// the requests after it succeed.
    #[tokio::test]
    async fn after_a_lost_connection_the_pool_pings_the_others_before_lending_them() {
        use sqlx::Connection;
        let Some((database, store)) = lease::tests::store(true).await else {
            return;
        };
        // Five connections in the pool, each just back from a query.
        futures::future::join_all(
            (0..5).map(|_| sqlx::query("SELECT pg_sleep(0.05)").execute(&store.read)),
        )
        .await;
        assert!(
            idle_in_pool(&store, 5).await >= 5,
            "five connections wait in the pool"
        );
        let back = std::time::Instant::now();

        let (other, cut) = cut_connections(&database).await;
        assert!(cut >= 5, "the pool's connections were cut");

        let unknown = guichet_core::id::DemandeId::from_uuid(uuid::Uuid::new_v4());
        let mut failed = 0;
        for _ in 0..5 {
            match store.demande(unknown).await {
                Err(StoreError::NotFound(_)) => {}
                Err(StoreError::Database(_)) => failed += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            back.elapsed() < POSTGRES_PING_AFTER_IDLE,
            "too slow: the pool pinged the connections for their idle time"
        );
        assert!(failed <= 1, "{failed} requests met a dead connection");

        other.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }

    /// A PostgreSQL connection cut while idle in the pool or kept between
    /// hot reads ([`lease`]) (here by `pg_terminate_backend`, as a database
    /// restart would) is pinged, found broken and replaced before a query
    /// uses it.
    #[tokio::test]
    async fn a_postgres_connection_cut_while_idle_is_replaced_before_use() {
        use sqlx::Connection;
        let Some((database, store)) = lease::tests::store(true).await else {
            return;
        };
        let mut lease = store
            .kept
            .lease(&store.read, store.backend)
            .await
            .unwrap()
            .unwrap();
        let read = sqlx::query("SELECT 1").execute(lease.conn()).await;
        lease.done(&read);
        sqlx::query("SELECT 1").execute(&store.read).await.unwrap();
        assert!(
            idle_in_pool(&store, 1).await > 0,
            "a connection waits in the pool"
        );

        let (other, cut) = cut_connections(&database).await;
        assert!(cut > 0, "the pool's connections were cut");
        tokio::time::sleep(POSTGRES_PING_AFTER_IDLE + std::time::Duration::from_millis(200)).await;

        for _ in 0..POSTGRES_POOL_SIZE {
            sqlx::query("SELECT 1")
                .execute(&store.read)
                .await
                .expect("a live connection, not the cut one");
        }
        let unknown = draft::DraftId(uuid::Uuid::new_v4());
        assert!(
            matches!(
                store.draft_to_save(unknown).await,
                Err(StoreError::NotFound(_))
            ),
            "a kept connection is pinged too"
        );
        assert_eq!(
            lease::tests::reconnects(&store),
            0,
            "replaced by the ping, not found dead by the read"
        );

        other.close().await.unwrap();
        store.close().await;
        database.remove().await;
    }
}
