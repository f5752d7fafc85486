//! The stored connector registry: versions by content, instances written
//! whole with their secrets sealed under a key of their own.

use guichet_store::StoreError;
use guichet_store::registry::{InstanceUse, LinkSource, StoredInstance, StoredVersion};
use serde_json::{Map, Value, json};

use crate::support::*;

on_both_backends!(
    a_version_is_stored_once_and_never_with_other_bytes,
    an_instance_is_rewritten_whole_and_its_secrets_read_back,
    secrets_are_sealed_in_the_database,
    an_instance_needs_its_versions_stored,
    a_configuration_writes_the_use_and_an_activation_keeps_it,
);

fn version(number: &str, bytes: &[u8]) -> StoredVersion {
    use sha2::Digest as _;
    StoredVersion {
        name: "atal".to_owned(),
        version: number.to_owned(),
        sha256: hex::encode(sha2::Sha256::digest(bytes)),
        component: bytes.to_vec(),
        installed_at: start(),
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn instance(version: &str, previous: Option<&str>, secret: &str) -> StoredInstance {
    StoredInstance {
        id: "atal-ville".to_owned(),
        connector: "atal".to_owned(),
        version: version.to_owned(),
        previous_version: previous.map(str::to_owned),
        settings: object(json!({ "base_url": "https://atal.ville.test" })),
        secrets: object(json!({ "api_key": secret })),
        allowed_hosts: vec!["https://atal.ville.test".to_owned()],
        timeout_ms: Some(5_000),
        memory_mib: None,
        http: json!({ "max_redirects": 2 }),
        updated_at: start(),
    }
}

async fn a_version_is_stored_once_and_never_with_other_bytes(db: TestDb) {
    let first = version("1.0.0", b"\0asm composant un");

    let stored = db.save_connector_version(&first).await.unwrap();
    let again = db.save_connector_version(&first).await.unwrap();
    let other = db
        .save_connector_version(&version("1.0.0", b"\0asm composant deux"))
        .await;

    assert!(stored);
    assert!(!again);
    assert!(matches!(other, Err(StoreError::Conflict(_))), "{other:?}");
    assert_eq!(db.connector_versions().await.unwrap(), vec![first]);
}

async fn an_instance_is_rewritten_whole_and_its_secrets_read_back(db: TestDb) {
    db.save_connector_version(&version("1.0.0", b"un"))
        .await
        .unwrap();
    db.save_connector_version(&version("1.1.0", b"deux"))
        .await
        .unwrap();
    let configured = instance("1.0.0", None, "cle-1");
    let activated = instance("1.1.0", Some("1.0.0"), "cle-2");

    db.save_connector_instance(&configured).await.unwrap();
    db.save_connector_instance(&activated).await.unwrap();

    assert_eq!(db.connector_instances().await.unwrap(), vec![activated]);
}

async fn secrets_are_sealed_in_the_database(db: TestDb) {
    db.save_connector_version(&version("1.0.0", b"un"))
        .await
        .unwrap();
    let secret = format!("secret-{}", uuid::Uuid::new_v4().simple());

    db.save_connector_instance(&instance("1.0.0", None, &secret))
        .await
        .unwrap();

    let texts = every_stored_text(&db).await;
    assert!(
        texts
            .iter()
            .any(|(_, t)| t.contains("https://atal.ville.test")),
        "the settings are stored"
    );
    assert!(
        !texts.iter().any(|(_, t)| t.contains(&secret)),
        "a secret is stored in clear"
    );
}

async fn an_instance_needs_its_versions_stored(db: TestDb) {
    let refused = db
        .save_connector_instance(&instance("1.0.0", None, "cle"))
        .await;

    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    assert!(db.connector_instances().await.unwrap().is_empty());
}

async fn a_configuration_writes_the_use_and_an_activation_keeps_it(db: TestDb) {
    db.save_connector_version(&version("1.0.0", b"\0asm un"))
        .await
        .unwrap();
    db.save_connector_version(&version("1.1.0", b"\0asm deux"))
        .await
        .unwrap();
    let uses = InstanceUse {
        link: Some(LinkSource {
            source: "requesters".to_owned(),
            usager_params: vec!["code".to_owned()],
        }),
        sync_every_minutes: Some(30),
    };

    db.save_configured_instance(&instance("1.0.0", None, "k1"), &uses)
        .await
        .unwrap();
    // An activation rewrites the instance alone.
    db.save_connector_instance(&instance("1.1.0", Some("1.0.0"), "k1"))
        .await
        .unwrap();

    assert_eq!(db.instance_use("atal-ville").await.unwrap(), uses);
    assert_eq!(db.connector_instances().await.unwrap()[0].version, "1.1.0");

    // A configuration refused by the store writes no use either.
    let refused = db
        .save_configured_instance(
            &StoredInstance {
                id: "atal-autre".to_owned(),
                ..instance("9.9.9", None, "k")
            },
            &uses,
        )
        .await;
    assert!(refused.is_err());
    assert_eq!(
        db.instance_use("atal-autre").await.unwrap(),
        InstanceUse::default()
    );
}
