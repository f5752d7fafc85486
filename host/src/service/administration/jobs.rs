//! The jobs that failed for good (the dead letters): a transmission the
//! vendor refused, or that failed [`MAX_ATTEMPTS`] times. An administrator
//! reads them and puts one back in the queue once the cause is fixed (the
//! instance's configuration, the vendor's referential…).
//!
//! [`MAX_ATTEMPTS`]: crate::service::transmission::MAX_ATTEMPTS

use guichet_store::StoreError;
use guichet_store::job::{Job, JobId};

use super::Administrator;
use crate::service::{Guichet, ServiceError};

/// At most this many failed jobs are listed, the latest first.
pub const FAILED_LIMIT: u32 = 200;

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
/// `NotFound` when there is no failed job with this id.
pub async fn retry(guichet: &Guichet, _: &Administrator, id: JobId) -> Result<Job, ServiceError> {
    match guichet.store.retry_job(id, guichet.now()).await {
        Ok(()) => Ok(guichet.store.job(id).await?),
        Err(StoreError::NotFound(_)) => Err(ServiceError::NotFound(
            "aucune tâche en échec définitif avec cet identifiant",
        )),
        Err(other) => Err(other.into()),
    }
}
