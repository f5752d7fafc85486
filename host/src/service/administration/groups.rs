//! Groups named `Role_Collectivité_Direction_Service` (the first part says
//! the role: `Gest_SVL_DACT_Mobilités` is a Gestionnaire group), their
//! members, and the grants that give a group its role on one démarche or
//! on all.
//!
//! Refusals say what is wrong: a name that is not a group name (`Fields`
//! on `name`), a group that exists already (`GroupExists`), an unknown
//! group (`GroupNotFound`), a grant on a démarche never imported
//! (`DemarcheNotFound`), and any change that would leave nobody able to
//! administer (the store's `last_administrator`, see
//! `guichet_store::group`).

use guichet_core::id::UserId;
use guichet_core::role::{Grant, GroupName, Scope};
use guichet_core::validation::{ErrorCode, FieldError};
use guichet_store::StoreError;

use super::Administrator;
use crate::service::{Guichet, ServiceError};

/// A group and its members.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its name, which says its role.
    pub name: GroupName,
    /// The accounts in it.
    pub members: Vec<UserId>,
    /// Where the mails to its service go (a new demande, an abandon, a
    /// reminder; for a *Qualité* group, the escalations of the service it
    /// manages).
    pub mailbox: Option<String>,
}

/// A group name as given (a path or a body), read.
fn parse(name: &str) -> Result<GroupName, ServiceError> {
    GroupName::parse(name)
        .map_err(|e| FieldError::new("name", ErrorCode::NomDeGroupeInvalide, e.to_string()).into())
}

/// The group of this name, if it exists.
async fn existing(guichet: &Guichet, name: &str) -> Result<GroupName, ServiceError> {
    let name = parse(name)?;
    if guichet.store.group_exists(&name).await? {
        Ok(name)
    } else {
        Err(ServiceError::GroupNotFound(name))
    }
}

async fn group(guichet: &Guichet, name: GroupName) -> Result<Group, ServiceError> {
    let members = guichet.store.members(&name).await?;
    let mailbox = guichet.store.group_mailbox(&name).await?;
    Ok(Group {
        name,
        members,
        mailbox,
    })
}

/// Every group with its members, by name.
///
/// # Errors
/// A store failure.
pub async fn list(guichet: &Guichet, _: &Administrator) -> Result<Vec<Group>, ServiceError> {
    let mut list = Vec::new();
    for name in guichet.store.groups().await? {
        list.push(group(guichet, name).await?);
    }
    Ok(list)
}

/// Creates an empty group.
///
/// # Errors
/// `Fields` (`name`) for an invalid name; `GroupExists`.
pub async fn create(
    guichet: &Guichet,
    _: &Administrator,
    name: &str,
) -> Result<Group, ServiceError> {
    let name = parse(name)?;
    guichet
        .store
        .create_group(&name, guichet.now())
        .await
        .map_err(|error| match error {
            StoreError::Conflict(message) => ServiceError::GroupExists(message),
            other => other.into(),
        })?;
    group(guichet, name).await
}

/// Deletes a group with its memberships and grants.
///
/// # Errors
/// `Fields` (`name`); `GroupNotFound`; the store's `last_administrator`.
pub async fn delete(guichet: &Guichet, _: &Administrator, name: &str) -> Result<(), ServiceError> {
    let name = existing(guichet, name).await?;
    match guichet.store.delete_group(&name).await {
        Err(StoreError::NotFound(_)) => Err(ServiceError::GroupNotFound(name)),
        other => Ok(other?),
    }
}

/// Sets or removes (`None`) the mailbox of a group.
///
/// # Errors
/// `Fields` (`name`, or `mailbox` for an address that is not one);
/// `GroupNotFound`.
pub async fn set_mailbox(
    guichet: &Guichet,
    _: &Administrator,
    name: &str,
    mailbox: Option<&str>,
) -> Result<Group, ServiceError> {
    let name = existing(guichet, name).await?;
    let mailbox = mailbox.map(str::trim).filter(|m| !m.is_empty());
    if let Some(address) = mailbox {
        // The SMTP library's own parser: what it accepts, it can send to.
        address.parse::<lettre::Address>().map_err(|e| {
            FieldError::new(
                "mailbox",
                ErrorCode::FormatEmail,
                format!("« {address} » n'est pas une adresse électronique ({e})"),
            )
        })?;
    }
    guichet.store.set_group_mailbox(&name, mailbox).await?;
    group(guichet, name).await
}

/// Adds an account to a group.
///
/// # Errors
/// `Fields` (`name`); `GroupNotFound`; a store `not_found` for an unknown
/// account.
pub async fn add_member(
    guichet: &Guichet,
    _: &Administrator,
    name: &str,
    user: UserId,
) -> Result<(), ServiceError> {
    let name = existing(guichet, name).await?;
    guichet.store.user(user).await?;
    Ok(guichet.store.add_member(&name, user).await?)
}

/// Removes an account from a group.
///
/// # Errors
/// `Fields` (`name`); the store's `not_found` and `last_administrator`.
pub async fn remove_member(
    guichet: &Guichet,
    _: &Administrator,
    name: &str,
    user: UserId,
) -> Result<(), ServiceError> {
    Ok(guichet.store.remove_member(&parse(name)?, user).await?)
}

/// Every grant.
///
/// # Errors
/// A store failure.
pub async fn grants(guichet: &Guichet, _: &Administrator) -> Result<Vec<Grant>, ServiceError> {
    Ok(guichet.store.grants().await?)
}

/// Gives a group its role on one démarche or on all (granting twice
/// changes nothing).
///
/// # Errors
/// `GroupNotFound`; `DemarcheNotFound` for a démarche never imported.
pub async fn grant(
    guichet: &Guichet,
    _: &Administrator,
    grant: &Grant,
) -> Result<(), ServiceError> {
    if !guichet.store.group_exists(&grant.group).await? {
        return Err(ServiceError::GroupNotFound(grant.group.clone()));
    }
    if let Scope::Demarche(slug) = &grant.scope
        && guichet.store.demarche_versions(slug).await?.is_empty()
    {
        return Err(ServiceError::DemarcheNotFound(slug.clone()));
    }
    Ok(guichet.store.grant(grant, guichet.now()).await?)
}

/// Takes a grant back.
///
/// # Errors
/// The store's `not_found` and `last_administrator`.
pub async fn revoke(
    guichet: &Guichet,
    _: &Administrator,
    grant: &Grant,
) -> Result<(), ServiceError> {
    Ok(guichet.store.revoke(grant).await?)
}
