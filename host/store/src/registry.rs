//! The connector registry as stored: installed component versions, by the
//! SHA-256 of their bytes, and configured instances, with their secrets
//! sealed.
//!
//! The host's registry (`guichet_host::connectors::registry`) runs the
//! components in memory; this module keeps what it must find again at the
//! next start (`App::start` loads every version and instance). A version is
//! immutable: storing the same name and version with other bytes is a
//! [`StoreError::Conflict`]. An instance is written whole at each change
//! (configuration, activation, rollback).
//!
//! # Secrets
//!
//! The settings a connector marks `"x-secret": true` in its configuration
//! schema arrive here apart ([`StoredInstance::secrets`]) and are sealed
//! ([`crate::seal`]) under a data key of the instance's own (`key_id`, in
//! `data_keys`, wrapped under the master key), with the column's name as
//! associated data: no copy of the database reveals them without the
//! master key, and a master-key rotation that rewraps `data_keys` carries
//! them along. The other settings, the allowed hosts and the limits are in
//! clear (an administrator reads them back).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::seal::{self, DataKey, key_columns};
use crate::sql::{RowExt, count, from_json, millis, to_json, unsigned};

pub mod watch;

/// The column of sealed secrets (associated data of their seal).
const SECRETS: &str = "connector_instances.secrets";

/// An installed connector version.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredVersion {
    /// The connector's name (`atal`).
    pub name: String,
    /// Its version (`1.2.0`).
    pub version: String,
    /// SHA-256 of the component, lowercase hexadecimal (64 characters).
    pub sha256: String,
    /// The component's bytes (a WebAssembly component).
    pub component: Vec<u8>,
    /// When it was first installed.
    pub installed_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredVersion")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("sha256", &self.sha256)
            .field("bytes", &self.component.len())
            .finish_non_exhaustive()
    }
}

/// A configured instance, as stored.
#[derive(Clone, PartialEq)]
pub struct StoredInstance {
    /// Instance id (`atal-ville`).
    pub id: String,
    /// Connector name.
    pub connector: String,
    /// Active version (an installed version of `connector`).
    pub version: String,
    /// The version a rollback returns to.
    pub previous_version: Option<String>,
    /// The settings that are not secret (a JSON object).
    pub settings: Map<String, Value>,
    /// The secret settings, sealed at rest (a JSON object).
    pub secrets: Map<String, Value>,
    /// Allowed outbound destinations, `scheme://host:port`.
    pub allowed_hosts: Vec<String>,
    /// Call deadline in milliseconds, when not the default.
    pub timeout_ms: Option<u64>,
    /// Memory cap in MiB, when not the default.
    pub memory_mib: Option<u64>,
    /// Outbound HTTP limits (the host's `HttpPolicy` as JSON).
    pub http: Value,
    /// When it was last written.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets.
        f.debug_struct("StoredInstance")
            .field("id", &self.id)
            .field("connector", &self.connector)
            .field("version", &self.version)
            .field("previous_version", &self.previous_version)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Stores an installed version; storing the same bytes again changes
    /// nothing. Returns whether it was new.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when this name and version are stored with
    /// other bytes; a database error.
    pub async fn save_connector_version(&self, version: &StoredVersion) -> Result<bool> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO connector_versions (sha256, name, version, component, installed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(version.sha256.clone())
        .bind(version.name.clone())
        .bind(version.version.clone())
        .bind(version.component.clone())
        .bind(millis(version.installed_at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        let stored =
            sqlx::query("SELECT sha256 FROM connector_versions WHERE name = $1 AND version = $2")
                .bind(version.name.clone())
                .bind(version.version.clone())
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.text("sha256"))
                .transpose()?;
        if stored.as_deref() != Some(version.sha256.as_str()) {
            return Err(StoreError::Conflict(format!(
                "la version {} du connecteur « {} » est déjà installée avec un autre contenu",
                version.version, version.name
            )));
        }
        if inserted {
            self.notify_registry(&mut *tx, &format!("version:{}", version.sha256))
                .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Every installed version, in the order they were installed.
    ///
    /// # Errors
    /// A database error.
    pub async fn connector_versions(&self) -> Result<Vec<StoredVersion>> {
        let rows = sqlx::query(
            "SELECT sha256, name, version, component, installed_at FROM connector_versions \
             ORDER BY installed_at, name, version",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(version).collect()
    }

    /// Creates or replaces an instance, its secrets sealed under its data
    /// key (created with the instance, kept on every rewrite).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when its version (or previous version) is not
    /// stored; a database error.
    pub async fn save_connector_instance(&self, instance: &StoredInstance) -> Result<()> {
        let mut tx = self.begin().await?;
        let query = format!(
            "SELECT {} FROM connector_instances i WHERE i.id = $1{}",
            key_columns("i.key_id"),
            self.for_update()
        );
        let existing = sqlx::query(&query)
            .bind(instance.id.clone())
            .fetch_optional(&mut *tx)
            .await?;
        let key = match existing.as_ref().map(|row| self.keys.of_row(row)) {
            Some(key) => key?,
            None => None,
        };
        let key = match key {
            Some(key) => key,
            None => self.keys.create(&mut tx, instance.updated_at).await?,
        };
        let secrets = seal::seal_json(Some(&key), SECRETS, &instance.secrets)?;
        sqlx::query(
            "INSERT INTO connector_instances (id, connector, version, previous_version, settings, \
             secrets, allowed_hosts, timeout_ms, memory_mib, http, key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (id) DO UPDATE SET connector = excluded.connector, \
             version = excluded.version, previous_version = excluded.previous_version, \
             settings = excluded.settings, secrets = excluded.secrets, \
             allowed_hosts = excluded.allowed_hosts, timeout_ms = excluded.timeout_ms, \
             memory_mib = excluded.memory_mib, http = excluded.http, key_id = excluded.key_id, \
             updated_at = excluded.updated_at",
        )
        .bind(instance.id.clone())
        .bind(instance.connector.clone())
        .bind(instance.version.clone())
        .bind(instance.previous_version.clone())
        .bind(to_json(&instance.settings)?)
        .bind(secrets)
        .bind(to_json(&instance.allowed_hosts)?)
        .bind(instance.timeout_ms.map(count))
        .bind(instance.memory_mib.map(count))
        .bind(to_json(&instance.http)?)
        .bind(key.id().to_owned())
        .bind(millis(instance.updated_at))
        .execute(&mut *tx)
        .await?;
        self.notify_registry(&mut *tx, &instance.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every instance, by id, its secrets opened.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when a secret does not open under the
    /// master key; a database error.
    pub async fn connector_instances(&self) -> Result<Vec<StoredInstance>> {
        let query = format!(
            "SELECT i.*, {} FROM connector_instances i ORDER BY i.id",
            key_columns("i.key_id")
        );
        let rows = sqlx::query(&query).fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| {
                let key = self.keys.of_row(row)?;
                instance(row, key.as_ref())
            })
            .collect()
    }
}

/// A row of `connector_versions`, all columns.
fn version(row: &AnyRow) -> Result<StoredVersion> {
    Ok(StoredVersion {
        name: row.text("name")?,
        version: row.text("version")?,
        sha256: row.text("sha256")?,
        component: row.try_get("component")?,
        installed_at: row.instant("installed_at")?,
    })
}

fn instance(row: &AnyRow, key: Option<&DataKey>) -> Result<StoredInstance> {
    Ok(StoredInstance {
        id: row.text("id")?,
        connector: row.text("connector")?,
        version: row.text("version")?,
        previous_version: row.text_opt("previous_version")?,
        settings: row.json("settings")?,
        secrets: seal::open_json(key, SECRETS, row.text("secrets")?)?,
        allowed_hosts: row.json("allowed_hosts")?,
        timeout_ms: row.int_opt("timeout_ms")?.map(unsigned),
        memory_mib: row.int_opt("memory_mib")?.map(unsigned),
        http: from_json(&row.text("http")?)?,
        updated_at: row.instant("updated_at")?,
    })
}
