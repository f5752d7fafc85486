//! The HTTP surface of the simulated Espace famille: the `/api` routes,
//! gated by the mode switch and the bearer-token check, and the `/_sim`
//! control routes, open to anyone.

mod activites;
mod control;
mod familles;
mod inscriptions;

use axum::{Json, Router, routing::get};
use uuid::Uuid;
use vendor_sim::{Credential, credential, mode};

use crate::{
    error::{ApiError, EspaceFamilleShape},
    state::{State, unknown_inscription},
};

pub(crate) fn router(state: State) -> Router {
    let api = Router::new()
        .route("/api/ping", get(ping))
        .merge(familles::router())
        .merge(activites::router())
        .merge(inscriptions::router());
    let token = Credential::Bearer(state.token().to_owned());
    let api = credential::guard::<EspaceFamilleShape, State>(
        api,
        token,
        "Jeton d'accès absent ou invalide",
    );
    let api = mode::gate::<EspaceFamilleShape, State>(api, state.mode_switch().clone());
    Router::new()
        .merge(api)
        .merge(vendor_sim::control::router::<EspaceFamilleShape, State>(
            state.mode_switch().clone(),
        ))
        .merge(control::router())
        .fallback(vendor_sim::control::unknown_route::<EspaceFamilleShape>)
        .with_state(state)
}

/// The availability check.
async fn ping() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "statut": "ok", "version": "3.2-sim" }))
}

/// A registration id from the path; anything that is not a UUID names no
/// registration, hence 404.
fn inscription_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| unknown_inscription(raw))
}
