//! Notifications as data: which message goes to whom, by which channel.
//!
//! The workflow never sends anything: a transition yields
//! [`NotificationJob`]s that the store writes in the same transaction as the
//! state change, and the delivery worker renders and sends them later. A job
//! names a *template key* (`refusee_usager`); the text comes from the
//! démarche definition (`notifications:`) or from the French defaults here,
//! with `{placeholders}`:
//!
//! | placeholder | value | filled by |
//! |---|---|---|
//! | `{numero}` | the demande's number | the engine |
//! | `{motif}` | refusal justification | the engine |
//! | `{type_refus}` | Refusée / Annulée / Absence de réponse usager | the engine |
//! | `{commentaire}` | closing comment | the engine |
//! | `{jours}` | days since *en cours d'analyse* (reminders) | the engine |
//! | `{echeance}` | the processing deadline, `JJ/MM/AAAA` | the engine |
//! | `{service}` | the service concerned (transfer, joint processing) | the engine |
//! | `{demarche}` | the démarche's title | the renderer |
//! | `{lien_suivi}` | link to the demande on the usager portal | the renderer |
//! | `{lien_enquete}` | link to the satisfaction survey | the renderer |
//!
//! Free texts of exchanges are never copied into mails: the usager reads them
//! on the portal, where they are protected by the login.

use std::collections::BTreeMap;

use crate::id::DemandeId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::role::GroupName;

/// Every placeholder a text may use.
pub const PLACEHOLDERS: [&str; 10] = [
    "numero",
    "motif",
    "type_refus",
    "commentaire",
    "jours",
    "echeance",
    "service",
    "demarche",
    "lien_suivi",
    "lien_enquete",
];

/// The text of one notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageText {
    /// Mail subject.
    pub subject: String,
    /// Mail body.
    pub body: String,
    /// SMS text (at most 160 characters once rendered is best); the subject
    /// is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<String>,
}

/// How a notification is delivered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Mail,
    /// SMS.
    Sms,
}

/// Who receives a notification, as written in a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// The usager of the demande.
    Usager,
    /// The primary processing service's mailbox.
    Service,
    /// Every service of the demande (primary and joint).
    Services,
    /// The service named in the action's `service` input (transfer, joint
    /// processing, *relance service*).
    TargetService,
    /// The manager of the primary service (escalation).
    Manager,
}

/// Who receives a notification, resolved for one demande.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The usager of the demande (account, or the contact given in the form).
    Usager,
    /// A service's mailbox.
    Service(GroupName),
    /// The manager of a service.
    Manager(GroupName),
}

/// One notification to deliver, written as a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationJob {
    /// The demande concerned.
    pub demande: DemandeId,
    /// What caused it: a transition id, or `depot` for the submission.
    pub event: String,
    /// The text's template key (`refusee_usager`).
    pub template: String,
    /// Mail or SMS.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// Placeholder values known when the job was made.
    pub params: BTreeMap<String, String>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject (empty for an SMS).
    pub subject: String,
    /// Body, or the SMS text.
    pub body: String,
}

/// Renders a text for a channel, replacing `{placeholders}` with `params`.
/// Unknown or missing placeholders are left as they are (definitions are
/// checked so that only known ones are used).
pub fn render(text: &MessageText, channel: Channel, params: &BTreeMap<String, String>) -> Rendered {
    match channel {
        Channel::Mail => Rendered {
            subject: fill(&text.subject, params),
            body: fill(&text.body, params),
        },
        Channel::Sms => Rendered {
            subject: String::new(),
            body: fill(text.sms.as_deref().unwrap_or(&text.subject), params),
        },
    }
}

/// Replaces the known `{placeholders}` of one text.
pub(crate) fn fill(template: &str, params: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if params.contains_key(&after[..close]) => {
                out.push_str(&params[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{names}` used in a text, in order.
pub fn placeholders_in(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

/// The default French text of a template key, if the key is known.
pub fn default_text(template: &str) -> Option<MessageText> {
    DEFAULT_TEXTS
        .iter()
        .find(|(key, ..)| *key == template)
        .map(|(_, subject, body, sms)| MessageText {
            subject: (*subject).to_owned(),
            body: (*body).to_owned(),
            sms: sms.map(str::to_owned),
        })
}

/// Every template key with a default text.
pub fn template_keys() -> impl Iterator<Item = &'static str> {
    DEFAULT_TEXTS.iter().map(|(key, ..)| *key)
}

type DefaultText = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

const DEFAULT_TEXTS: [DefaultText; 19] = [
    (
        "transmise_usager",
        "Votre demande {numero} a bien été transmise",
        "Bonjour,\n\nVotre demande « {demarche} » n° {numero} a bien été transmise au service concerné. Vous pouvez suivre son avancement en ligne : {lien_suivi}\n\nCordialement.",
        Some("Votre demande {numero} a bien été transmise. Suivi : {lien_suivi}"),
    ),
    (
        "transmise_service",
        "Nouvelle demande {numero} : {demarche}",
        "Bonjour,\n\nUne nouvelle demande « {demarche} » n° {numero} attend sa prise en compte dans le back office.",
        None,
    ),
    (
        "prise_en_compte_usager",
        "Votre demande {numero} est en cours d'analyse",
        "Bonjour,\n\nLe service a réceptionné votre demande « {demarche} » n° {numero}. Elle est en cours d'analyse. Suivi : {lien_suivi}\n\nCordialement.",
        Some("Votre demande {numero} a été réceptionnée et est en cours d'analyse."),
    ),
    (
        "acceptee_usager",
        "Votre demande {numero} a été acceptée",
        "Bonjour,\n\nVotre demande « {demarche} » n° {numero} a été acceptée. Suivi : {lien_suivi}\n\nCordialement.",
        None,
    ),
    (
        "refusee_usager",
        "Votre demande {numero} n'a pas pu aboutir",
        "Bonjour,\n\nVotre demande « {demarche} » n° {numero} n'a pas pu aboutir ({type_refus}).\n\nMotif : {motif}\n\nDonnez-nous votre avis : {lien_enquete}\n\nCordialement.",
        Some("Votre demande {numero} n'a pas pu aboutir. Consultez le motif : {lien_suivi}"),
    ),
    (
        "traitee_usager",
        "Votre demande {numero} a été traitée",
        "Bonjour,\n\nVotre demande « {demarche} » n° {numero} a été traitée.\n\n{commentaire}\n\nDonnez-nous votre avis : {lien_enquete}\n\nCordialement.",
        Some("Votre demande {numero} a été traitée. Détails : {lien_suivi}"),
    ),
    (
        "abandon_usager",
        "Vous avez abandonné votre demande {numero}",
        "Bonjour,\n\nNous confirmons l'abandon de votre demande « {demarche} » n° {numero}.\n\nDonnez-nous votre avis : {lien_enquete}\n\nCordialement.",
        None,
    ),
    (
        "abandon_service",
        "Demande {numero} abandonnée par l'usager",
        "Bonjour,\n\nL'usager a abandonné sa demande « {demarche} » n° {numero}. Aucune suite n'est à donner.",
        None,
    ),
    (
        "echange_usager",
        "Nouveau message sur votre demande {numero}",
        "Bonjour,\n\nLe service vous a écrit au sujet de votre demande « {demarche} » n° {numero}. Lisez le message et répondez en ligne : {lien_suivi}\n\nCordialement.",
        Some("Nouveau message sur votre demande {numero} : {lien_suivi}"),
    ),
    (
        "reponse_service",
        "Réponse de l'usager sur la demande {numero}",
        "Bonjour,\n\nL'usager a répondu au sujet de la demande « {demarche} » n° {numero}. La réponse est dans l'historique de la demande.",
        None,
    ),
    (
        "relance_agent",
        "Relance : demande {numero} en cours depuis {jours} jours",
        "Bonjour,\n\nLa demande « {demarche} » n° {numero} est en cours depuis {jours} jours. Échéance de traitement : {echeance}.",
        None,
    ),
    (
        "echeance_depassee",
        "Échéance dépassée : demande {numero}",
        "Bonjour,\n\nLa demande « {demarche} » n° {numero} a dépassé son échéance de traitement du {echeance}. Merci de la traiter au plus vite.",
        None,
    ),
    (
        "mise_en_attente_usager",
        "Votre demande {numero} est en attente",
        "Bonjour,\n\nLe traitement de votre demande « {demarche} » n° {numero} est mis en attente. Vous serez informé de sa reprise. Suivi : {lien_suivi}\n\nCordialement.",
        None,
    ),
    (
        "reprise_usager",
        "Le traitement de votre demande {numero} reprend",
        "Bonjour,\n\nLe traitement de votre demande « {demarche} » n° {numero} reprend. Suivi : {lien_suivi}\n\nCordialement.",
        None,
    ),
    (
        "transfert_service",
        "Demande {numero} transférée à votre service",
        "Bonjour,\n\nLa demande « {demarche} » n° {numero} a été transférée à votre service ({service}).",
        None,
    ),
    (
        "ajout_service",
        "Traitement conjoint de la demande {numero}",
        "Bonjour,\n\nVotre service ({service}) est associé au traitement de la demande « {demarche} » n° {numero}.",
        None,
    ),
    (
        "relance_service",
        "Relance au sujet de la demande {numero}",
        "Bonjour,\n\nLe service traitant vous sollicite au sujet de la demande « {demarche} » n° {numero}. Répondez dans le back office.",
        None,
    ),
    (
        "annulee_absence_reponse_usager",
        "Votre demande {numero} est annulée",
        "Bonjour,\n\nSans réponse de votre part, votre demande « {demarche} » n° {numero} a été annulée. Vous pouvez déposer une nouvelle demande.\n\nCordialement.",
        Some("Sans réponse de votre part, votre demande {numero} a été annulée."),
    ),
    (
        "anonymisation_usager",
        "Vos données de la demande {numero} ont été supprimées",
        "Bonjour,\n\nConformément au RGPD, les données personnelles et pièces jointes de votre demande « {demarche} » n° {numero} ont été supprimées.\n\nCordialement.",
        None,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn placeholders_are_replaced_and_unknown_ones_left() {
        let text = MessageText {
            subject: "Demande {numero}".into(),
            body: "{motif} {autre} {".into(),
            sms: None,
        };
        let rendered = render(
            &text,
            Channel::Mail,
            &params(&[("numero", "2026-000042"), ("motif", "Hors délai")]),
        );
        assert_eq!(rendered.subject, "Demande 2026-000042");
        assert_eq!(rendered.body, "Hors délai {autre} {");
    }

    #[test]
    fn an_sms_uses_its_own_text_or_the_subject() {
        let text = default_text("transmise_usager").unwrap();
        let rendered = render(
            &text,
            Channel::Sms,
            &params(&[("numero", "42"), ("lien_suivi", "https://x")]),
        );
        assert_eq!(
            rendered.body,
            "Votre demande 42 a bien été transmise. Suivi : https://x"
        );
        let text = default_text("acceptee_usager").unwrap();
        assert_eq!(
            render(&text, Channel::Sms, &params(&[("numero", "42")])).body,
            "Votre demande 42 a été acceptée"
        );
    }

    #[test]
    fn default_texts_use_only_known_placeholders() {
        for key in template_keys() {
            let text = default_text(key).unwrap();
            for used in [&text.subject, &text.body]
                .into_iter()
                .chain(text.sms.as_ref())
            {
                for name in placeholders_in(used) {
                    assert!(PLACEHOLDERS.contains(&name), "{key}: {{{name}}}");
                }
            }
        }
    }
}
