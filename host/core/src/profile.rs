//! The usager's profile and the prefilling of forms from it.
//!
//! Page 1 of a form identifies the requester, prefilled from the profile: a
//! field says `prefill: profile.last_name` and [`crate::draft::prefill`]
//! builds the first draft. Prefilled values stay editable and are validated like any other.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::{Address, Value};

/// What Guichet knows about an usager's identity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Profile {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<Address>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
}

/// A profile attribute a field can be prefilled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ProfileField {
    /// The first name, for a text field.
    #[serde(rename = "profile.first_name")]
    FirstName,
    /// The last name, for a text field.
    #[serde(rename = "profile.last_name")]
    LastName,
    /// The e-mail, for an e-mail field.
    #[serde(rename = "profile.email")]
    Email,
    /// The phone, for a phone field.
    #[serde(rename = "profile.phone")]
    Phone,
    /// The address, for an address field.
    #[serde(rename = "profile.address")]
    Address,
    /// The birth date, for a date field.
    #[serde(rename = "profile.birth_date")]
    BirthDate,
}

impl ProfileField {
    /// The attribute as written in YAML.
    pub fn name(self) -> &'static str {
        match self {
            ProfileField::FirstName => "profile.first_name",
            ProfileField::LastName => "profile.last_name",
            ProfileField::Email => "profile.email",
            ProfileField::Phone => "profile.phone",
            ProfileField::Address => "profile.address",
            ProfileField::BirthDate => "profile.birth_date",
        }
    }

    /// The attribute's value in a profile, if known.
    pub fn read(self, profile: &Profile) -> Option<Value> {
        let text = |t: &Option<String>| {
            t.as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| Value::Text(t.to_owned()))
        };
        match self {
            ProfileField::FirstName => text(&profile.first_name),
            ProfileField::LastName => text(&profile.last_name),
            ProfileField::Email => text(&profile.email),
            ProfileField::Phone => text(&profile.phone),
            ProfileField::Address => profile.address.clone().map(Value::Address),
            ProfileField::BirthDate => profile.birth_date.map(Value::Date),
        }
    }
}
