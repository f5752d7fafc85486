//! Reading the fields of a [`Demande`] by id, with typed accessors that turn a
//! missing or mistyped field into [`Error::InvalidInput`].

use crate::{Address, AttachmentRef, Choice, Demande, Error, FieldValue};

impl Demande {
    /// The value of field `id`, if the demande has it.
    pub fn field(&self, id: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|f| f.id == id).map(|f| &f.value)
    }

    /// The text of field `id` (text, long text, email, phone), if present and non-empty.
    pub fn text(&self, id: &str) -> Option<&str> {
        match self.field(id) {
            Some(FieldValue::Text(text)) if !text.trim().is_empty() => Some(text.as_str()),
            _ => None,
        }
    }

    /// The text of field `id`, which must be present.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn require_text(&self, id: &str) -> Result<&str, Error> {
        self.text(id).ok_or_else(|| missing(id))
    }

    /// The number in field `id`.
    pub fn number(&self, id: &str) -> Option<f64> {
        match self.field(id) {
            Some(FieldValue::Number(n)) => Some(*n),
            _ => None,
        }
    }

    /// The checkbox in field `id` (`false` when absent).
    pub fn boolean(&self, id: &str) -> bool {
        matches!(self.field(id), Some(FieldValue::Boolean(true)))
    }

    /// The date (`YYYY-MM-DD`) in field `id`.
    pub fn date(&self, id: &str) -> Option<&str> {
        match self.field(id) {
            Some(FieldValue::Date(date)) => Some(date.as_str()),
            _ => None,
        }
    }

    /// The single choice in field `id`.
    pub fn choice(&self, id: &str) -> Option<&Choice> {
        match self.field(id) {
            Some(FieldValue::Choice(choice)) => Some(choice),
            _ => None,
        }
    }

    /// The single choice in field `id`, which must be present.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn require_choice(&self, id: &str) -> Result<&Choice, Error> {
        self.choice(id).ok_or_else(|| missing(id))
    }

    /// The choices of a multiple-choice field `id` (empty when absent).
    pub fn choices(&self, id: &str) -> &[Choice] {
        match self.field(id) {
            Some(FieldValue::Choices(choices)) => choices,
            _ => &[],
        }
    }

    /// The address in field `id`.
    pub fn address(&self, id: &str) -> Option<&Address> {
        match self.field(id) {
            Some(FieldValue::Address(address)) => Some(address),
            _ => None,
        }
    }

    /// The files of field `id` (empty when absent).
    pub fn files(&self, id: &str) -> &[AttachmentRef] {
        match self.field(id) {
            Some(FieldValue::Files(files)) => files,
            _ => &[],
        }
    }

    /// Every file of the demande, in form order.
    pub fn all_files(&self) -> impl Iterator<Item = &AttachmentRef> {
        self.fields.iter().flat_map(|f| match &f.value {
            FieldValue::Files(files) => files.as_slice(),
            _ => &[],
        })
    }
}

fn missing(id: &str) -> Error {
    Error::InvalidInput(format!("le champ « {id} » est manquant ou vide"))
}
