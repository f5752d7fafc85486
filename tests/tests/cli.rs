//! The `guichet connector` command line, run as a process: `check` and
//! `call` on a component file, (module `registry`) the persisted registry
//! of a database, and (module `journal`) its instances' configuration and
//! check, the call journal and the dead letters; `guichet serve` as a
//! process: two hosts on one PostgreSQL database (module `hosts`), and
//! demandes acknowledged before a SIGKILL found after the restart (module
//! `crash`).

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use guichet_tests::app::TestApp;
use guichet_tests::{atal, components};

/// The `guichet` binary of this build, with the suite's component cache.
fn guichet() -> Command {
    guichet_tests::guichet_command()
}

/// A `guichet serve` process, killed when dropped.
struct Host {
    child: Child,
    /// Its address, `http://127.0.0.1:<port>`.
    base: String,
    log: std::path::PathBuf,
}

impl Host {
    /// Starts `guichet serve` on `app`'s database, data directory and
    /// master key, on a free port, and waits until it answers.
    pub async fn start(app: &TestApp, name: &str) -> Host {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let data_dir = app.files_dir.parent().expect("data directory");
        let log = data_dir.join(format!("{name}.log"));
        let child = guichet()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", &app.url, "--registry-poll-seconds", "0"])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("guichet serve starts");
        let host = Host {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        while reqwest::get(format!("{}/api/demarches", host.base))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} does not answer: {}",
                host.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        host
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn worker(&self) -> String {
        format!("guichet-{}", self.child.id())
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn check_accepts_both_first_party_connectors_and_prints_their_description() {
    for (file, name) in [
        (components::ATAL, "atal"),
        (components::ESPACE_FAMILLE, "espace-famille"),
    ] {
        let output = guichet()
            .args(["connector", "check", file])
            .output()
            .expect("runs");

        assert!(output.status.success(), "{}", stderr(&output));
        let description: serde_json::Value =
            serde_json::from_str(&stdout(&output)).expect("JSON on stdout");
        assert_eq!(description["name"], name);
        assert_eq!(description["contract"], "guichet:connector@0.1.0");
        assert!(description["config_schema"]["properties"].is_object());
    }
}

#[test]
fn check_rejects_what_is_not_a_valid_connector_with_a_clear_message() {
    let text_file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    for (file, expected) in [
        (text_file, "n'est pas un composant WebAssembly"),
        (components::NOT_A_CONNECTOR, "aucun contrat pris en charge"),
        (components::BAD_SCHEMA, "schéma de configuration invalide"),
        ("/nulle/part.wasm", "lecture impossible"),
    ] {
        let output = guichet()
            .args(["connector", "check", file])
            .output()
            .expect("runs");

        assert_eq!(output.status.code(), Some(1), "{file}");
        assert!(
            stderr(&output).contains(expected),
            "{file}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_runs_one_operation_against_a_live_vendor() {
    let sim = atal().await;
    let dir = std::env::temp_dir().join(format!("guichet-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("atal.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "settings": { "base_url": sim.base_url(), "api_key": guichet_tests::ATAL_KEY },
            "allowed_hosts": [sim.base_url()]
        })
        .to_string(),
    )
    .expect("config written");
    let config = config.to_string_lossy().into_owned();

    let lookup = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            guichet()
                .args([
                    "connector",
                    "call",
                    components::ATAL,
                    "--config",
                    &config,
                    "lookup",
                ])
                .arg(r#"{"source": "thematics", "q": "voirie"}"#)
                .output()
                .expect("runs")
        }
    })
    .await
    .expect("joined");
    let refused = tokio::task::spawn_blocking(move || {
        guichet()
            .args([
                "connector",
                "call",
                components::ATAL,
                "--config",
                &config,
                "status",
            ])
            .arg(r#"{"remote_id": "00000000-0000-0000-0000-000000000000"}"#)
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");

    assert!(lookup.status.success(), "{}", stderr(&lookup));
    let items: serde_json::Value = serde_json::from_str(&stdout(&lookup)).expect("JSON");
    assert!(
        items["lookup"].as_array().is_some_and(|a| !a.is_empty()),
        "{items}"
    );
    assert!(
        stderr(&lookup).contains("/api/Thematics → 200"),
        "{}",
        stderr(&lookup)
    );
    assert_eq!(refused.status.code(), Some(2));
    let refusal = stderr(&refused);
    let mentions: Vec<&str> = refusal
        .lines()
        .filter(|line| line.contains("introuvable"))
        .collect();
    assert!(
        mentions.len() == 1
            && mentions[0].starts_with("erreur : introuvable : ")
            && mentions[0].matches("introuvable").count() == 1
            && !refusal.contains("connector call failed"),
        "the error once, its kind once, no log line repeating it: {refusal}"
    );
}

#[test]
fn call_with_bad_arguments_explains_what_is_expected() {
    let output = guichet()
        .args([
            "connector",
            "call",
            components::HELLO,
            "--config",
            "/nulle/part.json",
            "status",
        ])
        .output()
        .expect("runs");

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("lecture impossible"),
        "{}",
        stderr(&output)
    );

    let output = guichet()
        .args([
            "connector",
            "call",
            components::HELLO,
            "--config",
            "/dev/null",
            "envoyer",
        ])
        .output()
        .expect("runs");

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("opération inconnue"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_says_which_imports_are_linked_to_a_deny_all_implementation() {
    // The hostile component reads files and opens sockets through WASI.
    let output = guichet()
        .args(["connector", "check", components::HOSTILE])
        .output()
        .expect("runs");

    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let denied: Vec<&str> = report["denied_imports"]
        .as_array()
        .expect("denied_imports")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for interface in ["wasi:filesystem/", "wasi:sockets/"] {
        assert!(
            denied.iter().any(|d| d.starts_with(interface)),
            "{interface} in {denied:?}"
        );
        assert!(stderr(&output).contains(interface), "{}", stderr(&output));
    }
    assert!(
        stderr(&output).contains("implémentation qui refuse tout"),
        "{}",
        stderr(&output)
    );
}

/// A component whose only import, `exemple:inconnu/chose@1.0.0`, is an
/// (empty) instance: the binary format written by hand.
fn component_importing_an_unknown_interface() -> Vec<u8> {
    let name = b"exemple:inconnu/chose@1.0.0";
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    // Type section: one instance type with no declarations.
    bytes.extend([0x07, 0x03, 0x01, 0x42, 0x00]);
    // Import section: one import of that instance type.
    let mut section = vec![0x01, 0x00, name.len() as u8];
    section.extend(name);
    section.extend([0x05, 0x00]);
    bytes.push(0x0a);
    bytes.push(section.len() as u8);
    bytes.extend(section);
    bytes
}

#[test]
fn check_refuses_imports_outside_the_supported_worlds_in_french() {
    let dir = std::env::temp_dir().join(format!("guichet-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("inconnu.wasm");
    std::fs::write(&file, component_importing_an_unknown_interface()).expect("written");

    let output = guichet()
        .args(["connector", "check"])
        .arg(&file)
        .output()
        .expect("runs");

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("capacités que Guichet ne fournit pas : exemple:inconnu/chose@1.0.0"),
        "{message}"
    );
    assert!(message.contains("guichet:connector@0.1.0"), "{message}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn call_escapes_the_control_characters_a_connector_sends() {
    let dir = std::env::temp_dir().join(format!("guichet-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("hostile.json");
    std::fs::write(
        &config,
        serde_json::json!({ "settings": { "behaviour": "escape" } }).to_string(),
    )
    .expect("config written");

    // Without colours, so every escape character printed would be the
    // connector's.
    let output = guichet()
        .env("NO_COLOR", "1")
        .args(["connector", "call", components::HOSTILE, "--config"])
        .arg(&config)
        .arg("check")
        .output()
        .expect("runs");

    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let printed = format!("{}{}", stdout(&output), stderr(&output));
    for raw in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(!printed.contains(raw), "{raw:?} printed raw: {printed:?}");
    }
    assert!(printed.contains("journal \\u{1b}[2J"), "{printed}");
    assert!(
        printed.contains("erreur \\u{1b}[31mrouge\\u{9b}6n"),
        "{printed}"
    );
}

/// `guichet serve`'s log redirected to a file (as under systemd or
/// `> guichet.log`) carries no colour escape sequences: those are for a
/// terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_to_a_file_has_no_colour_codes() {
    guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, |app| async move {
        let host = Host::start(&app, "plain-log").await;
        let log = host.log();
        assert!(log.contains("INFO"), "{log}");
        assert!(!log.contains('\u{1b}'), "{log:?}");
    })
    .await;
}

#[test]
fn serve_refuses_an_unknown_time_zone_with_a_french_message() {
    let data_dir = std::env::temp_dir().join(format!("guichet-tz-{}", std::process::id()));
    for (args, env) in [
        (vec!["--time-zone", "Europe/Marseille"], None),
        (vec![], Some("UTC+1")),
    ] {
        let mut command = guichet();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .args(&args);
        if let Some(zone) = env {
            command.env("GUICHET_TIME_ZONE", zone);
        }
        let output = command.output().expect("runs");

        assert!(!output.status.success(), "{args:?} {env:?}");
        let message = stderr(&output);
        assert!(message.contains("fuseau horaire inconnu"), "{message}");
        assert!(
            message.contains("Europe/Paris"),
            "names an example: {message}"
        );
    }
    assert!(!data_dir.exists(), "nothing was created");
}

#[test]
fn serve_refuses_an_unreadable_colour_and_a_logo_that_is_no_image() {
    let data_dir = std::env::temp_dir().join(format!("guichet-look-{}", std::process::id()));
    let svg = std::env::temp_dir().join(format!("logo-{}.svg", std::process::id()));
    std::fs::write(
        &svg,
        "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    )
    .expect("the logo written");
    for (args, expected) in [
        (vec!["--portal-colour", "#ffcc00"], "contraste de 1,5:1"),
        (vec!["--portal-colour", "jaune"], "n'est pas une couleur"),
        (
            vec!["--logo-file", svg.to_str().expect("a path")],
            "PNG ou JPEG",
        ),
    ] {
        let output = guichet()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .args(&args)
            .output()
            .expect("runs");
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    let _ = std::fs::remove_file(svg);
    assert!(!data_dir.exists(), "nothing was created");
}

#[path = "cli/crash.rs"]
mod crash;
#[path = "cli/hosts.rs"]
mod hosts;
#[path = "cli/journal.rs"]
mod journal;
#[path = "cli/registry.rs"]
mod registry;

/// `guichet admin <args> --data-dir <dir>`.
fn admin(dir: &std::path::Path, args: &[&str]) -> Output {
    guichet()
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("runs")
}

#[test]
fn the_master_key_rotates_and_the_old_key_is_refused_afterwards() {
    let dir = std::env::temp_dir().join(format!("guichet-cli-rotation-{}", uuid::Uuid::new_v4()));
    let password = ["--password", "Cheval-batterie-agrafe-2026"];
    let created = admin(
        &dir,
        &[
            &["create", "--login", "admin@ville.test"][..],
            &password[..],
        ]
        .concat(),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let new_key = dir.join("nouvelle.key");
    let new_key_arg = new_key.to_str().expect("a UTF-8 path");

    let rotated = admin(
        &dir,
        &["rotate-master-key", "--new-master-key-file", new_key_arg],
    );

    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stdout(&rotated).contains("rechiffrée(s) sous la nouvelle clé maîtresse"),
        "{}",
        stdout(&rotated)
    );
    // The old key no longer opens the database; the new one does.
    let old = admin(
        &dir,
        &[
            &["create", "--login", "autre@ville.test"][..],
            &password[..],
        ]
        .concat(),
    );
    assert!(!old.status.success());
    assert!(stderr(&old).contains("clé maîtresse"), "{}", stderr(&old));
    let new = admin(
        &dir,
        &[
            &["create", "--login", "autre@ville.test"][..],
            &password[..],
            &["--master-key-file", new_key_arg][..],
        ]
        .concat(),
    );
    assert!(new.status.success(), "{}", stderr(&new));
    // Rotating onto the key in use is refused.
    let same = admin(
        &dir,
        &[
            "rotate-master-key",
            "--new-master-key-file",
            new_key_arg,
            "--master-key-file",
            new_key_arg,
        ],
    );
    assert!(!same.status.success());
    let _ = std::fs::remove_dir_all(dir);
}
