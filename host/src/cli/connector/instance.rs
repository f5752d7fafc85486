//! `guichet connector instance create | update | check`: configure an
//! instance of an installed connector (its configuration from a JSON file —
//! the body of `PUT /api/connectors/instances/{id}` — and from flags), and
//! run its availability check against the vendor. Configurations go
//! through the use case of the admin API
//! ([`crate::service::connectors::configure`]): checked against the
//! connector's JSON Schema, one French message per wrong value, secrets
//! sealed; the check through [`crate::service::journal::by_hand`], journaled.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Target, instance_text, printable, printable_lines};
use crate::cli::Failure;
use crate::connectors::InstanceConfig;
use crate::connectors::instance::ConfigError;
use crate::connectors::registry::RegistryError;
use crate::service::connectors as service;
use crate::service::{Guichet, ServiceError, journal};

/// The instance verbs.
#[derive(Debug, Subcommand)]
pub(in crate::cli) enum Command {
    /// Creates an instance of an installed connector (refused if it exists).
    Create {
        /// The instance (`atal-ville`: lowercase letters, digits, dashes).
        id: String,
        /// The connector (`atal`), unless the configuration file names it.
        #[arg(long)]
        connector: Option<String>,
        #[command(flatten)]
        change: Change,
    },
    /// Changes an existing instance: what is given replaces its value
    /// (settings key by key), the rest is kept, secrets included.
    Update {
        /// The instance (`atal-ville`).
        id: String,
        #[command(flatten)]
        change: Change,
    },
    /// Runs the instance's availability check against the vendor and
    /// prints the answer (exit code 2 when the vendor is not available).
    Check {
        /// The instance (`atal-ville`).
        id: String,
        #[command(flatten)]
        target: Target,
    },
}

/// A configuration given on the command line.
#[derive(Debug, clap::Args)]
pub(in crate::cli) struct Change {
    /// A JSON file: `{"connector"?, "version"?, "settings"?,
    /// "allowed_hosts"?, "timeout_ms"?, "memory_mib"?}`, as the API takes.
    #[arg(long, value_name = "FICHIER.json")]
    config: Option<PathBuf>,
    /// The version to run (installed); the latest at creation, the active
    /// one at an update, when absent.
    #[arg(long)]
    version: Option<String>,
    /// A setting given as text: `CLÉ=VALEUR`, repeatable.
    #[arg(long = "setting", value_name = "CLÉ=VALEUR")]
    settings: Vec<String>,
    /// A setting given as JSON (a number, a list…): `CLÉ=JSON`, repeatable.
    #[arg(long = "setting-json", value_name = "CLÉ=JSON")]
    json_settings: Vec<String>,
    /// An allowed outbound destination `scheme://host:port`, repeatable;
    /// the list given replaces the instance's.
    #[arg(long = "allowed-host", value_name = "URL")]
    allowed_hosts: Vec<String>,
    /// Call deadline in milliseconds (default 10,000).
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Memory cap of one call in MiB (default 64).
    #[arg(long)]
    memory_mib: Option<u64>,
    #[command(flatten)]
    target: Target,
}

/// The configuration file: the body of the API's configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    connector: Option<String>,
    version: Option<String>,
    #[serde(default)]
    settings: Map<String, Value>,
    allowed_hosts: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    memory_mib: Option<u64>,
}

/// What `instance check` prints.
#[derive(Debug, Serialize)]
struct Checked {
    instance: String,
    available: bool,
    message: String,
    remote_version: Option<String>,
}

pub(super) async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Create {
            id,
            connector,
            change,
        } => {
            let file = change.file()?;
            let app = change.target.open().await?;
            let guichet = app.state.guichet();
            let done = create(&guichet, id, connector, &change, file).await;
            app.state.store.close().await;
            let info = done?;
            change.target.answer(&info, || {
                format!("Instance créée.\n{}", instance_text(&info))
            })
        }
        Command::Update { id, change } => {
            let file = change.file()?;
            let app = change.target.open().await?;
            let guichet = app.state.guichet();
            let done = update(&guichet, id, &change, file).await;
            app.state.store.close().await;
            let info = done?;
            change.target.answer(&info, || {
                format!("Instance mise à jour.\n{}", instance_text(&info))
            })
        }
        Command::Check { id, target } => {
            let app = target.open().await?;
            let guichet = app.state.guichet();
            let answer = journal::by_hand(&guichet, guichet.registry.check(&id)).await;
            app.state.store.close().await;
            let checked = match answer {
                Ok(availability) => Checked {
                    instance: id,
                    available: availability.available,
                    message: availability.message,
                    remote_version: availability.remote_version,
                },
                Err(ServiceError::Registry(error)) if matches!(*error, RegistryError::Call(_)) => {
                    Checked {
                        instance: id,
                        available: false,
                        message: error.to_string(),
                        remote_version: None,
                    }
                }
                Err(other) => return Err(refusal(other)),
            };
            target.answer(&checked, || {
                let version = checked
                    .remote_version
                    .as_deref()
                    .map(|v| format!(" (version {v})"))
                    .unwrap_or_default();
                if checked.available {
                    format!(
                        "L'instance « {} » est disponible{version} : {}",
                        checked.instance, checked.message
                    )
                } else {
                    format!(
                        "L'instance « {} » n'est pas disponible : {}",
                        checked.instance, checked.message
                    )
                }
            })?;
            if checked.available {
                Ok(())
            } else {
                Err(Failure::call(printable(&format!(
                    "l'application métier de l'instance « {} » n'est pas disponible",
                    checked.instance
                ))))
            }
        }
    }
}

async fn create(
    guichet: &Guichet,
    id: String,
    connector: Option<String>,
    change: &Change,
    file: ConfigFile,
) -> Result<crate::connectors::registry::InstanceInfo, Failure> {
    if guichet.registry.config(&id).is_some() {
        return Err(Failure::input(printable(&format!(
            "l'instance « {id} » existe déjà : modifiez-la avec « guichet connector instance update {id} »"
        ))));
    }
    let connector = connector.or(file.connector.clone()).ok_or_else(|| {
        Failure::input(
            "le connecteur est à donner : --connector NOM (ou \"connector\" dans le fichier)",
        )
    })?;
    let version = change.version.clone().or(file.version.clone());
    let mut config = InstanceConfig {
        id,
        connector,
        settings: Value::Object(Map::new()),
        allowed_hosts: Vec::new(),
        timeout_ms: None,
        memory_mib: None,
        http: Default::default(),
    };
    change.apply(&mut config, file)?;
    service::configure(guichet, config, version.as_deref())
        .await
        .map_err(refusal)
}

async fn update(
    guichet: &Guichet,
    id: String,
    change: &Change,
    file: ConfigFile,
) -> Result<crate::connectors::registry::InstanceInfo, Failure> {
    let (Some(mut config), Some(current)) =
        (guichet.registry.config(&id), guichet.registry.instance(&id))
    else {
        return Err(Failure::input(printable(&format!(
            "instance de connecteur inconnue : « {id} » (créez-la avec « guichet connector instance create {id} »)"
        ))));
    };
    if let Some(other) = file.connector.as_deref().filter(|c| *c != config.connector) {
        return Err(Failure::input(printable(&format!(
            "l'instance « {id} » est configurée pour « {} », pas pour « {other} »",
            config.connector
        ))));
    }
    let version = change
        .version
        .clone()
        .or(file.version.clone())
        .unwrap_or(current.version);
    change.apply(&mut config, file)?;
    service::configure(guichet, config, Some(&version))
        .await
        .map_err(refusal)
}

impl Change {
    /// The configuration file, read and parsed, or an empty one.
    fn file(&self) -> Result<ConfigFile, Failure> {
        let Some(path) = &self.config else {
            return Ok(ConfigFile::default());
        };
        read_file(path)
    }

    /// Sets on `config` what the file then the flags give.
    fn apply(&self, config: &mut InstanceConfig, file: ConfigFile) -> Result<(), Failure> {
        let mut settings = match std::mem::take(&mut config.settings) {
            Value::Object(settings) => settings,
            _ => Map::new(),
        };
        settings.extend(file.settings);
        for spec in &self.settings {
            let (key, value) = split(spec, "--setting")?;
            settings.insert(key.to_owned(), Value::String(value.to_owned()));
        }
        for spec in &self.json_settings {
            let (key, value) = split(spec, "--setting-json")?;
            let value = serde_json::from_str(value).map_err(|e| {
                Failure::input(printable(&format!(
                    "--setting-json {key} : JSON invalide ({e})"
                )))
            })?;
            settings.insert(key.to_owned(), value);
        }
        config.settings = Value::Object(settings);
        if let Some(hosts) = file.allowed_hosts {
            config.allowed_hosts = hosts;
        }
        if !self.allowed_hosts.is_empty() {
            config.allowed_hosts.clone_from(&self.allowed_hosts);
        }
        config.timeout_ms = self.timeout_ms.or(file.timeout_ms).or(config.timeout_ms);
        config.memory_mib = self.memory_mib.or(file.memory_mib).or(config.memory_mib);
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<ConfigFile, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::input(printable(&format!(
            "lecture impossible de {} : {e}",
            path.display()
        )))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::input(printable(&format!(
            "{} : configuration illisible ({e}) ; attendu {{\"connector\"?, \"version\"?, \"settings\"?, \"allowed_hosts\"?, \"timeout_ms\"?, \"memory_mib\"?}}",
            path.display()
        )))
    })
}

/// `CLÉ=VALEUR` split at its first `=`.
fn split<'a>(spec: &'a str, flag: &str) -> Result<(&'a str, &'a str), Failure> {
    spec.split_once('=')
        .filter(|(key, _)| !key.trim().is_empty())
        .ok_or_else(|| {
            Failure::input(printable(&format!(
                "{flag} « {spec} » : forme CLÉ=VALEUR attendue"
            )))
        })
}

/// A refused configuration in French: one line per wrong value, as the API
/// lists them in `errors`.
fn refusal(error: ServiceError) -> Failure {
    if let ServiceError::Registry(registry) = &error
        && let RegistryError::Config(ConfigError::Schema {
            connector,
            settings,
            ..
        }) = registry.as_ref()
        && !settings.is_empty()
    {
        let lines: Vec<String> = settings
            .iter()
            .map(|problem| {
                let path: String = std::iter::once("settings")
                    .chain(problem.pointer.split('/').filter(|p| !p.is_empty()))
                    .collect::<Vec<_>>()
                    .join(".");
                format!("  {path} : {}", problem.message)
            })
            .collect();
        return Failure::input(printable_lines(&format!(
            "configuration invalide pour le connecteur « {connector} » :\n{}",
            lines.join("\n")
        )));
    }
    Failure::input(printable(&error.to_string()))
}
