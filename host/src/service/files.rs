//! The files of a demande, as each reader may download them: an agent with
//! the read right on the demande gets any of its files; its usager only
//! what they can see — the files of their own answers (not of the *cadre
//! réservé*) and the attachments of their history, never an internal
//! comment's.

use guichet_core::file::FileRef;
use guichet_core::id::{DemandeId, FileId, UserId};
use guichet_core::role::Right;
use guichet_core::value::Value;
use guichet_store::StoreError;
use guichet_store::file::FileOwner;

use super::processing::Loaded;
use super::{Caller, Guichet, ServiceError};

/// A file and its content.
#[derive(Debug)]
pub struct Download {
    /// Name, type and size.
    pub file: FileRef,
    /// The bytes.
    pub content: Vec<u8>,
}

/// A file of a demande, for an agent holding the read right on it.
///
/// # Errors
/// `NotFound` for an unknown demande or a file that is not the demande's,
/// `Forbidden` without the right.
pub async fn for_agent(
    guichet: &Guichet,
    agent: &Caller,
    demande: DemandeId,
    file: FileId,
) -> Result<Download, ServiceError> {
    Loaded::for_agent(guichet, agent, demande, Right::Read).await?;
    let file = of_demande(guichet, demande, file).await?;
    read(guichet, file).await
}

/// A file of an usager's own demande that the usager can see.
///
/// # Errors
/// `NotFound` for someone else's demande, or a file the usager cannot see.
pub async fn for_usager(
    guichet: &Guichet,
    usager: UserId,
    demande: DemandeId,
    file: FileId,
) -> Result<Download, ServiceError> {
    let loaded = Loaded::for_usager(guichet, usager, demande).await?;
    let file = of_demande(guichet, demande, file).await?;
    let definition = &loaded.definition.definition;
    let in_answers = loaded.stored.demande.answers.iter().any(|(field, value)| {
        definition.field(field).is_some_and(|f| !f.agent_only)
            && matches!(value, Value::Files(files) if files.iter().any(|f| f.id == file.id))
    });
    let entries = guichet.store.history(demande).await?;
    let in_history = guichet_core::history::usager_history(&entries)
        .iter()
        .any(|entry| entry.attachment.as_ref().is_some_and(|a| a.id == file.id));
    if !(in_answers || in_history) {
        return Err(ServiceError::NotFound("ce fichier n'existe pas"));
    }
    read(guichet, file).await
}

/// A file by id, if it belongs to the demande.
async fn of_demande(
    guichet: &Guichet,
    demande: DemandeId,
    file: FileId,
) -> Result<FileRef, ServiceError> {
    match guichet.store.file(file).await {
        Ok(stored) if stored.owner == FileOwner::Demande(demande) => Ok(stored.file),
        Ok(_) | Err(StoreError::NotFound(_)) => {
            Err(ServiceError::NotFound("ce fichier n'existe pas"))
        }
        Err(other) => Err(other.into()),
    }
}

async fn read(guichet: &Guichet, file: FileRef) -> Result<Download, ServiceError> {
    let content = guichet.store.file_content(file.id).await?;
    Ok(Download { file, content })
}
