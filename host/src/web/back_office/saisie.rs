//! *Saisie au nom de l'usager* (`/back-office/saisie`, PROCESS.md: the
//! Saisie BO role and above, the `file_on_behalf` right): the agent picks
//! a démarche they may file, finds the usager's account by name or e-mail
//! (or files for someone without an account), or creates it
//! (`/back-office/saisie/compte`: `service::accounts::password_links`
//! mails the usager a link to choose its password), then fills the form on the
//! portal's own pages (`/brouillons/{id}/…`, which take an agent as the
//! draft's owner) and files it with the channel — téléphone, guichet or
//! courrier — asked on the summary.
//!
//! `service::drafts::open` checks the right and prefills from the usager's
//! profile; `service::filing::file` asks for the channel and keeps the
//! demande tied to the account the draft was opened for.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use guichet_core::draft::OpenError;
use guichet_core::id::Slug;
use guichet_core::role::Right;
use serde::Deserialize;

use super::{Agent, Desk};
use crate::http::AppState;
use crate::service::accounts::{ProfileForm, password_links};
use crate::service::{ServiceError, back_office, drafts, links};
use crate::web::session::Checked;
use crate::web::{ErrorView, Errors, Site, failure, page, see_other};

/// The most accounts a search lists.
const FOUND: u32 = 20;

/// A démarche the agent may file.
struct DemarcheChoice {
    slug: String,
    title: String,
    selected: bool,
}

/// An usager's account found.
struct Found {
    /// The account's id, for its links' page.
    id: String,
    login: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "back_office/saisie.html")]
struct SaisiePage {
    desk: Desk,
    demarches: Vec<DemarcheChoice>,
    /// The search typed.
    q: String,
    /// The accounts found, when searched.
    found: Option<Vec<Found>>,
    /// The agent may link usagers' accounts (their links' page).
    links: bool,
    /// The account-creation form, as typed.
    account: NewAccount,
    /// The login of the account just created, to say so.
    created: String,
    errors: Errors,
}

/// The fields of the account-creation form.
#[derive(Debug, Default)]
struct NewAccount {
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
}

/// The page's query: a search of usagers, the démarche chosen.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Search {
    q: String,
    demarche: String,
    /// The login of an account just created (`/back-office/saisie/compte`).
    cree: String,
}

/// The page, with the démarches the agent may file and the accounts found.
async fn saisie_page(
    state: &AppState,
    site: Site,
    agent: &crate::service::Caller,
    search: Search,
    usager: &str,
    account: NewAccount,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let demarches = match back_office::demarches(&guichet, agent).await {
        Ok(demarches) => demarches,
        Err(error) => return failure(&site, error),
    };
    let demarches: Vec<DemarcheChoice> = demarches
        .into_iter()
        .filter(|(_, rights)| rights.contains(Right::FileOnBehalf))
        .map(|(entry, _)| DemarcheChoice {
            selected: search.demarche == entry.slug.as_str(),
            slug: entry.slug.to_string(),
            title: entry.title,
        })
        .collect();
    if demarches.is_empty() {
        return failure(
            &site,
            ServiceError::Forbidden("droit manquant : saisie au nom de l'usager".to_owned()),
        );
    }
    let q = search.q.trim().to_owned();
    let found = if q.is_empty() {
        None
    } else {
        match guichet.store.find_usagers(&q, FOUND).await {
            Ok(users) => Some(
                users
                    .into_iter()
                    .map(|user| Found {
                        id: user.id.uuid().to_string(),
                        selected: user.login == usager,
                        login: user.login,
                        name: user.display_name,
                    })
                    .collect(),
            ),
            Err(error) => return failure(&site, error.into()),
        }
    };
    let links = match links::may_link_somewhere(&guichet, agent).await {
        Ok(links) => links,
        Err(error) => return failure(&site, error),
    };
    page(
        errors.status(),
        &SaisiePage {
            desk: Desk::of(site, agent),
            demarches,
            q,
            found,
            links,
            account,
            created: search.cree,
            errors,
        },
    )
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Query(search): Query<Search>,
) -> Response {
    saisie_page(
        &state,
        site,
        &agent,
        search,
        "",
        NewAccount::default(),
        Errors::default(),
    )
    .await
}

pub(super) async fn start(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Checked(posted): Checked,
) -> Response {
    let demarche = posted.text("demarche");
    let usager = posted.text("usager");
    let search = Search {
        q: posted.text("q"),
        demarche: demarche.clone(),
        cree: String::new(),
    };
    let errors = if demarche.is_empty() {
        Errors(vec![ErrorView::on(
            "demarche",
            "Choisissez la démarche à saisir.",
        )])
    } else {
        let login =
            Some(usager.as_str()).filter(|login| !login.is_empty() && *login != "sans-compte");
        match drafts::open(&state.guichet(), &agent, &Slug::from(demarche), login).await {
            Ok(opened) => return see_other(&format!("/brouillons/{}", opened.draft.id.0)),
            Err(ServiceError::Fields(problems)) => Errors(
                problems
                    .into_iter()
                    .map(|p| ErrorView::on("usager", p.message))
                    .collect(),
            ),
            Err(ServiceError::Open(OpenError::RightMissing)) => {
                return failure(
                    &site,
                    ServiceError::Forbidden(
                        "droit manquant : saisie au nom de l'usager".to_owned(),
                    ),
                );
            }
            Err(ServiceError::Open(error)) => Errors(vec![ErrorView::on(
                "demarche",
                format!("Cette démarche ne peut pas être saisie : {error}."),
            )]),
            Err(error) => return failure(&site, error),
        }
    };
    saisie_page(
        &state,
        site,
        &agent,
        search,
        &usager,
        NewAccount::default(),
        errors,
    )
    .await
}

/// Creates the usager's account (no password: a link to choose one is
/// mailed to them), then shows the saisie page with it found and chosen.
pub(super) async fn create_account(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Checked(posted): Checked,
) -> Response {
    let account = NewAccount {
        email: posted.text("email"),
        first_name: posted.text("first_name"),
        last_name: posted.text("last_name"),
        phone: posted.text("phone"),
    };
    let search = Search {
        q: String::new(),
        demarche: posted.text("demarche"),
        cree: String::new(),
    };
    let profile = ProfileForm {
        first_name: account.first_name.clone(),
        last_name: account.last_name.clone(),
        phone: Some(account.phone.clone()),
        ..ProfileForm::default()
    };
    let problem =
        match password_links::create_usager(&state.accounts(), &agent, &account.email, profile)
            .await
        {
            Ok(user) => {
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", &user.login)
                    .append_pair("demarche", &search.demarche)
                    .append_pair("cree", &user.login)
                    .finish();
                return see_other(&format!("/back-office/saisie?{query}#usager"));
            }
            Err(ServiceError::Fields(problems)) => Errors(
                problems
                    .into_iter()
                    .map(|p| ErrorView::on(&p.field, p.message))
                    .collect(),
            ),
            Err(ServiceError::LoginTaken(_)) => Errors(vec![ErrorView::on(
                "email",
                "Un compte existe déjà avec cette adresse : recherchez-le ci-dessus.",
            )]),
            Err(error) => return failure(&site, error),
        };
    saisie_page(&state, site, &agent, search, "", account, problem).await
}
