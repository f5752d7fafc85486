//! Pure mapping between Guichet demandes and Espace famille's JSON.

use guichet_sdk::{
    Card, CardEntry, CardSection, Demande, Error, LookupItem, RemoteComment, RemoteStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// JSON Schema of an Espace famille instance's configuration.
pub fn config_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Connecteur Espace famille",
        "type": "object",
        "required": ["base_url", "token"],
        "additionalProperties": false,
        "properties": {
            "base_url": { "type": "string", "format": "uri", "title": "URL de l'API Espace famille" },
            "token": { "type": "string", "minLength": 1, "title": "Jeton d'accès (Bearer)", "x-secret": true },
            "fields": {
                "type": "object",
                "title": "Identifiants des champs de la démarche",
                "additionalProperties": false,
                "properties": {
                    "family": { "type": "string", "default": "famille" },
                    "child": { "type": "string", "default": "enfant" },
                    "activity": { "type": "string", "default": "activite" },
                    "start_date": { "type": "string", "default": "date_debut" },
                    "days": { "type": "string", "default": "jours" },
                    "comment": { "type": "string", "default": "commentaire" }
                }
            }
        }
    })
}

/// Which demande fields hold what.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct FieldIds {
    /// The family id (from the `family-link` source).
    pub family: String,
    /// The child (choice from `children`).
    pub child: String,
    /// The activity (choice from `activities`).
    pub activity: String,
    /// First day.
    pub start_date: String,
    /// Days of the week (multiple choice).
    pub days: String,
    /// Free comment for the service.
    pub comment: String,
}

impl Default for FieldIds {
    fn default() -> Self {
        Self {
            family: "famille".into(),
            child: "enfant".into(),
            activity: "activite".into(),
            start_date: "date_debut".into(),
            days: "jours".into(),
            comment: "commentaire".into(),
        }
    }
}

/// The body of `POST /api/inscriptions`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewRegistration {
    /// Family id.
    pub id_famille: String,
    /// Child id.
    pub id_enfant: String,
    /// Activity id.
    pub id_activite: String,
    /// First day, `YYYY-MM-DD`.
    pub date_debut: String,
    /// Days (`lundi`…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jours: Vec<String>,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commentaire: Option<String>,
}

/// Builds the registration for a demande.
///
/// # Errors
/// [`Error::InvalidInput`] when the family, child, activity or start date is missing.
pub fn registration(demande: &Demande, fields: &FieldIds) -> Result<NewRegistration, Error> {
    let value_of = |id: &str| -> Option<String> {
        demande
            .choice(id)
            .map(|c| c.value.clone())
            .or_else(|| demande.text(id).map(str::to_string))
    };
    let required = |id: &str, what: &str| {
        value_of(id).ok_or_else(|| Error::InvalidInput(format!("{what} manquant (champ « {id} »)")))
    };
    Ok(NewRegistration {
        id_famille: required(&fields.family, "dossier famille")?,
        id_enfant: required(&fields.child, "enfant")?,
        id_activite: required(&fields.activity, "activité")?,
        date_debut: demande
            .date(&fields.start_date)
            .map(str::to_string)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "date de début manquante (champ « {} »)",
                    fields.start_date
                ))
            })?,
        jours: demande
            .choices(&fields.days)
            .iter()
            .map(|c| c.value.to_lowercase())
            .collect(),
        commentaire: demande.text(&fields.comment).map(str::to_string),
    })
}

/// A registration as Espace famille returns it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Registration {
    /// Id.
    pub id: String,
    /// Number.
    pub numero: String,
    /// Family.
    pub id_famille: String,
    /// Child.
    pub id_enfant: String,
    /// Activity.
    pub id_activite: String,
    /// First day.
    pub date_debut: String,
    /// Days.
    pub jours: Vec<String>,
    /// Status.
    pub statut: Status,
    /// Comments of the service.
    pub commentaires: Vec<Comment>,
}

/// Status of a registration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    /// Code.
    pub code: String,
    /// Label.
    pub libelle: String,
    /// Final.
    pub definitif: bool,
}

/// A comment on a registration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Comment {
    /// Date.
    pub date: Option<String>,
    /// Author.
    pub auteur: Option<String>,
    /// Text.
    pub texte: String,
}

/// A family record.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Family {
    /// Family id.
    pub id_famille: String,
    /// Label.
    pub libelle: String,
    /// Legal representatives.
    pub responsables: Vec<Person>,
    /// Children.
    pub enfants: Vec<Child>,
}

/// A legal representative.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Person {
    /// Id.
    pub id: String,
    /// Nom.
    pub nom: String,
    /// Prénom.
    pub prenom: String,
    /// Email.
    pub email: Option<String>,
    /// Téléphone.
    pub telephone: Option<String>,
}

/// A child.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Child {
    /// Id.
    pub id: String,
    /// Nom.
    pub nom: String,
    /// Prénom.
    pub prenom: String,
    /// Birth date.
    pub date_naissance: String,
    /// School.
    pub ecole: Option<String>,
    /// Class.
    pub classe: Option<String>,
}

/// An activity of the catalogue.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Activity {
    /// Id.
    pub id: String,
    /// Label.
    pub libelle: String,
    /// `cantine`, `periscolaire` or `centre_de_loisirs`.
    pub categorie: String,
    /// Youngest age.
    pub age_min: Option<u32>,
    /// Oldest age.
    pub age_max: Option<u32>,
    /// Price text.
    pub tarif: Option<String>,
}

/// The status of a registration.
pub fn remote_status(r: &Registration) -> RemoteStatus {
    RemoteStatus {
        code: r.statut.code.clone(),
        label: r.statut.libelle.clone(),
        is_final: r.statut.definitif,
        comments: r
            .commentaires
            .iter()
            .map(|c| RemoteComment {
                author: c.auteur.clone(),
                at: c.date.clone(),
                text: c.texte.clone(),
            })
            .collect(),
    }
}

/// A child as a lookup item.
pub fn child_item(child: &Child) -> LookupItem {
    LookupItem {
        id: child.id.clone(),
        text: format!("{} {}", child.prenom, child.nom),
        extra: serde_json::to_string(child).ok(),
    }
}

/// An activity as a lookup item.
pub fn activity_item(activity: &Activity) -> LookupItem {
    LookupItem {
        id: activity.id.clone(),
        text: activity.libelle.clone(),
        extra: serde_json::to_string(activity).ok(),
    }
}

/// The card: the family and the registration.
pub fn card(r: &Registration, family: Option<&Family>, activity: Option<&Activity>) -> Card {
    let child = family.and_then(|f| f.enfants.iter().find(|c| c.id == r.id_enfant));
    let mut family_entries = vec![entry("Code famille", &r.id_famille)];
    if let Some(family) = family {
        family_entries.insert(0, entry("Famille", &family.libelle));
        for person in &family.responsables {
            let mut text = format!("{} {}", person.prenom, person.nom);
            if let Some(phone) = &person.telephone {
                text.push_str(&format!(" — {phone}"));
            }
            family_entries.push(entry("Responsable légal", &text));
        }
    }
    let mut registration = vec![
        entry("Numéro", &r.numero),
        entry("Statut", &r.statut.libelle),
        entry(
            "Enfant",
            &child
                .map(|c| format!("{} {} (né·e le {})", c.prenom, c.nom, c.date_naissance))
                .unwrap_or_else(|| r.id_enfant.clone()),
        ),
        entry(
            "Activité",
            &activity
                .map(|a| a.libelle.clone())
                .unwrap_or_else(|| r.id_activite.clone()),
        ),
        entry("Début", &r.date_debut),
    ];
    if !r.jours.is_empty() {
        registration.push(entry("Jours", &r.jours.join(", ")));
    }
    let mut sections = vec![
        CardSection {
            title: "Famille".into(),
            entries: family_entries,
        },
        CardSection {
            title: "Inscription".into(),
            entries: registration,
        },
    ];
    if !r.commentaires.is_empty() {
        sections.push(CardSection {
            title: "Commentaires du service".into(),
            entries: r
                .commentaires
                .iter()
                .map(|c| entry(c.auteur.as_deref().unwrap_or("Service"), &c.texte))
                .collect(),
        });
    }
    Card {
        title: format!("Espace famille — {}", r.numero),
        sections,
        link: None,
    }
}

fn entry(label: &str, value: &str) -> CardEntry {
    CardEntry {
        label: label.into(),
        value: value.into(),
    }
}
