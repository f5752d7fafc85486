//! The OpenAPI document of the API, at `GET /api/openapi.json`.
//!
//! It is built from the route table itself ([`super::api`]): every route
//! the router serves has its method, path, summary, who may call it, and its
//! request and response shapes (JSON Schemas from the Rust types through
//! `schemars`, or a description where the shape is not JSON). A route
//! cannot be served without being documented, and a test compares the
//! document with the router.

use std::sync::OnceLock;

use axum::Json;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::ApiError;
use super::routes::{Access, ApiRouter, Body, Doc, Route};

/// The path of the document.
pub const PATH: &str = "/api/openapi.json";

/// The route.
pub fn router() -> ApiRouter {
    ApiRouter::new().get(
        PATH,
        serve,
        Doc::new("Ce document OpenAPI", Access::Public).json(),
    )
}

async fn serve() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(
        DOCUMENT
            .get_or_init(|| document(super::api().routes()))
            .clone(),
    )
}

/// The path parameters of an axum path (`/a/{id}/b/{file}` → `id`, `file`).
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

fn security(access: Access) -> Value {
    match access {
        Access::Public => json!([]),
        Access::Usager => json!([{ "session": [] }]),
        _ => json!([{ "session": [] }, { "bearer": [] }]),
    }
}

fn body_content(body: Body, generator: &mut schemars::SchemaGenerator) -> Option<Value> {
    match body {
        Body::None => None,
        Body::Json(schema) => Some(json!({ "application/json": { "schema": schema(generator) } })),
        Body::Yaml => Some(json!({
            "application/yaml": { "schema": { "type": "string", "description": "Définition de démarche en YAML (voir /api/schemas/demarche.json)" } },
            "application/json": { "schema": { "type": "object", "description": "La même définition en JSON" } }
        })),
        Body::Multipart(parts) => Some(json!({
            "multipart/form-data": { "schema": { "type": "object", "description": parts } }
        })),
        Body::File => Some(json!({
            "application/pdf": { "schema": { "type": "string", "format": "binary" } },
            "image/jpeg": { "schema": { "type": "string", "format": "binary" } },
            "image/png": { "schema": { "type": "string", "format": "binary" } }
        })),
    }
}

/// The document for a list of routes.
pub fn document(routes: &[Route]) -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let error = generator.subschema_for::<ApiError>();
    let mut paths = Map::new();
    for route in routes {
        let doc = &route.doc;
        let mut operation = Map::new();
        operation.insert("summary".into(), json!(doc.summary));
        operation.insert(
            "operationId".into(),
            json!(format!(
                "{}{}",
                route.method.as_str().to_lowercase(),
                route.path.replace(['/', '{', '}', '-', '.'], "_")
            )),
        );
        operation.insert("x-guichet-access".into(), json!(doc.access.describe()));
        operation.insert("security".into(), security(doc.access));
        let parameters: Vec<Value> = path_parameters(route.path)
            .into_iter()
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
            })
            .collect();
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(content) = body_content(doc.request, &mut generator) {
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": content }),
            );
        }
        let mut success = json!({ "description": "succès" });
        if let Some(content) = body_content(doc.response, &mut generator) {
            success["content"] = content;
        }
        operation.insert(
            "responses".into(),
            json!({
                doc.status.to_string(): success,
                "default": {
                    "description": "erreur : code stable, message en français",
                    "content": { "application/json": { "schema": error } }
                }
            }),
        );
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = entry {
            methods.insert(
                route.method.as_str().to_lowercase(),
                Value::Object(operation),
            );
        }
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Guichet",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "API des télédémarches : catalogue, brouillons, dépôt, suivi par l'usager ; back office des agents ; administration. Les erreurs sont {code, message} (et errors par champ pour les validations)."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": super::auth::SESSION_COOKIE },
                "bearer": { "type": "http", "scheme": "bearer", "description": "jeton d'API créé par un administrateur" }
            },
            "schemas": schemas
        }
    })
}
