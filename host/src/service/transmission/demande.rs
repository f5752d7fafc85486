//! The demande as a connector receives it ([`connector_demande`]) and
//! the files it may read ([`DemandeFiles`]).

use guichet_core::demande::Demande;
use guichet_core::demarche::Definition;
use guichet_core::id::{DemandeId, FileId};
use guichet_core::profile::ProfileField;
use guichet_core::validation::visibility;
use guichet_core::value::Value;
use guichet_store::Store;
use guichet_store::file::FileOwner;

use crate::connectors::host::{AttachmentFuture, AttachmentSource};
use crate::connectors::model;

/// The files of one demande, read from the file storage when the
/// connector asks (the runtime lets it ask only for the demande's own).
pub(super) struct DemandeFiles {
    pub(super) store: Store,
    pub(super) demande: DemandeId,
}

impl AttachmentSource for DemandeFiles {
    fn read<'a>(&'a self, id: &'a str) -> AttachmentFuture<'a> {
        Box::pin(async move {
            let unknown = || format!("pièce jointe inconnue : {id}");
            let file_id = FileId::parse(id).map_err(|_| unknown())?;
            let file = self.store.file(file_id).await.map_err(|_| unknown())?;
            if file.owner != FileOwner::Demande(self.demande) {
                return Err(unknown());
            }
            self.store
                .file_content(file_id)
                .await
                .map_err(|e| format!("lecture de la pièce jointe {id} : {e}"))
        })
    }
}

/// The demande as connectors receive it: the answers of the questions
/// shown (hidden ones absent, agent-only ones included), typed, choices
/// with their labels (static, or kept from the data source at filing),
/// and the usager's identity from the answers prefilled from the profile.
pub fn connector_demande(definition: &Definition, demande: &Demande) -> model::Demande {
    let shown = visibility(definition, &demande.answers);
    let mut identity = model::Identity::default();
    let mut fields = Vec::new();
    for field in definition.fields() {
        if !field.has_value() || !shown.shows(&field.id) {
            continue;
        }
        let Some(value) = demande.answers.get(&field.id) else {
            continue;
        };
        if value.is_empty() && !matches!(value, Value::Checkbox(_)) {
            continue;
        }
        let label = |chosen: &str| -> model::Choice {
            let listed = match field.kind.choice_list() {
                Some((_, Some(_))) => demande
                    .source_choices
                    .get(&field.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                Some((choices, None)) => choices,
                None => &[],
            };
            model::Choice {
                value: chosen.to_owned(),
                label: listed
                    .iter()
                    .find(|c| c.value == chosen)
                    .map_or_else(|| chosen.to_owned(), |c| c.label.clone()),
            }
        };
        let typed = match value {
            Value::Text(text) => model::FieldValue::Text(text.clone()),
            Value::Number(n) => model::FieldValue::Number(*n),
            Value::Date(date) => model::FieldValue::Date(date.format("%Y-%m-%d").to_string()),
            Value::Choice(chosen) => model::FieldValue::Choice(label(chosen)),
            Value::Choices(chosen) => {
                model::FieldValue::Choices(chosen.iter().map(|c| label(c)).collect())
            }
            Value::Checkbox(ticked) => model::FieldValue::Boolean(*ticked),
            Value::Files(files) => model::FieldValue::Files(
                files
                    .iter()
                    .map(|file| model::AttachmentRef {
                        id: file.id.to_string(),
                        filename: file.name.clone(),
                        media_type: file.media_type.mime().to_owned(),
                        size: file.size,
                    })
                    .collect(),
            ),
            Value::Address(address) => model::FieldValue::Address(model::Address {
                label: address.one_line(),
                street: Some(address.street.clone()),
                postcode: Some(address.postcode.clone()),
                city: Some(address.city.clone()),
                latitude: address.latitude,
                longitude: address.longitude,
            }),
        };
        if let Some(prefill) = field.prefill {
            fill_identity(&mut identity, prefill, &typed);
        }
        fields.push(model::Field {
            id: field.id.to_string(),
            label: field.label.clone(),
            value: typed,
        });
    }
    model::Demande {
        id: demande.id.to_string(),
        numero: demande.numero.clone(),
        demarche: demande.demarche.slug.to_string(),
        demarche_version: demande.demarche.version,
        submitted_at: demande.dates.submitted_at.to_rfc3339(),
        usager: identity,
        fields,
    }
}

/// Sets the part of the identity a field prefilled from the profile holds.
fn fill_identity(identity: &mut model::Identity, prefill: ProfileField, value: &model::FieldValue) {
    match (prefill, value) {
        (ProfileField::FirstName, model::FieldValue::Text(text)) => {
            identity.first_name = text.clone()
        }
        (ProfileField::LastName, model::FieldValue::Text(text)) => {
            identity.last_name = text.clone()
        }
        (ProfileField::Email, model::FieldValue::Text(text)) => identity.email = Some(text.clone()),
        (ProfileField::Phone, model::FieldValue::Text(text)) => {
            // What can receive an SMS is filed as a mobile: one rule for
            // the SMS gateway and the vendors (`guichet_core::phone`).
            if matches!(guichet_core::phone::mobile_e164(text), Ok(Some(_))) {
                identity.mobile = Some(text.clone());
            } else {
                identity.phone = Some(text.clone());
            }
        }
        (ProfileField::Address, model::FieldValue::Address(address)) => {
            identity.address = Some(address.clone())
        }
        (ProfileField::BirthDate, model::FieldValue::Date(date)) => {
            identity.birth_date = Some(date.clone())
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(phone: &str) -> model::Identity {
        let mut identity = model::Identity::default();
        fill_identity(
            &mut identity,
            ProfileField::Phone,
            &model::FieldValue::Text(phone.to_owned()),
        );
        identity
    }

    #[test]
    fn a_number_that_receives_sms_is_filed_as_a_mobile() {
        // Saint-Pierre-et-Miquelon's 20 block serves mobiles and fixed
        // lines alike: the SMS gateway texts it, so the vendor gets it as
        // a mobile too.
        for number in ["+33612345678", "+262692123456", "+508201234"] {
            let identity = filed(number);
            assert_eq!(
                (identity.mobile.as_deref(), identity.phone.as_deref()),
                (Some(number), None),
                "{number}"
            );
        }
        let landline = filed("+33142685300");
        assert_eq!(
            (landline.mobile, landline.phone.as_deref()),
            (None, Some("+33142685300"))
        );
    }
}
