//! `/api/drafts`: filling a form and filing it.
//!
//! A draft is opened on the current version of a démarche, prefilled from
//! the usager's profile; it is saved page by page (`PUT …/pages/{page}`
//! with plain JSON answers, see `guichet_core::validation::read_answers`),
//! each page validated with French messages per field — an invalid page is
//! not saved. Files are uploaded one by one to their field (multipart,
//! part `file`), checked by content and size. The summary shows what will
//! be filed; `submit` files the demande with the RGPD consent.
//!
//! The same routes serve the *saisie au nom de l'usager*: an agent with the
//! `file_on_behalf` right opens a draft (prefilled from the usager's
//! profile when their login is given) and submits it with the channel
//! (`telephone`, `guichet`, `courrier`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use guichet_core::actor::ActorKind;
use guichet_core::demande::FilingChannel;
use guichet_core::demarche::Definition;
use guichet_core::draft::pages_for;
use guichet_core::field::Choice;
use guichet_core::file::FileRef;
use guichet_core::id::{FieldId, Slug};
use guichet_core::validation;
use guichet_core::value::Answers;
use guichet_store::draft::{Draft, DraftId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath};
use super::form::{SummaryPageView, summary_view};
use super::routes::{Access, ApiRouter, Body, Doc};
use super::upload::{FILE_PART, read_form};
use super::{ApiError, AppState, FieldCode, FieldProblem};
use crate::service::{Caller, drafts, filing, options};

/// The routes.
pub fn router() -> ApiRouter {
    let filler = Access::Authenticated;
    ApiRouter::new()
        .post(
            "/api/drafts",
            create,
            Doc::new(
                "Ouvrir un brouillon prérempli depuis le profil (usager, ou agent en saisie pour un usager)",
                filler,
            )
            .takes::<NewDraft>()
            .gives::<DraftView>()
            .status(201),
        )
        .get(
            "/api/drafts",
            list,
            Doc::new("Mes brouillons", filler).gives::<Vec<DraftView>>(),
        )
        .get(
            "/api/drafts/{id}",
            show,
            Doc::new("Un brouillon et ses réponses", filler).gives::<DraftView>(),
        )
        .delete(
            "/api/drafts/{id}",
            delete,
            Doc::new("Supprimer un brouillon et ses fichiers", filler).status(204),
        )
        .put(
            "/api/drafts/{id}/pages/{page}",
            save_page,
            Doc::new(
                "Enregistrer une page (réponses en JSON simple), validée champ par champ",
                filler,
            )
            .takes::<serde_json::Map<String, serde_json::Value>>()
            .gives::<DraftView>(),
        )
        .get(
            "/api/drafts/{id}/pages/{page}/options",
            page_options,
            Doc::new(
                "Les choix des listes d'une page alimentées par un connecteur (ATAL, Espace famille…), selon les réponses enregistrées",
                filler,
            )
            .gives::<PageOptions>(),
        )
        .post(
            "/api/drafts/{id}/files/{field}",
            upload,
            Doc::new(
                "Joindre un fichier à un champ (PDF, JPEG ou PNG reconnu par son contenu)",
                filler,
            )
            .reads(Body::Multipart("file : le fichier"))
            .gives::<FileRef>()
            .status(201),
        )
        .get(
            "/api/drafts/{id}/summary",
            show_summary,
            Doc::new("Récapitulatif avant validation", filler).gives::<Vec<SummaryPageView>>(),
        )
        .post(
            "/api/drafts/{id}/submit",
            submit,
            Doc::new(
                "Déposer la demande (case RGPD obligatoire ; canal et usager pour une saisie par un agent)",
                filler,
            )
            .takes::<Submission>()
            .gives::<Filed>()
            .status(201),
        )
}

/// A draft to open.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    /// The démarche's slug.
    pub demarche: String,
    /// For an agent's *saisie*: the login of the usager, whose profile
    /// prefills the form.
    #[serde(default)]
    pub usager: Option<String>,
}

/// A draft.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DraftView {
    /// Identifier.
    pub id: Uuid,
    /// The démarche's slug.
    pub demarche: String,
    /// The version filled.
    pub version: u32,
    /// The démarche's title.
    pub title: String,
    /// The answers so far (typed values).
    pub answers: Answers,
    /// The pages, with whether each is shown for these answers.
    pub pages: Vec<PageState>,
    /// After saving a page, the choices of that page's data-source fields
    /// (the answers were checked against them); absent when reading a
    /// draft, which asks no connector: the choices of a page are at
    /// `GET /api/drafts/{id}/pages/{page}/options`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<FieldId, Vec<Choice>>>,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}

/// A page of the form.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PageState {
    /// Identifier, for `PUT …/pages/{page}`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Whether the page is shown (conditions).
    pub shown: bool,
}

fn view(
    draft: Draft,
    definition: &Definition,
    kind: ActorKind,
    options: Option<BTreeMap<FieldId, Vec<Choice>>>,
) -> DraftView {
    let shown = validation::visibility(definition, &draft.answers);
    DraftView {
        id: draft.id.0,
        demarche: draft.demarche.slug.to_string(),
        version: draft.demarche.version,
        title: definition.title.clone(),
        pages: pages_for(definition, kind)
            .map(|page| PageState {
                id: page.id.to_string(),
                title: page.title.clone(),
                shown: shown.pages.contains(&page.id),
            })
            .collect(),
        answers: draft.answers,
        options,
        updated_at: draft.updated_at,
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewDraft>,
) -> Result<Response, ApiError> {
    let guichet = state.guichet();
    let slug = Slug::from(body.demarche);
    let opened = drafts::open(&guichet, &caller, &slug, body.usager.as_deref()).await?;
    let status = if opened.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let loaded = drafts::Loaded {
        draft: opened.draft,
        definition: opened.definition,
    };
    let view = view(loaded.draft, &loaded.definition, caller.kind(), None);
    Ok((status, Json(view)).into_response())
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<DraftView>>, ApiError> {
    let loaded = drafts::list(&state.guichet(), &caller).await?;
    Ok(Json(
        loaded
            .into_iter()
            .map(|l| view(l.draft, &l.definition, caller.kind(), None))
            .collect(),
    ))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<DraftView>, ApiError> {
    let guichet = state.guichet();
    let loaded = drafts::own(&guichet, &caller, DraftId(id)).await?;
    Ok(Json(view(
        loaded.draft,
        &loaded.definition,
        caller.kind(),
        None,
    )))
}

/// The choices of a page's data-source fields, asked to their connectors
/// (through the instances' caches), and the fields without choices now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PageOptions {
    /// Field → its choices.
    pub choices: BTreeMap<FieldId, Vec<Choice>>,
    /// The page's data-source fields without choices now, each with why:
    /// `source_indisponible` (the vendor did not answer, or the questions
    /// it depends on are not answered yet) or `rattachement_requis` (the
    /// usager's account is not linked to the vendor's record).
    pub unavailable: Vec<FieldProblem>,
}

async fn page_options(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, page)): ApiPath<(Uuid, String)>,
) -> Result<Json<PageOptions>, ApiError> {
    let (choices, missing) =
        drafts::page_options(&state.guichet(), &caller, DraftId(id), &page).await?;
    let unavailable = missing.into_iter().map(FieldProblem::from).collect();
    Ok(Json(PageOptions {
        choices,
        unavailable,
    }))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    drafts::delete(&state.guichet(), &caller, DraftId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn save_page(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, page)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<DraftView>, ApiError> {
    let saved = drafts::save_page(&state.guichet(), &caller, DraftId(id), &page, &body).await?;
    let drafts::Loaded { draft, definition } = saved.loaded;
    Ok(Json(view(
        draft,
        &definition,
        caller.kind(),
        Some(saved.options),
    )))
}

async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, field)): ApiPath<(Uuid, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let guichet = state.guichet();
    // The draft and field are checked before the body is read.
    let loaded = drafts::own(&guichet, &caller, DraftId(id)).await?;
    drafts::file_field(&loaded.definition, &caller, &field)?;
    let form = read_form(multipart).await?;
    let Some(file) = form.file else {
        return Err(ApiError::validation(vec![FieldProblem::new(
            FILE_PART,
            FieldCode::Requis,
            "Joignez un fichier dans la partie « file » du formulaire.",
        )]));
    };
    let stored = drafts::attach_file(
        &guichet,
        &caller,
        DraftId(id),
        &field,
        &file.name,
        &file.content,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(stored.file)).into_response())
}

async fn show_summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<SummaryPageView>>, ApiError> {
    let guichet = state.guichet();
    let loaded = drafts::own(&guichet, &caller, DraftId(id)).await?;
    let options = options::resolve(
        &guichet,
        &loaded.definition,
        &loaded.draft.answers,
        caller.kind(),
        loaded.draft.usager,
        options::Scope::Answered,
    )
    .await;
    Ok(Json(summary_view(
        &loaded.definition,
        &loaded.draft.answers,
        caller.kind(),
        &options.choices,
    )))
}

/// Filing a draft.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The RGPD box: without it the demande is not received.
    #[serde(default)]
    pub consent: bool,
    /// For an agent's *saisie*: how the usager reached the service.
    #[serde(default)]
    pub channel: Option<FilingChannel>,
    /// For an agent's *saisie*: the usager's login, when they have an account.
    #[serde(default)]
    pub usager: Option<String>,
}

/// A demande just filed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Filed {
    /// Identifier.
    pub id: Uuid,
    /// Number shown to people.
    pub numero: String,
    /// Status.
    pub status: String,
    /// Its label.
    pub status_label: String,
}

async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Submission>,
) -> Result<Response, ApiError> {
    let request = filing::Request {
        consent: body.consent,
        channel: body.channel,
        usager: body.usager,
    };
    let filed = filing::file(&state.guichet(), &caller, DraftId(id), request).await?;
    let demande = filed.demande;
    let status_label = filed
        .definition
        .workflow()
        .status(&demande.status)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(Filed {
            id: demande.id.uuid(),
            numero: demande.numero,
            status: demande.status.to_string(),
            status_label,
        }),
    )
        .into_response())
}
