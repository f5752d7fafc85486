//! # vendor-sim — what every simulated vendor server shares
//!
//! The ATAL and Espace famille simulators (`atal-sim`, `espace-famille-sim`)
//! differ in their routes and data, but they fail, slow down and go down the
//! same way, guard their API the same way and replay idempotent creations the
//! same way. This crate holds that common part:
//!
//! - [`Mode`] and [`ModeSwitch`]: the failure switch, read by [`mode::gate`]
//!   (fail, slow) and by [`SwitchedListener`] (down);
//! - [`Server`]: a simulator served in a tokio task, as tests start it;
//! - [`control::router`]: the `/_sim/mode`, `/_sim/redirect` and `/_sim/big` routes;
//! - [`Credential`] and [`credential::guard`]: the API-key or bearer check;
//! - [`Error`] and [`ErrorShape`]: one error type rendered in each vendor's JSON shape;
//! - [`Ledger`] and [`Claim`]: `Idempotency-Key` bookkeeping;
//! - [`Numbering`]: record numbers such as `DI-2026-000001`;
//! - [`Shared`]: in-memory state behind a lock that cannot be held across an await.
//!
//! Start with [`Server::start`], then read a vendor crate's `router` to see
//! how the pieces are put together.

pub mod control;
pub mod credential;
pub mod error;
pub mod idempotency;
pub mod listener;
pub mod mode;
pub mod numbering;
pub mod server;
pub mod shared;

pub use credential::Credential;
pub use error::{Error, ErrorShape};
pub use idempotency::{Claim, Ledger, Outcome};
pub use listener::SwitchedListener;
pub use mode::{Mode, ModeSwitch};
pub use numbering::Numbering;
pub use server::Server;
pub use shared::Shared;
