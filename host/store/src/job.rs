//! The durable outbox: every side effect (a mail, an SMS, a connector call)
//! is a job row written in the same transaction as the state change that
//! caused it, then claimed by a worker, executed, and marked done or failed
//! (retried later, attempts counted).
//!
//! A job is a `kind` string and a JSON payload, so new kinds (connector
//! calls) need no migration; notification jobs are
//! [`NotificationJob`]s under the kind [`NOTIFICATION_JOB`].
//!
//! Claiming marks jobs `running` for a worker with a lease of
//! [`JOB_LEASE`]: on PostgreSQL, several hosts claim with `FOR UPDATE SKIP
//! LOCKED`, so one job goes to one worker; on SQLite, the single writer
//! does the same with one `UPDATE … RETURNING`. A running job whose lease
//! ended (its worker died) is claimed again.
//!
//! A notification to the usager carries the usager's contact, captured when
//! it is queued; ending a job ([`Store::complete_job`], or
//! [`Store::fail_job`] without a retry: abandoned) erases that contact and
//! the free texts of its parameters in the same statement
//! ([`crate::contact::strip`]).
//!
//! **Dead letters.** A job failed for good waits for an administrator, who
//! puts it back in the queue ([`Store::retry_job`]) or gives it up
//! ([`Store::abandon_job`]: status `abandoned`, who and when recorded, an
//! entry in its demande's history when the caller gives one); an abandoned
//! job is never run nor listed again.
//!
//! **Journaled outcomes.** A worker records an attempt's outcome together
//! with the connector calls the attempt made ([`Store::complete_job_journaled`],
//! [`Store::fail_job_journaled`]): the journal holds every exchange of a
//! recorded attempt, in one transaction with it.

use chrono::{DateTime, Duration, Utc};
use guichet_core::history::HistoryEntry;
use guichet_core::id::DemandeId;

use guichet_core::notification::NotificationJob;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::Store;
use crate::connector::{ConnectorCall, RemoteLink, insert_calls};
use crate::error::{Result, StoreError};
use crate::seal::{self, DataKey, Keyring};
use crate::sql::{Batch, RowExt, millis, new_id, to_json, unsigned};

mod completions;
mod dead_letters;
mod queue;

pub use completions::JobSuccess;

pub use queue::Queue;

/// The kind of notification jobs (payload: a [`NotificationJob`]).
pub const NOTIFICATION_JOB: &str = "notification";

/// How long a claimed job is reserved for its worker.
pub const JOB_LEASE: Duration = Duration::minutes(5);

/// Longest error text kept on a failed job, in characters.
pub const MAX_ERROR_LENGTH: usize = 4000;

/// The identifier of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub Uuid);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its `next_attempt_at`.
    Pending,
    /// Claimed by a worker.
    Running,
    /// Done.
    Done,
    /// Failed for good (no retry asked): a dead letter, until an
    /// administrator retries or abandons it.
    Failed,
    /// Failed for good, then given up by an administrator: never run
    /// again.
    Abandoned,
}

impl JobStatus {
    fn key(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Abandoned => "abandoned",
        }
    }

    fn from_key(key: &str) -> Result<JobStatus> {
        match key {
            "pending" => Ok(JobStatus::Pending),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "failed" => Ok(JobStatus::Failed),
            "abandoned" => Ok(JobStatus::Abandoned),
            other => Err(StoreError::Corrupt(format!("état de tâche « {other} »"))),
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What to do (`notification`, a connector call…).
    pub kind: String,
    /// The demande concerned, if any (its jobs are dropped at anonymisation).
    pub demande: Option<DemandeId>,
    /// The data the worker needs.
    pub payload: serde_json::Value,
    /// Not before.
    pub run_at: DateTime<Utc>,
}

impl NewJob {
    /// The job delivering a notification.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if the notification does not serialise.
    pub fn notification(notification: &NotificationJob, run_at: DateTime<Utc>) -> Result<NewJob> {
        Ok(NewJob {
            kind: NOTIFICATION_JOB.to_owned(),
            demande: Some(notification.demande),
            payload: serde_json::to_value(notification)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
            run_at,
        })
    }

    /// The job with the usager's contact captured in its payload (see
    /// [`crate::contact`]).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] if the payload is not a JSON object.
    pub(crate) fn with_contact(mut self, contact: &crate::contact::Contact) -> Result<NewJob> {
        let value =
            serde_json::to_value(contact).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.payload
            .as_object_mut()
            .ok_or_else(|| StoreError::Invalid("charge utile de tâche non objet".into()))?
            .insert(crate::contact::CONTACT_KEY.to_owned(), value);
        Ok(self)
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Identifier.
    pub id: JobId,
    /// What to do.
    pub kind: String,
    /// The demande concerned, if any.
    pub demande: Option<DemandeId>,
    /// The data the worker needs.
    pub payload: serde_json::Value,
    /// Where it stands.
    pub status: JobStatus,
    /// How many times it was claimed.
    pub attempts: u32,
    /// Not before.
    pub next_attempt_at: DateTime<Utc>,
    /// The worker holding or last holding it.
    pub claimed_by: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Who gave it up (an administrator's login, or the command line), when
    /// abandoned.
    pub abandoned_by: Option<String>,
    /// When it was given up.
    pub abandoned_at: Option<DateTime<Utc>>,
}

/// The columns of a job, with its key ([`seal::key_columns`]).
fn job_columns() -> String {
    format!(
        "id, kind, demande_id, payload, status, attempts, next_attempt_at, claimed_by, \
         last_error, created_at, updated_at, abandoned_by, abandoned_at, {}",
        seal::key_columns("jobs.key_id")
    )
}

/// The sealed columns of jobs.
const PAYLOAD: &str = "jobs.payload";
const LAST_ERROR: &str = "jobs.last_error";

fn job(row: &AnyRow, keys: &Keyring) -> Result<Job> {
    let key = keys.of_row(row)?;
    let key = key.as_ref();
    Ok(Job {
        id: JobId(row.uuid("id")?),
        kind: row.text("kind")?,
        demande: row.uuid_opt("demande_id")?.map(DemandeId::from_uuid),
        payload: seal::open_json(key, PAYLOAD, row.text("payload")?)?,
        status: JobStatus::from_key(&row.text("status")?)?,
        attempts: u32::try_from(unsigned(row.int("attempts")?)).unwrap_or(u32::MAX),
        next_attempt_at: row.instant("next_attempt_at")?,
        claimed_by: row.text_opt("claimed_by")?,
        last_error: seal::open_opt(key, LAST_ERROR, row.text_opt("last_error")?)?,
        created_at: row.instant("created_at")?,
        updated_at: row.instant("updated_at")?,
        abandoned_by: row.text_opt("abandoned_by")?,
        abandoned_at: row.instant_opt("abandoned_at")?,
    })
}

/// Inserts jobs in the current transaction, in one statement, their
/// payloads sealed with `key` (their demande's, or one of their own);
/// returns their ids.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    jobs: &[NewJob],
    key: Option<&DataKey>,
    now: DateTime<Utc>,
) -> Result<Vec<JobId>> {
    let mut batch = Batch::on(conn);
    let ids = push_insert(&mut batch, jobs, key, now)?;
    batch.run(conn).await?;
    Ok(ids)
}

/// Adds to `batch` the statement of [`insert`]; returns the jobs' ids.
pub(crate) fn push_insert(
    batch: &mut Batch,
    jobs: &[NewJob],
    key: Option<&DataKey>,
    now: DateTime<Utc>,
) -> Result<Vec<JobId>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::with_capacity(jobs.len());
    let sql = batch.statement(
        "INSERT INTO jobs (id, kind, demande_id, payload, status, attempts, next_attempt_at, \
         claimed_by, lease_until, last_error, created_at, updated_at, key_id) VALUES ",
    );
    for (n, new) in jobs.iter().enumerate() {
        let id = JobId(new_id());
        sql.push(if n == 0 { "(" } else { ", (" })
            .bind(id.0.to_string())
            .push(", ")
            .bind(new.kind.clone())
            .push(", ")
            .bind(new.demande.map(|d| d.to_string()))
            .push(", ")
            .bind(seal::seal_json(key, PAYLOAD, &new.payload)?)
            .push(", ")
            .bind(JobStatus::Pending.key().to_owned())
            .push(", 0, ")
            .bind(millis(new.run_at))
            .push(", NULL, NULL, NULL, ")
            .bind(millis(now))
            .push(", ")
            .bind(millis(now))
            .push(", ")
            .bind(key.map(|key| key.id().to_owned()))
            .push(")");
        ids.push(id);
    }
    Ok(ids)
}

/// Deletes every job of a demande (anonymisation: payloads carry the
/// demande's free texts).
pub(crate) async fn delete_of(conn: &mut AnyConnection, demande: DemandeId) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE demande_id = $1")
        .bind(demande.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Erases the captured contact and free texts from an ended job's payload
/// (see [`crate::contact::strip`]), in the transaction that ends it. A job
/// with a key of its own (queued by an anonymisation, whose demande's key
/// is gone) is rewritten in clear and its key destroyed: what is left of
/// it names nobody.
async fn forget_contact(conn: &mut AnyConnection, keys: &Keyring, id: JobId) -> Result<()> {
    let row = sqlx::query(&format!(
        "SELECT payload, last_error, {}, \
         (SELECT COUNT(*) FROM demandes d WHERE d.key_id = jobs.key_id) AS sharing \
         FROM jobs WHERE id = $1",
        seal::key_columns("jobs.key_id")
    ))
    .bind(id.0.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let key = keys.of_row(&row)?;
    let mut payload: serde_json::Value =
        seal::open_json(key.as_ref(), PAYLOAD, row.text("payload")?)?;
    let stripped = crate::contact::strip(&mut payload);
    match key {
        Some(key) if row.int("sharing")? == 0 => {
            let last_error = seal::open_opt(Some(&key), LAST_ERROR, row.text_opt("last_error")?)?;
            sqlx::query(
                "UPDATE jobs SET payload = $1, last_error = $2, key_id = NULL WHERE id = $3",
            )
            .bind(to_json(&payload)?)
            .bind(last_error)
            .bind(id.0.to_string())
            .execute(&mut *conn)
            .await?;
            seal::release(conn, key.id()).await?;
        }
        key if stripped => {
            sqlx::query("UPDATE jobs SET payload = $1 WHERE id = $2")
                .bind(seal::seal_json(key.as_ref(), PAYLOAD, &payload)?)
                .bind(id.0.to_string())
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Appends history entries, each sealed with its demande's key.
async fn write_history(
    conn: &mut AnyConnection,
    keys: &Keyring,
    entries: &[HistoryEntry],
) -> Result<()> {
    for entry in entries {
        let key = keys.of_demande(conn, entry.demande).await?;
        crate::history::insert(conn, std::slice::from_ref(entry), key.as_ref()).await?;
    }
    Ok(())
}

/// What a job's success writes besides its completion, in the same
/// transaction ([`Store::complete_job_with`]).
#[derive(Debug, Clone, Default)]
pub struct Completion {
    /// The vendor's record kept as the demande's remote link, with the
    /// history entry written when the link is new.
    pub link: Option<(RemoteLink, Option<HistoryEntry>)>,
    /// The jobs that follow (the first reading of the vendor's record).
    pub jobs: Vec<NewJob>,
    /// Entries of the job's demande's history ("Mail « … » envoyé à
    /// l'usager le …").
    pub history: Vec<HistoryEntry>,
}

impl Store {
    /// Enqueues one job on its own (jobs caused by a state change go with
    /// it: see [`crate::outcome::Extras::jobs`]).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an unknown demande, a database error.
    pub async fn enqueue(&self, job: NewJob, now: DateTime<Utc>) -> Result<JobId> {
        let mut tx = self.begin().await?;
        let key = match job.demande {
            Some(demande) => self.keys.of_demande(&mut tx, demande).await?,
            None => None,
        };
        let ids = insert(&mut tx, std::slice::from_ref(&job), key.as_ref(), now).await?;
        tx.commit().await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("tâche non créée".into()))
    }

    /// Claims up to `limit` jobs of the given `kinds` ready at `now` for
    /// `worker` (pending and due, or running with an ended lease), oldest
    /// due first; counts one attempt each. Each worker claims the kinds it
    /// runs (the transmission worker `connector.transmit`).
    ///
    /// # Errors
    /// A database error.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        kinds: &[&str],
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let kinds_in = (0..kinds.len())
            .map(|i| format!("${}", 8 + i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE jobs SET status = $1, claimed_by = $2, lease_until = $3, \
             attempts = attempts + 1, updated_at = $4 \
             WHERE id IN (SELECT id FROM jobs WHERE ((status = $5 AND next_attempt_at <= $6) \
             OR (status = $1 AND lease_until <= $6)) AND kind IN ({kinds_in}) \
             ORDER BY next_attempt_at, created_at LIMIT $7{}) \
             RETURNING {}",
            self.skip_locked(),
            job_columns()
        );
        let mut tx = self.begin().await?;
        let mut query = sqlx::query(&sql)
            .bind(JobStatus::Running.key().to_owned())
            .bind(worker.to_owned())
            .bind(millis(now + JOB_LEASE))
            .bind(millis(now))
            .bind(JobStatus::Pending.key().to_owned())
            .bind(millis(now))
            .bind(i64::from(limit));
        for kind in kinds {
            query = query.bind((*kind).to_owned());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut jobs: Vec<Job> = rows
            .iter()
            .map(|row| job(row, &self.keys))
            .collect::<Result<_>>()?;
        jobs.sort_by_key(|j| (j.next_attempt_at, j.created_at, j.id));
        Ok(jobs)
    }

    /// Marks a job done.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if `worker` does not hold it (its lease
    /// ended and another worker claimed it), [`StoreError::NotFound`] if it
    /// is gone.
    pub async fn complete_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> Result<()> {
        self.complete_job_journaled(id, worker, now, &[]).await
    }

    /// [`Store::complete_job`], writing in the same transaction the
    /// connector calls the attempt made, each naming the job. The calls are
    /// written even when `worker` no longer holds the job: they were made.
    ///
    /// # Errors
    /// As [`Store::complete_job`].
    pub async fn complete_job_journaled(
        &self,
        id: JobId,
        worker: &str,
        now: DateTime<Utc>,
        calls: &[ConnectorCall],
    ) -> Result<()> {
        self.complete_job_with(id, worker, now, calls, &Completion::default())
            .await
    }

    /// [`Store::complete_job_journaled`], with what the job's success
    /// writes besides ([`Completion`]: the vendor's record as the
    /// demande's remote link, the jobs that follow), in the same
    /// transaction — written only when `worker` still holds the job, so a
    /// worker that lost its lease leaves them to the one that took it.
    ///
    /// # Errors
    /// As [`Store::complete_job`].
    pub async fn complete_job_with(
        &self,
        id: JobId,
        worker: &str,
        now: DateTime<Utc>,
        calls: &[ConnectorCall],
        completion: &Completion,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = self
            .complete_in(&mut tx, id, worker, now, calls, completion)
            .await?;
        tx.commit().await?;
        self.held(id, done).await
    }

    /// What [`Store::complete_job_with`] writes, in the caller's
    /// transaction; returns whether `worker` held the job (1) or not (0).
    async fn complete_in(
        &self,
        tx: &mut AnyConnection,
        id: JobId,
        worker: &str,
        now: DateTime<Utc>,
        calls: &[ConnectorCall],
        completion: &Completion,
    ) -> Result<u64> {
        insert_calls(&mut *tx, &self.keys, calls, Some(id)).await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, lease_until = NULL, last_error = NULL, updated_at = $2 \
             WHERE id = $3 AND status = $4 AND claimed_by = $5",
        )
        .bind(JobStatus::Done.key().to_owned())
        .bind(millis(now))
        .bind(id.0.to_string())
        .bind(JobStatus::Running.key().to_owned())
        .bind(worker.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            forget_contact(&mut *tx, &self.keys, id).await?;
            if let Some((link, entry)) = &completion.link {
                self.write_remote_link(&mut *tx, link, entry.as_ref())
                    .await?;
            }
            for job in &completion.jobs {
                let key = match job.demande {
                    Some(demande) => self.keys.of_demande(&mut *tx, demande).await?,
                    None => None,
                };
                insert(&mut *tx, std::slice::from_ref(job), key.as_ref(), now).await?;
            }
            write_history(&mut *tx, &self.keys, &completion.history).await?;
        }
        Ok(done.rows_affected())
    }

    /// Records a failed attempt: the job is retried at `retry_at`, or fails
    /// for good when `retry_at` is `None`.
    ///
    /// # Errors
    /// As [`Store::complete_job`].
    pub async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.fail_job_journaled(id, worker, error, retry_at, now, &[])
            .await
    }

    /// [`Store::fail_job`], writing in the same transaction the connector
    /// calls the attempt made (as [`Store::complete_job_journaled`]).
    ///
    /// # Errors
    /// As [`Store::complete_job`].
    pub async fn fail_job_journaled(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        calls: &[ConnectorCall],
    ) -> Result<()> {
        self.fail_job_with(id, worker, error, retry_at, now, calls, None)
            .await
    }

    /// [`Store::fail_job`], writing in the same transaction an entry of
    /// the job's demande's history ("Échec de l'envoi …").
    ///
    /// # Errors
    /// As [`Store::complete_job`].
    pub async fn fail_job_noted(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        note: Option<&HistoryEntry>,
    ) -> Result<()> {
        self.fail_job_with(id, worker, error, retry_at, now, &[], note)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn fail_job_with(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        calls: &[ConnectorCall],
        note: Option<&HistoryEntry>,
    ) -> Result<()> {
        let (status, next) = match retry_at {
            Some(at) => (JobStatus::Pending, at),
            None => (JobStatus::Failed, now),
        };
        let error: String = error.chars().take(MAX_ERROR_LENGTH).collect();
        let mut tx = self.begin().await?;
        insert_calls(&mut tx, &self.keys, calls, Some(id)).await?;
        let key = self.keys.of_job(&mut tx, id.0).await?;
        let error = seal::seal(key.as_ref(), LAST_ERROR, error)?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, next_attempt_at = $2, lease_until = NULL, last_error = $3, \
             updated_at = $4 WHERE id = $5 AND status = $6 AND claimed_by = $7",
        )
        .bind(status.key().to_owned())
        .bind(millis(next))
        .bind(error)
        .bind(millis(now))
        .bind(id.0.to_string())
        .bind(JobStatus::Running.key().to_owned())
        .bind(worker.to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 && status == JobStatus::Failed {
            forget_contact(&mut tx, &self.keys, id).await?;
        }
        if done.rows_affected() > 0 {
            let entries = note.map(std::slice::from_ref).unwrap_or_default();
            write_history(&mut tx, &self.keys, entries).await?;
        }
        tx.commit().await?;
        self.held(id, done.rows_affected()).await
    }

    /// Gives a job `worker` claimed back to the queue without running it,
    /// due at `until`; its claim does not count as an attempt (a circuit
    /// breaker left the vendor alone).
    ///
    /// # Errors
    /// As [`Store::complete_job`].
    pub async fn release_job(
        &self,
        id: JobId,
        worker: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, next_attempt_at = $2, lease_until = NULL, \
             attempts = attempts - 1, updated_at = $3 WHERE id = $4 AND status = $5 AND claimed_by = $6",
        )
        .bind(JobStatus::Pending.key().to_owned())
        .bind(millis(until))
        .bind(millis(now))
        .bind(id.0.to_string())
        .bind(JobStatus::Running.key().to_owned())
        .bind(worker.to_owned())
        .execute(&self.write)
        .await?;
        self.held(id, done.rows_affected()).await
    }

    async fn held(&self, id: JobId, changed: u64) -> Result<()> {
        if changed > 0 {
            return Ok(());
        }
        self.job(id).await?;
        Err(StoreError::Conflict(format!(
            "la tâche {id} n'est pas détenue par ce processus"
        )))
    }

    /// A job.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such job.
    pub async fn job(&self, id: JobId) -> Result<Job> {
        let row = sqlx::query(&format!("SELECT {} FROM jobs WHERE id = $1", job_columns()))
            .bind(id.0.to_string())
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("tâche"))?;
        job(&row, &self.keys)
    }

    /// The jobs of a demande, oldest first (the transmissions agents see
    /// on it).
    ///
    /// # Errors
    /// A database error.
    pub async fn jobs_of(&self, demande: DemandeId) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE demande_id = $1 ORDER BY created_at, id",
            job_columns()
        ))
        .bind(demande.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|row| job(row, &self.keys)).collect()
    }
}
