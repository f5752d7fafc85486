//! One's own account and a démarche's numbering: a person changes their
//! password (the current one checked as at login, the new one as at
//! registration; their other sessions end), an usager replaces their profile (which prefills the
//! next drafts), and an administrator changes the prefix of a démarche's
//! next demande numbers.

use guichet_tests::app::TestApp;
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

use crate::admin::admin;
use crate::raw::login_raw;

on_both_backends!(
    a_changed_password_logs_in_and_the_old_one_no_longer_does,
    a_wrong_current_password_is_refused_and_counted_like_a_failed_login,
    a_weak_new_password_is_refused_on_its_field_and_nothing_changes,
    an_api_token_cannot_change_the_password_of_its_account,
    a_new_profile_shows_in_me_and_prefills_the_next_draft,
    a_bad_profile_is_refused_field_by_field_and_agents_have_none_to_change,
    a_new_numero_prefix_numbers_the_next_demande_only,
    a_numero_prefix_is_refused_when_malformed_unknown_or_not_an_administrators,
);

const CAMILLE: &str = "camille.martin@exemple.test";
/// The password `TestApp::usager` registers with.
const USAGER_PASSWORD: &str = "mot-de-passe-usager";
/// The password `TestApp::agent` creates agents with.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";
const NEW_PASSWORD: &str = "Tartine-Vélo-Soleil-42";

/// The status of a login with this password.
async fn logs_in(app: &TestApp, login: &str, password: &str) -> u16 {
    login_raw(app, login, password).await.status
}

fn change(current: &str, new: &str) -> Value {
    json!({ "current_password": current, "new_password": new })
}

async fn a_changed_password_logs_in_and_the_old_one_no_longer_does(app: TestApp) {
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    // Another session of the account, on another device (or a thief's).
    let elsewhere = app.login(CAMILLE, USAGER_PASSWORD).await;
    assert_eq!(elsewhere.get("/api/me").await.status, 200);
    usager
        .put("/api/me/password", change(USAGER_PASSWORD, NEW_PASSWORD))
        .await
        .expect(204);
    assert_eq!(logs_in(&app, CAMILLE, NEW_PASSWORD).await, 200);
    let old = login_raw(&app, CAMILLE, USAGER_PASSWORD).await;
    assert_eq!((old.status, old.code()), (401, "invalid_credentials"));
    assert_eq!(
        usager.get("/api/me").await.status,
        200,
        "the session that changed it stays open"
    );
    assert_eq!(
        elsewhere.get("/api/me").await.status,
        401,
        "the account's other sessions end"
    );

    // An agent changes theirs the same way.
    let agent = app.agent("lea@ville.test", &[]).await;
    agent
        .put("/api/me/password", change(AGENT_PASSWORD, NEW_PASSWORD))
        .await
        .expect(204);
    assert_eq!(logs_in(&app, "lea@ville.test", NEW_PASSWORD).await, 200);
    assert_eq!(logs_in(&app, "lea@ville.test", AGENT_PASSWORD).await, 401);
}

async fn a_wrong_current_password_is_refused_and_counted_like_a_failed_login(app: TestApp) {
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    for _ in 0..5 {
        let wrong = usager
            .put(
                "/api/me/password",
                change("pas-le-bon-mot-de-passe", NEW_PASSWORD),
            )
            .await;
        assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    }
    // The five failures slow the account down, at login as here, before
    // any password is checked.
    let limited = usager
        .put("/api/me/password", change(USAGER_PASSWORD, NEW_PASSWORD))
        .await;
    assert_eq!((limited.status, limited.code()), (429, "too_many_attempts"));
    let login = login_raw(&app, CAMILLE, USAGER_PASSWORD).await;
    assert_eq!((login.status, login.code()), (429, "too_many_attempts"));

    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(
        logs_in(&app, CAMILLE, USAGER_PASSWORD).await,
        200,
        "the password did not change"
    );
    assert_eq!(logs_in(&app, CAMILLE, NEW_PASSWORD).await, 401);
}

async fn a_weak_new_password_is_refused_on_its_field_and_nothing_changes(app: TestApp) {
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    for (weak, error) in [
        ("court", "new_password:mot_de_passe_trop_court"),
        ("123456789012", "new_password:mot_de_passe_trop_faible"),
        ("camille.martin", "new_password:mot_de_passe_trop_faible"),
        (
            &"Tartine-Vélo-Soleil-".repeat(7),
            "new_password:mot_de_passe_trop_long",
        ),
    ] {
        let refused = usager
            .put("/api/me/password", change(USAGER_PASSWORD, weak))
            .await;
        assert_eq!(
            (refused.status, refused.code()),
            (422, "validation_failed"),
            "{weak}"
        );
        assert_eq!(refused.field_errors(), [error], "{weak}");
        assert_eq!(logs_in(&app, CAMILLE, weak).await, 401, "{weak}");
    }
    assert_eq!(logs_in(&app, CAMILLE, USAGER_PASSWORD).await, 200);
}

async fn an_api_token_cannot_change_the_password_of_its_account(app: TestApp) {
    let admin = admin(&app).await;
    let agent = app.agent("lea@ville.test", &[]).await;
    let id = agent.get("/api/me").await.expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = admin
        .post(
            &format!("/api/admin/users/{id}/tokens"),
            json!({ "name": "supervision", "scopes": ["read"] }),
        )
        .await;
    let secret = token.expect(201)["secret"].as_str().unwrap().to_owned();
    let refused = app
        .with_token(&secret)
        .put("/api/me/password", change(AGENT_PASSWORD, NEW_PASSWORD))
        .await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    assert_eq!(logs_in(&app, "lea@ville.test", AGENT_PASSWORD).await, 200);
}

/// Camille Martin's profile after a move to Lyon.
fn moved_to_lyon() -> Value {
    json!({
        "first_name": " Camille ",
        "last_name": "Durand",
        "phone": "07 98 76 54 32",
        "address": { "street": "3 place Bellecour", "postcode": "69002", "city": "Lyon" },
        "birth_date": "1988-04-12"
    })
}

async fn a_new_profile_shows_in_me_and_prefills_the_next_draft(app: TestApp) {
    app.import(VELO).await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let updated = usager.put("/api/me/profile", moved_to_lyon()).await;
    let updated = updated.expect(200).clone();
    assert_eq!(updated["display_name"], "Camille Durand");
    assert_eq!(updated["profile"]["first_name"], "Camille");
    assert_eq!(updated["profile"]["phone"], "+33798765432");
    assert_eq!(updated["profile"]["email"], CAMILLE, "the e-mail stays");

    let me = usager.get("/api/me").await;
    assert_eq!(me.expect(200), &updated);

    let draft = usager
        .post("/api/drafts", json!({ "demarche": VELO }))
        .await;
    let answers = &draft.expect(201)["answers"];
    assert_eq!(answers["nom"]["value"], "Durand");
    assert_eq!(answers["telephone"]["value"], "+33798765432");
    assert_eq!(answers["adresse"]["value"]["city"], "Lyon");
    assert_eq!(answers["courriel"]["value"], CAMILLE);
}

async fn a_bad_profile_is_refused_field_by_field_and_agents_have_none_to_change(app: TestApp) {
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let before = usager.get("/api/me").await.expect(200).clone();
    let refused = usager
        .put(
            "/api/me/profile",
            json!({ "first_name": "  ", "last_name": "Durand", "phone": "123" }),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (422, "validation_failed"));
    assert_eq!(
        refused.field_errors(),
        ["first_name:requis", "phone:format_telephone"]
    );
    assert_eq!(usager.get("/api/me").await.expect(200), &before);

    let agent = app.agent("lea@ville.test", &[]).await;
    let forbidden = agent.put("/api/me/profile", moved_to_lyon()).await;
    assert_eq!((forbidden.status, forbidden.code()), (403, "forbidden"));
    let anonymous = app
        .anonymous()
        .put("/api/me/profile", moved_to_lyon())
        .await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (401, "unauthenticated")
    );
}

/// The number of a demande, as its usager reads it.
async fn numero(usager: &guichet_tests::app::Client, demande: &str) -> String {
    usager
        .get(&format!("/api/demandes/{demande}"))
        .await
        .expect(200)["numero"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_new_numero_prefix_numbers_the_next_demande_only(app: TestApp) {
    app.import(VELO).await;
    let admin = admin(&app).await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let first = file_velo(&usager).await;
    assert_eq!(numero(&usager, &first).await, "ARV-2026-000001");

    let changed = admin
        .put(
            &format!("/api/admin/demarches/{VELO}/numero-prefix"),
            json!({ "prefix": "VELO26" }),
        )
        .await;
    assert_eq!(changed.expect(200), &json!({ "prefix": "VELO26" }));

    let second = file_velo(&usager).await;
    assert_eq!(numero(&usager, &second).await, "VELO26-2026-000002");
    assert_eq!(
        numero(&usager, &first).await,
        "ARV-2026-000001",
        "numbers given keep theirs"
    );
}

async fn a_numero_prefix_is_refused_when_malformed_unknown_or_not_an_administrators(app: TestApp) {
    app.import(VELO).await;
    let admin = admin(&app).await;
    let path = format!("/api/admin/demarches/{VELO}/numero-prefix");
    for bad in ["", "velo", "VÉLO", "AR-V", "ABCDEFGHIJKLM"] {
        let refused = admin.put(&path, json!({ "prefix": bad })).await;
        assert_eq!((refused.status, refused.code()), (422, "invalid"), "{bad}");
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("1 à 12 majuscules ou chiffres"),
            "{}",
            refused.body
        );
    }
    let unknown = admin
        .put(
            "/api/admin/demarches/inconnue/numero-prefix",
            json!({ "prefix": "INC" }),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "demarche_not_found")
    );

    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    for (who, client) in [("gestionnaire", &gestionnaire), ("usager", &usager)] {
        let forbidden = client.put(&path, json!({ "prefix": "VOLE" })).await;
        assert_eq!(
            (forbidden.status, forbidden.code()),
            (403, "forbidden"),
            "{who}"
        );
    }

    let demande = file_velo(&usager).await;
    assert!(
        numero(&usager, &demande).await.starts_with("ARV-"),
        "no refusal changed the prefix"
    );
}
