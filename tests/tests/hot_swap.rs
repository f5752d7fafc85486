//! Swapping a connector version while calls run: calls in flight finish on
//! the version they started with, new calls use the new one, nothing fails,
//! and the previous version stays for rollback.

use std::time::Duration;

use guichet_host::connectors::registry::RegistryError;
use guichet_tests::{components, instance_config, registry};

fn config(behaviour: &str) -> guichet_host::connectors::InstanceConfig {
    instance_config(
        "echange",
        "hostile",
        "http://127.0.0.1:1",
        serde_json::json!({ "behaviour": behaviour }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_swaps_versions_and_rollback_returns() {
    let (registry, _) = registry();
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("v1 installs");
    registry
        .install_file(components::HOSTILE_V2.as_ref())
        .await
        .expect("v2 installs");
    registry
        .configure(config("version"), Some("0.1.0"))
        .expect("configured on v1");

    let before = registry.check("echange").await.expect("v1 answers").message;
    let info = registry.activate("echange", "0.2.0").expect("v2 activated");
    let after = registry.check("echange").await.expect("v2 answers").message;
    let rolled_back = registry.rollback("echange").expect("rolled back");
    let again = registry
        .check("echange")
        .await
        .expect("v1 answers again")
        .message;

    assert_eq!(
        (before.as_str(), after.as_str(), again.as_str()),
        ("0.1.0", "0.2.0", "0.1.0")
    );
    assert_eq!(info.previous_version.as_deref(), Some("0.1.0"));
    assert_eq!(rolled_back.version, "0.1.0");
    assert_eq!(rolled_back.previous_version.as_deref(), Some("0.2.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_finishes_on_its_version_while_new_calls_use_the_new_one() {
    let (registry, _) = registry();
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("v1 installs");
    registry
        .install_file(components::HOSTILE_V2.as_ref())
        .await
        .expect("v2 installs");
    registry
        .configure(config("busy-version"), Some("0.1.0"))
        .expect("configured on v1");

    let in_flight = {
        let registry = registry.clone();
        tokio::spawn(async move { registry.check("echange").await })
    };
    // Swap only once the first call runs.
    tokio::time::timeout(Duration::from_secs(10), async {
        while registry.runtime().calls_in_flight() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the first call starts");
    registry.activate("echange", "0.2.0").expect("v2 activated");
    let new_call = registry.check("echange").await.expect("new call answers");
    let old_call = in_flight
        .await
        .expect("task")
        .expect("in-flight call answers");

    assert_eq!(old_call.message, "0.1.0");
    assert_eq!(new_call.message, "0.2.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_call_fails_while_versions_are_swapped_back_and_forth() {
    let (registry, _) = registry();
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("v1 installs");
    registry
        .install_file(components::HOSTILE_V2.as_ref())
        .await
        .expect("v2 installs");
    registry
        .configure(config("version"), Some("0.1.0"))
        .expect("configured");

    let calls = {
        let registry = registry.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for _ in 0..200 {
                answers.push(registry.check("echange").await.map(|a| a.message));
            }
            answers
        })
    };
    for round in 0..20 {
        let version = if round % 2 == 0 { "0.2.0" } else { "0.1.0" };
        registry.activate("echange", version).expect("activated");
        tokio::task::yield_now().await;
    }
    let answers = calls.await.expect("task");

    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.as_deref(), Ok("0.1.0" | "0.2.0")))
    );
}

#[tokio::test]
async fn activating_an_unknown_version_changes_nothing() {
    let (registry, _) = registry();
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("installs");
    registry
        .configure(config("version"), None)
        .expect("configured");

    let result = registry.activate("echange", "9.9.9");

    assert!(matches!(result, Err(RegistryError::UnknownVersion { .. })));
    assert_eq!(
        registry.instance("echange").map(|i| i.version).as_deref(),
        Some("0.1.0")
    );
}

#[tokio::test]
async fn the_same_version_with_other_bytes_is_refused() {
    let (registry, _) = registry();
    registry
        .install_file(components::HOSTILE.as_ref())
        .await
        .expect("installs");
    let mut bytes = std::fs::read(components::HOSTILE).expect("read");
    // A custom section appended: same code and version, other bytes.
    bytes.extend_from_slice(&[0, 6, 5, b'n', b'o', b't', b'e', b'!']);

    let result = registry.install(bytes).await;

    assert!(
        matches!(result, Err(RegistryError::VersionConflict { .. })),
        "{result:?}"
    );
}
