//! The connector runtime: loads sandboxed WebAssembly connector components
//! (connecteurs métier) and calls them on behalf of the platform.
//!
//! Start with [`Runtime`] (one per process: one wasmtime `Engine`, one `Linker`,
//! the epoch ticker and the on-disk cache of precompiled components), then
//! [`Registry`] (installed connector versions and configured instances, with
//! atomic activation and rollback).
//!
//! # Design
//! - **Contract** ([`contract`]): a component implements a world of the WIT
//!   package `guichet:connector` (`wit/` at the repository root). Each
//!   supported contract version has its own bindings module under
//!   `contract/` (`v0_1_0`) converting to and from the host's own types in
//!   [`model`], so the rest of the platform never sees generated WIT types
//!   nor names a version, and older components keep loading when new
//!   contract versions are added (the Zed pattern).
//! - **Install** ([`Runtime::load`]): the bytes are checked to be a component,
//!   compiled once (or read back precompiled from the cache, keyed by the
//!   content hash and the engine's compatibility hash), matched against the
//!   supported worlds, pre-instantiated (`InstancePre`), and `describe` is called:
//!   its configuration schema must be valid JSON Schema. The result is a
//!   [`ConnectorVersion`].
//! - **Call** ([`Runtime::call`]): a fresh `Store` per call, so a trap poisons
//!   nothing but that call; an epoch deadline (the ticker advances the epoch every
//!   10 ms; the deadline callback yields to tokio at each tick so a busy guest
//!   never holds a worker thread, and traps once the instance's timeout has
//!   passed) and a memory cap enforced by a `ResourceLimiter`; calls are async
//!   end to end, so a slow vendor blocks no thread. A semaphore bounds the calls
//!   in flight to the pooling allocator's capacity, and a semaphore per
//!   instance bounds each instance to its share: extra calls wait, they do
//!   not fail.
//! - **Capabilities** ([`host`]): outbound HTTP only to the instance's
//!   allow-list ([`allowlist`], [`outbound`]), structured logs, configuration
//!   and secrets, and the content of the demande's own attachments. WASI is
//!   linked with an empty context: no filesystem, environment, arguments or
//!   sockets; stderr is captured (bounded) so a guest panic message reaches the
//!   journal. [`capability`] says what each import gives; imports outside the
//!   supported worlds are refused at install.
//! - **Journal** ([`journal`]): every call, install included, leaves a
//!   [`CallRecord`](journal::CallRecord) with connector, version, instance,
//!   operation, duration, outcome, error, guest logs and HTTP exchanges, with
//!   every occurrence of the instance's secrets masked, timed by the
//!   journal's clock; a job's attempt holds its records back
//!   ([`journal::collect`]) so the platform writes them with the attempt's
//!   outcome (`crate::service::journal`).
//! - **Bounds** ([`bounds`]): everything a call leaves behind is bounded in
//!   count and bytes where it is made, with a marker saying what was cut; the
//!   in-memory journal is bounded in records and bytes; each instance has its
//!   own share of the call slots, so one vendor cannot starve the others.
//! - **Errors** ([`error`]): a connector's own typed error
//!   ([`model::ConnectorError`]) is kept apart from traps, timeouts and memory
//!   blow-ups, which are [`CallError`] variants of their own.

pub mod allowlist;
pub mod bounds;
pub mod cache;
pub mod capability;
pub mod contract;
pub mod error;
pub mod host;
pub mod instance;
pub mod journal;
pub mod lookups;
pub mod model;
pub mod outbound;
pub mod registry;
pub mod runtime;
mod validation;

pub use error::{CallError, InstallError};
pub use instance::{Instance, InstanceConfig};
pub use registry::Registry;
pub use runtime::{ConnectorVersion, Runtime, RuntimeConfig};
