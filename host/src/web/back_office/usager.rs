//! An usager's account links as an agent sees them
//! (`/back-office/usagers/{id}`, reached from the *saisie* page): the
//! links to the vendors' records (their family at Espace famille) an
//! agent with the `file_on_behalf` right on a démarche using the instance
//! may see, remove (confirmed), or make after checking the usager's
//! identity (name and birth date: any parameter the connector's link
//! source declares). `service::links` holds the rules (`of_usager`,
//! `link_on_behalf`, `unlink_on_behalf`); the account is named by its id
//! in the address, never by its e-mail.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use guichet_core::id::UserId;
use guichet_store::account::UserKind;
use serde::Deserialize;

use super::{Agent, Desk};
use crate::http::AppState;
use crate::service::{Caller, ServiceError, links};
use crate::web::account::{error_is_unavailable, instance_label, param_label};
use crate::web::session::Checked;
use crate::web::{ErrorView, Errors, Site, failure, page, see_other};

/// The checkbox confirming a removal.
const CONFIRM_FIELD: &str = "confirme";

/// A link as shown.
struct LinkView {
    instance: String,
    name: String,
    label: String,
    remote_id: String,
    by_agent: bool,
    made: String,
}

/// An instance the agent may link the usager to, with its parameters.
struct OfferView {
    instance: String,
    name: String,
    /// Each parameter's form name, label and what was typed.
    params: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "back_office/usager.html")]
struct UsagerPage {
    desk: Desk,
    id: String,
    name: String,
    login: String,
    links: Vec<LinkView>,
    offers: Vec<OfferView>,
    done: Option<&'static str>,
    errors: Errors,
}

/// The banner after a change.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    fait: Option<String>,
}

/// The login of the usager account `id`; any other id is not found.
async fn login_of(state: &AppState, id: &str) -> Result<String, ServiceError> {
    let missing = || ServiceError::NotFound("ce compte usager n'existe pas");
    let id = uuid::Uuid::parse_str(id).map_err(|_| missing())?;
    match state.guichet().store.user(UserId::from_uuid(id)).await {
        Ok(user) if user.kind == UserKind::Usager => Ok(user.login),
        Ok(_) | Err(guichet_store::StoreError::NotFound(_)) => Err(missing()),
        Err(other) => Err(other.into()),
    }
}

/// The page of the usager `login`, with what was typed and its errors.
async fn usager_page(
    state: &AppState,
    site: Site,
    agent: &Caller,
    login: &str,
    typed: &[(String, String)],
    done: Option<&'static str>,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let found = match links::of_usager(&guichet, agent, login).await {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let zone = guichet.zone;
    let typed_value = |name: &str| {
        typed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    page(
        errors.status(),
        &UsagerPage {
            desk: Desk::of(site, agent),
            id: found.usager.id.uuid().to_string(),
            name: found.usager.display_name,
            login: found.usager.login,
            links: found
                .links
                .into_iter()
                .map(|link| LinkView {
                    name: instance_label(state, &link.instance),
                    label: link.label,
                    remote_id: link.remote_id,
                    by_agent: link.linked_by.is_some(),
                    made: zone.date_text(link.created_at),
                    instance: link.instance,
                })
                .collect(),
            offers: found
                .offered
                .into_iter()
                .map(|(instance, params)| OfferView {
                    name: instance_label(state, &instance),
                    params: params
                        .iter()
                        .map(|param| {
                            let field = format!("{instance}-{param}");
                            let value = typed_value(&field);
                            (field, param_label(param), value)
                        })
                        .collect(),
                    instance,
                })
                .collect(),
            done,
            errors,
        },
    )
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let login = match login_of(&state, &id).await {
        Ok(login) => login,
        Err(error) => return failure(&site, error),
    };
    let done = match done.fait.as_deref() {
        Some("rattache") => Some("Le compte est rattaché au dossier."),
        Some("retire") => Some("Le rattachement est retiré."),
        _ => None,
    };
    usager_page(&state, site, &agent, &login, &[], done, Errors::default()).await
}

pub(super) async fn link(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let login = match login_of(&state, &id).await {
        Ok(login) => login,
        Err(error) => return failure(&site, error),
    };
    let instance = posted.text("instance");
    let prefix = format!("{instance}-");
    let params = posted
        .pairs()
        .iter()
        .filter_map(|(name, value)| {
            let param = name.strip_prefix(&prefix)?;
            let value = value.trim();
            (!value.is_empty()).then(|| (param.to_owned(), value.to_owned()))
        })
        .collect();
    let guichet = state.guichet();
    let problem = match links::link_on_behalf(&guichet, &agent, &login, &instance, params).await {
        Ok(_) => return see_other(&format!("/back-office/usagers/{id}?fait=rattache")),
        Err(ServiceError::LinkRefused(_)) => {
            "Aucun dossier ne correspond à ces informations : vérifiez-les avec l'usager.".to_owned()
        }
        Err(ServiceError::LinkParams(text)) => text,
        Err(error) if error_is_unavailable(&error) => {
            "L'application du service ne répond pas pour le moment : réessayez dans quelques minutes.".to_owned()
        }
        Err(error) => return failure(&site, error),
    };
    let anchor = posted
        .pairs()
        .iter()
        .map(|(name, _)| name)
        .find(|name| name.starts_with(&prefix))
        .cloned()
        .unwrap_or_else(|| format!("{instance}-"));
    let errors = Errors(vec![ErrorView {
        field: format!("lier-{instance}"),
        anchor,
        message: problem,
        label: None,
    }]);
    usager_page(&state, site, &agent, &login, posted.pairs(), None, errors).await
}

pub(super) async fn unlink(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Path((id, instance)): Path<(String, String)>,
    Checked(posted): Checked,
) -> Response {
    let login = match login_of(&state, &id).await {
        Ok(login) => login,
        Err(error) => return failure(&site, error),
    };
    if !posted.has(CONFIRM_FIELD) {
        let field = format!("retirer-{instance}");
        let errors = Errors(vec![ErrorView {
            anchor: format!("{field}-confirme"),
            field,
            message: "Cochez la case pour confirmer le retrait du rattachement.".to_owned(),
            label: None,
        }]);
        return usager_page(&state, site, &agent, &login, &[], None, errors).await;
    }
    match links::unlink_on_behalf(&state.guichet(), &agent, &login, &instance).await {
        Ok(()) => see_other(&format!("/back-office/usagers/{id}?fait=retire")),
        Err(error) => failure(&site, error),
    }
}
