//! The agents' accounts (`/admin/comptes`): every agent with their groups
//! and whether they may log in, the creation of an agent (login, name,
//! first password, groups to join), and their deactivation (which ends
//! their sessions) or reactivation.
//!
//! Every change is `service::administration::accounts`'s, as for
//! `/api/admin/users`: a blank login or name, a weak password, a login
//! taken are told beside their field; deactivating the last administrator
//! is refused on a page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use guichet_core::id::UserId;
use guichet_core::profile::Profile;
use guichet_store::account::UserKind;
use serde::Deserialize;

use super::{Admin, form_errors, refused, sentence};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::administration::accounts::{self, NewAgent};
use crate::service::administration::groups;
use crate::web::back_office::Desk;
use crate::web::session::Checked;
use crate::web::{ErrorView, Errors, failure, page, see_other};

/// The form's names of the service's fields.
const FIELDS: [(&str, &str); 4] = [
    ("login", "identifiant"),
    ("display_name", "nom"),
    ("password", "mot_de_passe"),
    ("groups", "groupes"),
];

/// What the address says was just done.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    fait: Option<String>,
}

/// What was just done, in words.
fn done_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "compte-cree" => {
            "Compte créé. L'agent peut se connecter ; ajoutez-le à ses groupes pour lui donner ses droits."
        }
        "desactive" => {
            "Compte désactivé : ses sessions sont fermées et il ne peut plus se connecter."
        }
        "reactive" => "Compte réactivé : l'agent peut de nouveau se connecter.",
        _ => return None,
    })
}

/// An agent as listed.
struct AccountRow {
    id: String,
    login: String,
    name: String,
    groups: Vec<String>,
    active: bool,
    created: String,
}

/// What was typed in the creation form (never the password).
#[derive(Debug, Default)]
struct Typed {
    login: String,
    name: String,
    /// The groups ticked.
    groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "organisation/accounts.html")]
struct ListPage {
    desk: Desk,
    accounts: Vec<AccountRow>,
    /// Every group, which a new agent may join.
    groups: Vec<String>,
    done: Option<&'static str>,
    typed: Typed,
    errors: Errors,
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    done: Option<&str>,
    typed: Typed,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let agents = match accounts::list(&guichet, &admin.proof, Some(UserKind::Agent)).await {
        Ok(agents) => agents,
        Err(error) => return failure(&admin.desk.site, error),
    };
    let groups = match groups::list(&guichet, &admin.proof).await {
        Ok(groups) => groups
            .into_iter()
            .map(|group| group.name.as_str().to_owned())
            .collect(),
        Err(error) => return failure(&admin.desk.site, error),
    };
    let zone = guichet.zone;
    let view = ListPage {
        groups,
        desk: admin.desk.clone(),
        accounts: agents
            .into_iter()
            .map(|account| AccountRow {
                id: account.user.id.uuid().to_string(),
                login: account.user.login,
                name: account.user.display_name,
                groups: account
                    .groups
                    .iter()
                    .map(|group| group.as_str().to_owned())
                    .collect(),
                active: account.user.active,
                created: zone.date_text(account.user.created_at),
            })
            .collect(),
        done: done.and_then(done_text),
        typed,
        errors,
    };
    page(view.errors.status(), &view)
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    list_page(
        &state,
        &admin,
        done.fait.as_deref(),
        Typed::default(),
        Errors::default(),
    )
    .await
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Checked(posted): Checked,
) -> Response {
    let typed = Typed {
        login: posted.text("identifiant"),
        name: posted.text("nom"),
        groups: posted.all("groupes"),
    };
    let new = NewAgent {
        login: typed.login.clone(),
        display_name: typed.name.clone(),
        password: posted.raw("mot_de_passe"),
        groups: typed.groups.clone(),
        profile: Profile::default(),
    };
    match accounts::create_agent(&state.accounts(), &admin.proof, new).await {
        Ok(_) => see_other("/admin/comptes?fait=compte-cree"),
        Err(ServiceError::Fields(problems)) => {
            let errors = form_errors(problems, &FIELDS, "identifiant");
            list_page(&state, &admin, None, typed, errors).await
        }
        Err(ServiceError::LoginTaken(text)) => {
            let errors = Errors(vec![ErrorView::on("identifiant", sentence(&text))]);
            list_page(&state, &admin, None, typed, errors).await
        }
        Err(error) => refused(&admin.desk, error, ("/admin/comptes", "Retour aux comptes")),
    }
}

/// Enables or disables the account of the address.
async fn set_active(state: &AppState, admin: &Admin, id: &str, active: bool) -> Response {
    let back = ("/admin/comptes", "Retour aux comptes");
    let Ok(id) = uuid::Uuid::parse_str(id) else {
        return refused(
            &admin.desk,
            ServiceError::NotFound("ce compte n'existe pas"),
            back,
        );
    };
    match accounts::set_active(
        &state.guichet(),
        &admin.proof,
        UserId::from_uuid(id),
        active,
    )
    .await
    {
        Ok(_) if active => see_other("/admin/comptes?fait=reactive"),
        Ok(_) => see_other("/admin/comptes?fait=desactive"),
        Err(error) => refused(&admin.desk, error, back),
    }
}

pub(super) async fn deactivate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Checked(_): Checked,
) -> Response {
    set_active(&state, &admin, &id, false).await
}

pub(super) async fn activate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Checked(_): Checked,
) -> Response {
    set_active(&state, &admin, &id, true).await
}
