//! `/admin/connecteurs/{connector}/nouvelle-instance`: an administrator
//! creates an instance of an installed connector — its id, its settings in
//! the form generated from the newest version's JSON Schema
//! (`super::settings`, secrets write-only), its allowed addresses — on
//! that version (`service::connectors::configure`, which checks the
//! settings against the schema and writes nothing when refused). An id
//! already taken is refused here: changing an instance is its own page's
//! job (`super::instance`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Map, Value};

use super::Admin;
use super::instance::{HOSTS_FIELD, ID_FIELD, allowed_hosts, configuration_errors};
use super::settings::{self, SettingField};
use crate::connectors::ConnectorVersion;
use crate::connectors::InstanceConfig;
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::connectors as service;
use crate::web::back_office::Desk;
use crate::web::session::Checked;
use crate::web::{ErrorView, Errors, Site, failure, page, see_other, urlencoded};

#[derive(Template)]
#[template(path = "admin/new_instance.html")]
struct NewInstancePage {
    desk: Desk,
    connector: String,
    version: String,
    summary: String,
    /// The id typed.
    instance_id: String,
    fields: Vec<SettingField>,
    /// The allowed addresses typed, one a line.
    hosts: String,
    /// The connector's host patterns (a hint for the allow-list).
    host_hints: String,
    errors: Errors,
}

impl NewInstancePage {
    /// The error on `field`, if any (for the template).
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.of(field)
    }
}

/// The newest installed version of `connector`, or the 404 page's error.
fn newest(
    state: &AppState,
    connector: &str,
) -> Result<std::sync::Arc<ConnectorVersion>, ServiceError> {
    state
        .registry
        .versions(connector)
        .pop()
        .ok_or(ServiceError::NotFound("ce connecteur n'est pas installé"))
}

/// What the form shows.
struct Typed {
    id: String,
    fields: Vec<SettingField>,
    hosts: String,
    errors: Vec<ErrorView>,
}

fn new_instance_page(desk: Desk, version: &ConnectorVersion, typed: Typed) -> Response {
    let description = version.description();
    let errors = Errors(typed.errors);
    page(
        errors.status(),
        &NewInstancePage {
            desk,
            connector: description.name.clone(),
            version: version.version().to_owned(),
            summary: description.summary.clone(),
            instance_id: typed.id,
            fields: typed.fields,
            hosts: typed.hosts,
            host_hints: description.hosts.join(", "),
            errors,
        },
    )
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(connector): Path<String>,
) -> Response {
    let version = match newest(&state, &connector) {
        Ok(version) => version,
        Err(error) => return failure(&site, error),
    };
    let typed = Typed {
        id: String::new(),
        fields: settings::fields(&version.description().config_schema, &Map::new()),
        hosts: String::new(),
        errors: Vec::new(),
    };
    new_instance_page(admin.desk(site), &version, typed)
}

pub(super) async fn create(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(connector): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let version = match newest(&state, &connector) {
        Ok(version) => version,
        Err(error) => return failure(&site, error),
    };
    let id = posted.text(ID_FIELD);
    let hosts = posted.raw(HOSTS_FIELD);
    let mut fields = settings::fields(&version.description().config_schema, &Map::new());
    let (values, mut errors) = settings::read(&mut fields, &posted, &Map::new());
    if id.is_empty() {
        errors.push(ErrorView::on(
            ID_FIELD,
            "Saisissez l'identifiant de l'instance.",
        ));
    } else if state.registry.instance(&id).is_some() {
        errors.push(ErrorView::on(
            ID_FIELD,
            format!("Une instance « {id} » existe déjà : choisissez un autre identifiant."),
        ));
    }
    if errors.is_empty() {
        let config = InstanceConfig {
            id: id.clone(),
            connector: connector.clone(),
            settings: Value::Object(values.clone()),
            allowed_hosts: allowed_hosts(&hosts),
            timeout_ms: None,
            memory_mib: None,
            http: Default::default(),
        };
        match service::configure(&state.guichet(), config, Some(version.version())).await {
            Ok(_) => {
                return see_other(&format!(
                    "/admin/connecteurs/instances/{}?fait=creation",
                    urlencoded(&id)
                ));
            }
            Err(ServiceError::Registry(error)) => {
                errors = configuration_errors(*error, &mut fields, &values);
            }
            Err(error) => return failure(&site, error),
        }
    }
    let typed = Typed {
        id,
        fields,
        hosts,
        errors,
    };
    new_instance_page(admin.desk(site), &version, typed)
}
