//! The administration of the organisation in the browser (`/admin/…`):
//! the démarches, their versions and the import of a definition
//! (`organisation/demarches.rs`), the groups with their members, mailbox
//! and grants (`organisation/groups.rs`), and the agents' accounts
//! (`organisation/accounts.rs`).
//!
//! **Design.** The back office's rules hold (`web/back_office.rs`): pages
//! in its layout, built on the application layer —
//! `crate::service::administration`, called exactly as the JSON API
//! calls it (`crate::http::admin`), so that no rule is written twice.
//! Every route is for administrators only ([`Admin`]): anyone else gets a
//! 403 page, and a forged form is refused before it is read. A change
//! answers with a redirection to the page that shows it, which says what
//! was done (`?fait=…`); a form refused shows its page again with the
//! error summary and the text typed. Deleting a group, removing a member
//! and revoking a grant go through a confirmation page (`…/suppression`,
//! `…/retrait`) whose button posts to the same address.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use guichet_store::StoreError;

pub(crate) use super::admin::Admin;
use super::back_office::Desk;
use super::{ErrorView, Errors, failure, page};
use crate::http::AppState;
use crate::service::ServiceError;

mod accounts;
mod demarches;
mod groups;
mod source;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/demarches",
            get(demarches::list).post(demarches::import),
        )
        .route("/admin/demarches/{slug}", get(demarches::show))
        .route("/admin/demarches/{slug}/prefixe", post(demarches::prefix))
        .route("/admin/groupes", get(groups::list).post(groups::create))
        .route("/admin/groupes/{name}", get(groups::show))
        .route(
            "/admin/groupes/{name}/suppression",
            get(groups::confirm_delete).post(groups::delete),
        )
        .route("/admin/groupes/{name}/boite", post(groups::mailbox))
        .route("/admin/groupes/{name}/membres", post(groups::add_member))
        .route(
            "/admin/groupes/{name}/membres/{user}/retrait",
            get(groups::confirm_removal).post(groups::remove_member),
        )
        .route("/admin/groupes/{name}/habilitations", post(groups::grant))
        .route(
            "/admin/groupes/{name}/habilitations/retrait",
            get(groups::confirm_revoke).post(groups::revoke),
        )
        .route("/admin/comptes", get(accounts::list).post(accounts::create))
        .route(
            "/admin/comptes/{id}/desactivation",
            post(accounts::deactivate),
        )
        .route("/admin/comptes/{id}/reactivation", post(accounts::activate))
}

/// A page of the administration that says one thing.
#[derive(Template)]
#[template(path = "organisation/message.html")]
struct MessagePage<'a> {
    desk: &'a Desk,
    heading: &'a str,
    text: &'a str,
    back: (&'a str, &'a str),
}

/// A page that says one thing, with `status` and a link `back` (address,
/// words).
fn told(
    desk: &Desk,
    status: StatusCode,
    heading: &str,
    text: &str,
    back: (&str, &str),
) -> Response {
    page(
        status,
        &MessagePage {
            desk,
            heading,
            text,
            back,
        },
    )
}

/// A confirmation page: what will be done, and the button that does it
/// (posted to `action`).
#[derive(Template)]
#[template(path = "organisation/confirm.html")]
struct ConfirmPage<'a> {
    desk: &'a Desk,
    heading: &'a str,
    text: &'a str,
    action: &'a str,
    /// Hidden fields the form carries.
    hidden: Vec<(&'a str, &'a str)>,
    button: &'a str,
    back: &'a str,
}

/// The French of the layers below as a sentence: a capital first letter
/// and a final full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// The errors of a form from the problems the application layer found,
/// each on the form's field named as the service names it in `fields`
/// (`(service's name, form's name)`), or on `fallback`.
fn form_errors(
    problems: Vec<guichet_core::validation::FieldError>,
    fields: &[(&str, &str)],
    fallback: &str,
) -> Errors {
    Errors(
        problems
            .into_iter()
            .map(|problem| {
                let field = fields
                    .iter()
                    .find(|(service, _)| *service == problem.field)
                    .map_or(fallback, |(_, form)| form);
                ErrorView::on(field, sentence(&problem.message))
            })
            .collect(),
    )
}

/// A failure that is not about a form's fields, as a page: what cannot be
/// done (the last administrator), what does not exist, or [`failure`].
fn refused(desk: &Desk, error: ServiceError, back: (&str, &str)) -> Response {
    match error {
        ServiceError::Store(StoreError::LastAdministrator(text)) => told(
            desk,
            StatusCode::CONFLICT,
            "Dernier administrateur",
            &format!("{} Rien n'a été changé.", sentence(&text)),
            back,
        ),
        ServiceError::GroupNotFound(name) => told(
            desk,
            StatusCode::NOT_FOUND,
            "Groupe introuvable",
            &format!("Le groupe « {} » n'existe pas.", name.as_str()),
            ("/admin/groupes", "Retour aux groupes"),
        ),
        ServiceError::DemarcheNotFound(slug) => told(
            desk,
            StatusCode::NOT_FOUND,
            "Démarche introuvable",
            &format!("La démarche « {} » n'existe pas.", slug.as_str()),
            ("/admin/demarches", "Retour aux démarches"),
        ),
        ServiceError::NotFound(text) => told(
            desk,
            StatusCode::NOT_FOUND,
            "Introuvable",
            &sentence(text),
            back,
        ),
        ServiceError::Store(StoreError::NotFound(what)) => told(
            desk,
            StatusCode::NOT_FOUND,
            "Introuvable",
            &sentence(&format!("{what} introuvable")),
            back,
        ),
        other => failure(&desk.site, other),
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn messages_of_the_layers_below_read_as_sentences() {
        assert_eq!(sentence("le groupe existe déjà"), "Le groupe existe déjà.");
        assert_eq!(sentence("Indiquez un nom."), "Indiquez un nom.");
        assert_eq!(sentence("  "), "");
        assert_eq!(sentence("étape vide"), "Étape vide.");
    }
}
