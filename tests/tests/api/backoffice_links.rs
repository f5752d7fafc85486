//! An usager's account links in the back office, on both backends: an
//! agent with the *saisie* right on the restauration finds Camille Martin,
//! links her account to her family at the simulated Espace famille after
//! checking her identity (a wrong birth date refused, nothing kept),
//! removes the link with a confirmation; the JSON API lists the same; an
//! agent without the right gets no page and a forged post is refused.

use guichet_tests::app::TestApp;
use guichet_tests::filing::{FAMILLE, MOBILITES, RESTAURATION, VELO};
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;
use serde_json::json;

on_both_backends!(an_agent_links_and_unlinks_an_usager_from_the_back_office);

/// The password of the agents `TestApp::agent` creates.
const AGENT_PASSWORD: &str = "mot-de-passe-agent";

const RESTAURATION_SCOLAIRE: &str = "Gest_SVL_DEJ_RestaurationScolaire";

async fn an_agent_links_and_unlinks_an_usager_from_the_back_office(app: TestApp) {
    let _sim = app.connect_famille().await;
    app.import(RESTAURATION).await;
    app.import(VELO).await;
    app.grant(RESTAURATION_SCOLAIRE, Some(RESTAURATION)).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let api = app
        .agent("cantine@ville.test", &[RESTAURATION_SCOLAIRE])
        .await;
    app.agent("velo@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@example.fr")
        .await;
    let agent = Visitor::new(&app.base);
    agent.login("cantine@ville.test", AGENT_PASSWORD).await;

    let found = agent.get("/back-office/saisie?q=camille").await;
    assert_eq!(found.status, 200, "{}", found.html);
    let path = found
        .html
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .find(|href| href.starts_with("/back-office/usagers/"))
        .expect("the account's page")
        .to_owned();
    assert!(!path.contains('@'), "no e-mail in an address: {path}");

    let page = agent.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html
            .contains("Ce compte n'est rattaché à aucun dossier")
    );
    let field = |name: &str| format!("{FAMILLE}-{name}");
    assert!(
        page.html
            .contains(&format!("id=\"{}\"", field("birth-date")))
    );

    // A wrong birth date: told, the typed values kept, nothing linked.
    let (last, first, birth) = (field("last-name"), field("first-name"), field("birth-date"));
    let refused = agent
        .post(
            &format!("{path}/rattachements"),
            &[
                ("instance", FAMILLE),
                (&last, "MARTIN"),
                (&first, "Camille"),
                (&birth, "1990-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(
        refused.html.contains("Aucun dossier ne correspond"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("value=\"1990-01-01\""));
    let listed = api
        .get("/api/agent/usagers/camille.martin@example.fr/links")
        .await;
    assert_eq!(listed.expect(200), &json!([]));

    let linked = agent
        .post(
            &format!("{path}/rattachements"),
            &[
                ("instance", FAMILLE),
                (&last, "MARTIN"),
                (&first, "Camille"),
                (&birth, "1988-04-12"),
            ],
        )
        .await;
    assert_eq!(linked.status, 303, "{}", linked.html);
    let page = agent.get(&format!("{path}?fait=rattache")).await;
    assert!(page.html.contains("Le compte est rattaché au dossier."));
    assert!(page.html.contains("n° F-0002"), "{}", page.html);
    assert!(page.html.contains("par un agent"));
    let listed = api
        .get("/api/agent/usagers/camille.martin@example.fr/links")
        .await;
    assert_eq!(listed.expect(200)[0]["remote_id"], "F-0002");

    // Another agent, without the saisie right on a démarche using the
    // instance: no page, a forged removal refused.
    let velo = Visitor::new(&app.base);
    velo.login("velo@ville.test", AGENT_PASSWORD).await;
    assert_eq!(velo.get(&path).await.status, 403);
    let forged = velo
        .post(
            &format!("{path}/rattachements/{FAMILLE}/retirer"),
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);

    // Removed with its confirmation only.
    let unconfirmed = agent
        .post(&format!("{path}/rattachements/{FAMILLE}/retirer"), &[])
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.html);
    assert_eq!(
        usager.get("/api/me/links").await.expect(200)[0]["remote_id"],
        "F-0002"
    );
    let removed = agent
        .post(
            &format!("{path}/rattachements/{FAMILLE}/retirer"),
            &[("confirme", "oui")],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.html);
    assert_eq!(usager.get("/api/me/links").await.expect(200), &json!([]));
    let gone = api
        .delete(
            &format!("/api/agent/usagers/camille.martin@example.fr/links/{FAMILLE}"),
            None,
        )
        .await;
    assert_eq!(gone.status, 404, "{}", gone.body);
}
