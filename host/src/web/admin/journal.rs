//! `/admin/connecteurs/journal`: the journal of connector calls, the
//! latest first, filtered by instance, operation and outcome
//! (`service::journal::entries_of`, filtered by the store): when, which
//! instance and version, the operation, how long, how it ended and its
//! error, and the demande the call was made for, linked to its page in the
//! back office. Secrets are masked by the runtime before anything is
//! journaled.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::connectors::operation_label;
use super::{Admin, date_time};
use crate::connectors::model::Operation;
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::journal::{self as service, Filter};
use crate::web::back_office::Desk;
use crate::web::{ErrorView, Errors, Site, failure, page};

/// Entries a page shows.
const PAGE_ENTRIES: u32 = 100;

/// The operations one may filter on.
const OPERATIONS: [Operation; 6] = [
    Operation::Check,
    Operation::Transmit,
    Operation::Status,
    Operation::Card,
    Operation::Lookup,
    Operation::SendSms,
];

/// The outcomes one may filter on, with their words.
const OUTCOMES: [(&str, &str); 6] = [
    ("ok", "Réussi"),
    ("connector_error", "Erreur du connecteur"),
    ("trap", "Plantage du composant"),
    ("timeout", "Délai dépassé"),
    ("memory_limit", "Mémoire dépassée"),
    ("host_error", "Erreur de la plateforme"),
];

/// The filters, as the address holds them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filters {
    instance: String,
    operation: String,
    resultat: String,
}

/// A choice of a select.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The entries of `filter` of `operation` ended with `outcome` (each
/// when given), as listed.
///
/// # Errors
/// A store failure.
pub(super) async fn entries(
    state: &AppState,
    filter: Filter,
    operation: Option<&str>,
    outcome: Option<&str>,
) -> Result<Vec<EntryView>, ServiceError> {
    let found = service::entries_of(&state.guichet(), filter, operation, outcome).await?;
    let label_of = |name: &str| {
        Operation::parse(name).map_or_else(|| name.to_owned(), |o| operation_label(o).to_owned())
    };
    Ok(found
        .into_iter()
        .map(|(_, call)| EntryView {
            at: date_time(state, call.at),
            operation: label_of(&call.operation),
            ok: call.outcome == "ok",
            outcome: OUTCOMES
                .iter()
                .find(|(value, _)| *value == call.outcome)
                .map_or_else(|| call.outcome.clone(), |(_, label)| (*label).to_owned()),
            instance: call.instance,
            version: call.connector_version,
            duration_ms: call.duration_ms,
            error: call.error,
            demande: call
                .demande
                .map(|d| format!("/back-office/demandes/{}", d.uuid())),
        })
        .collect())
}

/// An entry as listed (`admin/calls.html`).
pub(super) struct EntryView {
    pub(super) at: String,
    pub(super) instance: String,
    pub(super) version: String,
    pub(super) operation: String,
    pub(super) duration_ms: u64,
    pub(super) ok: bool,
    pub(super) outcome: String,
    pub(super) error: Option<String>,
    /// The back office's page of the demande it was made for.
    pub(super) demande: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/journal.html")]
struct JournalPage {
    desk: Desk,
    instances: Vec<Choice>,
    operations: Vec<Choice>,
    outcomes: Vec<Choice>,
    entries: Vec<EntryView>,
    calls_caption: String,
    errors: Errors,
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Query(filters): Query<Filters>,
) -> Response {
    let mut errors = Vec::new();
    let operation = match filters.operation.as_str() {
        "" => None,
        name => match Operation::parse(name).filter(|o| OPERATIONS.contains(o)) {
            Some(operation) => Some(operation.as_str()),
            None => {
                errors.push(ErrorView::on(
                    "operation",
                    "Choisissez une opération de la liste.",
                ));
                None
            }
        },
    };
    let outcome = match filters.resultat.as_str() {
        "" => None,
        name => match OUTCOMES.iter().find(|(value, _)| *value == name) {
            Some((value, _)) => Some(*value),
            None => {
                errors.push(ErrorView::on(
                    "resultat",
                    "Choisissez un résultat de la liste.",
                ));
                None
            }
        },
    };
    let instance = Some(filters.instance.trim().to_owned()).filter(|i| !i.is_empty());
    let filter = Filter {
        instance,
        limit: Some(PAGE_ENTRIES),
        ..Filter::default()
    };
    let entries = match entries(&state, filter, operation, outcome).await {
        Ok(entries) => entries,
        Err(error) => return failure(&site, error),
    };
    let mut ids: Vec<String> = state
        .registry
        .instances()
        .into_iter()
        .map(|i| i.id)
        .collect();
    ids.sort();
    let errors = Errors(errors);
    page(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &JournalPage {
            desk: admin.desk(site),
            instances: ids
                .into_iter()
                .map(|id| Choice {
                    selected: id == filters.instance,
                    label: id.clone(),
                    value: id,
                })
                .collect(),
            operations: OPERATIONS
                .iter()
                .map(|o| Choice {
                    value: o.as_str().to_owned(),
                    label: operation_label(*o).to_owned(),
                    selected: o.as_str() == filters.operation,
                })
                .collect(),
            outcomes: OUTCOMES
                .iter()
                .map(|(value, label)| Choice {
                    value: (*value).to_owned(),
                    label: (*label).to_owned(),
                    selected: *value == filters.resultat,
                })
                .collect(),
            entries,
            calls_caption: format!(
                "Les {PAGE_ENTRIES} appels les plus récents au plus, du plus récent au plus ancien"
            ),
            errors,
        },
    )
}
