//! The usager's account on the portal, over HTTP as a browser sends its
//! forms: log in (a wrong password summarised on its field, then back to
//! the page asked), log out, the profile that prefills the next drafts,
//! and deleting one's account (the password asked again; drafts gone,
//! demandes kept by the services, the login no longer working).

use guichet_tests::app::TestApp;
use guichet_tests::filing::{MOBILITES, VELO, agent_view, file_velo};
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;

on_both_backends!(
    an_usager_logs_in_out_and_keeps_a_profile_that_prefills_the_forms,
    an_usager_deletes_their_account_and_their_demandes_stay_with_the_service,
);

/// The password `TestApp::usager` registers with.
const USAGER_PASSWORD: &str = "mot-de-passe-usager";
const CAMILLE: &str = "camille.martin@exemple.test";

async fn logged_in_visitor(app: &TestApp) -> Visitor {
    let visitor = Visitor::new(&app.base);
    visitor.get("/connexion").await;
    let answer = visitor
        .post(
            "/connexion",
            &[("login", CAMILLE), ("password", USAGER_PASSWORD)],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.html);
    visitor
}

async fn an_usager_logs_in_out_and_keeps_a_profile_that_prefills_the_forms(app: TestApp) {
    app.import(VELO).await;
    app.usager("Camille", "Martin", CAMILLE).await;
    let visitor = Visitor::new(&app.base);

    // A page reserved to usagers leads to the login page, which leads back.
    let asked = visitor.get("/mon-compte").await;
    assert_eq!(
        asked.location.as_deref(),
        Some("/connexion?suite=%2Fmon-compte")
    );
    let form = visitor.get("/connexion?suite=%2Fmon-compte").await;
    assert!(
        form.html.contains("name=\"suite\" value=\"/mon-compte\""),
        "{}",
        form.html
    );
    let wrong = visitor
        .post(
            "/connexion",
            &[
                ("login", CAMILLE),
                ("password", "pas le bon"),
                ("suite", "/mon-compte"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.html.contains("<title>Erreur : Se connecter"));
    assert!(wrong.html.contains("href=\"#login\""));
    assert!(wrong.html.contains(&format!("value=\"{CAMILLE}\"")));
    // A return address elsewhere is never followed.
    let right = visitor
        .post(
            "/connexion",
            &[
                ("login", CAMILLE),
                ("password", USAGER_PASSWORD),
                ("suite", "//ailleurs.example"),
            ],
        )
        .await;
    assert_eq!(right.location.as_deref(), Some("/demandes"));

    // The profile: a bad phone is refused on its field; a good one saved.
    let refused = visitor
        .post(
            "/mon-compte",
            &[
                ("first_name", "Camille"),
                ("last_name", "Martin-Durand"),
                ("phone", "123"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("href=\"#phone\""), "{}", refused.html);
    let saved = visitor
        .post(
            "/mon-compte",
            &[
                ("first_name", "Camille"),
                ("last_name", "Martin-Durand"),
                ("phone", "06 98 76 54 32"),
                ("street", "8 boulevard du Port"),
                ("postcode", "13002"),
                ("city", "Marseille"),
            ],
        )
        .await;
    assert_eq!(saved.location.as_deref(), Some("/mon-compte?enregistre=1"));
    let opened = visitor
        .post(&format!("/demarches/{VELO}/brouillon"), &[])
        .await;
    let draft = opened.location.unwrap();
    let first = visitor.get(&format!("{draft}/pages/identite")).await;
    assert!(
        first.html.contains("value=\"Martin-Durand\""),
        "{}",
        first.html
    );
    assert!(first.html.contains("value=\"8 boulevard du Port\""));

    // Logging out ends the session.
    let out = visitor.post("/deconnexion", &[]).await;
    assert_eq!(out.status, 303);
    assert!(!visitor.logged_in());
    assert_eq!(visitor.get("/brouillons").await.status, 303);
}

async fn an_usager_deletes_their_account_and_their_demandes_stay_with_the_service(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app.usager("Camille", "Martin", CAMILLE).await;
    let demande = file_velo(&usager).await;
    // A draft in progress, with a file.
    let draft = guichet_tests::filing::open_draft(&usager, VELO).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", guichet_tests::app::pdf("brouillon"))),
        )
        .await
        .expect(201);
    let visitor = logged_in_visitor(&app).await;
    assert!(
        visitor
            .get("/brouillons")
            .await
            .html
            .contains("Demander une aide")
    );

    let page = visitor.get("/mon-compte/supprimer").await;
    assert_eq!(page.status, 200);
    let wrong = visitor
        .post("/mon-compte/supprimer", &[("password", "pas le bon")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.html.contains("href=\"#password\""));
    assert_eq!(usager.get("/api/me").await.status, 200, "nothing deleted");

    let deleted = visitor
        .post("/mon-compte/supprimer", &[("password", USAGER_PASSWORD)])
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.html);
    assert!(deleted.html.contains("Compte supprimé"));
    assert!(!visitor.logged_in());
    // Every session ended, the login no longer works, the drafts are gone.
    assert_eq!(usager.get("/api/me").await.status, 401);
    let again = Visitor::new(&app.base);
    again.get("/connexion").await;
    let refused = again
        .post(
            "/connexion",
            &[("login", CAMILLE), ("password", USAGER_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, 422);
    // The demande stays with the service.
    let view = agent_view(&gestionnaire, &demande).await;
    assert_eq!(view["id"].as_str(), Some(demande.as_str()));
}
