//! What an agent's back office reads: the démarches they work on with
//! their rights, the processing table over what they may read, and one
//! demande as agents see it (deadline, lateness, agents' history, the
//! actions open to them now, its transmissions to vendors).
//!
//! Rights come from the caller ([`Caller::rights`], [`Caller::perimeter`]):
//! the table lists only the demandes of the démarches — and, for roles tied
//! to services, of the services — the agent may read
//! (`guichet_core::access::read_perimeter`); a filter on a démarche they
//! may not read is refused, not answered empty.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use guichet_core::access::Perimeter;
use guichet_core::actor::Actor;
use guichet_core::history::{HistoryEntry, agents_history};
use guichet_core::id::{Slug, StatusId};
use guichet_core::role::{GroupName, Right, Rights};
use guichet_core::validation::{ErrorCode, FieldError};
use guichet_core::workflow::deadline;
use guichet_core::workflow::{Transition, Workflow, agents_status};
use guichet_store::connector::{CallQuery, ConnectorCall};
use guichet_store::demande::{ProcessingPage, ProcessingQuery, ProcessingRow, TableSort};
use guichet_store::demarche::{CatalogueEntry, CatalogueQuery};

use super::processing::Loaded;
use super::transmission::{self, TransmissionState};
use super::{Caller, Guichet, ServiceError};

/// The rows a page of the table holds at most, and by default.
pub const TABLE_LIMITS: (u32, u32) = (200, 50);

/// The démarches whose back office the caller opens (the `back_office`
/// right), with the caller's rights on each, in catalogue order.
///
/// # Errors
/// A store failure.
pub async fn demarches(
    guichet: &Guichet,
    caller: &Caller,
) -> Result<Vec<(CatalogueEntry, Rights)>, ServiceError> {
    let entries = guichet
        .store
        .agent_catalogue(&CatalogueQuery::default())
        .await?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let rights = caller.rights(&entry.slug);
            rights
                .contains(Right::BackOffice)
                .then_some((entry, rights))
        })
        .collect())
}

/// The filters of the processing table, as the caller typed them.
#[derive(Debug, Clone, Default)]
pub struct TableRequest {
    /// One démarche's slug.
    pub demarche: Option<String>,
    /// Statuses (ids of the workflow).
    pub statuses: Vec<StatusId>,
    /// Only late (`true`) or not late (`false`) demandes.
    pub late: Option<bool>,
    /// Only demandes in progress past their reminder of at least this many
    /// days (15: the 15- or 21-day reminder sent); 0: those not flagged.
    pub reminder: Option<u32>,
    /// Only demandes on hold (`true`) or not on hold (`false`).
    pub on_hold: Option<bool>,
    /// A number, or words of the usager's account name (case ignored).
    pub search: Option<String>,
    /// The order: by deadline (default) or the most advanced reminder first.
    pub sort: TableSort,
    /// A service's name (primary or joint).
    pub service: Option<String>,
    /// Rows to skip.
    pub offset: u32,
    /// Rows to return: 1 to 200, 50 when absent ([`TABLE_LIMITS`]).
    pub limit: Option<u32>,
}

/// A line of the processing table with its status's label.
#[derive(Debug)]
pub struct TableRow {
    /// The line as the store reads it.
    pub row: ProcessingRow,
    /// The label of its status in its version's workflow (the id when the
    /// workflow does not know it).
    pub status_label: String,
}

/// A page of the processing table.
#[derive(Debug)]
pub struct Table {
    /// Rows matching, all pages.
    pub total: u64,
    /// This page, sorted by deadline (none last).
    pub rows: Vec<TableRow>,
}

/// How many demandes a status holds in the table, under its filters but
/// the statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// The status's id.
    pub status: StatusId,
    /// Its label in the workflow of a démarche listed (the id when none
    /// knows it).
    pub label: String,
    /// Demandes.
    pub count: u64,
}

/// The processing table over what the caller may read.
///
/// # Errors
/// `Forbidden` when the caller may read no démarche, or not the one asked
/// for; `Fields` (`service_invalide`) for a service name that cannot be
/// one; a store failure.
pub async fn table(
    guichet: &Guichet,
    caller: &Caller,
    request: TableRequest,
) -> Result<Table, ServiceError> {
    let query = processing_query(guichet, caller, request, Right::Read).await?;
    let page = guichet
        .store
        .processing_table(&query, guichet.now())
        .await?;
    labelled(guichet, page).await
}

/// The table's rows for an export: those of the démarches — and services —
/// where the caller may *work the processing table* (the `process` right,
/// PROCESS.md: Gestionnaire and above), under the same filters, at most
/// `limit` rows.
///
/// # Errors
/// As [`table`], the right asked being `process`.
pub async fn export(
    guichet: &Guichet,
    caller: &Caller,
    request: TableRequest,
    limit: u32,
) -> Result<Table, ServiceError> {
    let mut query = processing_query(guichet, caller, request, Right::Process).await?;
    query.offset = 0;
    query.limit = limit;
    let page = guichet
        .store
        .processing_table(&query, guichet.now())
        .await?;
    labelled(guichet, page).await
}

/// The number of demandes of each status in the table the caller reads,
/// under the request's filters but its statuses, in the order of the
/// statuses' ids.
///
/// # Errors
/// As [`table`].
pub async fn counts(
    guichet: &Guichet,
    caller: &Caller,
    request: TableRequest,
) -> Result<Vec<StatusCount>, ServiceError> {
    let query = processing_query(guichet, caller, request, Right::Read).await?;
    let counts = guichet
        .store
        .processing_counts(&query, guichet.now())
        .await?;
    let mut workflows = Vec::new();
    for entry in guichet
        .store
        .agent_catalogue(&CatalogueQuery::default())
        .await?
    {
        if query.demarches.iter().any(|(slug, _)| *slug == entry.slug) {
            let current = guichet
                .store
                .demarche_version(&entry.slug, entry.version)
                .await?;
            workflows.push(current.definition.workflow());
        }
    }
    Ok(counts
        .into_iter()
        .map(|(status, count)| StatusCount {
            label: workflows
                .iter()
                .find_map(|w| w.status(&status))
                .map_or_else(|| status.to_string(), |s| s.label.clone()),
            status,
            count,
        })
        .collect())
}

/// The store's query for a request over the démarches where the caller
/// holds `right`.
async fn processing_query(
    guichet: &Guichet,
    caller: &Caller,
    request: TableRequest,
    right: Right,
) -> Result<ProcessingQuery, ServiceError> {
    let readable: Vec<(Slug, Perimeter)> = guichet
        .store
        .agent_catalogue(&CatalogueQuery::default())
        .await?
        .into_iter()
        .map(|entry| {
            let perimeter = caller.perimeter(&entry.slug, right);
            (entry.slug, perimeter)
        })
        .filter(|(_, perimeter)| *perimeter != Perimeter::Nothing)
        .collect();
    let missing = || ServiceError::Forbidden(format!("droit manquant : {}", right.label()));
    let demarches = match request.demarche.filter(|s| !s.is_empty()) {
        Some(slug) => match readable.into_iter().find(|(s, _)| s.as_str() == slug) {
            Some(entry) => vec![entry],
            None => return Err(missing()),
        },
        None if readable.is_empty() => return Err(missing()),
        None => readable,
    };
    let service =
        match request.service.as_deref().filter(|s| !s.is_empty()) {
            Some(name) => Some(GroupName::parse(name).map_err(|e| {
                FieldError::new("service", ErrorCode::ServiceInvalide, e.to_string())
            })?),
            None => None,
        };
    let (max, default) = TABLE_LIMITS;
    Ok(ProcessingQuery {
        demarches,
        statuses: request.statuses,
        service,
        late: request.late,
        reminder: request.reminder,
        on_hold: request.on_hold,
        search: request.search.filter(|s| !s.trim().is_empty()),
        sort: request.sort,
        offset: request.offset,
        limit: request.limit.unwrap_or(default).clamp(1, max),
    })
}

/// A page of lines with the label of each line's status in its version's
/// workflow.
///
/// # Errors
/// A store failure reading a démarche version.
pub(crate) async fn labelled(
    guichet: &Guichet,
    page: ProcessingPage,
) -> Result<Table, ServiceError> {
    let mut workflows: HashMap<(Slug, u32), Arc<Workflow>> = HashMap::new();
    let mut rows = Vec::with_capacity(page.rows.len());
    for row in page.rows {
        let key = (row.demarche.slug.clone(), row.demarche.version);
        if !workflows.contains_key(&key) {
            let definition = guichet.store.demarche_version(&key.0, key.1).await?;
            workflows.insert(key.clone(), definition.definition.workflow());
        }
        let status_label = workflows
            .get(&key)
            .and_then(|w| w.status(&row.status))
            .map_or_else(|| row.status.to_string(), |s| s.label.clone());
        rows.push(TableRow { row, status_label });
    }
    Ok(Table {
        total: page.total,
        rows,
    })
}

/// The most journal entries listed for one demande.
pub const CALLS_LIMIT: u32 = 200;

/// The connector calls made for a loaded demande (its transmissions and the
/// readings of its record at the vendor), the
/// latest first, at most [`CALLS_LIMIT`]: what the vendor was sent and
/// answered, secrets masked. Erased with the demande's personal data at
/// anonymisation.
///
/// # Errors
/// A store failure.
pub async fn connector_calls(
    guichet: &Guichet,
    loaded: &Loaded,
) -> Result<Vec<ConnectorCall>, ServiceError> {
    let query = CallQuery {
        demande: Some(loaded.stored.demande.id),
        limit: CALLS_LIMIT,
        ..CallQuery::default()
    };
    let calls = guichet.store.connector_calls(&query).await?;
    Ok(calls.into_iter().map(|(_, call)| call).collect())
}

/// A demande as an agent sees it, beyond its stored state.
#[derive(Debug)]
pub struct AgentView {
    /// The status's id and label in the agents' view.
    pub status: (StatusId, String),
    /// The processing deadline (moved by holds).
    pub deadline: Option<DateTime<Utc>>,
    /// In processing past its deadline.
    pub late: bool,
    /// The agents' history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The actions the agent can run now.
    pub actions: Vec<Transition>,
    /// Its transmissions to vendors' applications, oldest first.
    pub transmissions: Vec<TransmissionState>,
    /// The usager's answer to its satisfaction survey, if given (comment
    /// and free answers gone once it is anonymised).
    pub survey: Option<guichet_store::survey::SurveyAnswer>,
}

/// What the agent sees of a loaded demande, given their `rights` on it.
/// Data-source answers show with the labels kept at filing
/// (`Demande::source_choices`): no connector is called.
///
/// # Errors
/// A store failure reading the history.
pub async fn view(
    guichet: &Guichet,
    loaded: &Loaded,
    caller: &Caller,
    rights: Rights,
) -> Result<AgentView, ServiceError> {
    let now = guichet.now();
    let workflow = loaded.workflow();
    let demande = &loaded.stored.demande;
    let entries = guichet.store.history(demande.id).await?;
    let status = agents_status(&workflow, demande).map_or_else(
        || (demande.status.clone(), demande.status.to_string()),
        |s| (s.id.clone(), s.label.clone()),
    );
    let actor = Actor::Agent {
        id: caller.user.id,
        rights,
    };
    Ok(AgentView {
        status,
        deadline: deadline::processing_deadline(&workflow, demande, now, guichet.zone),
        late: deadline::is_late(&workflow, demande, now, guichet.zone),
        history: agents_history(&entries).into_iter().cloned().collect(),
        actions: workflow
            .available(demande, &actor)
            .into_iter()
            .cloned()
            .collect(),
        transmissions: transmission::states(guichet, demande.id).await?,
        survey: guichet.store.survey_answer(demande.id).await?,
    })
}
