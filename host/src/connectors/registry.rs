//! Installed connector versions and configured instances, with hot swap.
//!
//! A connector version, once installed, never changes: installing the same
//! name and version with other bytes is refused (as a released WIT version is
//! frozen). Each instance points at one active version; [`Registry::activate`]
//! swaps the pointer atomically — calls already running finish on the version
//! they started with (they hold an `Arc` of it), new calls use the new one —
//! and keeps the previous version for [`Registry::rollback`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::error::{CallError, InstallError};
use super::host::AttachmentSource;
use super::instance::{ConfigError, Instance, InstanceConfig};
use super::model::{
    Availability, Card, Demande, LookupItem, LookupQuery, Receipt, RemoteStatus, Request, Response,
};
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

/// What an administrator sees of an instance.
#[derive(Clone, Debug, serde::Serialize)]
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
}

struct Slot {
    config: InstanceConfig,
    instance: Arc<Instance>,
    active: Arc<ConnectorVersion>,
    previous: Option<Arc<ConnectorVersion>>,
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

    fn add(&self, loaded: Arc<ConnectorVersion>) -> Result<Arc<ConnectorVersion>, RegistryError> {
        let mut state = self.write();
        let versions = state.versions.entry(loaded.name().to_string()).or_default();
        if let Some(existing) = versions.iter().find(|v| v.version() == loaded.version()) {
            if existing.digest() == loaded.digest() {
                return Ok(existing.clone());
            }
            return Err(RegistryError::VersionConflict {
                name: loaded.name().to_string(),
                version: loaded.version().to_string(),
            });
        }
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
        let mut state = self.write();
        let active = Self::find_version(&state, &config.connector, version)?;
        let instance = Arc::new(Instance::new(config.clone(), active.description())?);
        let previous = state.instances.get(&config.id).map(|s| s.active.clone());
        let slot = Slot {
            config,
            instance,
            active,
            previous,
        };
        let info = info(&slot);
        state.instances.insert(info.id.clone(), slot);
        Ok(info)
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
        let mut state = self.write();
        let (config, current) = {
            let slot = state
                .instances
                .get(instance_id)
                .ok_or_else(|| RegistryError::UnknownInstance(instance_id.to_string()))?;
            (slot.config.clone(), slot.active.clone())
        };
        let next = Self::find_version(&state, &config.connector, Some(version))?;
        let instance = Arc::new(Instance::new(config, next.description())?);
        let slot = state
            .instances
            .get_mut(instance_id)
            .ok_or_else(|| RegistryError::UnknownInstance(instance_id.to_string()))?;
        slot.instance = instance;
        slot.previous = Some(current);
        slot.active = next;
        tracing::info!(
            instance = instance_id,
            version,
            "connector version activated"
        );
        Ok(info(slot))
    }

    /// Returns an instance to its previous version.
    ///
    /// # Errors
    /// Unknown instance; no previous version.
    pub fn rollback(&self, instance_id: &str) -> Result<InstanceInfo, RegistryError> {
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
        self.activate(instance_id, &previous)
    }

    /// What an administrator sees of an instance.
    pub fn instance(&self, instance_id: &str) -> Option<InstanceInfo> {
        self.read().instances.get(instance_id).map(info)
    }

    /// Every instance.
    pub fn instances(&self) -> Vec<InstanceInfo> {
        self.read().instances.values().map(info).collect()
    }

    /// Calls one operation on an instance's active version.
    ///
    /// # Errors
    /// Unknown instance, or the call's [`CallError`].
    pub async fn call(
        &self,
        instance_id: &str,
        request: Request,
        attachments: Option<Arc<dyn AttachmentSource>>,
    ) -> Result<Response, RegistryError> {
        let (version, instance) = {
            let state = self.read();
            let slot = state
                .instances
                .get(instance_id)
                .ok_or_else(|| RegistryError::UnknownInstance(instance_id.to_string()))?;
            (slot.active.clone(), slot.instance.clone())
        };
        Ok(self
            .runtime
            .call(&version, &instance, request, attachments)
            .await?)
    }

    /// `check` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn check(&self, instance_id: &str) -> Result<Availability, RegistryError> {
        match self.call(instance_id, Request::Check, None).await? {
            Response::Check(a) => Ok(a),
            other => Err(unexpected(other)),
        }
    }

    /// `transmit` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn transmit(
        &self,
        instance_id: &str,
        demande: Demande,
        idempotency_key: &str,
        attachments: Option<Arc<dyn AttachmentSource>>,
    ) -> Result<Receipt, RegistryError> {
        let request = Request::Transmit {
            demande: Box::new(demande),
            idempotency_key: idempotency_key.to_string(),
        };
        match self.call(instance_id, request, attachments).await? {
            Response::Transmit(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// `status` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn status(
        &self,
        instance_id: &str,
        remote_id: &str,
    ) -> Result<RemoteStatus, RegistryError> {
        let request = Request::Status {
            remote_id: remote_id.to_string(),
        };
        match self.call(instance_id, request, None).await? {
            Response::Status(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// `lookup` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn lookup(
        &self,
        instance_id: &str,
        query: LookupQuery,
    ) -> Result<Vec<LookupItem>, RegistryError> {
        match self.call(instance_id, Request::Lookup(query), None).await? {
            Response::Lookup(items) => Ok(items),
            other => Err(unexpected(other)),
        }
    }

    /// `card` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn card(&self, instance_id: &str, remote_id: &str) -> Result<Card, RegistryError> {
        let request = Request::Card {
            remote_id: remote_id.to_string(),
        };
        match self.call(instance_id, request, None).await? {
            Response::Card(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(response: Response) -> RegistryError {
    RegistryError::Call(CallError::Host(format!(
        "réponse inattendue : {response:?}"
    )))
}

fn info(slot: &Slot) -> InstanceInfo {
    InstanceInfo {
        id: slot.config.id.clone(),
        connector: slot.config.connector.clone(),
        version: slot.active.version().to_string(),
        previous_version: slot.previous.as_ref().map(|p| p.version().to_string()),
        allowed_hosts: slot.instance.outbound().allowed_entries(),
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
