//! `POST /api/WorksRequests`, `GET /api/WorksRequests/{id}[?$expand=Responses]`
//! and `POST /api/WorksRequests/{id}/Attachments`.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hasher},
};

use axum::{
    Json, Router,
    extract::{
        self, DefaultBodyLimit, Multipart, Path, Query,
        multipart::MultipartRejection,
        rejection::{JsonRejection, PathRejection, QueryRejection},
    },
    http::HeaderMap,
    routing::{get, post},
};
use vendor_sim::{Claim, Outcome};

use super::{existing_works_request, works_request_id};
use crate::{
    error::ApiError,
    state::{Receipt, State, Upload, unknown_request},
    works_request::{Attachment, NewWorksRequest},
};

/// Largest attachment ATAL accepts (10 MiB).
const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;

/// Room for the multipart envelope around the largest attachment.
const MULTIPART_OVERHEAD_BYTES: usize = 64 * 1024;

pub(super) fn router() -> Router<State> {
    let body_limit = usize::try_from(MAX_ATTACHMENT_BYTES)
        .unwrap_or(usize::MAX)
        .saturating_add(MULTIPART_OVERHEAD_BYTES);
    Router::new()
        .route("/api/WorksRequests", post(create))
        .route("/api/WorksRequests/{id}", get(read))
        .route(
            "/api/WorksRequests/{id}/Attachments",
            post(attach).layer(DefaultBodyLimit::max(body_limit)),
        )
}

async fn create(
    extract::State(state): extract::State<State>,
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Outcome<Receipt>, ApiError> {
    let Json(body) = body?;
    let claim = Claim::from_headers(&headers, body.clone())?;
    let input: NewWorksRequest =
        serde_json::from_value(body).map_err(|error| ApiError::invalid_body(&error))?;
    let outcome = state.create_works_request(input, claim)?;
    if let Outcome::Created(request) = &outcome {
        tracing::info!(id = %request.id, number = %request.request_number, "works request filed");
    }
    Ok(outcome.map(|request| Receipt::from(&request)))
}

async fn read(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(raw) = path?;
    let Query(query) = query?;
    let id = works_request_id(&raw)?;
    let expand_responses = query
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("$expand"))
        .flat_map(|(_, value)| value.split(','))
        .any(|entity| entity.trim().eq_ignore_ascii_case("Responses"));
    let request = state.works_request(id).ok_or_else(|| unknown_request(id))?;
    Ok(Json(request.to_json(expand_responses)))
}

async fn attach(
    extract::State(state): extract::State<State>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Outcome<Attachment>, ApiError> {
    let Path(raw) = path?;
    let id = existing_works_request(&state, &raw)?;
    let upload = read_file_part(multipart?).await?;
    let claim = upload.claim(&headers, id)?;
    let outcome = state.add_attachment(id, upload, claim)?;
    if let Outcome::Created(attachment) = &outcome {
        tracing::info!(request = %id, file = %attachment.file_name, size = attachment.size, "attachment received");
    }
    Ok(outcome)
}

/// Reads the `file` part, counting and hashing its bytes without keeping
/// them; other parts are skipped.
async fn read_file_part(mut multipart: Multipart) -> Result<Upload, ApiError> {
    while let Some(mut field) = multipart.next_field().await? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().unwrap_or("piece-jointe").to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut size: u64 = 0;
        let mut hasher = DefaultHasher::new();
        while let Some(chunk) = field.chunk().await? {
            size = size.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
            if size > MAX_ATTACHMENT_BYTES {
                drain(multipart).await;
                return Err(ApiError::payload_too_large(
                    "Pièce jointe trop volumineuse (10 Mo maximum)",
                ));
            }
            hasher.write(&chunk);
        }
        return Ok(Upload {
            file_name,
            content_type,
            size,
            digest: hasher.finish(),
        });
    }
    Err(ApiError::bad_request(
        "fichier_manquant",
        "Partie « file » manquante dans la requête multipart",
    ))
}

/// Reads what is left of a refused upload (bounded by the body limit), so
/// the client has finished sending when the 413 reaches it instead of
/// seeing its connection reset mid-body.
async fn drain(mut multipart: Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}
