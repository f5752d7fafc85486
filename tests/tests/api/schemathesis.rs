//! The served OpenAPI document tells the truth: [schemathesis] generates
//! requests from `GET /api/openapi.json` and sends them to the real API on
//! demo-like data (the three example démarches, an usager with a draft, an
//! administrator), as an anonymous client, as the usager and as the
//! administrator. Every check it runs by default must pass: no server
//! error, every answer (status, content type, headers, body) as documented,
//! every schema-valid request accepted and every schema-invalid one refused.
//!
//! The CLI is installed by `cargo xtask test` (in a virtual environment
//! under `target/schemathesis`, path passed in `GUICHET_SCHEMATHESIS`). A
//! missing CLI fails the test, unless `GUICHET_SKIP_SCHEMATHESIS=1` says to
//! skip it. Runs are bounded (examples per operation and seconds per role)
//! and reproducible (a fixed seed, `GUICHET_SCHEMATHESIS_SEED` to explore
//! others).
//!
//! [schemathesis]: https://schemathesis.readthedocs.io

use std::path::{Path, PathBuf};
use std::time::Duration;

use guichet_tests::app::{TestApp, session_cookie};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(schemathesis_finds_nothing_for_anonymous_usager_and_administrator);

/// Examples generated per operation and phase.
const MAX_EXAMPLES: &str = "12";
/// How long the test waits for one run before killing it.
const RUN_TIMEOUT: Duration = Duration::from_secs(150);
/// The seed of the generated requests, unless `GUICHET_SCHEMATHESIS_SEED`.
const SEED: &str = "20260302";

/// The schemathesis CLI, or `None` when skipped.
fn cli() -> Option<PathBuf> {
    if std::env::var("GUICHET_SKIP_SCHEMATHESIS").is_ok_and(|v| v == "1") {
        return None;
    }
    let path = std::env::var_os("GUICHET_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/schemathesis/bin/schemathesis")
        });
    assert!(
        path.exists(),
        "schemathesis introuvable ({}) : lancez `cargo xtask test`, qui l'installe, \
         ou GUICHET_SKIP_SCHEMATHESIS=1 pour sauter ce test",
        path.display()
    );
    Some(path)
}

/// The value of the session cookie of a login.
async fn session(app: &TestApp, login: &str, password: &str) -> String {
    let reply = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": login, "password": password }),
        )
        .await;
    reply.expect(200);
    let cookie = session_cookie(&reply).expect("session cookie");
    cookie
        .split_once('=')
        .map(|(_, value)| value.to_owned())
        .expect("name=value")
}

async fn schemathesis_finds_nothing_for_anonymous_usager_and_administrator(app: TestApp) {
    let Some(cli) = cli() else { return };
    for name in [VELO, SIGNALEMENT, RESTAURATION] {
        app.import(name).await;
    }
    app.grant(MOBILITES, Some(VELO)).await;
    crate::admin::admin(&app).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    open_draft(&usager, VELO).await;
    let usager_session = session(&app, "camille.martin@exemple.test", "mot-de-passe-usager").await;
    let admin_session = session(&app, "admin@ville.test", "mot-de-passe-agent").await;
    let document = app.anonymous().get("/api/openapi.json").await;
    let beyond_schema = operations_answering_422(document.expect(200));

    let directory =
        std::env::temp_dir().join(format!("guichet-schemathesis-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    let mut failures = Vec::new();
    for (role, session) in [
        ("anonyme", None),
        ("usager", Some(usager_session)),
        ("administrateur", Some(admin_session)),
    ] {
        let config = directory.join(format!("{role}.toml"));
        std::fs::write(&config, configuration(session.as_deref(), &beyond_schema)).unwrap();
        if let Some(report) = run(&cli, &app.base, &config, session.is_some()).await {
            failures.push(format!("=== {role} ===\n{report}"));
        }
    }
    let _ = std::fs::remove_dir_all(&directory);
    assert!(
        failures.is_empty(),
        "schemathesis a trouvé des écarts au document :\n{}",
        failures.join("\n")
    );
}

/// The operations that document a 422 for rules their schema cannot say
/// (method in capitals, path).
fn operations_answering_422(document: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, methods) in document["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            if operation["responses"].get("422").is_some() {
                found.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

/// schemathesis' configuration: the session (none for the anonymous run),
/// and 422 accepted for schema-valid data where the document says why.
fn configuration(session: Option<&str>, beyond_schema: &[(String, String)]) -> String {
    let mut config = String::from("[auth]\nauto-signup = false\n");
    if let Some(session) = session {
        config.push_str(&format!(
            "\n[auth.openapi.session]\napi_key = \"{session}\"\n"
        ));
    }
    for (method, path) in beyond_schema {
        config.push_str(&format!(
            "\n[[operations]]\ninclude-method = \"{method}\"\ninclude-path = \"{path}\"\n\
             checks.positive_data_acceptance.expected-statuses = {ACCEPTED_WITH_RULES}\n"
        ));
    }
    config
}

/// schemathesis' statuses for schema-valid data, plus 422.
const ACCEPTED_WITH_RULES: &str =
    r#"["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]"#;

/// One run of schemathesis; its report when it found something.
async fn run(cli: &Path, base: &str, config: &Path, logged_in: bool) -> Option<String> {
    let seed = std::env::var("GUICHET_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.to_owned());
    let mut command = tokio::process::Command::new(cli);
    command
        // Its cache of crashes goes beside the configuration, not in the
        // work tree.
        .current_dir(config.parent().unwrap_or(Path::new(".")))
        .arg("--config-file")
        .arg(config)
        .args(["--no-color", "run", &format!("{base}/api/openapi.json")])
        .args(["--url", base])
        .args(["--max-examples", MAX_EXAMPLES])
        // One worker: hypothesis describes its strategies with `ast`, which
        // CPython 3.11 does not parse safely from two threads at once.
        .args(["--seed", &seed, "--workers", "1"])
        .args(["--generation-database", "none"])
        .kill_on_drop(true);
    if logged_in {
        // Logging out would end the session the rest of the run uses; the
        // anonymous run covers it.
        command.args(["--exclude-path", "/api/auth/logout"]);
    }
    let output = tokio::time::timeout(RUN_TIMEOUT, command.output())
        .await
        .expect("schemathesis ends within its time budget")
        .expect("schemathesis runs");
    if output.status.success() {
        None
    } else {
        Some(format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
