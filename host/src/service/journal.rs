//! The durable journal of connector calls: every exchange with a vendor
//! kept in the store, for administrators (per connector, per instance) and
//! for agents with the right on the demande (`super::back_office`).
//!
//! **Two ways in.** The calls a job's attempt makes (a transmission, a
//! reading of the vendor's status and card) are held back while the
//! attempt runs ([`attempt`], over
//! [`crate::connectors::journal::collect`]) and written by
//! the worker in the transaction that records the attempt's outcome
//! (`Store::complete_job_journaled`, `Store::fail_job_journaled`): an
//! outcome is never recorded without its exchanges, each naming the job and
//! the demande. The other calls — lookups of data sources, calls by hand —
//! are written by [`PersistentJournal`] right after the call, in a task of
//! their own so the caller never waits on the database; a write that fails
//! is reported as a `warn` event naming the call (connector, instance,
//! operation, outcome, time) beside the `tracing` event the runtime emits
//! for every call. The calls someone waits for — an administrator's by
//! hand (check, transmit, status, card, lookup: [`by_hand`]), the lookups
//! of a form's choices and of a family to link ([`journaled`]) — are
//! written before their answer is returned.
//!
//! **Time.** Records take their time from the application's clock (the
//! workflow's), through [`PersistentJournal`]'s [`Journal::now`].
//!
//! **Personal data.** Every call made for a demande names it, so its error,
//! logs and exchanges are sealed with the demande's key and erased when the
//! demande is anonymised (`guichet_store::connector`). Secrets are masked
//! by the runtime before any record is made.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use guichet_core::clock::Clock;
use guichet_core::id::DemandeId;
use guichet_store::Store;
use guichet_store::connector::{CallId, CallQuery, ConnectorCall};

use super::{Guichet, ServiceError};
use crate::connectors::journal::{self, CallRecord, Journal};
use crate::connectors::registry::RegistryError;

/// Entries listed when no limit is asked.
pub const DEFAULT_LIMIT: u32 = 100;

/// The most entries listed at once.
pub const MAX_LIMIT: u32 = 1_000;

/// The journal of a running platform: every call persisted in the store —
/// with its job's outcome when a job's attempt made it, else right after
/// it — timed by the application's clock.
pub struct PersistentJournal {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl PersistentJournal {
    /// A journal writing to `store`, timing calls with `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

impl Journal for PersistentJournal {
    fn record(&self, record: CallRecord) {
        let Some(record) = journal::hold(record) else {
            return;
        };
        let call = stored(&record);
        let store = self.store.clone();
        let lost = move |why: &dyn std::fmt::Display| {
            tracing::warn!(
                error = %why,
                connector = %record.connector,
                instance = %record.instance,
                operation = %record.operation,
                outcome = ?record.outcome,
                at = %record.at,
                "connector call not persisted"
            );
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(error) = store.record_connector_call(&call).await {
                        lost(&error);
                    }
                });
            }
            Err(_) => lost(&"no async runtime"),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A call record as the store keeps it.
pub fn stored(record: &CallRecord) -> ConnectorCall {
    ConnectorCall {
        connector: record.connector.clone(),
        connector_version: record.version.clone(),
        instance: record.instance.clone(),
        operation: record.operation.as_str().to_owned(),
        at: record.at,
        duration_ms: record.duration_ms.round() as u64,
        outcome: serde_json::to_value(record.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        error: record.error.clone(),
        logs: serde_json::to_value(&record.logs).unwrap_or_default(),
        exchanges: serde_json::to_value(&record.http).unwrap_or_default(),
        demande: record
            .demande
            .as_deref()
            .and_then(|id| DemandeId::parse(id).ok()),
        job: None,
    }
}

/// Runs a job's attempt about `demande`, holding back the calls it makes:
/// returns its output and the calls, for the worker to write with the
/// attempt's outcome.
pub async fn attempt<F: Future>(
    demande: Option<DemandeId>,
    work: F,
) -> (F::Output, Vec<ConnectorCall>) {
    let (output, records) = journal::collect(demande.map(|d| d.to_string()), work).await;
    (output, records.iter().map(stored).collect())
}

/// Runs a call an administrator makes by hand (an availability check, a
/// transmission, a reading, a lookup) and journals it before answering.
///
/// # Errors
/// [`ServiceError::Registry`]: an unknown instance, or the call's failure;
/// [`ServiceError::Store`] when the call could not be journaled.
pub async fn by_hand<T>(
    guichet: &Guichet,
    call: impl Future<Output = Result<T, RegistryError>>,
) -> Result<T, ServiceError> {
    Ok(journaled(guichet, call).await??)
}

/// Runs connector calls someone waits for — a lookup of a form's choices,
/// the search of a family to link, a call by hand — and journals them
/// before answering, as a job's attempt is journaled with its outcome: an
/// answer that reached a person was journaled.
///
/// # Errors
/// [`ServiceError::Store`] when the calls could not be journaled (the
/// answer is then withheld).
pub async fn journaled<F: Future>(guichet: &Guichet, call: F) -> Result<F::Output, ServiceError> {
    let (answer, calls) = attempt(None, call).await;
    for call in &calls {
        guichet.store.record_connector_call(call).await?;
    }
    Ok(answer)
}

/// Which entries an administrator asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this instance.
    pub instance: Option<String>,
    /// Only this connector (every version).
    pub connector: Option<String>,
    /// Only the calls made for this demande.
    pub demande: Option<DemandeId>,
    /// At most this many ([`DEFAULT_LIMIT`] when absent, at most
    /// [`MAX_LIMIT`]).
    pub limit: Option<u32>,
}

/// Journal entries, the latest first: what administrators read.
///
/// # Errors
/// A store failure.
pub async fn entries(
    guichet: &Guichet,
    filter: Filter,
) -> Result<Vec<(CallId, ConnectorCall)>, ServiceError> {
    entries_of(guichet, filter, None, None).await
}

/// The entries of `filter` that are calls of `operation` (`transmit`,
/// `check`…) ended with `outcome` (`ok`, `trap`…), each when given, the
/// latest first: what the administration's journal page lists.
///
/// # Errors
/// A store failure.
pub async fn entries_of(
    guichet: &Guichet,
    filter: Filter,
    operation: Option<&str>,
    outcome: Option<&str>,
) -> Result<Vec<(CallId, ConnectorCall)>, ServiceError> {
    let query = CallQuery {
        instance: filter.instance,
        connector: filter.connector,
        demande: filter.demande,
        limit: filter.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT),
    };
    Ok(guichet
        .store
        .connector_calls_of(&query, operation, outcome)
        .await?)
}
