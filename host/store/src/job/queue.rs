//! The queue as administrators see it: how many jobs wait, run and failed
//! for good, and the waiting and running ones, due first.

use super::{Job, JobStatus, job, job_columns};
use crate::Store;
use crate::error::Result;
use crate::sql::RowExt;

/// The queue of one kind of job (or of every kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    /// Jobs waiting for their next attempt.
    pub pending: u64,
    /// Jobs claimed by a worker now.
    pub running: u64,
    /// Jobs failed for good, waiting for an administrator.
    pub failed: u64,
    /// The waiting and running jobs, due first, at most the limit asked.
    pub jobs: Vec<Job>,
}

impl Store {
    /// The queue of jobs of `kind` (every kind when `None`): counts, and
    /// the `limit` waiting or running jobs due first.
    ///
    /// # Errors
    /// A database error, or a sealed payload that does not open.
    pub async fn job_queue(&self, kind: Option<&str>, limit: u32) -> Result<Queue> {
        let kind = kind.map(str::to_owned);
        let counts = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM jobs WHERE ($1 IS NULL OR kind = $1) \
             AND status IN ('pending', 'running', 'failed') GROUP BY status",
        )
        .bind(kind.clone())
        .fetch_all(&self.read)
        .await?;
        let mut queue = Queue {
            pending: 0,
            running: 0,
            failed: 0,
            jobs: Vec::new(),
        };
        for row in &counts {
            let n = u64::try_from(row.int("n")?).unwrap_or_default();
            match JobStatus::from_key(&row.text("status")?)? {
                JobStatus::Pending => queue.pending = n,
                JobStatus::Running => queue.running = n,
                JobStatus::Failed => queue.failed = n,
                JobStatus::Done | JobStatus::Abandoned => {}
            }
        }
        let rows = sqlx::query(&format!(
            "SELECT {} FROM jobs WHERE ($1 IS NULL OR kind = $1) AND status IN ('pending', 'running') \
             ORDER BY next_attempt_at, id LIMIT $2",
            job_columns()
        ))
        .bind(kind)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        queue.jobs = rows
            .iter()
            .map(|row| job(row, &self.keys))
            .collect::<Result<_>>()?;
        Ok(queue)
    }
}
