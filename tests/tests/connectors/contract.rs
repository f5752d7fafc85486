//! Released contract versions stay covered: each version the host supports
//! has a committed component built against it (`tests/fixtures/`, see its
//! README), which loads and answers through that version's bindings even
//! after the SDK and the first-party connectors have moved to a newer one.

use std::path::{Path, PathBuf};

use guichet_host::connectors::contract;
use guichet_host::connectors::journal::Outcome;
use guichet_host::connectors::model::Operation;

use super::*;

/// `tests/fixtures/connector@<version>/`.
fn fixtures_of(id: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(contract::wit_folder(id))
}

/// The ATAL connector as built against `guichet:connector@0.1.0`.
fn atal_0_1_0() -> PathBuf {
    fixtures_of("guichet:connector@0.1.0").join("atal.wasm")
}

#[tokio::test]
async fn every_supported_contract_has_a_committed_component_that_loads() {
    let (registry, _) = registry();
    for id in contract::supported() {
        let dir = fixtures_of(id);
        let components: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{id}: no fixtures in {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .collect();
        assert!(!components.is_empty(), "{id}: no component in {dir:?}");

        for path in components {
            let version = registry
                .install_file(&path)
                .await
                .unwrap_or_else(|e| panic!("{} installs: {e}", path.display()));
            assert_eq!(version.description().contract, id, "{}", path.display());
        }
    }
}

#[tokio::test]
async fn a_component_built_against_0_1_0_answers_every_operation() {
    let (registry, sim, journal) = with_atal_component(&atal_0_1_0()).await;

    let availability = registry.check("atal-ville").await.expect("check");
    let receipt = transmit_signalement(&registry, "SIG-2026-000010").await;
    vendor_agent_answers(
        &sim,
        &receipt,
        atal_sim::StateCode::Done,
        "Équipe voirie Nord",
        "Trou rebouché.",
    );
    let status = registry
        .status("atal-ville", &receipt.remote_id)
        .await
        .expect("status");
    let thematic = registry
        .lookup(
            "atal-ville",
            LookupQuery {
                id: Some("12".into()),
                ..query("thematics", None, &[])
            },
        )
        .await
        .expect("lookup");
    let card = registry
        .card("atal-ville", &receipt.remote_id)
        .await
        .expect("card");
    let unknown = registry
        .status("atal-ville", "00000000-0000-0000-0000-000000000000")
        .await;

    // describe: every field of the description crossed the boundary.
    let installed = registry.versions("atal");
    let description = installed[0].description();
    assert_eq!(description.contract, "guichet:connector@0.1.0");
    assert_eq!(description.name, "atal");
    assert_eq!(
        description.operations,
        [
            Operation::Check,
            Operation::Transmit,
            Operation::Status,
            Operation::Lookup,
            Operation::Card
        ]
    );
    assert!(description.config_schema["properties"]["api_key"].is_object());
    assert!(
        description
            .data_sources
            .iter()
            .any(|s| s.name == "thematics")
    );
    // check, transmit (with the demande's attachment), status, lookup, card.
    assert!(availability.available);
    assert_eq!(availability.remote_version.as_deref(), Some("6.0-sim"));
    let records = sim.works_requests();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id.to_string(), receipt.remote_id);
    assert_eq!(records[0].object, "Nid de poule dangereux");
    assert_eq!(records[0].attachments[0].file_name, "trou.jpg");
    assert_eq!(status.code, "DONE");
    assert!(status.is_final);
    assert_eq!(status.comments[0].text, "Trou rebouché.");
    let thematic: Vec<(&str, &str)> = thematic
        .iter()
        .map(|i| (i.id.as_str(), i.text.as_str()))
        .collect();
    assert_eq!(thematic, [("12", "Voirie - nid de poule")]);
    let number = receipt.display_id.expect("display id");
    assert_eq!(card.title, format!("ATAL — {number}"));
    // A connector error keeps its variant.
    assert!(matches!(
        connector_error(unknown),
        ConnectorError::NotFound(_)
    ));
    // The imports: outbound HTTP, logs and the secret, masked, in the journal.
    let transmitted = journal
        .records()
        .into_iter()
        .find(|r| r.instance == "atal-ville" && r.operation == Operation::Transmit)
        .expect("transmit journaled");
    assert_eq!(transmitted.outcome, Outcome::Ok);
    assert!(
        transmitted
            .logs
            .iter()
            .any(|l| l.message == "demande d'intervention créée"),
        "{:?}",
        transmitted.logs
    );
    assert!(
        transmitted
            .http
            .iter()
            .any(|e| e.method == "POST" && e.url.ends_with("/api/WorksRequests")),
        "{:?}",
        transmitted.http
    );
    let everything = serde_json::to_string(&journal.records()).expect("json");
    assert!(!everything.contains(guichet_tests::ATAL_KEY));
}
