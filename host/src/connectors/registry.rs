//! Installed connector versions and configured instances, with hot swap.
//!
//! A connector version, once installed, never changes: installing the same
//! name and version with other bytes is refused (as a released WIT version is
//! frozen). Each instance points at one active version; [`Registry::activate`]
//! swaps the pointer atomically — calls already running finish on the version
//! they started with (they hold an `Arc` of it), new calls use the new one —
//! and keeps the previous version for [`Registry::rollback`].
//!
//! The registry itself lives in memory. Persistence is the application
//! layer's (`crate::service::connectors`): each change is first *prepared*
//! ([`Registry::prepare_configure`], [`Registry::prepare_activate`],
//! [`Registry::prepare_rollback`], [`Registry::check_install`]) — checked
//! against the schema, nothing changed yet —, then written to the store,
//! then [applied](Registry::apply) here; at start, [`Registry::restore`]
//! puts back each stored instance on its stored versions. The plain
//! [`Registry::configure`], [`Registry::activate`] and
//! [`Registry::rollback`] prepare and apply at once, in memory only (the
//! runtime's tests, `guichet connector call`).
//!
//! What an administrator sees of an instance ([`InstanceInfo`]) never holds
//! a secret: the settings the connector marks `"x-secret"` read
//! [`SECRET_MASK`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::error::{CallError, InstallError};
use super::instance::{ConfigError, Instance, InstanceConfig};
use super::lookups::Lookups;

mod calls;
use super::runtime::{ConnectorVersion, Runtime};

/// Why a registry operation failed. French messages for administrators.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Install failed.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// Instance configuration refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// Same name and version, other bytes.
    #[error(
        "la version {version} du connecteur « {name} » est déjà installée avec un autre contenu : publiez un nouveau numéro de version"
    )]
    VersionConflict {
        /// Connector.
        name: String,
        /// Version.
        version: String,
    },
    /// No such connector.
    #[error("connecteur inconnu : « {0} »")]
    UnknownConnector(String),
    /// No such version.
    #[error("version inconnue du connecteur « {name} » : {version}")]
    UnknownVersion {
        /// Connector.
        name: String,
        /// Version.
        version: String,
    },
    /// No such instance.
    #[error("instance de connecteur inconnue : « {0} »")]
    UnknownInstance(String),
    /// Nothing to roll back to.
    #[error("l'instance « {0} » n'a pas de version précédente")]
    NoPrevious(String),
}

impl RegistryError {
    /// Whether a job whose call failed so should be tried again later:
    /// when the connector says the vendor may answer later, when the
    /// instance is not configured yet on this host, or when the component
    /// itself failed (a trap, its memory cap, the host) — that is the
    /// version's fault, not the demande's, and an administrator may roll it
    /// back before the next attempt. Only the connector's own refusals
    /// (invalid input, rejected, not found, configuration) fail for good.
    pub fn worth_retrying(&self) -> bool {
        match self {
            RegistryError::Call(call) => {
                call.is_retryable()
                    || matches!(
                        call,
                        CallError::Trap(_) | CallError::MemoryLimit(_) | CallError::Host(_)
                    )
            }
            RegistryError::UnknownInstance(_) => true,
            _ => false,
        }
    }
}

/// What an administrator reads in place of a secret setting.
pub const SECRET_MASK: &str = "********";

/// What an administrator sees of an instance.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct InstanceInfo {
    /// Instance id.
    pub id: String,
    /// Connector name.
    pub connector: String,
    /// Active version.
    pub version: String,
    /// Version a rollback would return to.
    pub previous_version: Option<String>,
    /// Allowed hosts, normalised.
    pub allowed_hosts: Vec<String>,
    /// The settings, each secret one (`"x-secret"` in the connector's
    /// schema) replaced by [`SECRET_MASK`].
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Call deadline in milliseconds, when not the default (10,000).
    pub timeout_ms: Option<u64>,
    /// Memory cap of one call in MiB, when not the default (64).
    pub memory_mib: Option<u64>,
}

/// A change to one instance, checked against its connector's schema but
/// not applied yet: what to persist before [`Registry::apply`].
pub struct Pending {
    slot: Slot,
}

impl Pending {
    /// The instance's configuration, secrets included.
    pub fn config(&self) -> &InstanceConfig {
        &self.slot.config
    }

    /// The version it will be active on.
    pub fn version(&self) -> &ConnectorVersion {
        &self.slot.active
    }

    /// The version a rollback will return to.
    pub fn previous_version(&self) -> Option<&str> {
        self.slot.previous.as_ref().map(|p| p.version())
    }

    /// What an administrator will see of it.
    pub fn info(&self) -> InstanceInfo {
        info(&self.slot)
    }
}

struct Slot {
    config: InstanceConfig,
    instance: Arc<Instance>,
    active: Arc<ConnectorVersion>,
    previous: Option<Arc<ConnectorVersion>>,
    /// The kept data-source answers of this version and configuration.
    lookups: Arc<Lookups>,
}

#[derive(Default)]
struct State {
    versions: BTreeMap<String, Vec<Arc<ConnectorVersion>>>,
    instances: BTreeMap<String, Slot>,
}

/// Connector versions and instances of one platform.
pub struct Registry {
    runtime: Runtime,
    state: RwLock<State>,
}

impl Registry {
    /// An empty registry over `runtime`.
    pub fn new(runtime: Runtime) -> Self {
        Self {
            runtime,
            state: RwLock::new(State::default()),
        }
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs the component in `path`.
    ///
    /// # Errors
    /// See [`Registry::install`].
    pub async fn install_file(&self, path: &Path) -> Result<Arc<ConnectorVersion>, RegistryError> {
        let loaded = self.runtime.load_file(path).await?;
        self.add(loaded)
    }

    /// Installs a component. Installing the same bytes again is a no-op.
    ///
    /// # Errors
    /// [`RegistryError::Install`] for an invalid component,
    /// [`RegistryError::VersionConflict`] for a known version with other bytes.
    pub async fn install(&self, bytes: Vec<u8>) -> Result<Arc<ConnectorVersion>, RegistryError> {
        let loaded = self.runtime.load(bytes).await?;
        self.add(loaded)
    }

    /// Loads and describes a component as [`Registry::install`] does,
    /// without adding it: the version already installed when these bytes
    /// are, else the new one (for [`Registry::add`]).
    ///
    /// # Errors
    /// As [`Registry::install`].
    pub async fn check_install(
        &self,
        bytes: Vec<u8>,
    ) -> Result<Arc<ConnectorVersion>, RegistryError> {
        let loaded = self.runtime.load(bytes).await?;
        let state = self.read();
        match Self::same_version(&state, &loaded)? {
            Some(existing) => Ok(existing),
            None => Ok(loaded),
        }
    }

    /// The installed version of `loaded`'s name and version, if any.
    fn same_version(
        state: &State,
        loaded: &ConnectorVersion,
    ) -> Result<Option<Arc<ConnectorVersion>>, RegistryError> {
        let existing = state
            .versions
            .get(loaded.name())
            .and_then(|versions| versions.iter().find(|v| v.version() == loaded.version()));
        match existing {
            Some(existing) if existing.digest() == loaded.digest() => Ok(Some(existing.clone())),
            Some(_) => Err(RegistryError::VersionConflict {
                name: loaded.name().to_string(),
                version: loaded.version().to_string(),
            }),
            None => Ok(None),
        }
    }

    /// Adds a loaded version; adding the same bytes again is a no-op.
    ///
    /// # Errors
    /// [`RegistryError::VersionConflict`] for a known version with other
    /// bytes.
    pub fn add(
        &self,
        loaded: Arc<ConnectorVersion>,
    ) -> Result<Arc<ConnectorVersion>, RegistryError> {
        let mut state = self.write();
        if let Some(existing) = Self::same_version(&state, &loaded)? {
            return Ok(existing);
        }
        let versions = state.versions.entry(loaded.name().to_string()).or_default();
        versions.push(loaded.clone());
        versions.sort_by_key(|v| version_key(v.version()));
        tracing::info!(
            connector = loaded.name(),
            version = loaded.version(),
            "connector installed"
        );
        Ok(loaded)
    }

    /// Installed versions of `name`, oldest first.
    pub fn versions(&self, name: &str) -> Vec<Arc<ConnectorVersion>> {
        self.read().versions.get(name).cloned().unwrap_or_default()
    }

    /// Every installed connector name.
    pub fn connectors(&self) -> Vec<String> {
        self.read().versions.keys().cloned().collect()
    }

    fn find_version(
        state: &State,
        name: &str,
        version: Option<&str>,
    ) -> Result<Arc<ConnectorVersion>, RegistryError> {
        let versions = state
            .versions
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| RegistryError::UnknownConnector(name.to_string()))?;
        match version {
            None => versions
                .last()
                .cloned()
                .ok_or_else(|| RegistryError::UnknownConnector(name.to_string())),
            Some(wanted) => versions
                .iter()
                .find(|v| v.version() == wanted)
                .cloned()
                .ok_or_else(|| RegistryError::UnknownVersion {
                    name: name.to_string(),
                    version: wanted.to_string(),
                }),
        }
    }

    /// Creates or replaces an instance, on `version` (the latest when `None`).
    ///
    /// # Errors
    /// Unknown connector or version; configuration refused by the schema.
    pub fn configure(
        &self,
        config: InstanceConfig,
        version: Option<&str>,
    ) -> Result<InstanceInfo, RegistryError> {
        Ok(self.apply(self.prepare_configure(config, version)?))
    }

    /// Checks a new configuration of an instance, on `version` (the latest
    /// when `None`); the version active until now becomes the one a
    /// rollback returns to, unless it is the same.
    ///
    /// # Errors
    /// Unknown connector or version; configuration refused by the schema.
    pub fn prepare_configure(
        &self,
        config: InstanceConfig,
        version: Option<&str>,
    ) -> Result<Pending, RegistryError> {
        let state = self.read();
        let active = Self::find_version(&state, &config.connector, version)?;
        let current = state
            .instances
            .get(&config.id)
            .filter(|slot| slot.config.connector == config.connector);
        let previous = match current {
            Some(slot) if slot.active.digest() != active.digest() => Some(slot.active.clone()),
            Some(slot) => slot.previous.clone(),
            None => None,
        };
        drop(state);
        Self::pending(config, active, previous)
    }

    fn pending(
        config: InstanceConfig,
        active: Arc<ConnectorVersion>,
        previous: Option<Arc<ConnectorVersion>>,
    ) -> Result<Pending, RegistryError> {
        let instance = Arc::new(Instance::new(config.clone(), active.description())?);
        Ok(Pending {
            slot: Slot {
                config,
                instance,
                active,
                previous,
                lookups: Arc::default(),
            },
        })
    }

    /// Applies a prepared change: new calls use it, calls in flight finish
    /// on what they started with.
    pub fn apply(&self, pending: Pending) -> InstanceInfo {
        let info = info(&pending.slot);
        self.write().instances.insert(info.id.clone(), pending.slot);
        tracing::info!(
            instance = info.id,
            version = info.version,
            "connector instance configured"
        );
        info
    }

    /// Puts back a stored instance on its stored versions (at start). A
    /// previous version that is no longer installed is forgotten.
    ///
    /// # Errors
    /// Unknown connector or version; configuration refused by the schema.
    pub fn restore(
        &self,
        config: InstanceConfig,
        version: &str,
        previous_version: Option<&str>,
    ) -> Result<InstanceInfo, RegistryError> {
        let state = self.read();
        let active = Self::find_version(&state, &config.connector, Some(version))?;
        let previous = previous_version
            .and_then(|v| Self::find_version(&state, &config.connector, Some(v)).ok());
        drop(state);
        Ok(self.apply(Self::pending(config, active, previous)?))
    }

    /// Makes `version` the active version of an instance. The configuration is
    /// checked against that version's schema first; on failure nothing changes.
    ///
    /// # Errors
    /// Unknown instance or version; configuration refused by the new schema.
    pub fn activate(
        &self,
        instance_id: &str,
        version: &str,
    ) -> Result<InstanceInfo, RegistryError> {
        Ok(self.apply(self.prepare_activate(instance_id, version)?))
    }

    /// Checks the activation of `version` on an instance: the version active
    /// until now becomes the one a rollback returns to.
    ///
    /// # Errors
    /// Unknown instance or version; configuration refused by the new schema.
    pub fn prepare_activate(
        &self,
        instance_id: &str,
        version: &str,
    ) -> Result<Pending, RegistryError> {
        let state = self.read();
        let slot = state
            .instances
            .get(instance_id)
            .ok_or_else(|| RegistryError::UnknownInstance(instance_id.to_string()))?;
        let (config, current) = (slot.config.clone(), slot.active.clone());
        let next = Self::find_version(&state, &config.connector, Some(version))?;
        drop(state);
        Self::pending(config, next, Some(current))
    }

    /// Returns an instance to its previous version.
    ///
    /// # Errors
    /// Unknown instance; no previous version.
    pub fn rollback(&self, instance_id: &str) -> Result<InstanceInfo, RegistryError> {
        Ok(self.apply(self.prepare_rollback(instance_id)?))
    }

    /// Checks the return of an instance to its previous version (which the
    /// version active until now replaces, for a rollback of the rollback).
    ///
    /// # Errors
    /// Unknown instance; no previous version; configuration refused by the
    /// previous version's schema.
    pub fn prepare_rollback(&self, instance_id: &str) -> Result<Pending, RegistryError> {
        let previous = {
            let state = self.read();
            let slot = state
                .instances
                .get(instance_id)
                .ok_or_else(|| RegistryError::UnknownInstance(instance_id.to_string()))?;
            slot.previous
                .as_ref()
                .map(|p| p.version().to_string())
                .ok_or_else(|| RegistryError::NoPrevious(instance_id.to_string()))?
        };
        self.prepare_activate(instance_id, &previous)
    }

    /// The configuration of an instance, secrets included (for a change
    /// that keeps the secrets it is not given).
    pub fn config(&self, instance_id: &str) -> Option<InstanceConfig> {
        self.read()
            .instances
            .get(instance_id)
            .map(|slot| slot.config.clone())
    }

    /// What an administrator sees of an instance.
    pub fn instance(&self, instance_id: &str) -> Option<InstanceInfo> {
        self.read().instances.get(instance_id).map(info)
    }

    /// Every instance.
    pub fn instances(&self) -> Vec<InstanceInfo> {
        self.read().instances.values().map(info).collect()
    }
}

fn info(slot: &Slot) -> InstanceInfo {
    let secret_keys = slot.active.description().secret_keys();
    let settings = match &slot.config.settings {
        serde_json::Value::Object(settings) => settings
            .iter()
            .map(|(key, value)| {
                let shown = if secret_keys.contains(key) {
                    serde_json::Value::from(SECRET_MASK)
                } else {
                    value.clone()
                };
                (key.clone(), shown)
            })
            .collect(),
        _ => serde_json::Map::new(),
    };
    InstanceInfo {
        id: slot.config.id.clone(),
        connector: slot.config.connector.clone(),
        version: slot.active.version().to_string(),
        previous_version: slot.previous.as_ref().map(|p| p.version().to_string()),
        allowed_hosts: slot.instance.outbound().allowed_entries(),
        settings,
        timeout_ms: slot.config.timeout_ms,
        memory_mib: slot.config.memory_mib,
    }
}

/// Orders versions numerically (`1.10.0` after `1.9.0`); pre-releases first.
fn version_key(version: &str) -> (Vec<u64>, bool, String) {
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version.split('+').next().unwrap_or(version), None),
    };
    let numbers = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    (numbers, pre.is_none(), pre.unwrap_or("").to_string())
}
