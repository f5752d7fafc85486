//! Why a use case failed, in terms of the domain; `crate::http` maps each
//! variant to a stable code and an HTTP status.

use guichet_core::draft::OpenError;
use guichet_core::submission::{AgentFieldsError, SubmitError};
use guichet_core::validation::FieldError;
use guichet_core::workflow::WorkflowError;
use guichet_store::StoreError;

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
}

impl From<FieldError> for ServiceError {
    fn from(error: FieldError) -> Self {
        ServiceError::Fields(vec![error])
    }
}
