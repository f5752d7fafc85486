//! The jobs that failed for good (the dead letters): a transmission the
//! vendor refused, or that failed [`MAX_ATTEMPTS`] times. An administrator
//! reads them, then puts one back in the queue once the cause is fixed (the
//! instance's configuration, the vendor's referential…) or gives it up for
//! good (the record was made by hand at the vendor, the demande no longer
//! needs it). Giving up is recorded — who and when, on the job — and, for
//! a transmission or a reading of the vendor's record, in the agents'
//! history of the demande; its transmission then reads *abandonnée* to
//! agents. Only a job failed for good is retried or abandoned: anything
//! else is a conflict ([`ServiceError::JobAbandoned`],
//! [`ServiceError::JobNotFailed`]).
//!
//! The API acts for the administrator's account, the command line for the
//! operator of the host ([`Operator`]).
//!
//! [`MAX_ATTEMPTS`]: crate::service::transmission::MAX_ATTEMPTS

use guichet_core::calendar::Zone;
use guichet_core::history::{Audience, Author, HistoryEntry};
use guichet_core::id::UserId;
use guichet_store::StoreError;
use guichet_store::job::{Job, JobId, JobStatus};

use super::Administrator;
use crate::service::synchronisation::SYNC_JOB;
use crate::service::transmission::TRANSMIT_JOB;
use crate::service::{Guichet, ServiceError};

/// At most this many failed jobs are listed, the latest first.
pub const FAILED_LIMIT: u32 = 200;

/// The event of the history entry an abandoned transmission writes.
pub const ABANDON_EVENT: &str = "abandon_transmission";

/// Who acts on a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// An administrator's account (the API).
    Account {
        /// The account.
        id: UserId,
        /// Its login.
        login: String,
    },
    /// Whoever runs the command line on the host, by their system user's
    /// name.
    CommandLine(String),
}

impl Operator {
    /// The operator of this command-line run (`$USER`, else `inconnu`).
    pub fn command_line() -> Operator {
        Operator::CommandLine(
            std::env::var("USER")
                .ok()
                .filter(|user| !user.trim().is_empty())
                .unwrap_or_else(|| "inconnu".to_owned()),
        )
    }

    /// How the job records them (`admin@ville.fr`, `ligne de commande (root)`).
    pub fn label(&self) -> String {
        match self {
            Operator::Account { login, .. } => login.clone(),
            Operator::CommandLine(user) => format!("ligne de commande ({user})"),
        }
    }

    fn author(&self) -> Author {
        match self {
            Operator::Account { id, .. } => Author::Agent(*id),
            Operator::CommandLine(_) => Author::System,
        }
    }
}

/// Jobs of the queue listed at most.
pub const QUEUE_LIMIT: u32 = 200;

/// The queue of jobs of `kind` (every kind when `None`): counts, and the
/// next [`QUEUE_LIMIT`] to run.
///
/// # Errors
/// A store error.
pub async fn queue(
    guichet: &Guichet,
    _: &Administrator,
    kind: Option<&str>,
) -> Result<guichet_store::job::Queue, ServiceError> {
    Ok(guichet.store.job_queue(kind, QUEUE_LIMIT).await?)
}

/// The jobs failed for good, the latest first, at most [`FAILED_LIMIT`].
///
/// # Errors
/// A store error.
pub async fn failed(guichet: &Guichet, _: &Administrator) -> Result<Vec<Job>, ServiceError> {
    Ok(guichet.store.failed_jobs(FAILED_LIMIT).await?)
}

/// Puts a failed job back in the queue, due now; its attempts start again
/// from where they were (one more failure fails it for good again).
///
/// # Errors
/// `NotFound` when there is no job with this id; [`ServiceError::JobAbandoned`]
/// or [`ServiceError::JobNotFailed`] when it is not failed for good.
pub async fn retry(guichet: &Guichet, _: &Administrator, id: JobId) -> Result<Job, ServiceError> {
    let job = dead_letter(guichet, id).await?;
    match guichet.store.retry_job(job.id, guichet.now()).await {
        Ok(()) => Ok(guichet.store.job(id).await?),
        // Retried or abandoned by someone else meanwhile.
        Err(StoreError::NotFound(_)) => {
            Err(not_failed(&guichet.store.job(id).await?, guichet.zone))
        }
        Err(other) => Err(other.into()),
    }
}

/// Gives up a failed job for good, as `by`: it leaves the failed jobs, is
/// never run again, and says who gave it up and when; a transmission or a
/// reading writes an entry in the agents' history of its demande, in the
/// same transaction.
///
/// # Errors
/// As [`retry`].
pub async fn abandon(
    guichet: &Guichet,
    _: &Administrator,
    by: &Operator,
    id: JobId,
) -> Result<Job, ServiceError> {
    let job = dead_letter(guichet, id).await?;
    let now = guichet.now();
    let entry = match (job.kind.as_str(), job.demande) {
        (kind @ (TRANSMIT_JOB | SYNC_JOB), Some(demande)) => {
            let instance = job.payload["instance"].as_str().unwrap_or_default();
            let stored = guichet.store.demande(demande).await?;
            Some(HistoryEntry {
                demande,
                at: now,
                audience: Audience::Agents,
                author: by.author(),
                event: ABANDON_EVENT.to_owned(),
                status: stored.demande.status.clone(),
                text: if kind == TRANSMIT_JOB {
                    format!("Transmission à {instance} abandonnée par un administrateur")
                } else {
                    format!("Lecture du dossier chez {instance} abandonnée par un administrateur")
                },
                message: None,
                attachment: None,
            })
        }
        _ => None,
    };
    match guichet
        .store
        .abandon_job(job.id, &by.label(), entry.as_ref(), now)
        .await
    {
        Ok(()) => Ok(guichet.store.job(id).await?),
        Err(StoreError::NotFound(_)) => {
            Err(not_failed(&guichet.store.job(id).await?, guichet.zone))
        }
        Err(other) => Err(other.into()),
    }
}

/// The job, when it is failed for good.
async fn dead_letter(guichet: &Guichet, id: JobId) -> Result<Job, ServiceError> {
    let job = match guichet.store.job(id).await {
        Ok(job) => job,
        Err(StoreError::NotFound(_)) => {
            return Err(ServiceError::NotFound("aucune tâche avec cet identifiant"));
        }
        Err(other) => return Err(other.into()),
    };
    if job.status == JobStatus::Failed {
        Ok(job)
    } else {
        Err(not_failed(&job, guichet.zone))
    }
}

/// Why a job that is not failed for good cannot be retried nor abandoned.
fn not_failed(job: &Job, zone: Zone) -> ServiceError {
    match job.status {
        JobStatus::Abandoned => ServiceError::JobAbandoned(format!(
            "la tâche {} a été abandonnée{}{} : elle ne sera plus exécutée",
            job.id,
            job.abandoned_by
                .as_deref()
                .map(|by| format!(" par {by}"))
                .unwrap_or_default(),
            job.abandoned_at
                .map(|at| format!(" le {}", zone.local(at).format("%d/%m/%Y à %H:%M")))
                .unwrap_or_default(),
        )),
        JobStatus::Pending | JobStatus::Running => ServiceError::JobNotFailed(format!(
            "la tâche {} n'est pas en échec définitif : elle est en file d'attente ou en cours",
            job.id
        )),
        JobStatus::Done => ServiceError::JobNotFailed(format!(
            "la tâche {} n'est pas en échec définitif : elle est terminée",
            job.id
        )),
        JobStatus::Failed => ServiceError::JobNotFailed(format!(
            "la tâche {} a changé d'état entre-temps : relisez les tâches en échec",
            job.id
        )),
    }
}
