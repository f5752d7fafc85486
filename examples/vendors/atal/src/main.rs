//! `atal-sim`: serves the simulated ATAL until Ctrl-C.
//!
//! ```text
//! atal-sim --listen 127.0.0.1:8091 --api-key demo-atal-key
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Simulated ATAL (v6 REST) server for Guichet's tests and demo.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = atal_sim::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// API key expected in the `X-API-Key` header.
    #[arg(long, default_value = atal_sim::DEFAULT_API_KEY)]
    api_key: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let atal = atal_sim::spawn_with(args.listen, atal_sim::State::new(args.api_key))
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(url = %atal.base_url(), "simulated ATAL listening");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    tracing::info!("simulated ATAL stopping");
    Ok(())
}
