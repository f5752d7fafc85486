//! The administration in the browser (`/admin/…`, `../shared/WEB.md`):
//! the connectors — installed versions, upload of a new one, each
//! instance's active version with activation and rollback
//! (`admin/connectors.rs`), an instance's configuration form generated
//! from its connector's JSON Schema, its availability check
//! (`admin/instance.rs`, `admin/settings.rs`), a new instance of an
//! installed connector (`admin/new_instance.rs`), the journal of the calls
//! (`admin/journal.rs`) — and the queues: the jobs failed for good with
//! their retry and abandon, the notifications waiting (`admin/queues.rs`).
//!
//! **Who.** Every page takes an [`Admin`]: a logged-in agent who passes
//! [`Administrator::check`] (the `administration` right on every
//! démarche). Anyone else gets a 403 page — a forged POST included, since
//! the extractor runs before the form is read — and the layout shows the
//! *Administration* link to administrators only (`Desk`).
//!
//! **Same rules as the API.** Handlers call the use cases the JSON API
//! calls (`crate::service::connectors`, `journal`,
//! `administration::jobs`): a component is checked by the runtime, a
//! configuration by the connector's schema, a retry by the job's state —
//! in the service, never here. What they refuse is shown on the page as
//! the error summary (422), in French.
//!
//! **Confirmation.** Activating a version, rolling back, retrying and
//! abandoning a job each need their box *Je confirme* ticked: a click by
//! mistake changes nothing.

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};

use super::back_office::{Agent, Desk};
use super::{Site, page};
use crate::http::AppState;
use crate::service::Caller;
use crate::service::administration::Administrator;

mod connectors;
mod instance;
mod journal;
mod new_instance;
mod queues;
mod settings;

/// The box a confirmation ticks.
const CONFIRM_FIELD: &str = "confirme";

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route(
            "/admin/connecteurs",
            get(connectors::list).post(connectors::upload),
        )
        .route("/admin/connecteurs/journal", get(journal::show))
        .route("/admin/connecteurs/instances/{id}", get(instance::show))
        .route(
            "/admin/connecteurs/{connector}/nouvelle-instance",
            get(new_instance::show).post(new_instance::create),
        )
        .route(
            "/admin/connecteurs/instances/{id}/activation",
            post(connectors::activate),
        )
        .route(
            "/admin/connecteurs/instances/{id}/retour",
            post(connectors::rollback),
        )
        .route(
            "/admin/connecteurs/instances/{id}/configuration",
            post(instance::configure),
        )
        .route(
            "/admin/connecteurs/instances/{id}/verification",
            post(instance::check),
        )
        .route("/admin/files-d-attente", get(queues::show))
        .route("/admin/files-d-attente/{id}/relance", post(queues::retry))
        .route("/admin/files-d-attente/{id}/abandon", post(queues::abandon))
}

/// A logged-in administrator: the agent, and the proof the use cases of
/// the administration ask for. An anonymous visitor is sent to the login
/// page, an usager or an agent without the right gets a 403 page.
pub(crate) struct Admin {
    /// The agent.
    pub(crate) caller: Caller,
    /// The proof the administration use cases ask for, checked once, here.
    pub(crate) proof: Administrator,
    /// The layout's data.
    pub(crate) desk: Desk,
}

impl Admin {
    /// The layout's data for this administrator.
    fn desk(&self, site: Site) -> Desk {
        Desk::of(site, &self.caller)
    }
}

/// The page an agent without the right gets.
#[derive(Template)]
#[template(path = "admin/forbidden.html")]
struct ForbiddenPage {
    desk: Desk,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Agent(caller) = Agent::from_request_parts(parts, state).await?;
        match Administrator::check(&caller) {
            Ok(proof) => {
                let Ok(site) = Site::from_request_parts(parts, state).await;
                Ok(Admin {
                    desk: Desk::of(site, &caller),
                    caller,
                    proof,
                })
            }
            Err(_) => {
                let Ok(site) = Site::from_request_parts(parts, state).await;
                Err(page(
                    StatusCode::FORBIDDEN,
                    &ForbiddenPage {
                        desk: Desk::of(site, &caller),
                    },
                ))
            }
        }
    }
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    desk: Desk,
}

async fn index(site: Site, admin: Admin) -> Response {
    page(
        StatusCode::OK,
        &IndexPage {
            desk: admin.desk(site),
        },
    )
}

/// A message of the application layer as a sentence: its first letter
/// capitalised (`connecteur inconnu…` → `Connecteur inconnu…`).
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A date and time in the collectivité's time zone (`12/03/2027 à 14:05`).
fn date_time(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    state
        .guichet()
        .zone
        .local(at)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn a_message_becomes_a_sentence() {
        assert_eq!(sentence("connecteur inconnu"), "Connecteur inconnu");
        assert_eq!(sentence("écrit"), "Écrit");
        assert_eq!(sentence(""), "");
    }
}
