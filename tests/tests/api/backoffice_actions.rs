//! The back office's actions with inputs, over HTTP on both backends: a
//! refusal with its type and justification, an exchange with the usager
//! carrying a file the agent then downloads from the page, the trash and
//! an administrator's restore; and the table's flags (reminders at 15 and
//! 21 days, late past 27, on hold) as filters.

use guichet_tests::app::{TestApp, exe, pdf};
use guichet_tests::filing::{MOBILITES, VELO, agent_view, file_velo, step};
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;

on_both_backends!(
    a_refusal_asks_its_type_and_justification_and_an_exchange_carries_a_file,
    an_administrator_trashes_and_restores_a_demande_from_its_page,
    the_table_flags_reminders_lateness_and_holds_and_filters_on_them,
);

/// The password of the agents `TestApp::agent` creates.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";

const ADMIN: &str = "Admin_SVL_DSI_Guichet";

async fn on_pages(app: &TestApp, login: &str) -> Visitor {
    let visitor = Visitor::new(&app.base);
    visitor.login(login, AGENT_PASSWORD).await;
    visitor
}

async fn a_refusal_asks_its_type_and_justification_and_an_exchange_carries_a_file(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let api = app.agent("gest@ville.test", &[MOBILITES]).await;
    let pages = on_pages(&app, "gest@ville.test").await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    step(&api, &id, "prendre_en_compte").await;
    let path = format!("/back-office/demandes/{id}");

    // An exchange with a file: an executable named .pdf is refused beside
    // the file input; a real PDF goes to the usager and is listed.
    let refused = pages
        .post_multipart(
            &format!("{path}/actions/echanger"),
            &[("message", "Voici le formulaire à signer.")],
            vec![("file", "formulaire.pdf", exe())],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("id=\"echanger-file-error\""),
        "{}",
        refused.html
    );
    let sent = pages
        .post_multipart(
            &format!("{path}/actions/echanger"),
            &[("message", "Voici le formulaire à signer.")],
            vec![("file", "formulaire.pdf", pdf("formulaire à signer"))],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    let page = pages.get(&path).await;
    assert!(page.html.contains("Voici le formulaire à signer."));
    let link = page
        .html
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .find(|href| href.starts_with(&format!("/api/agent/demandes/{id}/files/")))
        .expect("the file's link")
        .to_owned();
    let (status, content_type, body) = pages.download(&link).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    assert_eq!(body, pdf("formulaire à signer"));
    let mine = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert!(
        mine.body
            .to_string()
            .contains("Voici le formulaire à signer.")
    );

    // A refusal: the type is asked, then the justification.
    let page = pages.get(&path).await;
    assert!(
        page.html
            .contains("name=\"type_refus\" value=\"absence_reponse_usager\"")
    );
    let no_type = pages
        .post_multipart(
            &format!("{path}/actions/refuser"),
            &[
                ("justification", "Hors du périmètre de l'aide."),
                ("confirme", "oui"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(no_type.status, 422, "{}", no_type.html);
    assert!(
        no_type.html.contains("id=\"refuser-type_refus-error\""),
        "{}",
        no_type.html
    );
    let unknown_type = pages
        .post_multipart(
            &format!("{path}/actions/refuser"),
            &[
                ("type_refus", "autre"),
                ("justification", "x"),
                ("confirme", "oui"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(unknown_type.status, 422, "{}", unknown_type.html);
    let no_justification = pages
        .post_multipart(
            &format!("{path}/actions/refuser"),
            &[("type_refus", "refusee"), ("confirme", "oui")],
            Vec::new(),
        )
        .await;
    assert_eq!(no_justification.status, 422, "{}", no_justification.html);
    assert!(
        no_justification
            .html
            .contains("id=\"refuser-justification-error\"")
    );
    assert_eq!(
        agent_view(&api, &id).await["status"]["id"],
        "en_cours_analyse"
    );
    let refused = pages
        .post_multipart(
            &format!("{path}/actions/refuser"),
            &[
                ("type_refus", "refusee"),
                ("justification", "Hors du périmètre de l'aide."),
                ("confirme", "oui"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(refused.status, 303, "{}", refused.html);
    let view = agent_view(&api, &id).await;
    assert_eq!(view["status"]["id"], "refusee");
    let page = pages.get(&path).await;
    assert!(
        page.html
            .contains("Demande refusée par le service (Refusée)"),
        "{}",
        page.html
    );
}

async fn an_administrator_trashes_and_restores_a_demande_from_its_page(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(ADMIN, None).await;
    let api = app.agent("admin@ville.test", &[ADMIN]).await;
    app.agent("gest@ville.test", &[MOBILITES]).await;
    let admin = on_pages(&app, "admin@ville.test").await;
    let gestionnaire = on_pages(&app, "gest@ville.test").await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    let path = format!("/back-office/demandes/{id}");

    // Only the administrator is offered the trash; the gestionnaire's
    // forged post is refused.
    assert!(
        !gestionnaire
            .get(&path)
            .await
            .html
            .contains("/actions/corbeille")
    );
    let forged = gestionnaire
        .post_multipart(
            &format!("{path}/actions/corbeille"),
            &[("confirme", "oui")],
            Vec::new(),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    assert!(admin.get(&path).await.html.contains("/actions/corbeille"));
    let trashed = admin
        .post_multipart(
            &format!("{path}/actions/corbeille"),
            &[("confirme", "oui")],
            Vec::new(),
        )
        .await;
    assert_eq!(trashed.status, 303, "{}", trashed.html);
    assert_eq!(agent_view(&api, &id).await["status"]["id"], "corbeille");

    let page = admin.get(&path).await;
    assert!(page.html.contains("Restaurer la demande"), "{}", page.html);
    assert!(!gestionnaire.get(&path).await.html.contains("/restaurer"));
    let unconfirmed = admin.post(&format!("{path}/restaurer"), &[]).await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.html);
    assert!(
        unconfirmed
            .html
            .contains("Cochez la case pour confirmer la restauration.")
    );
    let forged = gestionnaire
        .post(&format!("{path}/restaurer"), &[("confirme", "oui")])
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let restored = admin
        .post(&format!("{path}/restaurer"), &[("confirme", "oui")])
        .await;
    assert_eq!(restored.status, 303, "{}", restored.html);
    assert_eq!(agent_view(&api, &id).await["status"]["id"], "transmise");
}

async fn the_table_flags_reminders_lateness_and_holds_and_filters_on_them(app: TestApp) {
    use guichet_tests::filing::{SIGNALEMENT, VOIRIE, connect_atal_to, file_signalement};
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    app.import(VELO).await;
    app.import(SIGNALEMENT).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(MOBILITES, Some(SIGNALEMENT)).await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let api = app.agent("gest@ville.test", &[MOBILITES, VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    // A complex démarche: past its deadline a demande stays, late (the
    // simple one closes by itself).
    let old = file_signalement(&usager, None).await;
    step(&api, &old, "receptionner").await;
    let held = file_signalement(&usager, None).await;
    step(&api, &held, "receptionner").await;
    step(&api, &held, "mettre_en_attente").await;

    app.jump_days(16).await;
    app.log_everyone_in_again().await;
    let fresh = file_velo(&usager).await;
    step(&api, &fresh, "prendre_en_compte").await;
    let pages = on_pages(&app, "gest@ville.test").await;

    let fifteen = pages.get("/back-office/demandes?relance=15").await;
    assert_eq!(fifteen.status, 200, "{}", fifteen.html);
    assert!(
        fifteen
            .html
            .contains(&format!("/back-office/demandes/{old}"))
    );
    assert!(
        !fifteen
            .html
            .contains(&format!("/back-office/demandes/{fresh}"))
    );
    assert!(fifteen.html.contains("Relance 15 j"));
    let on_hold = pages.get("/back-office/demandes?attente=oui").await;
    assert!(
        on_hold
            .html
            .contains(&format!("/back-office/demandes/{held}"))
    );
    assert!(on_hold.html.contains("1 demande<"), "{}", on_hold.html);

    app.jump_days(12).await;
    let pages = on_pages(&app, "gest@ville.test").await;
    let late = pages.get("/back-office/demandes?retard=oui").await;
    assert!(
        late.html.contains(&format!("/back-office/demandes/{old}")),
        "{}",
        late.html
    );
    assert!(
        !late
            .html
            .contains(&format!("/back-office/demandes/{fresh}"))
    );
    assert!(late.html.contains("En retard"));
    let twenty_one = pages
        .get("/back-office/demandes?relance=21&tri=relance")
        .await;
    assert!(
        twenty_one
            .html
            .contains(&format!("/back-office/demandes/{old}"))
    );
    assert!(
        twenty_one.html.contains("Relance 21 j"),
        "{}",
        twenty_one.html
    );
    let by_service = pages
        .get(&format!("/back-office/demandes?service={VOIRIE}"))
        .await;
    assert!(
        by_service
            .html
            .contains(&format!("/back-office/demandes/{held}"))
    );
    assert!(
        !by_service
            .html
            .contains(&format!("/back-office/demandes/{fresh}"))
    );
}
