//! The summary page shown before validation: every shown page with its
//! answered labels and displayed values, in form order.

use crate::actor::ActorKind;
use std::collections::BTreeMap;

use crate::id::FieldId;
use serde::Serialize;

use crate::demarche::Definition;
use crate::field::{Choice, Field, FieldKind, TextFormat};
use crate::validation::{iban_display, phone_display, visibility};
use crate::value::{Answers, Value, french_number};

/// One page of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryPage {
    /// The page's title.
    pub title: String,
    /// The answers shown.
    pub items: Vec<SummaryItem>,
}

/// One answer of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryItem {
    /// The field.
    pub field: FieldId,
    /// Its label.
    pub label: String,
    /// The value as shown to people (`Oui`, `01/09/2026`, `120,50 €`, choice labels…).
    pub value: String,
}

/// The summary of the answers: shown pages only, shown fields only, no text
/// blocks, no agent-only fields for an usager, unanswered fields as
/// *Non renseigné* (an untouched checkbox as *Non*). Data-source choices show their label when the caller
/// passes the resolved options, their value otherwise.
pub fn summary(
    definition: &Definition,
    answers: &Answers,
    filler: ActorKind,
    options: &BTreeMap<FieldId, Vec<Choice>>,
) -> Vec<SummaryPage> {
    let shown = visibility(definition, answers);
    definition
        .pages
        .iter()
        .filter(|page| shown.pages.contains(&page.id))
        .map(|page| SummaryPage {
            title: page.title.clone(),
            items: page
                .fields
                .iter()
                .filter(|f| f.has_value() && shown.shows(&f.id))
                .filter(|f| !(f.agent_only && filler == ActorKind::Usager))
                .map(|field| SummaryItem {
                    field: field.id.clone(),
                    label: field.label.clone(),
                    value: match answers.get(&field.id) {
                        Some(value) if !value.is_empty() || matches!(value, Value::Checkbox(_)) => {
                            display_value(field, value, options)
                        }
                        // An untouched box is an unticked one.
                        _ if matches!(field.kind, FieldKind::Checkbox {}) => "Non".to_owned(),
                        _ => "Non renseigné".to_owned(),
                    },
                })
                .collect(),
        })
        .filter(|page| !page.items.is_empty())
        .collect()
}

/// A value as shown to people.
pub fn display_value(
    field: &Field,
    value: &Value,
    options: &BTreeMap<FieldId, Vec<Choice>>,
) -> String {
    let label = |chosen: &str| -> String {
        let list = match field.kind.choice_list() {
            Some((_, Some(_))) => options
                .get(&field.id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            Some((choices, None)) => choices,
            None => &[],
        };
        list.iter()
            .find(|c| c.value == chosen)
            .map_or_else(|| chosen.to_owned(), |c| c.label.clone())
    };
    match value {
        Value::Text(text) => match &field.kind {
            FieldKind::Phone {} => phone_display(text),
            FieldKind::Text {
                format: Some(TextFormat::Iban),
                ..
            } => iban_display(text),
            _ => text.clone(),
        },
        Value::Number(n) => match &field.kind {
            FieldKind::Number {
                unit: Some(unit), ..
            } => format!("{} {unit}", french_number(*n)),
            _ => french_number(*n),
        },
        Value::Date(date) => date.format("%d/%m/%Y").to_string(),
        Value::Choice(chosen) => label(chosen),
        Value::Choices(chosen) => chosen
            .iter()
            .map(|c| label(c))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Checkbox(true) => "Oui".to_owned(),
        Value::Checkbox(false) => "Non".to_owned(),
        Value::Files(files) => files
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Address(address) => address.one_line(),
    }
}
