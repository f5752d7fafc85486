//! The identifiers of Guichet's domain, a leaf module every other module
//! may import: démarches ([`Slug`]), their pages ([`PageId`]) and fields
//! ([`FieldId`]), workflow statuses ([`StatusId`]), demandes
//! ([`DemandeId`]), accounts ([`UserId`]) and stored files ([`FileId`]).
//! Uuids are chosen by the store; the others are written in définitions,
//! whose checks ([`Slug::is_well_formed`], [`FieldId::is_well_formed`])
//! say which shapes are accepted.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The identifier of a démarche in URLs: lowercase ASCII words joined by `-`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Slug(pub String);

impl Slug {
    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the slug has the required shape: 3 to 80 characters among
    /// `a-z`, `0-9` and `-`, starting with a letter, without `--` or a
    /// trailing `-`.
    pub fn is_well_formed(&self) -> bool {
        let s = self.0.as_str();
        (3..=80).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && !s.contains("--")
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identifier of a page, unique in a definition (`snake_case` ASCII).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct PageId(pub String);

impl PageId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for PageId {
    fn from(id: &str) -> Self {
        PageId(id.to_owned())
    }
}

/// The identifier of a demande, chosen by the store.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct DemandeId(pub Uuid);

impl std::fmt::Display for DemandeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The identifier of an account (usager or agent), chosen by the store.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

/// The identifier of a status (`en_cours_analyse`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct StatusId(pub String);

impl StatusId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for StatusId {
    fn from(id: &str) -> Self {
        StatusId(id.to_owned())
    }
}

impl std::fmt::Display for StatusId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identifier of a field, unique in a definition (`snake_case` ASCII).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct FieldId(pub String);

impl FieldId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the identifier has the required shape: a lowercase ASCII letter,
    /// then lowercase letters, digits or `_`, at most 64 characters.
    pub fn is_well_formed(&self) -> bool {
        is_snake_case(&self.0, 64)
    }
}

impl std::fmt::Display for FieldId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for FieldId {
    fn from(id: &str) -> Self {
        FieldId(id.to_owned())
    }
}

/// The identifier of a stored file, chosen by the store.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct FileId(pub Uuid);

/// `[a-z][a-z0-9_]*`, at most `max` bytes: the shape of every identifier
/// written in a definition (fields, pages, statuses, transitions).
pub(crate) fn is_snake_case(id: &str, max: usize) -> bool {
    let mut chars = id.chars();
    id.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
