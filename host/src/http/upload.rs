//! Reading uploads: multipart forms with one file and text parts, and
//! routes that take either JSON or a multipart form (an action with an
//! optional attachment).
//!
//! The file's type is decided by its content, never by its name or declared
//! type (`guichet_core::file::sniff_media_type`): an executable renamed
//! `facture.pdf` is refused.
//!
//! Part names, file names and text parts go through
//! [`super::extract::check_text`] like every other text (422
//! `control_character`), and a body that is not `multipart/form-data` where
//! a form is expected is 415 `unsupported_media_type`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

use super::extract::{ApiJson, check_text};
use super::{ApiError, AppState, ErrorCode};

pub use guichet_core::validation::FILE_PART;

/// An uploaded file.
pub struct Upload {
    /// The name the uploader gave.
    pub name: String,
    /// The content.
    pub content: Bytes,
}

/// A multipart form: at most one file, and text parts.
#[derive(Default)]
pub struct Form {
    /// The part named `file`.
    pub file: Option<Upload>,
    /// The other parts, as text.
    pub texts: BTreeMap<String, String>,
}

fn multipart_error(status: axum::http::StatusCode, text: String) -> ApiError {
    if status == axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE {
        unsupported_media_type()
    } else if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "le fichier dépasse la taille admise par le serveur",
        )
    } else {
        ApiError::invalid(format!("formulaire multipart illisible : {text}"))
    }
}

/// 415 `unsupported_media_type` for a body that should be a multipart form.
fn unsupported_media_type() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "le corps doit être un formulaire multipart (Content-Type: multipart/form-data)",
    )
}

/// Reads a multipart form.
///
/// # Errors
/// 415 for a body that is not multipart, 400 for an unreadable form, 413
/// past the server's upload limit, 422 `control_character` for a name or
/// text holding a control character.
pub async fn read_form(multipart: Result<Multipart, MultipartRejection>) -> Result<Form, ApiError> {
    let mut multipart = multipart.map_err(|rejection| match rejection {
        MultipartRejection::InvalidBoundary(_) => unsupported_media_type(),
        other => multipart_error(other.status(), other.body_text()),
    })?;
    let mut form = Form::default();
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(e.status(), e.body_text()))?;
        let Some(field) = field else {
            return Ok(form);
        };
        let name = field.name().unwrap_or_default().to_owned();
        check_text("nom de partie", &name)?;
        if name == FILE_PART {
            let declared = field.file_name().unwrap_or_default().to_owned();
            check_text("nom du fichier", &declared)?;
            let content = field
                .bytes()
                .await
                .map_err(|e| multipart_error(e.status(), e.body_text()))?;
            form.file = Some(Upload {
                name: declared,
                content,
            });
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| multipart_error(e.status(), e.body_text()))?;
            check_text(&name, &text)?;
            form.texts.insert(name, text);
        }
    }
}

/// Whether the request carries a multipart form.
pub fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// A body that is either JSON or a multipart form.
pub enum JsonOrForm<T> {
    /// JSON.
    Json(T),
    /// A multipart form.
    Form(Form),
}

/// Reads a JSON body or a multipart form, by `Content-Type`.
///
/// # Errors
/// As [`ApiJson`] and [`read_form`].
pub async fn json_or_form<T: serde::de::DeserializeOwned>(
    request: Request,
    state: &AppState,
) -> Result<JsonOrForm<T>, ApiError> {
    if is_multipart(&request) {
        let multipart = Multipart::from_request(request, state).await;
        Ok(JsonOrForm::Form(read_form(multipart).await?))
    } else {
        let ApiJson(body) = ApiJson::<T>::from_request(request, state).await?;
        Ok(JsonOrForm::Json(body))
    }
}
