//! Reading a transmitted demande's record back from the vendor's
//! application (`connector.sync` of its démarche): its status and its card,
//! every `every_minutes`, until the vendor says the status is final.
//!
//! **A chain of jobs.** A transmission that went through queues the first
//! reading ([`first_job`], kind [`SYNC_JOB`]), due after the interval;
//! each reading queues the next one unless the vendor's status is final.
//!
//! **The interval is the instance's.** How often a vendor is polled is a
//! matter between the platform and that vendor, so the instance's
//! `sync_every_minutes` (how the platform uses the instance,
//! `guichet_store::registry::InstanceUse`, set with its configuration)
//! wins; the démarche's `connector.sync.every_minutes` (15 by default) is
//! the interval of instances that set none. It is read when each reading
//! is queued: a change applies from the next reading of every demande. The same worker as the transmissions runs them
//! (`super::transmission::run`), so several hosts share them without
//! reading one record twice at once, and a failed reading is retried with
//! the same backoff.
//!
//! **What a reading does.** It keeps the vendor's status and card on the
//! demande's remote link (agents see them on the demande), and when the
//! status is listed in `connector.sync.on`, runs the transitions it names
//! on behalf of the vendor's agents (`super::processing::apply_for_vendor`:
//! ATAL closes the work request → *accepter* then *cloturer*, with the
//! vendor agents' last response as the closing comment; the usager is told
//! by the transition's notices like for any closing).

use chrono::{DateTime, Duration, Utc};
use guichet_core::demarche::Definition;
use guichet_core::id::DemandeId;
use guichet_store::connector::RemoteLink;
use guichet_store::job::{Completion, Job, NewJob};
use serde::{Deserialize, Serialize};

use super::Guichet;
use super::processing::{self, Loaded};
use super::transmission::Failure;
use crate::connectors::CallError;
use crate::connectors::model::RemoteStatus;
use crate::connectors::registry::RegistryError;

/// The kind of reading jobs (payload: a [`SyncJob`]).
pub const SYNC_JOB: &str = "connector.sync";

/// What a reading job carries; the demande is the job's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    /// The connector instance holding the record.
    pub instance: String,
}

/// The reading of `instance`'s record of `demande`, due after the
/// interval from `now` — the instance's `instance_minutes` when it sets
/// one, else the démarche's — when the démarche synchronises.
pub fn first_job(
    definition: &Definition,
    demande: DemandeId,
    instance: &str,
    instance_minutes: Option<u32>,
    now: DateTime<Utc>,
) -> Option<NewJob> {
    let sync = definition.connector.as_ref()?.sync.as_ref()?;
    let minutes = instance_minutes.unwrap_or(sync.every_minutes).max(1);
    Some(NewJob {
        kind: SYNC_JOB.to_owned(),
        demande: Some(demande),
        payload: serde_json::json!(SyncJob {
            instance: instance.to_owned()
        }),
        run_at: now + Duration::minutes(i64::from(minutes)),
    })
}

/// The first reading of `instance`'s record of `demande` (see
/// [`first_job`]), at the instance's interval as stored now; the worker
/// writes it with the transmission's completion.
///
/// # Errors
/// A [`Failure`] to retry when the database fails.
pub(super) async fn reading_job(
    guichet: &Guichet,
    definition: &Definition,
    demande: DemandeId,
    instance: &str,
    now: DateTime<Utc>,
) -> Result<Option<NewJob>, Failure> {
    if definition
        .connector
        .as_ref()
        .is_none_or(|link| link.sync.is_none())
    {
        return Ok(None);
    }
    let minutes = guichet
        .store
        .instance_use(instance)
        .await
        .map_err(|e| Failure::retry(format!("réglages de l'instance : {e}")))?
        .sync_every_minutes;
    Ok(first_job(definition, demande, instance, minutes, now))
}

/// One reading: the vendor's status and card kept on the link, the
/// transitions its status names run, and the next reading — unless the
/// status is final or the démarche no longer synchronises — returned for
/// the worker to write with the job's completion.
///
/// # Errors
/// A [`Failure`] (retryable when the vendor or the database may answer
/// later).
pub(super) async fn read(guichet: &Guichet, job: &Job) -> Result<Completion, Failure> {
    let demande = job
        .demande
        .ok_or_else(|| Failure::permanent("lecture sans demande"))?;
    let payload: SyncJob = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::permanent(format!("tâche de lecture illisible : {e}")))?;
    let loaded = Loaded::read(guichet, demande)
        .await
        .map_err(|e| Failure::retry(format!("lecture de la demande : {e}")))?;
    let link = guichet
        .store
        .remote_links(demande)
        .await
        .map_err(|e| Failure::retry(format!("lecture du lien : {e}")))?
        .into_iter()
        .find(|link| link.instance == payload.instance)
        .ok_or_else(|| Failure::permanent("la demande n'a pas été transmise à cette instance"))?;
    let status = guichet
        .registry
        .status(&payload.instance, &link.remote_id)
        .await
        .map_err(Failure::from_registry)?;
    let card = match guichet
        .registry
        .card(&payload.instance, &link.remote_id)
        .await
    {
        Ok(card) => serde_json::to_value(card).ok(),
        Err(RegistryError::Call(CallError::Unsupported(_))) => None,
        Err(error) => {
            tracing::warn!(%error, "fiche distante illisible : la précédente est gardée");
            link.card.clone()
        }
    };
    let now = guichet.now();
    guichet
        .store
        .upsert_remote_link(&RemoteLink {
            remote_status: serde_json::to_value(&status).ok(),
            card,
            updated_at: now,
            ..link
        })
        .await
        .map_err(|e| Failure::retry(format!("enregistrement du lien : {e}")))?;
    let definition = &loaded.definition.definition;
    if let Some(remote) = definition
        .connector
        .as_ref()
        .and_then(|link| link.sync.as_ref())
        .and_then(|sync| sync.on.get(&status.code))
    {
        processing::apply_for_vendor(guichet, &loaded, remote, &last_comment(&status))
            .await
            .map_err(|e| Failure::retry(format!("application du statut distant : {e}")))?;
    }
    let mut completion = Completion::default();
    if !status.is_final {
        completion
            .jobs
            .extend(reading_job(guichet, definition, demande, &payload.instance, now).await?);
    }
    Ok(completion)
}

/// The vendor agents' last comment, or the status's label.
fn last_comment(status: &RemoteStatus) -> String {
    status
        .comments
        .iter()
        .rev()
        .map(|c| c.text.trim())
        .find(|text| !text.is_empty())
        .map_or_else(
            || format!("Statut dans l'application métier : {}", status.label),
            str::to_owned,
        )
}
