//! Conditions that show or hide pages and fields.
//!
//! A condition tests answers given earlier in the form. In YAML:
//!
//! ```yaml
//! condition:
//!   all:
//!     - equals: { field: repas_specifique, value: pai }
//!     - checked: allergies_declarees
//! ```
//!
//! A field whose condition is false is hidden: it is not required and its
//! value is dropped at validation (see [`crate::validation`]). A condition may
//! only refer to fields placed before it in the form, so visibility is decided
//! in one pass and cycles cannot exist.

use crate::id::FieldId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::{Answers, Value};

/// A test on earlier answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The answer equals `value` (for a multiple choice: contains it).
    Equals {
        /// The field tested.
        field: FieldId,
        /// The expected value (a choice value or a text).
        value: String,
    },
    /// The answer is absent or differs from `value`.
    NotEquals {
        /// The field tested.
        field: FieldId,
        /// The value that must not be chosen.
        value: String,
    },
    /// The answer is one of `values` (for a multiple choice: contains one).
    In {
        /// The field tested.
        field: FieldId,
        /// The accepted values.
        values: Vec<String>,
    },
    /// The checkbox is ticked.
    Checked(FieldId),
    /// The field has a non-empty answer.
    NotEmpty(FieldId),
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
}

impl Condition {
    /// Whether the condition holds for these answers. Absent answers count as
    /// empty: `equals` is false, `not_equals` is true.
    pub fn holds(&self, answers: &Answers) -> bool {
        match self {
            Condition::Equals { field, value } => {
                matches_any(answers.get(field), std::slice::from_ref(value))
            }
            Condition::NotEquals { field, value } => {
                !matches_any(answers.get(field), std::slice::from_ref(value))
            }
            Condition::In { field, values } => matches_any(answers.get(field), values),
            Condition::Checked(field) => matches!(answers.get(field), Some(Value::Checkbox(true))),
            Condition::NotEmpty(field) => answers.get(field).is_some_and(|value| !value.is_empty()),
            Condition::All(conditions) => conditions.iter().all(|c| c.holds(answers)),
            Condition::Any(conditions) => conditions.iter().any(|c| c.holds(answers)),
        }
    }

    /// Every field the condition refers to, with the operator name.
    pub fn references(&self) -> Vec<(&FieldId, &'static str)> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references<'a>(&'a self, out: &mut Vec<(&'a FieldId, &'static str)>) {
        match self {
            Condition::Equals { field, .. } => out.push((field, "equals")),
            Condition::NotEquals { field, .. } => out.push((field, "not_equals")),
            Condition::In { field, .. } => out.push((field, "in")),
            Condition::Checked(field) => out.push((field, "checked")),
            Condition::NotEmpty(field) => out.push((field, "not_empty")),
            Condition::All(conditions) | Condition::Any(conditions) => {
                for condition in conditions {
                    condition.collect_references(out);
                }
            }
        }
    }

    /// The values compared by `equals`, `not_equals` and `in`, per field.
    pub fn compared_values(&self) -> Vec<(&FieldId, &str)> {
        match self {
            Condition::Equals { field, value } | Condition::NotEquals { field, value } => {
                vec![(field, value.as_str())]
            }
            Condition::In { field, values } => values.iter().map(|v| (field, v.as_str())).collect(),
            Condition::Checked(_) | Condition::NotEmpty(_) => Vec::new(),
            Condition::All(conditions) | Condition::Any(conditions) => conditions
                .iter()
                .flat_map(Condition::compared_values)
                .collect(),
        }
    }
}

fn matches_any(answer: Option<&Value>, expected: &[String]) -> bool {
    match answer {
        Some(Value::Text(text)) | Some(Value::Choice(text)) => expected.contains(text),
        Some(Value::Choices(chosen)) => chosen.iter().any(|c| expected.contains(c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, Value)]) -> Answers {
        pairs
            .iter()
            .map(|(id, value)| (FieldId::from(*id), value.clone()))
            .collect()
    }

    #[test]
    fn conditions_test_earlier_answers() {
        let given = answers(&[
            ("regime", Value::Choice("pai".into())),
            (
                "jours",
                Value::Choices(vec!["lundi".into(), "jeudi".into()]),
            ),
            ("allergies", Value::Checkbox(true)),
            ("precisions", Value::Text(String::new())),
        ]);
        let cases = [
            ("equals: { field: regime, value: pai }", true),
            ("equals: { field: regime, value: standard }", false),
            ("not_equals: { field: regime, value: standard }", true),
            ("not_equals: { field: absent, value: x }", true),
            ("in: { field: jours, values: [mardi, jeudi] }", true),
            (
                "in: { field: regime, values: [standard, sans_porc] }",
                false,
            ),
            ("checked: allergies", true),
            ("checked: absent", false),
            ("not_empty: regime", true),
            ("not_empty: precisions", false),
            (
                "all: [ { checked: allergies }, { equals: { field: regime, value: pai } } ]",
                true,
            ),
            (
                "all: [ { checked: allergies }, { not_empty: precisions } ]",
                false,
            ),
            (
                "any: [ { checked: absent }, { equals: { field: jours, value: lundi } } ]",
                true,
            ),
        ];
        for (yaml, expected) in cases {
            let condition: Condition = crate::yaml::from_str(yaml).unwrap();
            assert_eq!(condition.holds(&given), expected, "{yaml}");
        }
    }

    #[test]
    fn references_list_every_tested_field() {
        let condition: Condition =
            crate::yaml::from_str("any: [ { checked: a }, { all: [ { not_empty: b }, { in: { field: c, values: [x] } } ] } ]")
                .unwrap();
        let ids: Vec<&str> = condition
            .references()
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }
}
