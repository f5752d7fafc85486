//! The agents' back office over HTTP, on both backends: the processing
//! table (what each agent may read, filters, search, counts, pages, CSV
//! for the process right), a demande's page (actions open to the agent,
//! their required inputs and confirmation, the cadre réservé, both
//! histories), and rights enforced twice — no button, and a forged post
//! refused with nothing changed.

use guichet_tests::app::{TestApp, pdf};
use guichet_tests::filing::{MOBILITES, VELO, agent_view, file_velo, step};
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;

on_both_backends!(
    the_table_lists_what_the_agent_may_read_with_filters_search_and_counts,
    a_gestionnaire_takes_accepts_and_closes_a_demande_from_its_page,
    an_observateur_reads_without_buttons_and_a_forged_action_changes_nothing,
    the_cadre_reserve_is_filled_from_the_page_with_its_errors_beside_the_fields,
    an_agent_files_a_demande_for_an_usager_found_by_name_with_the_channel,
);

/// The password of the agents `TestApp::agent` creates.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";

const OBSERVATEURS: &str = "Obs_SVL_DACT_Mobilités";

/// An agent of `groups`, logged in on the pages.
async fn agent_on_pages(app: &TestApp, login: &str, groups: &[&str]) -> Visitor {
    app.agent(login, groups).await;
    let visitor = Visitor::new(&app.base);
    visitor.login(login, AGENT_PASSWORD).await;
    visitor
}

async fn the_table_lists_what_the_agent_may_read_with_filters_search_and_counts(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(OBSERVATEURS, Some(VELO)).await;
    let gestionnaire = agent_on_pages(&app, "gest@ville.test", &[MOBILITES]).await;
    let api_gestionnaire = app.login("gest@ville.test", AGENT_PASSWORD).await;
    let martin = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let durand = app.usager("Léa", "Durand", "lea@exemple.test").await;
    let first = file_velo(&martin).await;
    let second = file_velo(&durand).await;
    step(&api_gestionnaire, &second, "prendre_en_compte").await;
    let second_numero = agent_view(&api_gestionnaire, &second).await["numero"]
        .as_str()
        .unwrap()
        .to_owned();

    // An agent lands on the table after logging in.
    let landing = Visitor::new(&app.base);
    app.agent("autre@ville.test", &[MOBILITES]).await;
    landing.get("/connexion").await;
    let logged = landing
        .post(
            "/connexion",
            &[("login", "autre@ville.test"), ("password", AGENT_PASSWORD)],
        )
        .await;
    assert_eq!(logged.location.as_deref(), Some("/back-office/demandes"));

    let table = gestionnaire.get("/back-office/demandes").await;
    assert_eq!(table.status, 200, "{}", table.html);
    assert!(table.html.contains("2 demandes"), "{}", table.html);
    assert!(
        table
            .html
            .contains(&format!("/back-office/demandes/{first}"))
    );
    assert!(
        table
            .html
            .contains(&format!("/back-office/demandes/{second}"))
    );
    assert!(table.html.contains("Camille Martin") && table.html.contains("Léa Durand"));
    // Counts per status, each a link to its filter.
    assert!(table.html.contains("statut=transmise"), "{}", table.html);
    assert!(
        table.html.contains("statut=en_cours_analyse"),
        "{}",
        table.html
    );
    assert!(table.html.contains("Exporter ces demandes (CSV)"));

    // Filter by status: one row, the counts still show both statuses.
    let analyse = gestionnaire
        .get("/back-office/demandes?statut=en_cours_analyse")
        .await;
    assert!(analyse.html.contains("1 demande<"), "{}", analyse.html);
    assert!(analyse.html.contains(&second_numero));
    assert!(analyse.html.contains("statut=transmise"));

    // Search by number, then by the usager's name, case ignored.
    let by_number = gestionnaire
        .get(&format!(
            "/back-office/demandes?q={}",
            &second_numero[second_numero.len() - 6..]
        ))
        .await;
    assert!(by_number.html.contains("1 demande<"), "{}", by_number.html);
    let by_name = gestionnaire.get("/back-office/demandes?q=martin").await;
    assert!(by_name.html.contains("1 demande<"), "{}", by_name.html);
    assert!(
        by_name
            .html
            .contains(&format!("/back-office/demandes/{first}"))
    );
    let nobody = gestionnaire.get("/back-office/demandes?q=personne").await;
    assert!(nobody.html.contains("Aucune demande ne correspond"));

    // Wrong filter values are told, not a 500.
    let wrong = gestionnaire
        .get("/back-office/demandes?retard=peut-etre&page=zero")
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.html);
    assert!(wrong.html.contains("error-summary"));
    assert!(
        wrong
            .html
            .contains("Le numéro de page doit être un nombre entier")
    );
    let bad_service = gestionnaire
        .get("/back-office/demandes?service=pas%20un%20groupe")
        .await;
    assert_eq!(bad_service.status, 422, "{}", bad_service.html);

    // The CSV: both demandes, `;`-separated, in the collectivité's dates.
    let (status, content_type, body) = gestionnaire.download("/back-office/demandes.csv").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with("\u{feff}Numéro;Démarche;"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains(&second_numero));
    assert!(text.contains("02/03/2026"), "{text}");

    // An observateur reads the table, without the export, and is refused it.
    let observateur = agent_on_pages(&app, "obs@ville.test", &[OBSERVATEURS]).await;
    let read = observateur.get("/back-office/demandes").await;
    assert_eq!(read.status, 200);
    assert!(read.html.contains("2 demandes"));
    assert!(!read.html.contains("Exporter"));
    let (status, _, _) = observateur.download("/back-office/demandes.csv").await;
    assert_eq!(status, 403);

    // An agent of another service's démarche reads nothing here.
    app.grant("Gest_SVL_DTE_Voirie", Some("signalement-voie-publique"))
        .await;
    let stranger = agent_on_pages(&app, "voirie@ville.test", &["Gest_SVL_DTE_Voirie"]).await;
    let refused = stranger.get("/back-office/demandes").await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    let page = stranger
        .get(&format!("/back-office/demandes/{first}"))
        .await;
    assert_eq!(page.status, 403, "{}", page.html);

    // An usager is told the back office is for agents; nobody logged in
    // is sent to log in.
    let usager = Visitor::new(&app.base);
    usager
        .login("camille@exemple.test", "mot-de-passe-usager")
        .await;
    assert_eq!(usager.get("/back-office/demandes").await.status, 403);
    let anonymous = Visitor::new(&app.base).get("/back-office/demandes").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/connexion?suite=%2Fback-office%2Fdemandes")
    );
}

async fn a_gestionnaire_takes_accepts_and_closes_a_demande_from_its_page(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = agent_on_pages(&app, "gest@ville.test", &[MOBILITES]).await;
    let api = app.login("gest@ville.test", AGENT_PASSWORD).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    let path = format!("/back-office/demandes/{id}");

    let shown = gestionnaire.get(&path).await;
    assert_eq!(shown.status, 200, "{}", shown.html);
    assert!(shown.html.contains("Demande transmise"), "{}", shown.html);
    assert!(shown.html.contains("Historique des agents"));
    assert!(shown.html.contains("Historique de l'usager"));
    assert!(shown.html.contains("Réponses au formulaire"));
    assert!(
        shown
            .html
            .contains(&format!("/api/agent/demandes/{id}/files/"))
    );
    assert!(shown.html.contains("Prendre en compte la demande"));
    assert!(!shown.html.contains("Accepter la demande"));

    let act = |transition: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let path = format!("{path}/actions/{transition}");
        let gestionnaire = &gestionnaire;
        async move {
            gestionnaire
                .post_multipart(&path, &fields, Vec::new())
                .await
        }
    };
    let taken = act("prendre_en_compte", vec![]).await;
    assert_eq!(taken.status, 303, "{}", taken.html);
    assert_eq!(
        taken.location.as_deref(),
        Some(format!("{path}?fait=prendre_en_compte").as_str())
    );
    let after = gestionnaire
        .get(&format!("{path}?fait=prendre_en_compte"))
        .await;
    assert!(
        after
            .html
            .contains("Action effectuée : Prendre en compte la demande.")
    );
    assert!(after.html.contains("Accepter la demande"));

    assert_eq!(act("accepter", vec![]).await.status, 303);
    assert_eq!(act("commencer_traitement", vec![]).await.status, 303);

    // Closing asks for its comment, then for the confirmation: each refusal
    // shows the page again with the error beside its input, nothing saved.
    let no_comment = act("cloturer", vec![("confirme", "oui")]).await;
    assert_eq!(no_comment.status, 422, "{}", no_comment.html);
    assert!(no_comment.html.contains("error-summary"));
    assert!(
        no_comment
            .html
            .contains("id=\"cloturer-commentaire_cloture-error\"")
    );
    let unconfirmed = act(
        "cloturer",
        vec![("commentaire_cloture", "Aide versée le 5 mars.")],
    )
    .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.html);
    assert!(unconfirmed.html.contains("Cochez la case pour confirmer"));
    // What was typed is shown again.
    assert!(
        unconfirmed
            .html
            .contains(">Aide versée le 5 mars.</textarea>")
    );
    assert_eq!(
        agent_view(&api, &id).await["status"]["id"],
        "en_cours_traitement"
    );

    let closed = act(
        "cloturer",
        vec![
            ("commentaire_cloture", "Aide versée le 5 mars."),
            ("confirme", "oui"),
        ],
    )
    .await;
    assert_eq!(closed.status, 303, "{}", closed.html);
    let view = agent_view(&api, &id).await;
    assert_eq!(view["status"]["id"], "traitee");
    let page = gestionnaire.get(&path).await;
    assert!(page.html.contains("Demande traitée"), "{}", page.html);
    assert!(page.html.contains("gest@ville.test"), "the author is named");

    // A form without its token changes nothing.
    let forged = gestionnaire
        .post_multipart_raw(
            &format!("{path}/actions/commenter"),
            &[("message", "sans jeton")],
            Vec::new(),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
}

async fn an_observateur_reads_without_buttons_and_a_forged_action_changes_nothing(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(OBSERVATEURS, Some(VELO)).await;
    let api = app.agent("gest@ville.test", &[MOBILITES]).await;
    let observateur = agent_on_pages(&app, "obs@ville.test", &[OBSERVATEURS]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    let path = format!("/back-office/demandes/{id}");

    let page = observateur.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Historique des agents"));
    assert!(!page.html.contains("/actions/"), "no action form");
    assert!(
        !page.html.contains("/cadre-reserve"),
        "no cadre réservé form"
    );

    let forged = observateur
        .post_multipart(
            &format!("{path}/actions/prendre_en_compte"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let forged_fields = observateur
        .post(
            &format!("{path}/cadre-reserve"),
            &[("montant_accorde", "50")],
        )
        .await;
    assert_eq!(forged_fields.status, 403, "{}", forged_fields.html);
    let view = agent_view(&api, &id).await;
    assert_eq!(view["status"]["id"], "transmise");
    assert!(view["answers"].get("montant_accorde").is_none());
}

async fn the_cadre_reserve_is_filled_from_the_page_with_its_errors_beside_the_fields(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = agent_on_pages(&app, "gest@ville.test", &[MOBILITES]).await;
    let api = app.login("gest@ville.test", AGENT_PASSWORD).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    step(&api, &id, "prendre_en_compte").await;
    let path = format!("/back-office/demandes/{id}");

    let page = gestionnaire.get(&path).await;
    assert!(
        page.html.contains("Cadre réservé à l&#39;administration"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Montant accordé"));

    // Over the field's maximum (50 €): shown again with the error.
    let refused = gestionnaire
        .post(
            &format!("{path}/cadre-reserve"),
            &[("montant_accorde", "80"), ("date_mandatement", "")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("id=\"montant_accorde-error\""),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("value=\"80\""));
    assert!(
        agent_view(&api, &id).await["answers"]
            .get("montant_accorde")
            .is_none()
    );

    let saved = gestionnaire
        .post(
            &format!("{path}/cadre-reserve"),
            &[
                ("montant_accorde", "45"),
                ("date_mandatement", "12/03/2026"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let view = agent_view(&api, &id).await;
    assert_eq!(view["answers"]["montant_accorde"]["value"], 45.0);
    let page = gestionnaire.get(&format!("{path}?fait=cadre")).await;
    assert!(page.html.contains("Cadre réservé enregistré."));
    assert!(page.html.contains("value=\"12/03/2026\""), "{}", page.html);
}

async fn an_agent_files_a_demande_for_an_usager_found_by_name_with_the_channel(app: TestApp) {
    const SAISIE: &str = "Saisie_SVL_DACT_Mobilités";
    app.import(VELO).await;
    app.grant(SAISIE, Some(VELO)).await;
    app.grant(OBSERVATEURS, Some(VELO)).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let agent = agent_on_pages(&app, "accueil@ville.test", &[SAISIE]).await;
    let gestionnaire = app.agent("gest@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    app.usager("Léa", "Durand", "lea@exemple.test").await;

    // The usager is found by name, case ignored; only usagers are listed.
    let page = agent.get("/back-office/saisie?q=MARTIN").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Camille Martin (camille@exemple.test)"));
    assert!(!page.html.contains("Léa Durand"));
    // No instance offers links here: no page of the usager's links.
    assert!(!page.html.contains("/back-office/usagers/"));
    assert!(
        !page.html.contains("accueil@ville.test ("),
        "agents are not usagers"
    );

    // No démarche chosen, or an unknown account: told on the page.
    let no_demarche = agent
        .post("/back-office/saisie", &[("usager", "camille@exemple.test")])
        .await;
    assert_eq!(no_demarche.status, 422, "{}", no_demarche.html);
    assert!(
        no_demarche
            .html
            .contains("Choisissez la démarche à saisir.")
    );
    let unknown = agent
        .post(
            "/back-office/saisie",
            &[("demarche", VELO), ("usager", "personne@exemple.test")],
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.html);
    assert!(
        unknown
            .html
            .contains("Aucun compte usager n&#39;a cet identifiant.")
    );

    let opened = agent
        .post(
            "/back-office/saisie",
            &[("demarche", VELO), ("usager", "camille@exemple.test")],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.html);
    let draft = opened
        .location
        .unwrap()
        .trim_start_matches("/brouillons/")
        .to_owned();
    // The portal's pages, prefilled from the usager's profile.
    let identite = agent
        .get(&format!("/brouillons/{draft}/pages/identite"))
        .await;
    assert_eq!(identite.status, 200, "{}", identite.html);
    assert!(
        identite.html.contains("value=\"Martin\""),
        "{}",
        identite.html
    );
    assert!(identite.html.contains("Back office"), "the agent's header");
    let today = app.clock_now().format("%d/%m/%Y").to_string();
    for (page, fields, files) in [
        (
            "identite",
            vec![
                ("prenom", "Camille"),
                ("nom", "Martin"),
                ("courriel", "camille@exemple.test"),
                ("telephone", "06 12 34 56 78"),
                ("adresse.street", "3 rue des Lilas"),
                ("adresse.postcode", "13001"),
                ("adresse.city", "Marseille"),
            ],
            Vec::new(),
        ),
        (
            "reparation",
            vec![
                ("type_velo", "electrique"),
                ("date_reparation", today.as_str()),
                ("reparateur", "Cycles du Vieux-Port"),
                ("montant", "86,50"),
            ],
            vec![("facture", "facture.pdf", pdf("facture au guichet"))],
        ),
        (
            "versement",
            vec![
                ("titulaire_compte", "Camille Martin"),
                ("iban", "FR76 3000 6000 0112 3456 7890 189"),
                ("attestation", "on"),
            ],
            Vec::new(),
        ),
    ] {
        let mut all = fields.clone();
        all.push(("action", "suivant"));
        let saved = agent
            .post_multipart(&format!("/brouillons/{draft}/pages/{page}"), &all, files)
            .await;
        assert_eq!(saved.status, 303, "{page}: {}", saved.html);
    }

    // The summary asks the channel; without it, refused on it.
    let summary = agent
        .get(&format!("/brouillons/{draft}/recapitulatif"))
        .await;
    assert!(
        summary.html.contains("comment vous a-t-il contacté"),
        "{}",
        summary.html
    );
    let refused = agent
        .post(
            &format!("/brouillons/{draft}/deposer"),
            &[("consent", "on")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("href=\"#channel\""),
        "{}",
        refused.html
    );
    let filed = agent
        .post(
            &format!("/brouillons/{draft}/deposer"),
            &[("consent", "on"), ("channel", "telephone")],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.html);
    let location = filed.location.unwrap();
    assert!(location.ends_with("?fait=depose"), "{location}");
    let id = location
        .trim_start_matches("/back-office/demandes/")
        .trim_end_matches("?fait=depose")
        .to_owned();

    // The service sees it filed by phone for Camille Martin, who follows it.
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["filed_by"]["channel"], "telephone", "{view}");
    let mine = usager.get("/api/demandes").await;
    assert!(mine.body.to_string().contains(&id), "{}", mine.body);

    // An observateur may not file for an usager: no link, refused.
    let observateur = agent_on_pages(&app, "obs@ville.test", &[OBSERVATEURS]).await;
    assert!(
        !observateur
            .get("/back-office/demandes")
            .await
            .html
            .contains("/back-office/saisie")
    );
    assert_eq!(observateur.get("/back-office/saisie").await.status, 403);
    let forged = observateur
        .post(
            "/back-office/saisie",
            &[("demarche", VELO), ("usager", "camille@exemple.test")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
}
