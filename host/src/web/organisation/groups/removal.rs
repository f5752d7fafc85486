//! What a group loses, each after its confirmation page (GOV.UK's
//! pattern: the page says what will go, its button posts to the same
//! address): the group itself (`…/suppression`), a member
//! (`…/membres/{id}/retrait`), a grant (`…/habilitations/retrait`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guichet_core::id::UserId;
use guichet_core::role::GroupName;
use serde::Deserialize;

use super::{
    account_names, demarche_titles, done, find, group_href, posted_grant, scope_fields, scope_text,
};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::administration::groups;
use crate::web::organisation::{Admin, ConfirmPage, refused, told};
use crate::web::session::Checked;
use crate::web::{page, see_other, urlencoded};

pub(in crate::web::organisation) async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Response {
    let group = match find(&state, &admin, &name).await {
        Ok(group) => group,
        Err(error) => return refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    };
    let href = group_href(&group.name);
    let text = format!(
        "Le groupe « {} » sera supprimé avec ses {} adhésion(s) et toutes ses habilitations. Ses membres perdent les droits qu'il leur donnait. Cette suppression est définitive.",
        group.name.as_str(),
        group.members.len()
    );
    let heading = format!("Supprimer le groupe {}", group.name.as_str());
    page(
        StatusCode::OK,
        &ConfirmPage {
            desk: &admin.desk,
            heading: &heading,
            text: &text,
            action: &format!("{href}/suppression"),
            hidden: Vec::new(),
            button: "Supprimer le groupe",
            back: &href,
        },
    )
}

pub(in crate::web::organisation) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Checked(_): Checked,
) -> Response {
    let back = format!("/admin/groupes/{}", urlencoded(&name));
    match groups::delete(&state.guichet(), &admin.proof, &name).await {
        Ok(()) => see_other("/admin/groupes?fait=groupe-supprime"),
        Err(error) => refused(&admin.desk, error, (&back, "Retour au groupe")),
    }
}

/// A member's id from the address; one that does not read is no member.
fn member_id(text: &str) -> Result<UserId, ServiceError> {
    uuid::Uuid::parse_str(text)
        .map(UserId::from_uuid)
        .map_err(|_| ServiceError::NotFound("ce compte n'existe pas"))
}

pub(in crate::web::organisation) async fn confirm_removal(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, user)): Path<(String, String)>,
) -> Response {
    let loaded = async {
        let group = find(&state, &admin, &name).await?;
        let id = member_id(&user)?;
        let names = account_names(&state, &admin).await?;
        let member = group
            .members
            .contains(&id)
            .then(|| names.get(&id).cloned())
            .flatten()
            .ok_or(ServiceError::NotFound(
                "ce compte n'est pas membre du groupe",
            ))?;
        Ok::<_, ServiceError>((group, member))
    };
    let (group, (login, display_name)) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    };
    let href = group_href(&group.name);
    let heading = format!("Retirer {display_name} du groupe");
    let text = format!(
        "{display_name} ({login}) ne sera plus membre du groupe « {} » et perdra les droits qu'il lui donne.",
        group.name.as_str()
    );
    page(
        StatusCode::OK,
        &ConfirmPage {
            desk: &admin.desk,
            heading: &heading,
            text: &text,
            action: &format!("{href}/membres/{user}/retrait"),
            hidden: Vec::new(),
            button: "Retirer du groupe",
            back: &href,
        },
    )
}

pub(in crate::web::organisation) async fn remove_member(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, user)): Path<(String, String)>,
    Checked(_): Checked,
) -> Response {
    let back = format!("/admin/groupes/{}", urlencoded(&name));
    let removed = async {
        let id = member_id(&user)?;
        groups::remove_member(&state.guichet(), &admin.proof, &name, id).await
    };
    match removed.await {
        Ok(()) => done(&name, "membre-retire"),
        Err(error) => refused(&admin.desk, error, (&back, "Retour au groupe")),
    }
}

/// The grant a revocation names.
#[derive(Debug, Default, Deserialize)]
pub(in crate::web::organisation) struct Named {
    #[serde(default)]
    portee: String,
    #[serde(default)]
    demarche: String,
}

pub(in crate::web::organisation) async fn confirm_revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Query(named): Query<Named>,
) -> Response {
    let loaded = async {
        let group = find(&state, &admin, &name).await?;
        let titles: HashMap<String, String> =
            demarche_titles(&state, &admin).await?.into_iter().collect();
        Ok::<_, ServiceError>((group, titles))
    };
    let (group, titles) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return refused(&admin.desk, error, ("/admin/groupes", "Retour aux groupes")),
    };
    let href = group_href(&group.name);
    let grant = match posted_grant(group.name.clone(), &named.portee, &named.demarche) {
        Ok(grant) => grant,
        Err(text) => {
            return told(
                &admin.desk,
                StatusCode::BAD_REQUEST,
                "Habilitation introuvable",
                text,
                (&href, "Retour au groupe"),
            );
        }
    };
    let heading = format!("Retirer une habilitation du groupe {}", group.name.as_str());
    let text = format!(
        "Le groupe « {} » ({}) perdra son rôle sur : {}. Ses membres n'y auront plus accès par ce groupe.",
        group.name.as_str(),
        group.name.role().label(),
        scope_text(&grant.scope, &titles)
    );
    let (portee, demarche) = scope_fields(&grant.scope);
    page(
        StatusCode::OK,
        &ConfirmPage {
            desk: &admin.desk,
            heading: &heading,
            text: &text,
            action: &format!("{href}/habilitations/retrait"),
            hidden: vec![("portee", portee), ("demarche", &demarche)],
            button: "Retirer l'habilitation",
            back: &href,
        },
    )
}

pub(in crate::web::organisation) async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let back = format!("/admin/groupes/{}", urlencoded(&name));
    let group = match GroupName::parse(&name) {
        Ok(group) => group,
        Err(_) => {
            return refused(
                &admin.desk,
                ServiceError::NotFound("ce groupe n'existe pas"),
                ("/admin/groupes", "Retour aux groupes"),
            );
        }
    };
    let grant = match posted_grant(group, &posted.text("portee"), &posted.text("demarche")) {
        Ok(grant) => grant,
        Err(text) => {
            return told(
                &admin.desk,
                StatusCode::BAD_REQUEST,
                "Habilitation introuvable",
                text,
                (&back, "Retour au groupe"),
            );
        }
    };
    match groups::revoke(&state.guichet(), &admin.proof, &grant).await {
        Ok(()) => done(grant.group.as_str(), "habilitation-retiree"),
        Err(error) => refused(&admin.desk, error, (&back, "Retour au groupe")),
    }
}
