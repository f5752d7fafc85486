//! A text message as the provider receives it, and its rules: an E.164
//! recipient, an alphanumeric sender of 3 to 11 characters, a text of 1 to
//! [`MAX_TEXT_CHARS`] characters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Longest text accepted: ten parts of 153 GSM characters.
pub const MAX_TEXT_CHARS: usize = 1_530;

/// Body of `POST /api/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Recipient, E.164.
    pub to: String,
    /// Sender name shown on the phone.
    pub from: String,
    /// The text.
    pub text: String,
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The provider's id, `MSG-<year>-<6 digits>`.
    pub id: String,
    /// Recipient, E.164.
    pub to: String,
    /// Sender name.
    pub from: String,
    /// The text, as received.
    pub text: String,
    /// The `Idempotency-Key` it came with, if any.
    pub idempotency_key: Option<String>,
    /// When it was received.
    pub received_at: DateTime<Utc>,
}

/// What `POST /api/messages` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// The provider's id.
    pub id: String,
    /// Recipient.
    pub to: String,
    /// Always `accepted`: the simulator delivers nothing further.
    pub status: &'static str,
}

impl From<&Message> for Accepted {
    fn from(message: &Message) -> Self {
        Self {
            id: message.id.clone(),
            to: message.to.clone(),
            status: "accepted",
        }
    }
}

impl NewMessage {
    /// Checks the provider's rules.
    ///
    /// # Errors
    /// 400 `numero_invalide`, `expediteur_invalide`, `texte_vide` or
    /// `texte_trop_long`.
    pub fn validate(&self) -> Result<(), ApiError> {
        let digits = self.to.strip_prefix('+').unwrap_or_default();
        if !(8..=15).contains(&digits.len())
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ApiError::bad_request(
                "numero_invalide",
                "Numéro du destinataire invalide : format E.164 attendu (+33612345678)",
            ));
        }
        let sender_ok = (3..=11).contains(&self.from.len())
            && self
                .from
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ')
            && self.from.bytes().any(|b| b.is_ascii_alphabetic());
        if !sender_ok {
            return Err(ApiError::bad_request(
                "expediteur_invalide",
                "Expéditeur invalide : 3 à 11 lettres, chiffres ou espaces, dont une lettre",
            ));
        }
        if self.text.trim().is_empty() {
            return Err(ApiError::bad_request("texte_vide", "Le texte est vide"));
        }
        if self.text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::bad_request(
                "texte_trop_long",
                format!("Texte trop long ({MAX_TEXT_CHARS} caractères au plus)"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: &str, from: &str, text: &str) -> NewMessage {
        NewMessage {
            to: to.into(),
            from: from.into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_message_to_an_e164_number_from_a_named_sender_is_accepted() {
        for to in ["+33612345678", "+262692123456", "+687751234"] {
            assert!(message(to, "MAIRIE", "Bonjour").validate().is_ok(), "{to}");
        }
    }

    #[test]
    fn each_broken_rule_has_its_code() {
        for (to, from, text, code) in [
            ("0612345678", "MAIRIE", "Bonjour", "numero_invalide"),
            ("+0612345678", "MAIRIE", "Bonjour", "numero_invalide"),
            ("+33 6 12 34 56 78", "MAIRIE", "Bonjour", "numero_invalide"),
            ("+33612345678", "MA", "Bonjour", "expediteur_invalide"),
            (
                "+33612345678",
                "MAIRIE-DE-LYON",
                "Bonjour",
                "expediteur_invalide",
            ),
            ("+33612345678", "12345", "Bonjour", "expediteur_invalide"),
            ("+33612345678", "MAIRIE", "  ", "texte_vide"),
        ] {
            let error = message(to, from, text).validate().expect_err(code);
            assert_eq!(error.code(), code, "{to} {from} {text}");
        }
        let long = "a".repeat(MAX_TEXT_CHARS + 1);
        let error = message("+33612345678", "MAIRIE", &long)
            .validate()
            .expect_err("too long");
        assert_eq!(error.code(), "texte_trop_long");
    }
}
