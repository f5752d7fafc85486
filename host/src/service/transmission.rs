//! Transmitting a demande to a vendor's business application when it
//! enters a status (`connector.transmit_on` of its démarche: *en cours
//! d'analyse* → ATAL, *acceptée* → Espace famille).
//!
//! **Durable.** Entering the status writes a job of kind [`TRANSMIT_JOB`]
//! in the same transaction as the transition ([`jobs`], called by every
//! write of the application layer: filing, actions, the *cadre réservé*,
//! restoring, timers), so a transition is never stored without its
//! transmission, nor the reverse. [`run`] — the worker `guichet serve`
//! runs beside the scheduler — claims due jobs (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL: several hosts share the queue, each job runs once), builds
//! the demande as connectors receive it ([`connector_demande`], in
//! `transmission/demande.rs`: typed
//! fields of the visible questions, labels of chosen options, the usager's
//! identity from the answers prefilled from the profile, attachments read
//! from the file storage on demand) and calls the instance's `transmit`.
//!
//! **Once at the vendor.** The idempotency key is the demande's id and the
//! status (`<uuid>:<status>`), whatever the attempt: a vendor that already
//! recorded it answers with the same record.
//!
//! **Retries.** A failure that may pass is retried with exponential
//! backoff and jitter ([`retry_delay`]: 30 s doubled per attempt, at most
//! 1 h, ±20 %), up to [`MAX_ATTEMPTS`] attempts: the vendor unavailable, a
//! timeout, and the component's own fault (a trap, its memory cap, the
//! host) or an instance not configured yet on this host, which an
//! administrator may mend before the next attempt
//! (`RegistryError::worth_retrying`). The connector's refusals (invalid
//! data, refused, not found, configuration) and the last attempt fail the
//! job for good: it stays in the failed jobs for an administrator. On success
//! the vendor's record is kept as the demande's remote link
//! (remote id and number shown), written with the job's completion in one
//! transaction (`Store::complete_job_with`) with the first reading of the
//! vendor's record, and both
//! histories say once that the demande reached the service's application,
//! under the vendor's reference.
//!
//! **Read back.** When the démarche says so (`connector.sync`), a
//! transmission that went through queues the readings of the vendor's
//! record (`super::synchronisation`), which this worker runs too.
//!
//! **Journaled with the outcome.** The calls an attempt makes are written
//! in the transaction that records its outcome (`super::journal`), each
//! naming the job and the demande.
//!
//! **Side by side.** The jobs of a claimed batch run eight demandes at a
//! time (the jobs of one demande in their order), so connector calls and
//! vendor round trips overlap; the successes ready at the same moment are
//! recorded in one write transaction ([`record_successes`], group commit),
//! each still only if its worker holds the job (see `BENCHMARKS.md`, the
//! connector queue).
//!
//! **Left alone when down.** After repeated failures of an instance, its
//! circuit breaker (`super::breaker`) opens: its jobs go back to the queue
//! unrun, without an attempt counted, until the cool-down ends.
//!
//! **Seen by agents.** [`states`] reads, for a demande, each transmission
//! with where it stands — *en attente de transmission*, *transmise à …
//! sous le n° …*, *échec : … nouvelle tentative le …*, *abandonnée* (an
//! administrator gave up the failed job) — in the collectivité's time
//! zone.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use guichet_core::demande::Demande;
use guichet_core::demarche::Definition;
use guichet_core::history::{Audience, Author, HistoryEntry};
use guichet_core::id::{DemandeId, StatusId};
use guichet_store::connector::RemoteLink;
use guichet_store::job::{Completion, Job, JobStatus, JobSuccess, NewJob};
use serde::{Deserialize, Serialize};

mod demande;

use demande::DemandeFiles;
pub use demande::connector_demande;

use super::processing::Loaded;
use super::synchronisation::{self, SYNC_JOB};
use super::{Guichet, ServiceError, journal};
use crate::connectors::host::AttachmentSource;
use crate::connectors::registry::RegistryError;

/// The kind of transmission jobs (payload: a [`TransmitJob`]).
pub const TRANSMIT_JOB: &str = "connector.transmit";

/// The event of the history entry written when a demande reaches the
/// vendor's application (both histories).
pub const TRANSMITTED_EVENT: &str = "transmission";

/// Attempts before a transmission fails for good.
pub const MAX_ATTEMPTS: u32 = 10;

/// Jobs claimed per batch.
const BATCH: u32 = 50;

/// Demandes of a batch delivered at once: their connector calls and
/// vendor round trips overlap, their writes queue on the database. When
/// a vendor goes down, the calls already in flight when its circuit
/// breaker opens still end: at most `CONCURRENCY + THRESHOLD − 1` calls
/// in the batch fail instead of `THRESHOLD`.
pub const CONCURRENCY: usize = 8;

/// What a transmission job carries; the demande is the job's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransmitJob {
    /// The connector instance (`atal-ville`).
    pub instance: String,
    /// The status whose entering caused it.
    pub status: StatusId,
}

impl TransmitJob {
    /// The key the vendor deduplicates on: one per demande and step.
    pub fn idempotency_key(&self, demande: DemandeId) -> String {
        format!("{}:{}", demande.uuid(), self.status)
    }
}

/// The transmission jobs an outcome causes: one when `after` (the
/// demande's new state) entered the status its démarche transmits on,
/// from `before`. Written with the outcome (`Extras::jobs`), due at `now`.
pub fn jobs(
    definition: &Definition,
    before: Option<&StatusId>,
    after: &Demande,
    now: DateTime<Utc>,
) -> Vec<NewJob> {
    job(definition, before, &after.status, Some(after.id), now)
}

/// The transmission jobs of a filing, when the démarche transmits on the
/// workflow's initial status; the store gives them the new demande's id.
pub fn at_filing(definition: &Definition, now: DateTime<Utc>) -> Vec<NewJob> {
    job(definition, None, &definition.workflow().initial, None, now)
}

fn job(
    definition: &Definition,
    before: Option<&StatusId>,
    after: &StatusId,
    demande: Option<DemandeId>,
    now: DateTime<Utc>,
) -> Vec<NewJob> {
    let Some(link) = definition.transmission(before, after) else {
        return Vec::new();
    };
    let payload = TransmitJob {
        instance: link.instance.clone(),
        status: link.transmit_on.clone(),
    };
    vec![NewJob {
        kind: TRANSMIT_JOB.to_owned(),
        demande,
        payload: serde_json::json!(payload),
        run_at: now,
    }]
}

/// How long to wait after the failed attempt number `attempt` (1 for the
/// first): 30 s × 2^(attempt − 1), at most one hour, times a jitter factor
/// in 0.8..1.2 drawn from `jitter` (0 to 1) so that jobs failed together
/// do not come back together.
pub fn retry_delay(attempt: u32, jitter: f64) -> Duration {
    let base = 30.0 * 2f64.powi(attempt.saturating_sub(1).min(20) as i32);
    let capped = base.min(3600.0);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Duration::milliseconds((capped * factor * 1000.0) as i64)
}

/// What one run of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Demandes transmitted.
    pub transmitted: usize,
    /// Records read back from vendors (`super::synchronisation`).
    pub read: usize,
    /// Attempts failed, to be retried.
    pub retried: usize,
    /// Jobs failed for good.
    pub failed: usize,
    /// Jobs given back to the queue unrun, their instance's circuit
    /// breaker being open (`super::breaker`).
    pub postponed: usize,
}

/// Runs every transmission and every reading of a vendor's record
/// (`super::synchronisation`) due at the guichet's now, batch after
/// batch, as `worker`.
///
/// # Errors
/// A store error while claiming or recording; a job whose outcome could
/// not be recorded is claimed again when its lease ends.
pub async fn run(guichet: &Guichet, worker: &str) -> Result<Delivered, ServiceError> {
    use futures::StreamExt;
    let mut delivered = Delivered::default();
    loop {
        let batch = guichet
            .store
            .claim_jobs(worker, &[TRANSMIT_JOB, SYNC_JOB], guichet.now(), BATCH)
            .await?;
        let full = batch.len() as u32 == BATCH;
        // The jobs of one demande run in their order; the demandes of the
        // batch run side by side, CONCURRENCY at a time.
        let mut by_demande: Vec<(Option<DemandeId>, Vec<Job>)> = Vec::new();
        for job in batch {
            match by_demande
                .iter_mut()
                .find(|(d, _)| *d == job.demande && d.is_some())
            {
                Some((_, jobs)) => jobs.push(job),
                None => by_demande.push((job.demande, vec![job])),
            }
        }
        // Successes are recorded together, as they come (group commit).
        let (committer, successes) = tokio::sync::mpsc::unbounded_channel();
        let processing = async move {
            let committer = &committer;
            let mut groups = futures::stream::iter(by_demande)
                .map(|(_, jobs)| async move {
                    let mut outcomes = Vec::with_capacity(jobs.len());
                    for job in jobs {
                        outcomes.push(deliver(guichet, worker, job, committer).await?);
                    }
                    Ok::<_, ServiceError>(outcomes)
                })
                .buffer_unordered(CONCURRENCY);
            let mut first_error = None;
            let mut outcomes_seen = Vec::new();
            while let Some(outcomes) = groups.next().await {
                match outcomes {
                    Ok(outcomes) => outcomes_seen.extend(outcomes),
                    // The other groups still finish; their jobs are recorded.
                    Err(error) => first_error = first_error.or(Some(error)),
                }
            }
            (outcomes_seen, first_error)
        };
        let (unrecorded, (outcomes, first_error)) =
            futures::join!(record_successes(guichet, worker, successes), processing);
        outcomes.into_iter().for_each(|o| delivered.count(o));
        let first_error = first_error.or(unrecorded);
        if let Some(error) = first_error {
            return Err(error);
        }
        if !full {
            return Ok(delivered);
        }
    }
}

/// What became of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Transmitted,
    Read,
    Retried,
    Failed,
    Postponed,
    /// A success whose recording failed with its group's: it runs again
    /// when its lease ends.
    Unrecorded,
}

impl Delivered {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Transmitted => self.transmitted += 1,
            Outcome::Read => self.read += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Postponed => self.postponed += 1,
            Outcome::Unrecorded => {}
        }
    }
}

/// A success to record, and where to say whether it was: `Err(Some(_))`
/// for this job (no longer held), `Err(None)` when the whole group failed
/// ([`record_successes`] returns why).
type Success = (
    JobSuccess,
    tokio::sync::oneshot::Sender<Result<(), Option<ServiceError>>>,
);

/// Records the successes sent by the jobs of a batch as they come: those
/// ready together in one transaction (`Store::complete_jobs_with`), at
/// most [`CONCURRENCY`] — what the database's single writer pays once per
/// transaction is paid once for them all. Ends when every sender is gone,
/// with the first error that kept a group from being written (its jobs
/// stay claimed and run again when their lease ends).
async fn record_successes(
    guichet: &Guichet,
    worker: &str,
    mut successes: tokio::sync::mpsc::UnboundedReceiver<Success>,
) -> Option<ServiceError> {
    let mut first_error = None;
    while let Some(first) = successes.recv().await {
        let mut ready = vec![first];
        while ready.len() < CONCURRENCY {
            match successes.try_recv() {
                Ok(next) => ready.push(next),
                Err(_) => break,
            }
        }
        let (ready, replies): (Vec<JobSuccess>, Vec<_>) = ready.into_iter().unzip();
        match guichet
            .store
            .complete_jobs_with(worker, guichet.now(), &ready)
            .await
        {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer.map_err(|e| Some(ServiceError::from(e))));
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(None));
                }
                first_error = first_error.or(Some(ServiceError::from(error)));
            }
        }
    }
    first_error
}

/// Runs one claimed job — unless its instance's breaker is open — and
/// records its outcome with the calls it made: a success through
/// `committer` ([`record_successes`]), a failure at once.
async fn deliver(
    guichet: &Guichet,
    worker: &str,
    job: Job,
    committer: &tokio::sync::mpsc::UnboundedSender<Success>,
) -> Result<Outcome, ServiceError> {
    // Both kinds of payload name their instance.
    let instance = job.payload["instance"].as_str().unwrap_or_default();
    if let Some(until) = guichet.breakers.open_until(instance, guichet.now()) {
        guichet
            .store
            .release_job(job.id, worker, until, guichet.now())
            .await?;
        return Ok(Outcome::Postponed);
    }
    let reading = job.kind == SYNC_JOB;
    // The calls of the attempt are written with its outcome.
    let (attempt, calls) = journal::attempt(job.demande, async {
        if reading {
            synchronisation::read(guichet, &job).await
        } else {
            transmit(guichet, &job).await
        }
    })
    .await;
    match &attempt {
        Err(failure) if failure.retryable => {
            guichet.breakers.failure(instance, guichet.now());
        }
        _ => guichet.breakers.success(instance),
    }
    match attempt {
        Ok(completion) => {
            let (reply, recorded) = tokio::sync::oneshot::channel();
            let success = JobSuccess {
                id: job.id,
                calls,
                completion,
            };
            if committer.send((success, reply)).is_err() {
                return Ok(Outcome::Unrecorded);
            }
            match recorded.await {
                Ok(Ok(())) => {}
                Ok(Err(Some(error))) => return Err(error),
                // The group was not written: `run` reports why.
                Ok(Err(None)) | Err(_) => return Ok(Outcome::Unrecorded),
            }
            Ok(if reading {
                Outcome::Read
            } else {
                Outcome::Transmitted
            })
        }
        Err(failure) => {
            let now = guichet.now();
            let retry_at = (failure.retryable && job.attempts < MAX_ATTEMPTS)
                .then(|| now + retry_delay(job.attempts, jitter()));
            tracing::warn!(job = %job.id, attempts = job.attempts, error = %failure.message, retry = retry_at.is_some(), "transmission failed");
            guichet
                .store
                .fail_job_journaled(job.id, worker, &failure.message, retry_at, now, &calls)
                .await?;
            Ok(if retry_at.is_some() {
                Outcome::Retried
            } else {
                Outcome::Failed
            })
        }
    }
}

/// Runs [`run`] every `period` until the task is dropped (what `guichet
/// serve` does beside the scheduler).
pub async fn work(guichet: Guichet, worker: String, period: std::time::Duration) {
    super::every(
        period,
        "transmissions run",
        "transmission round failed",
        || run(&guichet, &worker),
    )
    .await;
}

/// A random number in 0..1 for the backoff's jitter.
pub(super) fn jitter() -> f64 {
    f64::from(uuid::Uuid::new_v4().as_u128() as u32) / f64::from(u32::MAX)
}

/// Why an attempt failed, in French for the job's record.
pub(super) struct Failure {
    message: String,
    retryable: bool,
}

impl Failure {
    /// A failure that retrying will not mend.
    pub(super) fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure that may pass (the database, the vendor).
    pub(super) fn retry(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retryable: true,
        }
    }

    /// A connector call's failure, retryable as
    /// [`RegistryError::worth_retrying`] says.
    pub(super) fn from_registry(error: RegistryError) -> Failure {
        Failure {
            retryable: error.worth_retrying(),
            message: error.to_string(),
        }
    }
}

/// One attempt of one job.
async fn transmit(guichet: &Guichet, job: &Job) -> Result<Completion, Failure> {
    let demande = job
        .demande
        .ok_or_else(|| Failure::permanent("tâche de transmission sans demande"))?;
    let payload: TransmitJob = serde_json::from_value(job.payload.clone())
        .map_err(|e| Failure::permanent(format!("tâche de transmission illisible : {e}")))?;
    let loaded = Loaded::read(guichet, demande)
        .await
        .map_err(|e| Failure::retry(format!("lecture de la demande : {e}")))?;
    let sent = connector_demande(&loaded.definition.definition, &loaded.stored.demande);
    let attachments: Arc<dyn AttachmentSource> = Arc::new(DemandeFiles {
        store: guichet.store.clone(),
        demande,
    });
    let receipt = guichet
        .registry
        .transmit(
            &payload.instance,
            sent,
            &payload.idempotency_key(demande),
            Some(attachments),
        )
        .await
        .map_err(Failure::from_registry)?;
    let now = guichet.now();
    // Both histories say it once: the usager learns their demande reached
    // the service's application, under which reference.
    let reference = receipt.display_id.as_deref().unwrap_or(&receipt.remote_id);
    let entry = HistoryEntry {
        demande,
        at: now,
        audience: Audience::Both,
        author: Author::System,
        event: TRANSMITTED_EVENT.to_owned(),
        status: loaded.stored.demande.status.clone(),
        text: format!("Demande transmise à l'application du service (référence {reference})"),
        message: None,
        attachment: None,
    };
    // Written with the job's completion, in one transaction: a failure
    // before it transmits again, and the vendor answers the same record to
    // the same idempotency key.
    let reading = synchronisation::reading_job(
        guichet,
        &loaded.definition.definition,
        demande,
        &payload.instance,
        now,
    )
    .await?;
    Ok(Completion {
        link: Some((
            RemoteLink {
                demande,
                instance: payload.instance.clone(),
                remote_id: receipt.remote_id.clone(),
                display_id: receipt.display_id.clone(),
                remote_status: None,
                card: None,
                updated_at: now,
            },
            Some(entry),
        )),
        jobs: reading.into_iter().collect(),
        history: Vec::new(),
    })
}

/// Where a transmission of a demande stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TransmissionState {
    /// The connector instance.
    pub instance: String,
    /// The status whose entering caused it.
    pub status: StatusId,
    /// Waiting, done or failed for good.
    pub state: JobStatus,
    /// Attempts made.
    pub attempts: u32,
    /// The next attempt, while it waits.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When an administrator gave it up, if they did.
    pub abandoned_at: Option<DateTime<Utc>>,
    /// The vendor's record, once transmitted.
    pub remote: Option<RemoteLink>,
}

/// The transmissions of a demande, oldest first, with the vendor's
/// record for those that went through.
///
/// # Errors
/// A store error.
pub async fn states(
    guichet: &Guichet,
    demande: DemandeId,
) -> Result<Vec<TransmissionState>, ServiceError> {
    let links = guichet.store.remote_links(demande).await?;
    let mut states = Vec::new();
    for job in guichet.store.jobs_of(demande).await? {
        if job.kind != TRANSMIT_JOB {
            continue;
        }
        let Ok(payload) = serde_json::from_value::<TransmitJob>(job.payload.clone()) else {
            continue;
        };
        let remote = (job.status == JobStatus::Done)
            .then(|| {
                links
                    .iter()
                    .find(|l| l.instance == payload.instance)
                    .cloned()
            })
            .flatten();
        states.push(TransmissionState {
            next_attempt_at: (job.status == JobStatus::Pending).then_some(job.next_attempt_at),
            instance: payload.instance,
            status: payload.status,
            state: job.status,
            attempts: job.attempts,
            last_error: job.last_error,
            abandoned_at: job.abandoned_at,
            remote,
        });
    }
    Ok(states)
}
