//! A works request (demande d'intervention) as ATAL v6 stores and returns
//! it, the body that creates one, and its validation.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::ApiError, referential::Referential, referential::ThirdPartyKind};

/// Who reported the problem. Every field is optional, as in ATAL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Contact {
    /// Prénom.
    pub first_name: Option<String>,
    /// Nom.
    pub last_name: Option<String>,
    /// Adresse électronique.
    pub email: Option<String>,
    /// Téléphone fixe.
    pub phone: Option<String>,
    /// Téléphone mobile.
    pub mobile: Option<String>,
    /// Adresse postale, première ligne.
    pub address1: Option<String>,
    /// Code postal.
    pub zip_code: Option<String>,
    /// Commune.
    pub city: Option<String>,
}

/// Where a works request stands in ATAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateCode {
    /// Reçue: just filed.
    Received,
    /// En cours de traitement.
    InProgress,
    /// Terminée (final).
    Done,
    /// Refusée (final).
    Rejected,
}

impl StateCode {
    /// The French label ATAL shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "Reçue",
            Self::InProgress => "En cours de traitement",
            Self::Done => "Terminée",
            Self::Rejected => "Refusée",
        }
    }

    /// Whether the request will not move any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Rejected)
    }
}

/// `RequestState` as returned: the code and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestState {
    /// The code.
    pub code: StateCode,
    /// The French label.
    pub label: &'static str,
}

impl From<StateCode> for RequestState {
    fn from(code: StateCode) -> Self {
        Self {
            code,
            label: code.label(),
        }
    }
}

/// A file attached to a works request. The simulator keeps its metadata,
/// not its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    /// The attachment's id.
    pub id: Uuid,
    /// The file name sent in the multipart part.
    pub file_name: String,
    /// The content type sent in the multipart part.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
}

/// A response written by an ATAL agent to the requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AgentResponse {
    /// The response's id.
    pub id: Uuid,
    /// When it was written.
    pub date: DateTime<Utc>,
    /// The agent or team who wrote it.
    pub author: String,
    /// The text.
    pub text: String,
}

/// A response to add, as tests and `POST /_sim/WorksRequests/{id}/state` give it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewResponse {
    /// The agent or team.
    pub author: String,
    /// The text.
    pub text: String,
}

impl NewResponse {
    /// A response by `author`.
    pub fn new(author: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            author: author.into(),
            text: text.into(),
        }
    }
}

/// A works request as stored; `GET /api/WorksRequests/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WorksRequest {
    /// ATAL's id.
    pub id: Uuid,
    /// The number shown to people, `DI-<year>-<6 digits>`.
    pub request_number: String,
    /// Short title.
    pub object: String,
    /// Free-text description.
    pub description: Option<String>,
    /// The thematic id.
    pub request_type: String,
    /// Free-text address of the problem.
    pub localization: Option<String>,
    /// WGS 84 latitude.
    pub latitude: Option<f64>,
    /// WGS 84 longitude.
    pub longitude: Option<f64>,
    /// Who reported it.
    pub contact: Contact,
    /// Third party filing the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    /// Technical team expected to act.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    /// Requesting department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requesting_department_id: Option<String>,
    /// Date wished by the requester, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_date: Option<String>,
    /// When ATAL received it.
    pub creation_date: DateTime<Utc>,
    /// Where it stands.
    pub request_state: RequestState,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Agents' responses, only returned with `$expand=Responses`.
    pub responses: Vec<AgentResponse>,
}

impl WorksRequest {
    /// The JSON ATAL returns, with `Responses` only when expanded.
    pub fn to_json(&self, with_responses: bool) -> serde_json::Value {
        let mut json = serde_json::to_value(self).unwrap_or_default();
        if !with_responses && let Some(fields) = json.as_object_mut() {
            fields.remove("Responses");
        }
        json
    }
}

/// The body of `POST /api/WorksRequests`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NewWorksRequest {
    /// Who reports the problem.
    pub contact: Contact,
    /// Short title (required).
    pub object: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// A thematic id (required).
    pub request_type: Option<String>,
    /// Free-text address.
    pub localization: Option<String>,
    /// Latitude in [-90, 90], given with the longitude.
    pub latitude: Option<f64>,
    /// Longitude in [-180, 180], given with the latitude.
    pub longitude: Option<f64>,
    /// A third party of any kind.
    pub requester_id: Option<String>,
    /// A recipient service (type 1).
    pub recipient_id: Option<String>,
    /// A requesting service (type 2).
    pub requesting_department_id: Option<String>,
    /// `YYYY-MM-DD` or an RFC 3339 date-time.
    pub desired_date: Option<String>,
}

impl NewWorksRequest {
    /// Checks the body against ATAL's rules and its reference data, then
    /// builds the record.
    ///
    /// # Errors
    /// 400 listing every problem found.
    pub fn into_works_request(
        self,
        referential: &Referential,
        request_number: String,
        now: DateTime<Utc>,
    ) -> Result<WorksRequest, ApiError> {
        let problems = self.problems(referential);
        if !problems.is_empty() {
            return Err(ApiError::bad_request("validation", problems.join(" ; ")));
        }
        let (Some(object), Some(request_type)) = (self.object, self.request_type) else {
            return Err(ApiError::bad_request(
                "validation",
                "Les champs Object et RequestType sont obligatoires",
            ));
        };
        Ok(WorksRequest {
            id: Uuid::new_v4(),
            request_number,
            object: object.trim().to_owned(),
            description: self.description,
            request_type,
            localization: self.localization,
            latitude: self.latitude,
            longitude: self.longitude,
            contact: self.contact,
            requester_id: self.requester_id,
            recipient_id: self.recipient_id,
            requesting_department_id: self.requesting_department_id,
            desired_date: self.desired_date,
            creation_date: now,
            request_state: StateCode::Received.into(),
            attachments: Vec::new(),
            responses: Vec::new(),
        })
    }

    fn problems(&self, referential: &Referential) -> Vec<String> {
        let mut problems = Vec::new();
        if self
            .object
            .as_deref()
            .is_none_or(|object| object.trim().is_empty())
        {
            problems.push("Le champ Object est obligatoire".to_owned());
        }
        match self.request_type.as_deref() {
            None | Some("") => problems.push("Le champ RequestType est obligatoire".to_owned()),
            Some(id) if !referential.has_thematic(id) => problems.push(format!(
                "RequestType « {id} » inconnu (voir GET /api/Thematics)"
            )),
            Some(_) => {}
        }
        match (self.latitude, self.longitude) {
            (Some(_), None) | (None, Some(_)) => {
                problems.push("Latitude et Longitude doivent être fournies ensemble".to_owned());
            }
            _ => {}
        }
        if let Some(latitude) = self.latitude
            && !(-90.0..=90.0).contains(&latitude)
        {
            problems.push(format!("Latitude hors limites (-90 à 90) : {latitude}"));
        }
        if let Some(longitude) = self.longitude
            && !(-180.0..=180.0).contains(&longitude)
        {
            problems.push(format!("Longitude hors limites (-180 à 180) : {longitude}"));
        }
        let references = [
            ("RequesterId", &self.requester_id, None),
            (
                "RecipientId",
                &self.recipient_id,
                Some(ThirdPartyKind::Recipient),
            ),
            (
                "RequestingDepartmentId",
                &self.requesting_department_id,
                Some(ThirdPartyKind::Requesting),
            ),
        ];
        for (field, id, expected) in references {
            let Some(id) = id.as_deref() else { continue };
            match (referential.third_party(id), expected) {
                (None, _) => problems.push(format!(
                    "{field} « {id} » inconnu (voir GET /api/ThirdParties)"
                )),
                (Some(party), Some(kind)) if party.kind != kind => problems.push(format!(
                    "{field} « {id} » n'est pas un service de type {}",
                    kind.code()
                )),
                _ => {}
            }
        }
        if let Some(date) = self.desired_date.as_deref()
            && NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err()
            && DateTime::parse_from_rfc3339(date).is_err()
        {
            problems.push(format!(
                "DesiredDate invalide (AAAA-MM-JJ attendu) : « {date} »"
            ));
        }
        problems
    }
}
