//! Pure mapping between Guichet demandes and ATAL's JSON, with no I/O, so it is
//! tested natively and measured against its WebAssembly build.

use guichet_sdk::{Card, CardEntry, CardSection, Demande, Error, RemoteComment, RemoteStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// JSON Schema of an ATAL instance's configuration.
pub fn config_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Connecteur ATAL",
        "type": "object",
        "required": ["base_url", "api_key"],
        "additionalProperties": false,
        "properties": {
            "base_url": { "type": "string", "format": "uri", "title": "URL de l'API ATAL", "examples": ["https://ville.atal.example"] },
            "api_key": { "type": "string", "minLength": 1, "title": "Clé d'API (en-tête X-API-Key)", "x-secret": true },
            "app_url": { "type": "string", "format": "uri", "title": "URL de l'application ATAL, pour le lien depuis la fiche" },
            "requester_id": { "type": "string", "title": "Identifiant ATAL du demandeur (RequesterId)" },
            "recipient_id": { "type": "string", "title": "Service destinataire par défaut (RecipientId)" },
            "requesting_department_id": { "type": "string", "title": "Service demandeur par défaut (RequestingDepartmentId)" },
            "request_types": {
                "type": "object",
                "title": "Correspondance valeur du champ catégorie → type de demande ATAL (si la liste n'est pas alimentée par ATAL)",
                "additionalProperties": { "type": "string" }
            },
            "fields": {
                "type": "object",
                "title": "Identifiants des champs de la démarche",
                "additionalProperties": false,
                "properties": {
                    "object": { "type": "string", "default": "objet" },
                    "description": { "type": "string", "default": "description" },
                    "category": { "type": "string", "default": "categorie" },
                    "address": { "type": "string", "default": "adresse" },
                    "photos": { "type": "string", "default": "photos" },
                    "requesting_department": { "type": "string", "default": "service_demandeur" }
                }
            }
        }
    })
}

/// Which demande fields hold what (configurable per instance).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct FieldIds {
    /// Short object of the signalement.
    pub object: String,
    /// Free description.
    pub description: String,
    /// Category (choice, value = ATAL request type or a key of `request_types`).
    pub category: String,
    /// Address with geolocation.
    pub address: String,
    /// Photos (files).
    pub photos: String,
    /// Optional choice of requesting department.
    pub requesting_department: String,
}

impl Default for FieldIds {
    fn default() -> Self {
        Self {
            object: "objet".into(),
            description: "description".into(),
            category: "categorie".into(),
            address: "adresse".into(),
            photos: "photos".into(),
            requesting_department: "service_demandeur".into(),
        }
    }
}

/// Instance settings the mapping needs.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Field ids.
    pub fields: FieldIds,
    /// Category value → ATAL request type.
    pub request_types: std::collections::BTreeMap<String, String>,
    /// Default RequesterId.
    pub requester_id: Option<String>,
    /// Default RecipientId.
    pub recipient_id: Option<String>,
    /// Default RequestingDepartmentId.
    pub requesting_department_id: Option<String>,
}

/// The contact block of a work request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contact {
    /// Prénom.
    pub first_name: String,
    /// Nom.
    pub last_name: String,
    /// Email.
    pub email: Option<String>,
    /// Landline.
    pub phone: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// Street line.
    pub address1: Option<String>,
    /// Postcode.
    pub zip_code: Option<String>,
    /// Commune.
    pub city: Option<String>,
}

/// The body of `POST /api/WorksRequests`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorksRequest {
    /// Requester.
    pub contact: Contact,
    /// Object.
    pub object: String,
    /// Description.
    pub description: String,
    /// ATAL request type (thematic id).
    pub request_type: String,
    /// Address as text.
    pub localization: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Requester id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    /// Recipient service id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    /// Requesting department id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requesting_department_id: Option<String>,
}

/// Builds the work request for a demande.
///
/// # Errors
/// [`Error::InvalidInput`] when the category is missing or has no ATAL request
/// type, or when there is neither an object nor a category label.
pub fn works_request(demande: &Demande, settings: &Settings) -> Result<WorksRequest, Error> {
    let fields = &settings.fields;
    let category = demande.require_choice(&fields.category)?;
    let request_type = settings
        .request_types
        .get(&category.value)
        .cloned()
        .unwrap_or_else(|| category.value.clone());
    if request_type.trim().is_empty() {
        return Err(Error::InvalidInput(format!(
            "la catégorie « {} » n'a pas de type de demande ATAL",
            category.label
        )));
    }
    let object = demande
        .text(&fields.object)
        .map(str::to_string)
        .unwrap_or_else(|| category.label.clone());
    let description = demande
        .text(&fields.description)
        .unwrap_or_default()
        .to_string();
    let address = demande.address(&fields.address);
    let usager = &demande.usager;
    let home = usager.address.as_ref();
    let contact = Contact {
        first_name: usager.first_name.clone(),
        last_name: usager.last_name.clone(),
        email: usager.email.clone(),
        phone: usager.phone.clone(),
        mobile: usager.mobile.clone(),
        address1: home.and_then(|a| a.street.clone().or_else(|| Some(a.label.clone()))),
        zip_code: home.and_then(|a| a.postcode.clone()),
        city: home.and_then(|a| a.city.clone()),
    };
    let requesting_department_id = demande
        .choice(&fields.requesting_department)
        .map(|c| c.value.clone())
        .or_else(|| settings.requesting_department_id.clone());
    Ok(WorksRequest {
        contact,
        object: truncate(&object, 255),
        description: format!("{description}\n\nDemande Guichet n° {}", demande.numero)
            .trim()
            .to_string(),
        request_type,
        localization: address.map(|a| a.label.clone()),
        latitude: address.and_then(|a| a.latitude),
        longitude: address.and_then(|a| a.longitude),
        requester_id: settings.requester_id.clone(),
        recipient_id: settings.recipient_id.clone(),
        requesting_department_id,
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// What `GET /api/WorksRequests/{id}?$expand=Responses` returns (what we read of it).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RemoteRequest {
    /// UUID.
    pub id: String,
    /// Number shown to people.
    pub request_number: Option<String>,
    /// Object.
    pub object: Option<String>,
    /// Request type id.
    pub request_type: Option<String>,
    /// Address.
    pub localization: Option<String>,
    /// Creation date.
    pub creation_date: Option<String>,
    /// State.
    pub request_state: Option<RequestState>,
    /// Attachments.
    pub attachments: Vec<RemoteAttachment>,
    /// Responses of the technical services.
    pub responses: Vec<Response>,
}

/// State of a work request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RequestState {
    /// Code, e.g. `IN_PROGRESS`.
    pub code: String,
    /// French label.
    pub label: String,
}

/// An attachment of a work request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RemoteAttachment {
    /// Id.
    pub id: String,
    /// File name.
    pub file_name: String,
    /// Size.
    pub size: u64,
}

/// A response from the technical services.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Response {
    /// Date.
    pub date: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Text.
    pub text: String,
}

/// States after which ATAL will not change a request.
const FINAL_STATES: [&str; 2] = ["DONE", "REJECTED"];

/// The remote status of a work request.
pub fn remote_status(request: &RemoteRequest) -> RemoteStatus {
    let state = request.request_state.clone().unwrap_or_default();
    RemoteStatus {
        is_final: FINAL_STATES.contains(&state.code.as_str()),
        code: state.code,
        label: state.label,
        comments: request
            .responses
            .iter()
            .map(|r| RemoteComment {
                author: r.author.clone(),
                at: r.date.clone(),
                text: r.text.clone(),
            })
            .collect(),
    }
}

/// The card an agent sees on the demande.
pub fn card(request: &RemoteRequest, app_url: Option<&str>) -> Card {
    let number = request
        .request_number
        .clone()
        .unwrap_or_else(|| request.id.clone());
    let state = request.request_state.clone().unwrap_or_default();
    let mut entries = vec![entry("Numéro ATAL", &number), entry("État", &state.label)];
    if let Some(object) = &request.object {
        entries.push(entry("Objet", object));
    }
    if let Some(place) = &request.localization {
        entries.push(entry("Localisation", place));
    }
    if let Some(date) = &request.creation_date {
        entries.push(entry("Créée le", date));
    }
    entries.push(entry(
        "Pièces jointes",
        &request.attachments.len().to_string(),
    ));
    let responses = if request.responses.is_empty() {
        vec![entry("Réponses", "Aucune réponse pour le moment")]
    } else {
        request
            .responses
            .iter()
            .map(|r| {
                let label = match (&r.date, &r.author) {
                    (Some(d), Some(a)) => format!("{d} — {a}"),
                    (Some(d), None) => d.clone(),
                    (None, Some(a)) => a.clone(),
                    (None, None) => "Réponse".into(),
                };
                entry(&label, &r.text)
            })
            .collect()
    };
    Card {
        title: format!("ATAL — {number}"),
        sections: vec![
            CardSection {
                title: "Demande d'intervention".into(),
                entries,
            },
            CardSection {
                title: "Réponses des services techniques".into(),
                entries: responses,
            },
        ],
        link: app_url
            .map(|base| guichet_sdk::http::join(base, &format!("WorksRequests/{}", request.id))),
    }
}

fn entry(label: &str, value: &str) -> CardEntry {
    CardEntry {
        label: label.into(),
        value: value.into(),
    }
}
