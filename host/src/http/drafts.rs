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
use guichet_core::demande::{DemarcheRef, FilingChannel};
use guichet_core::demarche::{Definition, DemarcheVisibility, Page, PageId, Slug};
use guichet_core::field::{Choice, FieldId, FieldKind};
use guichet_core::file::FileRef;
use guichet_core::profile::{Profile, prefill};
use guichet_core::role::Right;
use guichet_core::submission::{self, Filer, Filing};
use guichet_core::validation::{self, Context, Filler, check_upload, read_answers};
use guichet_core::value::{Answers, Value};
use guichet_store::StoreError;
use guichet_store::account::UserKind;
use guichet_store::draft::{Draft, DraftId};
use guichet_store::file::{FileOwner, NewFile};
use guichet_store::outcome::Extras;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::CurrentUser;
use super::extract::{ApiJson, ApiPath};
use super::form::{SummaryPageView, resolve_options, summary_view};
use super::routes::{Access, ApiRouter, Body, Doc};
use super::upload::{FILE_PART, read_form};
use super::{ApiError, AppState, FieldCode, FieldProblem};

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
    /// The choices of data-source fields for these answers (a source whose
    /// parameters come from earlier pages answers once they are saved);
    /// given by `GET /api/drafts/{id}`, on creation and after saving a page,
    /// not in the list of drafts.
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
    filler: Filler,
    options: Option<BTreeMap<FieldId, Vec<Choice>>>,
) -> DraftView {
    let shown = validation::visibility(definition, &draft.answers);
    DraftView {
        id: draft.id.0,
        demarche: draft.demarche.slug.0,
        version: draft.demarche.version,
        title: definition.title.clone(),
        pages: definition
            .pages
            .iter()
            .filter(|p| filler == Filler::Agent || p.fields.iter().any(|f| !f.agent_only))
            .map(|page| PageState {
                id: page.id.0.clone(),
                title: page.title.clone(),
                shown: shown.pages.contains(&page.id),
            })
            .collect(),
        answers: draft.answers,
        options,
        updated_at: draft.updated_at,
    }
}

fn filler_of(current: &CurrentUser) -> Filler {
    if current.is_usager() {
        Filler::Usager
    } else {
        Filler::Agent
    }
}

/// A draft of the caller with its definition; 404 for anyone else's.
async fn own_draft(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
) -> Result<(Draft, Definition), ApiError> {
    let draft = match state.store.draft(DraftId(id)).await {
        Ok(draft) if draft.owner == current.user.id => draft,
        Ok(_) | Err(StoreError::NotFound(_)) => {
            return Err(ApiError::not_found("ce brouillon n'existe pas"));
        }
        Err(other) => return Err(other.into()),
    };
    let definition = state
        .store
        .demarche_version(&draft.demarche.slug, draft.demarche.version)
        .await?
        .definition;
    Ok((draft, definition))
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(body): ApiJson<NewDraft>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let slug = Slug(body.demarche);
    let stored = state.store.demarche(&slug).await.map_err(|e| match e {
        StoreError::NotFound(_) => ApiError::not_found("cette démarche n'existe pas"),
        other => other.into(),
    })?;
    let definition = stored.definition;
    // The usager the demande is for: their own draft is reused, and the
    // prefill always comes from their profile (never another usager's).
    let (usager, profile) = if current.is_usager() {
        if definition.visibility == DemarcheVisibility::Agents {
            return Err(ApiError::not_found("cette démarche n'existe pas"));
        }
        if body.usager.is_some() {
            return Err(ApiError::forbidden(
                "seul un agent peut remplir un formulaire au nom d'un usager",
            ));
        }
        (Some(current.user.id), current.user.profile.clone())
    } else {
        if !current.rights(&slug).contains(Right::FileOnBehalf) {
            return Err(ApiError::forbidden(
                "droit manquant : saisie au nom de l'usager",
            ));
        }
        match &body.usager {
            Some(login) => {
                let (id, profile) = usager_by_login(&state, login).await?;
                (Some(id), profile)
            }
            None => (None, Profile::default()),
        }
    };
    if !definition.is_open(now, state.settings.time_zone) {
        return Err(submission::SubmitError::Closed.into());
    }
    let reference = DemarcheRef {
        slug: slug.clone(),
        version: stored.version,
    };
    let filler = filler_of(&current);
    if let Some(usager) = usager
        && let Some(existing) = state
            .store
            .draft_for(current.user.id, usager, &reference)
            .await?
    {
        let options = resolve_options(&state, &definition, &existing.answers).await;
        return Ok(Json(view(existing, &definition, filler, Some(options))).into_response());
    }
    let answers = prefill(&definition, &profile);
    let draft = state
        .store
        .create_draft_for(current.user.id, usager, &reference, answers, now)
        .await?;
    let options = resolve_options(&state, &definition, &draft.answers).await;
    Ok((
        StatusCode::CREATED,
        Json(view(draft, &definition, filler, Some(options))),
    )
        .into_response())
}

async fn usager_by_login(
    state: &AppState,
    login: &str,
) -> Result<(guichet_core::demande::UserId, Profile), ApiError> {
    let unknown = || {
        ApiError::validation(vec![FieldProblem::new(
            "usager",
            FieldCode::UsagerInconnu,
            "Aucun compte usager n'a cet identifiant.",
        )])
    };
    match state.store.user_by_login(login).await {
        Ok(user) if user.kind == UserKind::Usager => Ok((user.id, user.profile)),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(unknown()),
        Err(other) => Err(other.into()),
    }
}

async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<DraftView>>, ApiError> {
    let filler = filler_of(&current);
    let mut views = Vec::new();
    for draft in state.store.drafts_of(current.user.id).await? {
        let definition = state
            .store
            .demarche_version(&draft.demarche.slug, draft.demarche.version)
            .await?
            .definition;
        views.push(view(draft, &definition, filler, None));
    }
    Ok(Json(views))
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<DraftView>, ApiError> {
    let (draft, definition) = own_draft(&state, &current, id).await?;
    let options = resolve_options(&state, &definition, &draft.answers).await;
    Ok(Json(view(
        draft,
        &definition,
        filler_of(&current),
        Some(options),
    )))
}

async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let (draft, _) = own_draft(&state, &current, id).await?;
    state
        .store
        .delete_draft(draft.id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the file references of the answers by the stored ones, after
/// checking each was uploaded to this draft for this field.
async fn check_file_refs(
    state: &AppState,
    draft: DraftId,
    answers: &mut Answers,
    problems: &mut Vec<FieldProblem>,
) -> Result<(), ApiError> {
    let ids: Vec<FieldId> = answers.iter().map(|(id, _)| id.clone()).collect();
    for id in ids {
        let Some(Value::Files(files)) = answers.get(&id).cloned() else {
            continue;
        };
        let mut checked = Vec::new();
        for file in files {
            match state.store.file(file.id).await {
                Ok(stored)
                    if stored.owner == FileOwner::Draft(draft)
                        && stored.field.as_ref() == Some(&id) =>
                {
                    checked.push(stored.file);
                }
                Ok(_) | Err(StoreError::NotFound(_)) => problems.push(FieldProblem::new(
                    id.as_str(),
                    FieldCode::FichierInconnu,
                    "Ce fichier n'a pas été joint à ce champ : envoyez-le d'abord.",
                )),
                Err(other) => return Err(other.into()),
            }
        }
        answers.insert(id, Value::Files(checked));
    }
    Ok(())
}

async fn save_page(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath((id, page)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<DraftView>, ApiError> {
    let now = state.clock.now();
    let (draft, definition) = own_draft(&state, &current, id).await?;
    let filler = filler_of(&current);
    let Some(page) = definition.page(&PageId(page)) else {
        return Err(ApiError::not_found(
            "cette page n'existe pas dans le formulaire",
        ));
    };
    let mut answers = read_answers(&definition, &body).map_err(ApiError::fields)?;
    let page_fields: Vec<FieldId> = page.fields.iter().map(|f| f.id.clone()).collect();
    let mut problems: Vec<FieldProblem> = answers
        .iter()
        .filter(|(id, _)| !page_fields.contains(id))
        .map(|(id, _)| {
            FieldProblem::new(
                id.as_str(),
                FieldCode::ChampHorsPage,
                "Ce champ n'est pas sur cette page.",
            )
        })
        .collect();
    check_file_refs(&state, draft.id, &mut answers, &mut problems).await?;
    // Data sources answer for the answers as read now; the page is then
    // merged and validated on the draft as stored at the moment of writing,
    // inside the store's transaction, so a concurrent save or upload is
    // never lost.
    let options = resolve_options(
        &state,
        &definition,
        &merge_page(&draft.answers, page, answers.clone()),
    )
    .await;
    let context = Context {
        filler,
        today: state.settings.time_zone.today(now),
        options: &options,
    };
    let saved = state
        .store
        .update_draft(draft.id, now, |current| {
            let merged = merge_page(&current.answers, page, answers);
            problems.extend(
                validation::validate_page(&definition, &page.id, &merged, &context)
                    .into_iter()
                    .map(FieldProblem::from),
            );
            if problems.is_empty() {
                Ok(validation::clean_answers(&definition, &merged, &context))
            } else {
                Err(ApiError::validation(problems))
            }
        })
        .await?;
    Ok(Json(view(saved, &definition, filler, Some(options))))
}

/// The answers of a draft with a page's answers in place of what the page
/// held; a file field left out keeps what was uploaded (files have their
/// own route).
fn merge_page(saved: &Answers, page: &Page, mut answers: Answers) -> Answers {
    for field in &page.fields {
        if matches!(field.kind, FieldKind::File { .. })
            && answers.get(&field.id).is_none()
            && let Some(kept) = saved.get(&field.id)
        {
            answers.insert(field.id.clone(), kept.clone());
        }
    }
    let mut merged = saved.clone();
    merged.retain(|id, _| !page.fields.iter().any(|f| &f.id == id));
    merged.merge(answers);
    merged
}

async fn upload(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath((id, field)): ApiPath<(Uuid, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let (draft, definition) = own_draft(&state, &current, id).await?;
    let field_id = FieldId(field);
    let field = definition
        .field(&field_id)
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
        .filter(|f| !(f.agent_only && current.is_usager()))
        .ok_or_else(|| {
            ApiError::not_found("ce champ de fichier n'existe pas dans le formulaire")
        })?;
    let form = read_form(multipart).await?;
    let Some(file) = form.file else {
        return Err(ApiError::validation(vec![FieldProblem::new(
            FILE_PART,
            FieldCode::Requis,
            "Joignez un fichier dans la partie « file » du formulaire.",
        )]));
    };
    let media_type = check_upload(field, &file.content).map_err(|e| ApiError::fields(vec![e]))?;
    let max_files = match field.kind {
        FieldKind::File { max_files, .. } => max_files.unwrap_or(1) as usize,
        _ => 1,
    };
    let new = NewFile {
        owner: FileOwner::Draft(draft.id),
        field: Some(field_id.clone()),
        declared_name: &file.name,
        media_type,
        content: &file.content,
    };
    // The limit is checked on the draft as stored when the file is named,
    // inside the store's transaction: concurrent uploads cannot pass it.
    let stored = state
        .store
        .attach_draft_file(draft.id, new, now, |current, added| {
            let mut files = match current.answers.get(&field_id) {
                Some(Value::Files(files)) => files.clone(),
                _ => Vec::new(),
            };
            if max_files == 1 {
                files.clear();
            } else if files.len() >= max_files {
                return Err(ApiError::validation(vec![FieldProblem::new(
                    field_id.as_str(),
                    FieldCode::FichiersTropNombreux,
                    format!("Joignez au plus {max_files} fichiers."),
                )]));
            }
            files.push(added.clone());
            let mut answers = current.answers.clone();
            answers.insert(field_id.clone(), Value::Files(files));
            Ok(answers)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(stored.file)).into_response())
}

async fn show_summary(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<SummaryPageView>>, ApiError> {
    let (draft, definition) = own_draft(&state, &current, id).await?;
    let options = resolve_options(&state, &definition, &draft.answers).await;
    Ok(Json(summary_view(
        &definition,
        &draft.answers,
        filler_of(&current),
        &options,
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
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Submission>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let (draft, definition) = own_draft(&state, &current, id).await?;
    let filer = if current.is_usager() {
        if body.channel.is_some() || body.usager.is_some() {
            return Err(ApiError::validation(vec![FieldProblem::new(
                "channel",
                FieldCode::NonAttendu,
                "Seul un agent dépose une demande au nom d'un usager.",
            )]));
        }
        Filer::Usager(current.user.id)
    } else {
        let Some(channel) = body.channel else {
            return Err(ApiError::validation(vec![FieldProblem::new(
                "channel",
                FieldCode::Requis,
                "Indiquez comment l'usager a contacté le service : telephone, guichet ou courrier.",
            )]));
        };
        // The demande is for the usager the draft was opened for, whose
        // profile prefilled it; naming another one is refused.
        if let Some(login) = &body.usager {
            let named = usager_by_login(&state, login).await?.0;
            if draft.usager != Some(named) {
                return Err(ApiError::validation(vec![FieldProblem::new(
                    "usager",
                    FieldCode::UsagerDifferent,
                    "Ce brouillon a été ouvert pour un autre usager : ouvrez un brouillon à son nom.",
                )]));
            }
        }
        let usager = draft.usager;
        Filer::Agent {
            id: current.user.id,
            rights: current.rights(&draft.demarche.slug),
            channel,
            usager,
        }
    };
    let options = resolve_options(&state, &definition, &draft.answers).await;
    let version = draft.demarche.version;
    let answers = draft.answers;
    let consent = body.consent;
    let extras = Extras {
        draft: Some(draft.id),
        draft_revision: Some(draft.revision),
        ..Extras::default()
    };
    // A refused submission takes no number and writes nothing (see
    // `Store::file_demande`).
    let outcome = state
        .store
        .file_demande(&definition.slug, now, extras, |reserved| {
            let filing = Filing {
                version,
                id: reserved.id,
                numero: reserved.numero,
                answers: answers.clone(),
                consent,
                filer,
            };
            submission::submit(&definition, filing, &options, now, state.settings.time_zone)
                .map_err(ApiError::from)
        })
        .await?;
    let demande = outcome.demande;
    let status_label = definition
        .workflow()
        .status(&demande.status)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(Filed {
            id: demande.id.0,
            numero: demande.numero,
            status: demande.status.0,
            status_label,
        }),
    )
        .into_response())
}
