//! What the form routes share: the options of data-source fields (asked
//! to the connector instance the source names) and the summary as shown to
//! people.
use guichet_core::actor::ActorKind;

use guichet_core::id::FieldId;
use std::collections::BTreeMap;

use guichet_core::demarche::Definition;
use guichet_core::field::Choice;
use guichet_core::summary::summary;

use guichet_core::value::{Answers, Value};
use schemars::JsonSchema;
use serde::Serialize;

use super::AppState;
use crate::connectors::model::LookupQuery;

/// The options of data-source fields, from the connector instance named by
/// the source when it is configured, given the `answers` so far (a source's
/// parameters come from earlier answers). A source that cannot answer, or
/// whose parameters are not all answered yet, gives no options (validation
/// then says `source_indisponible`).
pub async fn resolve_options(
    state: &AppState,
    definition: &Definition,
    answers: &Answers,
) -> BTreeMap<FieldId, Vec<Choice>> {
    let mut options = BTreeMap::new();
    let instances: Vec<String> = state
        .registry
        .instances()
        .into_iter()
        .map(|i| i.id)
        .collect();
    for field in definition.fields() {
        let Some((_, Some(source))) = field.kind.choice_list() else {
            continue;
        };
        if !instances.contains(&source.connector) {
            continue;
        }
        let params: Option<BTreeMap<String, String>> = source
            .params
            .iter()
            .map(|(name, id)| Some((name.clone(), param_text(answers.get(id)?)?)))
            .collect();
        let Some(params) = params else {
            continue;
        };
        let query = LookupQuery {
            source: source.name.clone(),
            q: None,
            id: None,
            params,
        };
        match state.registry.lookup(&source.connector, query).await {
            Ok(items) => {
                options.insert(
                    field.id.clone(),
                    items
                        .into_iter()
                        .map(|item| Choice {
                            value: item.id,
                            label: item.text,
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

/// A page of the summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryPageView {
    /// The page's title.
    pub title: String,
    /// The answers shown.
    pub items: Vec<SummaryItemView>,
}

/// An answer of the summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryItemView {
    /// The field.
    pub field: String,
    /// Its label.
    pub label: String,
    /// The value as shown to people.
    pub value: String,
}

/// The summary of answers, as shown to `filler`.
pub fn summary_view(
    definition: &Definition,
    answers: &Answers,
    filler: ActorKind,
    options: &BTreeMap<FieldId, Vec<Choice>>,
) -> Vec<SummaryPageView> {
    summary(definition, answers, filler, options)
        .into_iter()
        .map(|page| SummaryPageView {
            title: page.title,
            items: page
                .items
                .into_iter()
                .map(|item| SummaryItemView {
                    field: item.field.0,
                    label: item.label,
                    value: item.value,
                })
                .collect(),
        })
        .collect()
}
