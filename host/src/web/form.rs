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

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guichet_core::demarche::{Definition, Page};
use guichet_core::draft::{merge_page, pages_for};
use guichet_core::field::{Choice, Field, FieldKind};
use guichet_core::file::FileRef;
use guichet_core::id::{FieldId, PageId, Slug};
use guichet_core::summary::summary;
use guichet_core::validation::{ErrorCode, FieldError, read_answers, visibility};
use guichet_core::value::{Answers, Value, french_number};
use guichet_store::draft::DraftId;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::session::{Checked, Csrf, Posted, Refusal, Usager};
use super::{ErrorView, Errors, Site, failure, page, refusal, see_other};
use crate::http::AppState;
use crate::service::{Caller, ServiceError, drafts, filing, options};

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
        .route("/brouillons/{id}/recapitulatif", get(show_summary))
        .route("/brouillons/{id}/deposer", post(submit))
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

async fn list(State(state): State<AppState>, site: Site, Usager(caller): Usager) -> Response {
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
                        title: l.definition.title,
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
    Usager(caller): Usager,
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
    Usager(caller): Usager,
    Path(id): Path<Uuid>,
    _: Checked,
) -> Response {
    match drafts::delete(&state.guichet(), &caller, DraftId(id)).await {
        Ok(()) => see_other("/brouillons"),
        Err(error) => failure(&site, error),
    }
}

// ---------------------------------------------------------------- a page

/// A field's answer as the page shows it in its inputs.
#[derive(Debug, Clone, Default)]
struct Typed {
    /// The text of a one-value input (a date as `JJ/MM/AAAA`, a number
    /// with a decimal comma).
    text: String,
    /// The values of a multiple choice.
    values: Vec<String>,
    /// A ticked box.
    ticked: bool,
    /// An address's parts: street, complement, postcode, city, latitude,
    /// longitude.
    address: [String; 6],
    /// The files attached.
    files: Vec<FileRef>,
}

/// The names of an address's inputs after the field id.
const ADDRESS_PARTS: [&str; 6] = [
    "street",
    "complement",
    "postcode",
    "city",
    "latitude",
    "longitude",
];

impl Typed {
    /// A stored answer, as shown.
    fn of(value: &Value) -> Typed {
        let mut typed = Typed::default();
        match value {
            Value::Text(text) | Value::Choice(text) => typed.text = text.clone(),
            Value::Number(n) => typed.text = french_number(*n),
            Value::Date(date) => typed.text = date.format("%d/%m/%Y").to_string(),
            Value::Choices(values) => typed.values = values.clone(),
            Value::Checkbox(ticked) => typed.ticked = *ticked,
            Value::Files(files) => typed.files = files.clone(),
            Value::Address(a) => {
                typed.address = [
                    a.street.clone(),
                    a.complement.clone().unwrap_or_default(),
                    a.postcode.clone(),
                    a.city.clone(),
                    a.latitude.map(|v| v.to_string()).unwrap_or_default(),
                    a.longitude.map(|v| v.to_string()).unwrap_or_default(),
                ];
            }
        }
        typed
    }
}

/// A page as posted: the typed answers of its fields, the files sent with
/// it, the button pressed.
#[derive(Debug, Default)]
struct PostedPage {
    typed: BTreeMap<FieldId, Typed>,
    uploads: Vec<(FieldId, String, axum::body::Bytes)>,
    /// Files the usager asked to remove.
    removed: BTreeSet<String>,
    action: String,
}

/// Reads a posted page: the CSRF part, the page's fields, the files.
///
/// # Errors
/// The refusal of the form; or an unreadable body (answered 400).
async fn read_page(
    csrf: &Csrf,
    page: &Page,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<PostedPage, Result<Refusal, String>> {
    let mut multipart = multipart.map_err(|e| Err(e.body_text()))?;
    let mut pairs = Vec::new();
    let mut uploads = Vec::new();
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| Err(e.body_text()))?
    {
        let name = part.name().unwrap_or_default().to_owned();
        match part.file_name().map(str::to_owned) {
            Some(file_name) => {
                let content = part.bytes().await.map_err(|e| Err(e.body_text()))?;
                if !file_name.is_empty() || !content.is_empty() {
                    uploads.push((name, file_name, content));
                }
            }
            None => {
                let text = part.text().await.map_err(|e| Err(e.body_text()))?;
                pairs.push((name, text));
            }
        }
    }
    let posted = Posted::read(csrf, pairs).map_err(Ok)?;
    let mut read = PostedPage {
        action: posted.text("action"),
        removed: posted.all("retirer").into_iter().collect(),
        ..PostedPage::default()
    };
    if let Some(file) = read.action.strip_prefix("retirer:") {
        read.removed.insert(file.to_owned());
    }
    for field in page
        .fields
        .iter()
        .filter(|f| f.has_value() && !f.agent_only)
    {
        let name = field.id.as_str();
        let mut typed = Typed::default();
        match field.kind {
            FieldKind::MultipleChoice { .. } => typed.values = posted.all(name),
            FieldKind::Checkbox {} => typed.ticked = posted.has(name),
            FieldKind::Address { .. } => {
                for (slot, part) in typed.address.iter_mut().zip(ADDRESS_PARTS) {
                    *slot = posted.text(&format!("{name}.{part}"));
                }
            }
            FieldKind::File { .. } => {}
            _ => typed.text = posted.text(name),
        }
        read.typed.insert(field.id.clone(), typed);
    }
    for (name, file_name, content) in uploads {
        if let Some(field) = page
            .fields
            .iter()
            .find(|f| f.id.as_str() == name && matches!(f.kind, FieldKind::File { .. }))
        {
            read.uploads.push((field.id.clone(), file_name, content));
        }
    }
    Ok(read)
}

/// The plain JSON answers (`read_answers`) of typed answers.
fn answers_json(page: &Page, typed: &BTreeMap<FieldId, Typed>) -> Json {
    let mut object = Map::new();
    for field in &page.fields {
        let Some(typed) = typed.get(&field.id) else {
            continue;
        };
        let value = match field.kind {
            FieldKind::MultipleChoice { .. } => json!(typed.values),
            FieldKind::Checkbox {} => json!(typed.ticked),
            FieldKind::Address { .. } => {
                let [street, complement, postcode, city, latitude, longitude] = &typed.address;
                if typed.address.iter().all(String::is_empty) {
                    Json::Null
                } else {
                    let coordinate = |text: &str| {
                        text.replace(',', ".")
                            .parse::<f64>()
                            .ok()
                            .map_or(Json::Null, |v| json!(v))
                    };
                    json!({
                        "street": street,
                        "complement": (!complement.is_empty()).then_some(complement),
                        "postcode": postcode,
                        "city": city,
                        "latitude": coordinate(latitude),
                        "longitude": coordinate(longitude),
                    })
                }
            }
            FieldKind::File { .. } => json!(typed.files),
            _ if typed.text.is_empty() => Json::Null,
            _ => json!(typed.text),
        };
        object.insert(field.id.as_str().to_owned(), value);
    }
    Json::Object(object)
}

/// The answers typed that can be read, each field alone (a field typed
/// wrong counts as unanswered): what conditions are decided on while the
/// page is not saved.
fn readable_answers(definition: &Definition, json: &Json) -> Answers {
    let mut answers = Answers::new();
    if let Json::Object(object) = json {
        for (id, value) in object {
            let one = Json::Object(Map::from_iter([(id.clone(), value.clone())]));
            if let Ok(read) = read_answers(definition, &one) {
                for (id, value) in read.iter() {
                    answers.insert(id.clone(), value.clone());
                }
            }
        }
    }
    answers
}

/// One choice as shown.
struct ChoiceView {
    value: String,
    label: String,
    selected: bool,
}

/// One field as shown.
struct FieldView {
    /// The field's id: the input's name.
    name: String,
    /// The input's id.
    input: String,
    /// `text`, `long_text`, `email`, `phone`, `number`, `date`, `radios`,
    /// `select`, `checkboxes`, `checkbox`, `file`, `address`, `title`,
    /// `comment`.
    kind: &'static str,
    label: String,
    help: Option<String>,
    required: bool,
    /// Hidden by its condition for the answers shown.
    hidden: bool,
    error: Option<String>,
    typed: Typed,
    choices: Vec<ChoiceView>,
    /// Why a data source gives no choices now; whether linking the
    /// account would give them.
    unavailable: Option<(String, bool)>,
    /// The unit after a number, `accept` of a file input, the text of a
    /// comment block.
    extra: String,
    /// Several files, or coordinates required.
    many: bool,
    /// The `autocomplete` token of the input, from its prefill.
    autocomplete: &'static str,
}

impl FieldView {
    /// The ids the input's `aria-describedby` names.
    fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-aide", self.input));
        }
        if self.error.is_some() {
            ids.push(format!("{}-erreur", self.input));
        }
        ids.join(" ")
    }
}

fn autocomplete(field: &Field) -> &'static str {
    use guichet_core::profile::ProfileField;
    match field.prefill {
        Some(ProfileField::FirstName) => "given-name",
        Some(ProfileField::LastName) => "family-name",
        Some(ProfileField::Email) => "email",
        Some(ProfileField::Phone) => "tel",
        Some(ProfileField::BirthDate) => "bday",
        Some(ProfileField::Address) | None => "",
    }
}

/// The views of a page's fields.
fn field_views(
    page: &Page,
    typed: &BTreeMap<FieldId, Typed>,
    shown: &guichet_core::validation::Visibility,
    choices: &BTreeMap<FieldId, Vec<Choice>>,
    missing: &[FieldError],
    errors: &Errors,
) -> Vec<FieldView> {
    page.fields
        .iter()
        .filter(|f| !f.agent_only)
        .map(|field| {
            let typed = typed.get(&field.id).cloned().unwrap_or_default();
            let listed = |list: &[Choice], selected: &dyn Fn(&str) -> bool| {
                list.iter()
                    .map(|c| ChoiceView {
                        selected: selected(&c.value),
                        value: c.value.clone(),
                        label: c.label.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            let mut view = FieldView {
                name: field.id.as_str().to_owned(),
                input: input_id(&field.id),
                kind: field.kind.name(),
                label: field.label.clone(),
                help: field.help.clone(),
                required: field.required,
                hidden: !shown.shows(&field.id),
                error: errors.of(field.id.as_str()).map(str::to_owned),
                typed: Typed::default(),
                choices: Vec::new(),
                unavailable: None,
                extra: String::new(),
                many: false,
                autocomplete: autocomplete(field),
            };
            match &field.kind {
                FieldKind::Choice {
                    choices: list,
                    source,
                } => {
                    let list = if source.is_some() {
                        choices.get(&field.id).cloned().unwrap_or_default()
                    } else {
                        list.clone()
                    };
                    view.kind = if source.is_some() || list.len() > 6 {
                        "select"
                    } else {
                        "radios"
                    };
                    view.choices = listed(&list, &|v| v == typed.text);
                }
                FieldKind::MultipleChoice {
                    choices: list,
                    source,
                    ..
                } => {
                    let list = if source.is_some() {
                        choices.get(&field.id).cloned().unwrap_or_default()
                    } else {
                        list.clone()
                    };
                    view.kind = "checkboxes";
                    view.choices = listed(&list, &|v| typed.values.iter().any(|t| t == v));
                }
                FieldKind::Number { unit, .. } => view.extra = unit.clone().unwrap_or_default(),
                FieldKind::File {
                    accept, max_files, ..
                } => {
                    view.extra = accept
                        .as_ref()
                        .map(|types| types.iter().map(|t| t.mime()).collect::<Vec<_>>().join(","))
                        .unwrap_or_else(|| "application/pdf,image/jpeg,image/png".to_owned());
                    view.many = max_files.unwrap_or(1) > 1;
                }
                FieldKind::Address {
                    require_coordinates,
                } => view.many = *require_coordinates,
                FieldKind::Comment { text } => view.extra = text.clone(),
                _ => {}
            }
            if let Some(problem) = missing.iter().find(|p| p.field == field.id.as_str()) {
                view.unavailable = Some((
                    problem.message.clone(),
                    problem.code == ErrorCode::RattachementRequis,
                ));
            }
            view.typed = typed;
            view
        })
        .collect()
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
    Usager(caller): Usager,
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
    Usager(caller): Usager,
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
    let draft = match drafts::own(&guichet, &caller, DraftId(id)).await {
        Ok(loaded) => loaded.draft,
        Err(error) => return failure(&site, error),
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
    Usager(caller): Usager,
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

// ---------------------------------------------------------------- summary, filing

struct SummaryItemView {
    label: String,
    value: String,
}

struct SummaryPageView {
    title: String,
    path: String,
    items: Vec<SummaryItemView>,
}

#[derive(Template)]
#[template(path = "portal/summary.html")]
struct SummaryPage {
    site: Site,
    draft: Uuid,
    demarche: String,
    pages: Vec<SummaryPageView>,
    rgpd_text: String,
    consent_label: String,
    previous: Option<String>,
    steps: usize,
    errors: Errors,
}

async fn summary_page(
    state: &AppState,
    site: Site,
    caller: &Caller,
    id: Uuid,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let loaded = match drafts::own(&guichet, caller, DraftId(id)).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    let definition = &loaded.definition;
    let options = options::resolve(
        &guichet,
        definition,
        &loaded.draft.answers,
        caller.kind(),
        loaded.draft.usager,
        options::Scope::Answered,
    )
    .await;
    let pages = shown_pages(definition, &loaded.draft.answers);
    let summarised = summary(
        definition,
        &loaded.draft.answers,
        caller.kind(),
        &options.choices,
    );
    let views = summarised
        .into_iter()
        .map(|s| SummaryPageView {
            path: pages
                .iter()
                .find(|p| p.title == s.title)
                .map(|p| page_path(id, &p.id))
                .unwrap_or_default(),
            title: s.title,
            items: s
                .items
                .into_iter()
                .map(|i| SummaryItemView {
                    label: i.label,
                    value: i.value,
                })
                .collect(),
        })
        .collect();
    page(
        errors.status(),
        &SummaryPage {
            site,
            draft: id,
            demarche: definition.title.clone(),
            pages: views,
            rgpd_text: definition.rgpd.text.clone(),
            consent_label: definition.rgpd.consent_label.clone(),
            previous: pages.last().map(|p| page_path(id, &p.id)),
            steps: pages.len() + 1,
            errors,
        },
    )
}

async fn show_summary(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Path(id): Path<Uuid>,
) -> Response {
    summary_page(&state, site, &caller, id, Errors::default()).await
}

async fn submit(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Path(id): Path<Uuid>,
    Checked(posted): Checked,
) -> Response {
    let request = filing::Request {
        consent: posted.has("consent"),
        channel: None,
        usager: None,
    };
    let guichet = state.guichet();
    let problems = match filing::file(&guichet, &caller, DraftId(id), request).await {
        Ok(filed) => return see_other(&format!("/demandes/{}?depose=1", filed.demande.id.uuid())),
        Err(ServiceError::Submit(guichet_core::submission::SubmitError::Invalid(problems)))
        | Err(ServiceError::Fields(problems)) => problems,
        Err(ServiceError::Submit(other)) => {
            return super::message(
                &site,
                StatusCode::CONFLICT,
                "Demande non déposée",
                &format!(
                    "Votre demande n'a pas pu être déposée : {other}. Votre brouillon est conservé."
                ),
            );
        }
        Err(error) => return failure(&site, error),
    };
    // Errors on the box stay on this page; those of a page link to it.
    let loaded = match drafts::own(&guichet, &caller, DraftId(id)).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&site, error),
    };
    let errors = Errors(
        problems
            .into_iter()
            .map(|p| {
                let field = p.field.split('.').next().unwrap_or_default().to_owned();
                let anchor = match loaded
                    .definition
                    .pages
                    .iter()
                    .find(|page| page.fields.iter().any(|f| f.id.as_str() == field))
                {
                    Some(page) => format!(
                        "{}#{}",
                        page_path(id, &page.id),
                        input_id(&FieldId::from(field.clone()))
                    ),
                    None => "consent".to_owned(),
                };
                ErrorView {
                    label: loaded
                        .definition
                        .field(&FieldId::from(field.clone()))
                        .map(|f| f.label.clone()),
                    field,
                    anchor,
                    message: p.message,
                }
            })
            .collect(),
    );
    summary_page(&state, site, &caller, id, errors).await
}
