//! The connector registry, persisted: install a component version,
//! configure an instance, activate a version, roll back — each written to
//! the store before it takes effect in the running registry — and, at
//! start, every stored version and instance put back in the registry
//! ([`restore`]); while it runs, what other processes changed in the
//! store ([`watch`], [`refresh`]).
//!
//! The order of each change is: check it in the registry (the component is
//! valid; the settings fit the connector's schema) without applying it,
//! write it to the store, apply it in memory. A refused change writes
//! nothing; a store failure leaves the running registry as it was. Changes
//! are serialised within a host, so two administrators cannot interleave
//! their check and their write.
//!
//! How the platform uses an instance — which data source proves an account
//! link and what an usager may give it (`super::links`), how often
//! transmitted records are read back (`super::synchronisation`) — is
//! configured with it ([`configure_with_use`]) or apart ([`set_use`]),
//! checked against the connector's description, and kept by the store
//! beside the instance: activations and rollbacks leave it as it is.
//!
//! Secrets: the settings the active version's schema marks `"x-secret"`
//! are handed to the store apart, sealed at rest (see
//! `guichet_store::registry`), and never returned: what callers get is an
//! [`InstanceInfo`], whose secrets read [`SECRET_MASK`]. A secret given as
//! [`SECRET_MASK`] in a new configuration keeps its current value, so an
//! administrator can send back what they read with one value changed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use guichet_core::validation::ErrorCode as FieldCode;
use guichet_store::registry::{InstanceUse, StoredInstance, StoredVersion};
use guichet_store::{Store, StoreError};
use serde_json::{Map, Value};

use super::{Guichet, ServiceError};
use crate::connectors::model::Description;
use crate::connectors::registry::{InstanceInfo, Pending, RegistryError, SECRET_MASK};
use crate::connectors::{ConnectorVersion, InstanceConfig, Registry};

/// The largest component accepted, in bytes (64 MiB). First-party
/// connectors weigh about 300 KiB; a language runtime is carried inside
/// the component: an empty componentize-py 0.25.1 connector (CPython)
/// weighs 18.3 MB, a ComponentizeJS 0.23.0 one (SpiderMonkey) 12 MB.
pub const COMPONENT_LIMIT: usize = 64 * 1024 * 1024;

/// The longest interval of the status synchronisation an instance may
/// set: a week, in minutes.
pub const MAX_SYNC_MINUTES: u32 = 7 * 24 * 60;

/// The most parameters an instance's link may ask usagers.
pub const MAX_LINK_PARAMS: usize = 20;

/// Serialises the changes of this host's registry (check, write, apply).
static CHANGES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Installs a component: validated and described by the runtime, stored by
/// its SHA-256, then added to the registry. Installing the same bytes again
/// changes nothing.
///
/// # Errors
/// [`ServiceError::Registry`] for an invalid component or a version
/// installed with other bytes; [`ServiceError::Store`] when the store
/// fails or another host stored this version with other bytes.
pub async fn install(
    guichet: &Guichet,
    component: Vec<u8>,
) -> Result<Arc<ConnectorVersion>, ServiceError> {
    let _serial = CHANGES.lock().await;
    let version = guichet.registry.check_install(component.clone()).await?;
    guichet
        .store
        .save_connector_version(&StoredVersion {
            name: version.name().to_owned(),
            version: version.version().to_owned(),
            sha256: version.digest().to_owned(),
            component,
            installed_at: guichet.now(),
        })
        .await?;
    Ok(guichet.registry.add(version)?)
}

/// Creates or replaces an instance on `version` (the latest installed when
/// `None`); secrets given as [`SECRET_MASK`] keep their current value.
///
/// # Errors
/// [`ServiceError::Registry`] for an unknown connector or version or
/// settings refused by the connector's schema (nothing written);
/// [`ServiceError::Store`].
pub async fn configure(
    guichet: &Guichet,
    mut config: InstanceConfig,
    version: Option<&str>,
) -> Result<InstanceInfo, ServiceError> {
    let _serial = CHANGES.lock().await;
    if let Some(current) = guichet.registry.config(&config.id) {
        keep_masked_secrets(&mut config.settings, &current.settings);
    }
    let pending = guichet.registry.prepare_configure(config, version)?;
    persist(guichet, pending).await
}

/// Creates or replaces an instance on `version` (as [`configure`]) with
/// how the platform uses it (`uses`: the link source and the usager's
/// parameters, the synchronisation's interval), checked against the
/// connector's description and written in the same transaction.
///
/// # Errors
/// As [`configure`]; [`ServiceError::InstanceUse`] for a link source the
/// connector does not serve, or usager parameters the source does not
/// take (nothing written).
pub async fn configure_with_use(
    guichet: &Guichet,
    mut config: InstanceConfig,
    version: Option<&str>,
    uses: InstanceUse,
) -> Result<(InstanceInfo, InstanceUse), ServiceError> {
    let _serial = CHANGES.lock().await;
    if let Some(current) = guichet.registry.config(&config.id) {
        keep_masked_secrets(&mut config.settings, &current.settings);
    }
    let pending = guichet.registry.prepare_configure(config, version)?;
    check_use(pending.version().description(), &uses)?;
    guichet
        .store
        .save_configured_instance(&stored(&pending, guichet.now()), &uses)
        .await?;
    Ok((guichet.registry.apply(pending), uses))
}

/// Replaces how the platform uses a running instance, checked against
/// its active version's description.
///
/// # Errors
/// [`ServiceError::Registry`] for an unknown instance;
/// [`ServiceError::InstanceUse`] as in [`configure_with_use`];
/// [`ServiceError::Store`].
pub async fn set_use(
    guichet: &Guichet,
    instance: &str,
    uses: InstanceUse,
) -> Result<InstanceUse, ServiceError> {
    let _serial = CHANGES.lock().await;
    let info = guichet
        .registry
        .instance(instance)
        .ok_or_else(|| RegistryError::UnknownInstance(instance.to_owned()))?;
    let version = guichet
        .registry
        .versions(&info.connector)
        .into_iter()
        .find(|v| v.version() == info.version)
        .ok_or_else(|| RegistryError::UnknownInstance(instance.to_owned()))?;
    check_use(version.description(), &uses)?;
    guichet
        .store
        .save_instance_use(instance, &uses, guichet.now())
        .await?;
    Ok(uses)
}

/// How the platform uses an instance (nothing set: no link, the
/// démarches' interval).
///
/// # Errors
/// [`ServiceError::Store`].
pub async fn instance_use(guichet: &Guichet, instance: &str) -> Result<InstanceUse, ServiceError> {
    Ok(guichet.store.instance_use(instance).await?)
}

/// The link source is one the connector serves, the usager's parameters
/// are among the source's, and the interval is at least a minute.
fn check_use(description: &Description, uses: &InstanceUse) -> Result<(), ServiceError> {
    match uses.sync_every_minutes {
        Some(0) => {
            return Err(ServiceError::InstanceUse {
                setting: "sync_every_minutes".into(),
                code: FieldCode::NombreTropPetit,
                message: "l'intervalle de lecture doit être d'au moins une minute".into(),
            });
        }
        Some(minutes) if minutes > MAX_SYNC_MINUTES => {
            return Err(ServiceError::InstanceUse {
                setting: "sync_every_minutes".into(),
                code: FieldCode::NombreTropGrand,
                message: format!(
                    "l'intervalle de lecture ne dépasse pas une semaine ({MAX_SYNC_MINUTES} minutes)"
                ),
            });
        }
        _ => {}
    }
    let Some(link) = &uses.link else {
        return Ok(());
    };
    let names = || {
        description
            .data_sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(source) = description
        .data_sources
        .iter()
        .find(|s| s.name == link.source)
    else {
        return Err(ServiceError::InstanceUse {
            setting: "link.source".into(),
            code: FieldCode::ChoixInconnu,
            message: format!(
                "le connecteur « {} » ne sert pas de source de données « {} » (sources : {})",
                description.name,
                link.source,
                names()
            ),
        });
    };
    if link.usager_params.is_empty() || link.usager_params.len() > MAX_LINK_PARAMS {
        return Err(ServiceError::InstanceUse {
            setting: "link.usager_params".into(),
            code: FieldCode::ChoixTropPeu,
            message: format!(
                "indiquez de 1 à {MAX_LINK_PARAMS} paramètres que l'usager donne pour prouver le rattachement (parmi : {})",
                source.params.join(", ")
            ),
        });
    }
    if let Some(other) = link
        .usager_params
        .iter()
        .find(|p| !source.params.contains(p))
    {
        return Err(ServiceError::InstanceUse {
            setting: "link.usager_params".into(),
            code: FieldCode::ChoixInconnu,
            message: format!(
                "la source « {} » ne prend pas de paramètre « {other} » (paramètres : {})",
                source.name,
                source.params.join(", ")
            ),
        });
    }
    Ok(())
}

/// Makes `version` the active version of an instance; the version active
/// until now is kept for a rollback.
///
/// # Errors
/// [`ServiceError::Registry`] for an unknown instance or version, or a
/// configuration the version's schema refuses; [`ServiceError::Store`].
pub async fn activate(
    guichet: &Guichet,
    instance: &str,
    version: &str,
) -> Result<InstanceInfo, ServiceError> {
    let _serial = CHANGES.lock().await;
    let pending = guichet.registry.prepare_activate(instance, version)?;
    persist(guichet, pending).await
}

/// Returns an instance to its previous version.
///
/// # Errors
/// [`ServiceError::Registry`] for an unknown instance or one without a
/// previous version; [`ServiceError::Store`].
pub async fn rollback(guichet: &Guichet, instance: &str) -> Result<InstanceInfo, ServiceError> {
    let _serial = CHANGES.lock().await;
    let pending = guichet.registry.prepare_rollback(instance)?;
    persist(guichet, pending).await
}

/// Writes a checked change, then applies it.
async fn persist(guichet: &Guichet, pending: Pending) -> Result<InstanceInfo, ServiceError> {
    guichet
        .store
        .save_connector_instance(&stored(&pending, guichet.now()))
        .await?;
    Ok(guichet.registry.apply(pending))
}

/// `settings` with each value equal to [`SECRET_MASK`] replaced by the
/// current value of the same key, when there is one.
fn keep_masked_secrets(settings: &mut Value, current: &Value) {
    let (Value::Object(settings), Value::Object(current)) = (settings, current) else {
        return;
    };
    for (key, value) in settings.iter_mut() {
        if value.as_str() == Some(SECRET_MASK)
            && let Some(kept) = current.get(key)
        {
            *value = kept.clone();
        }
    }
}

/// The stored form of a checked change: the secrets of its version's
/// schema apart from the other settings.
fn stored(pending: &Pending, now: DateTime<Utc>) -> StoredInstance {
    let config = pending.config();
    let secret_keys = pending.version().description().secret_keys();
    let mut settings = Map::new();
    let mut secrets = Map::new();
    if let Value::Object(all) = &config.settings {
        for (key, value) in all {
            if secret_keys.contains(key) {
                secrets.insert(key.clone(), value.clone());
            } else {
                settings.insert(key.clone(), value.clone());
            }
        }
    }
    StoredInstance {
        id: config.id.clone(),
        connector: config.connector.clone(),
        version: pending.version().version().to_owned(),
        previous_version: pending.previous_version().map(str::to_owned),
        settings,
        secrets,
        allowed_hosts: config.allowed_hosts.clone(),
        timeout_ms: config.timeout_ms,
        memory_mib: config.memory_mib,
        http: serde_json::to_value(&config.http).unwrap_or(Value::Null),
        updated_at: now,
    }
}

/// The configuration of a stored instance, its secrets back among its
/// settings.
fn config_of(stored: StoredInstance) -> InstanceConfig {
    let mut settings = stored.settings;
    settings.extend(stored.secrets);
    InstanceConfig {
        id: stored.id,
        connector: stored.connector,
        settings: Value::Object(settings),
        allowed_hosts: stored.allowed_hosts,
        timeout_ms: stored.timeout_ms,
        memory_mib: stored.memory_mib,
        http: serde_json::from_value(stored.http).unwrap_or_default(),
    }
}

/// What [`restore`] put back.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Versions loaded.
    pub versions: usize,
    /// Instances active again.
    pub instances: usize,
    /// Versions or instances that could not be put back (each logged).
    pub skipped: usize,
}

/// Puts every stored version and instance back in `registry` (at start).
/// A version the runtime no longer accepts, or an instance its version
/// refuses, is logged and skipped: the others still run.
///
/// # Errors
/// [`StoreError`] when the store cannot be read (a secret that does not
/// open under the master key included).
pub async fn restore(store: &Store, registry: &Registry) -> Result<Restored, StoreError> {
    let mut restored = Restored::default();
    for stored in store.connector_versions().await? {
        let (name, version) = (stored.name.clone(), stored.version.clone());
        match registry.install(stored.component).await {
            Ok(_) => restored.versions += 1,
            Err(error) => {
                restored.skipped += 1;
                tracing::error!(connector = name, version, %error, "stored connector version not loaded");
            }
        }
    }
    for stored in store.connector_instances().await? {
        let (version, previous) = (stored.version.clone(), stored.previous_version.clone());
        let id = stored.id.clone();
        match registry.restore(config_of(stored), &version, previous.as_deref()) {
            Ok(_) => restored.instances += 1,
            Err(error) => {
                restored.skipped += 1;
                tracing::error!(instance = id, version, %error, "stored connector instance not restored");
            }
        }
    }
    Ok(restored)
}

/// Brings `registry` in line with the store after another process changed
/// it (another host of the same PostgreSQL database, or the command line):
/// loads the versions it lacks, and puts back each instance whose stored
/// version, previous version or configuration differ from what runs.
/// Instances that match are left alone, so a refresh with nothing new
/// costs two reads. Runs under the same lock as this host's own changes,
/// so it never applies a state older than one of them.
///
/// # Errors
/// [`StoreError`] when the store cannot be read.
pub async fn refresh(store: &Store, registry: &Registry) -> Result<Restored, StoreError> {
    let _serial = CHANGES.lock().await;
    let mut refreshed = Restored::default();
    for key in store.connector_version_keys().await? {
        let known = registry
            .versions(&key.name)
            .iter()
            .any(|v| v.version() == key.version && v.digest() == key.sha256);
        if known {
            continue;
        }
        let stored = store.connector_version(&key.sha256).await?;
        match registry.install(stored.component).await {
            Ok(_) => refreshed.versions += 1,
            Err(error) => {
                refreshed.skipped += 1;
                tracing::error!(connector = key.name, version = key.version, %error, "stored connector version not loaded");
            }
        }
    }
    for stored in store.connector_instances().await? {
        let running = registry
            .instance(&stored.id)
            .map(|i| (i.version, i.previous_version));
        let (version, previous) = (stored.version.clone(), stored.previous_version.clone());
        let config = config_of(stored);
        if running.as_ref() == Some(&(version.clone(), previous.clone()))
            && registry.config(&config.id).as_ref() == Some(&config)
        {
            continue;
        }
        let id = config.id.clone();
        match registry.restore(config, &version, previous.as_deref()) {
            Ok(_) => {
                refreshed.instances += 1;
                tracing::info!(
                    instance = id,
                    version,
                    "connector instance reloaded from the store"
                );
            }
            Err(error) => {
                refreshed.skipped += 1;
                tracing::error!(instance = id, version, %error, "stored connector instance not reloaded");
            }
        }
    }
    Ok(refreshed)
}

/// How often a host compares its registry with the store when nothing
/// told it of a change (see [`watch`]).
pub const REGISTRY_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps this host's registry in line with the store, forever (the host
/// aborts the task at shutdown): on PostgreSQL, [`refresh`] as soon as any
/// host announces a change (`LISTEN`, see
/// `guichet_store::registry::watch`); on both backends, every `poll` as
/// well (`None`: only on announcements), which catches what a lost
/// notification or the command line on a SQLite file changed.
pub async fn watch(store: Store, registry: Arc<Registry>, poll: Option<std::time::Duration>) {
    let mut listener = match store.registry_listener().await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, "registry changes are not listened to; polling only");
            None
        }
    };
    loop {
        let announced = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.map(Some),
                None => std::future::pending().await,
            }
        };
        let polled = async {
            match poll {
                Some(poll) => tokio::time::sleep(poll).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = announced => {
                if let Err(error) = received {
                    tracing::warn!(%error, "registry listener lost; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            }
            () = polled => {}
        }
        if let Err(error) = refresh(&store, &registry).await {
            tracing::warn!(%error, "registry not refreshed from the store");
        }
    }
}

impl From<RegistryError> for ServiceError {
    fn from(error: RegistryError) -> Self {
        ServiceError::Registry(Box::new(error))
    }
}
