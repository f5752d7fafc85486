//! The choices of data-source fields: asked to the connector instance the
//! source names, with the parameters read from earlier answers
//! (`guichet_core::draft::lookup_params`), through the instance's cache
//! of answers for the source's `cache_seconds`
//! (`crate::connectors::lookups`).

use std::collections::BTreeMap;

use guichet_core::actor::ActorKind;
use guichet_core::demarche::Definition;
use guichet_core::draft::lookup_params;
use guichet_core::field::Choice;
use guichet_core::id::FieldId;
use guichet_core::value::Answers;

use super::Guichet;
use crate::connectors::lookups::DEFAULT_TTL;
use crate::connectors::model::LookupQuery;

/// The options of the data-source fields `filler` answers (an usager
/// never answers agent-only ones: their sources are not asked), from the
/// connector instance named by the source when it is configured, given the
/// `answers` so far. A source that cannot answer, or whose parameters are
/// not all answered yet, gives no options (validation then says
/// `source_indisponible`); the failure is logged.
pub async fn resolve(
    guichet: &Guichet,
    definition: &Definition,
    answers: &Answers,
    filler: ActorKind,
) -> BTreeMap<FieldId, Vec<Choice>> {
    let mut options = BTreeMap::new();
    let instances: Vec<String> = guichet
        .registry
        .instances()
        .into_iter()
        .map(|i| i.id)
        .collect();
    for field in definition.fields() {
        if field.agent_only && filler == ActorKind::Usager {
            continue;
        }
        let Some((_, Some(source))) = field.kind.choice_list() else {
            continue;
        };
        if !instances.contains(&source.connector) {
            continue;
        }
        let Some(params) = lookup_params(source, answers) else {
            continue;
        };
        let query = LookupQuery {
            source: source.name.clone(),
            q: None,
            id: None,
            params,
        };
        let ttl = source.cache_seconds.map_or(DEFAULT_TTL, |seconds| {
            std::time::Duration::from_secs(u64::from(seconds))
        });
        match guichet
            .registry
            .lookup_cached(&source.connector, query, ttl)
            .await
        {
            Ok(items) => {
                options.insert(
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
            Err(error) => {
                tracing::warn!(field = %field.id, %error, "source de données indisponible");
            }
        }
    }
    options
}
