//! The HTTP surface of the simulated provider: the `/api` routes, gated by
//! the mode switch and the bearer key, and the `/_sim` routes, open to
//! anyone (`GET /_sim/messages` lists what was received).

use axum::{
    Json, Router,
    extract::{self, rejection::JsonRejection},
    http::HeaderMap,
    routing::{get, post},
};
use vendor_sim::{Claim, Credential, Outcome, credential, idempotency::IDEMPOTENCY_KEY, mode};

use crate::{
    error::{ApiError, SmsShape},
    message::{Accepted, Message, NewMessage},
    state::State,
};

/// What `GET /api/status` answers.
pub const VERSION: &str = "1.0-sim";

pub(crate) fn router(state: State) -> Router {
    let api = Router::new()
        .route("/api/status", get(status))
        .route("/api/messages", post(send));
    let key = Credential::Bearer(state.api_key().to_owned());
    let api = credential::guard::<SmsShape, State>(api, key, "Clé d'API invalide");
    let api = mode::gate::<SmsShape, State>(api, state.mode_switch().clone());
    Router::new()
        .merge(api)
        .merge(vendor_sim::control::router::<SmsShape, State>(
            state.mode_switch().clone(),
        ))
        .route("/_sim/messages", get(received))
        .fallback(vendor_sim::control::unknown_route::<SmsShape>)
        .with_state(state)
}

async fn status() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": VERSION }))
}

async fn send(
    extract::State(state): extract::State<State>,
    headers: HeaderMap,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Outcome<Accepted>, ApiError> {
    let Json(body) = body?;
    let claim = Claim::from_headers(&headers, body.clone())?;
    let key = claim.as_ref().and_then(|_| {
        headers
            .get(IDEMPOTENCY_KEY)
            .and_then(|v| v.to_str().ok())
            .map(|k| k.trim().to_owned())
    });
    let input: NewMessage =
        serde_json::from_value(body).map_err(|error| ApiError::invalid_body(&error))?;
    let outcome = state.send(input, claim, key)?;
    if let Outcome::Created(message) = &outcome {
        tracing::info!(id = %message.id, "SMS accepted");
    }
    Ok(outcome.map(|message| Accepted::from(&message)))
}

async fn received(extract::State(state): extract::State<State>) -> Json<Vec<Message>> {
    Json(state.messages())
}
