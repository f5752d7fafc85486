//! The `guichet` command line: `serve` (the platform), `migrate`,
//! `admin create` (the first administrator), `demarche import|schema`,
//! `connector new|check|call|verify|schema` for vendors and the IT
//! department with the registry's commands (see `cli/connector.rs`), and
//! `demo`.
//!
//! The database is `--database-url` or `DATABASE_URL` (`sqlite://…` or
//! `postgres://…`), by default the SQLite file `guichet.db` in the data
//! directory (`--data-dir`, `GUICHET_DATA_DIR`, default `guichet-data`).
//!
//! Results go to standard output as JSON; messages for people go to standard
//! error, in French. Exit codes: 0 success, 1 invalid input (file, component,
//! configuration, arguments), 2 the operation failed (a connector call, a
//! check of `connector verify`, an instance whose vendor is unavailable).

mod connector;
mod demarche;
pub mod demo;
mod notify;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Guichet: télédémarches and sandboxed connectors for collectivités.
#[derive(Debug, Parser)]
#[command(name = "guichet", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the platform: the HTTP API and the scheduler.
    Serve(serve::Serve),
    /// Creates or updates the database schema, then exits.
    Migrate(serve::Database),
    /// Administration from the command line.
    #[command(subcommand)]
    Admin(serve::AdminCommand),
    /// Démarche definitions: import, JSON Schema.
    #[command(subcommand)]
    Demarche(demarche::Command),
    /// Connector components: validate, call by hand.
    #[command(subcommand)]
    Connector(connector::Command),
    /// Runs the demo: the API with both connectors against the simulated vendors.
    Demo(demo::Demo),
}

/// Failure of a command: a French message and an exit code.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// Invalid input: exit code 1.
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    /// The operation itself failed: exit code 2.
    pub fn call(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    // clap exits with 2 on a usage error, which here means "the operation
    // failed": a wrong argument is invalid input (1), help and version 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = u8::from(error.use_stderr());
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    if !matches!(cli.command, Command::Demo(_) | Command::Serve(_)) {
        init_tracing("warn");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return report(Failure::input(format!("démarrage impossible : {e}"))),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Connector(command) => connector::run(command).await,
            Command::Serve(options) => {
                init_tracing_for_servers();
                serve::serve(options).await
            }
            Command::Migrate(options) => serve::migrate(options).await,
            Command::Admin(command) => serve::admin(command).await,
            Command::Demarche(command) => demarche::run(command).await,
            Command::Demo(options) => {
                init_tracing_for_servers();
                demo::run(options).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure),
    }
}

fn report(failure: Failure) -> ExitCode {
    eprintln!("erreur : {}", failure.message);
    ExitCode::from(failure.code)
}

/// Servers log their activity: info by default.
fn init_tracing_for_servers() {
    init_tracing("info");
}

/// Logs to standard error; `RUST_LOG` overrides the default level. Colours
/// only on a terminal: a log redirected to a file or a journal carries no
/// escape sequences.
fn init_tracing(default: &str) {
    use std::io::IsTerminal;
    // A failed connector call is the command's own error, printed once by
    // `report`: its journal event is not repeated as a log line.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{default},guichet_host::connectors::journal=error"
        ))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Writes a text for people to standard output.
fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes a JSON value to standard output.
fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::input(e.to_string()))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").map_err(|e| Failure::input(e.to_string()))
}
