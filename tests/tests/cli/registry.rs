//! `guichet connector install | list | instances | activate | rollback` on
//! the database of a data directory, as `guichet serve` would find it:
//! French text by default, JSON with `--json`, every change kept.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use guichet_core::clock::SystemClock;
use guichet_host::app::{App, Config};
use guichet_host::service::connectors;
use guichet_tests::{components, instance_config};

use super::{guichet, stderr, stdout};

/// A fresh data directory (its SQLite database and master key are created
/// by the first command).
pub(super) fn data_dir() -> PathBuf {
    std::env::temp_dir().join(format!("guichet-cli-registry-{}", uuid::Uuid::new_v4()))
}

/// `guichet connector <args> --data-dir <dir>`, which must succeed; its
/// standard output.
pub(super) fn run(dir: &Path, args: &[&str]) -> String {
    let output = guichet()
        .arg("connector")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    stdout(&output)
}

/// The application of the data directory, as `guichet serve` starts it.
pub(super) async fn start(dir: &Path) -> App {
    let mut config = Config::new(
        dir.to_path_buf(),
        None,
        SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    config.runtime.cache_dir = guichet_tests::cache_dir();
    config.runtime.pooling = false;
    App::start(&config, Arc::new(SystemClock))
        .await
        .expect("starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_list_activate_and_rollback_are_kept_in_the_database() {
    let dir = data_dir();
    let installed = run(&dir, &["install", components::HOSTILE]);
    let installed_json = run(&dir, &["install", components::HOSTILE_V2, "--json"]);
    assert!(
        installed.contains("Connecteur « hostile » version 0.1.0 installé"),
        "{installed}"
    );
    let installed_json: serde_json::Value = serde_json::from_str(&installed_json).expect("JSON");
    assert_eq!(installed_json["version"], "0.2.0");
    let listed = run(&dir, &["list"]);
    assert!(
        listed.contains("hostile")
            && listed.contains("version 0.1.0")
            && listed.contains("version 0.2.0"),
        "{listed}"
    );
    let app = start(&dir).await;
    connectors::configure(
        &app.state.guichet(),
        instance_config(
            "echange",
            "hostile",
            "http://127.0.0.1:1",
            serde_json::json!({ "behaviour": "version" }),
        ),
        Some("0.1.0"),
    )
    .await
    .expect("configured");
    app.state.store.close().await;

    let activated = run(&dir, &["activate", "echange", "0.2.0"]);
    let after_activation: serde_json::Value =
        serde_json::from_str(&run(&dir, &["instances", "--json"])).expect("JSON");
    let rolled_back = run(&dir, &["rollback", "echange"]);
    let after_rollback = run(&dir, &["instances"]);

    assert!(
        activated.contains("Version 0.2.0 activée pour l'instance « echange »"),
        "{activated}"
    );
    assert_eq!(after_activation[0]["version"], "0.2.0");
    assert_eq!(after_activation[0]["previous_version"], "0.1.0");
    assert!(
        rolled_back.contains("revenue à la version 0.1.0"),
        "{rolled_back}"
    );
    assert!(
        after_rollback.contains("echange : hostile version 0.1.0 (précédente : 0.2.0)"),
        "{after_rollback}"
    );
    let restarted = start(&dir).await;
    let info = restarted
        .state
        .registry
        .instance("echange")
        .expect("restored");
    restarted.state.store.close().await;
    assert_eq!(info.version, "0.1.0");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn registry_commands_refuse_in_french_and_change_nothing() {
    let dir = data_dir();
    let empty = run(&dir, &["instances"]);
    assert!(empty.contains("Aucune instance configurée"), "{empty}");
    for (args, expected) in [
        (
            vec!["activate", "inconnue", "1.0.0"],
            "instance de connecteur inconnue : « inconnue »",
        ),
        (
            vec!["rollback", "inconnue"],
            "instance de connecteur inconnue",
        ),
        (vec!["install", "/nulle/part.wasm"], "lecture impossible"),
        (
            vec!["install", components::NOT_A_CONNECTOR],
            "aucun contrat pris en charge",
        ),
    ] {
        let output = guichet()
            .arg("connector")
            .args(&args)
            .arg("--data-dir")
            .arg(&dir)
            .output()
            .expect("runs");

        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    let listed = run(&dir, &["list"]);
    assert!(listed.contains("Aucun connecteur installé"), "{listed}");
    let _ = std::fs::remove_dir_all(&dir);
}
