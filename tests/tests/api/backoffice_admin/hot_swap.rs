//! In Chromium (with and without JavaScript): an administrator logs in,
//! uploads a connector version, activates it and rolls it back while an
//! usager files demandes and the gestionnaire receives them, each
//! reception queueing a transmission the worker runs as it goes: every
//! demande reaches the vendor once, none lost; every page visited is
//! checked by axe-core and screenshotted.

use std::collections::BTreeSet;

use guichet_core::id::DemandeId;
use guichet_store::job::JobStatus;
use guichet_tests::app::{TestApp, example_path};
use guichet_tests::browser::Browser;
use guichet_tests::components;
use guichet_tests::filing::{
    SIGNALEMENT, VOIRIE, agent_view, connect_atal, file_signalement_on, step,
};

use super::{ADMIN, ADMIN_LOGIN, PASSWORD, echange_on_first_version, versions};

mod a_version_is_swapped_in_a_real_browser_while_demandes_are_filed {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, |app| {
            super::hot_swap(app, true)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_without_javascript() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, |app| {
            super::hot_swap(app, false)
        })
        .await;
    }
}

/// The signalement démarche again, as `signalement-echange`, transmitted
/// to the instance `echange` when received.
async fn import_signalement_to_echange(app: &TestApp) -> &'static str {
    const ECHANGE: &str = "signalement-echange";
    let text = std::fs::read_to_string(example_path(SIGNALEMENT)).unwrap();
    let text = text
        .replacen(
            "slug: signalement-voie-publique",
            &format!("slug: {ECHANGE}"),
            1,
        )
        .split("\nconnector:")
        .next()
        .unwrap()
        .to_owned()
        + "\nconnector:\n  instance: echange\n  transmit_on: en_cours_analyse\n";
    app.import_yaml(text).await;
    ECHANGE
}

async fn hot_swap(app: TestApp, javascript: bool) {
    connect_atal(&app).await;
    echange_on_first_version(&app).await;
    let echange = import_signalement_to_echange(&app).await;
    app.grant(VOIRIE, Some(echange)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    app.grant(ADMIN, None).await;
    app.agent(ADMIN_LOGIN, &[ADMIN]).await;

    let browser = Browser::start(javascript).await;
    browser.open(&format!("{}/connexion", app.base)).await;
    browser.fill("login", ADMIN_LOGIN).await;
    browser.fill("password", PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_address("/back-office/demandes").await;
    browser.click("a[href='/admin']").await;
    browser.wait_for_address("/admin").await;
    browser.check("admin-accueil").await;
    browser
        .open(&format!("{}/admin/connecteurs", app.base))
        .await;
    browser.check("admin-connecteurs").await;

    // The usager files and the gestionnaire receives (each reception
    // queues a transmission) while the administrator uploads, activates
    // and rolls back, the worker running after each swap on what is queued
    // by then. One demande received before the swaps waits for the
    // worker: the activation decides which version transmits it.
    let waiting = file_signalement_on(&usager, echange, None).await;
    step(&gestionnaire, &waiting, "receptionner").await;
    let flow = async {
        let mut filed = vec![waiting.clone()];
        for _ in 0..6 {
            let id = file_signalement_on(&usager, echange, None).await;
            step(&gestionnaire, &id, "receptionner").await;
            filed.push(id);
        }
        filed
    };
    let administration = async {
        // A click on « Installer » without a file is told.
        browser
            .click("form[action='/admin/connecteurs'] button")
            .await;
        browser.wait_for_text("error-summary").await;
        browser.check("admin-connecteurs-sans-fichier").await;
        browser
            .client
            .find(fantoccini::Locator::Id("composant"))
            .await
            .unwrap()
            .send_keys(components::HOSTILE_V2)
            .await
            .unwrap();
        browser
            .click("form[action='/admin/connecteurs'] button")
            .await;
        browser.wait_for_address("fait=installation").await;
        browser.check("admin-connecteurs-installe").await;
        browser.select("activation-echange-version", "0.2.0").await;
        browser.click("#activation-echange-confirme").await;
        browser.click("form[action$='/activation'] button").await;
        browser.wait_for_address("fait=activation").await;
        let active = versions(&app, "echange");
        // The worker runs on the version just activated.
        app.transmit().await;
        browser.check("admin-connecteurs-active").await;
        tokio::task::yield_now().await;
        browser.click("#retour-echange-confirme").await;
        browser.click("form[action$='/retour'] button").await;
        browser.wait_for_address("fait=retour").await;
        app.transmit().await;
        active
    };
    let (mut filed, active) = tokio::join!(flow, administration);
    assert_eq!(active, ("0.2.0".to_owned(), Some("0.1.0".to_owned())));
    assert_eq!(
        versions(&app, "echange"),
        ("0.1.0".to_owned(), Some("0.2.0".to_owned()))
    );

    // One more after the swaps, then every transmission is done.
    filed.push(file_signalement_on(&usager, echange, None).await);
    step(&gestionnaire, filed.last().unwrap(), "receptionner").await;
    let mut rounds = 0;
    while app.transmit().await != Default::default() {
        rounds += 1;
        assert!(rounds < 10, "transmissions never end");
    }
    let mut remote_ids = BTreeSet::new();
    let mut transmitted_by = BTreeSet::new();
    for id in &filed {
        let jobs: Vec<_> = app
            .store
            .jobs_of(DemandeId::parse(id).unwrap())
            .await
            .unwrap()
            .into_iter()
            .filter(|job| job.kind == "connector.transmit")
            .collect();
        assert_eq!(jobs.len(), 1, "one job per demande: {jobs:?}");
        assert_eq!(jobs[0].status, JobStatus::Done, "{jobs:?}");
        let view = agent_view(&gestionnaire, id).await;
        assert_eq!(view["transmissions"][0]["state"], "transmise", "{view}");
        transmitted_by.insert(
            view["transmissions"][0]["display_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        remote_ids.insert(
            view["transmissions"][0]["remote_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remote_ids.len(), filed.len(), "one record per demande");
    // The demande waiting went out on the version activated, the last
    // one on the version rolled back to.
    let waited = agent_view(&gestionnaire, &waiting).await;
    assert_eq!(
        waited["transmissions"][0]["display_id"], "0.2.0",
        "{waited}"
    );
    let last = agent_view(&gestionnaire, filed.last().unwrap()).await;
    assert_eq!(last["transmissions"][0]["display_id"], "0.1.0", "{last}");
    assert!(
        transmitted_by.iter().all(|v| v == "0.1.0" || v == "0.2.0"),
        "{transmitted_by:?}"
    );

    // The instance's page, the journal and the queues, checked too.
    browser
        .open(&format!("{}/admin/connecteurs/instances/echange", app.base))
        .await;
    browser.check("admin-instance").await;
    browser.click("form[action$='/verification'] button").await;
    browser.wait_for_text("Disponible").await;
    browser.check("admin-instance-verifiee").await;
    browser
        .open(&format!(
            "{}/admin/connecteurs/journal?instance=echange",
            app.base
        ))
        .await;
    browser.wait_for_text("transmission des demandes").await;
    assert!(
        browser.source().await.contains("Voir la demande"),
        "a transmission links its demande"
    );
    browser.check("admin-journal").await;
    browser
        .open(&format!("{}/admin/files-d-attente", app.base))
        .await;
    browser.check("admin-files-d-attente").await;

    // A new instance's form, and its errors (no id, no settings).
    browser
        .open(&format!(
            "{}/admin/connecteurs/hostile/nouvelle-instance",
            app.base
        ))
        .await;
    browser.check("admin-nouvelle-instance").await;
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_text("Saisissez l'identifiant de l'instance.")
        .await;
    browser.check("admin-nouvelle-instance-erreur").await;
}
