//! Anonymisation: erase what identifies the usager, keep what statistics need.
//!
//! It runs when the anonymisation timer fires (1 year after closing for a
//! simple démarche, 2 years for a complexe one) through the workflow's
//! automatic transition, which calls [`anonymise_demande`]; the outcome then
//! lists the files to delete and asks the store to run [`redact_history`] on
//! every history entry of the demande and to drop its pending jobs.
//!
//! **Erased**: every answer except the retained ones (names, addresses,
//! e-mails, phones, dates, numbers, free texts, data-source choices such as
//! a child with the labels kept for them, files), the files of the answers and of history entries, the
//! free texts of history entries (messages, comments, justifications), the
//! refusal justification, the closing comment, and the usager's account in
//! the demande's data and history (agents no longer see whose it was).
//!
//! **Kept**: the démarche slug and version, the number, the status path with
//! its dates, every key date (hence durations: time to take, time on hold,
//! time to close), the services, the refusal type, the channel of a
//! *saisie au nom de l'usager* and the agent who filed it (staff, not the
//! usager), the texts written by the workflow in the histories, the
//! département of the first address (`13`, `2A`, `971`), and the answers of
//! **retained fields**: static choice lists, choices of data sources of
//! reference data (`personal: false`, with their labels), multiple choices
//! and checkboxes that are not prefilled from the profile
//! ([`retained_fields`]) — the category of a signalement, the days of
//! canteen, an allergy box.
//!
//! The store keeps the link from the demande's row to the usager's account
//! (an account id is not personal data of the demande): the usager follows
//! their demande to its anonymisation — number, démarche, dates and
//! statuses, without the personal values — as the seed asks ("réception,
//! acceptation ou rejet, clôture et anonymisation").
use crate::id::{FieldId, FileId};

use crate::demande::Demande;
use crate::demarche::Definition;
use crate::field::FieldKind;

use crate::history::{Author, HistoryEntry};
use crate::value::Value;

/// The fields whose answers survive anonymisation: static choices and
/// choices of non-personal data sources, multiple choices and checkboxes,
/// not prefilled from the profile.
pub fn retained_fields(definition: &Definition) -> Vec<FieldId> {
    definition
        .fields()
        .filter(|field| field.prefill.is_none())
        .filter(|field| match &field.kind {
            FieldKind::Choice { source, .. } | FieldKind::MultipleChoice { source, .. } => {
                source.as_ref().is_none_or(|source| !source.personal)
            }
            FieldKind::Checkbox {} => true,
            _ => false,
        })
        .map(|field| field.id.clone())
        .collect()
}

/// Erases the personal data of a demande in place and returns the files of
/// its answers, which the store must delete.
pub fn anonymise_demande(demande: &mut Demande, retained: &[FieldId]) -> Vec<FileId> {
    let mut files = Vec::new();
    for (_, value) in demande.answers.iter() {
        match value {
            Value::Files(list) => files.extend(list.iter().map(|file| file.id)),
            Value::Address(address) if demande.departement.is_none() => {
                demande.departement = address.departement()
            }
            _ => {}
        }
    }
    demande.answers.retain(|id, value| {
        retained.contains(id)
            && matches!(
                value,
                Value::Choice(_) | Value::Choices(_) | Value::Checkbox(_)
            )
    });
    if let Some(refusal) = &mut demande.refusal {
        refusal.justification.clear();
    }
    demande.closing_comment = None;
    demande.source_choices.retain(|id, _| retained.contains(id));
    demande.usager = None;
    files
}

/// Erases the free texts, attachments and usager link of history entries
/// in place, and returns the attached files to delete.
pub fn redact_history(entries: &mut [HistoryEntry]) -> Vec<FileId> {
    let mut files = Vec::new();
    for entry in entries {
        entry.message = None;
        if let Some(file) = entry.attachment.take() {
            files.push(file.id);
        }
        if let Author::Usager(Some(_)) = entry.author {
            entry.author = Author::Usager(None);
        }
    }
    files
}
