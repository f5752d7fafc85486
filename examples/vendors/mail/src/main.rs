//! `mail-sim`: an SMTP sink that shows the mails it receives, until Ctrl-C.
//!
//! ```text
//! mail-sim --smtp 127.0.0.1:2525 --listen 127.0.0.1:8094
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Local SMTP sink for Guichet's demo: read the mails at the HTTP address.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// SMTP address to listen on.
    #[arg(long, default_value = mail_sim::DEFAULT_SMTP)]
    smtp: SocketAddr,
    /// HTTP address showing the mails received.
    #[arg(long, default_value = mail_sim::DEFAULT_LISTEN)]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let (sink, http) = mail_sim::spawn(args.smtp, args.listen)
        .await
        .with_context(|| format!("cannot listen on {} and {}", args.smtp, args.listen))?;
    tracing::info!(smtp = %sink.smtp_url(), mails = %http.base_url(), "mail sink listening");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}
