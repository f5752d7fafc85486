//! The usager's path: catalogue, presentation page, draft prefilled from
//! the profile, summary, submission, my demandes.

use guichet_tests::app::TestApp;
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    catalogue_filters_by_category_and_searches_keywords_without_accents,
    presentation_page_shows_the_form_without_the_cadre_reserve,
    draft_is_prefilled_from_the_profile_and_summarised_before_submission,
    my_demandes_show_the_status_as_the_usager_sees_it,
    restauration_lists_children_only_of_the_linked_family,
);

fn slugs(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| d["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn catalogue_filters_by_category_and_searches_keywords_without_accents(app: TestApp) {
    for name in [VELO, SIGNALEMENT, "inscription-restauration-scolaire"] {
        app.import(name).await;
    }
    let anonymous = app.anonymous();
    let all = anonymous.get("/api/demarches").await;
    assert_eq!(
        slugs(all.expect(200)),
        [VELO, SIGNALEMENT],
        "the canteen opens on 1 May only"
    );
    for query in ["velo", "VÉLO", "r%C3%A9paration", "nid-de-poule"] {
        let found = anonymous.get(&format!("/api/demarches?q={query}")).await;
        let expected = if query == "nid-de-poule" {
            SIGNALEMENT
        } else {
            VELO
        };
        assert_eq!(slugs(found.expect(200)), [expected], "{query}");
    }
    let category = anonymous
        .get("/api/demarches?category=Voirie%20et%20propret%C3%A9")
        .await;
    assert_eq!(slugs(category.expect(200)), [SIGNALEMENT]);

    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-05-04T08:00:00Z")
            .unwrap()
            .into(),
    );
    let may = anonymous.get("/api/demarches?q=cantine").await;
    assert_eq!(
        slugs(may.expect(200)),
        ["inscription-restauration-scolaire"]
    );
}

async fn presentation_page_shows_the_form_without_the_cadre_reserve(app: TestApp) {
    app.import(VELO).await;
    let page = app.anonymous().get(&format!("/api/demarches/{VELO}")).await;
    let page = page.expect(200);
    assert_eq!(page["title"], "Demander une aide à la réparation d'un vélo");
    assert_eq!(page["presentation"]["average_minutes"], 10);
    assert_eq!(page["open"], true);
    let text = page.to_string();
    assert!(
        !text.contains("montant_accorde"),
        "agent-only fields stay hidden"
    );
    assert!(page["rgpd"]["consent_label"].is_string());
    let pages: Vec<&str> = page["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(pages, ["identite", "reparation", "versement"]);
    let missing = app.anonymous().get("/api/demarches/inconnue").await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    assert_eq!(
        page["observatoire_url"],
        Value::Null,
        "a test host shows no « Je donne mon avis »"
    );
}

/// The vélo démarche's *Je donne mon avis* button, on a production host.
mod the_observatoire_button_shows_in_production_only {
    use guichet_host::service::Environment;
    use guichet_tests::app::{Backend, run_with, test_settings};

    fn production() -> guichet_host::http::Settings {
        guichet_host::http::Settings {
            environment: Environment::Production,
            ..test_settings()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run_with(Backend::Sqlite, production(), super::observatoire_button).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run_with(Backend::Postgres, production(), super::observatoire_button).await;
    }
}

async fn observatoire_button(app: TestApp) {
    app.import(VELO).await;
    let page = app.anonymous().get(&format!("/api/demarches/{VELO}")).await;
    let url = page.expect(200)["observatoire_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with("https://voxusagers.numerique.gouv.fr/Demarches/"),
        "{url}"
    );
    // A démarche without one shows none, in production too.
    app.import(SIGNALEMENT).await;
    let other = app
        .anonymous()
        .get(&format!("/api/demarches/{SIGNALEMENT}"))
        .await;
    assert_eq!(other.expect(200)["observatoire_url"], Value::Null);
}

async fn draft_is_prefilled_from_the_profile_and_summarised_before_submission(app: TestApp) {
    app.import(VELO).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let opened = usager
        .post("/api/drafts", json!({ "demarche": VELO }))
        .await;
    let opened = opened.expect(201).clone();
    assert_eq!(opened["answers"]["prenom"]["value"], "Camille");
    assert_eq!(
        opened["answers"]["courriel"]["value"],
        "camille.martin@exemple.test"
    );
    assert_eq!(opened["answers"]["adresse"]["value"]["city"], "Marseille");
    let again = usager
        .post("/api/drafts", json!({ "demarche": VELO }))
        .await;
    assert_eq!(
        again.expect(200)["id"],
        opened["id"],
        "one draft per démarche"
    );

    let draft = fill_velo(&usager, guichet_tests::app::pdf("facture")).await;
    let summary = usager.get(&format!("/api/drafts/{draft}/summary")).await;
    let text = summary.expect(200).to_string();
    for shown in [
        "Vélo à assistance électrique",
        "86,50 €",
        "20/02/2026",
        "facture-velo.pdf",
        "Oui",
    ] {
        assert!(text.contains(shown), "{shown} in {text}");
    }
    assert!(!text.contains("Montant accordé"));
    let filed = usager
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": true }),
        )
        .await;
    let filed = filed.expect(201);
    assert_eq!(filed["status"], "transmise");
    assert!(filed["numero"].as_str().unwrap().starts_with("ARV-2026-"));
    let gone = usager.get(&format!("/api/drafts/{draft}")).await;
    assert_eq!(gone.status, 404, "the draft became the demande");
}

async fn my_demandes_show_the_status_as_the_usager_sees_it(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant("Admin_SVL_DSI_Guichet", None).await;
    let admin = app
        .agent("admin@ville.test", &["Admin_SVL_DSI_Guichet"])
        .await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    step(&admin, &id, "prendre_en_compte").await;
    act(
        &admin,
        &id,
        json!({ "transition": "corbeille", "inputs": { "confirmed": true } }),
    )
    .await
    .expect(200);
    assert_eq!(agent_view(&admin, &id).await["status"]["id"], "corbeille");
    let mine = usager.get("/api/demandes").await;
    let mine = mine.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(
        mine[0]["status"]["id"], "cloturee",
        "the agent-only trash shows as closed, not as still processed"
    );
    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert_eq!(events(history.expect(200)), ["depot", "prendre_en_compte"]);
}

async fn restauration_lists_children_only_of_the_linked_family(app: TestApp) {
    let sim = app.connect_famille().await;
    app.import(RESTAURATION).await;
    app.jump_days(70).await; // registrations open on 1 May
    let usager = app
        .usager("Camille", "Martin", "camille.martin@example.fr")
        .await;
    let opened = usager
        .post("/api/drafts", json!({ "demarche": RESTAURATION }))
        .await;
    let draft = opened.expect(201)["id"].as_str().unwrap().to_owned();
    assert!(
        opened.expect(201).get("options").is_none(),
        "opening a draft asks no connector"
    );
    let page_1_path = format!("/api/drafts/{draft}/pages/responsable");
    let before = usager.get(&format!("{page_1_path}/options")).await;
    assert_eq!(before.expect(200)["choices"], json!({}));
    assert_eq!(
        before.expect(200)["unavailable"][0]["code"],
        "rattachement_requis",
        "without a link, the family is asked for: {}",
        before.body
    );
    let unlinked = usager
        .put(&page_1_path, restauration_responsable("F-0002"))
        .await;
    assert_eq!(unlinked.status, 422, "{}", unlinked.body);
    assert_eq!(unlinked.field_errors(), ["famille:rattachement_requis"]);

    // Another family's code with a guessed secret links nothing.
    link_family(&usager, ("F-0001", "devine")).await.expect(422);
    link_family(&usager, MARTIN).await.expect(200);
    // Naming another family in the answers is refused: the only family
    // is the linked one.
    let tampered = usager
        .put(&page_1_path, restauration_responsable("F-0001"))
        .await;
    assert_eq!(tampered.status, 422, "{}", tampered.body);
    assert_eq!(tampered.field_errors(), ["famille:choix_inconnu"]);
    let saved = usager
        .put(&page_1_path, restauration_responsable("F-0002"))
        .await;
    let families = saved.expect(200)["options"]["famille"].clone();
    assert_eq!(
        families,
        json!([{ "value": "F-0002", "label": "Famille MARTIN" }])
    );
    assert!(
        saved.expect(200)["options"].get("enfant").is_none(),
        "saving a page asks the sources of that page only"
    );
    let page_2 = usager
        .get(&format!("/api/drafts/{draft}/pages/enfant/options"))
        .await;
    assert_eq!(page_2.expect(200)["unavailable"], json!([]));
    let children = page_2.expect(200)["choices"]["enfant"].clone();
    assert_eq!(children.as_array().unwrap().len(), 1, "{children}");
    assert_eq!(children[0]["value"], "E-0003", "{children}");
    assert!(
        children[0]["label"].as_str().unwrap().contains("Chloé"),
        "{children}"
    );
    let shown = usager.get(&format!("/api/drafts/{draft}")).await;
    assert!(
        shown.expect(200).get("options").is_none(),
        "reading a draft asks no connector"
    );

    let stranger = usager
        .put(
            &format!("/api/drafts/{draft}/pages/enfant"),
            json!({ "enfant": "E-0001", "ecole": "les-tilleuls", "classe": "ms" }),
        )
        .await;
    assert_eq!(stranger.status, 422, "a child of another family is refused");
    let errors = stranger.field_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("enfant:"), "{errors:?}");
    usager
        .put(
            &format!("/api/drafts/{draft}/pages/enfant"),
            json!({ "enfant": "E-0003", "ecole": "les-tilleuls", "classe": "ms" }),
        )
        .await
        .expect(200);
    usager
        .put(
            &format!("/api/drafts/{draft}/pages/frequentation"),
            json!({ "jours": ["lundi", "jeudi"], "date_debut": "2026-09-01",
                    "regime": "standard", "allergie": false }),
        )
        .await
        .expect(200);
    let summary = usager.get(&format!("/api/drafts/{draft}/summary")).await;
    assert!(summary.expect(200).to_string().contains("Chloé"));
    let filed = usager
        .post(
            &format!("/api/drafts/{draft}/submit"),
            json!({ "consent": true }),
        )
        .await;
    assert_eq!(filed.expect(201)["status"], "transmise");

    // The demande keeps the child's name as the source gave it: its pages
    // show it with the vendor unreachable (asking it would show the bare
    // `E-0003`).
    let id = filed.expect(201)["id"].as_str().unwrap().to_owned();
    sim.set_mode(espace_famille_sim::Mode::Down);
    let mine = usager_view(&usager, &id).await;
    assert!(mine["summary"].to_string().contains("Chloé"), "{mine}");
    app.grant("Admin_SVL_DSI_Guichet", None).await;
    let admin = app
        .agent("admin@ville.test", &["Admin_SVL_DSI_Guichet"])
        .await;
    let agents = agent_view(&admin, &id).await;
    assert!(agents["summary"].to_string().contains("Chloé"), "{agents}");
    assert_eq!(agents["answers"]["enfant"]["value"], "E-0003");
}
