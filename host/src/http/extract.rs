//! Extractors that reject in the API's error shape.
//!
//! axum's own `Json`, `Path` and `Query` answer a bad request with plain
//! text; these wrap them so that every rejection is an [`ApiError`]:
//! malformed JSON → 400 `malformed_json`, JSON of the wrong shape (unknown
//! or missing property, wrong type) → 422 `invalid_body`, a body that is
//! not JSON → 415 `unsupported_media_type`, a path that names nothing → 404,
//! a bad query string → 400 `invalid_request`.
//!
//! They also keep out the characters no text of Guichet may hold: every
//! string that enters through them — JSON strings and keys, query-string
//! names and values, path parameters — and through the multipart reader of
//! [`super::upload`] is checked by [`check_text`], which refuses control
//! characters (Unicode category Cc: NUL and the other C0 controls, DEL, the
//! C1 controls) except tab, line feed and carriage return, with 422
//! `control_character`. PostgreSQL cannot store NUL in text at all, and the
//! others are never legitimate input (terminal escapes, invisible
//! separators); refusing them here makes both backends answer alike.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use super::{ApiError, ErrorCode};

/// Largest JSON body accepted (démarche definitions included).
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// A JSON body.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    let media_type = media_type(headers);
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The media type of a request: its `Content-Type` without parameters,
/// lowercase; empty when absent or unreadable.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether a character may not enter Guichet: a control character (Unicode
/// category Cc) other than tab, line feed and carriage return.
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Checks a text that enters Guichet at `place` (a JSON path, a query or
/// multipart parameter, a header).
///
/// # Errors
/// 422 `control_character` naming the place and the character.
pub fn check_text(place: &str, text: &str) -> Result<(), ApiError> {
    match text.chars().find(|c| is_forbidden_char(*c)) {
        Some(c) => Err(ApiError::control_character(place, c)),
        None => Ok(()),
    }
}

/// Checks every string and key of a JSON value ([`check_text`]); places
/// are paths such as `profile.first_name` or `answers.photos.0`.
///
/// # Errors
/// 422 `control_character` for the first offending string.
pub fn check_json_texts(value: &serde_json::Value) -> Result<(), ApiError> {
    fn walk(path: &mut String, value: &serde_json::Value) -> Result<(), ApiError> {
        let place = |path: &str| {
            if path.is_empty() {
                "corps".to_owned()
            } else {
                path.to_owned()
            }
        };
        match value {
            serde_json::Value::String(text) => check_text(&place(path), text),
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let len = path.len();
                    push_segment(path, &index.to_string());
                    walk(path, item)?;
                    path.truncate(len);
                }
                Ok(())
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    let len = path.len();
                    check_text(&place(path), key)?;
                    push_segment(path, key);
                    walk(path, item)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    fn push_segment(path: &mut String, segment: &str) {
        if !path.is_empty() {
            path.push('.');
        }
        // A key with a control character is refused before it is pushed.
        path.push_str(segment);
    }
    walk(&mut String::new(), value)
}

/// Reads JSON from bytes with the API's rejections.
///
/// # Errors
/// 400 `malformed_json` for a syntax error, 422 `control_character` for a
/// string holding a control character ([`check_json_texts`]), 422
/// `invalid_body` for JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so that a truncated body is malformed whatever its start.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            ErrorCode::MalformedJson,
            format!("corps JSON mal formé : {error}"),
        )
    })?;
    check_json_texts(&value)?;
    serde_json::from_value(value).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!("contenu JSON non conforme : {error}"),
        )
    })
}

/// Reads a request body, at most `limit` bytes.
///
/// # Errors
/// 413 `payload_too_large` past the limit, 400 if the body cannot be read.
pub async fn body_bytes(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|error| {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|source| source.to_string().contains("length limit"));
            if too_large || error.to_string().contains("length limit") {
                too_large_error(limit)
            } else {
                ApiError::invalid(format!("corps de requête illisible : {error}"))
            }
        })
}

/// 413 `payload_too_large`.
pub fn too_large_error(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "la requête dépasse la taille admise ({} Mo)",
            limit / (1024 * 1024)
        ),
    )
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "le corps doit être du JSON (Content-Type: application/json)",
            ));
        }
        let bytes = body_bytes(request, JSON_LIMIT).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Path parameters; one that cannot be read names nothing: 404.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            for (name, value) in &raw {
                check_text(name, value)?;
            }
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| ApiError::not_found("aucune ressource à cette adresse"))
    }
}

/// Query-string parameters.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        check_query(parts.uri.query().unwrap_or_default())?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|error| ApiError::invalid(format!("paramètres d'adresse invalides : {error}")))
    }
}

/// Checks the names and values of a query string ([`check_text`]).
///
/// # Errors
/// 422 `control_character`.
pub fn check_query(query: &str) -> Result<(), ApiError> {
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        check_text(&name, &name)?;
        check_text(&name, &value)?;
    }
    Ok(())
}
