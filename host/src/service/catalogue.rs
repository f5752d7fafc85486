//! The catalogue of démarches on the usager portal: the démarches listed
//! to everyone (not those reserved to agents), searchable and filtered by
//! category, and one démarche's presentation with the form as an usager
//! fills it (`guichet_core::draft::usager_pages`), with its *Je donne mon
//! avis* link in production only ([`observatoire_url`]).

use chrono::{DateTime, Utc};
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

/// How long the most-filed démarches are kept before being counted again.
pub const MOST_FILED_TTL_MINUTES: i64 = 10;

/// The days counted for the most-filed démarches.
pub const MOST_FILED_DAYS: i64 = 90;

/// The most-filed démarches, counted at most every
/// [`MOST_FILED_TTL_MINUTES`] (the home page asks on every visit; the
/// count reads the demandes of [`MOST_FILED_DAYS`]).
#[derive(Debug, Default)]
pub struct MostFiled {
    counted: tokio::sync::Mutex<Option<(DateTime<Utc>, Vec<Slug>)>>,
}

/// The catalogue's entries among the démarches with the most demandes
/// filed in the last [`MOST_FILED_DAYS`] days, most first, at most
/// `limit` (only those with at least one demande).
///
/// # Errors
/// A store error.
pub async fn most_filed(
    guichet: &Guichet,
    cache: &MostFiled,
    entries: &[CatalogueEntry],
    limit: usize,
) -> Result<Vec<CatalogueEntry>, ServiceError> {
    let now = guichet.now();
    let slugs = {
        let mut counted = cache.counted.lock().await;
        match &*counted {
            Some((at, slugs)) if now - *at < chrono::Duration::minutes(MOST_FILED_TTL_MINUTES) => {
                slugs.clone()
            }
            _ => {
                let since = now - chrono::Duration::days(MOST_FILED_DAYS);
                let slugs: Vec<Slug> = guichet
                    .store
                    .most_filed(since, 20)
                    .await?
                    .into_iter()
                    .map(|(slug, _)| slug)
                    .collect();
                *counted = Some((now, slugs.clone()));
                slugs
            }
        }
    };
    Ok(slugs
        .iter()
        .filter_map(|slug| entries.iter().find(|e| &e.slug == slug).cloned())
        .take(limit)
        .collect())
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
