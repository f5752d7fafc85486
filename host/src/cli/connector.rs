//! `guichet connector …`: a component file by hand, without a database
//! (`check`, `call`, `schema`: [`component`]; `verify`, the conformance
//! run against a vendor's test server: [`verify`]); a new connector
//! project ([`new`]); and administer the
//! persisted registry of the configuration's database (`install`, `list`,
//! `instances`, `activate`, `rollback`, `instance create|update|check`
//! ([`instance`]), the call journal ([`journal`]) and the failed jobs
//! (`dead-letters`, [`dead_letters`]): the same database, data directory
//! and master key options as `guichet serve`), through the same use cases
//! as the admin API ([`crate::service::connectors`],
//! [`crate::service::journal`], [`crate::service::administration::jobs`]).
//! A running `guichet serve` sees what these commands change in the
//! registry at its next start. Readable French text by default, JSON with
//! `--json`.
//!
//! Everything printed that a connector could have written (its description,
//! answers, logs, exchanges, errors) goes through [`printable`] or
//! [`print_json`]: control characters are escaped, so a connector cannot send
//! terminal escape sequences to the person running the command.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use super::Failure;
use super::serve::Database;
use crate::app::App;
use crate::connectors::ConnectorVersion;
use crate::connectors::registry::InstanceInfo;
use crate::service::connectors as service;

mod component;
mod dead_letters;
mod instance;
mod journal;
mod new;
mod verify;

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Validates a component and prints its description as JSON.
    Check {
        /// The component (`.wasm`).
        file: PathBuf,
        /// Directory of the precompiled-component cache.
        #[arg(long, env = "GUICHET_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Runs one operation by hand against a live vendor and prints the answer.
    ///
    /// INPUT is JSON: transmit `{"demande": {…}, "idempotency_key": "…"}`;
    /// status and card `{"remote_id": "…"}`; lookup `{"source": "…", "q": "…"}`;
    /// check and describe take none.
    Call {
        /// The component (`.wasm`).
        file: PathBuf,
        /// Instance configuration (JSON: settings, allowed_hosts, timeout_ms…).
        #[arg(long)]
        config: PathBuf,
        /// describe, check, transmit, status, lookup or card.
        operation: String,
        /// The operation's input, as JSON (or `@file.json`).
        input: Option<String>,
        /// Attachment content for transmit: `ID=PATH`, repeatable.
        #[arg(long = "attachment", value_name = "ID=PATH")]
        attachments: Vec<String>,
        /// Directory of the precompiled-component cache.
        #[arg(long, env = "GUICHET_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Creates a connector project to start from: Cargo project on the
    /// SDK, stubbed operations, native tests, README, `instance.json`.
    New(new::Args),
    /// Runs the conformance checks of a component against the vendor's
    /// test server (exit code 2 when one fails).
    Verify(verify::Args),
    /// Prints a JSON Schema of the connector calls: `demande`, or
    /// `<operation>.input` / `<operation>.output` (`transmit.input`…).
    Schema {
        /// The schema's name; `list` lists them.
        name: String,
    },
    /// Installs a component in the database's registry (validated first; the
    /// same name and version with other bytes is refused).
    Install {
        /// The component (`.wasm`).
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Lists the installed connectors and their versions.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Lists the configured instances, their active and previous versions
    /// (secrets masked).
    Instances {
        #[command(flatten)]
        target: Target,
    },
    /// Makes an installed version the active version of an instance.
    Activate {
        /// The instance (`atal-ville`).
        instance: String,
        /// The version (`1.2.0`).
        version: String,
        #[command(flatten)]
        target: Target,
    },
    /// Returns an instance to its previous version.
    Rollback {
        /// The instance (`atal-ville`).
        instance: String,
        #[command(flatten)]
        target: Target,
    },
    /// Creates, updates or checks an instance.
    #[command(subcommand)]
    Instance(instance::Command),
    /// Lists the journal of connector calls, the latest first (secrets
    /// masked).
    Journal(journal::Args),
    /// Lists the jobs failed for good; `retry <id>` puts one back in the
    /// queue, `abandon <id>` gives it up for good.
    DeadLetters(dead_letters::Args),
}

/// The registry a command works on, and how it answers.
#[derive(Debug, clap::Args)]
pub(super) struct Target {
    #[command(flatten)]
    database: Database,
    /// Directory of the precompiled-component cache (default: `cache/` in
    /// the data directory).
    #[arg(long, env = "GUICHET_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Answer in JSON rather than in French text.
    #[arg(long)]
    json: bool,
}

pub(super) async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Install { file, target } => {
            let component = std::fs::read(&file).map_err(|e| {
                Failure::input(format!("lecture impossible de {} : {e}", file.display()))
            })?;
            if component.len() > service::COMPONENT_LIMIT {
                return Err(Failure::input(format!(
                    "{} dépasse la taille admise d'un composant ({} Mio)",
                    file.display(),
                    service::COMPONENT_LIMIT / (1024 * 1024)
                )));
            }
            let app = target.open().await?;
            let installed = service::install(&app.state.guichet(), component).await;
            app.state.store.close().await;
            let version = installed
                .map_err(|e| Failure::input(printable(&format!("{} : {e}", file.display()))))?;
            target.answer(&version_view(&version), || {
                format!(
                    "Connecteur « {} » version {} installé (sha256 {}).",
                    version.name(),
                    version.version(),
                    version.digest()
                )
            })
        }
        Command::List { target } => {
            let app = target.open().await?;
            let registry = &app.state.registry;
            let connectors: Vec<serde_json::Value> = registry
                .connectors()
                .into_iter()
                .map(|name| {
                    let versions: Vec<serde_json::Value> = registry
                        .versions(&name)
                        .iter()
                        .map(|v| version_view(v))
                        .collect();
                    serde_json::json!({ "name": name, "versions": versions })
                })
                .collect();
            app.state.store.close().await;
            target.answer(&connectors, || {
                if connectors.is_empty() {
                    return "Aucun connecteur installé.".to_owned();
                }
                let mut text = String::new();
                for connector in &connectors {
                    text.push_str(&format!("{}\n", connector["name"].as_str().unwrap_or("")));
                    for version in connector["versions"].as_array().into_iter().flatten() {
                        text.push_str(&format!(
                            "  version {} — {} octets, sha256 {}\n",
                            version["version"].as_str().unwrap_or(""),
                            version["size"],
                            version["sha256"].as_str().unwrap_or("")
                        ));
                    }
                }
                text.trim_end().to_owned()
            })
        }
        Command::Instances { target } => {
            let app = target.open().await?;
            let instances = app.state.registry.instances();
            app.state.store.close().await;
            target.answer(&instances, || {
                if instances.is_empty() {
                    return "Aucune instance configurée.".to_owned();
                }
                instances
                    .iter()
                    .map(instance_text)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        Command::Activate {
            instance,
            version,
            target,
        } => {
            let app = target.open().await?;
            let done = service::activate(&app.state.guichet(), &instance, &version).await;
            app.state.store.close().await;
            let info = done.map_err(|e| Failure::input(printable(&e.to_string())))?;
            target.answer(&info, || {
                format!(
                    "Version {} activée pour l'instance « {} ».",
                    info.version, info.id
                )
            })
        }
        Command::Rollback { instance, target } => {
            let app = target.open().await?;
            let done = service::rollback(&app.state.guichet(), &instance).await;
            app.state.store.close().await;
            let info = done.map_err(|e| Failure::input(printable(&e.to_string())))?;
            target.answer(&info, || {
                format!(
                    "L'instance « {} » est revenue à la version {}.",
                    info.id, info.version
                )
            })
        }
        Command::Instance(command) => instance::run(command).await,
        Command::Journal(args) => journal::run(args).await,
        Command::DeadLetters(args) => dead_letters::run(args).await,
        Command::New(args) => new::run(args),
        Command::Verify(args) => verify::run(args).await,
        Command::Schema { name } => component::schema(&name),
        Command::Check { file, cache_dir } => component::check(&file, cache_dir).await,
        Command::Call {
            file,
            config,
            operation,
            input,
            attachments,
            cache_dir,
        } => {
            component::call(
                &file,
                &config,
                &operation,
                input.as_deref(),
                &attachments,
                cache_dir,
            )
            .await
        }
    }
}

impl Target {
    /// The application of the configuration (its store, and its registry
    /// with every stored version and instance), not serving.
    async fn open(&self) -> Result<App, Failure> {
        let mut config = self
            .database
            .config(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        if let Some(dir) = &self.cache_dir {
            config.runtime.cache_dir = dir.clone();
        }
        // A command runs a few calls at most: no pool to reserve.
        config.runtime.pooling = false;
        config.runtime.max_concurrent_calls = 4;
        let clock: Arc<dyn guichet_core::clock::Clock> = Arc::new(guichet_core::clock::SystemClock);
        App::start(&config, clock)
            .await
            .map_err(|e| Failure::input(printable(&e.to_string())))
    }

    /// Prints `value` as JSON with `--json`, else the text `text` gives.
    fn answer(
        &self,
        value: &impl serde::Serialize,
        text: impl FnOnce() -> String,
    ) -> Result<(), Failure> {
        if self.json {
            print_json(value)
        } else {
            super::say(&printable_lines(&text()));
            Ok(())
        }
    }
}

/// What is shown of an installed version.
fn version_view(version: &ConnectorVersion) -> serde_json::Value {
    serde_json::json!({
        "name": version.name(),
        "version": version.version(),
        "sha256": version.digest(),
        "size": version.size(),
        "vendor": version.description().vendor,
    })
}

/// One instance, as a line of text.
fn instance_text(info: &InstanceInfo) -> String {
    format!(
        "{} : {} version {}{}, hôtes autorisés : {}",
        info.id,
        info.connector,
        info.version,
        info.previous_version
            .as_deref()
            .map(|p| format!(" (précédente : {p})"))
            .unwrap_or_default(),
        if info.allowed_hosts.is_empty() {
            "aucun".to_owned()
        } else {
            info.allowed_hosts.join(", ")
        }
    )
}

/// [`printable`] line by line: the line breaks of the text stay.
fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `c` may change what a terminal shows beyond printing itself:
/// control characters (C0, DEL, C1 such as the one-byte CSI) and the
/// bidirectional overrides.
fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unprintable character written as `\u{…}`, so it prints
/// as one line of plain text.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unprintable(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a JSON value to standard output, with every unprintable character
/// inside strings escaped as `\uXXXX` (serde_json leaves DEL, C1 and
/// bidirectional controls raw); the output stays valid JSON.
fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::input(e.to_string()))?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // Newlines outside strings are the pretty printer's; inside strings
        // serde_json has escaped them already.
        if c != '\n' && is_unprintable(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{out}").map_err(|e| Failure::input(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_in_printed_text() {
        let text = "ok\u{1b}[31mrouge\u{9b}2J\u{7f}\nligne\u{202e}";
        assert_eq!(
            printable(text),
            "ok\\u{1b}[31mrouge\\u{9b}2J\\u{7f}\\u{a}ligne\\u{202e}"
        );
    }
}
