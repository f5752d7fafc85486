//! `guichet connector verify <file.wasm> --config <file.json>`: the
//! conformance run of a connector against the vendor's own test server,
//! through the same runtime and sandbox as `guichet serve`.
//!
//! The configuration file is an instance's (`settings`, `allowed_hosts`,
//! `timeout_ms`…, as `connector call` takes it) with a `verify` object: the
//! demande `transmit` sends and each data source's query
//! (`{"demande": {…}, "lookups": {"<source>": {"q": "…", "params": {…}}},
//! "remote_id": "…"}`). For the operations the component declares, it
//! checks, in this order:
//! 1. describe: the configuration schema compiles (as at install) and the
//!    settings are valid against it;
//! 2. check: the vendor says it is available;
//! 3. each declared data source: a search with `q` (empty by default)
//!    finds at least one item, and that item's `id` fetches exactly it;
//! 4. transmit, twice with the same idempotency key: one remote id;
//! 5. status and card of that remote id (or of `verify.remote_id` when
//!    `transmit` is not declared).
//!
//! Each check prints one French line (`ok` or `ÉCHEC`, and why); the exit
//! code is 0 when every check passed, 2 when one failed, 1 when the input
//! itself is wrong (unreadable file, invalid JSON, no demande to transmit).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::component::{config_from, load, read_attachments, read_json_object, runtime};
use super::printable;
use crate::cli::Failure;
use crate::connectors::model::{Demande, LookupQuery, Operation, Request, Response};
use crate::connectors::{ConnectorVersion, Instance, Runtime};

/// What `connector verify` is given.
#[derive(Debug, clap::Args)]
pub(in crate::cli) struct Args {
    /// The component (`.wasm`).
    file: PathBuf,
    /// The instance's configuration with its `verify` object (JSON).
    #[arg(long, value_name = "FICHIER.json")]
    config: PathBuf,
    /// Attachment content for transmit: `ID=PATH`, repeatable.
    #[arg(long = "attachment", value_name = "ID=PATH")]
    attachments: Vec<String>,
    /// Directory of the precompiled-component cache.
    #[arg(long, env = "GUICHET_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

/// The `verify` object of the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inputs {
    /// The demande `transmit` sends (required when it is declared).
    #[serde(default)]
    demande: Option<Box<Demande>>,
    /// Per data source: the search and its parameters.
    #[serde(default)]
    lookups: BTreeMap<String, Search>,
    /// A remote record for `status` and `card` when `transmit` is not
    /// declared.
    #[serde(default)]
    remote_id: Option<String>,
}

/// The search of one data source.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    /// Free text (default: empty, which should list some items).
    #[serde(default)]
    q: Option<String>,
    /// The source's parameters.
    #[serde(default)]
    params: BTreeMap<String, String>,
}

/// The report: one line per check.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
    passed: usize,
    failed: usize,
}

impl Report {
    fn pass(&mut self, check: &str, detail: impl AsRef<str>) {
        self.passed += 1;
        self.lines
            .push(printable(&format!("ok     {check} — {}", detail.as_ref())));
    }

    fn fail(&mut self, check: &str, why: impl AsRef<str>) {
        self.failed += 1;
        self.lines
            .push(printable(&format!("ÉCHEC  {check} — {}", why.as_ref())));
    }

    fn note(&mut self, check: &str, detail: &str) {
        self.lines
            .push(printable(&format!("—      {check} — {detail}")));
    }
}

/// The connector's instance under verification.
struct Subject {
    runtime: Runtime,
    version: Arc<ConnectorVersion>,
    instance: Arc<Instance>,
    attachments: Arc<crate::connectors::host::MemoryAttachments>,
}

impl Subject {
    fn declares(&self, operation: Operation) -> bool {
        self.version.description().operations.contains(&operation)
    }

    async fn call(&self, request: Request) -> Result<Response, String> {
        self.runtime
            .call(
                &self.version,
                &self.instance,
                request,
                Some(self.attachments.clone()),
            )
            .await
            .map_err(|e| e.to_string())
    }
}

/// Runs the checks and prints the report.
///
/// # Errors
/// [`Failure::input`] (exit code 1) for a component that does not load or
/// a configuration file that cannot be used; [`Failure::call`] (exit code
/// 2) when a check failed.
pub(in crate::cli) async fn run(args: Args) -> Result<(), Failure> {
    let (runtime, _journal) = runtime(args.cache_dir)?;
    let version = load(&runtime, &args.file).await?;
    let (config, inputs) = read(&args.config, version.name())?;
    if version
        .description()
        .operations
        .contains(&Operation::Transmit)
        && inputs.demande.is_none()
    {
        return Err(Failure::input(format!(
            "{} : le connecteur déclare « transmit » : indiquez la demande à transmettre dans verify.demande",
            args.config.display()
        )));
    }
    let attachments = Arc::new(read_attachments(&args.attachments)?);
    let mut report = Report::default();
    let description = version.description().clone();
    match Instance::new(config, &description) {
        Ok(instance) => {
            report.pass(
                "describe",
                format!(
                    "{} {} : schéma de configuration valide, réglages conformes",
                    description.name, description.version
                ),
            );
            let subject = Subject {
                runtime,
                version,
                instance: Arc::new(instance),
                attachments,
            };
            verify(&subject, inputs, &mut report).await;
        }
        Err(e) => report.fail("describe", format!("configuration refusée : {e}")),
    }
    let total = report.passed + report.failed;
    super::super::say(&report.lines.join("\n"));
    if report.failed > 0 {
        return Err(Failure::call(format!(
            "{} vérification(s) en échec sur {total}",
            report.failed
        )));
    }
    super::super::say(&format!("Conforme : {total} vérifications réussies."));
    Ok(())
}

/// Reads the configuration file: the instance's configuration, and the
/// `verify` object (its errors given with their path).
fn read(
    path: &Path,
    connector: &str,
) -> Result<(crate::connectors::InstanceConfig, Inputs), Failure> {
    let mut value = read_json_object(path)?;
    let inputs = match value.as_object_mut().and_then(|o| o.remove("verify")) {
        Some(verify) => serde_path_to_error::deserialize::<_, Inputs>(verify).map_err(|e| {
            Failure::input(format!(
                "{} : verify.{} : {}",
                path.display(),
                e.path(),
                e.inner()
            ))
        })?,
        None => Inputs::default(),
    };
    Ok((config_from(value, path, connector)?, inputs))
}

async fn verify(subject: &Subject, inputs: Inputs, report: &mut Report) {
    if subject.declares(Operation::Check) {
        match subject.call(Request::Check).await {
            Ok(Response::Check(a)) if a.available => report.pass("check", a.message),
            Ok(Response::Check(a)) => report.fail("check", format!("indisponible : {}", a.message)),
            Ok(other) => report.fail("check", unexpected(&other)),
            Err(e) => report.fail("check", e),
        }
    } else {
        report.note("check", "non déclarée");
    }
    if subject.declares(Operation::Lookup) {
        for source in &subject.version.description().data_sources {
            let search = inputs.lookups.get(&source.name);
            lookup(subject, &source.name, search, report).await;
        }
    } else {
        report.note("lookup", "non déclarée");
    }
    let mut remote_id = inputs.remote_id;
    match inputs.demande {
        Some(demande) if subject.declares(Operation::Transmit) => {
            remote_id = transmit(subject, demande, report).await.or(remote_id);
        }
        _ => report.note("transmit", "non déclarée"),
    }
    for (operation, name) in [(Operation::Status, "status"), (Operation::Card, "card")] {
        if !subject.declares(operation) {
            report.note(name, "non déclarée");
            continue;
        }
        let Some(id) = &remote_id else {
            report.fail(
                name,
                "aucun identifiant distant à lire : transmit a échoué, ou indiquez verify.remote_id",
            );
            continue;
        };
        let request = match operation {
            Operation::Status => Request::Status {
                remote_id: id.clone(),
            },
            _ => Request::Card {
                remote_id: id.clone(),
            },
        };
        match subject.call(request).await {
            Ok(Response::Status(status)) => report.pass(
                name,
                format!("« {id} » : {} ({})", status.label, status.code),
            ),
            Ok(Response::Card(card)) => report.pass(
                name,
                format!(
                    "« {id} » : « {} », {} section(s)",
                    card.title,
                    card.sections.len()
                ),
            ),
            Ok(other) => report.fail(name, unexpected(&other)),
            Err(e) => report.fail(name, e),
        }
    }
}

/// Searches `source`, then fetches the first item found by its id.
async fn lookup(subject: &Subject, source: &str, search: Option<&Search>, report: &mut Report) {
    let q = search.and_then(|s| s.q.clone()).unwrap_or_default();
    let params = search.map(|s| s.params.clone()).unwrap_or_default();
    let check = format!("lookup {source} (q = « {q} »)");
    let query = LookupQuery {
        source: source.to_owned(),
        q: Some(q.clone()),
        id: None,
        params: params.clone(),
    };
    let first = match subject.call(Request::Lookup(query)).await {
        Ok(Response::Lookup(items)) => match items.first() {
            Some(first) => {
                report.pass(&check, format!("{} élément(s)", items.len()));
                first.clone()
            }
            None => {
                report.fail(
                    &check,
                    format!("aucun élément : indiquez une recherche qui en trouve dans verify.lookups.{source}.q"),
                );
                return;
            }
        },
        Ok(other) => return report.fail(&check, unexpected(&other)),
        Err(e) => return report.fail(&check, e),
    };
    let check = format!("lookup {source} (id = « {} »)", first.id);
    let query = LookupQuery {
        source: source.to_owned(),
        q: None,
        id: Some(first.id.clone()),
        params,
    };
    match subject.call(Request::Lookup(query)).await {
        Ok(Response::Lookup(items)) if items.len() == 1 && items[0].id == first.id => {
            report.pass(&check, format!("« {} »", items[0].text));
        }
        Ok(Response::Lookup(items)) => report.fail(
            &check,
            format!(
                "{} élément(s) ({}) au lieu du seul élément « {} »",
                items.len(),
                items
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                first.id
            ),
        ),
        Ok(other) => report.fail(&check, unexpected(&other)),
        Err(e) => report.fail(&check, e),
    }
}

/// Transmits the demande twice with one idempotency key; returns the
/// remote id when both gave the same.
async fn transmit(subject: &Subject, demande: Box<Demande>, report: &mut Report) -> Option<String> {
    let key = format!("guichet-verify-{}", uuid::Uuid::new_v4());
    let check = "transmit (deux fois, même clé d'idempotence)";
    let mut ids = Vec::new();
    for _ in 0..2 {
        let request = Request::Transmit {
            demande: demande.clone(),
            idempotency_key: key.clone(),
        };
        match subject.call(request).await {
            Ok(Response::Transmit(receipt)) => ids.push(receipt.remote_id),
            Ok(other) => {
                report.fail(check, unexpected(&other));
                return None;
            }
            Err(e) => {
                report.fail(check, e);
                return None;
            }
        }
    }
    if ids[0] == ids[1] {
        report.pass(check, format!("un seul dossier distant « {} »", ids[0]));
        Some(ids.swap_remove(0))
    } else {
        report.fail(
            check,
            format!(
                "deux dossiers distants « {} » puis « {} » : la clé d'idempotence n'est pas respectée",
                ids[0], ids[1]
            ),
        );
        None
    }
}

fn unexpected(response: &Response) -> String {
    format!(
        "réponse inattendue : {}",
        serde_json::to_string(response).unwrap_or_default()
    )
}
