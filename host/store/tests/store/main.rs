//! Integration tests of the store, one binary with one module per
//! aggregate. Every test runs twice, on SQLite and on PostgreSQL
//! (`support::on_both_backends!`): `cargo test -p guichet-store sqlite` or
//! `… postgres` runs one half.

// Fixtures unwrap too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod support;

mod account;
mod anonymisation;
mod connector;
mod demande;
mod demarche;
mod draft;
mod end_of_life;
mod file;
mod group;
mod job;
mod link;
mod migration;
mod outcome;
mod registry;
mod statistics;
mod statistics_trends;
mod timer;
