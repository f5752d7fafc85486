//! Accounts and API tokens: administrators create agents (usagers
//! register themselves, [`crate::service::accounts::register`]), list,
//! deactivate and reactivate accounts (which ends their sessions), and
//! give machines API tokens whose scopes are the rights they may use. A
//! token's secret is given once, at creation; the store keeps only its
//! hash.

use guichet_core::id::UserId;
use guichet_core::profile::Profile;
use guichet_core::role::{GroupName, Right};
use guichet_core::validation::{ErrorCode, FieldError};
use guichet_store::account::{NewUser, User, UserKind};
use guichet_store::session::{ApiToken, ApiTokenId, Secret};

use super::Administrator;
use crate::service::accounts::{Accounts, check_password, login_taken};
use crate::service::{Guichet, ServiceError};

/// An account with the groups it is a member of.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account.
    pub user: User,
    /// Its groups, by name (none for usagers).
    pub groups: Vec<GroupName>,
}

/// Adds a `requis` problem on `field` when `value` is blank.
fn require(problems: &mut Vec<FieldError>, field: &str, value: &str, message: &str) {
    if value.trim().is_empty() {
        problems.push(FieldError::new(field, ErrorCode::Requis, message));
    }
}

async fn account(guichet: &Guichet, user: User) -> Result<Account, ServiceError> {
    let groups = guichet.store.groups_of(user.id).await?;
    Ok(Account { user, groups })
}

/// Every account, or those of one kind, by login.
///
/// # Errors
/// A store failure.
pub async fn list(
    guichet: &Guichet,
    _: &Administrator,
    kind: Option<UserKind>,
) -> Result<Vec<Account>, ServiceError> {
    let mut accounts = Vec::new();
    for user in guichet.store.users(kind).await? {
        accounts.push(account(guichet, user).await?);
    }
    Ok(accounts)
}

/// An agent account to create.
#[derive(Debug, Clone, Default)]
pub struct NewAgent {
    /// Login (usually the professional e-mail; stored lowercase).
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// Initial password, checked by [`check_password`].
    pub password: String,
    /// Names of the groups to join; they must exist.
    pub groups: Vec<String>,
    /// Identity (e-mail, phone).
    pub profile: Profile,
}

/// Creates an agent account and adds it to its groups.
///
/// # Errors
/// `Fields` for an empty login or name, a weak password (`password`), a
/// group name that is invalid or names no group (`groups`); `Hashing`;
/// `LoginTaken`.
pub async fn create_agent(
    accounts: &Accounts,
    _: &Administrator,
    new: NewAgent,
) -> Result<Account, ServiceError> {
    let guichet = &accounts.guichet;
    let mut problems = Vec::new();
    require(
        &mut problems,
        "login",
        &new.login,
        "Indiquez un identifiant.",
    );
    require(
        &mut problems,
        "display_name",
        &new.display_name,
        "Indiquez un nom.",
    );
    problems
        .extend(check_password("password", &new.password, &[&new.login, &new.display_name]).err());
    let existing = guichet.store.groups().await?;
    let mut groups = Vec::new();
    for name in &new.groups {
        match GroupName::parse(name) {
            Ok(group) if existing.contains(&group) => groups.push(group),
            Ok(_) => problems.push(FieldError::new(
                "groups",
                ErrorCode::GroupeInconnu,
                format!("Le groupe « {name} » n'existe pas."),
            )),
            Err(e) => problems.push(FieldError::new(
                "groups",
                ErrorCode::NomDeGroupeInvalide,
                e.to_string(),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::Fields(problems));
    }
    let hash = accounts.passwords.hash(new.password).await?;
    let user = guichet
        .store
        .create_user(
            NewUser {
                login: new.login,
                display_name: new.display_name,
                kind: UserKind::Agent,
                profile: new.profile,
                password_hash: Some(hash),
            },
            guichet.now(),
        )
        .await
        .map_err(login_taken)?;
    for group in &groups {
        guichet.store.add_member(group, user.id).await?;
    }
    account(guichet, user).await
}

/// Enables or disables an account (disabling ends its sessions); returns
/// it as it is now.
///
/// # Errors
/// A store `not_found` for an unknown account, `last_administrator` when
/// disabling the last active account holding administration.
pub async fn set_active(
    guichet: &Guichet,
    _: &Administrator,
    id: UserId,
    active: bool,
) -> Result<Account, ServiceError> {
    guichet.store.set_active(id, active, guichet.now()).await?;
    let user = guichet.store.user(id).await?;
    account(guichet, user).await
}

/// The API tokens of an account, by name (without their secrets).
///
/// # Errors
/// A store `not_found` for an unknown account.
pub async fn tokens(
    guichet: &Guichet,
    _: &Administrator,
    id: UserId,
) -> Result<Vec<ApiToken>, ServiceError> {
    guichet.store.user(id).await?;
    Ok(guichet.store.api_tokens(id).await?)
}

/// An API token to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What it is for (`supervision`, `import-démarches`); trimmed.
    pub name: String,
    /// The rights it may use (at least one).
    pub scopes: Vec<Right>,
}

/// Creates an API token acting as an account; returns it with its secret,
/// which is never given again.
///
/// # Errors
/// `Fields` for a blank name or no scope; a store `not_found` for an
/// unknown account.
pub async fn create_token(
    guichet: &Guichet,
    _: &Administrator,
    id: UserId,
    new: NewToken,
) -> Result<(ApiToken, Secret), ServiceError> {
    let mut problems = Vec::new();
    require(&mut problems, "name", &new.name, "Nommez le jeton.");
    if new.scopes.is_empty() {
        problems.push(FieldError::new(
            "scopes",
            ErrorCode::Requis,
            "Donnez au jeton au moins un droit.",
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Fields(problems));
    }
    guichet.store.user(id).await?;
    let scopes: Vec<String> = new
        .scopes
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    Ok(guichet
        .store
        .create_api_token(id, new.name.trim(), &scopes, guichet.now())
        .await?)
}

/// Revokes an API token.
///
/// # Errors
/// A store `not_found` for an unknown token.
pub async fn revoke_token(
    guichet: &Guichet,
    _: &Administrator,
    id: ApiTokenId,
) -> Result<(), ServiceError> {
    Ok(guichet.store.revoke_api_token(id).await?)
}
