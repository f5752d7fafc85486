//! Choosing a password with a link mailed by the platform: *mot de passe
//! oublié* (`/mot-de-passe-oublie`) and the page the link leads to
//! (`/mot-de-passe/{token}`), also reached by an usager whose account an
//! agent created at the guichet.
//!
//! The rules are `service::accounts::password_links`: this module reads
//! the forms and shows their errors; once the password is chosen the
//! person is logged in (`super::account::session_opened`) and lands on
//! their demandes — an agent on the back office.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::account::session_opened;
use super::session::Checked;
use super::{ErrorView, Errors, Site, failure, page};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::accounts::password_links::{self, LinkPurpose, Opened};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mot-de-passe-oublie", get(forgotten_page).post(forgotten))
        .route("/mot-de-passe/{token}", get(choose_page).post(choose))
}

#[derive(Template)]
#[template(path = "portal/password_forgotten.html")]
struct ForgottenPage {
    site: Site,
    login: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "portal/password_sent.html")]
struct SentPage {
    site: Site,
    login: String,
}

#[derive(Template)]
#[template(path = "portal/password_choose.html")]
struct ChoosePage {
    site: Site,
    heading: &'static str,
    token: String,
    login: String,
    display_name: String,
    /// The link's end, in the collectivité's time zone.
    until: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "portal/password_link_refused.html")]
struct RefusedPage {
    site: Site,
    text: String,
}

async fn forgotten_page(site: Site) -> Response {
    page(
        StatusCode::OK,
        &ForgottenPage {
            site,
            login: String::new(),
            errors: Errors::default(),
        },
    )
}

async fn forgotten(
    State(state): State<AppState>,
    site: Site,
    Checked(posted): Checked,
) -> Response {
    let login = posted.text("login");
    match password_links::ask_reset(&state.guichet(), &login).await {
        Ok(()) => page(StatusCode::OK, &SentPage { site, login }),
        Err(ServiceError::Fields(problems)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ForgottenPage {
                site,
                login,
                errors: Errors(
                    problems
                        .into_iter()
                        .map(|p| ErrorView::on("login", p.message))
                        .collect(),
                ),
            },
        ),
        Err(error) => failure(&site, error),
    }
}

/// The page of a link that may still set a password.
fn choose_form(
    state: &AppState,
    site: Site,
    token: String,
    opened: Opened,
    errors: Errors,
) -> Response {
    let until = state.guichet().zone.local(opened.expires_at);
    page(
        errors.status(),
        &ChoosePage {
            site,
            heading: match opened.purpose {
                LinkPurpose::Reset => "Choisir un nouveau mot de passe",
                LinkPurpose::Claim => "Choisir le mot de passe de votre compte",
            },
            token,
            login: opened.login,
            display_name: opened.display_name,
            until: format!("{} à {}", until.format("%d/%m/%Y"), until.format("%H:%M")),
            errors,
        },
    )
}

/// The page of a link that sets nothing (altered, gone, used, expired).
fn refused(site: Site, error: ServiceError) -> Response {
    match error {
        ServiceError::PasswordLink(refusal) => {
            let (status, text) = match refusal {
                password_links::PasswordLinkError::Invalid => (
                    StatusCode::NOT_FOUND,
                    "Ce lien n'est pas valide : il a peut-être été mal copié depuis le mail.",
                ),
                password_links::PasswordLinkError::Spent => (
                    StatusCode::GONE,
                    "Ce lien a déjà servi ou a expiré : chaque lien ne sert qu'une fois, pendant une durée limitée.",
                ),
            };
            let text = text.to_owned();
            page(status, &RefusedPage { site, text })
        }
        other => failure(&site, other),
    }
}

async fn choose_page(
    State(state): State<AppState>,
    site: Site,
    Path(token): Path<String>,
) -> Response {
    match password_links::open(&state.guichet(), &token).await {
        Ok(opened) => choose_form(&state, site, token, opened, Errors::default()),
        Err(error) => refused(site, error),
    }
}

async fn choose(
    State(state): State<AppState>,
    site: Site,
    Path(token): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let guichet = state.guichet();
    let opened = match password_links::open(&guichet, &token).await {
        Ok(opened) => opened,
        Err(error) => return refused(site, error),
    };
    let password = posted.raw("password");
    if password != posted.raw("password_confirmation") {
        let errors = Errors(vec![ErrorView::on(
            "password_confirmation",
            "Les deux mots de passe saisis sont différents.",
        )]);
        return choose_form(&state, site, token, opened, errors);
    }
    match password_links::choose_password(&state.accounts(), &token, password).await {
        Ok(logged_in) => {
            let suite = if logged_in.caller.is_usager() {
                "/demandes"
            } else {
                "/back-office/demandes"
            };
            session_opened(&state, suite, &logged_in)
        }
        Err(ServiceError::Fields(problems)) => {
            let errors = Errors(
                problems
                    .into_iter()
                    .map(|p| ErrorView::on("password", p.message))
                    .collect(),
            );
            choose_form(&state, site, token, opened, errors)
        }
        Err(error) => refused(site, error),
    }
}
