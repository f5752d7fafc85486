//! Answers: the typed values of a demande's fields.
//!
//! A [`Value`] is stored and exchanged as JSON tagged with its type, so it
//! reads back without its definition:
//!
//! | field kind | JSON |
//! |---|---|
//! | text, long text, e-mail, phone | `{"type": "text", "value": "Dupont"}` |
//! | number | `{"type": "number", "value": 120.5}` |
//! | date | `{"type": "date", "value": "2026-09-01"}` |
//! | choice | `{"type": "choice", "value": "voirie"}` |
//! | multiple choice | `{"type": "choices", "value": ["lundi", "jeudi"]}` |
//! | checkbox | `{"type": "checkbox", "value": true}` |
//! | file | `{"type": "files", "value": [{"id": "…", "name": "facture.pdf", "media_type": "pdf", "size": 48213}]}` |
//! | address | `{"type": "address", "value": {"street": "2 rue de la Paix", "postcode": "13001", "city": "Marseille", "latitude": 43.29, "longitude": 5.37}}` |
//!
//! [`Answers`] maps field ids to values, ordered by id. Forms posted by people
//! use a plainer shape read with the definition at hand
//! ([`crate::validation::read_answers`]).

use std::collections::BTreeMap;

use crate::id::FieldId;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::file::FileRef;
use crate::text::is_blank;

/// The value of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// Text, long text, e-mail or phone (phones in E.164, `+33612345678`;
    /// IBANs in their electronic form).
    Text(String),
    /// A finite number.
    Number(f64),
    /// A calendar date.
    Date(NaiveDate),
    /// The value of the selected choice.
    Choice(String),
    /// The values of the selected choices.
    Choices(Vec<String>),
    /// Whether the box is ticked.
    Checkbox(bool),
    /// Attached files.
    Files(Vec<FileRef>),
    /// A postal address.
    Address(Address),
}

impl Value {
    /// Whether the value counts as no answer: text with nothing visible
    /// (see [`crate::text::is_blank`]), no choice, no file, an unticked box.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(text) | Value::Choice(text) => is_blank(text),
            Value::Choices(values) => values.is_empty(),
            Value::Files(files) => files.is_empty(),
            Value::Checkbox(ticked) => !ticked,
            Value::Address(address) => is_blank(&address.street) && is_blank(&address.city),
            Value::Number(_) | Value::Date(_) => false,
        }
    }
}

/// A postal address with optional geolocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Number and street (`2 rue de la Paix`).
    pub street: String,
    /// Building, floor, place name…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complement: Option<String>,
    /// Five-digit French postcode.
    pub postcode: String,
    /// City.
    pub city: String,
    /// One-line label from the address search, when the usager picked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Latitude in degrees (WGS 84), −90 to 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude in degrees (WGS 84), −180 to 180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

impl Address {
    /// The address on one line, as shown in summaries.
    pub fn one_line(&self) -> String {
        if let Some(label) = self.label.as_deref().filter(|l| !l.trim().is_empty()) {
            return label.to_owned();
        }
        let mut parts = vec![self.street.trim().to_owned()];
        if let Some(complement) = self.complement.as_deref().filter(|c| !c.trim().is_empty()) {
            parts.push(complement.trim().to_owned());
        }
        parts.push(format!("{} {}", self.postcode.trim(), self.city.trim()));
        parts.join(", ")
    }

    /// The département of the postcode (`13`, `2A`, `971`), kept for
    /// statistics when the demande is anonymised.
    pub fn departement(&self) -> Option<String> {
        let code = self.postcode.trim();
        if code.len() != 5 || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let dept = match &code[..2] {
            "97" | "98" => code[..3].to_owned(),
            "20" => match code.as_bytes().get(2) {
                Some(b'0' | b'1') => "2A".to_owned(),
                _ => "2B".to_owned(),
            },
            two => two.to_owned(),
        };
        Some(dept)
    }
}

/// The answers of a form: field id → value, ordered by field id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Answers(BTreeMap<FieldId, Value>);

impl Answers {
    /// No answers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of a field.
    pub fn get(&self, field: &FieldId) -> Option<&Value> {
        self.0.get(field)
    }

    /// Sets a field's value, returning the previous one.
    pub fn insert(&mut self, field: FieldId, value: Value) -> Option<Value> {
        self.0.insert(field, value)
    }

    /// Removes a field's value.
    pub fn remove(&mut self, field: &FieldId) -> Option<Value> {
        self.0.remove(field)
    }

    /// Every (field, value), ordered by field id.
    pub fn iter(&self) -> impl Iterator<Item = (&FieldId, &Value)> {
        self.0.iter()
    }

    /// How many fields have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds or replaces every value of `other`.
    pub fn merge(&mut self, other: Answers) {
        self.0.extend(other.0);
    }

    /// Keeps only the fields for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&FieldId, &Value) -> bool) {
        self.0.retain(|id, value| keep(id, value));
    }
}

impl FromIterator<(FieldId, Value)> for Answers {
    fn from_iter<I: IntoIterator<Item = (FieldId, Value)>>(iter: I) -> Self {
        Answers(iter.into_iter().collect())
    }
}

impl IntoIterator for Answers {
    type Item = (FieldId, Value);
    type IntoIter = std::collections::btree_map::IntoIter<FieldId, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A number written the French way (`1 234,5`).
pub fn french_number(n: f64) -> String {
    let text = if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n:.2}")
    };
    let (int, frac) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    match frac {
        Some(frac) => format!("{sign}{grouped},{frac}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_tagged_with_their_type_in_json() {
        let answers: Answers = [
            (FieldId::from("nom"), Value::Text("Dupont".into())),
            (FieldId::from("montant"), Value::Number(120.5)),
            (
                FieldId::from("debut"),
                Value::Date(NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()),
            ),
            (FieldId::from("jours"), Value::Choices(vec!["lundi".into()])),
        ]
        .into_iter()
        .collect();
        let json = serde_json::to_value(&answers).unwrap();
        assert_eq!(
            json,
            json!({
                "debut": {"type": "date", "value": "2026-09-01"},
                "jours": {"type": "choices", "value": ["lundi"]},
                "montant": {"type": "number", "value": 120.5},
                "nom": {"type": "text", "value": "Dupont"},
            })
        );
        let back: Answers = serde_json::from_value(json).unwrap();
        assert_eq!(back, answers);
    }

    #[test]
    fn departement_is_read_from_the_postcode() {
        let address = |postcode: &str| Address {
            street: "1 place de la Mairie".into(),
            complement: None,
            postcode: postcode.into(),
            city: "Ville".into(),
            label: None,
            latitude: None,
            longitude: None,
        };
        assert_eq!(address("13001").departement().as_deref(), Some("13"));
        assert_eq!(address("97110").departement().as_deref(), Some("971"));
        assert_eq!(address("20000").departement().as_deref(), Some("2A"));
        assert_eq!(address("20200").departement().as_deref(), Some("2B"));
        assert_eq!(address("1300").departement(), None);
        assert_eq!(
            address("13001").one_line(),
            "1 place de la Mairie, 13001 Ville"
        );
    }

    #[test]
    fn numbers_are_written_the_french_way() {
        assert_eq!(french_number(1234.5), "1\u{202f}234,50");
        assert_eq!(french_number(500.0), "500");
        assert_eq!(french_number(-12.0), "-12");
    }

    #[test]
    fn blank_answers_count_as_empty() {
        assert!(Value::Text("  ".into()).is_empty());
        assert!(Value::Text("\u{200b}\u{feff}".into()).is_empty());
        assert!(Value::Choice("\u{2060}".into()).is_empty());
        assert!(Value::Checkbox(false).is_empty());
        assert!(Value::Choices(vec![]).is_empty());
        assert!(!Value::Number(0.0).is_empty());
    }
}
