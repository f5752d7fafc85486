//! What an usager reads of their own demandes: the list, the status as
//! they see it, their history (usager-visible entries only) and the
//! actions open to them. Someone else's demande is not found
//! ([`Loaded::for_usager`]), never forbidden, so that ids cannot be probed.
//!
//! An anonymised demande stays theirs to follow through the account link
//! the store keeps; a demande in the trash shows as closed
//! (`guichet_core::trash`), never as still being processed.

use guichet_core::actor::Actor;
use guichet_core::demande::Demande;
use guichet_core::demarche::Definition;
use guichet_core::history::{HistoryEntry, usager_history};
use guichet_core::id::UserId;
use guichet_core::trash;
use guichet_core::workflow::{Transition, Workflow, usager_status};

use super::processing::Loaded;
use super::{Guichet, ServiceError};

/// The usager's demandes, newest first, each with the definition of its
/// version.
///
/// # Errors
/// A store failure.
pub async fn list(
    guichet: &Guichet,
    usager: UserId,
) -> Result<Vec<(Demande, Definition)>, ServiceError> {
    let mut items = Vec::new();
    // Each version's definition is read once: an usager's demandes are
    // mostly of a few démarches.
    let mut definitions: std::collections::BTreeMap<(String, u32), Definition> =
        std::collections::BTreeMap::new();
    for stored in guichet.store.usager_demandes(usager).await? {
        let demande = stored.demande;
        let key = (
            demande.demarche.slug.as_str().to_owned(),
            demande.demarche.version,
        );
        let definition = match definitions.get(&key) {
            Some(definition) => definition.clone(),
            None => {
                let definition = guichet
                    .store
                    .demarche_version(&demande.demarche.slug, demande.demarche.version)
                    .await?
                    .definition;
                definitions.insert(key, definition.clone());
                definition
            }
        };
        items.push((demande, definition));
    }
    Ok(items)
}

/// The status as the usager sees it: `(id, label)` of the usagers' view of
/// the workflow, or the closed status of the trash
/// (`guichet_core::trash::usager_sees_closed`).
pub fn status(workflow: &Workflow, demande: &Demande) -> (String, String) {
    if trash::usager_sees_closed(workflow, demande) {
        return (
            trash::USAGER_STATUS_ID.to_owned(),
            trash::USAGER_STATUS_LABEL.to_owned(),
        );
    }
    match usager_status(workflow, demande) {
        Some(status) => (status.id.to_string(), status.label.clone()),
        None => (demande.status.to_string(), demande.status.to_string()),
    }
}

/// The actions `usager` can run now on a loaded demande of theirs.
pub fn actions(loaded: &Loaded, usager: UserId) -> Vec<Transition> {
    loaded
        .workflow()
        .available(&loaded.stored.demande, &Actor::Usager(usager))
        .into_iter()
        .cloned()
        .collect()
}

/// The usager's history of a loaded demande of theirs, oldest first.
///
/// # Errors
/// A store failure.
pub async fn history(
    guichet: &Guichet,
    loaded: &Loaded,
) -> Result<Vec<HistoryEntry>, ServiceError> {
    let entries = guichet.store.history(loaded.stored.demande.id).await?;
    Ok(usager_history(&entries).into_iter().cloned().collect())
}
