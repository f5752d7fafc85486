//! The error every simulated route answers with, rendered in the vendor's own
//! JSON shape.
//!
//! Each vendor crate names its shape once (`type ApiError = Error<AtalShape>`)
//! and gets the constructors, the rendering and the mapping of axum's
//! extractor rejections (which would otherwise answer in plain text) for free.

use std::{fmt, marker::PhantomData};

use axum::{
    Json,
    extract::{
        multipart::{MultipartError, MultipartRejection},
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// How one vendor writes an error body.
pub trait ErrorShape: Send + Sync + 'static {
    /// The JSON body for an error with a stable snake_case `code` and a
    /// French `message` meant for people.
    fn body(code: &str, message: &str) -> serde_json::Value;
}

/// An API error: an HTTP status, a stable code and a French message,
/// rendered with the vendor's [`ErrorShape`] `S`.
pub struct Error<S> {
    status: StatusCode,
    code: &'static str,
    message: String,
    shape: PhantomData<fn() -> S>,
}

impl<S> Error<S> {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            shape: PhantomData,
        }
    }

    /// 400: the request is malformed or fails validation.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: the credential is missing or wrong.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "non_authentifie", message)
    }

    /// 403: the caller is known but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404: the resource does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413: the request body is too large.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "trop_volumineux", message)
    }

    /// 500: what the server answers in [`crate::Mode::Fail`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "erreur_interne", message)
    }

    /// 400 for a body that is valid JSON but not of the expected shape.
    pub fn invalid_body(error: &serde_json::Error) -> Self {
        Self::bad_request(
            "corps_invalide",
            format!("Corps de requête invalide : {error}"),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The French message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<S> fmt::Debug for Error<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl<S> fmt::Display for Error<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl<S> std::error::Error for Error<S> {}

impl<S: ErrorShape> IntoResponse for Error<S> {
    fn into_response(self) -> Response {
        (self.status, Json(S::body(self.code, &self.message))).into_response()
    }
}

impl<S> From<JsonRejection> for Error<S> {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::bad_request(
                "json_attendu",
                "En-tête Content-Type: application/json attendu",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::payload_too_large("Corps de requête trop volumineux")
            }
            other => Self::bad_request(
                "json_invalide",
                format!("JSON invalide : {}", other.body_text()),
            ),
        }
    }
}

impl<S> From<QueryRejection> for Error<S> {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(
            "parametres_invalides",
            format!(
                "Paramètres de requête invalides : {}",
                rejection.body_text()
            ),
        )
    }
}

impl<S> From<PathRejection> for Error<S> {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request(
            "chemin_invalide",
            format!("Chemin invalide : {}", rejection.body_text()),
        )
    }
}

impl<S> From<MultipartRejection> for Error<S> {
    fn from(_: MultipartRejection) -> Self {
        Self::bad_request("multipart_attendu", "Requête multipart/form-data attendue")
    }
}

impl<S> From<MultipartError> for Error<S> {
    fn from(error: MultipartError) -> Self {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::payload_too_large("Corps de requête trop volumineux")
        } else {
            Self::bad_request(
                "multipart_illisible",
                format!("Requête multipart illisible : {}", error.body_text()),
            )
        }
    }
}
