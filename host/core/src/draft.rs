//! The rules of a draft, the form an usager (or an agent for them) fills
//! page by page before filing it, as pure functions the application layer
//! calls with what it read:
//!
//! - who may open a draft of a démarche, and for whom ([`may_open`]);
//! - its first answers, taken from the profile ([`prefill`]);
//! - a saved page merged into the answers ([`merge_page`]) and the fields
//!   a page may carry ([`foreign_fields`]);
//! - a file added to a file field within its limit ([`add_file`]);
//! - the parameters of a data source's lookup, read from earlier answers
//!   ([`lookup_params`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::actor::ActorKind;
use crate::demarche::{Definition, DemarcheVisibility, Page};
use crate::field::{DataSource, Field, FieldKind};
use crate::file::FileRef;
use crate::profile::Profile;
use crate::role::{Right, Rights};
use crate::validation::{ErrorCode, FieldError};
use crate::value::{Answers, Value};

/// Why a draft cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// An usager asking for a démarche reserved to agents: to them it does
    /// not exist.
    #[error("cette démarche n'existe pas")]
    NotListed,
    /// An usager naming another usager: only agents file on behalf.
    #[error("seul un agent peut remplir un formulaire au nom d'un usager")]
    OnBehalfByUsager,
    /// An agent without the *saisie* right on the démarche.
    #[error("droit manquant : saisie au nom de l'usager")]
    RightMissing,
    /// Outside the open period (read in the collectivité's time zone).
    #[error("cette démarche n'est pas ouverte aux demandes en ce moment")]
    Closed,
}

/// Whether a draft of `definition` may be opened by someone of `kind`
/// holding `rights` on it, for another usager or not, on `today`.
///
/// Source: the seed's *saisie au nom de l'usager* (an agent with the
/// right files for an usager; usagers file for themselves), démarches
/// *réservées aux services* (never listed to usagers), and the open period.
///
/// # Errors
/// The first [`OpenError`] that applies, in the order above.
pub fn may_open(
    definition: &Definition,
    kind: ActorKind,
    rights: Rights,
    for_another: bool,
    today: NaiveDate,
) -> Result<(), OpenError> {
    match kind {
        ActorKind::Usager if definition.visibility == DemarcheVisibility::Agents => {
            return Err(OpenError::NotListed);
        }
        ActorKind::Usager if for_another => return Err(OpenError::OnBehalfByUsager),
        ActorKind::Usager => {}
        ActorKind::Agent | ActorKind::System => {
            if !rights.contains(Right::FileOnBehalf) {
                return Err(OpenError::RightMissing);
            }
        }
    }
    if !definition.is_open_on(today) {
        return Err(OpenError::Closed);
    }
    Ok(())
}

/// The first draft of a form: every field with a `prefill` the profile can
/// answer. Agent-only fields are never prefilled.
pub fn prefill(definition: &Definition, profile: &Profile) -> Answers {
    definition
        .fields()
        .filter(|field| !field.agent_only)
        .filter_map(|field| {
            let source = field.prefill?;
            source.read(profile).map(|value| (field.id.clone(), value))
        })
        .collect()
}

/// The pages of a form that someone of `kind` fills: agents see every
/// page, usagers the pages holding at least one field not reserved to
/// agents.
pub fn pages_for(definition: &Definition, kind: ActorKind) -> impl Iterator<Item = &Page> {
    definition
        .pages
        .iter()
        .filter(move |page| kind != ActorKind::Usager || page.fields.iter().any(|f| !f.agent_only))
}

/// The pages an usager fills, as the portal presents them: agent-only
/// fields (and pages made only of them) left out.
pub fn usager_pages(definition: &Definition) -> Vec<Page> {
    definition
        .pages
        .iter()
        .map(|page| Page {
            fields: page
                .fields
                .iter()
                .filter(|f| !f.agent_only)
                .cloned()
                .collect(),
            ..page.clone()
        })
        .filter(|page| !page.fields.is_empty())
        .collect()
}

/// One error per answer of `answers` that is not a field of `page`
/// (`champ_hors_page`).
pub fn foreign_fields(page: &Page, answers: &Answers) -> Vec<FieldError> {
    answers
        .iter()
        .filter(|(id, _)| !page.fields.iter().any(|f| &f.id == *id))
        .map(|(id, _)| {
            FieldError::new(
                id.as_str(),
                ErrorCode::ChampHorsPage,
                "Ce champ n'est pas sur cette page.",
            )
        })
        .collect()
}

/// The answers of a draft with a page's answers in place of what the page
/// held; a file field left out keeps what was uploaded (files have their
/// own route).
pub fn merge_page(saved: &Answers, page: &Page, mut answers: Answers) -> Answers {
    for field in &page.fields {
        if matches!(field.kind, FieldKind::File { .. })
            && answers.get(&field.id).is_none()
            && let Some(kept) = saved.get(&field.id)
        {
            answers.insert(field.id.clone(), kept.clone());
        }
    }
    let mut merged = saved.clone();
    merged.retain(|id, _| !page.fields.iter().any(|f| &f.id == id));
    merged.merge(answers);
    merged
}

/// The answers with `added` among the files of `field`: it replaces the
/// file of a single-file field, and joins the others within `max_files`.
///
/// # Errors
/// `fichiers_trop_nombreux` when the field holds its maximum already.
pub fn add_file(answers: &Answers, field: &Field, added: FileRef) -> Result<Answers, FieldError> {
    let max_files = match field.kind {
        FieldKind::File { max_files, .. } => max_files.unwrap_or(1) as usize,
        _ => 1,
    };
    let mut files = match answers.get(&field.id) {
        Some(Value::Files(files)) => files.clone(),
        _ => Vec::new(),
    };
    if max_files == 1 {
        files.clear();
    } else if files.len() >= max_files {
        return Err(FieldError::new(
            field.id.as_str(),
            ErrorCode::FichiersTropNombreux,
            format!("Joignez au plus {max_files} fichiers."),
        ));
    }
    files.push(added);
    let mut answers = answers.clone();
    answers.insert(field.id.clone(), Value::Files(files));
    Ok(answers)
}

/// The parameters of a lookup of `source` (parameter name → text), read
/// from `answers`; `None` while one of them is not answered yet.
pub fn lookup_params(source: &DataSource, answers: &Answers) -> Option<BTreeMap<String, String>> {
    source
        .params
        .iter()
        .map(|(name, id)| Some((name.clone(), param_text(answers.get(id)?)?)))
        .collect()
}

/// An answer as a lookup parameter: texts and choices as they are, dates
/// as `2026-09-01`, numbers in decimal; nothing for a blank answer or a
/// kind that has no single text form.
fn param_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::Text(text) | Value::Choice(text) => text.trim().to_owned(),
        Value::Date(date) => date.format("%Y-%m-%d").to_string(),
        Value::Number(number) => number.to_string(),
        Value::Choices(_) | Value::Checkbox(_) | Value::Files(_) | Value::Address(_) => {
            return None;
        }
    };
    (!text.is_empty()).then_some(text)
}
