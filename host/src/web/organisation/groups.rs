//! The groups (`/admin/groupes`): every group with its role, mailbox,
//! members and grants, and the creation of a group; a group's page
//! (`/admin/groupes/{name}`) sets its mailbox, adds a member by login,
//! grants its role on one démarche or on all, and links to the
//! confirmation pages that remove a member, revoke a grant or delete the
//! group.
//!
//! The confirmation pages and what they confirm are in
//! `groups/removal.rs`.
//!
//! Every change is `service::administration::groups`'s, as for
//! `/api/admin/groups` and `/api/admin/grants`: a name that is not
//! `Role_Collectivité_Direction_Service`, a group that exists already, an
//! address that is not one are told beside their field; a change that
//! would leave nobody able to administer is refused on a page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use guichet_core::id::{Slug, UserId};
use guichet_core::role::{Grant, GroupName, Scope};
use guichet_store::account::UserKind;
use serde::Deserialize;

use super::{Admin, form_errors, refused, sentence};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::administration::groups::{self, Group};
use crate::service::administration::{accounts, demarches};
use crate::web::back_office::Desk;
use crate::web::session::{Checked, Posted};
use crate::web::{ErrorView, Errors, failure, page, see_other, urlencoded};

mod removal;

pub(super) use removal::{
    confirm_delete, confirm_removal, confirm_revoke, delete, remove_member, revoke,
};

/// The address of a group's page.
fn group_href(name: &GroupName) -> String {
    format!("/admin/groupes/{}", urlencoded(name.as_str()))
}

/// What the address says was just done.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    fait: Option<String>,
}

/// What was just done, in words.
fn done_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "groupe-cree" => "Groupe créé. Ajoutez-lui ses membres et ses habilitations.",
        "groupe-supprime" => "Groupe supprimé, avec ses adhésions et ses habilitations.",
        "boite" => "Boîte aux lettres du service enregistrée.",
        "membre-ajoute" => "Membre ajouté au groupe.",
        "membre-retire" => "Membre retiré du groupe.",
        "habilitation" => "Habilitation enregistrée.",
        "habilitation-retiree" => "Habilitation retirée.",
        _ => return None,
    })
}

/// A grant's démarches in words.
fn scope_text(scope: &Scope, titles: &HashMap<String, String>) -> String {
    match scope {
        Scope::All => "Toutes les démarches".to_owned(),
        Scope::Demarche(slug) => match titles.get(slug.as_str()) {
            Some(title) => format!("{title} ({})", slug.as_str()),
            None => slug.as_str().to_owned(),
        },
    }
}

/// A grant's `portee` and `demarche` fields (the revocation's form).
fn scope_fields(scope: &Scope) -> (&'static str, String) {
    match scope {
        Scope::All => ("toutes", String::new()),
        Scope::Demarche(slug) => ("demarche", slug.as_str().to_owned()),
    }
}

/// The titles of the démarches by slug, by title.
async fn demarche_titles(
    state: &AppState,
    admin: &Admin,
) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(demarches::list(&state.guichet(), &admin.proof)
        .await?
        .into_iter()
        .map(|entry| (entry.slug.to_string(), entry.title))
        .collect())
}

/// Every account by id: login and name.
async fn account_names(
    state: &AppState,
    admin: &Admin,
) -> Result<HashMap<UserId, (String, String)>, ServiceError> {
    Ok(accounts::list(&state.guichet(), &admin.proof, None)
        .await?
        .into_iter()
        .map(|account| {
            (
                account.user.id,
                (account.user.login, account.user.display_name),
            )
        })
        .collect())
}

/// A group as listed.
struct GroupRow {
    name: String,
    href: String,
    role: &'static str,
    mailbox: Option<String>,
    /// Names of its members.
    members: Vec<String>,
    /// Its grants in words.
    grants: Vec<String>,
}

#[derive(Template)]
#[template(path = "organisation/groups.html")]
struct ListPage {
    desk: Desk,
    groups: Vec<GroupRow>,
    done: Option<&'static str>,
    /// The name typed.
    typed: String,
    errors: Errors,
}

async fn list_page(
    state: &AppState,
    admin: &Admin,
    done: Option<&str>,
    typed: String,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let loaded = async {
        let groups = groups::list(&guichet, &admin.proof).await?;
        let grants = groups::grants(&guichet, &admin.proof).await?;
        let titles: HashMap<String, String> =
            demarche_titles(state, admin).await?.into_iter().collect();
        let names = account_names(state, admin).await?;
        Ok::<_, ServiceError>((groups, grants, titles, names))
    };
    let (list, grants, titles, names) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return failure(&admin.desk.site, error),
    };
    let groups = list
        .into_iter()
        .map(|group| GroupRow {
            href: group_href(&group.name),
            role: group.name.role().label(),
            members: group
                .members
                .iter()
                .map(|id| {
                    names
                        .get(id)
                        .map_or_else(|| id.uuid().to_string(), |(_, name)| name.clone())
                })
                .collect(),
            grants: grants
                .iter()
                .filter(|grant| grant.group == group.name)
                .map(|grant| scope_text(&grant.scope, &titles))
                .collect(),
            mailbox: group.mailbox,
            name: group.name.as_str().to_owned(),
        })
        .collect();
    let view = ListPage {
        desk: admin.desk.clone(),
        groups,
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
        String::new(),
        Errors::default(),
    )
    .await
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Checked(posted): Checked,
) -> Response {
    let name = posted.text("nom");
    match groups::create(&state.guichet(), &admin.proof, &name).await {
        Ok(group) => see_other(&format!("{}?fait=groupe-cree", group_href(&group.name))),
        Err(ServiceError::Fields(problems)) => {
            let errors = form_errors(problems, &[("name", "nom")], "nom");
            list_page(&state, &admin, None, name, errors).await
        }
        Err(ServiceError::GroupExists(text)) => {
            let errors = Errors(vec![ErrorView::on("nom", sentence(&text))]);
            list_page(&state, &admin, None, name, errors).await
        }
        Err(error) => refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    }
}

/// A member as shown on the group's page.
struct MemberView {
    login: String,
    name: String,
    /// The confirmation page of their removal.
    remove: String,
}

/// A grant as shown on the group's page.
struct GrantView {
    text: String,
    /// The confirmation page of its revocation.
    revoke: String,
}

#[derive(Template)]
#[template(path = "organisation/group.html")]
struct GroupPage {
    desk: Desk,
    name: String,
    href: String,
    role: &'static str,
    members: Vec<MemberView>,
    grants: Vec<GrantView>,
    /// The démarches a grant may name: slug, title.
    demarches: Vec<(String, String)>,
    done: Option<&'static str>,
    /// What was typed in each form, by field.
    typed: HashMap<String, String>,
    errors: Errors,
}

impl GroupPage {
    /// What was typed in `field`.
    fn typed(&self, field: &str) -> &str {
        self.typed.get(field).map_or("", String::as_str)
    }
}

/// The group named by the address, if it exists.
async fn find(state: &AppState, admin: &Admin, name: &str) -> Result<Group, ServiceError> {
    let wanted = GroupName::parse(name).ok();
    groups::list(&state.guichet(), &admin.proof)
        .await?
        .into_iter()
        .find(|group| Some(&group.name) == wanted.as_ref())
        .ok_or(ServiceError::NotFound("ce groupe n'existe pas"))
}

/// A group's page, with what was typed and its errors (`typed` holds the
/// mailbox as stored unless the form gave another).
async fn group_page(
    state: &AppState,
    admin: &Admin,
    name: &str,
    done: Option<&str>,
    mut typed: HashMap<String, String>,
    errors: Errors,
) -> Response {
    let guichet = state.guichet();
    let loaded = async {
        let group = find(state, admin, name).await?;
        let grants = groups::grants(&guichet, &admin.proof).await?;
        let demarches = demarche_titles(state, admin).await?;
        let names = account_names(state, admin).await?;
        Ok::<_, ServiceError>((group, grants, demarches, names))
    };
    let (group, grants, demarches, names) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    };
    let href = group_href(&group.name);
    let titles: HashMap<String, String> = demarches.iter().cloned().collect();
    typed
        .entry("boite".to_owned())
        .or_insert_with(|| group.mailbox.clone().unwrap_or_default());
    let view = GroupPage {
        desk: admin.desk.clone(),
        role: group.name.role().label(),
        members: group
            .members
            .iter()
            .map(|id| {
                let (login, name) = names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| (id.uuid().to_string(), String::new()));
                MemberView {
                    login,
                    name,
                    remove: format!("{href}/membres/{}/retrait", id.uuid()),
                }
            })
            .collect(),
        grants: grants
            .iter()
            .filter(|grant| grant.group == group.name)
            .map(|grant| {
                let (portee, demarche) = scope_fields(&grant.scope);
                GrantView {
                    text: scope_text(&grant.scope, &titles),
                    revoke: format!(
                        "{href}/habilitations/retrait?portee={portee}&demarche={}",
                        urlencoded(&demarche)
                    ),
                }
            })
            .collect(),
        demarches,
        done: done.and_then(done_text),
        name: group.name.as_str().to_owned(),
        href,
        typed,
        errors,
    };
    page(view.errors.status(), &view)
}

pub(super) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    group_page(
        &state,
        &admin,
        &name,
        done.fait.as_deref(),
        HashMap::new(),
        Errors::default(),
    )
    .await
}

/// The fields of a posted form, for showing them again.
fn typed(posted: &Posted, fields: &[&str]) -> HashMap<String, String> {
    fields
        .iter()
        .map(|field| ((*field).to_owned(), posted.text(field)))
        .collect()
}

/// Back to the group's page after a change, saying what was done.
fn done(name: &str, what: &str) -> Response {
    see_other(&format!(
        "/admin/groupes/{}?fait={what}",
        urlencoded(name.trim())
    ))
}

pub(super) async fn mailbox(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let mailbox = posted.filled("boite");
    match groups::set_mailbox(&state.guichet(), &admin.proof, &name, mailbox.as_deref()).await {
        Ok(group) => done(group.name.as_str(), "boite"),
        Err(ServiceError::Fields(problems)) => {
            let errors = form_errors(problems, &[("mailbox", "boite")], "boite");
            group_page(
                &state,
                &admin,
                &name,
                None,
                typed(&posted, &["boite"]),
                errors,
            )
            .await
        }
        Err(error) => refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    }
}

pub(super) async fn add_member(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let login = posted.text("identifiant");
    let show_again = |message: String| {
        let errors = Errors(vec![ErrorView::on("identifiant", message)]);
        group_page(
            &state,
            &admin,
            &name,
            None,
            typed(&posted, &["identifiant"]),
            errors,
        )
    };
    if login.is_empty() {
        return show_again("Indiquez l'identifiant du compte à ajouter.".to_owned()).await;
    }
    let agents = match accounts::list(&state.guichet(), &admin.proof, Some(UserKind::Agent)).await {
        Ok(agents) => agents,
        Err(error) => return failure(&admin.desk.site, error),
    };
    let wanted = login.to_lowercase();
    let Some(agent) = agents.into_iter().find(|a| a.user.login == wanted) else {
        return show_again(format!(
            "Aucun compte d'agent n'a l'identifiant « {login} ». Créez-le d'abord dans « Comptes des agents »."
        ))
        .await;
    };
    match groups::add_member(&state.guichet(), &admin.proof, &name, agent.user.id).await {
        Ok(()) => done(&name, "membre-ajoute"),
        Err(error) => refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    }
}

/// The grant a form names: `portee` is `toutes` or `demarche` (then
/// `demarche` names it).
fn posted_grant(group: GroupName, portee: &str, demarche: &str) -> Result<Grant, &'static str> {
    let scope = match portee {
        "toutes" => Scope::All,
        "demarche" if !demarche.is_empty() => Scope::Demarche(Slug::from(demarche)),
        "demarche" => return Err("Choisissez la démarche."),
        _ => return Err("Choisissez une démarche ou toutes les démarches."),
    };
    Ok(Grant { group, scope })
}

pub(super) async fn grant(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let group = match find(&state, &admin, &name).await {
        Ok(group) => group.name,
        Err(error) => return refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    };
    let portee = posted.text("portee");
    let grant = match posted_grant(group, &portee, &posted.text("demarche")) {
        Ok(grant) => grant,
        Err(text) => {
            let field = if portee == "demarche" {
                "demarche"
            } else {
                "portee"
            };
            let errors = Errors(vec![ErrorView::on(field, text)]);
            let typed = typed(&posted, &["portee", "demarche"]);
            return group_page(&state, &admin, &name, None, typed, errors).await;
        }
    };
    match groups::grant(&state.guichet(), &admin.proof, &grant).await {
        Ok(()) => done(grant.group.as_str(), "habilitation"),
        Err(ServiceError::DemarcheNotFound(slug)) => {
            let errors = Errors(vec![ErrorView::on(
                "demarche",
                format!("La démarche « {} » n'existe pas.", slug.as_str()),
            )]);
            let typed = typed(&posted, &["portee", "demarche"]);
            group_page(&state, &admin, &name, None, typed, errors).await
        }
        Err(error) => refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    }
}
