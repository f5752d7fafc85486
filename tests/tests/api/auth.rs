//! Accounts and sessions: registration with a profile, the session cookie,
//! logout, expiry on the injected clock.

use chrono::Duration;
use guichet_tests::app::{TestApp, session_cookie};
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    registration_keeps_the_profile_and_refuses_a_taken_login,
    login_sets_an_http_only_same_site_cookie_and_logout_ends_the_session,
    sessions_expire_on_the_injected_clock,
);

async fn registration_keeps_the_profile_and_refuses_a_taken_login(app: TestApp) {
    let usager = app
        .usager("Camille", "Martin", "Camille.Martin@Exemple.test")
        .await;
    let me = usager.get("/api/me").await;
    let me = me.expect(200);
    assert_eq!(me["login"], "camille.martin@exemple.test");
    assert_eq!(me["kind"], "usager");
    assert_eq!(me["profile"]["last_name"], "Martin");
    assert_eq!(me["profile"]["phone"], "+33612345678");
    assert_eq!(me["profile"]["address"]["city"], "Marseille");

    let taken = app
        .anonymous()
        .post(
            "/api/auth/register",
            json!({ "login": "camille.martin@exemple.test", "password": "Tartine-Vélo-Soleil-42",
                    "profile": { "first_name": "C", "last_name": "M" } }),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "login_taken"));

    let users = app.count("users").await;
    let invalid = app
        .anonymous()
        .post(
            "/api/auth/register",
            json!({ "login": "pas-une-adresse", "password": "court",
                    "profile": { "first_name": "", "last_name": "Martin", "phone": "123" } }),
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(
        invalid.field_errors(),
        [
            "login:format_email",
            "password:mot_de_passe_trop_court",
            "profile.first_name:requis",
            "profile.phone:format_telephone"
        ]
    );
    assert_eq!(app.count("users").await, users);
}

async fn login_sets_an_http_only_same_site_cookie_and_logout_ends_the_session(app: TestApp) {
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let reply = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({ "login": "camille.martin@exemple.test", "password": "mot-de-passe-usager" }),
        )
        .await;
    reply.expect(200);
    let set_cookie = reply.cookies.join("\n");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = session_cookie(&reply).unwrap();
    let token = cookie.trim_start_matches("guichet_session=");
    assert_eq!(token.len(), 64, "32 random bytes in hex");
    let texts = app.every_stored_text().await;
    assert!(
        !texts.iter().any(|(_, value)| value.contains(token)),
        "only the token's hash is stored"
    );

    let session = app.with_cookie(&cookie);
    assert_eq!(session.get("/api/me").await.status, 200);
    session
        .post("/api/auth/logout", json!({}))
        .await
        .expect(204);
    let after = session.get("/api/me").await;
    assert_eq!((after.status, after.code()), (401, "unauthenticated"));
}

async fn sessions_expire_on_the_injected_clock(app: TestApp) {
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    app.clock.advance(Duration::hours(11));
    assert_eq!(usager.get("/api/me").await.status, 200);
    app.clock.advance(Duration::hours(2));
    let expired = usager.get("/api/me").await;
    assert_eq!((expired.status, expired.code()), (401, "unauthenticated"));
}
