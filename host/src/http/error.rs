//! The API's one error type: `{"code": "…", "message": "…"}` with an HTTP
//! status, plus `errors` (one per field) for validation failures, and a
//! `Retry-After` header when waiting helps (429, 503).
//!
//! Codes come from the catalogue ([`super::codes`]), which also gives each
//! its status; messages are French, for people. Every failure of the layers
//! below maps here by variant: store errors (`not_found`, `conflict`,
//! `invalid`, `last_administrator`, the rest `internal` with the detail
//! logged, never shown — the store's messages are its own French texts,
//! database text stays in the logs), workflow refusals with the core's
//! French message (`action_not_allowed`, `forbidden`, `invalid_action`…),
//! form validation (`validation_failed` with the field problems, whose codes
//! are the core's [`FieldCode`]s), refused definitions and connector errors.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guichet_core::demarche::DefinitionError;
use guichet_core::submission::{AgentFieldsError, SubmitError};
use guichet_core::validation::FieldError;
use guichet_core::workflow::WorkflowError;
use guichet_store::StoreError;
use schemars::JsonSchema;
use serde::Serialize;

use super::codes::ErrorCode;

use crate::connectors::CallError;
use crate::connectors::instance::{ConfigError, ProblemKind, SettingProblem};
use crate::connectors::model::ConnectorError;
use crate::connectors::registry::RegistryError;
use crate::service::accounts::password_links::PasswordLinkError;
use crate::service::survey::SurveyError;
/// The code of a field problem: the core's validation codes.
pub use guichet_core::validation::ErrorCode as FieldCode;

/// One problem on one field of a request (a form field, a page, `rgpd`, a
/// path in a definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldProblem {
    /// The field.
    pub field: String,
    /// Stable snake_case code (`requis`, `format_email`, `type_fichier`…).
    pub code: FieldCode,
    /// French message for the person filling the form.
    pub message: String,
}

impl FieldProblem {
    /// A problem.
    pub fn new(field: &str, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

impl From<FieldError> for FieldProblem {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field,
            code: error.code,
            message: error.message,
        }
    }
}

/// An API error.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// French message.
    pub message: String,
    /// The problems, field by field (`validation_failed`,
    /// `invalid_definition`, `control_character`, and
    /// `connector_config_invalid` for settings a connector's schema
    /// refuses, at `settings.<path>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds after which trying again may succeed (`Retry-After`).
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error of the catalogue, with its status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// The same error with a `Retry-After` header (at least 1 second).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// 422 `control_character`: a text holds a character that cannot be
    /// stored (`place` names where: a JSON path, a parameter, a file name).
    pub fn control_character(place: &str, character: char) -> Self {
        let place: String = place
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let message = format!(
            "« {place} » contient un caractère de contrôle interdit (U+{:04X}) : retirez-le et réessayez",
            u32::from(character)
        );
        Self {
            errors: vec![FieldProblem::new(
                &place,
                FieldCode::CaractereInterdit,
                message.clone(),
            )],
            ..Self::new(ErrorCode::ControlCharacter, message)
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 400 `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 422 `validation_failed` with the problems, field by field.
    pub fn validation(problems: Vec<FieldProblem>) -> Self {
        let message = match problems.len() {
            1 => "le formulaire comporte 1 erreur".to_owned(),
            n => format!("le formulaire comporte {n} erreurs"),
        };
        Self {
            errors: problems,
            ..Self::new(ErrorCode::ValidationFailed, message)
        }
    }

    /// 422 `validation_failed` from the core's field errors.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        Self::validation(errors.into_iter().map(FieldProblem::from).collect())
    }

    /// 500 `internal`: the detail is logged, never shown.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "erreur interne");
        Self::new(
            ErrorCode::Internal,
            "erreur interne du serveur ; réessayez plus tard",
        )
    }

    /// The HTTP status (the code's, from the catalogue).
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut response = (self.status(), Json(self)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::NotFound(_) => Self::not_found(error.to_string()),
            StoreError::Conflict(message) => Self::conflict(message.clone()),
            StoreError::Invalid(_) => Self::new(ErrorCode::Invalid, error.to_string()),
            StoreError::LastAdministrator(_) => {
                Self::new(ErrorCode::LastAdministrator, error.to_string())
            }
            _ => Self::internal(error),
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        let code = match &error {
            WorkflowError::UnknownTransition(_) => ErrorCode::UnknownAction,
            WorkflowError::NotAllowedFromStatus { .. }
            | WorkflowError::NoPreviousStatus
            | WorkflowError::NothingToFire(_) => ErrorCode::ActionNotAllowed,
            WorkflowError::WrongActor(_) | WorkflowError::RightMissing(_) => ErrorCode::Forbidden,
            WorkflowError::NotOwner => ErrorCode::NotFound,
            WorkflowError::MissingInput(_)
            | WorkflowError::UnexpectedInput(_)
            | WorkflowError::TextTooLong { .. } => ErrorCode::InvalidAction,
            WorkflowError::ConfirmationRequired => ErrorCode::ConfirmationRequired,
            WorkflowError::InvalidService(_) => ErrorCode::InvalidService,
            WorkflowError::UnknownStatus(_) => return Self::internal(error),
        };
        Self::new(code, error.to_string())
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::Closed => Self::new(ErrorCode::DemarcheClosed, error.to_string()),
            SubmitError::AgentsOnly => Self::forbidden(error.to_string()),
            SubmitError::RightMissing => Self::forbidden(error.to_string()),
            SubmitError::Invalid(errors) => Self::fields(errors),
            SubmitError::Workflow(error) => Self::from(error),
        }
    }
}

impl From<AgentFieldsError> for ApiError {
    fn from(error: AgentFieldsError) -> Self {
        match error {
            AgentFieldsError::RightMissing => Self::forbidden(error.to_string()),
            AgentFieldsError::Frozen => Self::new(ErrorCode::DemandeFrozen, error.to_string()),
            AgentFieldsError::Invalid(errors) => Self::fields(errors),
        }
    }
}

impl From<DefinitionError> for ApiError {
    fn from(error: DefinitionError) -> Self {
        let count = error.problems.len();
        Self {
            errors: error
                .problems
                .into_iter()
                .map(|p| FieldProblem::new(&p.path, FieldCode::DefinitionInvalide, p.message))
                .collect(),
            ..Self::new(
                ErrorCode::InvalidDefinition,
                format!("définition de démarche invalide ({count} problème(s))"),
            )
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        let code = match &error {
            RegistryError::UnknownConnector(_)
            | RegistryError::UnknownVersion { .. }
            | RegistryError::UnknownInstance(_) => ErrorCode::ConnectorNotFound,
            RegistryError::VersionConflict { .. } | RegistryError::NoPrevious(_) => {
                ErrorCode::ConnectorConflict
            }
            RegistryError::Install(_) => ErrorCode::ConnectorInvalid,
            RegistryError::Config(ConfigError::Schema { settings, .. }) => {
                return Self {
                    errors: settings.iter().map(setting_problem).collect(),
                    ..Self::new(ErrorCode::ConnectorConfigInvalid, error.to_string())
                };
            }
            RegistryError::Config(_) => ErrorCode::ConnectorConfigInvalid,
            RegistryError::Call(call) => return Self::from(call.clone()),
        };
        Self::new(code, error.to_string())
    }
}

/// A setting refused by a connector's schema, as a field problem: the
/// field is `settings` then the setting's path (`settings.base_url`).
fn setting_problem(problem: &SettingProblem) -> FieldProblem {
    let field: String = std::iter::once("settings")
        .chain(problem.pointer.split('/').filter(|p| !p.is_empty()))
        .collect::<Vec<_>>()
        .join(".");
    let code = match problem.kind {
        ProblemKind::Missing => FieldCode::Requis,
        ProblemKind::Unknown => FieldCode::ChampInconnu,
        ProblemKind::Choice => FieldCode::ChoixInconnu,
        ProblemKind::Type | ProblemKind::Other => FieldCode::TypeInvalide,
    };
    FieldProblem::new(&field, code, problem.message.clone())
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        let code = match &error {
            CallError::Connector(connector) => match connector {
                ConnectorError::InvalidInput(_) => ErrorCode::ConnectorInvalidInput,
                ConnectorError::NotFound(_) => ErrorCode::ConnectorRemoteNotFound,
                ConnectorError::Unavailable(_) => ErrorCode::ConnectorUnavailable,
                ConnectorError::Rejected(_) => ErrorCode::ConnectorRejected,
                ConnectorError::Configuration(_) => ErrorCode::ConnectorConfiguration,
                ConnectorError::Other(_) => ErrorCode::ConnectorError,
            },
            CallError::Unsupported(_) => ErrorCode::ConnectorUnsupported,
            CallError::Trap(_) => ErrorCode::ConnectorTrap,
            CallError::Timeout(_) => ErrorCode::ConnectorTimeout,
            CallError::MemoryLimit(_) => ErrorCode::ConnectorMemoryLimit,
            CallError::Host(_) => ErrorCode::ConnectorHostError,
        };
        Self::new(code, error.to_string())
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        use crate::service::accounts::HashingError;
        use guichet_core::draft::OpenError;
        match error {
            ServiceError::NotFound(message) => Self::not_found(message),
            ServiceError::Forbidden(message) => Self::forbidden(message),
            ServiceError::Fields(errors) => Self::fields(errors),
            ServiceError::Open(OpenError::NotListed) => Self::not_found(error.to_string()),
            ServiceError::Open(OpenError::OnBehalfByUsager | OpenError::RightMissing) => {
                Self::forbidden(error.to_string())
            }
            ServiceError::Open(OpenError::Closed) => Self::from(SubmitError::Closed),
            ServiceError::Submit(error) => Self::from(error),
            ServiceError::AgentFields(error) => Self::from(error),
            ServiceError::Workflow(error) => Self::from(error),
            ServiceError::Store(error) => Self::from(error),
            ServiceError::Unauthenticated(message) => Self::unauthenticated(message),
            ServiceError::InvalidCredentials => {
                Self::new(ErrorCode::InvalidCredentials, error.to_string())
            }
            ServiceError::TooManyAttempts(refused) => {
                Self::new(ErrorCode::TooManyAttempts, refused.to_string())
                    .retry_after(refused.seconds)
            }
            ServiceError::Hashing(HashingError::Busy) => {
                Self::new(ErrorCode::ServiceBusy, error.to_string()).retry_after(1)
            }
            ServiceError::Hashing(HashingError::Failed(_)) => Self::internal(error),
            ServiceError::LoginTaken(message) => Self::new(ErrorCode::LoginTaken, message),
            ServiceError::GroupNotFound(_) => {
                Self::new(ErrorCode::GroupNotFound, error.to_string())
            }
            ServiceError::GroupExists(message) => Self::new(ErrorCode::GroupExists, message),
            ServiceError::DemarcheNotFound(_) => {
                Self::new(ErrorCode::DemarcheNotFound, error.to_string())
            }
            ServiceError::Definition(error) => Self::from(error),
            ServiceError::Registry(error) => Self::from(*error),
            ServiceError::InstanceUse {
                setting,
                code,
                message,
            } => Self {
                errors: vec![FieldProblem::new(&setting, code, message.clone())],
                ..Self::new(ErrorCode::ConnectorConfigInvalid, message)
            },
            ServiceError::LinkParams(message) => Self::new(ErrorCode::LinkParamsInvalid, message),
            ServiceError::LinkRefused(message) => Self::new(ErrorCode::LinkRefused, message),
            ServiceError::JobAbandoned(message) => Self::new(ErrorCode::JobAbandoned, message),
            ServiceError::JobNotFailed(message) => Self::new(ErrorCode::JobNotFailed, message),
            ServiceError::Survey(survey) => {
                let code = match survey {
                    SurveyError::InvalidLink => ErrorCode::LienInvalide,
                    SurveyError::Expired(_) => ErrorCode::EnqueteExpiree,
                    SurveyError::AlreadyAnswered => ErrorCode::EnqueteDejaRepondue,
                };
                Self::new(code, survey.to_string())
            }
            ServiceError::PasswordLink(link) => {
                let code = match link {
                    PasswordLinkError::Invalid => ErrorCode::LienMotDePasseInvalide,
                    PasswordLinkError::Spent => ErrorCode::LienMotDePasseEpuise,
                };
                Self::new(code, link.to_string())
            }
        }
    }
}
