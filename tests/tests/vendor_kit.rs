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
//! These cargo runs use their own target directory (`<target>/vendor-kit`),
//! so that they never wait for the lock of the suite's build; its
//! dependencies stay compiled from one run to the next.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use guichet_tests::{components, guichet_command};

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

#[test]
fn the_sdk_carries_the_wit_it_binds() {
    let ours = root().join("sdk/wit/connector@0.1.0");
    let theirs = root().join("wit/connector@0.1.0");
    assert_eq!(files(&root().join("sdk/wit")).len(), files(&ours).len());
    assert_eq!(files(&ours), files(&theirs));
    for file in files(&theirs) {
        assert_eq!(
            std::fs::read(ours.join(&file)).expect("the SDK's copy"),
            std::fs::read(theirs.join(&file)).expect("the repository's WIT"),
            "sdk/wit/connector@0.1.0/{} differs from wit/connector@0.1.0/{0}: copy it again",
            file.display()
        );
    }
}

#[test]
fn a_vendor_project_builds_against_the_packaged_sdk() {
    run(cargo(&root()).args(["package", "-q", "-p", "guichet-sdk", "--allow-dirty"]));
    let name = format!("guichet-sdk-{}", sdk_version());
    let packaged = target_dir().join(format!("package/{name}.crate"));
    let outside = scratch("vendor-packaged");
    run(Command::new("tar")
        .arg("xzf")
        .arg(&packaged)
        .arg("-C")
        .arg(&outside));
    let project = outside.join("bibliotheque");
    vendor_project(&project, "bibliotheque-packaged", &outside.join(&name));
    test_and_build(&project, "bibliotheque-packaged");
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn a_vendor_project_builds_against_a_copy_of_the_sdk_directory() {
    let outside = scratch("vendor-copy");
    let sdk = outside.join("guichet-sdk");
    for file in files(&root().join("sdk")) {
        let to = sdk.join(&file);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("directory");
        std::fs::copy(root().join("sdk").join(&file), &to).expect("file copied");
    }
    let project = outside.join("bibliotheque");
    vendor_project(&project, "bibliotheque-copied", &sdk);
    test_and_build(&project, "bibliotheque-copied");
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn a_vendor_project_builds_against_the_sdk_by_git() {
    let url = format!("file://{}", root().display());
    let outside = scratch("vendor-git");
    let project = outside.join("bibliotheque");
    vendor_project(&project, "bibliotheque-git", &outside);
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let by_path = format!(
        "guichet-sdk = {{ path = {:?} }}",
        outside.display().to_string()
    );
    assert!(text.contains(&by_path));
    std::fs::write(
        &manifest,
        text.replace(&by_path, &format!("guichet-sdk = {{ git = {url:?} }}")),
    )
    .expect("manifest rewritten");
    test_and_build(&project, "bibliotheque-git");
    let _ = std::fs::remove_dir_all(&outside);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_made_by_connector_new_builds_and_passes_check_and_verify() {
    let outside = scratch("vendor-new");
    let sdk = root().join("sdk");
    let new = |name: &str| {
        args(&[
            "connector",
            "new",
            name,
            "--dir",
            &outside.to_string_lossy(),
            "--sdk-path",
            &sdk.to_string_lossy(),
        ])
    };

    let made = guichet(new("bibliotheque")).await;
    let again = guichet(new("bibliotheque")).await;
    let bad = guichet(new("Bibliothèque")).await;

    assert!(made.status.success(), "{}", stderr(&made));
    assert!(stdout(&made).contains("cargo build --release --target wasm32-wasip2"));
    let project = outside.join("bibliotheque");
    assert_eq!(
        files(&project),
        [
            ".gitignore",
            "Cargo.toml",
            "README.md",
            "instance.json",
            "src/lib.rs"
        ]
        .map(PathBuf::from)
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("existe déjà"), "{}", stderr(&again));
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("nom « Bibliothèque » invalide"));

    test_and_build(&project, "bibliotheque");
    let wasm = target_dir()
        .join("wasm32-wasip2/release/bibliotheque.wasm")
        .to_string_lossy()
        .into_owned();
    let checked = guichet(args(&["connector", "check", &wasm])).await;
    assert!(checked.status.success(), "{}", stderr(&checked));
    let description: serde_json::Value = serde_json::from_str(&stdout(&checked)).expect("JSON");
    assert_eq!(description["name"], "bibliotheque");
    assert_eq!(description["operations"], serde_json::json!(["check"]));

    // The generated instance.json, pointed at the vendor's test server.
    let base = test_server(false).await;
    let config = project.join("instance.json");
    let text = std::fs::read_to_string(&config).expect("instance.json");
    assert!(text.contains("http://127.0.0.1:8099"));
    std::fs::write(
        &config,
        text.replace("http://127.0.0.1:8099/", &format!("{base}/"))
            .replace("http://127.0.0.1:8099", &base),
    )
    .expect("instance.json rewritten");
    let config = config.to_string_lossy().into_owned();
    let verified = guichet(args(&["connector", "verify", &wasm, "--config", &config])).await;

    assert!(
        verified.status.success(),
        "{}\n{}",
        stdout(&verified),
        stderr(&verified)
    );
    let report = stdout(&verified);
    assert!(
        report.contains("ok     describe — bibliotheque 0.1.0"),
        "{report}"
    );
    assert!(
        report.contains("ok     check — L'application répond."),
        "{report}"
    );
    assert!(
        report.contains("—      transmit — non déclarée"),
        "{report}"
    );
    assert!(
        report.contains("Conforme : 2 vérifications réussies."),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&outside);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_without_an_sdk_source_depends_on_the_sdk_version() {
    let outside = scratch("vendor-new-registry");

    let made = guichet(args(&[
        "connector",
        "new",
        "mon-connecteur-2",
        "--dir",
        &outside.to_string_lossy(),
        "--vendor",
        "Éditeur \"Exemple\"",
    ]))
    .await;

    assert!(made.status.success(), "{}", stderr(&made));
    let project = outside.join("mon-connecteur-2");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("manifest");
    assert!(
        manifest.contains(&format!("guichet-sdk = \"{}\"", sdk_version())),
        "{manifest}"
    );
    let source = std::fs::read_to_string(project.join("src/lib.rs")).expect("lib.rs");
    assert!(source.contains("pub struct MonConnecteur2;"));
    assert!(
        source.contains(r#"vendor: "Éditeur \"Exemple\"".into(),"#),
        "{source}"
    );
    let _ = std::fs::remove_dir_all(&outside);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fails_a_connector_whose_transmit_ignores_the_idempotency_key() {
    let dir = scratch("verify-hello");
    let config = |base: &str| {
        serde_json::json!({
            "settings": { "base_url": base, "token": "jeton-de-test" },
            "allowed_hosts": [base],
            "verify": { "demande": hello_demande() }
        })
    };
    let keeping = write_json(&dir, "keeping.json", &config(&test_server(false).await));
    let forgetful = write_json(&dir, "forgetful.json", &config(&test_server(true).await));
    let no_demande = write_json(
        &dir,
        "no-demande.json",
        &serde_json::json!({ "settings": { "base_url": "http://127.0.0.1:9", "token": "t" } }),
    );
    let misspelt = write_json(
        &dir,
        "misspelt.json",
        &serde_json::json!({
            "settings": { "base_url": "http://127.0.0.1:9", "token": "t" },
            "verify": { "demande": hello_demande(), "lookup": {} }
        }),
    );
    let verify =
        |config: &str| args(&["connector", "verify", components::HELLO, "--config", config]);

    let passed = guichet(verify(&keeping)).await;
    let failed = guichet(verify(&forgetful)).await;
    let without = guichet(verify(&no_demande)).await;
    let unknown = guichet(verify(&misspelt)).await;

    assert!(
        passed.status.success(),
        "{}\n{}",
        stdout(&passed),
        stderr(&passed)
    );
    assert!(
        stdout(&passed).contains(
            "ok     transmit (deux fois, même clé d'idempotence) — un seul dossier distant"
        )
    );
    assert_eq!(failed.status.code(), Some(2), "{}", stdout(&failed));
    let report = stdout(&failed);
    assert!(
        report.contains(
            "ÉCHEC  transmit (deux fois, même clé d'idempotence) — deux dossiers distants"
        ),
        "{report}"
    );
    assert!(report.contains("la clé d'idempotence n'est pas respectée"));
    assert!(
        stderr(&failed).contains("erreur : 1 vérification(s) en échec"),
        "{}",
        stderr(&failed)
    );
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stderr(&without).contains("verify.demande"),
        "{}",
        stderr(&without)
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("verify.lookup"),
        "{}",
        stderr(&unknown)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_party_connectors_pass_verify_against_the_simulated_vendors() {
    let atal = guichet_tests::atal().await;
    let famille = guichet_tests::espace_famille().await;
    let dir = scratch("verify-first-party");
    let photo = dir.join("trou.jpg");
    std::fs::write(&photo, guichet_tests::app::jpeg("trou")).expect("photo written");
    let usager = serde_json::json!({
        "first_name": "Léa", "last_name": "Martin",
        "email": "lea.martin@example.org", "mobile": "0612345678"
    });
    let atal_config = write_json(
        &dir,
        "atal.json",
        &serde_json::json!({
            "settings": {
                "base_url": atal.base_url(), "api_key": guichet_tests::ATAL_KEY, "requester_id": "105"
            },
            "allowed_hosts": [atal.base_url()],
            "verify": { "demande": {
                "id": "id-SIG-2026-000001", "numero": "SIG-2026-000001",
                "demarche": "signalement-voie-publique", "demarche_version": 1,
                "submitted_at": "2026-11-29T09:30:00Z", "usager": usager,
                "fields": [
                    { "id": "objet", "value": { "type": "text", "value": "Nid de poule dangereux" } },
                    { "id": "description", "value": { "type": "text", "value": "Trou profond devant l'école." } },
                    { "id": "categorie", "value": { "type": "choice", "value": { "value": "12", "label": "Voirie - nid de poule" } } },
                    { "id": "adresse", "value": { "type": "address", "value": {
                        "label": "12 rue de la République, 69001 Lyon", "latitude": 45.767, "longitude": 4.836
                    } } },
                    { "id": "photos", "value": { "type": "files", "value": [
                        { "id": "pj-1", "filename": "trou.jpg", "media_type": "image/jpeg", "size": 6 }
                    ] } }
                ]
            } }
        }),
    );
    let famille_config = write_json(
        &dir,
        "famille.json",
        &serde_json::json!({
            "settings": { "base_url": famille.base_url(), "token": guichet_tests::FAMILLE_TOKEN },
            "allowed_hosts": [famille.base_url()],
            "verify": {
                "demande": {
                    "id": "id-cant-1", "numero": "CANT-2026-000001",
                    "demarche": "inscription-restauration-scolaire", "demarche_version": 1,
                    "submitted_at": "2026-11-29T09:30:00Z", "usager": usager,
                    "fields": [
                        { "id": "famille", "value": { "type": "text", "value": "F-0001" } },
                        { "id": "enfant", "value": { "type": "choice", "value": { "value": "E-0001", "label": "Léa DUPONT" } } },
                        { "id": "activite", "value": { "type": "choice", "value": { "value": "CANT-2026", "label": "Restauration scolaire" } } },
                        { "id": "date_debut", "value": { "type": "date", "value": "2027-01-04" } },
                        { "id": "jours", "value": { "type": "choices", "value": [
                            { "value": "lundi", "label": "Lundi" }, { "value": "jeudi", "label": "Jeudi" }
                        ] } }
                    ]
                },
                "lookups": {
                    "family-link": { "params": { "family-code": "F-0001", "secret": "s3cret-dupont" } },
                    "children": { "params": { "family-id": "F-0001" } },
                    "family": { "params": { "family-id": "F-0001" } }
                }
            }
        }),
    );
    let attachment = format!("pj-1={}", photo.display());

    let atal_report = guichet(args(&[
        "connector",
        "verify",
        components::ATAL,
        "--config",
        &atal_config,
        "--attachment",
        &attachment,
    ]))
    .await;
    let famille_report = guichet(args(&[
        "connector",
        "verify",
        components::ESPACE_FAMILLE,
        "--config",
        &famille_config,
    ]))
    .await;

    for (report, sources) in [(&atal_report, 3), (&famille_report, 4)] {
        let text = stdout(report);
        assert!(report.status.success(), "{text}\n{}", stderr(report));
        assert!(!text.contains("ÉCHEC"), "{text}");
        // describe, check, a search and a fetch per source, transmit,
        // status, card.
        let checks = 1 + 1 + 2 * sources + 3;
        assert!(
            text.contains(&format!("Conforme : {checks} vérifications réussies.")),
            "{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_call_names_the_path_of_a_wrong_input_and_the_schema() {
    let dir = scratch("call-path");
    let config = write_json(
        &dir,
        "hello.json",
        &serde_json::json!({ "settings": { "base_url": "http://127.0.0.1:9", "token": "t" } }),
    );
    let mut demande = hello_demande();
    demande["fields"][0]["value"] = serde_json::json!({ "value": 86.5 });
    let input = serde_json::json!({ "demande": demande, "idempotency_key": "k" }).to_string();

    let refused = guichet(args(&[
        "connector",
        "call",
        components::HELLO,
        "--config",
        &config,
        "transmit",
        &input,
    ]))
    .await;
    let schema = guichet(args(&["connector", "schema", "transmit.input"])).await;

    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(
        message.contains("à « demande.fields[0].value »"),
        "{message}"
    );
    assert!(message.contains("missing field `type`"), "{message}");
    assert!(
        message.contains("guichet connector schema transmit"),
        "{message}"
    );
    assert!(schema.status.success(), "{}", stderr(&schema));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&schema)).expect("JSON");
    assert_eq!(printed["title"], "TransmitInput");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_published_schemas_are_those_the_host_derives() {
    let dir = root().join("sdk/schemas");
    let update = std::env::var_os("GUICHET_UPDATE_SNAPSHOTS").is_some();
    let schemas = guichet_host::connectors::model::schemas();
    if update {
        std::fs::create_dir_all(&dir).expect("sdk/schemas");
    }
    for (name, schema) in &schemas {
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(schema).expect("JSON") + "\n";
        if update {
            std::fs::write(&path, &text).expect("schema written");
        }
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            text,
            "{} differs from what the host derives: GUICHET_UPDATE_SNAPSHOTS=1 cargo test -p guichet-tests --test vendor_kit",
            path.display()
        );
    }
    assert_eq!(
        files(&dir).len(),
        schemas.len(),
        "a schema in sdk/schemas/ is no call's"
    );
}

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
