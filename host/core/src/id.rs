//! The identifiers of Guichet's domain, a leaf module every other module
//! may import: démarches ([`Slug`]), their pages ([`PageId`]) and fields
//! ([`FieldId`]), workflow statuses ([`StatusId`]), demandes
//! ([`DemandeId`]), accounts ([`UserId`]) and stored files ([`FileId`]).
//!
//! Each is a newtype with a private field. Uuids are chosen by the store
//! (`from_uuid`, read back with `uuid`). Text identifiers are written in
//! démarche definitions, which are checked as a whole with the path of
//! each problem (`demarche::check`, using `is_well_formed`), and read back
//! from the store: both build them with `From`. Text from elsewhere (a
//! request's path) goes through `parse`, which refuses a malformed one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why an identifier is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identifiant « {text} » mal formé : {expected}")]
pub struct IdError {
    /// The text refused.
    pub text: String,
    /// The shape expected, in French.
    pub expected: &'static str,
}

/// An identifier written as text.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $expected:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks the shape of `text`.
            ///
            /// # Errors
            /// [`IdError`] when it does not have the expected shape.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                let id = $name(text.to_owned());
                if id.is_well_formed() {
                    Ok(id)
                } else {
                    Err(IdError {
                        text: text.to_owned(),
                        expected: $expected,
                    })
                }
            }

            /// Whether the identifier has the required shape ($expected).
            pub fn is_well_formed(&self) -> bool {
                let check: fn(&str) -> bool = $check;
                check(&self.0)
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier's text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $name(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                $name(text)
            }
        }
    };
}

/// An identifier chosen by the store.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// The identifier of this uuid.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            /// The uuid.
            pub const fn uuid(self) -> Uuid {
                self.0
            }

            /// Reads an identifier written as a uuid.
            ///
            /// # Errors
            /// [`IdError`] for anything else.
            pub fn parse(text: &str) -> Result<$name, IdError> {
                Uuid::parse_str(text).map($name).map_err(|_| IdError {
                    text: text.to_owned(),
                    expected: "un uuid",
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

text_id!(
    /// The identifier of a démarche in URLs: lowercase ASCII words joined by `-`.
    Slug,
    "3 à 80 caractères parmi a-z, 0-9 et -, commençant par une lettre, sans -- ni - final",
    |s| {
        (3..=80).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && !s.contains("--")
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }
);

text_id!(
    /// The identifier of a page, unique in a definition (`snake_case` ASCII).
    PageId,
    "une lettre minuscule puis minuscules, chiffres ou _, 64 caractères au plus",
    |s| is_snake_case(s, 64)
);

text_id!(
    /// The identifier of a field, unique in a definition (`snake_case` ASCII).
    FieldId,
    "une lettre minuscule puis minuscules, chiffres ou _, 64 caractères au plus",
    |s| is_snake_case(s, 64)
);

text_id!(
    /// The identifier of a status (`en_cours_analyse`).
    StatusId,
    "une lettre minuscule puis minuscules, chiffres ou _, 64 caractères au plus",
    |s| is_snake_case(s, 64)
);

uuid_id!(
    /// The identifier of a demande, chosen by the store.
    DemandeId
);

uuid_id!(
    /// The identifier of an account (usager or agent), chosen by the store.
    UserId
);

uuid_id!(
    /// The identifier of a stored file, chosen by the store.
    FileId
);

/// `[a-z][a-z0-9_]*`, at most `max` bytes: the shape of every identifier
/// written in a definition (fields, pages, statuses, transitions).
pub(crate) fn is_snake_case(id: &str, max: usize) -> bool {
    let mut chars = id.chars();
    id.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refuses_malformed_identifiers() {
        assert!(Slug::parse("aide-reparation-velo").is_ok());
        for bad in ["Aide", "a--b", "ab", "velo-", "vélo"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(FieldId::parse("date_naissance").is_ok());
        assert!(FieldId::parse("Date naissance").is_err());
        assert!(DemandeId::parse("00000000-0000-0000-0000-000000000000").is_ok());
        assert!(DemandeId::parse("42").is_err());
    }

    #[test]
    fn identifiers_serialise_as_their_text() {
        let id = DemandeId::from_uuid(Uuid::nil());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"00000000-0000-0000-0000-000000000000\""
        );
        assert_eq!(
            serde_json::to_string(&Slug::from("velo")).unwrap(),
            "\"velo\""
        );
    }
}
