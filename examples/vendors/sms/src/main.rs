//! `sms-sim`: serves the simulated SMS provider until Ctrl-C.
//!
//! ```text
//! sms-sim --listen 127.0.0.1:8093 --api-key demo-sms-key
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Simulated SMS provider for Guichet's tests and demo.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = sms_sim::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// API key expected as `Authorization: Bearer <key>`.
    #[arg(long, default_value = sms_sim::DEFAULT_API_KEY)]
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
    let sms = sms_sim::spawn_with(args.listen, sms_sim::State::new(args.api_key))
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(
        url = %sms.base_url(),
        received = %format!("{}/_sim/messages", sms.base_url()),
        "simulated SMS provider listening"
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    tracing::info!("simulated SMS provider stopping");
    Ok(())
}
