//! Administration: what administrators run — accounts of agents and API
//! tokens ([`accounts`]), groups, members and grants ([`groups`]),
//! démarches, their versions and number prefix ([`demarches`]), the jobs
//! failed for good, their retry and abandon ([`jobs`]).
//!
//! Every use case takes an [`Administrator`]: the caller, checked once to
//! hold the `administration` right on every démarche (an Administrateur
//! group granted on all, or a machine token with the `administration`
//! scope). Importing a definition needs less — the right on that one
//! démarche — and takes a [`demarches::Importer`].

pub mod accounts;
pub mod demarches;
pub mod groups;
pub mod jobs;

use guichet_core::role::Right;

use super::{Caller, ServiceError};

/// The proof that the caller holds the `administration` right on every
/// démarche: what the administration use cases ask for. Only
/// [`Administrator::check`] makes one.
#[derive(Debug, Clone)]
pub struct Administrator(());

impl Administrator {
    /// Checks that the caller is an administrator.
    ///
    /// # Errors
    /// `Forbidden` when the caller lacks the right on some démarche (or
    /// their token the scope).
    pub fn check(caller: &Caller) -> Result<Administrator, ServiceError> {
        if caller.global_rights().contains(Right::Administration) {
            Ok(Administrator(()))
        } else {
            Err(ServiceError::Forbidden(
                "droit manquant : administration".to_owned(),
            ))
        }
    }

    /// The operator of the command line on the host: whoever can open its
    /// database with its master key holds every right already (the
    /// `guichet connector …` commands).
    pub(crate) fn command_line() -> Administrator {
        Administrator(())
    }
}
