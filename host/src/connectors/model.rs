//! The host's own view of what crosses the connector boundary.
//!
//! These types mirror the latest WIT contract but belong to the host: they carry
//! serde (the JSON of the CLI, the API and the journal) and stay stable while
//! contract versions come and go. Each contract version's bindings module
//! converts to and from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod calls;
mod sms;
pub use calls::{RemoteIdInput, TransmitInput, schemas};
pub use sms::{SmsMessage, SmsReceipt};

/// One operation a connector may implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Describe the connector (always supported; not listed by connectors).
    Describe,
    /// Availability of the vendor application.
    Check,
    /// Send a demande.
    Transmit,
    /// Read a remote status.
    Status,
    /// Query a data source.
    Lookup,
    /// Build the agent's card.
    Card,
    /// Send an SMS (an SMS gateway's operation).
    SendSms,
}

impl Operation {
    /// The operation's name as used in the CLI, the API and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Describe => "describe",
            Operation::Check => "check",
            Operation::Transmit => "transmit",
            Operation::Status => "status",
            Operation::Lookup => "lookup",
            Operation::Card => "card",
            Operation::SendSms => "send_sms",
        }
    }

    /// Parses an operation name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Operation::Describe,
            Operation::Check,
            Operation::Transmit,
            Operation::Status,
            Operation::Lookup,
            Operation::Card,
            Operation::SendSms,
        ]
        .into_iter()
        .find(|op| op.as_str() == name)
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A data source served by `lookup`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DataSource {
    /// Stable name, e.g. `thematics`.
    pub name: String,
    /// French label.
    pub label: String,
    /// Parameters the source needs.
    #[serde(default)]
    pub params: Vec<String>,
}

/// What a connector says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Description {
    /// Machine name, e.g. `atal`.
    pub name: String,
    /// Semantic version of the build.
    pub version: String,
    /// Publisher.
    pub vendor: String,
    /// One French sentence.
    pub summary: String,
    /// Implemented operations.
    pub operations: Vec<Operation>,
    /// JSON Schema of the instance configuration (`x-secret` marks secrets).
    pub config_schema: serde_json::Value,
    /// Host patterns the connector needs (a hint for the allow-list).
    pub hosts: Vec<String>,
    /// Data sources served by `lookup`.
    pub data_sources: Vec<DataSource>,
    /// The WIT contract the component implements, e.g. `guichet:connector@0.1.0`.
    pub contract: String,
}

impl Description {
    /// Names of the configuration properties marked `"x-secret": true`.
    pub fn secret_keys(&self) -> Vec<String> {
        self.config_schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, schema)| {
                        schema.get("x-secret") == Some(&serde_json::Value::Bool(true))
                    })
                    .map(|(key, _)| key.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Result of an availability check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Availability {
    /// Whether the vendor answered as expected.
    pub available: bool,
    /// French explanation.
    pub message: String,
    /// Vendor application version.
    pub remote_version: Option<String>,
}

/// A postal address, optionally geolocated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorAddress")]
pub struct Address {
    /// One-line label.
    pub label: String,
    /// Number and street.
    #[serde(default)]
    pub street: Option<String>,
    /// Postcode.
    #[serde(default)]
    pub postcode: Option<String>,
    /// Commune.
    #[serde(default)]
    pub city: Option<String>,
    /// Latitude (WGS 84).
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude (WGS 84).
    #[serde(default)]
    pub longitude: Option<f64>,
}

/// A file attached to the demande, by reference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorAttachment")]
pub struct AttachmentRef {
    /// Opaque id.
    pub id: String,
    /// File name as uploaded.
    pub filename: String,
    /// Media type checked from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// One chosen option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorChoice")]
pub struct Choice {
    /// Stable value.
    pub value: String,
    /// Label.
    pub label: String,
}

/// The typed value of a field, as JSON `{"type": "text", "value": "…"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorFieldValue")]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Text, long text, email or phone.
    Text(String),
    /// A number.
    Number(f64),
    /// A checkbox.
    Boolean(bool),
    /// A date `YYYY-MM-DD`.
    Date(String),
    /// A single choice.
    Choice(Choice),
    /// A multiple choice.
    Choices(Vec<Choice>),
    /// An address.
    Address(Address),
    /// Files.
    Files(Vec<AttachmentRef>),
}

/// One field of a demande.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorField")]
pub struct Field {
    /// Field id.
    pub id: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Value.
    pub value: FieldValue,
}

/// The usager a demande is about.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorIdentity")]
pub struct Identity {
    /// Prénom.
    pub first_name: String,
    /// Nom.
    pub last_name: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Landline.
    #[serde(default)]
    pub phone: Option<String>,
    /// Mobile.
    #[serde(default)]
    pub mobile: Option<String>,
    /// Address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Birth date `YYYY-MM-DD`.
    #[serde(default)]
    pub birth_date: Option<String>,
}

/// A demande as connectors receive it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorDemande")]
pub struct Demande {
    /// Platform id.
    pub id: String,
    /// Displayed number.
    pub numero: String,
    /// Démarche slug.
    pub demarche: String,
    /// Démarche version.
    pub demarche_version: u32,
    /// Submission time, RFC 3339.
    pub submitted_at: String,
    /// The usager.
    pub usager: Identity,
    /// Field values, hidden fields absent.
    pub fields: Vec<Field>,
}

impl Demande {
    /// Ids of every attachment referenced by the demande.
    pub fn attachment_ids(&self) -> Vec<String> {
        self.fields
            .iter()
            .flat_map(|f| match &f.value {
                FieldValue::Files(files) => files.iter().map(|a| a.id.clone()).collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// What the vendor returned for a transmitted demande.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Receipt {
    /// Vendor id of the record.
    pub remote_id: String,
    /// Number to show people, if different.
    pub display_id: Option<String>,
}

/// A comment from the vendor's agents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RemoteComment {
    /// Author.
    pub author: Option<String>,
    /// Date.
    pub at: Option<String>,
    /// Text.
    pub text: String,
}

/// The status of a remote record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RemoteStatus {
    /// Vendor status code.
    pub code: String,
    /// French label.
    pub label: String,
    /// Whether the vendor will not change it any more.
    pub is_final: bool,
    /// Vendor agents' comments, oldest first.
    pub comments: Vec<RemoteComment>,
}

/// A data source query.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct LookupQuery {
    /// Source name.
    pub source: String,
    /// Free-text search.
    #[serde(default)]
    pub q: Option<String>,
    /// Fetch one id.
    #[serde(default)]
    pub id: Option<String>,
    /// Source parameters.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// One item of a data source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LookupItem {
    /// Stable id.
    pub id: String,
    /// Label.
    pub text: String,
    /// Extra JSON data.
    pub extra: Option<serde_json::Value>,
}

/// A line of a card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CardEntry {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// A group of lines on a card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CardSection {
    /// Title.
    pub title: String,
    /// Lines.
    pub entries: Vec<CardEntry>,
}

/// What an agent sees of the remote record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Card {
    /// Title.
    pub title: String,
    /// Sections.
    pub sections: Vec<CardSection>,
    /// Link to the vendor application.
    pub link: Option<String>,
}

/// A connector's own error: the operation was understood and failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum ConnectorError {
    /// The demande or query cannot be mapped.
    #[error("donnée invalide : {0}")]
    InvalidInput(String),
    /// No such remote record.
    #[error("introuvable : {0}")]
    NotFound(String),
    /// Vendor unreachable or failing; retry later.
    #[error("application métier indisponible : {0}")]
    Unavailable(String),
    /// Vendor refused; retrying won't help.
    #[error("refusé par l'application métier : {0}")]
    Rejected(String),
    /// Wrong or missing configuration.
    #[error("configuration : {0}")]
    Configuration(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl ConnectorError {
    /// Stable snake_case kind, for the journal and the API.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectorError::InvalidInput(_) => "invalid_input",
            ConnectorError::NotFound(_) => "not_found",
            ConnectorError::Unavailable(_) => "unavailable",
            ConnectorError::Rejected(_) => "rejected",
            ConnectorError::Configuration(_) => "configuration",
            ConnectorError::Other(_) => "other",
        }
    }

    /// The same error with its message rewritten by `f`.
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> Self {
        match self {
            ConnectorError::InvalidInput(m) => ConnectorError::InvalidInput(f(&m)),
            ConnectorError::NotFound(m) => ConnectorError::NotFound(f(&m)),
            ConnectorError::Unavailable(m) => ConnectorError::Unavailable(f(&m)),
            ConnectorError::Rejected(m) => ConnectorError::Rejected(f(&m)),
            ConnectorError::Configuration(m) => ConnectorError::Configuration(f(&m)),
            ConnectorError::Other(m) => ConnectorError::Other(f(&m)),
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ConnectorError::Unavailable(_))
    }
}

/// A request to a connector: one operation with its input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Request {
    /// `describe`.
    Describe,
    /// `check`.
    Check,
    /// `transmit`.
    Transmit {
        /// The demande.
        demande: Box<Demande>,
        /// Idempotency key.
        idempotency_key: String,
    },
    /// `status`.
    Status {
        /// Remote id.
        remote_id: String,
    },
    /// `lookup`.
    Lookup(LookupQuery),
    /// `card`.
    Card {
        /// Remote id.
        remote_id: String,
    },
    /// `send_sms`: the `sms.send` of an SMS gateway.
    SendSms(SmsMessage),
}

impl Request {
    /// The id of the demande the request is about (a transmission's).
    pub fn demande(&self) -> Option<&str> {
        match self {
            Request::Transmit { demande, .. } => Some(&demande.id),
            _ => None,
        }
    }

    /// The operation this request calls.
    pub fn operation(&self) -> Operation {
        match self {
            Request::Describe => Operation::Describe,
            Request::Check => Operation::Check,
            Request::Transmit { .. } => Operation::Transmit,
            Request::Status { .. } => Operation::Status,
            Request::Lookup(_) => Operation::Lookup,
            Request::Card { .. } => Operation::Card,
            Request::SendSms(_) => Operation::SendSms,
        }
    }
}

/// The answer of a successful call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// `describe`.
    Describe(Description),
    /// `check`.
    Check(Availability),
    /// `transmit`.
    Transmit(Receipt),
    /// `status`.
    Status(RemoteStatus),
    /// `lookup`.
    Lookup(Vec<LookupItem>),
    /// `card`.
    Card(Card),
    /// `send_sms`.
    SendSms(SmsReceipt),
}

/// An outbound HTTP request from a guest.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// Upper-case method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
}

/// The response to an outbound request.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    /// Status.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why an outbound request failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// Not in the allow-list.
    #[error("hôte non autorisé : {0}")]
    Forbidden(String),
    /// Malformed URL.
    #[error("URL invalide : {0}")]
    InvalidUrl(String),
    /// Connection failure.
    #[error("connexion impossible : {0}")]
    Connection(String),
    /// Timeout.
    #[error("délai d'attente dépassé")]
    Timeout,
    /// Body over the cap (bytes).
    #[error("réponse trop volumineuse (plus de {0} octets)")]
    TooLarge(u64),
    /// Redirect loop or chain too long.
    #[error("trop de redirections")]
    TooManyRedirects,
    /// Other.
    #[error("{0}")]
    Other(String),
}

/// A log record written by a guest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuestLog {
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// Message (secrets masked).
    pub message: String,
    /// Fields (secrets masked).
    pub fields: Vec<(String, String)>,
}
