//! The pure domain core of Guichet: démarches, forms, validation, demandes,
//! workflows, deadlines, roles and anonymisation — the collectivité's own
//! process (`shared/domain/PROCESS.md`) as types and pure functions.
//!
//! # Where to start
//!
//! - [`demarche::Definition::from_yaml`] reads a démarche definition (see
//!   `examples/demarches/*.yaml` and the JSON Schema
//!   [`demarche::definition_schema`]); [`demarche::classify_change`] says
//!   whether an edit is made in place or needs a new version.
//! - [`profile::prefill`] builds the first draft; [`validation::validate_page`]
//!   checks a page, [`validation::validate_submission`] the whole form,
//!   [`validation::check_upload`] a file by its content;
//!   [`summary::summary`] builds the summary page.
//! - [`submission::submit`] files a demande (by the usager or by an agent on
//!   their behalf) and starts its workflow.
//! - [`workflow::apply`] runs an action on a demande; [`workflow::deadline::fire`] runs
//!   a due timer. Both return a [`workflow::Outcome`]: the new demande, the
//!   history entries, the notification jobs and the timer changes, which the
//!   store writes in one transaction.
//! - [`role::rights`] computes the rights of a person on a démarche from
//!   their groups and the grants; [`history`] filters what usagers see.
//! - [`workflow::anonymise`] says what anonymisation erases and keeps; [`trash`]
//!   how a demande in the trash is restored, purged and shown to its usager;
//!   [`notification::render`] fills a job's text for delivery;
//!   [`phone::mobile_e164`] says which number an SMS goes to, and
//!   [`sms::fit`] makes its text fit the SMS segments allowed.
//!
//! # Design
//!
//! - **Pure.** No I/O, no async, no global clock: "now" is a parameter, read
//!   by the caller from a [`clock::Clock`] ([`clock::ManualClock`] in tests,
//!   which jump 15, 21 or 27 days), and so is the collectivité's time zone
//!   ([`calendar::Zone`]), in which every calendar date and every delay in
//!   days or months is counted.
//! - **Side effects as data.** Transitions never send mail or touch storage:
//!   they return [`notification::NotificationJob`]s, [`workflow::deadline::TimerChange`]s
//!   and [`history::HistoryEntry`]s. Timers are (kind, demande, due date)
//!   rows, so the scheduler reads only what is due.
//! - **One workflow format.** The *parcours standard simple* and *complexe*
//!   are built-in [`workflow::Workflow`] values produced by
//!   [`workflow::template`] from a démarche's parameters; custom workflows use
//!   the same format and pass the same checks.
//! - **Nothing half-applied.** Every check runs before the outcome is built
//!   on a copy: an error returns no outcome.
//! - **French for people, English for code.** Error messages, labels and
//!   notification texts are French; stable codes are snake_case.

pub mod access;
pub mod actor;
pub mod calendar;
pub mod clock;
pub mod condition;
pub mod demande;
pub mod demarche;
pub mod draft;
pub mod field;
pub mod file;
pub mod format;
pub mod history;
pub mod id;
pub mod notification;
pub mod phone;
pub mod profile;
pub mod role;
pub mod sms;
pub mod submission;
pub mod summary;
pub mod text;
pub mod trash;
pub mod validation;
pub mod value;
pub mod workflow;
pub mod yaml;
