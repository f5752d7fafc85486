//! `guichet connector journal [--instance I] [--connector C] [--demande D]
//! [--limit N]`: the durable journal of connector calls, the latest first,
//! as administrators read it through the API
//! ([`crate::service::journal::entries`]); secrets masked, as recorded.

use guichet_core::id::DemandeId;

use super::{Target, printable};
use crate::cli::Failure;
use crate::http::connectors::JournalEntry;
use crate::service::journal::{self, Filter};

/// The filters of `guichet connector journal`.
#[derive(Debug, clap::Args)]
pub(in crate::cli) struct Args {
    /// Only the calls of this instance (`atal-ville`).
    #[arg(long)]
    instance: Option<String>,
    /// Only the calls of this connector (`atal`, every version).
    #[arg(long)]
    connector: Option<String>,
    /// Only the calls made for this demande (its identifier).
    #[arg(long)]
    demande: Option<uuid::Uuid>,
    /// The newest calls to list (100 by default, 1,000 at most).
    #[arg(long)]
    limit: Option<u32>,
    #[command(flatten)]
    target: Target,
}

pub(super) async fn run(args: Args) -> Result<(), Failure> {
    let app = args.target.open().await?;
    let guichet = app.state.guichet();
    let filter = Filter {
        instance: args.instance,
        connector: args.connector,
        demande: args.demande.map(DemandeId::from_uuid),
        limit: args.limit,
    };
    let listed = journal::entries(&guichet, filter).await;
    app.state.store.close().await;
    let entries: Vec<JournalEntry> = listed
        .map_err(|e| Failure::input(printable(&e.to_string())))?
        .into_iter()
        .map(JournalEntry::from)
        .collect();
    args.target.answer(&entries, || {
        if entries.is_empty() {
            return "Aucun appel journalisé.".to_owned();
        }
        entries
            .iter()
            .map(|entry| line(entry, &guichet))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// One entry as a line of text, its time in the collectivité's zone.
fn line(entry: &JournalEntry, guichet: &crate::service::Guichet) -> String {
    let mut text = format!(
        "{} {} ({} {}) {} : {} en {} ms",
        guichet.zone.local(entry.at).format("%d/%m/%Y %H:%M:%S"),
        entry.instance,
        entry.connector,
        entry.version,
        entry.operation,
        outcome_text(&entry.outcome),
        entry.duration_ms
    );
    if let Some(demande) = entry.demande {
        text.push_str(&format!(", demande {demande}"));
    }
    if let Some(job) = entry.job {
        text.push_str(&format!(", tâche {job}"));
    }
    if let Some(error) = &entry.error {
        text.push_str(&format!(" — {error}"));
    }
    text
}

/// An outcome in French.
fn outcome_text(outcome: &str) -> &str {
    match outcome {
        "ok" => "réussi",
        "connector_error" => "erreur du connecteur",
        "trap" => "arrêt brutal",
        "timeout" => "délai dépassé",
        "memory_limit" => "mémoire dépassée",
        "host_error" => "erreur de la plateforme",
        other => other,
    }
}
