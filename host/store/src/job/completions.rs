//! Group commit: the successes of several jobs recorded in one write
//! transaction ([`Store::complete_jobs_with`]).
//!
//! A worker running jobs side by side records each success with what it
//! writes besides (its calls, the vendor's record, the jobs that follow).
//! One transaction per success makes the database's single writer — on
//! SQLite, one connection served by one thread — hand over its lock and
//! commit once per job; gathering the successes ready at the same moment
//! into one transaction pays that once for all of them (`BENCHMARKS.md`,
//! the connector queue). Each success is written only if its worker still
//! holds the job, exactly as [`Store::complete_job_with`] does, and each
//! gets its own answer.

use chrono::{DateTime, Utc};

use super::{Completion, JobId};
use crate::Store;
use crate::connector::ConnectorCall;
use crate::error::Result;

/// The success of one job, to record with others.
#[derive(Debug, Clone)]
pub struct JobSuccess {
    /// The job.
    pub id: JobId,
    /// The connector calls its attempt made.
    pub calls: Vec<ConnectorCall>,
    /// What it writes besides.
    pub completion: Completion,
}

impl Store {
    /// Records the successes of `worker`'s jobs at `now` in one
    /// transaction: for each, what [`Store::complete_job_with`] writes.
    /// The answers are in the order of `successes`.
    ///
    /// # Errors
    /// The whole call fails, nothing written, on a database error (every
    /// job stays claimed and runs again when its lease ends). Each answer
    /// is [`crate::StoreError::Conflict`] for a job `worker` no longer holds (its
    /// writes are skipped, the others' kept), [`StoreError::NotFound`] for
    /// one that does not exist ([`crate::StoreError::NotFound`]).
    pub async fn complete_jobs_with(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        successes: &[JobSuccess],
    ) -> Result<Vec<Result<()>>> {
        let mut tx = self.begin().await?;
        let mut done = Vec::with_capacity(successes.len());
        for success in successes {
            done.push(
                self.complete_in(
                    &mut tx,
                    success.id,
                    worker,
                    now,
                    &success.calls,
                    &success.completion,
                )
                .await?,
            );
        }
        tx.commit().await?;
        let mut answers = Vec::with_capacity(successes.len());
        for (success, changed) in successes.iter().zip(done) {
            answers.push(self.held(success.id, changed).await);
        }
        Ok(answers)
    }
}
