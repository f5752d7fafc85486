//! How the hosts of one database learn that the registry changed.
//!
//! Every write of a connector version or instance
//! ([`Store::save_connector_version`], [`Store::save_connector_instance`])
//! also announces itself on PostgreSQL: `pg_notify` on
//! [`REGISTRY_CHANNEL`] inside the writing transaction, so the
//! notification is delivered when (and only if) the change commits. Each
//! host listens with a [`RegistryListener`] (sqlx's `PgListener`, on a
//! connection of its own) and reloads what changed within milliseconds.
//!
//! Notifications are not a queue: one sent while a listener reconnects is
//! lost. So hosts also compare their registry with the store at a slower
//! pace (`guichet_host::service::connectors::watch`), which is all SQLite
//! has — a SQLite database has one host, and only the command line
//! (`guichet connector activate …` on the same file) changes it behind the
//! host's back.
//!
//! Comparing is cheap: [`Store::connector_version_keys`] reads the name,
//! version and digest of each version without its bytes, and
//! [`Store::connector_version`] fetches the bytes of one version the host
//! lacks.

use sqlx::Executor;
use sqlx::postgres::PgListener;

use crate::error::{Result, StoreError};
use crate::registry::StoredVersion;
use crate::sql::RowExt;
use crate::{Backend, Store};

/// The PostgreSQL channel of registry changes. The payload is the id of
/// the instance written, or `version:<sha256>` for an installed version.
pub const REGISTRY_CHANNEL: &str = "guichet_registry";

/// Name, version and digest of an installed version, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionKey {
    /// The connector's name (`atal`).
    pub name: String,
    /// Its version (`1.2.0`).
    pub version: String,
    /// SHA-256 of the component, lowercase hexadecimal.
    pub sha256: String,
}

/// A connection listening to [`REGISTRY_CHANNEL`] (PostgreSQL only).
pub struct RegistryListener(PgListener);

impl std::fmt::Debug for RegistryListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistryListener")
    }
}

impl RegistryListener {
    /// Waits for the next change announced by any host (this one
    /// included); returns its payload. After a lost connection, sqlx
    /// reconnects on the next call (what was sent meanwhile is lost: see
    /// the module docs).
    ///
    /// # Errors
    /// A database error when the connection cannot be re-established.
    pub async fn recv(&mut self) -> Result<String> {
        let notification = self.0.recv().await?;
        Ok(notification.payload().to_owned())
    }
}

impl Store {
    /// A listener of registry changes: on PostgreSQL, a new connection
    /// listening to [`REGISTRY_CHANNEL`]; `None` on SQLite (one host).
    ///
    /// # Errors
    /// A database error when PostgreSQL cannot be reached.
    pub async fn registry_listener(&self) -> Result<Option<RegistryListener>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(REGISTRY_CHANNEL).await?;
        Ok(Some(RegistryListener(listener)))
    }

    /// Announces a registry change inside the writing transaction
    /// (PostgreSQL delivers it at commit); nothing on SQLite.
    pub(crate) async fn notify_registry<'c, E>(&self, executor: E, payload: &str) -> Result<()>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(REGISTRY_CHANNEL)
                .bind(payload.to_owned())
                .execute(executor)
                .await?;
        }
        Ok(())
    }

    /// Name, version and digest of every installed version, without the
    /// components' bytes.
    ///
    /// # Errors
    /// A database error.
    pub async fn connector_version_keys(&self) -> Result<Vec<VersionKey>> {
        let rows = sqlx::query(
            "SELECT sha256, name, version FROM connector_versions \
             ORDER BY installed_at, name, version",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(VersionKey {
                    name: row.text("name")?,
                    version: row.text("version")?,
                    sha256: row.text("sha256")?,
                })
            })
            .collect()
    }

    /// One installed version, bytes included.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a digest not stored; a database error.
    pub async fn connector_version(&self, sha256: &str) -> Result<StoredVersion> {
        let row = sqlx::query(
            "SELECT sha256, name, version, component, installed_at FROM connector_versions \
             WHERE sha256 = $1",
        )
        .bind(sha256.to_owned())
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("version de connecteur"))?;
        super::version(&row)
    }
}
