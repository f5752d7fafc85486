//! `/api/admin`: what administrators run — démarches and their versions
//! ([`demarches`]), groups, members and grants ([`groups`]), accounts and
//! API tokens ([`accounts`]), the jobs failed for good ([`jobs`]). Every route needs the Administrateur role on
//! every démarche (or a machine token with the `administration` scope),
//! except importing a démarche, which the Administrateur role on that one
//! démarche allows.

pub mod accounts;
pub mod demarches;
pub mod groups;
pub mod jobs;

use super::routes::ApiRouter;

/// The routes.
pub fn router() -> ApiRouter {
    demarches::router()
        .merge(groups::router())
        .merge(accounts::router())
        .merge(jobs::router())
}
