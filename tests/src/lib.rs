//! Shared fixtures of the integration suites: the guest components built by
//! `build.rs`, a runtime with an in-memory journal, and the simulated vendor
//! servers with instances configured for them; and ([`app`]) the HTTP API
//! on a fresh database with a manual clock, for the `api` and `workflow`
//! suites, called through [`client`].

use std::path::PathBuf;
use std::sync::Arc;

use guichet_host::connectors::journal::MemoryJournal;
use guichet_host::connectors::{InstanceConfig, Registry, Runtime, RuntimeConfig};

/// Paths of the guest components.
pub mod components {
    include!(concat!(env!("OUT_DIR"), "/components.rs"));
}

/// The API key of the simulated ATAL (its default demo value).
pub const ATAL_KEY: &str = atal_sim::DEFAULT_API_KEY;
/// The token of the simulated Espace famille (its default demo value).
pub const FAMILLE_TOKEN: &str = espace_famille_sim::DEFAULT_TOKEN;

/// A registry over a fresh runtime, with its journal.
///
/// # Panics
/// When the runtime cannot start (tests only).
pub fn registry() -> (Arc<Registry>, Arc<MemoryJournal>) {
    let journal = Arc::new(MemoryJournal::default());
    let runtime =
        Runtime::new(RuntimeConfig::new(cache_dir()), journal.clone()).expect("runtime starts");
    (Arc::new(Registry::new(runtime)), journal)
}

/// The shared cache of precompiled components (content-addressed, so sharing
/// it across tests is safe).
pub fn cache_dir() -> PathBuf {
    PathBuf::from(components::HELLO)
        .parent()
        .map(|p| p.join("cache"))
        .unwrap_or_else(|| std::env::temp_dir().join("guichet-test-cache"))
}

/// A simulated ATAL on a free loopback port.
///
/// # Panics
/// When the port cannot be bound (tests only).
pub async fn atal() -> atal_sim::Handle {
    atal_sim::spawn(loopback())
        .await
        .expect("ATAL simulator starts")
}

/// A simulated Espace famille on a free loopback port.
///
/// # Panics
/// When the port cannot be bound (tests only).
pub async fn espace_famille() -> espace_famille_sim::Handle {
    espace_famille_sim::spawn(loopback())
        .await
        .expect("Espace famille simulator starts")
}

/// The `guichet` binary of this build (built on first use, in the test
/// executable's target directory and profile), with the suite's component
/// cache.
///
/// # Panics
/// When the binary does not build (tests only).
pub fn guichet_command() -> std::process::Command {
    use std::process::Command;
    use std::sync::OnceLock;
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    let binary = BINARY.get_or_init(|| {
        // tests run from target/<profile>/deps/; the binary sits in target/<profile>/.
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("target/<profile>");
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "guichet-host", "--bin", "guichet"])
            .args(if profile_dir.ends_with("release") {
                &["--release"][..]
            } else {
                &[][..]
            })
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .env(
                "CARGO_TARGET_DIR",
                profile_dir.parent().expect("target dir"),
            )
            .status()
            .expect("cargo builds guichet");
        assert!(status.success());
        profile_dir.join("guichet")
    });
    let mut command = Command::new(binary);
    command.env("GUICHET_CACHE_DIR", cache_dir());
    command
}

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// An ATAL instance configuration for the simulator at `base_url`.
pub fn atal_config(id: &str, base_url: &str) -> InstanceConfig {
    instance_config(
        id,
        "atal",
        base_url,
        serde_json::json!({ "base_url": base_url, "api_key": ATAL_KEY, "requester_id": "105" }),
    )
}

/// An Espace famille instance configuration for the simulator at `base_url`.
pub fn famille_config(id: &str, base_url: &str) -> InstanceConfig {
    instance_config(
        id,
        "espace-famille",
        base_url,
        serde_json::json!({ "base_url": base_url, "token": FAMILLE_TOKEN }),
    )
}

/// An instance configuration allowing exactly `base_url`'s origin.
pub fn instance_config(
    id: &str,
    connector: &str,
    base_url: &str,
    settings: serde_json::Value,
) -> InstanceConfig {
    InstanceConfig {
        id: id.into(),
        connector: connector.into(),
        settings,
        allowed_hosts: vec![base_url.to_string()],
        timeout_ms: None,
        memory_mib: None,
        http: Default::default(),
    }
}

pub mod app;
pub mod browser;
pub mod client;
pub mod filing;
pub mod hostile;
pub mod load;
pub mod portal;

/// The mailer's settings for an SMTP server without TLS at `addr` (the
/// `mail-sim` sink): the sender and reply-to of the Ville de
/// Saint-Laurent, a timeout of `timeout`.
///
/// # Panics
/// Never: the addresses are constants that parse.
pub fn mail_settings(
    addr: std::net::SocketAddr,
    timeout: std::time::Duration,
) -> guichet_host::mail::MailSettings {
    guichet_host::mail::MailSettings {
        host: addr.ip().to_string(),
        port: addr.port(),
        security: guichet_host::mail::SmtpSecurity::None,
        credentials: None,
        from: "Ville de Saint-Laurent <ne-pas-repondre@ville-saint-laurent.fr>"
            .parse()
            .expect("a mailbox"),
        reply_to: Some("accueil@ville-saint-laurent.fr".parse().expect("a mailbox")),
        timeout,
    }
}
pub mod storage;
