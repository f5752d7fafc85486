//! The API's one error type: `{"code": "…", "message": "…"}` with an HTTP
//! status, plus `errors` (one per field) for validation failures, and a
//! `Retry-After` header when waiting helps (429, 503).
//!
//! Codes are stable snake_case, for programs; messages are French, for
//! people. Every failure of the layers below maps here: store errors
//! (`not_found` 404, `conflict` 409, `invalid` 422, `last_administrator`
//! 409, the rest 500 with the detail logged, never shown — the store's
//! messages are its own French texts, database text stays in the logs), workflow refusals with the core's French
//! message (`action_not_allowed` 409, `forbidden` 403, `invalid_action` 422…),
//! form validation (`validation_failed` 422 with the field errors of
//! `guichet_core::validation`), and refused definitions.

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

use crate::connectors::CallError;
use crate::connectors::registry::RegistryError;

/// One problem on one field of a request (a form field, a page, `rgpd`, a
/// path in a definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldProblem {
    /// The field.
    pub field: String,
    /// Stable snake_case code (`requis`, `format_email`, `type_fichier`…).
    pub code: String,
    /// French message for the person filling the form.
    pub message: String,
}

impl FieldProblem {
    /// A problem.
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<FieldError> for FieldProblem {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field,
            code: error.code.as_str().to_owned(),
            message: error.message,
        }
    }
}

/// An API error.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// French message.
    pub message: String,
    /// The problems, field by field (validation failures only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds after which trying again may succeed (`Retry-After`).
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl ApiError {
    /// Any error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
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
                "caractere_interdit",
                message.clone(),
            )],
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "control_character",
                message,
            )
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 400 `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 422 `validation_failed` with the problems, field by field.
    pub fn validation(problems: Vec<FieldProblem>) -> Self {
        let message = match problems.len() {
            1 => "le formulaire comporte 1 erreur".to_owned(),
            n => format!("le formulaire comporte {n} erreurs"),
        };
        Self {
            errors: problems,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
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
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "erreur interne du serveur ; réessayez plus tard",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut response = (self.status, Json(self)).into_response();
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
            StoreError::Invalid(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                error.to_string(),
            ),
            StoreError::LastAdministrator(_) => Self::new(
                StatusCode::CONFLICT,
                "last_administrator",
                error.to_string(),
            ),
            _ => Self::internal(error),
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(error: WorkflowError) -> Self {
        let message = error.to_string();
        let (status, code) = match &error {
            WorkflowError::UnknownTransition(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_action")
            }
            WorkflowError::NotAllowedFromStatus { .. } | WorkflowError::NoPreviousStatus => {
                (StatusCode::CONFLICT, "action_not_allowed")
            }
            WorkflowError::WrongActor(_) | WorkflowError::RightMissing(_) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            WorkflowError::NotOwner => (StatusCode::NOT_FOUND, "not_found"),
            WorkflowError::MissingInput(_)
            | WorkflowError::UnexpectedInput(_)
            | WorkflowError::TextTooLong { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_action")
            }
            WorkflowError::ConfirmationRequired => {
                (StatusCode::UNPROCESSABLE_ENTITY, "confirmation_required")
            }
            WorkflowError::InvalidService(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_service")
            }
            WorkflowError::NothingToFire(_) => (StatusCode::CONFLICT, "action_not_allowed"),
            WorkflowError::UnknownStatus(_) => return Self::internal(error),
        };
        Self::new(status, code, message)
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::Closed => {
                Self::new(StatusCode::CONFLICT, "demarche_closed", error.to_string())
            }
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
            AgentFieldsError::Frozen => {
                Self::new(StatusCode::CONFLICT, "demande_frozen", error.to_string())
            }
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
                .map(|p| FieldProblem::new(&p.path, "definition_invalide", p.message))
                .collect(),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_definition",
                format!("définition de démarche invalide ({count} problème(s))"),
            )
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        let message = error.to_string();
        match &error {
            RegistryError::UnknownConnector(_)
            | RegistryError::UnknownVersion { .. }
            | RegistryError::UnknownInstance(_) => {
                Self::new(StatusCode::NOT_FOUND, "connector_not_found", message)
            }
            RegistryError::VersionConflict { .. } | RegistryError::NoPrevious(_) => {
                Self::new(StatusCode::CONFLICT, "connector_conflict", message)
            }
            RegistryError::Install(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connector_invalid",
                message,
            ),
            RegistryError::Config(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connector_config_invalid",
                message,
            ),
            RegistryError::Call(call) => Self::from(call.clone()),
        }
    }
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        let status = match &error {
            CallError::Connector(e) if e.kind() == "not_found" => StatusCode::NOT_FOUND,
            CallError::Connector(e) if e.kind() == "invalid_input" => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            CallError::Unsupported(_) => StatusCode::BAD_REQUEST,
            CallError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        };
        let code = match &error {
            CallError::Connector(e) => match e.kind() {
                "invalid_input" => "connector_invalid_input",
                "not_found" => "connector_remote_not_found",
                "unavailable" => "connector_unavailable",
                "rejected" => "connector_rejected",
                "configuration" => "connector_configuration",
                _ => "connector_error",
            },
            CallError::Unsupported(_) => "connector_unsupported",
            CallError::Trap(_) => "connector_trap",
            CallError::Timeout(_) => "connector_timeout",
            CallError::MemoryLimit(_) => "connector_memory_limit",
            CallError::Host(_) => "connector_host_error",
        };
        Self::new(status, code, error.to_string())
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
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
        }
    }
}
