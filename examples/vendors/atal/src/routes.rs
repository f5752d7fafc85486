//! The HTTP surface of the simulated ATAL: the `/api` routes, gated by the
//! mode switch and the `X-API-Key` check, and the `/_sim` control routes,
//! open to anyone.

mod control;
mod referential;
mod works_requests;

use axum::{Router, http::HeaderName};
use uuid::Uuid;
use vendor_sim::{Credential, credential, mode};

use crate::{
    error::{ApiError, AtalShape},
    state::{State, unknown_request},
};

/// The header carrying ATAL's API key.
const API_KEY_HEADER: &str = "x-api-key";

pub(crate) fn router(state: State) -> Router {
    let api = Router::new()
        .merge(referential::router())
        .merge(works_requests::router());
    let key = Credential::Header {
        name: HeaderName::from_static(API_KEY_HEADER),
        value: state.api_key().to_owned(),
    };
    let api = credential::guard::<AtalShape, State>(api, key, "Clé d'API invalide");
    let api = mode::gate::<AtalShape, State>(api, state.mode_switch().clone());
    Router::new()
        .merge(api)
        .merge(vendor_sim::control::router::<AtalShape, State>(
            state.mode_switch().clone(),
        ))
        .merge(control::router())
        .fallback(vendor_sim::control::unknown_route::<AtalShape>)
        .with_state(state)
}

/// A works request id from the path; anything that is not a UUID names no
/// request, hence 404.
fn works_request_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::not_found(
            "demande_introuvable",
            format!("Demande d'intervention {raw} introuvable"),
        )
    })
}

/// The ids given as a path parameter must at least exist in the store.
fn existing_works_request(state: &State, raw: &str) -> Result<Uuid, ApiError> {
    let id = works_request_id(raw)?;
    if state.has_works_request(id) {
        Ok(id)
    } else {
        Err(unknown_request(id))
    }
}
