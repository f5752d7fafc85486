//! `guichet demo`: the host on loopback with the ATAL and Espace famille
//! connectors installed and configured against the simulated vendor servers
//! (which `cargo xtask demo` starts beside it).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::Failure;
use crate::connectors::journal::MemoryJournal;
use crate::connectors::{InstanceConfig, Registry, Runtime, RuntimeConfig};
use crate::http::{AppState, router};

/// Options of `guichet demo`.
#[derive(Debug, Args)]
pub(super) struct Demo {
    /// Address of the API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory holding the built connector components.
    #[arg(long, default_value = "target/wasm32-wasip2/guest")]
    components: PathBuf,
    /// Base URL of the simulated ATAL.
    #[arg(long, default_value = "http://127.0.0.1:8091")]
    atal_url: String,
    /// API key of the simulated ATAL.
    #[arg(long, default_value = "demo-atal-key")]
    atal_key: String,
    /// Base URL of the simulated Espace famille.
    #[arg(long, default_value = "http://127.0.0.1:8092")]
    famille_url: String,
    /// Token of the simulated Espace famille.
    #[arg(long, default_value = "demo-espace-famille-token")]
    famille_token: String,
    /// Directory for the demo's data (cache of precompiled components).
    #[arg(long, default_value = ".guichet-demo")]
    data_dir: PathBuf,
}

pub(super) async fn run(options: Demo) -> Result<(), Failure> {
    let journal = Arc::new(MemoryJournal::default());
    let runtime = Runtime::new(
        RuntimeConfig::new(options.data_dir.join("cache")),
        journal.clone(),
    )
    .map_err(|e| Failure::input(e.to_string()))?;
    let registry = Arc::new(Registry::new(runtime));
    let connectors = [
        (
            "guichet_connector_atal.wasm",
            InstanceConfig {
                id: "atal-demo".into(),
                connector: "atal".into(),
                settings: serde_json::json!({
                    "base_url": options.atal_url,
                    "api_key": options.atal_key,
                    "requester_id": "105",
                }),
                allowed_hosts: vec![options.atal_url.clone()],
                timeout_ms: None,
                memory_mib: None,
                http: Default::default(),
            },
        ),
        (
            "guichet_connector_espace_famille.wasm",
            InstanceConfig {
                id: "espace-famille-demo".into(),
                connector: "espace-famille".into(),
                settings: serde_json::json!({
                    "base_url": options.famille_url,
                    "token": options.famille_token,
                }),
                allowed_hosts: vec![options.famille_url.clone()],
                timeout_ms: None,
                memory_mib: None,
                http: Default::default(),
            },
        ),
    ];
    for (file, config) in connectors {
        let path = options.components.join(file);
        registry
            .install_file(&path)
            .await
            .map_err(|e| Failure::input(format!("{} : {e}", path.display())))?;
        registry
            .configure(config, None)
            .map_err(|e| Failure::input(e.to_string()))?;
    }
    let admin_token: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
    let state = AppState {
        registry: registry.clone(),
        journal,
        admin_token: admin_token.clone(),
    };
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| Failure::input(format!("écoute impossible sur {} : {e}", options.listen)))?;
    let base = format!("http://{}", options.listen);
    super::say(&format!(
        "Guichet (démo) écoute sur {base}\n\
         \n\
         Connecteurs installés : {}\n\
         Applications simulées : ATAL {} — Espace famille {}\n\
         \n\
         Jeton administrateur :\n  export TOKEN={admin_token}\n\
         Essayez :\n  \
         curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/connectors/instances\n  \
         curl -s -X POST -H \"Authorization: Bearer $TOKEN\" {base}/api/connectors/instances/atal-demo/check\n  \
         curl -s -X POST -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n       \
         -d '{{\"source\":\"thematics\",\"q\":\"voirie\"}}' {base}/api/connectors/instances/atal-demo/lookup\n  \
         curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/connectors/journal\n\
         \n\
         Ctrl-C pour arrêter.",
        registry.connectors().join(", "),
        options.atal_url,
        options.famille_url,
    ));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Failure::input(e.to_string()))
}
