//! Both standard paths of the collectivité end to end through the HTTP
//! API, on SQLite and on PostgreSQL, with the clock jumped by days and the
//! scheduler's round run after each jump: the *parcours simple* (vélo) and
//! the *parcours complexe* (signalement), reminders, deadlines, hold,
//! transfer, exchanges, cancellation for no answer, archiving, and
//! anonymisation proved by scanning every table, the database's raw files
//! and the file storage; the end of life of trashed demandes and drafts.
//!
//! `cargo test -p guichet-tests --test workflow sqlite` (or `postgres`)
//! runs one half.

// Fixtures unwrap too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod anonymisation;
mod complexe;
mod end_of_life;
mod hot_swap;
mod journal;
mod notifications;
mod notifications_complexe;
mod simple;
mod transmission;
