//! `guichet connector check | call | schema`: a component file by hand,
//! without a database. `check` validates a component and prints its
//! description; `call` runs one operation against a live vendor with an
//! instance configuration from a file (its input refused with the path of
//! the wrong value, the call's logs and HTTP exchanges on standard error);
//! `schema` prints the JSON Schemas of the calls
//! ([`crate::connectors::model::schemas`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{print_json, printable};
use crate::cli::Failure;
use crate::connectors::host::MemoryAttachments;
use crate::connectors::journal::MemoryJournal;
use crate::connectors::model::{
    LookupQuery, Operation, RemoteIdInput, Request, SmsMessage, TransmitInput,
};
use crate::connectors::{ConnectorVersion, Instance, InstanceConfig, Runtime, RuntimeConfig};
use crate::service::connectors as service;

pub(super) fn runtime(
    cache_dir: Option<PathBuf>,
) -> Result<(Runtime, Arc<MemoryJournal>), Failure> {
    let dir = cache_dir.unwrap_or_else(|| std::env::temp_dir().join("guichet-cache"));
    let journal = Arc::new(MemoryJournal::new(100));
    let mut config = RuntimeConfig::new(dir);
    // One call at a time: no pool to reserve for a command-line run.
    config.max_concurrent_calls = 4;
    let runtime =
        Runtime::new(config, journal.clone()).map_err(|e| Failure::input(e.to_string()))?;
    Ok((runtime, journal))
}

/// Loads the component `file` as `connector install` would: within the
/// size an install accepts ([`service::COMPONENT_LIMIT`]), compiled and
/// validated.
///
/// # Errors
/// [`Failure::input`] naming the file and what is wrong.
pub(super) async fn load(runtime: &Runtime, file: &Path) -> Result<Arc<ConnectorVersion>, Failure> {
    let size = std::fs::metadata(file)
        .map_err(|e| Failure::input(format!("lecture impossible de {} : {e}", file.display())))?
        .len();
    if size > service::COMPONENT_LIMIT as u64 {
        return Err(Failure::input(format!(
            "{} dépasse la taille admise d'un composant ({} Mio)",
            file.display(),
            service::COMPONENT_LIMIT / (1024 * 1024)
        )));
    }
    runtime
        .load_file(file)
        .await
        .map_err(|e| Failure::input(printable(&format!("{} : {e}", file.display()))))
}

pub(super) async fn check(file: &Path, cache_dir: Option<PathBuf>) -> Result<(), Failure> {
    let (runtime, _) = runtime(cache_dir)?;
    let version = load(&runtime, file).await?;
    let denied = version.denied_imports();
    if !denied.is_empty() {
        eprintln!(
            "{}",
            printable(&format!(
                "Importations liées à une implémentation qui refuse tout (aucun accès à l'exécution) : {}",
                denied.join(", ")
            ))
        );
    }
    let mut report =
        serde_json::to_value(version.description()).map_err(|e| Failure::input(e.to_string()))?;
    if let Some(object) = report.as_object_mut() {
        object.insert("denied_imports".into(), denied.into());
    }
    print_json(&report)
}

pub(super) async fn call(
    file: &Path,
    config: &Path,
    operation: &str,
    input: Option<&str>,
    attachments: &[String],
    cache_dir: Option<PathBuf>,
) -> Result<(), Failure> {
    let operation = Operation::parse(operation).ok_or_else(|| {
        Failure::input(format!(
            "opération inconnue « {operation} » (describe, check, transmit, status, lookup, card, send_sms)"
        ))
    })?;
    let (runtime, journal) = runtime(cache_dir)?;
    let version = load(&runtime, file).await?;
    let config = read_config(config, version.name())?;
    let instance = Arc::new(
        Instance::new(config, version.description()).map_err(|e| Failure::input(e.to_string()))?,
    );
    let request = request(operation, input)?;
    let files = read_attachments(attachments)?;
    let result = runtime
        .call(&version, &instance, request, Some(Arc::new(files)))
        .await;
    for record in journal
        .records()
        .iter()
        .filter(|r| r.operation == operation)
    {
        for log in &record.logs {
            let fields: String = log
                .fields
                .iter()
                .map(|(k, v)| format!(" {k}={v}"))
                .collect();
            eprintln!(
                "[{}] {}",
                log.level,
                printable(&format!("{}{fields}", log.message))
            );
        }
        for exchange in &record.http {
            let outcome = exchange
                .status
                .map(|s| s.to_string())
                .or_else(|| exchange.error.clone())
                .unwrap_or_default();
            eprintln!(
                "{}",
                printable(&format!(
                    "http {} {} → {} ({:.0} ms)",
                    exchange.method, exchange.url, outcome, exchange.duration_ms
                ))
            );
        }
    }
    match result {
        Ok(response) => print_json(&response),
        // The message names its kind already (« introuvable : … »); the
        // exit code tells a script that the call itself failed.
        Err(e) => Err(Failure::call(printable(&e.to_string()))),
    }
}

/// Prints the JSON Schema `name` ([`crate::connectors::model::schemas`]),
/// or their names for `list`.
pub(super) fn schema(name: &str) -> Result<(), Failure> {
    let schemas = crate::connectors::model::schemas();
    if name == "list" {
        let names: Vec<&str> = schemas.iter().map(|(name, _)| *name).collect();
        crate::cli::say(&names.join("\n"));
        return Ok(());
    }
    match schemas.into_iter().find(|(known, _)| *known == name) {
        Some((_, schema)) => print_json(&schema),
        None => Err(Failure::input(format!(
            "schéma inconnu « {} » : `guichet connector schema list` les nomme",
            printable(name)
        ))),
    }
}

/// Reads an instance configuration file; `id` defaults to `cli` and
/// `connector` to the component's name.
fn read_config(path: &Path, connector: &str) -> Result<InstanceConfig, Failure> {
    config_from(read_json_object(path)?, path, connector)
}

/// The JSON object of the file at `path`.
pub(super) fn read_json_object(path: &Path) -> Result<serde_json::Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("lecture impossible de {} : {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::input(format!("{} n'est pas du JSON valide : {e}", path.display()))
    })?;
    if !value.is_object() {
        return Err(Failure::input(format!(
            "{} doit contenir un objet JSON",
            path.display()
        )));
    }
    Ok(value)
}

/// An instance configuration from the JSON object read at `path`; `id`
/// defaults to `cli` and `connector` to the component's name. An error
/// names the value's path (`settings.base_url`…).
pub(super) fn config_from(
    mut value: serde_json::Value,
    path: &Path,
    connector: &str,
) -> Result<InstanceConfig, Failure> {
    if let Some(object) = value.as_object_mut() {
        object.entry("id").or_insert_with(|| "cli".into());
        object
            .entry("connector")
            .or_insert_with(|| connector.into());
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        Failure::input(format!(
            "configuration {} invalide : {} : {}",
            path.display(),
            e.path(),
            e.inner()
        ))
    })
}

fn request(operation: Operation, input: Option<&str>) -> Result<Request, Failure> {
    let input = match input {
        Some(text) if text.starts_with('@') => {
            Some(std::fs::read_to_string(&text[1..]).map_err(|e| {
                Failure::input(format!("lecture impossible de {} : {e}", &text[1..]))
            })?)
        }
        other => other.map(str::to_string),
    };
    let value: serde_json::Value = match &input {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| Failure::input(format!("entrée JSON invalide : {e}")))?,
        None => serde_json::json!({}),
    };
    match operation {
        Operation::Describe => Ok(Request::Describe),
        Operation::Check => Ok(Request::Check),
        Operation::Transmit => parse::<TransmitInput>(
            operation,
            value,
            r#"{"demande": {…}, "idempotency_key": "…"}"#,
        )
        .map(|input| Request::Transmit {
            demande: Box::new(input.demande),
            idempotency_key: input.idempotency_key,
        }),
        Operation::Status => {
            parse::<RemoteIdInput>(operation, value, r#"{"remote_id": "…"}"#).map(|input| {
                Request::Status {
                    remote_id: input.remote_id,
                }
            })
        }
        Operation::Card => {
            parse::<RemoteIdInput>(operation, value, r#"{"remote_id": "…"}"#).map(|input| {
                Request::Card {
                    remote_id: input.remote_id,
                }
            })
        }
        Operation::Lookup => parse::<LookupQuery>(
            operation,
            value,
            r#"{"source": "…", "q"?: "…", "id"?: "…", "params"?: {…}}"#,
        )
        .map(Request::Lookup),
        Operation::SendSms => parse::<SmsMessage>(
            operation,
            value,
            r#"{"to": "+33…", "text": "…", "idempotency_key": "…"}"#,
        )
        .map(Request::SendSms),
    }
}

/// `value` as the input of `operation`, which looks like `what`.
fn parse<T: serde::de::DeserializeOwned>(
    operation: Operation,
    value: serde_json::Value,
    what: &str,
) -> Result<T, Failure> {
    if !value.is_object() {
        return Err(Failure::input(format!(
            "l'opération « {operation} » attend {what}"
        )));
    }
    serde_path_to_error::deserialize(value).map_err(|e| invalid_input(operation, what, &e))
}

/// The refusal of a call's input: what the operation expects, and the
/// error at its path in the input (`demande.fields[0].value: missing field
/// \`type\``; the JSON Schema is `guichet connector schema <operation>.input`).
fn invalid_input(
    operation: Operation,
    what: &str,
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> Failure {
    let path = error.path().to_string();
    let at = if path == "." {
        String::new()
    } else {
        format!(" à « {path} »")
    };
    Failure::input(format!(
        "entrée invalide pour « {operation} » ({what}){at} : {} (schéma : guichet connector schema {operation}.input)",
        error.inner()
    ))
}

pub(super) fn read_attachments(specs: &[String]) -> Result<MemoryAttachments, Failure> {
    let mut files = HashMap::new();
    for spec in specs {
        let (id, path) = spec.split_once('=').ok_or_else(|| {
            Failure::input(format!(
                "pièce jointe « {spec} » : forme ID=CHEMIN attendue"
            ))
        })?;
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::input(format!("lecture impossible de {path} : {e}")))?;
        files.insert(id.to_string(), bytes);
    }
    Ok(MemoryAttachments(files))
}
