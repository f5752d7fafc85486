//! `/api/admin/jobs`: the queue (jobs waiting and running, per kind, with
//! the counts), the jobs failed for good (a transmission the vendor
//! refused, a mail the SMTP server refused, or too many attempts), putting
//! one back in the queue and giving one up for good
//! (`crate::service::administration::jobs`).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use guichet_store::job::{Job, JobId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::routes::{Access, ApiRouter, Doc};
use crate::http::{Admin, ApiError, AppState};
use crate::service::Caller;
use crate::service::administration::Administrator;
use crate::service::administration::jobs::{self, Operator};

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/admin/jobs/queue",
            queue,
            Doc::new(
                "La file des tâches (mails, SMS, transmissions) : combien attendent, s'exécutent ou ont échoué, et les prochaines à exécuter",
                Access::Administrator,
            )
            .query::<QueueFilter>()
            .gives::<QueueView>(),
        )
        .get(
            "/api/admin/jobs/failed",
            failed,
            Doc::new(
                "Les tâches en échec définitif (transmissions refusées ou trop de tentatives), les plus récentes d'abord",
                Access::Administrator,
            )
            .gives::<Vec<JobView>>(),
        )
        .post(
            "/api/admin/jobs/{id}/retry",
            retry,
            Doc::new(
                "Remettre une tâche en échec dans la file, à exécuter tout de suite",
                Access::Administrator,
            )
            .gives::<JobView>(),
        )
        .post(
            "/api/admin/jobs/{id}/abandon",
            abandon,
            Doc::new(
                "Abandonner pour de bon une tâche en échec : elle quitte la liste et n'est plus exécutée ; une transmission abandonnée l'est aussi dans l'historique des agents de la demande",
                Access::Administrator,
            )
            .gives::<JobView>(),
        )
}

/// A job as administrators see it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobView {
    /// Identifier.
    pub id: Uuid,
    /// What it does (`connector.transmit`, `notification`).
    pub kind: String,
    /// The demande concerned, if any.
    pub demande: Option<Uuid>,
    /// `pending`, `running`, `done`, `failed` or `abandoned`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt (while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure, in French.
    pub last_error: Option<String>,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Who gave it up (an administrator's login, or the command line),
    /// once abandoned.
    pub abandoned_by: Option<String>,
    /// When it was given up.
    pub abandoned_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        JobView {
            id: job.id.0,
            kind: job.kind,
            demande: job.demande.map(|d| d.uuid()),
            status: serde_json::to_value(job.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            attempts: job.attempts,
            next_attempt_at: job.next_attempt_at,
            last_error: job.last_error,
            created_at: job.created_at,
            updated_at: job.updated_at,
            abandoned_by: job.abandoned_by,
            abandoned_at: job.abandoned_at,
        }
    }
}

/// Which jobs of the queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueFilter {
    /// A kind of job; all when absent. Another value is refused (400).
    pub kind: Option<QueueKind>,
}

/// The kinds of jobs in the queue.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
pub enum QueueKind {
    /// Mails and SMS (`service::notifications`).
    #[serde(rename = "notification")]
    Notification,
    /// Transmissions to a vendor (`service::transmission`).
    #[serde(rename = "connector.transmit")]
    Transmit,
    /// Readings of a vendor's record (`service::synchronisation`).
    #[serde(rename = "connector.sync")]
    Sync,
}

impl QueueKind {
    /// The stored kind.
    fn key(self) -> &'static str {
        match self {
            QueueKind::Notification => guichet_store::job::NOTIFICATION_JOB,
            QueueKind::Transmit => crate::service::transmission::TRANSMIT_JOB,
            QueueKind::Sync => crate::service::synchronisation::SYNC_JOB,
        }
    }
}

/// The queue.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QueueView {
    /// Jobs waiting for their next attempt.
    pub pending: u64,
    /// Jobs being run by a worker.
    pub running: u64,
    /// Jobs failed for good (see `/api/admin/jobs/failed`).
    pub failed: u64,
    /// The next jobs to run (waiting or running), due first, at most 200.
    pub jobs: Vec<JobView>,
}

async fn queue(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiQuery(filter): ApiQuery<QueueFilter>,
) -> Result<Json<QueueView>, ApiError> {
    let queue = jobs::queue(&state.guichet(), &admin, filter.kind.map(QueueKind::key)).await?;
    Ok(Json(QueueView {
        pending: queue.pending,
        running: queue.running,
        failed: queue.failed,
        jobs: queue.jobs.into_iter().map(JobView::from).collect(),
    }))
}

async fn failed(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<JobView>>, ApiError> {
    let failed = jobs::failed(&state.guichet(), &admin).await?;
    Ok(Json(failed.into_iter().map(JobView::from).collect()))
}

async fn retry(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobView>, ApiError> {
    let job = jobs::retry(&state.guichet(), &admin, JobId(id)).await?;
    Ok(Json(JobView::from(job)))
}

async fn abandon(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<JobView>, ApiError> {
    let admin = Administrator::check(&caller)?;
    let by = Operator::Account {
        id: caller.user.id,
        login: caller.user.login.clone(),
    };
    let job = jobs::abandon(&state.guichet(), &admin, &by, JobId(id)).await?;
    Ok(Json(JobView::from(job)))
}
