//! The HTTP API through a real server on a free port, on SQLite and on
//! PostgreSQL: authentication, one's own account (password, profile), the
//! usager's path, the full role × action matrix of the collectivité's
//! table, bad inputs (each a clear error that writes nothing),
//! administration (démarches' number prefix included), the persisted
//! connector registry (upload, configuration, restart), the API's edges
//! under attack (control characters, security headers, bounded hashing,
//! brute force, cross-site writes, the last administrator, weak
//! passwords), the OpenAPI document
//! against the router and against schemathesis, and the error catalogue
//! against its snapshot.
//!
//! `cargo test -p guichet-tests --test api sqlite` (or `postgres`) runs one
//! half.

// Fixtures unwrap too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod raw;

mod account;
mod admin;
mod auth;
mod backoffice;
mod backoffice_actions;
mod backoffice_admin;
mod backoffice_browser;
mod backoffice_links;
mod backoffice_organisation;
mod backoffice_organisation_browser;
mod backoffice_statistics;
mod bad_inputs;
mod drafts;
mod error_catalogue;
mod inputs;
mod links;
mod login;
mod lookups;
mod matrix;
mod openapi;
mod password_links;
mod portal;
mod portal_account;
mod portal_demandes;
mod portal_form;
mod portal_vendors;
mod processing;
mod registry;
mod schemathesis;
mod security;
mod services;
mod statistics;
mod time_zone;
mod usager;
