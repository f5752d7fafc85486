//! Démarches: import (YAML or JSON body), the list, the versions of one,
//! one version with its source, the prefix of its demande numbers, and
//! the JSON Schema of the format. The rules are
//! [`crate::service::administration::demarches`]'s.
//!
//! An import is classified by the store exactly as
//! `guichet_core::demarche::classify_change` says: the first import creates
//! version 1 (201), an identical one changes nothing (200 `unchanged`),
//! texts and dates only update the current version in place (200
//! `updated_in_place`), anything structural makes a new version (201
//! `new_version`) and filed demandes keep theirs.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use guichet_core::demarche::{Definition, definition_schema};
use guichet_core::id::Slug;
use guichet_store::demarche::{DefinitionSource, ImportKind, SourceFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::http::auth::{Admin, Caller};
use crate::http::extract::{ApiJson, ApiPath, JSON_LIMIT, body_bytes, check_text, media_type};
use crate::http::routes::{Access, ApiRouter, Body, Doc};
use crate::http::{ApiError, AppState, ErrorCode};
use crate::service::administration::demarches::{self, Importer};

/// The routes.
pub fn router() -> ApiRouter {
    ApiRouter::new()
        .post(
            "/api/admin/demarches",
            import,
            Doc::new(
                "Importer une définition de démarche (YAML, ou JSON) : création, mise à jour sur place ou nouvelle version",
                Access::Administrator,
            )
            .reads(Body::Yaml)
            .gives::<Imported>()
            .status(201),
        )
        .get(
            "/api/admin/demarches",
            list,
            Doc::new("Toutes les démarches, quelle que soit leur visibilité", Access::Administrator)
                .gives::<Vec<DemarcheSummary>>(),
        )
        .get(
            "/api/admin/demarches/{slug}/versions",
            versions,
            Doc::new("Les versions d'une démarche", Access::Administrator)
                .gives::<Vec<VersionSummary>>(),
        )
        .get(
            "/api/admin/demarches/{slug}/versions/{version}",
            version,
            Doc::new("Une version d'une démarche et son texte source", Access::Administrator)
                .gives::<VersionDetail>(),
        )
        .put(
            "/api/admin/demarches/{slug}/numero-prefix",
            set_numero_prefix,
            Doc::new(
                "Changer le préfixe des prochains numéros de demande d'une démarche (les numéros donnés restent)",
                Access::Administrator,
            )
            .takes::<NumeroPrefix>()
            .gives::<NumeroPrefix>(),
        )
        .get(
            "/api/schemas/demarche.json",
            schema,
            Doc::new("Le schéma JSON du format des démarches", Access::Public)
                .answers(Body::Json(|_| schemars::json_schema!({"type": "object"}))),
        )
}

/// What an import did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Imported {
    /// The démarche.
    pub slug: String,
    /// The version now current.
    pub version: u32,
    /// `created`, `unchanged`, `updated_in_place` or `new_version`.
    pub kind: String,
}

async fn import(
    State(state): State<AppState>,
    current: Caller,
    request: Request,
) -> Result<Response, ApiError> {
    // Who may import is known before the body is read.
    let importer = Importer::check(current)?;
    let content_type = media_type(request.headers());
    let format = if content_type.contains("json") {
        SourceFormat::Json
    } else if content_type.contains("yaml") {
        SourceFormat::Yaml
    } else {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "la définition doit être du YAML (Content-Type: application/yaml) ou du JSON",
        ));
    };
    let bytes = body_bytes(request, JSON_LIMIT).await?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::invalid("la définition doit être du texte UTF-8"))?;
    check_text("définition", &text)?;
    let source = DefinitionSource { format, text };
    let imported = demarches::import(&state.guichet(), &importer, source).await?;
    let (status, kind) = match imported.kind {
        ImportKind::Created => (StatusCode::CREATED, "created"),
        ImportKind::NewVersion => (StatusCode::CREATED, "new_version"),
        ImportKind::Unchanged => (StatusCode::OK, "unchanged"),
        ImportKind::UpdatedInPlace => (StatusCode::OK, "updated_in_place"),
    };
    Ok((
        status,
        Json(Imported {
            slug: imported.slug.to_string(),
            version: imported.version,
            kind: kind.to_owned(),
        }),
    )
        .into_response())
}

/// A démarche in the administration list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DemarcheSummary {
    /// Slug.
    pub slug: String,
    /// Current version.
    pub version: u32,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// `agents`, `everyone` or `hidden`.
    pub visibility: guichet_core::demarche::DemarcheVisibility,
}

async fn list(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<DemarcheSummary>>, ApiError> {
    let entries = demarches::list(&state.guichet(), &admin).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| DemarcheSummary {
                slug: e.slug.to_string(),
                version: e.version,
                title: e.title,
                category: e.category,
                visibility: e.visibility,
            })
            .collect(),
    ))
}

/// A version of a démarche.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionSummary {
    /// Number.
    pub version: u32,
    /// Title in that version.
    pub title: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last updated in place.
    pub updated_at: DateTime<Utc>,
}

async fn versions(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<VersionSummary>>, ApiError> {
    let stored = demarches::versions(&state.guichet(), &admin, &Slug::from(slug)).await?;
    Ok(Json(
        stored
            .into_iter()
            .map(|stored| VersionSummary {
                version: stored.version,
                title: stored.definition.title,
                created_at: stored.created_at,
                updated_at: stored.updated_at,
            })
            .collect(),
    ))
}

/// One version with its source text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionDetail {
    /// Number.
    pub version: u32,
    /// The definition.
    pub definition: Definition,
    /// `yaml` or `json`.
    pub source_format: String,
    /// The text it was imported from.
    pub source: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last updated in place.
    pub updated_at: DateTime<Utc>,
}

async fn version(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath((slug, version)): ApiPath<(String, u32)>,
) -> Result<Json<VersionDetail>, ApiError> {
    let stored = demarches::version(&state.guichet(), &admin, &Slug::from(slug), version).await?;
    Ok(Json(VersionDetail {
        version: stored.version,
        definition: stored.definition,
        source_format: match stored.source.format {
            SourceFormat::Yaml => "yaml",
            SourceFormat::Json => "json",
        }
        .to_owned(),
        source: stored.source.text,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }))
}

/// The prefix of a démarche's demande numbers.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NumeroPrefix {
    /// 1 to 12 capital letters or digits: with `VELO`, numbers read
    /// `VELO-2026-000042`.
    #[schemars(extend("pattern" = "^[A-Z0-9]{1,12}$"))]
    pub prefix: String,
}

async fn set_numero_prefix(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<NumeroPrefix>,
) -> Result<Json<NumeroPrefix>, ApiError> {
    let slug = Slug::from(slug);
    let prefix =
        demarches::set_numero_prefix(&state.guichet(), &admin, &slug, &body.prefix).await?;
    Ok(Json(NumeroPrefix { prefix }))
}

async fn schema() -> Json<serde_json::Value> {
    Json(definition_schema())
}
