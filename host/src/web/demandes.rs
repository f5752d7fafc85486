//! The usager's demandes on the portal: *Mes demandes* (`/demandes`), one
//! demande (`/demandes/{id}`: its status, its history with the service's
//! messages, the files sent, and the actions open now), *Répondre au
//! service* (`POST /demandes/{id}/reponse`, a multipart form with an
//! optional file) and the abandon with its confirmation page
//! (`/demandes/{id}/abandon`).
//!
//! The rules are the application layer's, as the JSON API uses them
//! (`crate::http::demandes`): whose demande it is and what its usager sees
//! (`service::usager_demandes`, `Loaded::for_usager`: someone else's
//! demande is not found), which actions are open
//! (`usager_demandes::actions`), and the action itself with its file,
//! checked by content (`service::processing::apply`). Files are downloaded
//! through the API's route for usagers (`/api/demandes/{id}/files/{file}`),
//! which the same session cookie opens.

use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use guichet_core::actor::{Actor, ActorKind};
use guichet_core::file::FileRef;
use guichet_core::history::{Author, HistoryEntry};
use guichet_core::id::DemandeId;
use guichet_core::summary::{SummaryPage, summary};
use guichet_core::validation::FILE_PART;
use guichet_core::value::Value;
use guichet_core::workflow::{Action, Input, WorkflowError};
use guichet_store::StoreError;
use serde::Deserialize;

use super::session::{Checked, Csrf, Usager};
use super::upload;
use super::{ErrorView, Errors, Site, failure, message, page, see_other};
use crate::http::AppState;
use crate::service::processing::{self, Attachment, Loaded};
use crate::service::{Caller, ServiceError, usager_demandes};

/// The workflow's transition of a reply to the service.
const REPLY: &str = "repondre";

/// The workflow's transition of the usager's abandon.
const ABANDON: &str = "abandonner";

/// The reply's text field.
const MESSAGE_FIELD: &str = "message";

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demandes", get(list))
        .route("/demandes/{id}", get(show))
        .route("/demandes/{id}/reponse", post(reply))
        .route("/demandes/{id}/abandon", get(abandon_page).post(abandon))
}

/// A demande's id from the address; an id that does not read is a
/// demande that does not exist.
fn demande_id(text: &str) -> Result<DemandeId, ServiceError> {
    DemandeId::parse(text).map_err(|_| ServiceError::NotFound("cette demande n'existe pas"))
}

/// The caller's own demande; someone else's is not found.
async fn own(state: &AppState, caller: &Caller, id: &str) -> Result<Loaded, ServiceError> {
    Loaded::for_usager(&state.guichet(), caller.user.id, demande_id(id)?).await
}

/// An instant as people read it in the collectivité's time zone
/// (`12/03/2026 à 10:15`).
fn date_time(state: &AppState, at: DateTime<Utc>) -> String {
    state
        .guichet()
        .zone
        .local(at)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// A size in French (`12 Ko`, `1,5 Mo`).
fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes < KIB * KIB {
        format!("{} Ko", bytes.div_ceil(KIB).max(1))
    } else {
        let tenths = (bytes * 10).div_ceil(KIB * KIB);
        format!("{},{} Mo", tenths / 10, tenths % 10)
    }
}

/// A line of *Mes demandes*.
struct Line {
    id: String,
    numero: String,
    demarche: String,
    status: String,
    filed: String,
}

#[derive(Template)]
#[template(path = "portal/demandes.html")]
struct ListPage {
    site: Site,
    lines: Vec<Line>,
}

async fn list(State(state): State<AppState>, site: Site, Usager(caller): Usager) -> Response {
    let guichet = state.guichet();
    let demandes = match usager_demandes::list(&guichet, caller.user.id).await {
        Ok(demandes) => demandes,
        Err(error) => return failure(&site, error),
    };
    let lines = demandes
        .into_iter()
        .map(|(demande, definition)| Line {
            id: demande.id.uuid().to_string(),
            numero: demande.numero.clone(),
            status: usager_demandes::status(&definition.workflow(), &demande).1,
            filed: guichet.zone.date_text(demande.dates.submitted_at),
            demarche: definition.title,
        })
        .collect();
    page(StatusCode::OK, &ListPage { site, lines })
}

/// A file the usager can download, through the API's route.
struct FileView {
    href: String,
    name: String,
    /// `PDF, 12 Ko`.
    about: String,
    /// What it is (the field's label, or the reply it came with).
    what: String,
}

impl FileView {
    fn of(demande: &str, file: &FileRef, what: String) -> FileView {
        FileView {
            href: format!("/api/demandes/{demande}/files/{}", file.id.uuid()),
            name: file.name.clone(),
            about: format!("{}, {}", file.media_type.label(), size_text(file.size)),
            what,
        }
    }
}

/// An entry of the usager's history.
struct EntryView {
    /// As people read it.
    at: String,
    /// ISO 8601, for `<time datetime>`.
    machine: String,
    /// `Vous`, `Le service`, or nothing for the platform.
    author: Option<&'static str>,
    text: String,
    message: Option<String>,
    file: Option<FileView>,
}

/// The banner shown after an action, from the query string.
#[derive(Debug, Default, Deserialize)]
struct Done {
    depose: Option<String>,
    repondu: Option<String>,
    abandonne: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/demande.html")]
struct DemandePage {
    site: Site,
    id: String,
    numero: String,
    demarche: String,
    status: String,
    filed: String,
    done: Done,
    /// Since when the service awaits the usager's answer, if it does.
    awaited: Option<String>,
    history: Vec<EntryView>,
    files: Vec<FileView>,
    answers: Vec<SummaryPage>,
    /// The label of the reply action, when open.
    reply: Option<String>,
    /// Whether the reply takes a file.
    reply_file: bool,
    /// The label of the abandon action, when open.
    abandon: Option<String>,
    /// The reply as typed (shown again with its errors).
    message: String,
    /// The survey's address, once the demande is closed and until answered.
    survey: Option<String>,
    errors: Errors,
}

/// The page of a loaded demande.
async fn demande_page(
    state: &AppState,
    site: Site,
    caller: &Caller,
    loaded: &Loaded,
    done: Done,
    message: String,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let entries = match usager_demandes::history(&guichet, loaded).await {
        Ok(entries) => entries,
        Err(error) => return failure(&site, error),
    };
    let demande = &loaded.stored.demande;
    let definition = &loaded.definition.definition;
    let id = demande.id.uuid().to_string();
    let answers = summary(
        definition,
        &demande.answers,
        ActorKind::Usager,
        &demande.source_choices,
    );
    // The files of the answers the usager sees, then those of their replies.
    let mut files: Vec<FileView> = answers
        .iter()
        .flat_map(|page| &page.items)
        .filter_map(|item| match demande.answers.get(&item.field) {
            Some(Value::Files(refs)) => Some((item.label.clone(), refs)),
            _ => None,
        })
        .flat_map(|(label, refs)| {
            refs.iter()
                .map(move |file| (label.clone(), file))
                .collect::<Vec<_>>()
        })
        .map(|(label, file)| FileView::of(&id, file, label))
        .collect();
    files.extend(
        entries
            .iter()
            .filter(|entry| matches!(entry.author, Author::Usager(_)))
            .filter_map(|entry| {
                entry.attachment.as_ref().map(|file| {
                    FileView::of(
                        &id,
                        file,
                        format!("Joint à votre message du {}", date_time(state, entry.at)),
                    )
                })
            }),
    );
    let history = entries
        .iter()
        .map(|entry| entry_view(state, &id, entry))
        .collect();
    let survey = match crate::service::survey::for_closed(&state.guichet(), demande).await {
        Ok(survey) => survey,
        Err(error) => return failure(&site, error),
    };
    let actions = usager_demandes::actions(loaded, caller.user.id);
    let reply = actions.iter().find(|t| t.id.0 == REPLY);
    let abandon = actions.iter().find(|t| t.id.0 == ABANDON);
    page(
        errors.status(),
        &DemandePage {
            survey,
            site,
            numero: demande.numero.clone(),
            demarche: definition.title.clone(),
            status: usager_demandes::status(&loaded.workflow(), demande).1,
            filed: guichet.zone.date_text(demande.dates.submitted_at),
            done,
            awaited: demande
                .awaiting_usager_since
                .filter(|_| reply.is_some())
                .map(|since| guichet.zone.date_text(since)),
            history,
            files,
            answers,
            reply_file: reply.is_some_and(|t| t.accepts.contains(&Input::Attachment)),
            reply: reply.map(|t| t.label.clone()),
            abandon: abandon.map(|t| t.label.clone()),
            message,
            errors,
            id,
        },
    )
}

fn entry_view(state: &AppState, demande: &str, entry: &HistoryEntry) -> EntryView {
    let author = match entry.author {
        Author::Usager(_) => Some("Vous"),
        Author::Agent(_) => Some("Le service"),
        Author::System => None,
    };
    EntryView {
        at: date_time(state, entry.at),
        machine: entry.at.to_rfc3339(),
        author,
        text: entry.text.clone(),
        message: entry.message.clone(),
        file: entry
            .attachment
            .as_ref()
            .map(|file| FileView::of(demande, file, "Pièce jointe".to_owned())),
    }
}

async fn show(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    match own(&state, &caller, &id).await {
        Ok(loaded) => {
            demande_page(
                &state,
                site,
                &caller,
                &loaded,
                done,
                String::new(),
                Errors::default(),
            )
            .await
        }
        Err(error) => failure(&site, error),
    }
}

/// The errors of a refused reply, field by field; `None` when the refusal
/// is not about the form's fields.
fn reply_errors(error: &ServiceError) -> Option<Errors> {
    match error {
        ServiceError::Fields(problems) => Some(Errors(
            problems
                .iter()
                .map(|p| {
                    let field = if p.field == FILE_PART {
                        FILE_PART
                    } else {
                        MESSAGE_FIELD
                    };
                    ErrorView::on(field, p.message.clone())
                })
                .collect(),
        )),
        ServiceError::Workflow(WorkflowError::TextTooLong { max, .. }) => {
            Some(Errors(vec![ErrorView::on(
                MESSAGE_FIELD,
                format!("Votre réponse dépasse {max} caractères : raccourcissez-la."),
            )]))
        }
        ServiceError::Workflow(WorkflowError::MissingInput(Input::Message)) => {
            Some(Errors(vec![ErrorView::on(
                MESSAGE_FIELD,
                "Écrivez votre réponse au service.",
            )]))
        }
        _ => None,
    }
}

/// An action the demande no longer allows, or a demande changed meanwhile,
/// as a page; any other failure as [`failure`].
fn refused_action(site: &Site, id: &str, error: ServiceError) -> Response {
    let back = format!("/demandes/{id}");
    match error {
        ServiceError::Workflow(error) => message(
            site,
            StatusCode::CONFLICT,
            "Action impossible",
            &format!(
                "Cette action n'a pas pu être faite : {error}. Retournez à la page de votre demande ({back}) pour voir ce qui est possible maintenant."
            ),
        ),
        ServiceError::Store(StoreError::Conflict(_)) => message(
            site,
            StatusCode::CONFLICT,
            "Demande modifiée entre-temps",
            &format!(
                "Votre demande a changé pendant que vous écriviez : rien n'a été enregistré. Retournez à la page de votre demande ({back}), puis recommencez."
            ),
        ),
        other => failure(site, other),
    }
}

async fn reply(
    State(state): State<AppState>,
    site: Site,
    csrf: Csrf,
    Usager(caller): Usager,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let form = match upload::checked(
        &site,
        &csrf,
        multipart,
        "Votre réponse n'a pas pu être lue. Revenez à la page de votre demande",
    )
    .await
    {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let loaded = match own(&state, &caller, &id).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    let typed = form.text(MESSAGE_FIELD);
    let message_text = typed.trim().to_owned();
    let mut errors = Vec::new();
    if message_text.is_empty() {
        errors.push(ErrorView::on(
            MESSAGE_FIELD,
            "Écrivez votre réponse au service.",
        ));
    }
    if form.too_large {
        errors.push(ErrorView::on(
            FILE_PART,
            "Ce fichier est trop volumineux pour être envoyé : choisissez un fichier plus petit.",
        ));
    }
    let show_again = |errors: Errors| {
        demande_page(
            &state,
            site.clone(),
            &caller,
            &loaded,
            Done::default(),
            typed.clone(),
            errors,
        )
    };
    if !errors.is_empty() {
        return show_again(Errors(errors)).await;
    }
    let attachment = form
        .file
        .as_ref()
        .map(|(name, content)| Attachment { name, content });
    let action = Action::new(REPLY).message(&message_text);
    let actor = Actor::Usager(caller.user.id);
    match processing::apply(&state.guichet(), &loaded, action, &actor, attachment).await {
        Ok(_) => see_other(&format!(
            "/demandes/{}?repondu=1",
            loaded.stored.demande.id.uuid()
        )),
        Err(error) => match reply_errors(&error) {
            Some(errors) => show_again(errors).await,
            None => refused_action(&site, &id, error),
        },
    }
}

#[derive(Template)]
#[template(path = "portal/abandon.html")]
struct AbandonPage {
    site: Site,
    id: String,
    numero: String,
    demarche: String,
    /// The abandon's label.
    label: String,
}

async fn abandon_page(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Path(id): Path<String>,
) -> Response {
    let loaded = match own(&state, &caller, &id).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    let demande = &loaded.stored.demande;
    let Some(transition) = usager_demandes::actions(&loaded, caller.user.id)
        .into_iter()
        .find(|t| t.id.0 == ABANDON)
    else {
        return message(
            &site,
            StatusCode::CONFLICT,
            "Abandon impossible",
            &format!(
                "La demande n° {} ne peut pas être abandonnée à ce stade (statut : {}).",
                demande.numero,
                usager_demandes::status(&loaded.workflow(), demande).1
            ),
        );
    };
    page(
        StatusCode::OK,
        &AbandonPage {
            site,
            id: demande.id.uuid().to_string(),
            numero: demande.numero.clone(),
            demarche: loaded.definition.definition.title.clone(),
            label: transition.label,
        },
    )
}

async fn abandon(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Path(id): Path<String>,
    _: Checked,
) -> Response {
    let loaded = match own(&state, &caller, &id).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    // The confirmation page was the confirmation the workflow asks.
    let mut action = Action::new(ABANDON);
    action.inputs.confirmed = true;
    let actor = Actor::Usager(caller.user.id);
    match processing::apply(&state.guichet(), &loaded, action, &actor, None).await {
        Ok(_) => see_other(&format!(
            "/demandes/{}?abandonne=1",
            loaded.stored.demande.id.uuid()
        )),
        Err(error) => refused_action(&site, &id, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_french_units() {
        assert_eq!(size_text(0), "1 Ko");
        assert_eq!(size_text(1), "1 Ko");
        assert_eq!(size_text(1024), "1 Ko");
        assert_eq!(size_text(1025), "2 Ko");
        assert_eq!(size_text(1024 * 1024), "1,0 Mo");
        assert_eq!(size_text(1024 * 1024 * 3 / 2), "1,5 Mo");
    }
}
