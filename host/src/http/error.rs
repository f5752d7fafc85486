//! The API's one error type.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::connectors::CallError;
use crate::connectors::registry::RegistryError;

/// An API error: `{"code": "…", "message": "…"}` with an HTTP status. Codes are
/// stable snake_case; messages are French, for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// French message.
    pub message: String,
}

impl ApiError {
    /// Any error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
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

    /// 400 `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
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
