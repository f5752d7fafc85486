//! The summary of a draft with its RGPD box, and filing it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use guichet_core::demande::FilingChannel;
use guichet_core::id::FieldId;
use guichet_core::summary::summary;
use guichet_store::draft::DraftId;
use uuid::Uuid;

use super::{input_id, page_path, shown_pages};
use crate::http::AppState;
use crate::service::{Caller, ServiceError, drafts, filing, options};
use crate::web::session::{Checked, Filler};
use crate::web::{ErrorView, Errors, Site, failure, page, see_other};

pub(super) struct SummaryItemView {
    pub(super) label: String,
    pub(super) value: String,
}

pub(super) struct SummaryPageView {
    pub(super) title: String,
    pub(super) path: String,
    pub(super) items: Vec<SummaryItemView>,
}

#[derive(Template)]
#[template(path = "portal/summary.html")]
pub(super) struct SummaryPage {
    pub(super) site: Site,
    pub(super) draft: Uuid,
    pub(super) demarche: String,
    pub(super) pages: Vec<SummaryPageView>,
    pub(super) rgpd_text: String,
    pub(super) consent_label: String,
    pub(super) previous: Option<String>,
    pub(super) steps: usize,
    pub(super) errors: Errors,
}

pub(super) async fn summary_page(
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

pub(super) async fn show_summary(
    State(state): State<AppState>,
    site: Site,
    Filler(caller): Filler,
    Path(id): Path<Uuid>,
) -> Response {
    summary_page(&state, site, &caller, id, Errors::default()).await
}

pub(super) async fn submit(
    State(state): State<AppState>,
    site: Site,
    Filler(caller): Filler,
    Path(id): Path<Uuid>,
    Checked(posted): Checked,
) -> Response {
    // An agent's *saisie* says how the usager reached the service.
    let channel = match posted.text("channel").as_str() {
        "telephone" => Some(FilingChannel::Telephone),
        "guichet" => Some(FilingChannel::Guichet),
        "courrier" => Some(FilingChannel::Courrier),
        _ => None,
    };
    let request = filing::Request {
        consent: posted.has("consent"),
        channel: channel.filter(|_| !caller.is_usager()),
        usager: None,
    };
    let guichet = state.guichet();
    let problems = match filing::file(&guichet, &caller, DraftId(id), request).await {
        Ok(filed) if caller.is_usager() => {
            return see_other(&format!("/demandes/{}?depose=1", filed.demande.id.uuid()));
        }
        Ok(filed) => {
            return see_other(&format!(
                "/back-office/demandes/{}?fait=depose",
                filed.demande.id.uuid()
            ));
        }
        Err(ServiceError::Submit(guichet_core::submission::SubmitError::Invalid(problems)))
        | Err(ServiceError::Fields(problems)) => problems,
        Err(ServiceError::Submit(other)) => {
            return crate::web::message(
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
                    None if field == "channel" => "channel".to_owned(),
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
