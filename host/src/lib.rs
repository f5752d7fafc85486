//! # guichet-host
//!
//! The Guichet host: the platform that runs démarches and their workflows and
//! loads sandboxed WebAssembly connectors. This crate is both a library (to
//! embed the runtime in another Rust program) and the `guichet` binary.
//!
//! Where to start:
//! - [`app`]: assembling the application (configuration, store, registry,
//!   scheduler, router) — what `guichet serve` runs.
//! - [`connectors`]: the connector runtime (WIT contract, sandbox, registry).
//! - [`http`]: the HTTP API.
//! - [`scheduler`]: the scheduler of timers (reminders, deadlines, archive, anonymisation).
//! - the domain is the crate `guichet-core` (`host/core`), storage the crate
//!   `guichet-store` (`host/store`).
//! - [`cli`]: the `guichet` command line.

pub mod app;
pub mod cli;
pub mod connectors;
pub mod http;
pub mod mail;
pub mod scheduler;
pub mod service;
pub mod web;
