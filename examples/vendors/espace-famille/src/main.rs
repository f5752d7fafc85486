//! `espace-famille-sim`: serves the simulated Espace famille until Ctrl-C.
//!
//! ```text
//! espace-famille-sim --listen 127.0.0.1:8092 --token demo-espace-famille-token
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Simulated Espace famille server for Guichet's tests and demo.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = espace_famille_sim::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Bearer token expected in the `Authorization` header.
    #[arg(long, default_value = espace_famille_sim::DEFAULT_TOKEN)]
    token: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let portail =
        espace_famille_sim::spawn_with(args.listen, espace_famille_sim::State::new(args.token))
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(url = %portail.base_url(), "simulated Espace famille listening");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    tracing::info!("simulated Espace famille stopping");
    Ok(())
}
