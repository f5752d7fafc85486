//! `/admin/files-d-attente`: the jobs failed for good (the dead letters:
//! a transmission the vendor refused, a mail the server refused, too many
//! attempts), each with *Relancer* (back in the queue, due now) and
//! *Abandonner* (given up for good, written in the demande's history), and
//! the notification queue (mails and SMS waiting or being sent), from
//! `service::administration::jobs` — the use cases of the API's
//! `/api/admin/jobs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use guichet_store::job::{Job, JobId, JobStatus, NOTIFICATION_JOB};
use guichet_store::password_link::PASSWORD_LINK_JOB;
use serde::Deserialize;
use uuid::Uuid;

use super::{Admin, CONFIRM_FIELD, date_time, sentence};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::administration::jobs::{self, Operator};
use crate::service::synchronisation::SYNC_JOB;
use crate::service::transmission::TRANSMIT_JOB;
use crate::web::back_office::Desk;
use crate::web::session::Checked;
use crate::web::{ErrorView, Errors, Site, failure, page, see_other};

/// A job as listed.
struct JobView {
    id: String,
    kind: String,
    /// The connector instance a transmission or reading is for.
    instance: Option<String>,
    /// The back office's page of its demande.
    demande: Option<String>,
    status: &'static str,
    attempts: u32,
    last_error: Option<String>,
    /// When it failed (a dead letter) or is due (the queue).
    when: String,
}

fn kind_label(kind: &str) -> String {
    match kind {
        TRANSMIT_JOB => "Transmission à une application métier".to_owned(),
        SYNC_JOB => "Lecture du dossier chez une application métier".to_owned(),
        NOTIFICATION_JOB => "Notification (courriel ou SMS)".to_owned(),
        PASSWORD_LINK_JOB => "Lien pour choisir un mot de passe (courriel)".to_owned(),
        other => other.to_owned(),
    }
}

fn status_label(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "En attente",
        JobStatus::Running => "En cours",
        JobStatus::Done => "Terminée",
        JobStatus::Failed => "En échec définitif",
        JobStatus::Abandoned => "Abandonnée",
    }
}

fn job_view(state: &AppState, job: Job, failed: bool) -> JobView {
    JobView {
        id: job.id.0.to_string(),
        kind: kind_label(&job.kind),
        instance: job.payload["instance"].as_str().map(str::to_owned),
        demande: job
            .demande
            .map(|d| format!("/back-office/demandes/{}", d.uuid())),
        status: status_label(job.status),
        attempts: job.attempts,
        last_error: job.last_error,
        when: date_time(
            state,
            if failed {
                job.updated_at
            } else {
                job.next_attempt_at
            },
        ),
    }
}

#[derive(Template)]
#[template(path = "admin/queues.html")]
struct QueuesPage {
    desk: Desk,
    failed: Vec<JobView>,
    pending: u64,
    running: u64,
    notifications: Vec<JobView>,
    done: Option<String>,
    errors: Errors,
}

impl QueuesPage {
    /// The error on `field`, if any (for the template).
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.of(field)
    }
}

/// What the address says was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    fait: String,
}

async fn queues_page(
    state: &AppState,
    site: &Site,
    admin: &Admin,
    done: Option<String>,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let failed = match jobs::failed(&guichet, &admin.proof).await {
        Ok(failed) => failed,
        Err(error) => return failure(site, error),
    };
    let queue = match jobs::queue(&guichet, &admin.proof, Some(NOTIFICATION_JOB)).await {
        Ok(queue) => queue,
        Err(error) => return failure(site, error),
    };
    page(
        errors.status(),
        &QueuesPage {
            desk: admin.desk(site.clone()),
            failed: failed
                .into_iter()
                .map(|job| job_view(state, job, true))
                .collect(),
            pending: queue.pending,
            running: queue.running,
            notifications: queue
                .jobs
                .into_iter()
                .map(|job| job_view(state, job, false))
                .collect(),
            done,
            errors,
        },
    )
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    let text = match done.fait.as_str() {
        "relance" => Some(
            "La tâche est remise dans la file : elle sera exécutée dans les prochaines secondes."
                .to_owned(),
        ),
        "abandon" => Some(
            "La tâche est abandonnée : elle ne sera plus exécutée, et l'historique de sa demande le dit."
                .to_owned(),
        ),
        _ => None,
    };
    queues_page(&state, &site, &admin, text, Errors::default()).await
}

/// What an administrator does to a dead letter.
#[derive(Debug, Clone, Copy)]
enum Act {
    Retry,
    Abandon,
}

impl Act {
    /// The form's name (`relance`, `abandon`).
    fn name(self) -> &'static str {
        match self {
            Act::Retry => "relance",
            Act::Abandon => "abandon",
        }
    }
}

async fn act(
    state: AppState,
    site: Site,
    admin: Admin,
    id: String,
    confirmed: bool,
    what: Act,
) -> Response {
    let field = format!("{}-{id}-{CONFIRM_FIELD}", what.name());
    let refused = |message: String| {
        Errors(vec![ErrorView {
            anchor: field.clone(),
            field: field.clone(),
            message,
            label: Some("Tâche en échec".to_owned()),
        }])
    };
    if !confirmed {
        let verb = match what {
            Act::Retry => "relancer",
            Act::Abandon => "abandonner",
        };
        let errors = refused(format!(
            "Cochez la case pour confirmer : {verb} cette tâche."
        ));
        return queues_page(&state, &site, &admin, None, errors).await;
    }
    let Ok(uuid) = Uuid::parse_str(&id) else {
        return failure(
            &site,
            ServiceError::NotFound("aucune tâche avec cet identifiant"),
        );
    };
    let guichet = state.guichet();
    let done = match what {
        Act::Retry => jobs::retry(&guichet, &admin.proof, JobId(uuid)).await,
        Act::Abandon => {
            let by = Operator::Account {
                id: admin.caller.user.id,
                login: admin.caller.user.login.clone(),
            };
            jobs::abandon(&guichet, &admin.proof, &by, JobId(uuid)).await
        }
    };
    match done {
        Ok(_) => see_other(&format!("/admin/files-d-attente?fait={}", what.name())),
        Err(ServiceError::JobAbandoned(text) | ServiceError::JobNotFailed(text)) => {
            let errors = refused(format!("{}.", sentence(&text)));
            queues_page(&state, &site, &admin, None, errors).await
        }
        Err(error) => failure(&site, error),
    }
}

pub(super) async fn retry(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let confirmed = posted.has(CONFIRM_FIELD);
    act(state, site, admin, id, confirmed, Act::Retry).await
}

pub(super) async fn abandon(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let confirmed = posted.has(CONFIRM_FIELD);
    act(state, site, admin, id, confirmed, Act::Abandon).await
}
