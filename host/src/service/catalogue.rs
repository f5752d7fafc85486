//! The catalogue of démarches on the usager portal: the démarches listed
//! to everyone (not those reserved to agents), searchable and filtered by
//! category, and one démarche's presentation with the form as an usager
//! fills it (`guichet_core::draft::usager_pages`), with its *Je donne mon
//! avis* link in production only ([`observatoire_url`]).

use guichet_core::demarche::DemarcheVisibility;
use guichet_core::id::Slug;
use guichet_store::StoreError;
use guichet_store::demarche::{CatalogueEntry, CatalogueQuery, StoredDefinition};

use super::{Environment, Guichet, ServiceError};

/// The démarche's *Je donne mon avis* page at the national Observatoire
/// (`satisfaction.observatoire_url` of its definition), on a production
/// host only ([`Environment`]); `None` elsewhere or when it has none.
pub fn observatoire_url(guichet: &Guichet, stored: &StoredDefinition) -> Option<String> {
    if guichet.environment != Environment::Production {
        return None;
    }
    stored
        .definition
        .satisfaction
        .as_ref()
        .and_then(|satisfaction| satisfaction.observatoire_url.clone())
}

/// The démarches listed to usagers for `query`, open today or not.
///
/// # Errors
/// A store error.
pub async fn list(
    guichet: &Guichet,
    query: &CatalogueQuery,
) -> Result<Vec<CatalogueEntry>, ServiceError> {
    Ok(guichet.store.catalogue(query, guichet.now()).await?)
}

/// A démarche as the portal presents it, and whether it is open today (in
/// the collectivité's time zone).
///
/// # Errors
/// `NotFound` for an unknown démarche or one reserved to agents.
pub async fn demarche(
    guichet: &Guichet,
    slug: &Slug,
) -> Result<(StoredDefinition, bool), ServiceError> {
    let unknown = || ServiceError::NotFound("cette démarche n'existe pas");
    let stored = guichet
        .store
        .demarche(slug)
        .await
        .map_err(|error| match error {
            StoreError::NotFound(_) => unknown(),
            other => other.into(),
        })?;
    if stored.definition.visibility == DemarcheVisibility::Agents {
        return Err(unknown());
    }
    let open = stored.definition.is_open(guichet.now(), guichet.zone);
    Ok((stored, open))
}
