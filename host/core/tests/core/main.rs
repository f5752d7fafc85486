//! Integration tests of the domain core, one binary with one module per
//! concern; `support` holds the fixtures and a tiny in-memory store that
//! applies outcomes the way the real store must (one outcome at a time,
//! timers indexed by due date).

// Fixtures unwrap too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod support;

mod anonymisation;
mod complexe_path;
mod custom_workflow;
mod definition;
mod drafts;
mod examples;
mod inputs;
mod layers;
mod rights;
mod simple_path;
mod upload;
mod validation;
