//! One demande in the back office (`/back-office/demandes/{id}`): its
//! facts and deadline, the actions open to this agent now with their
//! inputs and confirmation, the *cadre réservé à l'administration*, the
//! answers by page with their files, the agents' history beside the
//! usager's, and what the connectors did — each transmission's state
//! (« Transmise à atal-ville sous le n° … », retries, failure), the
//! vendor's status and card, and the journal of the calls.
//!
//! An action is posted as a multipart form (`…/actions/{transition}`:
//! its texts, a file for an exchange or a comment, the confirmation box)
//! to `service::processing::apply`, which checks the right, the inputs and
//! the confirmation; a refusal about an input shows the page again with
//! the error beside it. The cadre réservé is posted as a plain form to
//! `processing::fill_reserved_fields`. Files download through the API's
//! route for agents (`/api/agent/demandes/{id}/files/{file}`), which the
//! same session cookie opens.

use std::collections::HashMap;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guichet_core::actor::{Actor, ActorKind};
use guichet_core::demande::RefusalType;
use guichet_core::field::FieldKind;
use guichet_core::history::{Author, HistoryEntry, usager_history};
use guichet_core::id::{DemandeId, UserId};
use guichet_core::role::{GroupName, Right, Rights};
use guichet_core::submission::AgentFieldsError;
use guichet_core::summary::{SummaryPage, summary};
use guichet_core::validation::FILE_PART;
use guichet_core::value::Value;
use guichet_core::workflow::{Action, Input, Transition, TransitionId, WorkflowError};
use guichet_store::StoreError;
use serde::Deserialize;

use super::{Agent, Desk};
use views::{action_view, card_view, input_name, reserved_views};

mod posts;
mod views;

use crate::http::AppState;
use crate::http::agent::connectors::transmission_view;
use crate::service::back_office;
use crate::service::processing::{self, Attachment, Loaded};
use crate::service::{Caller, ServiceError};
use crate::web::session::{Checked, Csrf};
use crate::web::upload;
use crate::web::{ErrorView, Errors, Site, failure, message, page, see_other};
pub(super) use posts::{act, reserved_fields, restore};

/// The checkbox of an action's confirmation.
const CONFIRM_FIELD: &str = "confirme";

/// The status of a demande in the trash (`guichet_core::trash`).
const TRASH: &str = "corbeille";

/// A demande's id from the address; an id that does not read is a
/// demande that does not exist.
fn demande_id(text: &str) -> Result<DemandeId, ServiceError> {
    DemandeId::parse(text).map_err(|_| ServiceError::NotFound("cette demande n'existe pas"))
}

/// A file as listed.
struct FileView {
    href: String,
    name: String,
    what: String,
}

/// An entry of a history.
struct EntryView {
    at: String,
    machine: String,
    author: String,
    text: String,
    message: Option<String>,
    file: Option<FileView>,
}

/// One input of an action's form.
struct InputView {
    /// The part's name (`message`, `justification`, …).
    name: &'static str,
    /// The element's id, unique on the page.
    id: String,
    label: &'static str,
    required: bool,
    error: Option<String>,
    /// What was typed (shown again with errors).
    typed: String,
}

/// An action open to the agent now, with its form.
struct ActionView {
    id: String,
    label: String,
    /// Shown unfolded: its post was refused.
    open: bool,
    /// Free texts: message, justification, closing comment.
    texts: Vec<InputView>,
    /// The refusal type's radios, when asked.
    refusal: Option<InputView>,
    /// The service's select, when asked, with its choices.
    service: Option<(InputView, Vec<String>)>,
    /// The file input, when accepted.
    file: Option<InputView>,
    /// The confirmation's error, when the action asks for one.
    confirm: Option<Option<String>>,
}

/// A field of the cadre réservé.
struct ReservedView {
    name: String,
    label: String,
    help: Option<String>,
    /// `text`, `textarea`, `number`, `date`, `select`, `checkbox`.
    kind: &'static str,
    value: String,
    choices: Vec<(String, String)>,
    error: Option<String>,
}

/// A transmission to a vendor, as shown.
struct TransmissionView {
    instance: String,
    label: String,
    /// `transmise`, `en_attente`, `echec`, `abandonnee`.
    state: String,
    attempts: u32,
    remote_status: Option<String>,
    comments: Vec<String>,
    card: Option<CardView>,
}

/// The vendor's card of a record.
struct CardView {
    title: String,
    sections: Vec<(String, Vec<(String, String)>)>,
    link: Option<String>,
}

/// A call of the journal.
struct CallView {
    at: String,
    instance: String,
    connector: String,
    operation: String,
    duration: String,
    outcome: String,
    error: Option<String>,
}

/// The banner after an action, from the query string.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    fait: Option<String>,
}

#[derive(Template)]
#[template(path = "back_office/demande.html")]
struct DemandePage {
    desk: Desk,
    id: String,
    numero: String,
    demarche: String,
    status: String,
    service: String,
    joint: Vec<String>,
    usager: String,
    filed: String,
    filed_by: Option<String>,
    deadline: Option<String>,
    late: bool,
    reminders: Vec<u32>,
    on_hold: bool,
    done: Option<String>,
    actions: Vec<ActionView>,
    reserved: Vec<ReservedView>,
    answers: Vec<SummaryPage>,
    files: Vec<FileView>,
    agents_history: Vec<EntryView>,
    usager_history: Vec<EntryView>,
    transmissions: Vec<TransmissionView>,
    calls: Vec<CallView>,
    survey: Option<String>,
    /// In the trash, for an administrator: the restore form.
    restorable: bool,
    errors: Errors,
}

/// What the page shows beyond the demande: the banner after an action,
/// or a refused post with its errors.
#[derive(Default)]
struct Shown {
    done: Option<String>,
    typed: Typed,
    errors: Errors,
}

impl Shown {
    /// A refused post: what was typed, with its errors.
    fn refused(typed: Typed, errors: Errors) -> Shown {
        Shown {
            done: None,
            typed,
            errors,
        }
    }
}

/// What was posted and refused, to show again.
#[derive(Default)]
struct Typed {
    /// The action posted.
    transition: Option<String>,
    /// Its texts.
    texts: HashMap<String, String>,
    /// The cadre réservé's texts.
    reserved: HashMap<String, String>,
}

/// An instant as people read it in the collectivité's time zone.
fn date_time(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    state
        .guichet()
        .zone
        .local(at)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// The names of the agents who wrote `entries`, by id.
async fn agent_names(state: &AppState, entries: &[HistoryEntry]) -> HashMap<UserId, String> {
    let mut names = HashMap::new();
    for entry in entries {
        if let Author::Agent(id) = entry.author
            && !names.contains_key(&id)
        {
            let name = state
                .guichet()
                .store
                .user(id)
                .await
                .map_or_else(|_| "Un agent".to_owned(), |user| user.display_name);
            names.insert(id, name);
        }
    }
    names
}

/// The services an action's `service` input offers: the workflow's
/// transfer targets, or every group but the demande's own services.
async fn service_choices(state: &AppState, loaded: &Loaded) -> Vec<String> {
    let workflow = loaded.workflow();
    let services = &loaded.stored.demande.services;
    let targets = if workflow.transfer_targets.is_empty() {
        state.guichet().store.groups().await.unwrap_or_default()
    } else {
        workflow.transfer_targets.clone()
    };
    targets
        .into_iter()
        .filter(|g| *g != services.primary && !services.joint.contains(g))
        .map(|g| g.as_str().to_owned())
        .collect()
}

/// The page of a loaded demande for an agent with `rights` on it.
async fn demande_page(
    state: &AppState,
    desk: Desk,
    agent: &Caller,
    loaded: &Loaded,
    rights: Rights,
    shown: Shown,
) -> Response {
    let Shown {
        done,
        typed,
        errors,
    } = shown;
    let guichet = state.guichet();
    let site = desk.site.clone();
    let view = match back_office::view(&guichet, loaded, agent, rights).await {
        Ok(view) => view,
        Err(error) => return failure(&site, error),
    };
    let entries = match guichet.store.history(loaded.stored.demande.id).await {
        Ok(entries) => entries,
        Err(error) => return failure(&site, error.into()),
    };
    let calls = if rights.contains(Right::Read) {
        match back_office::connector_calls(&guichet, loaded).await {
            Ok(calls) => calls,
            Err(error) => return failure(&site, error),
        }
    } else {
        Vec::new()
    };
    let names = agent_names(state, &entries).await;
    let demande = &loaded.stored.demande;
    let definition = &loaded.definition.definition;
    let id = demande.id.uuid().to_string();
    let file_view = |file: &guichet_core::file::FileRef, what: String| FileView {
        href: format!("/api/agent/demandes/{id}/files/{}", file.id.uuid()),
        name: file.name.clone(),
        what,
    };
    let entry_view = |entry: &HistoryEntry| EntryView {
        at: date_time(state, entry.at),
        machine: entry.at.to_rfc3339(),
        author: match entry.author {
            Author::Usager(_) => "L'usager".to_owned(),
            Author::Agent(id) => names.get(&id).cloned().unwrap_or_default(),
            Author::System => "Guichet".to_owned(),
        },
        text: entry.text.clone(),
        message: entry.message.clone(),
        file: entry
            .attachment
            .as_ref()
            .map(|file| file_view(file, "Pièce jointe".to_owned())),
    };
    let answers = summary(
        definition,
        &demande.answers,
        ActorKind::Agent,
        &demande.source_choices,
    );
    let mut files: Vec<FileView> = answers
        .iter()
        .flat_map(|page| &page.items)
        .filter_map(|item| match demande.answers.get(&item.field) {
            Some(Value::Files(refs)) => Some((item.label.clone(), refs)),
            _ => None,
        })
        .flat_map(|(label, refs)| refs.iter().map(move |f| (label.clone(), f)))
        .map(|(label, file)| file_view(file, label))
        .collect();
    files.extend(entries.iter().filter_map(|entry| {
        entry.attachment.as_ref().map(|file| {
            file_view(
                file,
                format!("Joint à l'historique le {}", date_time(state, entry.at)),
            )
        })
    }));
    let services = if view
        .actions
        .iter()
        .any(|t| t.requires.contains(&Input::Service) || t.accepts.contains(&Input::Service))
    {
        service_choices(state, loaded).await
    } else {
        Vec::new()
    };
    let actions = view
        .actions
        .iter()
        .map(|t| action_view(t, &services, &typed, &errors))
        .collect();
    let reserved = if rights.contains(Right::Process) {
        reserved_views(loaded, &typed, &errors)
    } else {
        Vec::new()
    };
    let usager = match demande.usager {
        Some(id) => guichet
            .store
            .user(id)
            .await
            .map_or_else(|_| "Compte supprimé".to_owned(), |u| u.display_name),
        None => "Sans compte".to_owned(),
    };
    let zone = guichet.zone;
    let transmissions = view
        .transmissions
        .into_iter()
        .map(|t| {
            let shown = transmission_view(t, zone);
            let status = shown.remote_status.as_ref();
            TransmissionView {
                instance: shown.instance.clone(),
                label: shown.label.clone(),
                state: shown.state.clone(),
                attempts: shown.attempts,
                remote_status: status
                    .and_then(|s| s.get("label"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
                comments: status
                    .and_then(|s| s.get("comments"))
                    .and_then(serde_json::Value::as_array)
                    .map(|c| {
                        c.iter()
                            .filter_map(|c| {
                                c.as_str()
                                    .map(str::to_owned)
                                    .or_else(|| c.get("text")?.as_str().map(str::to_owned))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                card: shown.card.as_ref().and_then(card_view),
            }
        })
        .collect();
    let calls = calls
        .into_iter()
        .map(|call| CallView {
            at: date_time(state, call.at),
            instance: call.instance,
            connector: format!("{} {}", call.connector, call.connector_version),
            operation: call.operation,
            duration: format!("{} ms", call.duration_ms),
            outcome: call.outcome,
            error: call.error,
        })
        .collect();
    let all_entries: Vec<EntryView> = view.history.iter().map(entry_view).collect();
    let usager_entries = usager_history(&entries)
        .into_iter()
        .map(entry_view)
        .collect();
    page(
        errors.status(),
        &DemandePage {
            desk,
            numero: demande.numero.clone(),
            demarche: definition.title.clone(),
            status: view.status.1,
            service: demande.services.primary.as_str().to_owned(),
            joint: demande
                .services
                .joint
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            usager,
            filed: date_time(state, demande.dates.submitted_at),
            filed_by: demande
                .filed_by
                .map(|f| format!("Saisie au nom de l'usager ({})", f.channel.label())),
            deadline: view.deadline.map(|d| zone.date_text(d)),
            late: view.late,
            reminders: demande.reminders_sent.clone(),
            on_hold: demande.dates.holds.iter().any(|h| h.until.is_none()),
            done,
            actions,
            reserved,
            answers,
            files,
            agents_history: all_entries,
            usager_history: usager_entries,
            transmissions,
            calls,
            survey: view.survey.map(|answer| {
                let mut text = format!("Note : {}/5", answer.score);
                if let Some(comment) = answer.comment {
                    text.push_str(&format!(" — « {comment} »"));
                }
                text
            }),
            restorable: demande.status.as_str() == TRASH && rights.contains(Right::Administration),
            errors,
            id,
        },
    )
}

/// The demande the agent holds `right` on; a demande they may not read is
/// refused.
async fn load(
    state: &AppState,
    agent: &Caller,
    id: &str,
    right: Right,
) -> Result<(Loaded, Rights), ServiceError> {
    Loaded::for_agent(&state.guichet(), agent, demande_id(id)?, right).await
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let desk = Desk::of(site.clone(), &agent);
    let (loaded, rights) = match load(&state, &agent, &id, Right::Read).await {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let done = done.fait.and_then(|transition| {
        loaded
            .workflow()
            .transition(&TransitionId::from(transition.as_str()))
            .map(|t| format!("Action effectuée : {}.", t.label))
            .or_else(|| match transition.as_str() {
                "cadre" => Some("Cadre réservé enregistré.".to_owned()),
                "restauree" => Some("Demande restaurée depuis la corbeille.".to_owned()),
                "depose" => Some(format!(
                    "La demande n° {} est déposée au nom de l'usager.",
                    loaded.stored.demande.numero
                )),
                _ => None,
            })
    });
    demande_page(
        &state,
        desk,
        &agent,
        &loaded,
        rights,
        Shown {
            done,
            ..Shown::default()
        },
    )
    .await
}
