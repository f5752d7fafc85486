//! `/api/demandes`: an usager's own demandes — the list with the status as
//! the usager sees it, the detail with the summary and the actions open to
//! them, their history (usager-visible entries only), *Répondre au service*
//! (with an optional file) and abandon (with confirmation, from *en cours
//! d'analyse*, *acceptée* and *en cours de traitement* only, as the
//! workflow says). Someone else's demande answers 404, never 403, so that
//! ids cannot be probed.
//!
//! The usager follows their demande to its end: an anonymised demande stays
//! in the list and its page (number, démarche, dates, statuses, the answers
//! anonymisation keeps — none personal), through the account link the
//! store keeps; a demande in the trash shows as closed
//! (`guichet_core::trash`), never as still being processed.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use guichet_core::actor::{Actor, ActorKind};
use guichet_core::demande::Demande;
use guichet_core::file::FileRef;
use guichet_core::history::{Author, HistoryEntry};
use guichet_core::id::{DemandeId, FileId};
use guichet_core::workflow::{Action, Input, Transition, Workflow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::UsagerUser;
use super::extract::{ApiJson, ApiPath};
use super::form::{SummaryPageView, summary_view};
use super::routes::{Access, ApiRouter, Body, Doc};
use super::upload::{JsonOrForm, json_or_form};
use super::{ApiError, AppState, FieldCode, FieldProblem};
use crate::service::files::{self, Download};
use crate::service::processing::{self, Attachment, Loaded};
use crate::service::usager_demandes;

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .get(
            "/api/demandes",
            list,
            Doc::new("Mes demandes et leur statut", Access::Usager).gives::<Vec<DemandeItem>>(),
        )
        .get(
            "/api/demandes/{id}",
            show,
            Doc::new(
                "Une de mes demandes : statut, récapitulatif, actions possibles",
                Access::Usager,
            )
            .gives::<UsagerDemande>(),
        )
        .get(
            "/api/demandes/{id}/history",
            history,
            Doc::new("L'historique de ma demande", Access::Usager).gives::<Vec<HistoryItem>>(),
        )
        .post(
            "/api/demandes/{id}/reply",
            reply,
            Doc::new(
                "Répondre au service (JSON {message}, ou multipart message + file)",
                Access::Usager,
            )
            .takes::<Reply>()
            .gives::<UsagerDemande>(),
        )
        .post(
            "/api/demandes/{id}/abandon",
            abandon,
            Doc::new(
                "Abandonner ma démarche (confirmation requise)",
                Access::Usager,
            )
            .takes::<Confirmation>()
            .gives::<UsagerDemande>(),
        )
        .get(
            "/api/demandes/{id}/files/{file}",
            download,
            Doc::new("Télécharger une pièce de ma demande", Access::Usager).answers(Body::File),
        )
}

/// A status, with its label.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusView {
    /// Identifier.
    pub id: String,
    /// Label.
    pub label: String,
}

/// A line of my demandes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DemandeItem {
    /// Identifier.
    pub id: Uuid,
    /// Number.
    pub numero: String,
    /// The démarche's slug.
    pub demarche: String,
    /// The démarche's title.
    pub title: String,
    /// The status as the usager sees it.
    pub status: StatusView,
    /// Filed.
    pub submitted_at: DateTime<Utc>,
}

/// An action a person can run, for the buttons of a page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ActionView {
    /// The transition to name in the action.
    pub transition: String,
    /// Label of the button.
    pub label: String,
    /// Inputs that must be given.
    pub requires: Vec<Input>,
    /// Inputs that may be given.
    pub accepts: Vec<Input>,
    /// Whether `confirmed: true` is needed.
    pub confirm: bool,
}

impl From<&Transition> for ActionView {
    fn from(t: &Transition) -> Self {
        ActionView {
            transition: t.id.0.clone(),
            label: t.label.clone(),
            requires: t.requires.clone(),
            accepts: t.accepts.clone(),
            confirm: t.confirm,
        }
    }
}

/// One of my demandes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsagerDemande {
    /// Identifier.
    pub id: Uuid,
    /// Number.
    pub numero: String,
    /// The démarche's slug.
    pub demarche: String,
    /// The version filed on.
    pub version: u32,
    /// The démarche's title.
    pub title: String,
    /// The status as the usager sees it.
    pub status: StatusView,
    /// Filed.
    pub submitted_at: DateTime<Utc>,
    /// The answers, as shown to people.
    pub summary: Vec<SummaryPageView>,
    /// What the usager can do now.
    pub actions: Vec<ActionView>,
}

/// An entry of a history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryItem {
    /// When.
    pub at: DateTime<Utc>,
    /// The event (`depot`, `prendre_en_compte`, `echanger`…).
    pub event: String,
    /// Who: `usager`, `agent` or `systeme`.
    pub author: String,
    /// The agent's account, in the agents' history only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Uuid>,
    /// The status after the event.
    pub status: String,
    /// The text written by the workflow.
    pub text: String,
    /// The free text typed by a person.
    pub message: Option<String>,
    /// The file attached.
    pub attachment: Option<FileRef>,
}

/// An entry as shown; agents see which agent wrote it.
pub(crate) fn history_item(entry: &HistoryEntry, show_agent: bool) -> HistoryItem {
    let (author, agent) = match entry.author {
        Author::Usager(_) => ("usager", None),
        Author::Agent(id) => ("agent", show_agent.then_some(id.uuid())),
        Author::System => ("systeme", None),
    };
    HistoryItem {
        at: entry.at,
        event: entry.event.clone(),
        author: author.to_owned(),
        agent,
        status: entry.status.to_string(),
        text: entry.text.clone(),
        message: entry.message.clone(),
        attachment: entry.attachment.clone(),
    }
}

fn status_view(workflow: &Workflow, demande: &Demande) -> StatusView {
    let (id, label) = usager_demandes::status(workflow, demande);
    StatusView { id, label }
}

/// The caller's own demande (anonymised ones included); 404 for any other.
async fn own(state: &AppState, usager: &UsagerUser, id: Uuid) -> Result<Loaded, ApiError> {
    Ok(Loaded::for_usager(&state.guichet(), usager.0.user.id, DemandeId::from_uuid(id)).await?)
}

async fn list(
    State(state): State<AppState>,
    usager: UsagerUser,
) -> Result<Json<Vec<DemandeItem>>, ApiError> {
    let demandes = usager_demandes::list(&state.guichet(), usager.0.user.id).await?;
    Ok(Json(
        demandes
            .into_iter()
            .map(|(demande, definition)| DemandeItem {
                id: demande.id.uuid(),
                numero: demande.numero.clone(),
                demarche: demande.demarche.slug.to_string(),
                title: definition.title.clone(),
                status: status_view(&definition.workflow(), &demande),
                submitted_at: demande.dates.submitted_at,
            })
            .collect(),
    ))
}

fn detail(usager: &UsagerUser, loaded: &Loaded) -> UsagerDemande {
    let definition = &loaded.definition.definition;
    let demande = &loaded.stored.demande;
    UsagerDemande {
        id: demande.id.uuid(),
        numero: demande.numero.clone(),
        demarche: demande.demarche.slug.to_string(),
        version: demande.demarche.version,
        title: definition.title.clone(),
        status: status_view(&loaded.workflow(), demande),
        submitted_at: demande.dates.submitted_at,
        summary: summary_view(
            definition,
            &demande.answers,
            ActorKind::Usager,
            &demande.source_choices,
        ),
        actions: usager_demandes::actions(loaded, usager.0.user.id)
            .iter()
            .map(ActionView::from)
            .collect(),
    }
}

async fn show(
    State(state): State<AppState>,
    usager: UsagerUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UsagerDemande>, ApiError> {
    let loaded = own(&state, &usager, id).await?;
    Ok(Json(detail(&usager, &loaded)))
}

async fn history(
    State(state): State<AppState>,
    usager: UsagerUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<HistoryItem>>, ApiError> {
    let loaded = own(&state, &usager, id).await?;
    let entries = usager_demandes::history(&state.guichet(), &loaded).await?;
    Ok(Json(
        entries
            .iter()
            .map(|entry| history_item(entry, false))
            .collect(),
    ))
}

/// *Répondre au service*.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The answer.
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    pub message: String,
}

/// A confirmation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// Must be `true`.
    #[serde(default)]
    pub confirmed: bool,
}

async fn act(
    state: &AppState,
    usager: &UsagerUser,
    id: Uuid,
    action: Action,
    upload: Option<super::upload::Upload>,
) -> Result<Json<UsagerDemande>, ApiError> {
    let loaded = own(state, usager, id).await?;
    let actor = Actor::Usager(usager.0.user.id);
    let attachment = upload.as_ref().map(|file| Attachment {
        name: &file.name,
        content: &file.content,
    });
    processing::apply(&state.guichet(), &loaded, action, &actor, attachment).await?;
    let reloaded = own(state, usager, id).await?;
    Ok(Json(detail(usager, &reloaded)))
}

async fn reply(
    State(state): State<AppState>,
    usager: UsagerUser,
    ApiPath(id): ApiPath<Uuid>,
    request: Request,
) -> Result<Json<UsagerDemande>, ApiError> {
    let (message, upload) = match json_or_form::<Reply>(request, &state).await? {
        JsonOrForm::Json(reply) => (reply.message, None),
        JsonOrForm::Form(mut form) => (form.texts.remove("message").unwrap_or_default(), form.file),
    };
    if message.trim().is_empty() {
        return Err(ApiError::validation(vec![FieldProblem::new(
            "message",
            FieldCode::Requis,
            "Écrivez votre réponse.",
        )]));
    }
    act(
        &state,
        &usager,
        id,
        Action::new("repondre").message(&message),
        upload,
    )
    .await
}

async fn abandon(
    State(state): State<AppState>,
    usager: UsagerUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Confirmation>,
) -> Result<Json<UsagerDemande>, ApiError> {
    let mut action = Action::new("abandonner");
    action.inputs.confirmed = body.confirmed;
    act(&state, &usager, id, action, None).await
}

/// A download with its name (RFC 6266, see `super::download`) and type.
pub(crate) fn send_file(download: Download) -> Response {
    let disposition = super::download::content_disposition(&download.file.name);
    (
        [
            (
                header::CONTENT_TYPE,
                download.file.media_type.mime().to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        download.content,
    )
        .into_response()
}

async fn download(
    State(state): State<AppState>,
    usager: UsagerUser,
    ApiPath((id, file)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let download = files::for_usager(
        &state.guichet(),
        usager.0.user.id,
        DemandeId::from_uuid(id),
        FileId::from_uuid(file),
    )
    .await?;
    Ok(send_file(download))
}
