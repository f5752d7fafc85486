//! The hostile test connector (`tests/components/hostile`) as the instance
//! `echange`, for the hot-swap tests and benchmark: both versions
//! installed, the instance configured on the first one through the admin
//! API, and the administrator who did it.

use serde_json::json;

use crate::app::{Client, TestApp};

/// The group of the platform's administrators.
pub const ADMIN: &str = "Admin_SVL_DSI_Guichet";

/// Installs the hostile connector's versions 0.1.0 and 0.2.0, configures
/// the instance `echange` on 0.1.0 with `behaviour` (`version`: `check`
/// answers the version that ran it; `panic`…), and returns the
/// administrator's client.
///
/// # Panics
/// When the API refuses (tests only).
pub async fn echange(app: &TestApp, behaviour: &str) -> Client {
    app.install(crate::components::HOSTILE).await;
    app.install(crate::components::HOSTILE_V2).await;
    app.grant(ADMIN, None).await;
    let admin = app.agent("admin@ville.test", &[ADMIN]).await;
    admin
        .put(
            "/api/connectors/instances/echange",
            json!({
                "connector": "hostile",
                "version": "0.1.0",
                "settings": { "behaviour": behaviour },
                "allowed_hosts": ["http://127.0.0.1:1"],
            }),
        )
        .await
        .expect(200);
    admin
}
