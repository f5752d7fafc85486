//! Password links: *mot de passe oublié*, and the account an agent creates
//! for an usager at the guichet, which its owner claims by choosing a
//! password.
//!
//! - **Asking** ([`ask_reset`]): anyone gives an e-mail address; if an
//!   active account has it as its login, a [`LinkPurpose::Reset`] link
//!   valid [`RESET_VALIDITY`] is made with the job that mails it. The
//!   answer is the same whether an account exists or not, and an account
//!   is sent one mail per [`QUIET`] at most, whoever asks.
//! - **Creating an usager's account** ([`create_usager`]): an agent holding
//!   the *saisie* right (`file_on_behalf`, PROCESS.md's Saisie BO role and
//!   above) on some démarche creates the account with the usager's e-mail
//!   and identity and **no password**; a [`LinkPurpose::Claim`] link valid
//!   [`CLAIM_VALIDITY`] is mailed in the same transaction. Until the
//!   usager follows it nobody can log in to the account; the agent files
//!   demandes for it, which the usager finds in *Mes demandes* once in.
//! - **The link** is `{public_url}/mot-de-passe/{token}`: the token is the
//!   link's id followed by its HMAC-SHA256 under a key derived from the
//!   host's master key (`Store::sign`, as the survey's links), truncated to
//!   128 bits, in unpadded base64url. The store keeps no secret
//!   (`guichet_store::password_link`).
//! - **Choosing the password** ([`choose_password`]): the strength rules of
//!   registration; the link is used once, the account's other links die
//!   with it, every session of the account ends (a thief's included) and a
//!   new one opens for the person who chose it.
//! - **The mail** is sent by the notification worker
//!   (`super::super::notifications::run` claims [`PASSWORD_LINK_JOB`] jobs
//!   too) through the same SMTP transport, retried with the same backoff;
//!   it is built when sent, for the address the account has then. A link
//!   used, expired or gone by then is not sent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use chrono::{DateTime, Duration, Utc};
use guichet_core::role::Right;
use guichet_core::validation::{ErrorCode, FieldError, valid_email};
use guichet_store::StoreError;
use guichet_store::account::{NewUser, User, UserKind};
use guichet_store::job::Job;
pub use guichet_store::password_link::{LinkPurpose, PASSWORD_LINK_JOB};
use uuid::Uuid;

use super::{Accounts, LoggedIn, ProfileForm, check_password, identity, login_taken, open_session};
use crate::mail::Mail;
use crate::service::{Caller, Guichet, ServiceError, back_office};

/// How long a *mot de passe oublié* link sets a password.
pub const RESET_VALIDITY: Duration = Duration::hours(1);

/// How long the link of an account created by an agent sets its first
/// password.
pub const CLAIM_VALIDITY: Duration = Duration::days(7);

/// One link mailed per account per period, however often it is asked.
pub const QUIET: Duration = Duration::minutes(10);

/// What the link signature is derived for (domain separation).
const PURPOSE: &str = "guichet password link v1";

/// Bytes of the signature kept in the token.
const MAC_BYTES: usize = 16;

/// Why a password link is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordLinkError {
    /// The link was altered, never made by this platform, or its account
    /// is gone.
    #[error("ce lien n'est pas valide : demandez-en un nouveau")]
    Invalid,
    /// The link was used, or its time is over.
    #[error("ce lien a déjà servi ou a expiré : demandez-en un nouveau")]
    Spent,
}

/// A link that may still set a password, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The link's id (what its token carries, signed).
    pub link: Uuid,
    /// Why it was made.
    pub purpose: LinkPurpose,
    /// The login of its account (an e-mail address).
    pub login: String,
    /// The name shown of its account.
    pub display_name: String,
    /// Until when it is valid.
    pub expires_at: DateTime<Utc>,
}

/// The address of a link on the portal.
pub fn url(guichet: &Guichet, link: Uuid) -> String {
    format!(
        "{}/mot-de-passe/{}",
        guichet.delivery.public_url,
        token(guichet, link)
    )
}

fn token(guichet: &Guichet, link: Uuid) -> String {
    let mut data = link.as_bytes().to_vec();
    let mac = guichet.store.sign(PURPOSE, &data);
    data.extend_from_slice(&mac[..MAC_BYTES]);
    BASE64URL.encode(data)
}

/// The link a token names, if its signature holds.
fn verify(guichet: &Guichet, token: &str) -> Result<Uuid, PasswordLinkError> {
    let data = BASE64URL
        .decode(token.trim())
        .map_err(|_| PasswordLinkError::Invalid)?;
    if data.len() != 16 + MAC_BYTES {
        return Err(PasswordLinkError::Invalid);
    }
    let (id, mac) = data.split_at(16);
    if !guichet.store.verify(PURPOSE, id, mac) {
        return Err(PasswordLinkError::Invalid);
    }
    Uuid::from_slice(id).map_err(|_| PasswordLinkError::Invalid)
}

/// Asks for a *mot de passe oublié* link for the account whose login is
/// `login` (any case). Says nothing of whether there is one: an unknown
/// login, a disabled account, one whose login is no e-mail address or
/// that was sent a link less than [`QUIET`] ago all answer `Ok` and send
/// nothing.
///
/// # Errors
/// `Fields` (`login`) for something that is not an e-mail address; a
/// store failure.
pub async fn ask_reset(guichet: &Guichet, login: &str) -> Result<(), ServiceError> {
    let login = login.trim().to_lowercase();
    if !valid_email(&login) {
        return Err(FieldError::new(
            "login",
            ErrorCode::FormatEmail,
            "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
        )
        .into());
    }
    let user = match guichet.store.user_by_login(&login).await {
        Ok(user) if user.active => user,
        Ok(_) | Err(StoreError::NotFound(_)) => return Ok(()),
        Err(other) => return Err(other.into()),
    };
    let now = guichet.now();
    let made = guichet
        .store
        .create_password_link(
            user.id,
            LinkPurpose::Reset,
            now,
            now + RESET_VALIDITY,
            now - QUIET,
        )
        .await?;
    tracing::info!(user = %user.id, mailed = made.is_some(), "password reset asked");
    Ok(())
}

/// Creates an usager's account for them, as an agent at the guichet:
/// `email` is its login, `profile` its identity; it has no password until
/// the usager follows the link mailed to them (valid
/// [`CLAIM_VALIDITY`]). Returns the account.
///
/// # Errors
/// `Forbidden` unless the agent holds `file_on_behalf` on some démarche;
/// `Fields` for an address that is no e-mail (`email`), a missing name or
/// a phone that is not French (`first_name`, `last_name`, `phone`);
/// `LoginTaken` when an account has this address (search for it instead);
/// a store failure, nothing created.
pub async fn create_usager(
    accounts: &Accounts,
    agent: &Caller,
    email: &str,
    profile: ProfileForm,
) -> Result<User, ServiceError> {
    let guichet = &accounts.guichet;
    let may = back_office::demarches(guichet, agent)
        .await?
        .iter()
        .any(|(_, rights)| rights.contains(Right::FileOnBehalf));
    if agent.is_usager() || !may {
        return Err(ServiceError::Forbidden(
            "droit manquant : saisie au nom de l'usager".to_owned(),
        ));
    }
    let mut problems = Vec::new();
    let login = email.trim().to_lowercase();
    if !valid_email(&login) {
        problems.push(FieldError::new(
            "email",
            ErrorCode::FormatEmail,
            "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.",
        ));
    }
    let identity = identity(profile, Some(login.clone()), "", &mut problems);
    if !problems.is_empty() {
        return Err(ServiceError::Fields(problems));
    }
    let now = guichet.now();
    let (user, _) = guichet
        .store
        .create_user_to_claim(
            NewUser {
                login,
                display_name: identity.display_name,
                kind: UserKind::Usager,
                profile: identity.profile,
                password_hash: None,
            },
            now,
            now + CLAIM_VALIDITY,
        )
        .await
        .map_err(login_taken)?;
    tracing::info!(user = %user.id, agent = %agent.user.id, "usager account created at the guichet");
    Ok(user)
}

/// The link a token leads to, while it may set a password.
///
/// # Errors
/// [`PasswordLinkError`] (as `ServiceError::PasswordLink`) for a token
/// altered, a link gone, used or expired; a store failure.
pub async fn open(guichet: &Guichet, token: &str) -> Result<Opened, ServiceError> {
    let id = verify(guichet, token)?;
    let link = match guichet.store.password_link(id).await {
        Ok(link) => link,
        Err(StoreError::NotFound(_)) => return Err(PasswordLinkError::Invalid.into()),
        Err(other) => return Err(other.into()),
    };
    if link.used_at.is_some() || guichet.now() >= link.expires_at {
        return Err(PasswordLinkError::Spent.into());
    }
    let user = guichet.store.user(link.user).await?;
    Ok(Opened {
        link: id,
        purpose: link.purpose,
        login: user.login,
        display_name: user.display_name,
        expires_at: link.expires_at,
    })
}

/// Sets the password of the link's account, uses the link, ends the
/// account's sessions and opens a new one (the person is logged in).
///
/// # Errors
/// As [`open`]; `Fields` (`password`) for a password the rules of
/// registration refuse, nothing changed; `Hashing`; a store failure.
pub async fn choose_password(
    accounts: &Accounts,
    token: &str,
    password: String,
) -> Result<LoggedIn, ServiceError> {
    let guichet = &accounts.guichet;
    let opened = open(guichet, token).await?;
    check_password(
        "password",
        &password,
        &[&opened.login, &opened.display_name],
    )?;
    let hash = accounts.passwords.hash(password).await?;
    let id = opened.link;
    let user = match guichet
        .store
        .use_password_link(id, &hash, guichet.now())
        .await
    {
        Ok(user) => user,
        Err(StoreError::Conflict(_)) => return Err(PasswordLinkError::Spent.into()),
        Err(StoreError::NotFound(_)) => return Err(PasswordLinkError::Invalid.into()),
        Err(other) => return Err(other.into()),
    };
    open_session(accounts, guichet.store.user(user).await?).await
}

/// The mail of a claimed [`PASSWORD_LINK_JOB`], signed by `collectivite`
/// (the collectivité's name): `None` when there is nothing to send any
/// more (the link used, expired, or gone with its account; a payload
/// naming no link, which is logged).
///
/// # Errors
/// A store failure.
pub(crate) async fn mail_of(
    guichet: &Guichet,
    job: &Job,
    collectivite: &str,
) -> Result<Option<Mail>, ServiceError> {
    let Some(id) = job
        .payload
        .get("link")
        .and_then(|v| v.as_str())
        .and_then(|v| Uuid::parse_str(v).ok())
    else {
        tracing::warn!(job = %job.id, "password link job without a link");
        return Ok(None);
    };
    let link = match guichet.store.password_link(id).await {
        Ok(link) => link,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    if link.used_at.is_some() || guichet.now() >= link.expires_at {
        return Ok(None);
    }
    let user = match guichet.store.user(link.user).await {
        Ok(user) => user,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let address = url(guichet, id);
    let until = guichet.zone.local(link.expires_at);
    let until = format!("{} à {}", until.format("%d/%m/%Y"), until.format("%H:%M"));
    let (subject, text) = match link.purpose {
        LinkPurpose::Reset => (
            "Choisir un nouveau mot de passe".to_owned(),
            format!(
                "Bonjour {name},\n\nUne demande de nouveau mot de passe a été faite pour votre compte {login} sur le portail des démarches en ligne.\n\nPour choisir votre nouveau mot de passe, suivez ce lien, valable jusqu'au {until} et une seule fois :\n{address}\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.\n\n{collectivite}",
                name = user.display_name,
                login = user.login,
            ),
        ),
        LinkPurpose::Claim => (
            "Votre compte sur le portail des démarches en ligne".to_owned(),
            format!(
                "Bonjour {name},\n\nUn agent de {collectivite} a créé pour vous un compte {login} sur le portail des démarches en ligne, à l'occasion d'une démarche faite avec lui. Vous y suivez vos demandes et en déposez de nouvelles.\n\nPour choisir votre mot de passe et accéder à votre compte, suivez ce lien, valable jusqu'au {until} et une seule fois :\n{address}\n\nPassé ce délai, utilisez « Mot de passe oublié » sur la page de connexion.\n\n{collectivite}",
                name = user.display_name,
                login = user.login,
            ),
        ),
    };
    Ok(Some(Mail {
        to: user.login,
        subject,
        text,
        message_id: String::new(),
    }))
}
