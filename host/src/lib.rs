//! # guichet-host
//!
//! The Guichet host: the platform that runs démarches and their workflows and
//! loads sandboxed WebAssembly connectors. This crate is both a library (to
//! embed the runtime in another Rust program) and the `guichet` binary.
//!
//! Where to start:
//! - [`connectors`]: the connector runtime (WIT contract, sandbox, registry).
//! - [`http`]: the HTTP API.
//! - [`cli`]: the `guichet` command line.

pub mod cli;
pub mod connectors;
pub mod http;
