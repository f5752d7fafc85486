//! `/admin/connecteurs/instances/{id}`: one instance — its connector and
//! versions, its configuration form generated from the active version's
//! schema (`super::settings`) with its allowed addresses, and the
//! availability check (the connector's `check` operation, when it has
//! one, called and journaled as the API's call by hand is:
//! `service::journal::by_hand`). The last calls are linked to the
//! journal's page, filtered on the instance.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::journal::{self, EntryView};
use super::settings::{self, FORM_ANCHOR, SettingField};
use super::{Admin, sentence};
use crate::connectors::InstanceConfig;
use crate::connectors::instance::ConfigError;
use crate::connectors::model::{Description, Operation};
use crate::connectors::registry::{InstanceInfo, RegistryError};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::connectors as service;
use crate::service::journal::{self as service_journal, Filter};
use crate::web::back_office::Desk;
use crate::web::session::Checked;
use crate::web::{ErrorView, Errors, Site, failure, page, see_other, urlencoded};

/// The calls the page shows.
const LAST_CALLS: u32 = 10;

/// The id of the allowed addresses' input.
pub(super) const HOSTS_FIELD: &str = "hotes";

/// The id of a new instance's id input.
pub(super) const ID_FIELD: &str = "identifiant";

/// What the availability check answered.
struct CheckView {
    available: bool,
    message: String,
    remote_version: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/instance.html")]
struct InstancePage {
    desk: Desk,
    id: String,
    connector: String,
    version: String,
    previous: Option<String>,
    summary: String,
    fields: Vec<SettingField>,
    /// The allowed addresses, one a line.
    hosts: String,
    /// The connector's host patterns (a hint for the allow-list).
    host_hints: String,
    /// The connector implements `check`.
    checkable: bool,
    check: Option<CheckView>,
    done: Option<String>,
    errors: Errors,
    /// The journal's address for this instance.
    journal: String,
    /// Its last calls.
    entries: Vec<EntryView>,
    calls_caption: String,
}

impl InstancePage {
    /// The error on `field`, if any (for the template).
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.of(field)
    }
}

/// An instance and the description of its active version.
struct Found {
    info: InstanceInfo,
    description: Description,
}

/// The instance `id` as it runs, or the 404 page.
fn find(state: &AppState, id: &str) -> Result<Found, ServiceError> {
    let info = state.registry.instance(id).ok_or(ServiceError::NotFound(
        "cette instance de connecteur n'existe pas",
    ))?;
    let description = state
        .registry
        .versions(&info.connector)
        .into_iter()
        .find(|v| v.version() == info.version)
        .map(|v| v.description().clone())
        .ok_or(ServiceError::NotFound(
            "cette instance de connecteur n'existe pas",
        ))?;
    Ok(Found { info, description })
}

/// What the page shows besides the instance.
#[derive(Default)]
struct Shown {
    fields: Option<Vec<SettingField>>,
    hosts: Option<String>,
    check: Option<CheckView>,
    done: Option<String>,
    errors: Errors,
}

async fn instance_page(
    state: &AppState,
    site: &Site,
    desk: Desk,
    found: Found,
    shown: Shown,
) -> Response {
    let Found { info, description } = found;
    let last = Filter {
        instance: Some(info.id.clone()),
        limit: Some(LAST_CALLS),
        ..Filter::default()
    };
    let entries = match journal::entries(state, last, None, None).await {
        Ok(entries) => entries,
        Err(error) => return failure(site, error),
    };
    let fields = shown
        .fields
        .unwrap_or_else(|| settings::fields(&description.config_schema, &info.settings));
    let status = if shown.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &InstancePage {
            desk,
            journal: format!(
                "/admin/connecteurs/journal?instance={}",
                urlencoded(&info.id)
            ),
            hosts: shown.hosts.unwrap_or_else(|| info.allowed_hosts.join("\n")),
            host_hints: description.hosts.join(", "),
            checkable: description.operations.contains(&Operation::Check),
            summary: description.summary,
            id: info.id,
            connector: info.connector,
            version: info.version,
            previous: info.previous_version,
            fields,
            check: shown.check,
            done: shown.done,
            errors: shown.errors,
            entries,
            calls_caption: format!("Les {LAST_CALLS} derniers appels au plus"),
        },
    )
}

/// What the address says was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    fait: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let found = match find(&state, &id) {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let done = match done.fait.as_str() {
        "configuration" => {
            Some("La configuration est enregistrée : les prochains appels l'utilisent.")
        }
        "creation" => Some(
            "L'instance est créée : vérifiez sa disponibilité, puis utilisez-la dans les démarches par son identifiant.",
        ),
        _ => None,
    }
    .map(str::to_owned);
    instance_page(
        &state,
        &site,
        admin.desk(site.clone()),
        found,
        Shown {
            done,
            ..Shown::default()
        },
    )
    .await
}

pub(super) async fn configure(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let found = match find(&state, &id) {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let Some(current) = state.registry.config(&id) else {
        return failure(
            &site,
            ServiceError::NotFound("cette instance de connecteur n'existe pas"),
        );
    };
    let stored = match &current.settings {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    let mut fields = settings::fields(&found.description.config_schema, &found.info.settings);
    let (settings, errors) = settings::read(&mut fields, &posted, &stored);
    let hosts_text = posted.raw(HOSTS_FIELD);
    let hosts = allowed_hosts(&hosts_text);
    let desk = admin.desk(site.clone());
    let show_again = |fields: Vec<SettingField>, errors: Vec<ErrorView>, found: Found| {
        instance_page(
            &state,
            &site,
            desk.clone(),
            found,
            Shown {
                fields: Some(fields),
                hosts: Some(hosts_text.clone()),
                errors: Errors(errors),
                ..Shown::default()
            },
        )
    };
    if !errors.is_empty() {
        return show_again(fields, errors, found).await;
    }
    let config = InstanceConfig {
        id: id.clone(),
        connector: found.info.connector.clone(),
        settings: Value::Object(settings.clone()),
        allowed_hosts: hosts,
        timeout_ms: current.timeout_ms,
        memory_mib: current.memory_mib,
        http: current.http.clone(),
    };
    let version = found.info.version.clone();
    match service::configure(&state.guichet(), config, Some(&version)).await {
        Ok(_) => see_other(&format!(
            "/admin/connecteurs/instances/{}?fait=configuration",
            urlencoded(&id)
        )),
        Err(ServiceError::Registry(error)) => {
            let errors = configuration_errors(*error, &mut fields, &settings);
            show_again(fields, errors, found).await
        }
        Err(error) => failure(&site, error),
    }
}

/// The errors of a configuration the registry refused, on the settings'
/// fields (marked in `fields`), the allowed addresses, the instance's id
/// ([`ID_FIELD`], when it is created) or the form as a whole.
pub(super) fn configuration_errors(
    error: RegistryError,
    fields: &mut [SettingField],
    settings: &serde_json::Map<String, Value>,
) -> Vec<ErrorView> {
    let whole = |text: &str, field: &str, label: Option<&str>| ErrorView {
        field: field.to_owned(),
        anchor: field.to_owned(),
        message: format!("{}.", sentence(text)),
        label: label.map(str::to_owned),
    };
    match error {
        RegistryError::Config(ConfigError::Schema {
            settings: problems,
            problems: text,
            ..
        }) => {
            let errors = settings::problems(fields, &problems, settings);
            if errors.is_empty() {
                vec![whole(&text, FORM_ANCHOR, None)]
            } else {
                errors
            }
        }
        RegistryError::Config(ConfigError::AllowList(problem)) => vec![whole(
            &problem.to_string(),
            HOSTS_FIELD,
            Some("Adresses autorisées"),
        )],
        RegistryError::Config(bad @ ConfigError::BadId(_)) => {
            vec![whole(&bad.to_string(), ID_FIELD, Some("Identifiant"))]
        }
        other => vec![whole(&other.to_string(), FORM_ANCHOR, None)],
    }
}

/// The allowed addresses typed, one a line.
pub(super) fn allowed_hosts(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) async fn check(
    State(state): State<AppState>,
    site: Site,
    admin: Admin,
    Path(id): Path<String>,
    Checked(_): Checked,
) -> Response {
    let found = match find(&state, &id) {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let guichet = state.guichet();
    let answer = service_journal::by_hand(&guichet, guichet.registry.check(&id)).await;
    let check = match answer {
        Ok(availability) => CheckView {
            available: availability.available,
            message: availability.message,
            remote_version: availability.remote_version,
        },
        // The call failed: the vendor, or the connector, did not answer.
        Err(ServiceError::Registry(error)) => CheckView {
            available: false,
            message: format!("{}.", sentence(&error.to_string())),
            remote_version: None,
        },
        Err(error) => return failure(&site, error),
    };
    instance_page(
        &state,
        &site,
        admin.desk(site.clone()),
        found,
        Shown {
            check: Some(check),
            ..Shown::default()
        },
    )
    .await
}
