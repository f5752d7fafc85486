//! `/api/connectors`: installed connectors (upload of a component), their
//! instances (configuration), calls by hand, version activation and
//! rollback, and the call journal (durable: read from the store, every
//! host's calls, per instance or connector or demande). Administrators only: the Administrateur
//! role on every démarche, or a machine token with the `administration`
//! scope (see [`super::auth`]).
//!
//! An instance's configuration also says how the platform uses it: the
//! account link it offers usagers (`link`: which data source of the
//! connector proves it, and the parameters an usager gives) and how often
//! transmitted records are read back (`sync_every_minutes`).
//!
//! Installing, configuring, activating and rolling back are persisted
//! ([`crate::service::connectors`]): a restarted host serves the same
//! instances. No answer holds a secret: the settings a connector marks
//! `"x-secret"` read `"********"`, and sending `"********"` back keeps the
//! secret's value.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::extract::{ApiJson, ApiPath, ApiQuery, body_bytes, media_type};
use super::routes::{Access, ApiRouter, Body, Doc};
use super::{Admin, ApiError, AppState, ErrorCode};
use crate::connectors::model::{
    Availability, Card, Demande, Description, LookupItem, LookupQuery, Receipt, RemoteStatus,
};
use crate::connectors::registry::InstanceInfo;
use crate::connectors::{ConnectorVersion, InstanceConfig};
use crate::service::connectors::{self as service, COMPONENT_LIMIT};
use crate::service::journal::{self as service_journal, Filter};
use chrono::{DateTime, Utc};
use guichet_core::id::DemandeId;
use guichet_store::connector::{CallId, ConnectorCall};
use guichet_store::registry::{InstanceUse, LinkSource};
use uuid::Uuid;

/// The routes.
pub fn router() -> ApiRouter {
    let admin = Access::Administrator;
    ApiRouter::new()
        .get(
            "/api/connectors",
            list,
            Doc::new("Connecteurs installés et leurs versions", admin).json(),
        )
        .post(
            "/api/connectors",
            install,
            Doc::new(
                "Installer une version de connecteur (le composant WebAssembly en corps, 64 Mio au plus)",
                admin,
            )
            .reads(Body::Component)
            .json()
            .status(201),
        )
        .get(
            "/api/connectors/instances",
            instances,
            Doc::new(
                "Instances configurées et leur version active (secrets masqués)",
                admin,
            )
            .gives::<Vec<InstanceView>>(),
        )
        .get(
            "/api/connectors/instances/{id}",
            instance,
            Doc::new("Une instance configurée (secrets masqués)", admin).gives::<InstanceView>(),
        )
        .put(
            "/api/connectors/instances/{id}",
            configure,
            Doc::new(
                "Créer ou remplacer la configuration d'une instance ; un secret envoyé masqué (\"********\") garde sa valeur",
                admin,
            )
            .takes::<InstanceBody>()
            .gives::<InstanceView>(),
        )
        .post(
            "/api/connectors/instances/{id}/check",
            check,
            Doc::new("Vérifier la disponibilité d'une instance", admin).json(),
        )
        .post(
            "/api/connectors/instances/{id}/lookup",
            lookup,
            Doc::new(
                "Interroger une source de données ({source, q?, id?, params?})",
                admin,
            )
            .takes::<LookupQuery>()
            .json(),
        )
        .post(
            "/api/connectors/instances/{id}/transmit",
            transmit,
            Doc::new(
                "Transmettre une demande à la main ({demande, idempotency_key})",
                admin,
            )
            .takes::<TransmitBody>()
            .json(),
        )
        .get(
            "/api/connectors/instances/{id}/status/{remote_id}",
            status,
            Doc::new("Lire le statut distant d'une demande", admin).json(),
        )
        .get(
            "/api/connectors/instances/{id}/card/{remote_id}",
            card,
            Doc::new("Lire la fiche distante d'une demande", admin).json(),
        )
        .post(
            "/api/connectors/instances/{id}/activate",
            activate,
            Doc::new("Activer une version installée ({version})", admin)
                .takes::<ActivateBody>()
                .gives::<InstanceInfo>(),
        )
        .post(
            "/api/connectors/instances/{id}/rollback",
            rollback,
            Doc::new("Revenir à la version précédente", admin).gives::<InstanceInfo>(),
        )
        .get(
            "/api/connectors/instances/{id}/journal",
            instance_journal,
            Doc::new(
                "Journal des appels d'une instance, les plus récents d'abord (secrets masqués)",
                admin,
            )
            .query::<LimitQuery>()
            .gives::<Vec<JournalEntry>>(),
        )
        .get(
            "/api/connectors/journal",
            journal,
            Doc::new(
                "Journal des appels, les plus récents d'abord (filtres instance, connector, demande, limit ; secrets masqués)",
                admin,
            )
            .query::<JournalQuery>()
            .gives::<Vec<JournalEntry>>(),
        )
}

/// An installed connector and its versions.
#[derive(Serialize)]
struct Installed {
    name: String,
    versions: Vec<InstalledVersion>,
}

#[derive(Serialize)]
struct InstalledVersion {
    description: Description,
    sha256: String,
    size: usize,
}

impl From<&ConnectorVersion> for InstalledVersion {
    fn from(version: &ConnectorVersion) -> Self {
        InstalledVersion {
            description: version.description().clone(),
            sha256: version.digest().to_string(),
            size: version.size(),
        }
    }
}

async fn list(_: Admin, State(state): State<AppState>) -> Json<Vec<Installed>> {
    let registry = &state.registry;
    Json(
        registry
            .connectors()
            .into_iter()
            .map(|name| Installed {
                versions: registry
                    .versions(&name)
                    .iter()
                    .map(|v| InstalledVersion::from(v.as_ref()))
                    .collect(),
                name,
            })
            .collect(),
    )
}

async fn install(
    _: Admin,
    State(state): State<AppState>,
    request: Request,
) -> Result<(StatusCode, Json<InstalledVersion>), ApiError> {
    let media_type = media_type(request.headers());
    if !["application/wasm", "application/octet-stream"].contains(&media_type.as_str()) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "le corps doit être un composant WebAssembly (Content-Type: application/wasm)",
        ));
    }
    let bytes = body_bytes(request, COMPONENT_LIMIT).await?;
    let version = service::install(&state.guichet(), bytes.to_vec()).await?;
    Ok((
        StatusCode::CREATED,
        Json(InstalledVersion::from(version.as_ref())),
    ))
}

/// An instance as an administrator sees it: its configuration (secrets
/// masked) and how the platform uses it.
#[derive(Serialize, JsonSchema)]
struct InstanceView {
    #[serde(flatten)]
    info: InstanceInfo,
    /// The account link the instance offers: the data source that proves
    /// it and the parameters an usager gives; none when absent.
    link: Option<LinkSetting>,
    /// Minutes between two readings of a transmitted record; the
    /// démarche's interval when absent.
    sync_every_minutes: Option<u32>,
}

impl InstanceView {
    fn new(info: InstanceInfo, uses: InstanceUse) -> Self {
        InstanceView {
            info,
            link: uses.link.map(|link| LinkSetting {
                source: link.source,
                usager_params: link.usager_params,
            }),
            sync_every_minutes: uses.sync_every_minutes,
        }
    }
}

/// The data source of the connector that proves an usager's account link.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LinkSetting {
    /// A data source of the connector (`family-link`).
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    source: String,
    /// The only parameters an usager may give it (`family-code`,
    /// `secret`), all required; agents may give any the source takes.
    #[schemars(length(min = 1, max = service::MAX_LINK_PARAMS))]
    usager_params: Vec<String>,
}

async fn instances(
    _: Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<InstanceView>>, ApiError> {
    let guichet = state.guichet();
    let mut views = Vec::new();
    for info in state.registry.instances() {
        let uses = service::instance_use(&guichet, &info.id).await?;
        views.push(InstanceView::new(info, uses));
    }
    Ok(Json(views))
}

async fn instance(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstanceView>, ApiError> {
    let info = state.registry.instance(&id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::ConnectorNotFound,
            format!("instance de connecteur inconnue : « {id} »"),
        )
    })?;
    let uses = service::instance_use(&state.guichet(), &id).await?;
    Ok(Json(InstanceView::new(info, uses)))
}

/// The configuration of an instance.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct InstanceBody {
    /// The connector's name (`atal`): one installed.
    connector: String,
    /// The version to run: an installed version of the connector; the
    /// latest when absent.
    #[serde(default)]
    version: Option<String>,
    /// The settings, checked against the connector's configuration schema
    /// (`config_schema` of its description); secrets included.
    #[serde(default)]
    settings: serde_json::Map<String, serde_json::Value>,
    /// Allowed outbound destinations, `scheme://host:port`.
    #[serde(default)]
    allowed_hosts: Vec<String>,
    /// Call deadline in milliseconds (default 10,000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 300_000))]
    timeout_ms: Option<u64>,
    /// Memory cap of one call in MiB (default 64).
    #[serde(default)]
    #[schemars(range(min = 1, max = 256))]
    memory_mib: Option<u64>,
    /// The account link the instance offers usagers (none when absent).
    #[serde(default)]
    link: Option<LinkSetting>,
    /// Minutes between two readings of a transmitted record (the
    /// démarches' `connector.sync.every_minutes` when absent).
    #[serde(default)]
    #[schemars(range(min = 1, max = service::MAX_SYNC_MINUTES))]
    sync_every_minutes: Option<u32>,
    // Outbound HTTP limits are the defaults (`HttpPolicy`): not set
    // through the API.
}

async fn configure(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<InstanceBody>,
) -> Result<Json<InstanceView>, ApiError> {
    let config = InstanceConfig {
        id,
        connector: body.connector,
        settings: serde_json::Value::Object(body.settings),
        allowed_hosts: body.allowed_hosts,
        timeout_ms: body.timeout_ms,
        memory_mib: body.memory_mib,
        http: Default::default(),
    };
    let uses = InstanceUse {
        link: body.link.map(|link| LinkSource {
            source: link.source,
            usager_params: link.usager_params,
        }),
        sync_every_minutes: body.sync_every_minutes,
    };
    let (info, uses) =
        service::configure_with_use(&state.guichet(), config, body.version.as_deref(), uses)
            .await?;
    Ok(Json(InstanceView::new(info, uses)))
}

async fn check(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Availability>, ApiError> {
    let guichet = state.guichet();
    let check = guichet.registry.check(&id);
    Ok(Json(service_journal::by_hand(&guichet, check).await?))
}

async fn lookup(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(query): ApiJson<LookupQuery>,
) -> Result<Json<Vec<LookupItem>>, ApiError> {
    let guichet = state.guichet();
    let lookup = guichet.registry.lookup(&id, query);
    Ok(Json(service_journal::by_hand(&guichet, lookup).await?))
}

/// A demande to transmit by hand.
#[derive(Deserialize, JsonSchema)]
struct TransmitBody {
    /// The demande, as connectors receive it.
    demande: Demande,
    /// The key that makes a repeated transmission harmless.
    #[schemars(extend("pattern" = crate::http::openapi::NON_BLANK))]
    idempotency_key: String,
}

async fn transmit(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TransmitBody>,
) -> Result<Json<Receipt>, ApiError> {
    if body.idempotency_key.trim().is_empty() {
        return Err(ApiError::invalid("la clé d'idempotence est obligatoire"));
    }
    let guichet = state.guichet();
    let transmit = guichet
        .registry
        .transmit(&id, body.demande, &body.idempotency_key, None);
    Ok(Json(service_journal::by_hand(&guichet, transmit).await?))
}

async fn status(
    _: Admin,
    State(state): State<AppState>,
    ApiPath((id, remote_id)): ApiPath<(String, String)>,
) -> Result<Json<RemoteStatus>, ApiError> {
    let guichet = state.guichet();
    let status = guichet.registry.status(&id, &remote_id);
    Ok(Json(service_journal::by_hand(&guichet, status).await?))
}

async fn card(
    _: Admin,
    State(state): State<AppState>,
    ApiPath((id, remote_id)): ApiPath<(String, String)>,
) -> Result<Json<Card>, ApiError> {
    let guichet = state.guichet();
    let card = guichet.registry.card(&id, &remote_id);
    Ok(Json(service_journal::by_hand(&guichet, card).await?))
}

/// The version to activate.
#[derive(Deserialize, JsonSchema)]
struct ActivateBody {
    /// An installed version of the instance's connector.
    version: String,
}

async fn activate(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ActivateBody>,
) -> Result<Json<InstanceInfo>, ApiError> {
    Ok(Json(
        service::activate(&state.guichet(), &id, &body.version).await?,
    ))
}

async fn rollback(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstanceInfo>, ApiError> {
    Ok(Json(service::rollback(&state.guichet(), &id).await?))
}

/// Filters of the call journal.
#[derive(Deserialize, JsonSchema)]
struct JournalQuery {
    /// Only the calls of this instance.
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    instance: Option<String>,
    /// Only the calls of this connector (by name, every version).
    #[schemars(extend("pattern" = crate::http::openapi::TEXT))]
    connector: Option<String>,
    /// Only the calls made for this demande.
    demande: Option<Uuid>,
    /// The newest calls to return: 100 when absent; over 1,000 counts as
    /// 1,000.
    #[schemars(extend("maximum" = u32::MAX))]
    limit: Option<u32>,
}

/// How many journal entries to return.
#[derive(Deserialize, JsonSchema)]
struct LimitQuery {
    /// The newest calls to return: 100 when absent; over 1,000 counts as
    /// 1,000.
    #[schemars(extend("maximum" = u32::MAX))]
    limit: Option<u32>,
}

/// One connector call, as the journal keeps it (secrets masked).
#[derive(Debug, Serialize, JsonSchema)]
pub struct JournalEntry {
    /// Identifier of the entry.
    pub id: Uuid,
    /// When the call started (the platform's clock).
    pub at: DateTime<Utc>,
    /// The connector's name (`atal`).
    pub connector: String,
    /// Its version (`1.0.0`).
    pub version: String,
    /// The instance (`atal-ville`).
    pub instance: String,
    /// The operation (`transmit`, `status`, `card`, `lookup`, `check`).
    pub operation: String,
    /// The demande the call was made for, if any.
    pub demande: Option<Uuid>,
    /// The job whose attempt made it (a transmission, a reading of the
    /// vendor's record), written with the attempt's outcome.
    pub job: Option<Uuid>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// How it ended (`ok`, `connector_error`, `trap`, `timeout`…).
    pub outcome: String,
    /// The error, if any (secrets masked).
    pub error: Option<String>,
    /// The structured logs the connector wrote (erased when the demande is
    /// anonymised).
    pub logs: serde_json::Value,
    /// Its HTTP exchanges with the vendor: method, masked URL, status,
    /// duration (erased when the demande is anonymised).
    pub exchanges: serde_json::Value,
}

impl From<(CallId, ConnectorCall)> for JournalEntry {
    fn from((id, call): (CallId, ConnectorCall)) -> Self {
        JournalEntry {
            id: id.0,
            at: call.at,
            connector: call.connector,
            version: call.connector_version,
            instance: call.instance,
            operation: call.operation,
            demande: call.demande.map(|d| d.uuid()),
            job: call.job.map(|j| j.0),
            duration_ms: call.duration_ms,
            outcome: call.outcome,
            error: call.error,
            logs: call.logs,
            exchanges: call.exchanges,
        }
    }
}

async fn journal(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JournalQuery>,
) -> Result<Json<Vec<JournalEntry>>, ApiError> {
    let filter = Filter {
        instance: query.instance,
        connector: query.connector,
        demande: query.demande.map(DemandeId::from_uuid),
        limit: query.limit,
    };
    let entries = service_journal::entries(&state.guichet(), filter).await?;
    Ok(Json(entries.into_iter().map(JournalEntry::from).collect()))
}

async fn instance_journal(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<LimitQuery>,
) -> Result<Json<Vec<JournalEntry>>, ApiError> {
    let filter = Filter {
        instance: Some(id),
        limit: query.limit,
        ..Filter::default()
    };
    let entries = service_journal::entries(&state.guichet(), filter).await?;
    Ok(Json(entries.into_iter().map(JournalEntry::from).collect()))
}
