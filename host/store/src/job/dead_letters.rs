//! Dead letters: the jobs that failed for good, which an administrator
//! lists, puts back ([`Store::retry_job`]) or gives up
//! ([`Store::abandon_job`], with an entry in the demande's history).

use chrono::{DateTime, Utc};
use guichet_core::history::HistoryEntry;

use super::{Job, JobId, JobStatus, job, job_columns};
use crate::Store;
use crate::error::{Result, StoreError};
use crate::sql::millis;

impl Store {
    /// Puts a failed job back in the queue, due at `now`. Its captured
    /// contact was erased when it failed for good: its worker reaches the
    /// usager through the account, if the demande still has one.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no failed job with this id (an
    /// abandoned job stays abandoned).
    pub async fn retry_job(&self, id: JobId, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, next_attempt_at = $2, updated_at = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(JobStatus::Pending.key().to_owned())
        .bind(millis(now))
        .bind(millis(now))
        .bind(id.0.to_string())
        .bind(JobStatus::Failed.key().to_owned())
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("tâche en échec"));
        }
        Ok(())
    }

    /// Gives up a failed job for good: it becomes `abandoned`, with who
    /// (`by`) and when, and leaves the failed jobs; `entry`, if given, is
    /// appended to its demande's history in the same transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no failed job with this id.
    pub async fn abandon_job(
        &self,
        id: JobId,
        by: &str,
        entry: Option<&HistoryEntry>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, abandoned_by = $2, abandoned_at = $3, updated_at = $3, \
             lease_until = NULL WHERE id = $4 AND status = $5",
        )
        .bind(JobStatus::Abandoned.key().to_owned())
        .bind(by.to_owned())
        .bind(millis(now))
        .bind(id.0.to_string())
        .bind(JobStatus::Failed.key().to_owned())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("tâche en échec"));
        }
        if let Some(entry) = entry {
            let key = self.keys.of_demande(&mut tx, entry.demande).await?;
            crate::history::insert(&mut tx, std::slice::from_ref(entry), key.as_ref()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The jobs that failed for good, most recent first, at most `limit`.
    ///
    /// # Errors
    /// A database error.
    pub async fn failed_jobs(&self, limit: u32) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE status = $1 ORDER BY updated_at DESC, id LIMIT $2",
            job_columns()
        ))
        .bind(JobStatus::Failed.key().to_owned())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|row| job(row, &self.keys)).collect()
    }
}
