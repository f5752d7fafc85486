//! The démarches (`/admin/demarches`): every démarche whatever its
//! visibility, the import of a definition (pasted, or a YAML or JSON
//! file), and a démarche's page (`/admin/demarches/{slug}`) with its
//! versions and their source, the prefix of its demande numbers (shown
//! and changed) and a link to its presentation page as usagers see it.
//!
//! An import is `service::administration::demarches::import`'s, as for
//! `POST /api/admin/demarches`: the first import creates version 1, texts
//! and dates only update the current version in place (the mid-year
//! update), anything structural makes a new version. A definition with
//! problems is shown again with each problem in the error summary, with
//! the line of the text it lies on (`organisation/source.rs`).

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use guichet_core::demarche::{DefinitionError, DemarcheVisibility};
use guichet_core::id::Slug;
use guichet_core::validation::FILE_PART;
use guichet_store::StoreError;
use guichet_store::demarche::{DefinitionSource, ImportKind, SourceFormat, StoredDefinition};
use serde::Deserialize;

use super::{Admin, refused, sentence, source};
use crate::http::AppState;
use crate::http::extract::{JSON_LIMIT, is_forbidden_char};
use crate::service::ServiceError;
use crate::service::administration::demarches::{self, Importer};
use crate::web::back_office::Desk;
use crate::web::session::{Checked, Csrf};
use crate::web::upload;
use crate::web::{ErrorView, Errors, failure, page, period, see_other};

/// The textarea of a definition.
const DEFINITION_FIELD: &str = "definition";

/// The field of the prefix of demande numbers.
const PREFIX_FIELD: &str = "prefixe";

/// Who can find a démarche, in words.
fn visibility(visibility: DemarcheVisibility) -> &'static str {
    match visibility {
        DemarcheVisibility::Everyone => "Tout le monde (portail des usagers)",
        DemarcheVisibility::Agents => "Agents seulement (saisie au back office)",
        DemarcheVisibility::Hidden => "Masquée (lien direct seulement)",
    }
}

/// A démarche as listed.
struct Row {
    slug: String,
    title: String,
    category: String,
    version: u32,
    visibility: &'static str,
    /// When usagers can file.
    period: String,
}

#[derive(Template)]
#[template(path = "organisation/demarches.html")]
struct ListPage {
    desk: Desk,
    rows: Vec<Row>,
    /// The definition as typed (shown again after an error).
    typed: String,
    errors: Errors,
}

/// An open period in words, or that there is none.
fn open_period(stored: &StoredDefinition) -> String {
    stored
        .definition
        .open_period
        .as_ref()
        .and_then(period)
        .map_or_else(|| "Toujours ouverte".to_owned(), |p| format!("Ouverte {p}"))
}

/// The list page, with `typed` in the import's textarea and `errors`.
async fn list_page(state: &AppState, admin: &Admin, typed: String, errors: Errors) -> Response {
    let guichet = state.guichet();
    let entries = match demarches::list(&guichet, &admin.proof).await {
        Ok(entries) => entries,
        Err(error) => return failure(&admin.desk.site, error),
    };
    let mut rows = Vec::new();
    for entry in entries {
        let current =
            match demarches::version(&guichet, &admin.proof, &entry.slug, entry.version).await {
                Ok(current) => current,
                Err(error) => return failure(&admin.desk.site, error),
            };
        rows.push(Row {
            period: open_period(&current),
            slug: entry.slug.to_string(),
            title: entry.title,
            category: entry.category,
            version: entry.version,
            visibility: visibility(entry.visibility),
        });
    }
    page(
        errors.status(),
        &ListPage {
            desk: admin.desk.clone(),
            rows,
            typed,
            errors,
        },
    )
}

pub(super) async fn list(State(state): State<AppState>, admin: Admin) -> Response {
    list_page(&state, &admin, String::new(), Errors::default()).await
}

/// A definition's problems as the errors of the import form: each names
/// its line when it can be found (a YAML text's structure, or the line a
/// parser's message gives), then its path.
fn definition_errors(error: &DefinitionError, source: &DefinitionSource) -> Errors {
    Errors(
        error
            .problems
            .iter()
            .map(|problem| {
                let line = source::line_in_message(&problem.message).or_else(|| {
                    (source.format == SourceFormat::Yaml)
                        .then(|| source::line_of(&source.text, &problem.path))
                        .flatten()
                });
                let message = if problem.path.is_empty() {
                    sentence(&problem.message)
                } else {
                    format!("{} : {}", problem.path, sentence(&problem.message))
                };
                ErrorView {
                    field: DEFINITION_FIELD.to_owned(),
                    anchor: DEFINITION_FIELD.to_owned(),
                    message,
                    label: Some(
                        line.map_or_else(
                            || "Définition".to_owned(),
                            |line| format!("Ligne {line}"),
                        ),
                    ),
                }
            })
            .collect(),
    )
}

/// The definition sent: the file's text when one was chosen, else the
/// textarea's; JSON when the file is named `.json` or the text opens with
/// `{`, YAML otherwise.
fn definition(form: &upload::Form) -> Result<DefinitionSource, ErrorView> {
    if form.too_large {
        return Err(ErrorView::on(
            FILE_PART,
            "Ce fichier est trop volumineux pour être envoyé : une définition tient en moins de 2 Mo.",
        ));
    }
    let (text, named_json) = match &form.file {
        Some((name, content)) => {
            let text = String::from_utf8(content.to_vec()).map_err(|_| {
                ErrorView::on(
                    FILE_PART,
                    "Ce fichier n'est pas un texte YAML ou JSON (encodé en UTF-8).",
                )
            })?;
            (text, name.to_lowercase().ends_with(".json"))
        }
        None => (form.text(DEFINITION_FIELD), false),
    };
    if text.trim().is_empty() {
        return Err(ErrorView::on(
            DEFINITION_FIELD,
            "Collez le texte d'une définition ou choisissez son fichier.",
        ));
    }
    if text.len() > JSON_LIMIT {
        return Err(ErrorView::on(
            DEFINITION_FIELD,
            "Cette définition dépasse 2 Mo : une définition tient en bien moins.",
        ));
    }
    if text.chars().any(is_forbidden_char) {
        return Err(ErrorView::on(
            FILE_PART,
            "Ce fichier contient un caractère de contrôle invisible, qu'aucune définition ne peut contenir.",
        ));
    }
    let format = if named_json || text.trim_start().starts_with('{') {
        SourceFormat::Json
    } else {
        SourceFormat::Yaml
    };
    Ok(DefinitionSource { format, text })
}

pub(super) async fn import(
    State(state): State<AppState>,
    csrf: Csrf,
    admin: Admin,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let site = &admin.desk.site;
    let form = match upload::checked(
        site,
        &csrf,
        multipart,
        "L'import n'a pas pu être lu. Revenez à la page des démarches",
    )
    .await
    {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let source = match definition(&form) {
        Ok(source) => source,
        Err(error) => {
            let typed = form.text(DEFINITION_FIELD);
            return list_page(&state, &admin, typed, Errors(vec![error])).await;
        }
    };
    let importer = match Importer::check(admin.caller.clone()) {
        Ok(importer) => importer,
        Err(error) => return failure(site, error),
    };
    match demarches::import(&state.guichet(), &importer, source.clone()).await {
        Ok(imported) => {
            let done = match imported.kind {
                ImportKind::Created => "creee",
                ImportKind::Unchanged => "inchangee",
                ImportKind::UpdatedInPlace => "mise-a-jour",
                ImportKind::NewVersion => "nouvelle-version",
            };
            see_other(&format!(
                "/admin/demarches/{}?fait={done}",
                imported.slug.as_str()
            ))
        }
        Err(ServiceError::Definition(error)) => {
            let errors = definition_errors(&error, &source);
            list_page(&state, &admin, source.text, errors).await
        }
        Err(error) => refused(
            &admin.desk,
            error,
            ("/admin/demarches", "Retour aux démarches"),
        ),
    }
}

/// A version as listed.
struct VersionView {
    number: u32,
    title: String,
    created: String,
    /// When it was last updated in place, if it was.
    updated: Option<String>,
    /// `YAML` or `JSON`.
    format: &'static str,
    source: String,
}

#[derive(Template)]
#[template(path = "organisation/demarche.html")]
struct DemarchePage {
    desk: Desk,
    slug: String,
    title: String,
    category: String,
    visibility: &'static str,
    period: String,
    service: String,
    current: u32,
    /// The newest first.
    versions: Vec<VersionView>,
    /// What was just done.
    done: Option<String>,
    /// The prefix of the next numbers.
    current_prefix: String,
    /// The prefix in the form: the current one, or as typed.
    prefix: String,
    errors: Errors,
}

/// What the address says was just done.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    fait: Option<String>,
}

/// What was just done, in words, for the démarche now at `current`.
fn done_text(done: &str, current: u32) -> Option<String> {
    Some(match done {
        "creee" => format!("Démarche créée : version {current}."),
        "inchangee" => {
            format!("Aucun changement : cette définition est identique à la version {current}.")
        }
        "mise-a-jour" => format!(
            "Mise à jour de mi-année : les textes et les dates de la version {current} ont été modifiés sur place ; les demandes déjà déposées restent sur cette version."
        ),
        "nouvelle-version" => format!(
            "Nouvelle version {current} : la structure a changé (pages, champs ou parcours). Les nouvelles demandes suivent la version {current} ; celles déjà déposées gardent la leur."
        ),
        "prefixe" => "Préfixe des prochains numéros de demande enregistré.".to_owned(),
        _ => return None,
    })
}

/// A démarche's page.
async fn demarche_page(
    state: &AppState,
    admin: &Admin,
    slug: &str,
    done: Option<&str>,
    prefix: String,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let stored = match demarches::versions(&guichet, &admin.proof, &Slug::from(slug)).await {
        Ok(stored) => stored,
        Err(error) => return failure(&admin.desk.site, error),
    };
    let current_prefix =
        match demarches::numero_prefix(&guichet, &admin.proof, &Slug::from(slug)).await {
            Ok(prefix) => prefix,
            Err(error) => return failure(&admin.desk.site, error),
        };
    let Some(current) = stored.last() else {
        return failure(
            &admin.desk.site,
            ServiceError::NotFound("cette démarche n'existe pas"),
        );
    };
    let zone = guichet.zone;
    let definition = &current.definition;
    let current_number = current.version;
    let view = DemarchePage {
        desk: admin.desk.clone(),
        slug: definition.slug.to_string(),
        title: definition.title.clone(),
        category: definition.category.clone(),
        visibility: visibility(definition.visibility),
        period: open_period(current),
        service: definition.service.as_str().to_owned(),
        current: current_number,
        done: done.and_then(|done| done_text(done, current_number)),
        versions: stored
            .iter()
            .rev()
            .map(|version| VersionView {
                number: version.version,
                title: version.definition.title.clone(),
                created: zone.date_text(version.created_at),
                updated: (version.updated_at != version.created_at)
                    .then(|| zone.date_text(version.updated_at)),
                format: match version.source.format {
                    SourceFormat::Yaml => "YAML",
                    SourceFormat::Json => "JSON",
                },
                source: version.source.text.clone(),
            })
            .collect(),
        prefix: if errors.is_empty() {
            current_prefix.clone()
        } else {
            prefix
        },
        current_prefix,
        errors,
    };
    page(view.errors.status(), &view)
}

pub(super) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    demarche_page(
        &state,
        &admin,
        &slug,
        done.fait.as_deref(),
        String::new(),
        Errors::default(),
    )
    .await
}

pub(super) async fn prefix(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let prefix = posted.text(PREFIX_FIELD);
    let result = demarches::set_numero_prefix(
        &state.guichet(),
        &admin.proof,
        &Slug::from(slug.as_str()),
        &prefix,
    )
    .await;
    match result {
        Ok(_) => see_other(&format!("/admin/demarches/{slug}?fait=prefixe")),
        Err(ServiceError::Store(StoreError::Invalid(text))) => {
            let errors = Errors(vec![ErrorView::on(PREFIX_FIELD, sentence(&text))]);
            demarche_page(&state, &admin, &slug, None, prefix, errors).await
        }
        Err(error) => refused(
            &admin.desk,
            error,
            ("/admin/demarches", "Retour aux démarches"),
        ),
    }
}
