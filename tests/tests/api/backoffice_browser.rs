//! The back office in Chromium (with JavaScript, so that axe-core checks
//! each page; the pages use none): a gestionnaire takes, accepts and
//! closes a vélo demande with its required comment; a complex signalement
//! sent to ATAL shows its transmission and the vendor's card, is put on
//! hold, resumed, transferred to another service, which asks the usager,
//! reads the answer and closes it. Screenshots in `target/screenshots/`.

use fantoccini::Locator;
use guichet_tests::app::TestApp;
use guichet_tests::browser::Browser;
use guichet_tests::filing::{
    MOBILITES, SIGNALEMENT, VELO, VOIRIE, agent_view, connect_atal_to, file_signalement, file_velo,
};
use guichet_tests::portal::Visitor;
use serde_json::json;

mod a_gestionnaire_processes_a_velo_demande_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::velo).await;
    }
}

mod a_complex_signalement_travels_between_services_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::signalement).await;
    }
}

mod an_observateur_sees_no_button_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::observateur).await;
    }
}

mod an_agent_links_an_usager_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::links).await;
    }
}

/// The password of the agents `TestApp::agent` creates.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";

/// The service the signalement is transferred to (one of its targets).
const ECLAIRAGE: &str = "Gest_SVL_DTE_Éclairage";

/// Logs `login` in by the form; the browser lands on the table.
async fn log_in(browser: &Browser, base: &str, login: &str) {
    browser.open(&format!("{base}/connexion")).await;
    browser.fill("login", login).await;
    browser.fill("password", AGENT_PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_address("/back-office/demandes").await;
}

/// Opens the action labelled `label` and runs it (its inputs filled
/// before by the caller, after [`unfold`]).
async fn unfold(browser: &Browser, label: &str) {
    browser
        .client
        .find(Locator::XPath(&format!(
            "//summary[normalize-space()=\"{label}\"]"
        )))
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Submits the action `transition`'s form; waits for the page after it.
async fn submit(browser: &Browser, transition: &str, lands: &str) {
    browser
        .click(&format!(
            "form[action$='/actions/{transition}'] button[type=submit]"
        ))
        .await;
    browser.wait_for_address(lands).await;
}

/// Runs an action without inputs from the demande's page.
async fn run(browser: &Browser, label: &str, transition: &str) {
    unfold(browser, label).await;
    submit(browser, transition, &format!("fait={transition}")).await;
    let page = browser.source().await;
    assert!(
        page.contains(&format!("Action effectuée : {label}.")),
        "{page}"
    );
}

async fn velo(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let api = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    let numero = agent_view(&api, &id).await["numero"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::start(true).await;

    log_in(&browser, &app.base, "gestionnaire@ville.test").await;
    assert_eq!(
        browser.client.title().await.unwrap(),
        "Demandes à traiter — Back office — Guichet"
    );
    assert!(browser.source().await.contains("Camille Martin"));
    browser.check("back-office-demandes").await;

    browser
        .client
        .find(Locator::LinkText(&numero))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_address(&format!("/back-office/demandes/{id}"))
        .await;
    browser.check("back-office-demande").await;

    run(
        &browser,
        "Prendre en compte la demande",
        "prendre_en_compte",
    )
    .await;
    run(&browser, "Accepter la demande", "accepter").await;
    run(&browser, "Commencer le traitement", "commencer_traitement").await;

    // Closed without its comment: the page says so, nothing changes.
    unfold(&browser, "Clôturer la demande").await;
    browser.check_box("cloturer-confirme").await;
    submit(&browser, "cloturer", "/actions/cloturer").await;
    assert!(
        browser
            .client
            .title()
            .await
            .unwrap()
            .starts_with("Erreur : ")
    );
    browser.check("back-office-cloture-erreur").await;
    browser
        .fill(
            "cloturer-commentaire_cloture",
            "Aide de 45 € versée le 5 mars.",
        )
        .await;
    browser.check_box("cloturer-confirme").await;
    submit(&browser, "cloturer", "fait=cloturer").await;
    let closed = browser.source().await;
    assert!(closed.contains("Demande traitée"), "{closed}");
    assert_eq!(agent_view(&api, &id).await["status"]["id"], "traitee");

    // The saisie for an usager: the usager found by name, the form started
    // for her, prefilled; its first page in the agent's header.
    browser.click("a[href='/back-office/saisie']").await;
    browser.wait_for_address("/back-office/saisie").await;
    browser.fill("q", "martin").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.wait_for_address("q=martin").await;
    assert!(
        browser
            .source()
            .await
            .contains("Camille Martin (camille@exemple.test)")
    );
    browser.check("back-office-saisie").await;
    browser.select("demarche", VELO).await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    browser.wait_for_address("/pages/identite").await;
    let form = browser.source().await;
    assert!(form.contains("value=\"Martin\""), "{form}");
    assert!(form.contains("Back office"), "{form}");
    browser.check("back-office-saisie-formulaire").await;
}

async fn signalement(app: TestApp) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(&app, &sim).await;
    app.import(SIGNALEMENT).await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    app.grant(ECLAIRAGE, Some(SIGNALEMENT)).await;
    let api = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let eclairage = app.agent("eclairage@ville.test", &[ECLAIRAGE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_signalement(&usager, None).await;
    let path = format!("/back-office/demandes/{id}");
    let browser = Browser::start(true).await;

    log_in(&browser, &app.base, "voirie@ville.test").await;
    browser.open(&format!("{}{path}", app.base)).await;
    run(&browser, "Réceptionner la demande", "receptionner").await;
    assert!(
        browser
            .source()
            .await
            .contains("En attente de transmission à atal-ville")
    );

    // Sent to ATAL, then read back: the number, ATAL's status and card.
    assert_eq!(app.transmit().await.transmitted, 1);
    app.at_day(0.5).await;
    assert_eq!(app.transmit().await.read, 1);
    let request = sim.works_requests()[0].clone();
    // Half a day later the session has ended: log in again.
    log_in(&browser, &app.base, "voirie@ville.test").await;
    browser.open(&format!("{}{path}", app.base)).await;
    let sent = browser.source().await;
    assert!(
        sent.contains(&format!(
            "Transmise à atal-ville sous le n° {}",
            request.request_number
        )),
        "{sent}"
    );
    assert!(sent.contains("vendor-card"), "{sent}");
    assert!(sent.contains("Journal des échanges"), "{sent}");
    browser.check("back-office-demande-atal").await;

    // On hold with a message, then resumed.
    unfold(&browser, "Mettre en attente").await;
    browser
        .fill(
            "mettre_en_attente-message",
            "En attente du passage de la régie.",
        )
        .await;
    submit(&browser, "mettre_en_attente", "fait=mettre_en_attente").await;
    assert!(browser.source().await.contains("En attente</span>"));
    run(&browser, "Reprendre le traitement", "reprendre").await;

    // Transferred: the page leaves the Voirie's agent for the table.
    unfold(&browser, "Transférer vers un autre service").await;
    browser.select("transferer-service", ECLAIRAGE).await;
    submit(
        &browser,
        "transferer",
        "/back-office/demandes?fait=transfert",
    )
    .await;
    let table = browser.source().await;
    assert!(
        table.contains("La demande a été transférée : elle ne relève plus de vos services."),
        "{table}"
    );
    assert!(!table.contains(&id), "no longer Voirie's");
    let gone = Visitor::new(&app.base);
    gone.login("voirie@ville.test", AGENT_PASSWORD).await;
    assert_eq!(gone.get(&path).await.status, 403);

    // Éclairage asks the usager, reads the answer, accepts and closes.
    log_in(&browser, &app.base, "eclairage@ville.test").await;
    browser.open(&format!("{}{path}", app.base)).await;
    unfold(&browser, "Échanger avec l'usager").await;
    browser
        .fill(
            "echanger-message",
            "Le lampadaire est-il celui côté école ?",
        )
        .await;
    submit(&browser, "echanger", "fait=echanger").await;
    usager
        .post(
            &format!("/api/demandes/{id}/reply"),
            json!({ "message": "Oui, côté école." }),
        )
        .await
        .expect(200);
    browser.open(&format!("{}{path}", app.base)).await;
    assert!(browser.source().await.contains("Oui, côté école."));
    run(&browser, "Accepter la demande", "accepter").await;
    unfold(&browser, "Clôturer la demande").await;
    browser
        .fill("cloturer-commentaire_cloture", "Lampe remplacée.")
        .await;
    browser.check_box("cloturer-confirme").await;
    submit(&browser, "cloturer", "fait=cloturer").await;
    browser.check("back-office-signalement-traite").await;
    assert_eq!(agent_view(&eclairage, &id).await["status"]["id"], "traitee");
    assert_eq!(
        api.get(&format!("/api/agent/demandes/{id}")).await.status,
        403
    );
}

async fn observateur(app: TestApp) {
    const OBSERVATEURS: &str = "Obs_SVL_DACT_Mobilités";
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(OBSERVATEURS, Some(VELO)).await;
    let api = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    app.agent("obs@ville.test", &[OBSERVATEURS]).await;
    let usager = app
        .usager("Camille", "Martin", "camille@exemple.test")
        .await;
    let id = file_velo(&usager).await;
    let browser = Browser::start(true).await;

    log_in(&browser, &app.base, "obs@ville.test").await;
    let table = browser.source().await;
    assert!(!table.contains("Exporter"), "no export for an Observateur");
    assert!(!table.contains("/back-office/saisie"), "no saisie either");
    browser
        .open(&format!("{}/back-office/demandes/{id}", app.base))
        .await;
    let page = browser.source().await;
    assert!(page.contains("Historique des agents"), "{page}");
    assert!(
        browser
            .client
            .find_all(Locator::Css(
                "form[action*='/actions/'], form[action$='/cadre-reserve']"
            ))
            .await
            .unwrap()
            .is_empty(),
        "no action form: {page}"
    );
    browser.check("back-office-observateur").await;

    // The same action forged with the page's own token: refused, nothing
    // changed.
    let forged = Visitor::new(&app.base);
    forged.login("obs@ville.test", AGENT_PASSWORD).await;
    let answer = forged
        .post_multipart(
            &format!("/back-office/demandes/{id}/actions/prendre_en_compte"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.html);
    assert_eq!(agent_view(&api, &id).await["status"]["id"], "transmise");
}

async fn links(app: TestApp) {
    use guichet_tests::filing::{FAMILLE, RESTAURATION};
    const RESTAURATION_SCOLAIRE: &str = "Gest_SVL_DEJ_RestaurationScolaire";
    let _sim = app.connect_famille().await;
    app.import(RESTAURATION).await;
    app.grant(RESTAURATION_SCOLAIRE, Some(RESTAURATION)).await;
    app.agent("cantine@ville.test", &[RESTAURATION_SCOLAIRE])
        .await;
    app.usager("Camille", "Martin", "camille.martin@example.fr")
        .await;
    let browser = Browser::start(true).await;

    log_in(&browser, &app.base, "cantine@ville.test").await;
    browser
        .open(&format!("{}/back-office/saisie?q=martin", app.base))
        .await;
    browser.click("a[href^='/back-office/usagers/']").await;
    browser.wait_for_address("/back-office/usagers/").await;
    browser.check("back-office-rattachements").await;
    browser
        .fill(&format!("{FAMILLE}-last-name"), "MARTIN")
        .await;
    browser
        .fill(&format!("{FAMILLE}-first-name"), "Camille")
        .await;
    browser
        .fill(&format!("{FAMILLE}-birth-date"), "1988-04-12")
        .await;
    browser
        .click("form[action$='/rattachements'] button[type=submit]")
        .await;
    browser.wait_for_address("fait=rattache").await;
    assert!(browser.source().await.contains("n° F-0002"));
    browser.check("back-office-rattache").await;
}
