//! What a notification to the usager needs to reach them — name, e-mail,
//! phone — captured in the job's payload when it is queued, and erased
//! from it once the job is delivered or abandoned.
//!
//! Why capture: the worker delivering a job must not depend on the demande
//! as it will be then. The anonymisation notice ("Notification
//! d'anonymisation à l'usager", complexe path) is queued in the very
//! transaction that erases the usager's answers and account link from the
//! demande: read at delivery time, there would be no address left. So every
//! notification to the usager carries its [`Contact`] under the payload key
//! [`CONTACT_KEY`], taken from the demande *before* the outcome that queues
//! it (the answers of the fields prefilled from the profile, which the
//! usager may have corrected, else the account's profile and login).
//!
//! Why erase: once the job is done or failed for good, the captured
//! contact and the free texts of its parameters (refusal reason, closing
//! comment) have no use left, so [`strip`] removes them in the statement
//! that ends the job; the rest (event, template, channel, number) stays as
//! the record of what was sent. Jobs still queued are deleted with the
//! demande's other jobs when it is anonymised (except the notice itself).

use guichet_core::demande::Demande;
use guichet_core::demarche::Definition;
use guichet_core::profile::ProfileField;
use guichet_core::value::Value;
use serde::{Deserialize, Serialize};

use crate::account::User;

/// The payload key of the captured contact.
pub const CONTACT_KEY: &str = "contact";

/// The parameters kept in a finished job's payload (no free text).
const KEPT_PARAMS: [&str; 3] = ["numero", "service", "echeance"];

/// How to reach the usager of a demande.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// First and last name, as given in the form or the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number (for SMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Contact {
    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none()
    }
}

/// The text answer of the first field prefilled from `attribute`.
fn answer_for(
    definition: &Definition,
    demande: &Demande,
    attribute: ProfileField,
) -> Option<String> {
    definition
        .fields()
        .filter(|field| field.prefill == Some(attribute))
        .find_map(|field| match demande.answers.get(&field.id) {
            Some(Value::Text(text)) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            _ => None,
        })
}

/// The contact of the demande's usager: the form's answers first (fields
/// prefilled from the profile), then the account's profile and login.
pub(crate) fn contact_of(
    definition: &Definition,
    demande: &Demande,
    account: Option<&User>,
) -> Contact {
    let profile = account.map(|user| &user.profile);
    let first = answer_for(definition, demande, ProfileField::FirstName)
        .or_else(|| profile.and_then(|p| p.first_name.clone()));
    let last = answer_for(definition, demande, ProfileField::LastName)
        .or_else(|| profile.and_then(|p| p.last_name.clone()));
    let name = match (first, last) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (first, last) => first
            .or(last)
            .or_else(|| account.map(|user| user.display_name.clone())),
    };
    let email = answer_for(definition, demande, ProfileField::Email)
        .or_else(|| profile.and_then(|p| p.email.clone()))
        .or_else(|| {
            account
                .map(|user| user.login.clone())
                .filter(|login| login.contains('@'))
        });
    let phone = answer_for(definition, demande, ProfileField::Phone)
        .or_else(|| profile.and_then(|p| p.phone.clone()));
    Contact { name, email, phone }
}

impl crate::Store {
    /// The contact of a demande's usager as it stands now (its answers,
    /// else its account): for a notification put back in the queue after
    /// its captured contact was erased. Empty once the demande is
    /// anonymised and its account unlinked.
    ///
    /// # Errors
    /// A store error; `NotFound` for an unknown demande.
    pub async fn current_contact(
        &self,
        demande: guichet_core::id::DemandeId,
    ) -> crate::error::Result<Contact> {
        let stored = self.demande(demande).await?;
        let reference = &stored.demande.demarche;
        let definition = self
            .demarche_version(&reference.slug, reference.version)
            .await?
            .definition;
        let account = match stored.demande.usager {
            Some(id) => Some(self.user(id).await?),
            None => None,
        };
        Ok(contact_of(&definition, &stored.demande, account.as_ref()))
    }
}

/// Removes from a finished job's payload the captured contact and the
/// parameters that may quote people; returns whether anything was removed.
pub(crate) fn strip(payload: &mut serde_json::Value) -> bool {
    let Some(object) = payload.as_object_mut() else {
        return false;
    };
    let mut changed = object.remove(CONTACT_KEY).is_some();
    if let Some(params) = object.get_mut("params").and_then(|p| p.as_object_mut()) {
        let before = params.len();
        params.retain(|key, _| KEPT_PARAMS.contains(&key.as_str()));
        changed |= params.len() != before;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finished_payloads_lose_the_contact_and_free_texts() {
        let mut payload = json!({
            "template": "refusee_usager",
            "contact": { "email": "a@b.test", "phone": "06 12 34 56 78" },
            "params": { "numero": "ARV-2026-000001", "motif": "Facture illisible de M. X" }
        });
        assert!(strip(&mut payload));
        assert_eq!(
            payload,
            json!({ "template": "refusee_usager", "params": { "numero": "ARV-2026-000001" } })
        );
        assert!(!strip(&mut payload), "nothing left to strip");
    }
}
