//! What the form routes share: the summary as shown to people (the
//! options of data-source fields come from `crate::service::options`).
use guichet_core::actor::ActorKind;

use guichet_core::id::FieldId;
use std::collections::BTreeMap;

use guichet_core::demarche::Definition;
use guichet_core::field::Choice;
use guichet_core::summary::summary;

use guichet_core::value::Answers;
use schemars::JsonSchema;
use serde::Serialize;

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
                    field: item.field.to_string(),
                    label: item.label,
                    value: item.value,
                })
                .collect(),
        })
        .collect()
}
