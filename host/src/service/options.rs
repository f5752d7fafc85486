//! The choices of data-source fields: asked to the connector instance the
//! source names, with the parameters read from earlier answers
//! (`guichet_core::draft::lookup_params`) and, for a source of the usager's
//! own record (`link` of the source), the id of the usager's account link
//! to the instance (`super::links`), through the instance's cache of
//! answers for the source's `cache_seconds` (`crate::connectors::lookups`).
//!
//! The usager is the one the form is for (the draft's or the demande's
//! usager, also when an agent fills it on their behalf), never someone an
//! answer names: the linked record's id comes from the store, so an
//! answer cannot make the source list another family's children.

use std::collections::BTreeMap;

use guichet_core::actor::ActorKind;
use guichet_core::demarche::{Definition, Page};
use guichet_core::draft::lookup_params;
use guichet_core::field::{Choice, Field};
use guichet_core::id::{FieldId, UserId};
use guichet_core::validation::{ErrorCode, FieldError};
use guichet_core::value::Answers;

use super::Guichet;
use crate::connectors::lookups::DEFAULT_TTL;
use crate::connectors::model::LookupQuery;

/// The options of the data-source fields, and the fields that need an
/// account link the usager has not made.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Field → its choices (a field whose source could not answer is
    /// absent: validation says `source_indisponible`).
    pub choices: BTreeMap<FieldId, Vec<Choice>>,
    /// The fields whose source needs the usager's link to an instance they
    /// have not linked their account to, with that instance.
    unlinked: BTreeMap<FieldId, String>,
}

impl Options {
    /// `errors`, where a field has no choices because the usager's account
    /// is not linked, told so (`rattachement_requis`) instead of
    /// `source_indisponible`.
    pub fn explain(&self, errors: Vec<FieldError>) -> Vec<FieldError> {
        errors
            .into_iter()
            .map(|error| {
                match self.unlinked.get(&FieldId::from(error.field.as_str())) {
                    Some(instance) if error.code == ErrorCode::SourceIndisponible => {
                        FieldError::new(
                            &error.field,
                            ErrorCode::RattachementRequis,
                            format!(
                                "Cette liste dépend de votre dossier chez « {instance} » : rattachez d'abord votre compte à ce dossier (Mes rattachements)."
                            ),
                        )
                    }
                    _ => error,
                }
            })
            .collect()
    }
}

/// Which data-source fields to ask the connectors for: only where the
/// choices are needed, never on a mere read of a draft.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every field of the form (filing validates them all).
    Form,
    /// The fields of one page (saving it, or showing its choices).
    Page(&'a Page),
    /// The fields that hold an answer (to label it in the summary).
    Answered,
}

impl Scope<'_> {
    fn covers(self, field: &Field, answers: &Answers) -> bool {
        match self {
            Scope::Form => true,
            Scope::Page(page) => page.fields.iter().any(|f| f.id == field.id),
            Scope::Answered => answers.get(&field.id).is_some(),
        }
    }
}

impl Options {
    /// The fields of `page` that `filler` answers from a data source and
    /// that have no choices now, each with why in French: the source could
    /// not answer or its parameters are not answered yet
    /// (`source_indisponible`), or the usager's account is not linked
    /// (`rattachement_requis`).
    pub fn missing_on(&self, page: &Page, filler: ActorKind) -> Vec<FieldError> {
        let missing = page
            .fields
            .iter()
            .filter(|field| !(field.agent_only && filler == ActorKind::Usager))
            .filter(|field| matches!(field.kind.choice_list(), Some((_, Some(_)))))
            .filter(|field| !self.choices.contains_key(&field.id))
            .map(|field| {
                FieldError::new(
                    field.id.as_str(),
                    ErrorCode::SourceIndisponible,
                    "La liste de choix n'est pas disponible : répondez d'abord aux questions dont elle dépend, ou réessayez plus tard.",
                )
            })
            .collect();
        self.explain(missing)
    }
}

/// The options of the data-source fields `filler` answers (an usager
/// never answers agent-only ones: their sources are not asked), from the
/// connector instance named by the source when it is configured, given the
/// `answers` so far and the account links of `usager` (the usager the form
/// is for), for the fields of `scope` only. A source that cannot answer, or whose parameters are not all
/// answered yet, gives no options (validation then says
/// `source_indisponible`); the failure is logged.
pub async fn resolve(
    guichet: &Guichet,
    definition: &Definition,
    answers: &Answers,
    filler: ActorKind,
    usager: Option<UserId>,
    scope: Scope<'_>,
) -> Options {
    let mut options = Options::default();
    let instances: Vec<String> = guichet
        .registry
        .instances()
        .into_iter()
        .map(|i| i.id)
        .collect();
    // Each instance's link is read once per resolution.
    let mut links: BTreeMap<String, Option<String>> = BTreeMap::new();
    for field in definition.fields() {
        if (field.agent_only && filler == ActorKind::Usager) || !scope.covers(field, answers) {
            continue;
        }
        let Some((_, Some(source))) = field.kind.choice_list() else {
            continue;
        };
        if !instances.contains(&source.connector) {
            continue;
        }
        let Some(mut params) = lookup_params(source, answers) else {
            continue;
        };
        if let Some(param) = &source.link {
            let remote_id = match links.get(&source.connector) {
                Some(known) => known.clone(),
                None => {
                    let found = linked_record(guichet, usager, &source.connector).await;
                    links.insert(source.connector.clone(), found.clone());
                    found
                }
            };
            let Some(remote_id) = remote_id else {
                options
                    .unlinked
                    .insert(field.id.clone(), source.connector.clone());
                continue;
            };
            params.insert(param.clone(), remote_id);
        }
        let query = LookupQuery {
            source: source.name.clone(),
            q: None,
            id: None,
            params,
        };
        let ttl = source.cache_seconds.map_or(DEFAULT_TTL, |seconds| {
            std::time::Duration::from_secs(u64::from(seconds))
        });
        // Journaled before the choices are shown (`super::journal`); a
        // cached answer makes no call and no entry.
        let looked_up = super::journal::journaled(
            guichet,
            guichet
                .registry
                .lookup_cached(&source.connector, query, ttl),
        )
        .await;
        match looked_up {
            Err(error) => {
                tracing::warn!(field = %field.id, %error, "appel de la source non journalisé : choix retenus");
            }
            Ok(Ok(items)) => {
                options.choices.insert(
                    field.id.clone(),
                    items
                        .iter()
                        .map(|item| Choice {
                            value: item.id.clone(),
                            label: item.text.clone(),
                        })
                        .collect(),
                );
            }
            Ok(Err(error)) => {
                tracing::warn!(field = %field.id, %error, "source de données indisponible");
            }
        }
    }
    options
}

/// The id of the record `usager`'s account is linked to at `instance`;
/// `None` without an usager, without a link, or when the store fails
/// (logged: the field then asks for the link, nothing is looked up).
async fn linked_record(
    guichet: &Guichet,
    usager: Option<UserId>,
    instance: &str,
) -> Option<String> {
    let usager = usager?;
    match guichet.store.account_link(usager, instance).await {
        Ok(link) => link.map(|link| link.remote_id),
        Err(error) => {
            tracing::warn!(instance, %error, "rattachement illisible");
            None
        }
    }
}
