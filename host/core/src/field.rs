//! Fields of a form: what each kind accepts and how it is described in YAML.
//!
//! A field is written in a démarche definition as one YAML mapping whose
//! `kind` selects the variant and whose other keys are either common to every
//! kind (`id`, `label`, `help`, `required`, `agent_only`, `condition`,
//! `prefill`) or specific to the kind (`min`, `choices`, `accept`…):
//!
//! ```yaml
//! - id: montant
//!   kind: number
//!   label: Montant de la facture
//!   required: true
//!   min: 0
//!   max: 2000
//!   unit: €
//! ```
//!
//! The values a field accepts are checked by [`crate::validation`]; what a
//! value looks like is [`crate::value::Value`].

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::condition::Condition;
use crate::file::MediaType;
use crate::id::FieldId;
use crate::profile::ProfileField;

/// Default maximum length of a short text, in characters.
pub const DEFAULT_TEXT_MAX_LENGTH: u32 = 255;
/// Default maximum length of a long text, in characters.
pub const DEFAULT_LONG_TEXT_MAX_LENGTH: u32 = 5000;
/// Default size cap of one attachment, in megabytes (10 MB).
pub const DEFAULT_FILE_MAX_SIZE_MB: u32 = 10;

/// One field (or text block) of a form page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Field {
    /// Unique identifier in the definition; the key of the answer.
    pub id: FieldId,
    /// Short, non-gendered label (the title text for a `title` block).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Instruction shown under the label, in the imperative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Whether an answer is required when the field is shown. A required
    /// checkbox must be ticked.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// *Cadre réservé à l'administration*: only agents see and fill it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub agent_only: bool,
    /// Shown (and validated) only when this condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    /// Initial value taken from the usager's profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<ProfileField>,
    /// The kind and its specific settings.
    #[serde(flatten)]
    pub kind: FieldKind,
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// The kinds of fields, with their specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKind {
    /// One line of text.
    Text {
        /// Maximum length in characters (default 255).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
        /// A format the text must follow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<TextFormat>,
    },
    /// Several lines of text.
    LongText {
        /// Maximum length in characters (default 5000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    /// An e-mail address.
    Email {},
    /// A French phone number, metropolitan or overseas, national or
    /// international (`06 12 34 56 78`, `+262 692 12 34 56`); stored in
    /// E.164 (`+33612345678`).
    Phone {},
    /// A number.
    Number {
        /// Smallest accepted value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest accepted value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Whether only whole numbers are accepted.
        #[serde(default, skip_serializing_if = "is_false")]
        integer: bool,
        /// Unit shown after the value (`€`, `km`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
    /// A calendar date.
    Date {
        /// Earliest accepted date. Every date's year is between 1900 and
        /// 2100 in any case.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<DateBound>,
        /// Latest accepted date: `today` for a birth date or any date that
        /// cannot be in the future (a field prefilled from
        /// `profile.birth_date` is never after today, even without it).
        /// `today` is the day in the collectivité's time zone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<DateBound>,
    },
    /// One value among a list.
    Choice {
        /// The static list of choices (or use `source`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        choices: Vec<Choice>,
        /// A data source whose options the caller resolves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<DataSource>,
    },
    /// Several values among a list.
    MultipleChoice {
        /// The static list of choices (or use `source`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        choices: Vec<Choice>,
        /// A data source whose options the caller resolves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<DataSource>,
        /// Fewest values to select when answered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_choices: Option<u32>,
        /// Most values to select.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_choices: Option<u32>,
    },
    /// A box to tick.
    Checkbox {},
    /// One or more attachments (PDF, JPEG or PNG, checked by content).
    File {
        /// Accepted types (default: PDF, JPEG and PNG).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        accept: Option<Vec<MediaType>>,
        /// Size cap of each file in megabytes (default 10).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_size_mb: Option<u32>,
        /// How many files may be attached (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_files: Option<u32>,
    },
    /// A postal address, optionally geolocated.
    Address {
        /// Whether coordinates (latitude/longitude) are required.
        #[serde(default, skip_serializing_if = "is_false")]
        require_coordinates: bool,
    },
    /// A title block (the `label` is the title); carries no value.
    Title {},
    /// A text block of instructions; carries no value.
    Comment {
        /// The text shown.
        text: String,
    },
}

impl FieldKind {
    /// Whether a field of this kind can receive the profile's `source`
    /// attribute as its prefill.
    pub fn takes_prefill_from(&self, source: ProfileField) -> bool {
        match source {
            ProfileField::FirstName | ProfileField::LastName => {
                matches!(self, FieldKind::Text { .. })
            }
            ProfileField::Email => matches!(self, FieldKind::Email {} | FieldKind::Text { .. }),
            ProfileField::Phone => matches!(self, FieldKind::Phone {} | FieldKind::Text { .. }),
            ProfileField::Address => matches!(self, FieldKind::Address { .. }),
            ProfileField::BirthDate => matches!(self, FieldKind::Date { .. }),
        }
    }

    /// Whether this kind is a text block without value (`title`, `comment`).
    pub fn is_block(&self) -> bool {
        matches!(self, FieldKind::Title {} | FieldKind::Comment { .. })
    }

    /// The kind's name as written in YAML (`text`, `multiple_choice`…).
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::LongText { .. } => "long_text",
            FieldKind::Email {} => "email",
            FieldKind::Phone {} => "phone",
            FieldKind::Number { .. } => "number",
            FieldKind::Date { .. } => "date",
            FieldKind::Choice { .. } => "choice",
            FieldKind::MultipleChoice { .. } => "multiple_choice",
            FieldKind::Checkbox {} => "checkbox",
            FieldKind::File { .. } => "file",
            FieldKind::Address { .. } => "address",
            FieldKind::Title {} => "title",
            FieldKind::Comment { .. } => "comment",
        }
    }

    /// The static choices and data source of a choice field, if it is one.
    pub fn choice_list(&self) -> Option<(&[Choice], Option<&DataSource>)> {
        match self {
            FieldKind::Choice { choices, source }
            | FieldKind::MultipleChoice {
                choices, source, ..
            } => Some((choices.as_slice(), source.as_ref())),
            _ => None,
        }
    }
}

impl Field {
    /// Whether the field carries a value (every kind but title and comment blocks).
    pub fn has_value(&self) -> bool {
        !self.kind.is_block()
    }
}

/// A format a short text must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// An IBAN, checked with its ISO 13616 key, its country's length and
    /// BBAN format (spaces allowed); stored in its electronic form.
    Iban,
    /// A French postcode: five digits.
    Postcode,
}

/// One entry of a choice list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The stored value (stable across text updates).
    pub value: String,
    /// The label shown.
    pub label: String,
}

/// A data source feeding a choice list, served by a connector instance
/// (for example ATAL's thematics or the children of an Espace famille family).
/// The caller resolves its options before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// The connector instance (e.g. `atal-ville`).
    pub connector: String,
    /// The source name inside the connector (e.g. `thematiques`).
    pub name: String,
    /// Lookup parameters taken from answers on earlier pages: parameter
    /// name → field id (e.g. `last-name: nom`). The options are asked for
    /// once every one of these fields is answered.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, FieldId>,
    /// Whether a choice of this source identifies the usager (the children
    /// of a family: erased at anonymisation, the default) or is reference
    /// data (ATAL's request types: kept with its label for statistics, as
    /// a static choice list is). See `workflow::anonymise`.
    #[serde(default = "personal_by_default", skip_serializing_if = "is_personal")]
    pub personal: bool,
    /// How long, in seconds, an answer of the source stays good: the same
    /// query within that time is answered without calling the connector
    /// (0: always call). The host's default (five minutes) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_seconds: Option<u32>,
}

fn personal_by_default() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_personal(personal: &bool) -> bool {
    *personal
}

/// A bound of a date field: a fixed date (`2026-09-01`) or `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    /// A fixed calendar date.
    Fixed(NaiveDate),
    /// The day of the validation (`today`).
    Today,
}

impl DateBound {
    /// The bound as a date, given today's date.
    pub fn resolve(self, today: NaiveDate) -> NaiveDate {
        match self {
            DateBound::Fixed(date) => date,
            DateBound::Today => today,
        }
    }
}

impl Serialize for DateBound {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DateBound::Fixed(date) => {
                serializer.serialize_str(&date.format("%Y-%m-%d").to_string())
            }
            DateBound::Today => serializer.serialize_str("today"),
        }
    }
}

impl<'de> Deserialize<'de> for DateBound {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "today" {
            return Ok(DateBound::Today);
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(DateBound::Fixed)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "date invalide « {text} » : attendu AAAA-MM-JJ ou today"
                ))
            })
    }
}

impl JsonSchema for DateBound {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateBound".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A fixed date (YYYY-MM-DD) or `today`.",
            "type": "string",
            "pattern": "^(today|[0-9]{4}-[0-9]{2}-[0-9]{2})$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_snake_case_ascii() {
        for good in ["nom", "date_naissance", "a1"] {
            assert!(FieldId::from(good).is_well_formed(), "{good}");
        }
        for bad in ["", "Nom", "1a", "date-naissance", "prénom", "a b"] {
            assert!(!FieldId::from(bad).is_well_formed(), "{bad}");
        }
    }

    #[test]
    fn a_field_reads_from_yaml_with_its_kind_settings() {
        let yaml = "id: montant\nkind: number\nlabel: Montant\nrequired: true\nmin: 0\nunit: €\n";
        let field: Field = crate::yaml::from_str(yaml).unwrap();
        assert_eq!(field.id, FieldId::from("montant"));
        assert!(field.required);
        assert_eq!(
            field.kind,
            FieldKind::Number {
                min: Some(0.0),
                max: None,
                integer: false,
                unit: Some("€".into())
            }
        );
    }

    #[test]
    fn a_setting_of_another_kind_is_refused() {
        let yaml = "id: accord\nkind: checkbox\nlabel: J'accepte\nmin: 3\n";
        assert!(crate::yaml::from_str::<Field>(yaml).is_err());
    }

    #[test]
    fn date_bounds_read_today_or_a_date() {
        let bound: DateBound = crate::yaml::from_str("today").unwrap();
        assert_eq!(bound, DateBound::Today);
        let bound: DateBound = crate::yaml::from_str("2026-09-01").unwrap();
        assert_eq!(
            bound,
            DateBound::Fixed(NaiveDate::from_ymd_opt(2026, 9, 1).unwrap())
        );
        assert!(crate::yaml::from_str::<DateBound>("01/09/2026").is_err());
    }
}
