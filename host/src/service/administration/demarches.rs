//! Démarches: import a definition (YAML or JSON), list every démarche
//! whatever its visibility, read its versions, and change the prefix of
//! its demande numbers.
//!
//! An import is classified by the store exactly as
//! `guichet_core::demarche::classify_change` says: the first import creates
//! version 1, an identical one changes nothing, texts and dates only
//! update the current version in place, anything structural makes a new
//! version and filed demandes keep theirs.

use guichet_core::demarche::Definition;
use guichet_core::id::Slug;
use guichet_core::role::Right;
use guichet_store::StoreError;
use guichet_store::demarche::{
    CatalogueEntry, CatalogueQuery, DefinitionSource, Imported, SourceFormat, StoredDefinition,
};

use super::Administrator;
use crate::service::{Caller, Guichet, ServiceError};

/// A caller who may import definitions: an agent (or a machine acting as
/// one). Which démarches they may import is read from each definition:
/// those on which they hold `administration`.
#[derive(Debug, Clone)]
pub struct Importer(Caller);

impl Importer {
    /// The caller as an importer, checked before the definition is read.
    ///
    /// # Errors
    /// `Forbidden` for an usager.
    pub fn check(caller: Caller) -> Result<Importer, ServiceError> {
        if caller.is_usager() {
            Err(missing_administration())
        } else {
            Ok(Importer(caller))
        }
    }
}

fn missing_administration() -> ServiceError {
    ServiceError::Forbidden("droit manquant : administration".to_owned())
}

/// Reads and checks a definition, then imports it (creates the démarche,
/// updates its current version in place, or adds a version); returns what
/// the store did.
///
/// # Errors
/// `Definition` for a definition with problems; `Forbidden` without
/// `administration` on its démarche.
pub async fn import(
    guichet: &Guichet,
    importer: &Importer,
    source: DefinitionSource,
) -> Result<Imported, ServiceError> {
    let definition = match source.format {
        SourceFormat::Json => Definition::from_json(&source.text)?,
        SourceFormat::Yaml => Definition::from_yaml(&source.text)?,
    };
    if !importer
        .0
        .rights(&definition.slug)
        .contains(Right::Administration)
    {
        return Err(missing_administration());
    }
    Ok(guichet
        .store
        .import_demarche(&definition, &source, guichet.now())
        .await?)
}

/// Every démarche at its current version, whatever its visibility, by
/// title.
///
/// # Errors
/// A store failure.
pub async fn list(
    guichet: &Guichet,
    _: &Administrator,
) -> Result<Vec<CatalogueEntry>, ServiceError> {
    Ok(guichet
        .store
        .agent_catalogue(&CatalogueQuery::default())
        .await?)
}

/// Every version of a démarche, oldest first.
///
/// # Errors
/// `NotFound` for an unknown démarche.
pub async fn versions(
    guichet: &Guichet,
    _: &Administrator,
    slug: &Slug,
) -> Result<Vec<StoredDefinition>, ServiceError> {
    let numbers = guichet.store.demarche_versions(slug).await?;
    if numbers.is_empty() {
        return Err(ServiceError::NotFound("cette démarche n'existe pas"));
    }
    let mut list = Vec::new();
    for number in numbers {
        list.push(guichet.store.demarche_version(slug, number).await?);
    }
    Ok(list)
}

/// One version of a démarche with its source text.
///
/// # Errors
/// A store `not_found` for an unknown démarche or version.
pub async fn version(
    guichet: &Guichet,
    _: &Administrator,
    slug: &Slug,
    number: u32,
) -> Result<StoredDefinition, ServiceError> {
    Ok(guichet.store.demarche_version(slug, number).await?)
}

/// The prefix of the démarche's next demande numbers (`VELO`).
///
/// # Errors
/// `DemarcheNotFound`.
pub async fn numero_prefix(
    guichet: &Guichet,
    _: &Administrator,
    slug: &Slug,
) -> Result<String, ServiceError> {
    match guichet.store.numero_prefix(slug).await {
        Ok(prefix) => Ok(prefix),
        Err(StoreError::NotFound(_)) => Err(ServiceError::DemarcheNotFound(slug.clone())),
        Err(other) => Err(other.into()),
    }
}

/// Changes the prefix of the démarche's next demande numbers (`VELO` →
/// `VELO-2026-000042`); numbers already given keep theirs. Returns the
/// prefix.
///
/// # Errors
/// `DemarcheNotFound`; the store's `invalid` for a prefix that is not 1 to
/// 12 capital letters or digits.
pub async fn set_numero_prefix(
    guichet: &Guichet,
    _: &Administrator,
    slug: &Slug,
    prefix: &str,
) -> Result<String, ServiceError> {
    match guichet.store.set_numero_prefix(slug, prefix).await {
        Ok(()) => Ok(prefix.to_owned()),
        Err(StoreError::NotFound(_)) => Err(ServiceError::DemarcheNotFound(slug.clone())),
        Err(other) => Err(other.into()),
    }
}
