//! The SDK as a vendor takes it: it carries the WIT it binds, `cargo
//! package -p guichet-sdk` succeeds (building the packaged crate on its
//! own), and a connector project outside this repository — the source of
//! `examples/hello-connector`, with a `Cargo.toml` of its own — runs its
//! native tests with the mock host and builds its component for
//! `wasm32-wasip2`, against the packaged crate, against a plain copy of
//! `sdk/`, and by `git` from this repository's committed `HEAD`.
//!
//! `guichet connector new` makes such a project, which builds, passes
//! `connector check`, and passes `connector verify` against a test server;
//! the first-party connectors pass `verify` against the simulated vendors,
//! and a connector whose `transmit` ignores its idempotency key fails it.
//! The JSON Schemas of the calls published in `sdk/schemas/` are those the
//! host derives, and `connector call` names the path of a wrong input.
//!
//! Modules: `sdk` (the SDK taken out of the repository, its schemas),
//! `commands` (`connector new`, `verify`, `call`), `languages` (Python
//! and JavaScript connectors).
//!
//! These cargo runs use their own target directory (`<target>/vendor-kit`),
//! so that they never wait for the lock of the suite's build; its
//! dependencies stay compiled from one run to the next.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use guichet_tests::{components, guichet_command};

mod commands;
mod languages;
mod sdk;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the repository")
        .to_path_buf()
}

/// `<target>/vendor-kit`, beside this build's profile directory.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test>
    exe.ancestors()
        .nth(3)
        .expect("target directory")
        .join("vendor-kit")
}

/// A fresh directory outside the repository.
fn scratch(purpose: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("guichet-{purpose}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Runs `command` and fails the test with its output if it fails.
fn run(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `cargo` with the vendor kit's target directory, in `dir`.
fn cargo(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    command
}

/// The files under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// The SDK's version, read from its manifest.
fn sdk_version() -> String {
    let manifest = std::fs::read_to_string(root().join("sdk/Cargo.toml")).expect("sdk manifest");
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("a version line")
        .to_owned()
}

/// Writes a vendor's connector project `name` in `dir`, depending on the
/// SDK at `sdk`, with the source of `examples/hello-connector`.
fn vendor_project(dir: &Path, name: &str, sdk: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("project directory");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n\
             [dependencies]\nguichet-sdk = {{ path = {:?} }}\nserde_json = \"1\"\n\n\
             [profile.release]\nopt-level = \"s\"\nlto = true\nstrip = true\n",
            sdk.display().to_string(),
        ),
    )
    .expect("manifest written");
    std::fs::copy(
        root().join("examples/hello-connector/src/lib.rs"),
        dir.join("src/lib.rs"),
    )
    .expect("source copied");
}

/// Tests the project `name` in `dir` natively, builds its component, and
/// checks that the file is a component (not a core module).
fn test_and_build(dir: &Path, name: &str) {
    run(cargo(dir).args(["test", "-q"]));
    run(cargo(dir).args(["build", "-q", "--release", "--target", "wasm32-wasip2"]));
    let wasm = target_dir().join(format!(
        "wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    ));
    let bytes = std::fs::read(&wasm).expect("the component is built");
    assert_eq!(
        &bytes[..8],
        b"\0asm\x0d\x00\x01\x00",
        "{} is a WebAssembly component",
        wasm.display()
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `guichet` with `args` off the async runtime (a test server may be
/// answering on it).
async fn guichet(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || guichet_command().args(args).output().expect("runs"))
        .await
        .expect("joined")
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// The idempotency keys a test server has seen, with the ids it gave.
type Seen = Arc<Mutex<HashMap<String, String>>>;

/// `POST /messages` and `/items` of [`test_server`]: a new id, or the one
/// given before for the same `Idempotency-Key` unless `forgetful`.
async fn create(
    forgetful: bool,
    axum::extract::State(seen): axum::extract::State<Seen>,
    headers: axum::http::HeaderMap,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let fresh = uuid::Uuid::new_v4().to_string();
    let id = if forgetful {
        fresh
    } else {
        seen.lock()
            .expect("lock")
            .entry(key)
            .or_insert(fresh)
            .clone()
    };
    (
        axum::http::StatusCode::CREATED,
        axum::Json(serde_json::json!({ "id": id })),
    )
}

/// A vendor's test server on a free loopback port; returns its base URL.
/// `GET /` answers 200 to the bearer `jeton-de-test`, 401 otherwise;
/// `GET /health` answers 200; `POST /messages` and `POST /items` create a
/// record and answer its id — the same id for the same `Idempotency-Key`,
/// unless the server is `forgetful`.
async fn test_server(forgetful: bool) -> String {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};

    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move {
                let authorised = headers
                    .get("authorization")
                    .is_some_and(|v| v == "Bearer jeton-de-test");
                if authorised {
                    (StatusCode::OK, "ok")
                } else {
                    (StatusCode::UNAUTHORIZED, "jeton refusé")
                }
            }),
        )
        .route("/health", get(|| async { "ok" }))
        .route(
            "/messages",
            post(move |state, headers| create(forgetful, state, headers)),
        )
        .route(
            "/items",
            post(move |state, headers| create(forgetful, state, headers)),
        )
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}")
}

/// Writes `value` as JSON in `dir/name`; returns the path.
fn write_json(dir: &Path, name: &str, value: &serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("file written");
    path.to_string_lossy().into_owned()
}

/// The demande the hello connector transmits in `verify`.
fn hello_demande() -> serde_json::Value {
    serde_json::json!({
        "id": "0190a8f0-0000-7000-8000-000000000001",
        "numero": "VELO-2026-000001",
        "demarche": "aide-reparation-velo",
        "demarche_version": 1,
        "submitted_at": "2026-03-02T09:00:00Z",
        "usager": { "first_name": "Léa", "last_name": "Dupont" },
        "fields": [{ "id": "montant", "label": "Montant", "value": { "type": "number", "value": 86.5 } }]
    })
}
