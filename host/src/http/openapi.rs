//! The OpenAPI document of the API, at `GET /api/openapi.json`.
//!
//! It is built from the route table itself ([`super::api`]): every route
//! the router serves has its method, path, summary, who may call it, and its
//! request and response shapes (JSON Schemas from the Rust types through
//! `schemars`, or a description where the shape is not JSON). A route
//! cannot be served without being documented, and a test compares the
//! document with the router.
//!
//! The document is exact, and schemathesis checks it on every test run
//! (`tests/tests/api/schemathesis.rs`): every string that enters the API
//! declares that it holds no control character ([`TEXT`], what
//! [`super::extract::check_text`] refuses), path parameters included; every
//! error answer is an [`ApiError`] whose `code` is one of the catalogue
//! ([`super::codes`]); and the few operations whose inputs are checked
//! against rules no JSON Schema can say (a password's strength, answers
//! against a démarche's form, a reference to an account that must exist)
//! document their 422 answer with those rules ([`BEYOND_SCHEMA`]).

use std::sync::OnceLock;

use axum::Json;
use guichet_core::role::GroupName;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::ApiError;
use super::routes::{Access, ApiRouter, Body, Doc, Route};

/// The path of the document.
pub const PATH: &str = "/api/openapi.json";

/// The pattern of a text the API accepts: no control character (Unicode
/// category Cc) but tab, line feed and carriage return.
pub const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// The pattern of a text that must show something: [`TEXT`] with at least
/// one character that is not a space.
pub const NON_BLANK: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

/// Operations whose input is checked against rules a JSON Schema cannot
/// say, and that answer 422 for them: method, path, the rules.
pub const BEYOND_SCHEMA: &[(&str, &str, &str)] = &[
    (
        "post",
        "/api/auth/register",
        "validation_failed : identifiant qui n'est pas une adresse e-mail valide, mot de passe trop facile à deviner (zxcvbn, ou proche de l'identifiant et du nom), téléphone qui n'est pas un numéro français",
    ),
    (
        "put",
        "/api/me/password",
        "validation_failed : nouveau mot de passe trop facile à deviner (zxcvbn, ou proche de l'identifiant et du nom)",
    ),
    (
        "put",
        "/api/me/profile",
        "validation_failed : téléphone qui n'est pas un numéro français",
    ),
    (
        "post",
        "/api/admin/users",
        "validation_failed : mot de passe trop facile à deviner, groupe qui n'existe pas",
    ),
    (
        "post",
        "/api/admin/demarches",
        "invalid_definition : la définition est vérifiée (format, cohérence des pages, champs, conditions et workflow), problème par problème",
    ),
    (
        "post",
        "/api/drafts",
        "validation_failed : l'usager nommé pour une saisie n'a pas de compte",
    ),
    (
        "put",
        "/api/drafts/{id}/pages/{page}",
        "validation_failed : les réponses sont vérifiées champ par champ selon le formulaire de la démarche",
    ),
    (
        "post",
        "/api/drafts/{id}/submit",
        "validation_failed : réponses obligatoires manquantes ou invalides selon le formulaire, case RGPD non cochée, canal requis pour une saisie d'agent et refusé pour un usager, usager différent de celui du brouillon",
    ),
    (
        "post",
        "/api/agent/demandes/{id}/actions",
        "unknown_action, invalid_action, confirmation_required, invalid_service, validation_failed : l'action et ses données sont vérifiées selon le workflow de la démarche",
    ),
    (
        "put",
        "/api/agent/demandes/{id}/agent-fields",
        "validation_failed : les réponses sont vérifiées selon le cadre réservé de la démarche",
    ),
    (
        "post",
        "/api/connectors",
        "connector_invalid, connector_conflict : le composant est validé (composant WebAssembly, contrat pris en charge, description et schéma de configuration valides) ; une version déjà installée avec un autre contenu est refusée",
    ),
    (
        "put",
        "/api/connectors/instances/{id}",
        "connector_config_invalid : identifiant d'instance (lettres minuscules, chiffres, tirets), réglages vérifiés selon le schéma de configuration du connecteur, réglage par réglage, hôtes autorisés et limites, source de rattachement servie par le connecteur et paramètres de l'usager pris par cette source ; connector_not_found : connecteur ou version non installés",
    ),
    (
        "get",
        "/api/agent/demandes",
        "validation_failed : le service filtré doit être un nom de groupe valide",
    ),
    (
        "get",
        "/api/statistics",
        "validation_failed : le service filtré doit être un nom de groupe valide, la période ne peut pas finir avant de commencer",
    ),
    (
        "get",
        "/api/statistics.csv",
        "validation_failed : le service filtré doit être un nom de groupe valide, la période ne peut pas finir avant de commencer",
    ),
    (
        "get",
        "/api/statistics/late",
        "validation_failed : le service filtré doit être un nom de groupe valide",
    ),
    (
        "get",
        "/api/statistics/untaken",
        "validation_failed : le service filtré doit être un nom de groupe valide",
    ),
    (
        "put",
        "/api/me/links/{instance}",
        "link_params_invalid : seuls les paramètres que l'instance demande aux usagers (code famille et code secret), tous ; link_refused : l'application métier refuse la preuve ou ne trouve pas un seul dossier",
    ),
    (
        "put",
        "/api/agent/usagers/{usager}/links/{instance}",
        "link_params_invalid : paramètres que la source de rattachement de l'instance ne prend pas, ou aucun ; link_refused : l'application métier refuse la preuve ou ne trouve pas un seul dossier",
    ),
];

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

/// The schema of a path parameter, as its handler reads it: ids are UUIDs
/// (but a connector instance's, which is its name), versions numbers,
/// `name` a group name, the rest texts.
fn parameter_schema(path: &str, name: &str, generator: &mut SchemaGenerator) -> Value {
    match name {
        "name" => json!(generator.subschema_for::<GroupName>()),
        "version" => json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX }),
        "id" if path.starts_with("/api/connectors/") => {
            json!({ "type": "string", "minLength": 1, "pattern": TEXT })
        }
        "id" | "user" | "file" => json!({ "type": "string", "format": "uuid" }),
        _ => json!({ "type": "string", "minLength": 1, "pattern": TEXT }),
    }
}

fn security(access: Access) -> Value {
    match access {
        Access::Public => json!([]),
        Access::Usager => json!([{ "session": [] }]),
        _ => json!([{ "session": [] }, { "bearer": [] }]),
    }
}

fn body_content(body: Body, generator: &mut SchemaGenerator) -> Option<Value> {
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
        Body::Csv => Some(json!({
            "text/csv": { "schema": { "type": "string", "description": "CSV en UTF-8 (avec BOM), cellules séparées par « ; »" } }
        })),
        Body::Component => Some(json!({
            "application/wasm": { "schema": { "type": "string", "format": "binary", "description": "Composant WebAssembly d'un connecteur" } },
            "application/octet-stream": { "schema": { "type": "string", "format": "binary", "description": "Le même composant" } }
        })),
    }
}

/// The reference of [`text_json`] among the schemas.
const TEXT_JSON_REF: &str = "#/components/schemas/TextJson";

/// Any JSON value whose texts and keys hold no control character.
fn text_json() -> Value {
    json!({
        "description": "Toute valeur JSON dont les textes et les clés n'ont pas de caractère de contrôle",
        "anyOf": [
            { "type": ["null", "boolean", "number"] },
            { "type": "string", "pattern": TEXT },
            { "type": "array", "items": { "$ref": TEXT_JSON_REF } },
            { "type": "object", "propertyNames": { "pattern": TEXT }, "additionalProperties": { "$ref": TEXT_JSON_REF } }
        ]
    })
}

/// The schemas of error answers, whose texts name what was refused (with
/// control characters replaced, but a connector's message is its own).
const ERROR_SCHEMAS: [&str; 4] = ["ApiError", "FieldProblem", "ErrorCode", "FieldCode"];

/// Says in a schema what [`super::extract::check_text`] enforces: every
/// free string matches [`TEXT`], and every object's open keys too.
fn forbid_control_characters(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    let is = |map: &Map<String, Value>, kind: &str| match map.get("type") {
        Some(Value::String(t)) => t == kind,
        Some(Value::Array(types)) => types.iter().any(|t| t == kind),
        _ => false,
    };
    let constrained = ["format", "enum", "const", "$ref"]
        .iter()
        .any(|key| map.contains_key(*key));
    // A pattern of its own (a group name) names the characters it allows.
    if is(map, "string") && !constrained && !map.contains_key("pattern") {
        map.insert("pattern".into(), json!(TEXT));
    }
    if is(map, "object") {
        if !map.contains_key("propertyNames") {
            map.insert("propertyNames".into(), json!({ "pattern": TEXT }));
        }
        // Properties nobody named are read too (and refused with a control
        // character anywhere inside).
        if matches!(
            map.get("additionalProperties"),
            None | Some(Value::Bool(true))
        ) {
            map.insert(
                "additionalProperties".into(),
                json!({ "$ref": TEXT_JSON_REF }),
            );
        }
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" => {
                if let Value::Object(children) = value {
                    children.values_mut().for_each(forbid_control_characters);
                }
            }
            "items" | "additionalProperties" | "not" | "contains" => {
                forbid_control_characters(value)
            }
            "oneOf" | "anyOf" | "allOf" | "prefixItems" => {
                if let Value::Array(children) = value {
                    children.iter_mut().for_each(forbid_control_characters);
                }
            }
            _ => {}
        }
    }
}

/// The query-string parameters of a struct's schema: one per property,
/// required when the struct requires it; an `Option`'s `null` is dropped
/// (a parameter is absent, never null).
fn query_parameters(schema: schemars::Schema) -> Vec<Value> {
    let schema = schema.to_value();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = without_null(property.clone());
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"))
                .unwrap_or(Value::Null);
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if !description.is_null() {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}

/// A schema without the `null` an `Option` adds (`"type": [T, "null"]`, or
/// `anyOf: [S, {"type": "null"}]`).
fn without_null(mut schema: Value) -> Value {
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [single] = types.as_slice() {
            let single = single.clone();
            object.insert("type".into(), single);
        }
    }
    if let Some(Value::Array(any)) = object.get("anyOf") {
        let rest: Vec<Value> = any
            .iter()
            .filter(|s| s.get("type") != Some(&json!("null")))
            .cloned()
            .collect();
        if let [single] = rest.as_slice() {
            let single = single.clone();
            object.remove("anyOf");
            if let Value::Object(fields) = single {
                object.extend(fields);
            }
        }
    }
    schema
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
        let mut parameters: Vec<Value> = path_parameters(route.path)
            .into_iter()
            .map(|name| {
                let schema = parameter_schema(route.path, name, &mut generator);
                json!({ "name": name, "in": "path", "required": true, "schema": schema })
            })
            .collect();
        if let Some(query) = doc.query {
            parameters.extend(query_parameters(query(&mut generator)));
        }
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
        let mut responses = json!({
            doc.status.to_string(): success,
            "default": {
                "description": "erreur : code stable (voir ErrorCode), message en français",
                "content": { "application/json": { "schema": error } }
            }
        });
        let method = route.method.as_str().to_lowercase();
        if let Some((_, _, rules)) = BEYOND_SCHEMA
            .iter()
            .find(|(m, path, _)| *m == method && *path == route.path)
        {
            responses["422"] = json!({
                "description": format!("refus selon des règles que le schéma ne peut pas exprimer — {rules}"),
                "content": { "application/json": { "schema": error } }
            });
        }
        operation.insert("responses".into(), responses);
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
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    for (name, schema) in schemas.iter_mut() {
        if !ERROR_SCHEMAS.contains(&name.as_str()) {
            forbid_control_characters(schema);
        }
    }
    schemas.insert("TextJson".into(), text_json());
    for operation in paths.values_mut().filter_map(Value::as_object_mut) {
        for operation in operation.values_mut() {
            if let Some(content) = operation
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut)
            {
                for media in content.values_mut() {
                    if let Some(schema) = media.get_mut("schema") {
                        forbid_control_characters(schema);
                    }
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_beyond_the_schema_names_a_served_route() {
        let routes = super::super::api();
        for (method, path, _) in BEYOND_SCHEMA {
            assert!(
                routes
                    .routes()
                    .iter()
                    .any(|r| r.method.as_str().eq_ignore_ascii_case(method) && r.path == *path),
                "{method} {path} is not a route"
            );
        }
    }
}
