//! The administration of the organisation in Chromium (SQLite, with
//! JavaScript so that axe-core checks each page; the pages use none): an
//! administrator imports a definition — first a text that is not YAML,
//! whose line the summary names —, then creates a group and grants it
//! the démarche; the revocation asks first. Screenshots in
//! `target/screenshots/admin-*.png`.

use fantoccini::Locator;
use guichet_core::id::Slug;
use guichet_tests::app::{TestApp, example_path};
use guichet_tests::browser::Browser;
use guichet_tests::filing::{MOBILITES, VELO};

/// The password of the agents `TestApp::agent` creates.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";

/// The administrators' group, granted on every démarche.
const ADMIN: &str = "Admin_SVL_DSI_Informatique";

mod an_administrator_imports_a_demarche_and_creates_a_group_in_a_real_browser {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::in_a_browser).await;
    }
}

async fn in_a_browser(app: TestApp) {
    app.grant(ADMIN, None).await;
    app.agent("admin@ville.test", &[ADMIN]).await;
    let browser = Browser::start(true).await;
    browser.open(&format!("{}/connexion", app.base)).await;
    browser.fill("login", "admin@ville.test").await;
    browser.fill("password", AGENT_PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_address("/back-office/demandes").await;

    browser.open(&format!("{}/admin/demarches", app.base)).await;
    assert_eq!(
        browser.client.title().await.unwrap(),
        "Démarches — Administration — Back office — Guichet"
    );
    browser.check("admin-demarches").await;

    // A text that is not YAML: the summary names its line.
    browser
        .fill("definition", "slug: essai\n  title: b\n")
        .await;
    browser
        .click("form[action='/admin/demarches'] button[type=submit]")
        .await;
    browser.wait_for_text("Ligne 2 : ").await;
    assert!(
        browser
            .client
            .title()
            .await
            .unwrap()
            .starts_with("Erreur : ")
    );
    browser.check("admin-demarches-erreur").await;

    // The example's file, which wins over the text left in the textarea.
    browser
        .client
        .find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(
            std::fs::canonicalize(example_path(VELO))
                .unwrap()
                .to_str()
                .unwrap(),
        )
        .await
        .unwrap();
    browser
        .click("form[action='/admin/demarches'] button[type=submit]")
        .await;
    browser.wait_for_address("fait=creee").await;
    assert!(
        browser
            .source()
            .await
            .contains("Démarche créée : version 1.")
    );
    browser.check("admin-demarche").await;

    // A group, granted on the démarche.
    browser.open(&format!("{}/admin/groupes", app.base)).await;
    browser.check("admin-groupes").await;
    browser.fill("nom", MOBILITES).await;
    browser
        .click("form[action='/admin/groupes'] button[type=submit]")
        .await;
    browser.wait_for_address("fait=groupe-cree").await;
    browser.check("admin-groupe").await;
    browser.select("demarche", VELO).await;
    browser
        .click("form[action$='/habilitations'] button[type=submit]")
        .await;
    browser.wait_for_address("fait=habilitation").await;
    assert!(browser.source().await.contains("Habilitation enregistrée."));
    browser.check("admin-groupe-habilite").await;
    let grants = app.store.grants().await.unwrap();
    assert!(
        grants
            .iter()
            .any(|grant| grant.group.as_str() == MOBILITES && grant.covers(&Slug::from(VELO))),
        "{grants:?}"
    );

    // The revocation asks first (left unconfirmed).
    browser.click("a[href*='/habilitations/retrait']").await;
    browser.wait_for_address("/habilitations/retrait").await;
    browser.check("admin-habilitation-retrait").await;
    assert_eq!(app.store.grants().await.unwrap(), grants);

    browser.open(&format!("{}/admin/comptes", app.base)).await;
    browser.check("admin-comptes").await;
}
