//! Why a use case failed, in terms of the domain; `crate::http` maps each
//! variant to a stable code and an HTTP status.

use guichet_core::demarche::DefinitionError;
use guichet_core::draft::OpenError;
use guichet_core::id::Slug;
use guichet_core::role::GroupName;
use guichet_core::submission::{AgentFieldsError, SubmitError};
use guichet_core::validation::FieldError;
use guichet_core::workflow::WorkflowError;
use guichet_store::StoreError;

use super::accounts::{HashingError, TooManyAttempts};

/// A use case's failure. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// What was asked for does not exist, or is not the caller's to see
    /// (answered as if it did not exist). The French message names it.
    #[error("{0}")]
    NotFound(&'static str),
    /// The caller lacks a right; the French message says which.
    #[error("{0}")]
    Forbidden(String),
    /// The input has errors, field by field.
    #[error("le formulaire comporte {} erreur(s)", .0.len())]
    Fields(Vec<FieldError>),
    /// A draft cannot be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A demande cannot be filed.
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// The *cadre réservé à l'administration* cannot be filled.
    #[error(transparent)]
    AgentFields(#[from] AgentFieldsError),
    /// The workflow refuses the action.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The store failed or refused (conflicts included).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No valid session or API token; the French message says why.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A wrong login or password (counted by the login throttle).
    #[error("identifiant ou mot de passe incorrect")]
    InvalidCredentials,
    /// Too many wrong passwords: wait before trying again.
    #[error(transparent)]
    TooManyAttempts(#[from] TooManyAttempts),
    /// A password could not be hashed or verified (busy, or no randomness).
    #[error(transparent)]
    Hashing(#[from] HashingError),
    /// The login is already taken; the store's French message.
    #[error("{0}")]
    LoginTaken(String),
    /// No group of this name.
    #[error("le groupe « {0} » n'existe pas")]
    GroupNotFound(GroupName),
    /// A group of this name exists already; the store's French message.
    #[error("{0}")]
    GroupExists(String),
    /// No démarche with this slug (named in a request's body or path).
    #[error("la démarche « {} » n'existe pas", .0.as_str())]
    DemarcheNotFound(Slug),
    /// A démarche definition with problems, path by path.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// The job was given up by an administrator: it is never run again.
    /// The French message says who and when.
    #[error("{0}")]
    JobAbandoned(String),
    /// The job is not failed for good (waiting, running or done): there is
    /// nothing to retry or abandon.
    #[error("{0}")]
    JobNotFailed(String),
    /// A survey link altered or expired, or a survey answered already.
    #[error(transparent)]
    Survey(#[from] super::survey::SurveyError),
    /// A password link altered, gone, used or expired.
    #[error(transparent)]
    PasswordLink(#[from] super::accounts::password_links::PasswordLinkError),
    /// The connector registry refused: an invalid component, a version
    /// conflict, an unknown connector, version or instance, settings the
    /// connector's schema refuses.
    #[error(transparent)]
    Registry(Box<crate::connectors::registry::RegistryError>),
    /// How the platform uses an instance does not fit its connector (a
    /// link source it does not serve, a parameter the source does not
    /// take): the setting's path and a French message.
    #[error("{message}")]
    InstanceUse {
        /// The setting (`link.source`, `link.usager_params`…).
        setting: String,
        /// What kind of problem (`choix_inconnu`, `nombre_trop_petit`…).
        code: guichet_core::validation::ErrorCode,
        /// What is wrong with it.
        message: String,
    },
    /// Parameters a link may not be proved with by this caller (an usager
    /// giving a name and birth date), or missing; the French message says
    /// which are expected.
    #[error("{0}")]
    LinkParams(String),
    /// The vendor refused the proof (a wrong family code or secret), or
    /// found no single record: nothing was linked.
    #[error("{0}")]
    LinkRefused(String),
}

impl From<FieldError> for ServiceError {
    fn from(error: FieldError) -> Self {
        ServiceError::Fields(vec![error])
    }
}
