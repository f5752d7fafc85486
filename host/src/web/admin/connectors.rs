//! `/admin/connecteurs`: the connectors installed and their versions (what
//! each says of itself: vendor, summary, operations, contract), the
//! instances with their active and previous versions; the upload of a new
//! version (a multipart form's file, to `service::connectors::install`),
//! and per instance the activation of a version and the rollback
//! (`activate`, `rollback`), each with its confirmation.
//!
//! An activation takes effect for the next calls: a call running finishes
//! on the version it started with (`crate::connectors::registry`), so a
//! version can be swapped while demandes are transmitted.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use guichet_core::validation::FILE_PART;
use serde::Deserialize;

use super::{Admin, CONFIRM_FIELD, sentence};
use crate::connectors::model::Operation;
use crate::connectors::registry::RegistryError;
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::connectors::{self as service, COMPONENT_LIMIT};
use crate::web::back_office::Desk;
use crate::web::session::{Checked, Csrf};
use crate::web::upload;
use crate::web::{ErrorView, Errors, Site, failure, page, see_other, urlencoded};

/// The id of the upload's file input.
const UPLOAD_INPUT: &str = "composant";

/// An operation in words.
pub(super) fn operation_label(operation: Operation) -> &'static str {
    match operation {
        Operation::Describe => "description",
        Operation::Check => "vérification de disponibilité",
        Operation::Transmit => "transmission des demandes",
        Operation::Status => "lecture du statut",
        Operation::Lookup => "sources de données",
        Operation::Card => "fiche agent",
        Operation::SendSms => "envoi de SMS",
    }
}

/// An installed version as listed.
struct VersionView {
    version: String,
    vendor: String,
    summary: String,
    operations: String,
    contract: String,
    /// The first 12 hex digits of its SHA-256.
    digest: String,
    /// Its size in Kio.
    size_kib: usize,
    /// The instances running it.
    active_in: Vec<String>,
}

/// A connector and its versions, the latest last.
struct ConnectorView {
    name: String,
    versions: Vec<VersionView>,
}

/// An instance as listed, with its forms.
struct InstanceView {
    id: String,
    connector: String,
    version: String,
    previous: Option<String>,
    /// The other installed versions of its connector (activation's
    /// choices).
    others: Vec<String>,
    /// The version chosen in the activation form shown again.
    chosen: String,
}

#[derive(Template)]
#[template(path = "admin/connectors.html")]
struct ConnectorsPage {
    desk: Desk,
    connectors: Vec<ConnectorView>,
    instances: Vec<InstanceView>,
    /// What was just done.
    done: Option<String>,
    errors: Errors,
}

impl ConnectorsPage {
    /// The largest component accepted, in Mio (for the template).
    fn limit_mib(&self) -> usize {
        COMPONENT_LIMIT / (1024 * 1024)
    }

    /// The error on `field`, if any (for the template).
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.of(field)
    }
}

/// The field of an instance's activation form (`activation-<id>-version`).
fn field(form: &str, instance: &str, name: &str) -> String {
    format!("{form}-{instance}-{name}")
}

/// What the address says was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    fait: String,
    instance: String,
    connecteur: String,
    version: String,
}

/// The page, from the running registry.
fn connectors_page(
    state: &AppState,
    desk: Desk,
    done: Option<String>,
    errors: Errors,
    chosen: Option<(&str, &str)>,
) -> Response {
    let registry = &state.registry;
    let instances = registry.instances();
    let connectors = registry
        .connectors()
        .into_iter()
        .map(|name| ConnectorView {
            versions: registry
                .versions(&name)
                .iter()
                .map(|v| {
                    let d = v.description();
                    VersionView {
                        version: d.version.clone(),
                        vendor: d.vendor.clone(),
                        summary: d.summary.clone(),
                        operations: d
                            .operations
                            .iter()
                            .map(|o| operation_label(*o))
                            .collect::<Vec<_>>()
                            .join(", "),
                        contract: d.contract.clone(),
                        digest: v.digest().chars().take(12).collect(),
                        size_kib: v.size().div_ceil(1024),
                        active_in: instances
                            .iter()
                            .filter(|i| i.connector == name && i.version == d.version)
                            .map(|i| i.id.clone())
                            .collect(),
                    }
                })
                .collect(),
            name,
        })
        .collect();
    let instances = instances
        .into_iter()
        .map(|info| {
            let others: Vec<String> = registry
                .versions(&info.connector)
                .iter()
                .map(|v| v.version().to_owned())
                .filter(|v| *v != info.version)
                .collect();
            let chosen = match chosen {
                Some((id, version)) if id == info.id => version.to_owned(),
                _ => others.last().cloned().unwrap_or_default(),
            };
            InstanceView {
                id: info.id,
                connector: info.connector,
                version: info.version,
                previous: info.previous_version,
                others,
                chosen,
            }
        })
        .collect();
    page(
        errors.status(),
        &ConnectorsPage {
            desk,
            connectors,
            instances,
            done,
            errors,
        },
    )
}

pub(super) async fn list(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    let running = |id: &str| state.registry.instance(id);
    let text = match done.fait.as_str() {
        "installation" => Some(format!(
            "La version {} du connecteur « {} » est installée. Activez-la sur une instance pour qu'elle serve.",
            done.version, done.connecteur
        )),
        "activation" | "retour" => running(&done.instance).map(|info| {
            format!(
                "L'instance « {} » utilise maintenant la version {}{}.",
                info.id,
                info.version,
                info.previous_version
                    .map(|p| format!(" (version précédente : {p})"))
                    .unwrap_or_default()
            )
        }),
        _ => None,
    };
    connectors_page(&state, admin.desk(site), text, Errors::default(), None)
}

/// An error of the upload, shown on the page.
fn upload_error(state: &AppState, desk: Desk, text: String) -> Response {
    connectors_page(
        state,
        desk,
        None,
        Errors(vec![ErrorView {
            field: FILE_PART.to_owned(),
            anchor: UPLOAD_INPUT.to_owned(),
            message: text,
            label: Some("Nouvelle version".to_owned()),
        }]),
        None,
    )
}

pub(super) async fn upload(
    State(state): State<AppState>,
    site: Site,
    csrf: Csrf,
    admin: Admin,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let form = match upload::checked(
        &site,
        &csrf,
        multipart,
        "Le fichier envoyé n'a pas pu être lu. Revenez à la page des connecteurs",
    )
    .await
    {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let desk = admin.desk(site.clone());
    let limit = COMPONENT_LIMIT / (1024 * 1024);
    let bytes = match form.file {
        _ if form.too_large => {
            return upload_error(
                &state,
                desk,
                format!("Le fichier dépasse {limit} Mio : un composant en pèse bien moins."),
            );
        }
        None => {
            return upload_error(
                &state,
                desk,
                "Choisissez le fichier du composant (.wasm) à installer.".to_owned(),
            );
        }
        Some((_, bytes)) if bytes.len() > COMPONENT_LIMIT => {
            return upload_error(
                &state,
                desk,
                format!("Le fichier dépasse {limit} Mio : un composant en pèse bien moins."),
            );
        }
        Some((_, bytes)) => bytes,
    };
    match service::install(&state.guichet(), bytes.to_vec()).await {
        Ok(version) => see_other(&format!(
            "/admin/connecteurs?fait=installation&connecteur={}&version={}",
            urlencoded(version.name()),
            urlencoded(version.version())
        )),
        Err(ServiceError::Registry(error))
            if matches!(
                *error,
                RegistryError::Install(_) | RegistryError::VersionConflict { .. }
            ) =>
        {
            upload_error(&state, desk, format!("{}.", sentence(&error.to_string())))
        }
        Err(error) => failure(&site, error),
    }
}

/// The confirmation's error when its box is not ticked.
fn unconfirmed(form: &str, instance: &str, what: &str) -> ErrorView {
    let name = field(form, instance, CONFIRM_FIELD);
    ErrorView {
        anchor: name.clone(),
        field: name,
        message: format!("Cochez la case pour confirmer {what}."),
        label: Some(format!("Instance « {instance} »")),
    }
}

pub(super) async fn activate(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let desk = admin.desk(site.clone());
    let version = posted.text("version");
    let version_field = field("activation", &id, "version");
    let mut errors = Vec::new();
    if version.is_empty() {
        errors.push(ErrorView {
            field: version_field.clone(),
            anchor: version_field.clone(),
            message: "Choisissez la version à activer.".to_owned(),
            label: Some(format!("Instance « {id} »")),
        });
    }
    if !posted.has(CONFIRM_FIELD) {
        errors.push(unconfirmed("activation", &id, "l'activation"));
    }
    if !errors.is_empty() {
        return connectors_page(&state, desk, None, Errors(errors), Some((&id, &version)));
    }
    match service::activate(&state.guichet(), &id, &version).await {
        Ok(_) => see_other(&format!(
            "/admin/connecteurs?fait=activation&instance={}",
            urlencoded(&id)
        )),
        Err(ServiceError::Registry(error)) if !matches!(*error, RegistryError::Call(_)) => {
            let errors = Errors(vec![ErrorView {
                field: version_field.clone(),
                anchor: version_field,
                message: format!("{}.", sentence(&error.to_string())),
                label: Some(format!("Instance « {id} »")),
            }]);
            connectors_page(&state, desk, None, errors, Some((&id, &version)))
        }
        Err(error) => failure(&site, error),
    }
}

pub(super) async fn rollback(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let desk = admin.desk(site.clone());
    if !posted.has(CONFIRM_FIELD) {
        let errors = Errors(vec![unconfirmed("retour", &id, "le retour")]);
        return connectors_page(&state, desk, None, errors, None);
    }
    match service::rollback(&state.guichet(), &id).await {
        Ok(_) => see_other(&format!(
            "/admin/connecteurs?fait=retour&instance={}",
            urlencoded(&id)
        )),
        Err(ServiceError::Registry(error)) if !matches!(*error, RegistryError::Call(_)) => {
            // No previous version: the instance has no rollback form, the
            // summary leads to its heading.
            let errors = Errors(vec![ErrorView {
                anchor: format!("instance-{id}"),
                field: field("retour", &id, CONFIRM_FIELD),
                message: format!("{}.", sentence(&error.to_string())),
                label: Some(format!("Instance « {id} »")),
            }]);
            connectors_page(&state, desk, None, errors, None)
        }
        Err(error) => failure(&site, error),
    }
}
