//! `guichet connector dead-letters`: the jobs failed for good (a
//! transmission the vendor refused, or that failed too many times), then
//! `dead-letters retry <id>` puts one back in the queue and
//! `dead-letters abandon <id>` gives one up for good — the use cases of the
//! admin API ([`crate::service::administration::jobs`]), acting as the
//! operator of the command line (recorded as `ligne de commande (<user>)`).

use clap::Subcommand;
use guichet_store::job::{Job, JobId};

use super::{Target, printable};
use crate::cli::Failure;
use crate::http::admin::jobs::JobView;
use crate::service::ServiceError;
use crate::service::administration::Administrator;
use crate::service::administration::jobs::{self, Operator};

/// `dead-letters` and its actions.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(in crate::cli) struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    target: Target,
}

/// What to do with one failed job.
#[derive(Debug, Subcommand)]
pub(in crate::cli) enum Action {
    /// Puts a failed job back in the queue, due now.
    Retry {
        /// The job's identifier.
        id: uuid::Uuid,
        #[command(flatten)]
        target: Target,
    },
    /// Gives up a failed job for good (it leaves the list; a transmission
    /// then reads « abandonnée » to agents).
    Abandon {
        /// The job's identifier.
        id: uuid::Uuid,
        #[command(flatten)]
        target: Target,
    },
}

pub(super) async fn run(args: Args) -> Result<(), Failure> {
    let admin = Administrator::command_line();
    match args.action {
        None => {
            let target = args.target;
            let app = target.open().await?;
            let listed = jobs::failed(&app.state.guichet(), &admin).await;
            app.state.store.close().await;
            let failed: Vec<JobView> = listed
                .map_err(|e| Failure::input(printable(&e.to_string())))?
                .into_iter()
                .map(JobView::from)
                .collect();
            target.answer(&failed, || {
                if failed.is_empty() {
                    return "Aucune tâche en échec définitif.".to_owned();
                }
                failed.iter().map(line).collect::<Vec<_>>().join("\n")
            })
        }
        Some(Action::Retry { id, target }) => {
            let app = target.open().await?;
            let done = jobs::retry(&app.state.guichet(), &admin, JobId(id)).await;
            app.state.store.close().await;
            let job = view(done)?;
            target.answer(&job, || {
                format!("Tâche {} remise dans la file ({}).", job.id, job.kind)
            })
        }
        Some(Action::Abandon { id, target }) => {
            let app = target.open().await?;
            let by = Operator::command_line();
            let done = jobs::abandon(&app.state.guichet(), &admin, &by, JobId(id)).await;
            app.state.store.close().await;
            let job = view(done)?;
            target.answer(&job, || {
                format!(
                    "Tâche {} abandonnée ({}) : elle ne sera plus exécutée.",
                    job.id, job.kind
                )
            })
        }
    }
}

/// The job as the API shows it, or the refusal in French.
fn view(done: Result<Job, ServiceError>) -> Result<JobView, Failure> {
    done.map(JobView::from)
        .map_err(|e| Failure::input(printable(&e.to_string())))
}

/// One failed job, as a line of text.
fn line(job: &JobView) -> String {
    format!(
        "{} {}{} — {} tentative(s), dernière erreur : {}",
        job.id,
        job.kind,
        job.demande
            .map(|d| format!(" (demande {d})"))
            .unwrap_or_default(),
        job.attempts,
        job.last_error.as_deref().unwrap_or("aucune")
    )
}
