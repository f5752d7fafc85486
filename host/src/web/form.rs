//! Filling a form on the portal: open a draft from the presentation page,
//! fill it page by page, join files, read the summary, tick the RGPD box,
//! file it; *Mes brouillons* lists the drafts to resume or delete.
//!
//! **Addresses.** `POST /demarches/{slug}/brouillon` opens the usager's
//! draft (theirs in progress, or a new one prefilled from the profile);
//! `/brouillons/{id}/pages/{page}` is a page of the form, `/brouillons/{id}/
//! recapitulatif` the summary with the RGPD box, `POST /brouillons/{id}/
//! deposer` files and leads to the demande's page (`/demandes/{id}?depose=1`).
//! Only the draft's id (random) and the form's page ids go in addresses.
//!
//! **One rule, the service's.** A page is posted as `multipart/form-data`
//! (its files with it), turned into the plain JSON answers of the API
//! (`guichet_core::validation::read_answers`) and saved by
//! `service::drafts::save_page`, which checks every rule; each file is
//! attached first by `service::drafts::attach_file` (checked by content).
//! Which fields show is the core's `visibility`; the choices of data
//! sources are `service::drafts::page_options`'.
//!
//! **Without JavaScript** a page whose fields depend on its own answers has
//! a button *Mettre à jour le formulaire* that shows the page again for the
//! answers typed, saving nothing. **With JavaScript** (`static/portal.js`)
//! the page asks `POST …/visibilite` which fields show as the usager types,
//! shows a progress bar while files are sent, and fills an address's
//! coordinates from the browser's position.
//!
//! **Where.** This module: the routes, *Mes brouillons*, showing and
//! saving a page; `form/inputs.rs`: the answers as typed, reading a posted
//! page, each field's view; `form/submission.rs`: the summary and filing.

use std::collections::BTreeMap;

use askama::Template;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guichet_core::demarche::{Definition, Page};
use guichet_core::draft::{merge_page, pages_for};
use guichet_core::field::FieldKind;
use guichet_core::id::{FieldId, PageId, Slug};
use guichet_core::validation::{FieldError, visibility};
use guichet_core::value::{Answers, Value};
use guichet_store::draft::DraftId;
use serde_json::json;
use uuid::Uuid;

mod inputs;
mod submission;

use inputs::{FieldView, Typed, answers_json, field_views, read_page, readable_answers};

use super::session::{Checked, Csrf, Filler, Refusal, Usager};
use super::{ErrorView, Errors, Site, failure, page, refusal, see_other};
use crate::http::AppState;
use crate::service::{Caller, ServiceError, drafts};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demarches/{slug}/brouillon", post(open))
        .route("/brouillons", get(list))
        .route("/brouillons/{id}", get(resume))
        .route("/brouillons/{id}/supprimer", post(delete))
        .route(
            "/brouillons/{id}/pages/{page}",
            get(show_page).post(save_page),
        )
        .route(
            "/brouillons/{id}/pages/{page}/visibilite",
            post(shown_fields),
        )
        .route(
            "/brouillons/{id}/recapitulatif",
            get(submission::show_summary),
        )
        .route("/brouillons/{id}/deposer", post(submission::submit))
}

/// The pages an usager fills and sees for these answers, in order.
fn shown_pages<'d>(definition: &'d Definition, answers: &Answers) -> Vec<&'d Page> {
    let shown = visibility(definition, answers);
    pages_for(definition, guichet_core::actor::ActorKind::Usager)
        .filter(|p| shown.pages.contains(&p.id))
        .collect()
}

/// The address of a page of a draft.
fn page_path(draft: Uuid, page: &PageId) -> String {
    format!("/brouillons/{draft}/pages/{}", page.as_str())
}

/// The id of a field's input in the page.
fn input_id(field: &FieldId) -> String {
    format!("champ-{}", field.as_str())
}

// ---------------------------------------------------------------- opening

async fn open(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Path(slug): Path<String>,
    _: Checked,
) -> Response {
    match drafts::open(&state.guichet(), &caller, &Slug::from(slug), None).await {
        Ok(opened) => see_other(&format!("/brouillons/{}", opened.draft.id.0)),
        Err(ServiceError::Open(error)) => super::message(
            &site,
            StatusCode::CONFLICT,
            "Démarche indisponible",
            &format!("Cette démarche ne peut pas être commencée : {error}."),
        ),
        Err(error) => failure(&site, error),
    }
}

/// A draft of *Mes brouillons*.
struct DraftRow {
    id: Uuid,
    title: String,
    saved: String,
}

#[derive(Template)]
#[template(path = "portal/drafts.html")]
struct DraftsPage {
    site: Site,
    drafts: Vec<DraftRow>,
}

async fn list(State(state): State<AppState>, site: Site, Filler(caller): Filler) -> Response {
    let guichet = state.guichet();
    match drafts::list(&guichet, &caller).await {
        Ok(loaded) => page(
            StatusCode::OK,
            &DraftsPage {
                site,
                drafts: loaded
                    .into_iter()
                    .map(|l| DraftRow {
                        id: l.draft.id.0,
                        title: l.definition.title.clone(),
                        saved: guichet.zone.date_text(l.draft.updated_at),
                    })
                    .collect(),
            },
        ),
        Err(error) => failure(&site, error),
    }
}

async fn resume(
    State(state): State<AppState>,
    site: Site,
    Filler(caller): Filler,
    Path(id): Path<Uuid>,
) -> Response {
    match drafts::own(&state.guichet(), &caller, DraftId(id)).await {
        Ok(loaded) => match shown_pages(&loaded.definition, &loaded.draft.answers).first() {
            Some(first) => see_other(&page_path(id, &first.id)),
            None => see_other(&format!("/brouillons/{id}/recapitulatif")),
        },
        Err(error) => failure(&site, error),
    }
}

async fn delete(
    State(state): State<AppState>,
    site: Site,
    Filler(caller): Filler,
    Path(id): Path<Uuid>,
    _: Checked,
) -> Response {
    match drafts::delete(&state.guichet(), &caller, DraftId(id)).await {
        Ok(()) => see_other("/brouillons"),
        Err(error) => failure(&site, error),
    }
}

#[derive(Template)]
#[template(path = "portal/form_page.html")]
struct FormPage {
    site: Site,
    draft: Uuid,
    demarche: String,
    page_id: String,
    page_title: String,
    subtitle: Option<String>,
    /// 1-based position among the pages shown, and their number.
    step: usize,
    steps: usize,
    previous: Option<String>,
    fields: Vec<FieldView>,
    /// Whether the page has fields that show or fill from its own answers.
    refreshable: bool,
    errors: Errors,
}

/// Everything to show a page for some typed answers.
struct Shown<'a> {
    definition: &'a Definition,
    page: &'a Page,
    /// The draft's answers with the page's typed ones.
    answers: Answers,
    typed: BTreeMap<FieldId, Typed>,
    errors: Errors,
}

async fn render(
    state: &AppState,
    site: Site,
    caller: &Caller,
    draft: Uuid,
    shown: Shown<'_>,
) -> Response {
    let guichet = state.guichet();
    let page_id = shown.page.id.as_str();
    let (choices, missing) =
        match drafts::page_options(&guichet, caller, DraftId(draft), page_id).await {
            Ok(found) => found,
            Err(error) => return failure(&site, error),
        };
    let visible = visibility(shown.definition, &shown.answers);
    let pages = shown_pages(shown.definition, &shown.answers);
    let position = pages.iter().position(|p| p.id == shown.page.id);
    let previous = position
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| pages.get(i))
        .map(|p| page_path(draft, &p.id));
    let refreshable = shown.page.fields.iter().any(|f| {
        f.condition.as_ref().is_some_and(|c| {
            c.references()
                .iter()
                .any(|(id, _)| shown.page.fields.iter().any(|g| &g.id == *id))
        }) || f
            .kind
            .choice_list()
            .is_some_and(|(_, source)| source.is_some())
    });
    let fields = field_views(
        shown.page,
        &shown.typed,
        &visible,
        &choices,
        &missing,
        &shown.errors,
    );
    page(
        shown.errors.status(),
        &FormPage {
            site,
            draft,
            demarche: shown.definition.title.clone(),
            page_id: page_id.to_owned(),
            page_title: shown.page.title.clone(),
            subtitle: shown.page.subtitle.clone(),
            step: position.map_or(1, |i| i + 1),
            steps: pages.len() + 1,
            previous,
            fields,
            refreshable,
            errors: shown.errors,
        },
    )
}

/// The page `page` of a draft, for the usager who owns it.
fn find_page<'d>(definition: &'d Definition, page: &str) -> Option<&'d Page> {
    pages_for(definition, guichet_core::actor::ActorKind::Usager).find(|p| p.id.as_str() == page)
}

async fn show_page(
    State(state): State<AppState>,
    site: Site,
    Filler(caller): Filler,
    Path((id, page_id)): Path<(Uuid, String)>,
) -> Response {
    let loaded = match drafts::own(&state.guichet(), &caller, DraftId(id)).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    let Some(page) = find_page(&loaded.definition, &page_id) else {
        return failure(&site, ServiceError::NotFound("page inconnue"));
    };
    let typed = page
        .fields
        .iter()
        .filter_map(|f| {
            loaded
                .draft
                .answers
                .get(&f.id)
                .map(|v| (f.id.clone(), Typed::of(v)))
        })
        .collect();
    let shown = Shown {
        definition: &loaded.definition,
        page,
        answers: loaded.draft.answers.clone(),
        typed,
        errors: Errors::default(),
    };
    render(&state, site, &caller, id, shown).await
}

/// The errors of the service as the page shows them, for the fields of
/// `page` (a file's part is the field itself).
fn page_errors(definition: &Definition, problems: Vec<FieldError>) -> Errors {
    Errors(
        problems
            .into_iter()
            .map(|p| {
                let field = p.field.split('.').next().unwrap_or_default().to_owned();
                let id = FieldId::from(field.clone());
                ErrorView {
                    anchor: input_id(&id),
                    label: definition.field(&id).map(|f| f.label.clone()),
                    field,
                    message: p.message,
                }
            })
            .collect(),
    )
}

async fn save_page(
    State(state): State<AppState>,
    site: Site,
    csrf: Csrf,
    Filler(caller): Filler,
    Path((id, page_id)): Path<(Uuid, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let guichet = state.guichet();
    let loaded = match drafts::own(&guichet, &caller, DraftId(id)).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    let Some(page) = find_page(&loaded.definition, &page_id) else {
        return failure(&site, ServiceError::NotFound("page inconnue"));
    };
    let mut posted = match read_page(&csrf, page, multipart).await {
        Ok(posted) => posted,
        Err(Ok(refused)) => return refusal(&site, refused),
        Err(Err(text)) => {
            return super::message(
                &site,
                StatusCode::BAD_REQUEST,
                "Formulaire illisible",
                &format!(
                    "Le formulaire envoyé n'a pas pu être lu ({text}). Revenez à la page précédente et recommencez."
                ),
            );
        }
    };
    // Files first: each is checked and kept with the draft even when the
    // rest of the page has errors, so it is never sent twice.
    let mut problems = Vec::new();
    let uploaded = !posted.uploads.is_empty();
    for (field, name, content) in std::mem::take(&mut posted.uploads) {
        match drafts::attach_file(
            &guichet,
            &caller,
            DraftId(id),
            field.as_str(),
            &name,
            &content,
        )
        .await
        {
            Ok(_) => {}
            Err(ServiceError::Fields(found)) => problems.extend(found.into_iter().map(|mut p| {
                p.field = field.as_str().to_owned();
                p
            })),
            Err(error) => return failure(&site, error),
        }
    }
    // Read again only when files were attached: they are in its answers.
    let draft = if uploaded {
        match drafts::own(&guichet, &caller, DraftId(id)).await {
            Ok(loaded) => loaded.draft,
            Err(error) => return failure(&site, error),
        }
    } else {
        loaded.draft.clone()
    };
    for field in page
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
    {
        let files = match draft.answers.get(&field.id) {
            Some(Value::Files(files)) => files
                .iter()
                .filter(|f| !posted.removed.contains(&f.id.to_string()))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        posted.typed.entry(field.id.clone()).or_default().files = files;
    }
    let json = answers_json(page, &posted.typed);
    let answers = merge_page(
        &draft.answers,
        page,
        readable_answers(&loaded.definition, &json),
    );
    let again = |errors: Errors| Shown {
        definition: &loaded.definition,
        page,
        answers: answers.clone(),
        typed: posted.typed.clone(),
        errors,
    };
    if posted.action == "actualiser" {
        return render(
            &state,
            site,
            &caller,
            id,
            again(page_errors(&loaded.definition, problems)),
        )
        .await;
    }
    match drafts::save_page(&guichet, &caller, DraftId(id), &page_id, &json).await {
        // A file refused: the page is saved, and shown again with why.
        Ok(_) if !problems.is_empty() => {
            render(
                &state,
                site,
                &caller,
                id,
                again(page_errors(&loaded.definition, problems)),
            )
            .await
        }
        Ok(saved) => {
            if posted.action.starts_with("retirer:") {
                return see_other(&page_path(id, &page.id));
            }
            let pages = shown_pages(&saved.loaded.definition, &saved.loaded.draft.answers);
            let next = pages
                .iter()
                .skip_while(|p| p.id != page.id)
                .nth(1)
                .map(|p| page_path(id, &p.id));
            see_other(&next.unwrap_or_else(|| format!("/brouillons/{id}/recapitulatif")))
        }
        Err(ServiceError::Fields(found)) => {
            // One message per field: a refused file says more than a
            // missing one.
            for problem in found {
                if !problems.iter().any(|p| p.field == problem.field) {
                    problems.push(problem);
                }
            }
            render(
                &state,
                site,
                &caller,
                id,
                again(page_errors(&loaded.definition, problems)),
            )
            .await
        }
        Err(error) => failure(&site, error),
    }
}

/// Which fields of a page show for the answers typed so far, for the
/// page's script: `{"shown": ["field", …]}`.
async fn shown_fields(
    State(state): State<AppState>,
    csrf: Csrf,
    Filler(caller): Filler,
    Path((id, page_id)): Path<(Uuid, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let loaded = match drafts::own(&state.guichet(), &caller, DraftId(id)).await {
        Ok(loaded) => loaded,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let Some(page) = find_page(&loaded.definition, &page_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let posted = match read_page(&csrf, page, multipart).await {
        Ok(posted) => posted,
        Err(Ok(Refusal::Csrf)) => return StatusCode::FORBIDDEN.into_response(),
        Err(_) => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    let json = answers_json(page, &posted.typed);
    let answers = merge_page(
        &loaded.draft.answers,
        page,
        readable_answers(&loaded.definition, &json),
    );
    let shown = visibility(&loaded.definition, &answers);
    let fields: Vec<&str> = page
        .fields
        .iter()
        .filter(|f| shown.shows(&f.id))
        .map(|f| f.id.as_str())
        .collect();
    axum::Json(json!({ "shown": fields })).into_response()
}
