//! The demo connector in Python (componentize-py) and JavaScript
//! (ComponentizeJS), checked by the host like the Rust ones.

use super::*;

/// componentize-py, as `cargo xtask test` installs it
/// (`GUICHET_COMPONENTIZE_PY`); `None` when the run skips the Python
/// connector on purpose (`GUICHET_SKIP_PYTHON=1`).
fn componentize_py() -> Option<PathBuf> {
    if std::env::var_os("GUICHET_SKIP_PYTHON").is_some() {
        return None;
    }
    let installed = std::env::var_os("GUICHET_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().with_file_name("componentize-py/bin/componentize-py"));
    assert!(
        installed.exists(),
        "componentize-py is missing at {}: run `cargo xtask test` (which installs it from PyPI), \
         name it with GUICHET_COMPONENTIZE_PY, or skip with GUICHET_SKIP_PYTHON=1",
        installed.display()
    );
    Some(installed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_connector_built_with_componentize_py_passes_verify() {
    let Some(componentize_py) = componentize_py() else {
        return;
    };
    let dir = scratch("python-connector");
    let wasm = dir.join("python_demo.wasm");
    run(Command::new(&componentize_py)
        .current_dir(&dir)
        .arg("-d")
        .arg(root().join("wit/connector@0.1.0"))
        .args(["-w", "plugin", "componentize", "app", "-p"])
        .arg(root().join("examples/python-connector"))
        .arg("-o")
        .arg(&wasm));
    assert_the_demo_connector_passes_verify(&wasm, "python-demo", &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Checks the demo connector at `wasm` (`examples/python-connector`,
/// `examples/js-connector`: the same behaviour in two languages) as the
/// host takes it: `connector check`, `connector verify` against a test
/// server (check, the data source by `q` and by `id`, transmit twice), and
/// an accent-insensitive search by `connector call`.
async fn assert_the_demo_connector_passes_verify(wasm: &Path, name: &str, dir: &Path) {
    let wasm = wasm.to_string_lossy().into_owned();
    let base = test_server(false).await;
    let config = write_json(
        dir,
        "demo.json",
        &serde_json::json!({
            "settings": { "base_url": base },
            "allowed_hosts": [base],
            "verify": {
                "demande": hello_demande(),
                "lookups": { "couleurs": { "q": "ro" } }
            }
        }),
    );

    let checked = guichet(args(&["connector", "check", &wasm])).await;
    let verified = guichet(args(&["connector", "verify", &wasm, "--config", &config])).await;
    let searched = guichet(args(&[
        "connector",
        "call",
        &wasm,
        "--config",
        &config,
        "lookup",
        r#"{"source": "couleurs", "q": "VÉR"}"#,
    ]))
    .await;

    assert!(checked.status.success(), "{}", stderr(&checked));
    let description: serde_json::Value = serde_json::from_str(&stdout(&checked)).expect("JSON");
    assert_eq!(description["name"], name);
    let report = stdout(&verified);
    assert!(verified.status.success(), "{report}\n{}", stderr(&verified));
    for line in [
        "ok     check — ",
        "ok     lookup couleurs (q = « ro ») — 3 élément(s)",
        "ok     lookup couleurs (id = « rouge ») — « Rouge »",
        "ok     transmit (deux fois, même clé d'idempotence) — un seul dossier distant",
        "Conforme : 5 vérifications réussies.",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    assert!(searched.status.success(), "{}", stderr(&searched));
    let found: serde_json::Value = serde_json::from_str(&stdout(&searched)).expect("JSON");
    assert_eq!(found["lookup"][0]["id"], "vert", "{found}");
    assert_eq!(found["lookup"].as_array().map(Vec::len), Some(1), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_connector_built_with_componentize_js_passes_its_script_and_verify() {
    if std::env::var_os("GUICHET_SKIP_JS").is_some() {
        return;
    }
    let example = root().join("examples/js-connector");
    // The suite's `guichet` with its environment (the component cache).
    let guichet = guichet_command();
    let binary = guichet.get_program().to_owned();
    let environment: Vec<_> = guichet
        .get_envs()
        .filter_map(|(name, value)| Some((name.to_owned(), value?.to_owned())))
        .collect();
    let script = tokio::task::spawn_blocking({
        let script = example.join("check.sh");
        move || {
            Command::new(script)
                .env("GUICHET", binary)
                .envs(environment)
                .output()
                .expect("check.sh runs")
        }
    })
    .await
    .expect("joined");

    assert!(
        script.status.success(),
        "examples/js-connector/check.sh failed (npm and the npm registry are needed; \
         GUICHET_SKIP_JS=1 skips):\n{}\n{}",
        stdout(&script),
        stderr(&script)
    );
    let dir = scratch("js-connector");
    assert_the_demo_connector_passes_verify(&example.join("js_demo.wasm"), "js-demo", &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}
