//! The simulated ATAL, spoken to over real HTTP as a connector would.
//! One module per resource; `helpers` starts a fresh simulator per test.

mod attachments;
mod helpers;
mod modes;
mod referential;
mod works_requests;
