//! Logging in under attack: password hashing bounded whatever the number of
//! concurrent logins, wrong passwords slowed down per account and per
//! address (on the injected clock), and weak passwords refused.

use std::time::Duration;

use guichet_host::http::{LoginLimits, Settings, Tier};
use guichet_tests::app::{TestApp, test_settings};
use guichet_tests::on_both_backends;
use reqwest::header;
use serde_json::json;

use crate::admin::admin;
use crate::raw::login_raw;

on_both_backends!(
    wrong_passwords_are_slowed_down_and_the_right_one_passes_later,
    weak_passwords_are_refused,
);

on_both_backends_with!(super::bounded_hashing(); concurrent_logins_never_hash_more_than_the_bound);

const PASSWORD: &str = "mot-de-passe-usager";

fn bounded_hashing() -> Settings {
    let generous = Tier::new(1000, Duration::from_millis(1));
    Settings {
        password_hashing_slots: 2,
        password_hashing_wait: Duration::from_millis(200),
        login_limits: LoginLimits {
            account: [generous, generous],
            address: [generous, generous],
        },
        ..test_settings()
    }
}

async fn concurrent_logins_never_hash_more_than_the_bound(app: TestApp) {
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let attempts = (0..32).map(|n| {
        let login = if n % 2 == 0 {
            "camille.martin@exemple.test".to_owned()
        } else {
            format!("inconnu{n}@exemple.test")
        };
        let app = &app;
        async move { login_raw(app, &login, "pas-le-bon-mot-de-passe").await }
    });
    let answers = futures::future::join_all(attempts).await;
    for answer in &answers {
        assert!(
            matches!(
                (answer.status, answer.code()),
                (401, "invalid_credentials") | (503, "service_busy")
            ),
            "{} {}",
            answer.status,
            answer.body
        );
    }
    let peak = app.passwords.peak();
    assert!(
        (1..=2).contains(&peak),
        "at most 2 hashes at once, saw {peak}"
    );

    // Every slot taken: a login waits briefly, then is told to come back.
    let first = app.passwords.reserve().await.unwrap();
    let second = app.passwords.reserve().await.unwrap();
    let busy = login_raw(&app, "camille.martin@exemple.test", PASSWORD).await;
    assert_eq!((busy.status, busy.code()), (503, "service_busy"));
    assert_eq!(busy.header("retry-after"), "1");
    drop((first, second));
    assert_eq!(
        login_raw(&app, "camille.martin@exemple.test", PASSWORD)
            .await
            .status,
        200
    );
}

async fn wrong_passwords_are_slowed_down_and_the_right_one_passes_later(app: TestApp) {
    app.usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let camille = "camille.martin@exemple.test";
    for _ in 0..5 {
        let wrong = login_raw(&app, camille, "pas-le-bon-mot-de-passe").await;
        assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    }
    // Even the right password waits now, before any hashing.
    let limited = login_raw(&app, camille, PASSWORD).await;
    assert_eq!((limited.status, limited.code()), (429, "too_many_attempts"));
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=31).contains(&retry), "{retry}");
    assert!(limited.headers.get(header::SET_COOKIE).is_none());

    // The delay decays on the clock: then the right password is accepted.
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(login_raw(&app, camille, PASSWORD).await.status, 200);

    // One address trying many accounts is slowed down too.
    for n in 0..20 {
        let wrong = login_raw(&app, &format!("inconnu{n}@exemple.test"), "pas-le-bon").await;
        assert_eq!(wrong.status, 401, "{n}");
    }
    let sprayed = login_raw(&app, "encore-un@exemple.test", "pas-le-bon").await;
    assert_eq!((sprayed.status, sprayed.code()), (429, "too_many_attempts"));
    app.clock.advance(chrono::Duration::seconds(6));
    assert_eq!(login_raw(&app, camille, PASSWORD).await.status, 200);
}

async fn weak_passwords_are_refused(app: TestApp) {
    let anonymous = app.anonymous();
    let register = |password: &str| {
        anonymous.post(
            "/api/auth/register",
            guichet_tests::app::usager_registration(
                "dominique.essai@exemple.test",
                password,
                "Dominique",
                "Essai",
            ),
        )
    };
    for (password, code) in [
        ("12345678", "password:mot_de_passe_trop_court"),
        ("123456789012", "password:mot_de_passe_trop_faible"),
        ("motdepasse2026", "password:mot_de_passe_trop_faible"),
        ("dominique.essai", "password:mot_de_passe_trop_faible"),
    ] {
        let reply = register(password).await;
        assert_eq!(reply.status, 422, "{password}");
        assert_eq!(reply.field_errors(), [code], "{password}");
    }
    let long = "Tartine-Vélo-Soleil-".repeat(7);
    assert_eq!(
        register(&long).await.field_errors(),
        ["password:mot_de_passe_trop_long"]
    );
    register("Tartine-Vélo-Soleil-42").await.expect(201);

    let admin = admin(&app).await;
    let agent = admin
        .post(
            "/api/admin/users",
            json!({ "login": "lea@ville.test", "display_name": "Léa",
                    "password": "12345678", "groups": [] }),
        )
        .await;
    assert_eq!(agent.field_errors(), ["password:mot_de_passe_trop_court"]);

    // A login with a password past the cap is refused without hashing.
    let huge = login_raw(&app, "dominique.essai@exemple.test", &"x".repeat(100_000)).await;
    assert_eq!((huge.status, huge.code()), (401, "invalid_credentials"));
}
