//! The simulated Espace famille, spoken to over real HTTP as a connector
//! would. One module per resource; `helpers` starts a fresh simulator per test.

mod activites;
mod familles;
mod helpers;
mod inscriptions;
mod modes;
