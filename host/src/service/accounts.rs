//! People's accounts and who calls: an usager registers with their
//! profile; people log in with a login and a password and get a session,
//! log out, change their password, and (usagers) replace their profile; a
//! session or API token secret becomes the [`Caller`] of a request.
//! Agents are created by administrators
//! ([`super::administration::accounts`]).
//!
//! - **Passwords** follow [`strength`] (ANSSI length, `zxcvbn` estimate),
//!   are hashed through the bounded [`PasswordHashing`] ([`HashingError::Busy`]
//!   past a short wait), and wrong ones — at login and as the current
//!   password of a change — are counted by the [`LoginThrottle`] per
//!   account and per client address ([`TooManyAttempts`]). Every refusal
//!   of a login or current password costs one hash, whether the account
//!   exists or not, and says the same thing
//!   ([`ServiceError::InvalidCredentials`]).
//! - **Sessions** are random 32-byte secrets of which the store keeps only
//!   the SHA-256, lasting [`Accounts::session_ttl`] on the injected clock.
//!   Changing one's password ends the account's other sessions (a thief's
//!   included) and keeps the one in use.
//! - **Deleting one's account** ([`delete_account`]) takes the password
//!   again; drafts, sessions, tokens and account links go with it, the
//!   demandes stay with the services (`Store::delete_usager_account`).
//! - **API tokens** act as the account they were created for, their rights
//!   capped by their scopes (the names of the rights they may use: `read`,
//!   `process`, `administration`…).
//!
//! Where to start: [`authenticate`], then [`log_in`] and [`register`].

mod password;
pub mod password_links;
pub mod strength;
mod throttle;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::NaiveDate;
use guichet_core::profile::Profile;
use guichet_core::role::{Right, Rights};
use guichet_core::validation::{ErrorCode, FieldError, normalise_phone, valid_email};
use guichet_core::value::Address;
use guichet_store::StoreError;
use guichet_store::account::{NewUser, User, UserKind};
use guichet_store::group::Access as GroupAccess;
use guichet_store::session::{NewSession, Secret};

pub use password::{
    HashingError, HashingSlot, PasswordCost, PasswordHashing, default_hashing_slots, hash_password,
};
pub use strength::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_password};
pub use throttle::{LoginLimits, LoginThrottle, Tier, TooManyAttempts};

use super::{Caller, Credential, Guichet, ServiceError};

/// What the account use cases work with: the [`Guichet`], the bounded
/// password hashing, the count of wrong passwords and how long sessions
/// last. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    /// The store, the clock…
    pub guichet: Guichet,
    /// Password hashes, a few at once.
    pub passwords: Arc<PasswordHashing>,
    /// Wrong passwords per account and per address.
    pub throttle: Arc<LoginThrottle>,
    /// How long a session lasts.
    pub session_ttl: chrono::Duration,
}

/// A person's identity as they typed it (at registration, or to replace
/// their profile).
#[derive(Debug, Clone, Default)]
pub struct ProfileForm {
    /// First name (required).
    pub first_name: String,
    /// Last name (required).
    pub last_name: String,
    /// A French phone number, in any usual spelling; stored in E.164.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<Address>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
}

/// A self-registration of an usager.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The login: their e-mail address (any case).
    pub login: String,
    /// The password, checked by [`check_password`].
    pub password: String,
    /// Their identity, used to prefill forms.
    pub profile: ProfileForm,
}

/// The name shown and the profile a [`ProfileForm`] gives.
struct Identity {
    display_name: String,
    profile: Profile,
}

/// Reads a profile form; its problems go to `problems`, on its fields
/// named after `prefix` (`profile.` at registration).
fn identity(
    form: ProfileForm,
    email: Option<String>,
    prefix: &str,
    problems: &mut Vec<FieldError>,
) -> Identity {
    let field = |name: &str| format!("{prefix}{name}");
    for (name, value) in [
        ("first_name", &form.first_name),
        ("last_name", &form.last_name),
    ] {
        if value.trim().is_empty() {
            problems.push(FieldError::new(
                &field(name),
                ErrorCode::Requis,
                "Ce champ est obligatoire.",
            ));
        }
    }
    let phone = match form
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => normalise_phone(raw).or_else(|| {
            problems.push(FieldError::new(
                &field("phone"),
                ErrorCode::FormatTelephone,
                "Saisissez un numéro de téléphone français, par exemple 06 12 34 56 78.",
            ));
            None
        }),
    };
    let (first, last) = (form.first_name.trim(), form.last_name.trim());
    Identity {
        display_name: format!("{first} {last}"),
        profile: Profile {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            email,
            phone,
            address: form.address,
            birth_date: form.birth_date,
        },
    }
}

/// A store conflict on a login, said as such.
pub(super) fn login_taken(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(message) => ServiceError::LoginTaken(message),
        other => other.into(),
    }
}

/// Creates an usager's account with their profile (whose e-mail is the
/// login, lowercased) and the name shown "First Last"; returns it.
///
/// # Errors
/// `Fields` for a login that is no e-mail address (`login`), a weak
/// password (`password`), a missing name or a phone that is not French
/// (`profile.…`); `Hashing`; `LoginTaken`.
pub async fn register(
    accounts: &Accounts,
    registration: Registration,
) -> Result<User, ServiceError> {
    let mut problems = Vec::new();
    let login = registration.login.trim().to_lowercase();
    if !valid_email(&login) {
        problems.push(FieldError::new(
            "login",
            ErrorCode::FormatEmail,
            "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
        ));
    }
    let form = registration.profile;
    problems.extend(
        check_password(
            "password",
            &registration.password,
            &[&login, &form.first_name, &form.last_name],
        )
        .err(),
    );
    let identity = identity(form, Some(login.clone()), "profile.", &mut problems);
    if !problems.is_empty() {
        return Err(ServiceError::Fields(problems));
    }
    let hash = accounts.passwords.hash(registration.password).await?;
    let guichet = &accounts.guichet;
    guichet
        .store
        .create_user(
            NewUser {
                display_name: identity.display_name,
                login,
                kind: UserKind::Usager,
                profile: identity.profile,
                password_hash: Some(hash),
            },
            guichet.now(),
        )
        .await
        .map_err(login_taken)
}

/// The groups and grants of an account (none for usagers).
async fn access_of(guichet: &Guichet, user: &User) -> Result<GroupAccess, ServiceError> {
    Ok(match user.kind {
        UserKind::Agent => guichet.store.access(user.id).await?,
        UserKind::Usager => GroupAccess::default(),
    })
}

/// The account whose login and password these are, if they are: `None`
/// for an unknown login, an account without a password or a wrong one.
/// Each answer costs one hash (a decoy's for an unknown login), so that
/// its time says nothing; a password past [`MAX_PASSWORD_CHARS`] is
/// refused before any hashing (no account has one).
async fn check_credentials(
    accounts: &Accounts,
    login: &str,
    password: &str,
) -> Result<Option<User>, ServiceError> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Ok(None);
    }
    let (user, hash) = match accounts.guichet.store.credentials(login).await {
        Ok((user, Some(hash))) => (user, hash),
        Ok((_, None)) | Err(StoreError::NotFound(_)) => {
            accounts.passwords.verify_decoy(password.to_owned()).await?;
            return Ok(None);
        }
        Err(other) => return Err(other.into()),
    };
    let matches = accounts.passwords.verify(hash, password.to_owned()).await?;
    Ok(matches.then_some(user))
}

/// Counts a wrong password of `login` from `address`, and says it.
fn refuse(accounts: &Accounts, login: &str, address: IpAddr) -> ServiceError {
    accounts.throttle.failed(login, address);
    ServiceError::InvalidCredentials
}

/// A login that succeeded: who, and their new session.
#[derive(Debug)]
pub struct LoggedIn {
    /// The person, with their groups and grants.
    pub caller: Caller,
    /// The session: its secret (for the cookie, shown once) and expiry.
    pub session: NewSession,
}

/// Logs a person in from `address` and opens a session of
/// [`Accounts::session_ttl`].
///
/// # Errors
/// `TooManyAttempts` while the login or the address must wait (before any
/// hashing); `InvalidCredentials` for an unknown login, a wrong password
/// or a disabled account (counted by the throttle); `Hashing`.
pub async fn log_in(
    accounts: &Accounts,
    login: &str,
    password: &str,
    address: IpAddr,
) -> Result<LoggedIn, ServiceError> {
    accounts.throttle.check(login, address)?;
    let user = match check_credentials(accounts, login, password).await? {
        Some(user) if user.active => user,
        _ => return Err(refuse(accounts, login, address)),
    };
    open_session(accounts, user).await
}

/// Opens a session of [`Accounts::session_ttl`] for `user`, whose
/// password was just checked or chosen.
///
/// # Errors
/// A store failure.
async fn open_session(accounts: &Accounts, user: User) -> Result<LoggedIn, ServiceError> {
    let guichet = &accounts.guichet;
    let session = guichet
        .store
        .create_session(user.id, guichet.now(), accounts.session_ttl)
        .await?;
    let access = access_of(guichet, &user).await?;
    Ok(LoggedIn {
        caller: Caller {
            user,
            access,
            credential: Credential::Session,
        },
        session,
    })
}

/// Ends the caller's session, whose secret the client sent; a caller
/// authenticated by an API token has none to end, and an unknown session
/// is not an error.
///
/// # Errors
/// A store failure.
pub async fn log_out(
    guichet: &Guichet,
    caller: &Caller,
    session: Option<&str>,
) -> Result<(), ServiceError> {
    if caller.credential == Credential::Session
        && let Some(secret) = session
    {
        match guichet
            .store
            .delete_session(&Secret::from_client(secret))
            .await
        {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// A secret a client presents to say who it is.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    /// The secret of an API token (`Authorization: Bearer …`).
    ApiToken(&'a str),
    /// The secret of a session (the cookie).
    Session(&'a str),
}

/// The rights named by a token's scopes; unknown names give none.
fn scopes(names: &[String]) -> Rights {
    names
        .iter()
        .filter_map(|name| {
            serde_json::from_value::<Right>(serde_json::Value::String(name.clone())).ok()
        })
        .collect()
}

/// Who presents this secret: the account of a live session or of an API
/// token (then capped by its scopes, whose use is recorded), with its
/// groups and grants.
///
/// # Errors
/// `Unauthenticated` for an unknown, expired or revoked secret, or a
/// disabled account.
pub async fn authenticate(
    guichet: &Guichet,
    presented: Presented<'_>,
) -> Result<Caller, ServiceError> {
    let now = guichet.now();
    let (user, credential) = match presented {
        Presented::ApiToken(secret) => match guichet
            .store
            .api_token_user(&Secret::from_client(secret), now)
            .await
        {
            Ok((user, token)) => (user, Credential::Token(scopes(&token.scopes))),
            Err(StoreError::NotFound(_)) => {
                return Err(ServiceError::Unauthenticated(
                    "jeton d'API inconnu ou révoqué",
                ));
            }
            Err(other) => return Err(other.into()),
        },
        Presented::Session(secret) => match guichet
            .store
            .session_user(&Secret::from_client(secret), now)
            .await
        {
            Ok(user) => (user, Credential::Session),
            Err(StoreError::NotFound(_)) => {
                return Err(ServiceError::Unauthenticated(
                    "session expirée ou inconnue : reconnectez-vous",
                ));
            }
            Err(other) => return Err(other.into()),
        },
    };
    if !user.active {
        return Err(ServiceError::Unauthenticated("ce compte est désactivé"));
    }
    let access = access_of(guichet, &user).await?;
    Ok(Caller {
        user,
        access,
        credential,
    })
}

/// A change of one's own password.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    /// The password in use, proving it is them.
    pub current_password: String,
    /// The new one, checked by [`check_password`].
    pub new_password: String,
}

/// Changes the caller's password, from `address`. Only a person in a
/// session may (an API token acts for an account, it is not its owner);
/// the current password is checked as at login, counted by the same
/// throttle. The account's other sessions end; `session`, the secret of the
/// one in use, stays open.
/// (see the module's docs).
///
/// # Errors
/// `Forbidden` for an API token; `TooManyAttempts`; `InvalidCredentials`
/// for a wrong current password; `Fields` (`new_password`) for a weak new
/// one, nothing changed; `Hashing`.
pub async fn change_password(
    accounts: &Accounts,
    caller: &Caller,
    change: PasswordChange,
    address: IpAddr,
    session: Option<&str>,
) -> Result<(), ServiceError> {
    if caller.credential != Credential::Session {
        return Err(ServiceError::Forbidden(
            "un jeton d'API ne change pas de mot de passe : connectez-vous avec votre identifiant"
                .to_owned(),
        ));
    }
    let user = &caller.user;
    accounts.throttle.check(&user.login, address)?;
    match check_credentials(accounts, &user.login, &change.current_password).await? {
        Some(found) if found.id == user.id => {}
        _ => return Err(refuse(accounts, &user.login, address)),
    }
    let name = |part: &Option<String>| part.clone().unwrap_or_default();
    check_password(
        "new_password",
        &change.new_password,
        &[
            &user.login,
            &user.display_name,
            &name(&user.profile.first_name),
            &name(&user.profile.last_name),
        ],
    )?;
    let hash = accounts.passwords.hash(change.new_password).await?;
    accounts
        .guichet
        .store
        .set_password_hash(user.id, &hash)
        .await?;
    let keep = Secret::from_client(session.unwrap_or_default());
    accounts
        .guichet
        .store
        .end_other_sessions(user.id, &keep)
        .await?;
    Ok(())
}

/// Deletes the caller's usager account at their request, from `address`,
/// after checking their password as at login (counted by the same
/// throttle): their drafts and files, sessions, API tokens and account
/// links are deleted; their demandes stay with the services, tied to no
/// account, until the démarche's anonymisation.
///
/// # Errors
/// `Forbidden` for an agent or an API token; `TooManyAttempts`;
/// `InvalidCredentials` for a wrong password, nothing deleted; `Hashing`;
/// a store failure.
pub async fn delete_account(
    accounts: &Accounts,
    caller: &Caller,
    password: &str,
    address: IpAddr,
) -> Result<(), ServiceError> {
    if !caller.is_usager() || caller.credential != Credential::Session {
        return Err(ServiceError::Forbidden(
            "seul un usager connecté supprime son propre compte".to_owned(),
        ));
    }
    let user = &caller.user;
    accounts.throttle.check(&user.login, address)?;
    match check_credentials(accounts, &user.login, password).await? {
        Some(found) if found.id == user.id => {}
        _ => return Err(refuse(accounts, &user.login, address)),
    }
    let guichet = &accounts.guichet;
    guichet
        .store
        .delete_usager_account(user.id, guichet.now())
        .await?;
    Ok(())
}

/// Replaces an usager's profile and the name shown ("First Last"); their
/// e-mail stays. Returns the caller with the account as now stored: new
/// drafts are prefilled from it.
///
/// # Errors
/// `Forbidden` for an agent; `Fields` for a missing name
/// (`first_name`, `last_name`) or a phone that is not French (`phone`),
/// nothing changed.
pub async fn update_profile(
    guichet: &Guichet,
    caller: &Caller,
    form: ProfileForm,
) -> Result<Caller, ServiceError> {
    if !caller.is_usager() {
        return Err(ServiceError::Forbidden(
            "cette action est réservée aux usagers".to_owned(),
        ));
    }
    let mut problems = Vec::new();
    let identity = identity(form, caller.user.profile.email.clone(), "", &mut problems);
    if !problems.is_empty() {
        return Err(ServiceError::Fields(problems));
    }
    let id = caller.user.id;
    guichet
        .store
        .update_profile(id, &identity.display_name, &identity.profile)
        .await?;
    Ok(Caller {
        user: guichet.store.user(id).await?,
        ..caller.clone()
    })
}
