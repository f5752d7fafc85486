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

/// The memory allocator of the `guichet` binary: mimalloc (crate
/// `mimalloc`, Microsoft's allocator built from C), which returns freed
/// memory to the system sooner than glibc's per-thread arenas. Under the
/// load benchmark the process peaked at about half the resident memory it
/// reached with glibc, for the same CPU (BENCHMARKS.md §2 and §9). It is
/// built without transparent huge pages (feature `no_thp`): with them, an
/// idle `guichet demo` kept 120–143 MB resident, over the 80 MB aim,
/// against 72–73 MB without (§9). A program that embeds the host chooses
/// its own allocator; the load benchmark declares this one, as `guichet
/// serve` runs with it.
pub use mimalloc::MiMalloc as Allocator;
