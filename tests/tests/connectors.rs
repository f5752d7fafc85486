//! Every operation of the first-party connectors, as real WebAssembly
//! components, against the simulated vendor servers over real HTTP: ATAL
//! here, Espace famille in `connectors/espace_famille.rs`, the SMS gateway
//! in `connectors/sms.rs`; and (`connectors/contract.rs`) the committed
//! components built against each released contract version.

#[path = "connectors/contract.rs"]
mod contract;
#[path = "connectors/espace_famille.rs"]
mod espace_famille;
#[path = "connectors/sms.rs"]
mod sms;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use guichet_host::connectors::host::MemoryAttachments;
use guichet_host::connectors::instance::ConfigError;
use guichet_host::connectors::journal::Outcome;
use guichet_host::connectors::model::{
    Address, AttachmentRef, Choice, ConnectorError, Demande, Field, FieldValue, Identity,
    LookupItem, LookupQuery, Receipt,
};
use guichet_host::connectors::registry::RegistryError;
use guichet_host::connectors::{CallError, Registry};
use guichet_tests::{atal, atal_config, components, espace_famille, famille_config, registry};

fn field(id: &str, value: FieldValue) -> Field {
    Field {
        id: id.into(),
        label: id.into(),
        value,
    }
}

fn choice(value: &str, label: &str) -> FieldValue {
    FieldValue::Choice(Choice {
        value: value.into(),
        label: label.into(),
    })
}

fn usager() -> Identity {
    Identity {
        first_name: "Léa".into(),
        last_name: "Martin".into(),
        email: Some("lea.martin@example.org".into()),
        mobile: Some("0612345678".into()),
        ..Identity::default()
    }
}

fn signalement(numero: &str) -> Demande {
    Demande {
        id: format!("id-{numero}"),
        numero: numero.into(),
        demarche: "signalement-voie-publique".into(),
        demarche_version: 1,
        submitted_at: "2026-11-29T09:30:00Z".into(),
        usager: usager(),
        fields: vec![
            field("objet", FieldValue::Text("Nid de poule dangereux".into())),
            field(
                "description",
                FieldValue::Text("Trou profond devant l'école.".into()),
            ),
            field("categorie", choice("12", "Voirie - nid de poule")),
            field(
                "adresse",
                FieldValue::Address(Address {
                    label: "12 rue de la République, 69001 Lyon".into(),
                    latitude: Some(45.767),
                    longitude: Some(4.836),
                    ..Address::default()
                }),
            ),
            field(
                "photos",
                FieldValue::Files(vec![AttachmentRef {
                    id: "pj-1".into(),
                    filename: "trou.jpg".into(),
                    media_type: "image/jpeg".into(),
                    size: 6,
                }]),
            ),
        ],
    }
}

fn photos() -> Arc<MemoryAttachments> {
    Arc::new(MemoryAttachments(HashMap::from([(
        "pj-1".to_string(),
        b"\xff\xd8\xff\xe0JF".to_vec(),
    )])))
}

/// Transmits the signalement `numero`, with its photo, to `atal-ville`.
async fn transmit_signalement(registry: &Registry, numero: &str) -> Receipt {
    registry
        .transmit(
            "atal-ville",
            signalement(numero),
            &numero.to_lowercase(),
            Some(photos()),
        )
        .await
        .expect("transmitted")
}

/// An agent of the simulated ATAL moves the request of `receipt` to
/// `state`, answering `text` as `author`.
fn vendor_agent_answers(
    sim: &atal_sim::Handle,
    receipt: &Receipt,
    state: atal_sim::StateCode,
    author: &str,
    text: &str,
) {
    sim.set_request_state(
        receipt.remote_id.parse().expect("uuid"),
        state,
        Some(atal_sim::NewResponse::new(author, text)),
    )
    .expect("the vendor agent answers");
}

async fn with_atal() -> (
    Arc<Registry>,
    atal_sim::Handle,
    Arc<guichet_host::connectors::journal::MemoryJournal>,
) {
    with_atal_component(components::ATAL.as_ref()).await
}

/// A registry with the ATAL component at `path` installed and its instance
/// `atal-ville` configured for a fresh simulated ATAL.
async fn with_atal_component(
    path: &std::path::Path,
) -> (
    Arc<Registry>,
    atal_sim::Handle,
    Arc<guichet_host::connectors::journal::MemoryJournal>,
) {
    let (registry, journal) = registry();
    let sim = atal().await;
    registry
        .install_file(path)
        .await
        .expect("ATAL connector installs");
    registry
        .configure(atal_config("atal-ville", &sim.base_url()), None)
        .expect("instance configured");
    (registry, sim, journal)
}

fn query(source: &str, q: Option<&str>, params: &[(&str, &str)]) -> LookupQuery {
    LookupQuery {
        source: source.into(),
        q: q.map(Into::into),
        id: None,
        params: params
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn connector_error(result: Result<impl std::fmt::Debug, RegistryError>) -> ConnectorError {
    match result {
        Err(RegistryError::Call(CallError::Connector(e))) => e,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

#[tokio::test]
async fn atal_check_reports_the_vendor_version() {
    let (registry, _sim, _) = with_atal().await;

    let availability = registry.check("atal-ville").await.expect("check answers");

    assert!(availability.available);
    assert_eq!(availability.remote_version.as_deref(), Some("6.0-sim"));
}

#[tokio::test]
async fn atal_transmit_creates_a_work_request_with_its_photo() {
    let (registry, sim, _) = with_atal().await;

    let receipt = transmit_signalement(&registry, "SIG-2026-000001").await;

    let records = sim.works_requests();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.id.to_string(), receipt.remote_id);
    assert_eq!(Some(record.request_number.clone()), receipt.display_id);
    assert_eq!(record.object, "Nid de poule dangereux");
    assert_eq!(record.request_type, "12");
    assert_eq!(record.latitude, Some(45.767));
    assert_eq!(record.attachments.len(), 1);
    assert_eq!(record.attachments[0].file_name, "trou.jpg");
}

#[tokio::test]
async fn atal_transmit_twice_with_the_same_key_creates_one_record() {
    let (registry, sim, _) = with_atal().await;

    let first = registry
        .transmit(
            "atal-ville",
            signalement("SIG-2026-000002"),
            "sig-2",
            Some(photos()),
        )
        .await
        .expect("first transmit");
    let second = registry
        .transmit(
            "atal-ville",
            signalement("SIG-2026-000002"),
            "sig-2",
            Some(photos()),
        )
        .await
        .expect("second transmit");

    assert_eq!(first, second);
    let records = sim.works_requests();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].attachments.len(),
        1,
        "the photo is not sent twice"
    );
}

#[tokio::test]
async fn atal_status_follows_the_vendor_agents() {
    let (registry, sim, _) = with_atal().await;
    let receipt = transmit_signalement(&registry, "SIG-2026-000003").await;

    let received = registry
        .status("atal-ville", &receipt.remote_id)
        .await
        .expect("status");
    vendor_agent_answers(
        &sim,
        &receipt,
        atal_sim::StateCode::Done,
        "Équipe voirie Nord",
        "Trou rebouché le jour même.",
    );
    let done = registry
        .status("atal-ville", &receipt.remote_id)
        .await
        .expect("status");

    assert_eq!(received.code, "RECEIVED");
    assert!(!received.is_final);
    assert_eq!(done.code, "DONE");
    assert!(done.is_final);
    assert_eq!(done.comments.len(), 1);
    assert_eq!(
        done.comments[0].author.as_deref(),
        Some("Équipe voirie Nord")
    );
}

#[tokio::test]
async fn atal_status_of_an_unknown_request_is_not_found() {
    let (registry, _sim, _) = with_atal().await;

    let result = registry
        .status("atal-ville", "00000000-0000-0000-0000-000000000000")
        .await;

    assert!(matches!(
        connector_error(result),
        ConnectorError::NotFound(_)
    ));
}

#[tokio::test]
async fn atal_lookup_lists_request_types_and_services() {
    let (registry, _sim, _) = with_atal().await;

    let thematics = registry
        .lookup("atal-ville", query("thematics", None, &[]))
        .await
        .expect("thematics");
    let lighting = registry
        .lookup("atal-ville", query("thematics", Some("eclairage"), &[]))
        .await
        .expect("search");
    let services = registry
        .lookup("atal-ville", query("requesting-services", None, &[]))
        .await
        .expect("services");
    let one = registry
        .lookup(
            "atal-ville",
            LookupQuery {
                id: Some("12".into()),
                ..query("thematics", None, &[])
            },
        )
        .await
        .expect("fetch by id");

    assert!(thematics.len() >= 8);
    assert!(!lighting.is_empty());
    assert!(
        lighting
            .iter()
            .all(|i| i.text.to_lowercase().contains("clairage"))
    );
    assert!(services.iter().any(|s| s.text == "Mairie annexe Nord"));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].text, "Voirie - nid de poule");
}

#[tokio::test]
async fn atal_card_shows_number_status_and_responses() {
    let (registry, sim, _) = with_atal().await;
    let receipt = transmit_signalement(&registry, "SIG-2026-000004").await;
    vendor_agent_answers(
        &sim,
        &receipt,
        atal_sim::StateCode::InProgress,
        "Équipe voirie",
        "Intervention prévue mardi.",
    );

    let card = registry
        .card("atal-ville", &receipt.remote_id)
        .await
        .expect("card");

    let number = receipt.display_id.expect("display id");
    assert_eq!(card.title, format!("ATAL — {number}"));
    let lines: Vec<String> = card
        .sections
        .iter()
        .flat_map(|s| {
            s.entries
                .iter()
                .map(|e| format!("{}: {}", e.label, e.value))
        })
        .collect();
    assert!(
        lines.contains(&"État: En cours de traitement".to_string()),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Intervention prévue mardi.")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn atal_with_a_wrong_api_key_is_a_configuration_error() {
    let (registry, _) = registry();
    let sim = atal().await;
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("installs");
    let mut config = atal_config("atal-faux", &sim.base_url());
    config.settings["api_key"] = "pas-la-bonne".into();
    registry.configure(config, None).expect("configured");

    let result = registry.check("atal-faux").await;

    assert!(matches!(
        connector_error(result),
        ConnectorError::Configuration(_)
    ));
}

#[tokio::test]
async fn atal_transmit_without_category_is_invalid_input_and_sends_nothing() {
    let (registry, sim, _) = with_atal().await;
    let mut demande = signalement("SIG-2026-000005");
    demande.fields.retain(|f| f.id != "categorie");

    let result = registry
        .transmit("atal-ville", demande, "sig-5", None)
        .await;

    assert!(matches!(
        connector_error(result),
        ConnectorError::InvalidInput(_)
    ));
    assert!(sim.works_requests().is_empty());
}

#[tokio::test]
async fn a_configuration_missing_a_required_secret_is_refused() {
    let (registry, _) = registry();
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("installs");
    let mut config = atal_config("atal-incomplet", "http://127.0.0.1:9");
    config.settings = serde_json::json!({ "base_url": "http://127.0.0.1:9" });

    let result = registry.configure(config, None);

    match result {
        Err(RegistryError::Config(ConfigError::Schema { problems, .. })) => {
            assert!(problems.contains("api_key"), "{problems}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
    assert!(registry.instance("atal-incomplet").is_none());
}

#[tokio::test]
async fn configuration_errors_are_listed_without_echoing_secrets() {
    let (registry, _) = registry();
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("installs");
    let mut config = atal_config("atal-errone", "http://127.0.0.1:9");
    config.settings = serde_json::json!({
        "base_url": "pas une url",
        "api_key": 12345678,
        "couleur": "bleu"
    });

    let error = registry
        .configure(config, None)
        .expect_err("refused")
        .to_string();

    assert!(error.contains("/base_url"), "{error}");
    assert!(error.contains("/api_key"), "{error}");
    assert!(error.contains("couleur"), "{error}");
    assert!(!error.contains("12345678"), "{error}");
}

#[tokio::test]
async fn bad_allow_list_entries_and_limits_are_refused() {
    let (registry, _) = registry();
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("installs");
    let mut wildcard = atal_config("atal-joker", "http://127.0.0.1:9");
    wildcard.allowed_hosts = vec!["https://*".into()];
    let mut memory = atal_config("atal-memoire", "http://127.0.0.1:9");
    memory.memory_mib = Some(100_000);

    assert!(matches!(
        registry.configure(wildcard, None),
        Err(RegistryError::Config(ConfigError::AllowList(_)))
    ));
    assert!(matches!(
        registry.configure(memory, None),
        Err(RegistryError::Config(ConfigError::Limit(_)))
    ));
}

#[tokio::test]
async fn a_vendor_that_is_down_fails_the_call_as_unavailable() {
    let (registry, sim, journal) = with_atal().await;
    sim.set_mode(atal_sim::Mode::Down);

    let result = registry.check("atal-ville").await;

    let error = connector_error(result);
    assert!(matches!(error, ConnectorError::Unavailable(_)), "{error:?}");
    assert!(error.is_retryable());
    let last = journal.records().pop().expect("journaled");
    assert_eq!(last.outcome, Outcome::ConnectorError);
    assert!(last.http[0].error.is_some());
}

#[tokio::test]
async fn a_failing_vendor_is_unavailable_then_recovers() {
    let (registry, sim, _) = with_atal().await;
    sim.set_mode(atal_sim::Mode::Fail);
    let failed = registry.check("atal-ville").await;
    sim.set_mode(atal_sim::Mode::Normal);
    let recovered = registry.check("atal-ville").await;

    assert!(matches!(
        connector_error(failed),
        ConnectorError::Unavailable(_)
    ));
    assert!(recovered.expect("recovered").available);
}

#[tokio::test]
async fn a_slow_vendor_hits_the_http_timeout() {
    let (registry, _) = registry();
    let sim = atal().await;
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("installs");
    let mut config = atal_config("atal-lent", &sim.base_url());
    config.http.total_timeout_ms = 200;
    registry.configure(config, None).expect("configured");
    sim.set_mode(atal_sim::Mode::Slow(std::time::Duration::from_secs(5)));

    let result = registry.check("atal-lent").await;

    let error = connector_error(result);
    assert!(
        matches!(&error, ConnectorError::Unavailable(m) if m.contains("délai")),
        "{error:?}"
    );
}

#[tokio::test]
async fn every_call_is_journaled_with_its_exchanges() {
    let (registry, _sim, journal) = with_atal().await;

    registry.check("atal-ville").await.expect("check");

    let record = journal.records().pop().expect("a record");
    assert_eq!(record.connector, "atal");
    assert_eq!(record.version, "1.0.0");
    assert_eq!(record.instance, "atal-ville");
    assert_eq!(record.operation.as_str(), "check");
    assert_eq!(record.outcome, Outcome::Ok);
    assert_eq!(record.http.len(), 1);
    assert!(record.http[0].url.ends_with("/api/Test"));
    assert_eq!(record.http[0].status, Some(200));
}

#[tokio::test]
async fn the_platform_journal_persists_every_call_in_the_store() {
    let dir = std::env::temp_dir().join(format!("guichet-journal-{}", uuid::Uuid::new_v4()));
    let store = guichet_store::Store::connect(
        &format!("sqlite://{}", dir.join("guichet.db").display()),
        guichet_store::FileStore::new(dir.join("files")),
    )
    .await
    .expect("store opens");
    let registry = guichet_host::app::persistent_registry(
        guichet_host::connectors::RuntimeConfig::new(guichet_tests::cache_dir()),
        store.clone(),
        std::sync::Arc::new(guichet_core::clock::SystemClock),
    )
    .expect("runtime starts");
    let sim = atal().await;
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("installs");
    registry
        .configure(atal_config("atal-ville", &sim.base_url()), None)
        .expect("configured");

    registry.check("atal-ville").await.expect("check");

    let query = guichet_store::connector::CallQuery {
        instance: Some("atal-ville".into()),
        limit: 10,
        ..Default::default()
    };
    let persisted = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let calls = store.connector_calls(&query).await.expect("read");
            if !calls.is_empty() {
                return calls;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the call is persisted");
    assert_eq!(persisted.len(), 1, "{persisted:?}");
    assert_eq!(persisted[0].1.operation, "check");
    assert_eq!(persisted[0].1.outcome, "ok");
    let _ = std::fs::remove_dir_all(dir);
}
