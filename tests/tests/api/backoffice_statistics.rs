//! The statistics pages of the back office, as a browser speaks to them:
//! a Qualité agent reads the figures of demandes filed and processed here
//! (counted by hand below) as tables and as server-drawn SVG charts, the
//! late list and the satisfaction answers, and downloads them as CSV; an
//! Observateur gets neither link nor page; filters that do not read are
//! summarised at the top of the page (422). Then the same path in
//! Chromium, checked by axe-core.

use guichet_tests::app::{Client, TestApp, example_path};
use guichet_tests::filing::{MOBILITES, VELO, act, file_velo, step};
use guichet_tests::on_both_backends;
use guichet_tests::portal::Visitor;
use serde_json::{Value, json};

on_both_backends!(
    a_quality_agent_reads_the_figures_charts_and_csv_of_the_demandes_processed,
    an_observer_gets_no_statistics,
    filters_that_do_not_read_are_summarised_with_no_figure,
);

const QUALITE: &str = "Qual_SVL_DACT_Mobilités";
const OBSERVATEUR: &str = "Obs_SVL_DACT_Mobilités";
const PASSWORD: &str = "mot-de-passe-agent";
/// March and April 2026, as typed.
const PERIOD: &str = "du=01%2F03%2F2026&au=30%2F04%2F2026";

/// The vélo démarche in its complexe path: nothing closes at the
/// deadline, so a demande taken and left open is late.
async fn import_velo_complexe(app: &TestApp) {
    let text = std::fs::read_to_string(example_path(VELO)).unwrap();
    assert!(text.contains("kind: simple"));
    app.import_yaml(text.replace("kind: simple", "kind: complexe"))
        .await;
}

/// Runs an action with inputs, expecting success.
async fn run(agent: &Client, demande: &str, transition: &str, inputs: Value) {
    act(
        agent,
        demande,
        json!({ "transition": transition, "inputs": inputs }),
    )
    .await
    .expect(200);
}

async fn close(agent: &Client, demande: &str) {
    step(agent, demande, "accepter").await;
    run(
        agent,
        demande,
        "cloturer",
        json!({ "closing_comment": "Aide versée.", "confirmed": true }),
    )
    .await;
}

/// An agent of `group` granted on the vélo démarche, logged in on the
/// back office's pages.
async fn agent_on_the_pages(app: &TestApp, login: &str, group: &str) -> Visitor {
    app.grant(group, Some(VELO)).await;
    app.agent(login, &[group]).await;
    let pages = Visitor::new(&app.base);
    pages.login(login, PASSWORD).await;
    pages
}

/// The demandes counted by the tests, by letter; the clock's days count
/// from Monday 2 March 2026, 9:00 UTC.
struct Seeded {
    numeros: std::collections::BTreeMap<char, String>,
}

/// Day 0: A to E filed, A, B, C, E taken. Day 3: A processed (3 days),
/// its survey answered 5 by « Site de la ville ». Day 5: B refused (5
/// days). Day 30 (1 April): C processed (30 days, past its deadline of 27
/// days) while A is archived. E stays in analysis: late; D is never
/// taken.
async fn seed(app: &TestApp) -> Seeded {
    import_velo_complexe(app).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let mobilites = app.agent("mobilites@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let mut ids = std::collections::BTreeMap::new();
    for letter in ['A', 'B', 'C', 'D', 'E'] {
        ids.insert(letter, file_velo(&usager).await);
    }
    for letter in ['A', 'B', 'C', 'E'] {
        step(&mobilites, &ids[&letter], "receptionner").await;
    }
    app.at_day(3.0).await;
    close(&mobilites, &ids[&'A']).await;
    let token = app.survey_token(&ids[&'A']);
    app.anonymous()
        .post(
            &format!("/api/enquetes/{token}"),
            json!({ "note": 5, "commentaire": "Merci.", "reponses": { "connu_par": "Site de la ville" } }),
        )
        .await
        .expect(204);
    app.at_day(5.0).await;
    run(
        &mobilites,
        &ids[&'B'],
        "refuser",
        json!({ "refusal_type": "refusee", "justification": "Hors règlement.", "confirmed": true }),
    )
    .await;
    app.at_day(30.0).await;
    close(&mobilites, &ids[&'C']).await;
    let mut numeros = std::collections::BTreeMap::new();
    for (letter, id) in &ids {
        let id = guichet_core::id::DemandeId::from_uuid(id.parse().unwrap());
        numeros.insert(*letter, app.store.demande(id).await.unwrap().demande.numero);
    }
    Seeded { numeros }
}

/// A table's row: its header cell, then its cells.
fn row(header: &str, cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|c| format!("<td>{c}</td>")).collect();
    format!("<th scope=\"row\">{header}</th>{cells}")
}

fn assert_rows(html: &str, rows: &[(&str, &[&str])]) {
    for (header, cells) in rows {
        let expected = row(header, cells);
        assert!(html.contains(&expected), "{expected} in {html}");
    }
}

async fn a_quality_agent_reads_the_figures_charts_and_csv_of_the_demandes_processed(app: TestApp) {
    let seeded = seed(&app).await;
    let qualite = agent_on_the_pages(&app, "qualite@ville.test", QUALITE).await;

    // The link is in the layout's navigation.
    let table = qualite.get("/back-office/demandes").await;
    assert!(table.html.contains("href=\"/back-office/statistiques\""));

    let page = qualite
        .get(&format!(
            "/back-office/statistiques?demarche={VELO}&{PERIOD}"
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.html);
    let html = &page.html;
    assert!(html.contains("<title>Statistiques — Back office"), "{html}");
    // The form keeps what was asked, the dates as the date input reads them.
    assert!(html.contains(&format!("<option value=\"{VELO}\" selected>")));
    assert!(html.contains("id=\"du\" name=\"du\" type=\"date\" value=\"2026-03-01\""));
    assert!(html.contains("du 01/03/2026 au 30/04/2026"));

    // Received in the period: A to E, by current status.
    assert_rows(
        html,
        &[
            ("Demande transmise", &["1"]),
            ("Demande en cours d&#39;analyse", &["1"]),
            ("Demande traitée", &["1"]),
            ("Demande refusée par le service", &["1"]),
            // A, closed on day 3, archived 27 days later.
            ("Demande archivée", &["1"]),
        ],
    );
    assert!(html.contains("<tfoot><tr><th scope=\"row\">Total</th><td>5</td></tr></tfoot>"));
    // Closed: A and C processed, B refused.
    assert_rows(
        html,
        &[
            ("Traitées", &["2"]),
            ("Refusées par le service", &["1"]),
            ("Abandonnées par l'usager", &["0"]),
        ],
    );
    assert!(html.contains("dont Refusée</th><td>1</td>"));
    // Times to process: A 3 days, B 5, C 30.
    assert!(
        html.contains("médiane 5,00 jours, 90e centile 30,00 jours"),
        "{html}"
    );
    assert_rows(
        html,
        &[
            ("moins de 3 jours", &["0"]),
            ("de 3 à moins de 7 jours", &["2"]),
            ("de 21 à moins de 27 jours", &["0"]),
            ("de 27 à moins de 42 jours", &["1"]),
            ("42 jours ou plus", &["0"]),
        ],
    );
    // Within the 27 days: A and B in March, not C in April.
    assert!(html.contains("2 sur 3 : 66,7 %."), "{html}");
    assert_rows(
        html,
        &[
            ("mars 2026", &["2", "2", "100,0 %"]),
            ("avril 2026", &["1", "0", "0,0 %"]),
        ],
    );
    // Now: E is late, D never taken.
    assert!(html.contains("1 demande en retard"));
    assert!(html.contains("1 demande non prise en compte depuis 7 jours ou plus"));
    let late_rows = html
        .split("<table class=\"demandes late\">")
        .nth(1)
        .unwrap();
    let late_rows = late_rows.split("</table>").next().unwrap();
    assert!(late_rows.contains(&seeded.numeros[&'E']), "{late_rows}");
    for letter in ['A', 'B', 'C', 'D'] {
        assert!(!late_rows.contains(&seeded.numeros[&letter]), "{letter}");
    }
    // The whole list is the processing table's, filtered the same way.
    assert!(html.contains(&format!(
        "href=\"/back-office/demandes?demarche={VELO}&#38;retard=oui\""
    )));
    // Satisfaction: A's answer.
    assert!(
        html.contains(
            "1 réponse à l'enquête du 01/03/2026 au 30/04/2026 ; note moyenne : 5,00 sur 5."
        ),
        "{html}"
    );
    assert_rows(
        html,
        &[
            ("5 sur 5", &["1"]),
            ("Site de la ville", &["1"]),
            ("Autre", &["0"]),
        ],
    );

    // Three charts, each an image named by its title, drawn with text.
    assert_eq!(
        html.matches("<svg class=\"chart\" role=\"img\"").count(),
        3,
        "{html}"
    );
    for id in ["graphique-statuts", "graphique-delais", "graphique-mois"] {
        assert!(html.contains(&format!("aria-labelledby=\"{id}\"")), "{id}");
        assert!(html.contains(&format!("<title id=\"{id}\">")), "{id}");
    }
    assert!(html.contains(
        "<title id=\"graphique-mois\">Part des demandes traitées dans le délai de 27 jours, par mois : mars 2026 100,0 % (2 sur 2), avril 2026 0,0 % (0 sur 1).</title>"
    ), "{html}");
    assert!(
        html.contains("\nDemande traitée\n</text>"),
        "the status chart's labels"
    );
    assert!(
        html.contains("\n100 %\n</text>"),
        "the month chart's values"
    );
    assert!(!html.contains(" style=\""), "no inline style under the CSP");

    // The CSV of the same figures.
    let export = format!("/back-office/statistiques.csv?demarche={VELO}&{PERIOD}");
    assert!(
        html.contains(&format!("href=\"{}\"", export.replace('&', "&#38;"))),
        "{html}"
    );
    let (status, kind, bytes) = qualite.download(&export).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "text/csv; charset=utf-8");
    let csv = String::from_utf8(bytes).unwrap();
    assert!(
        csv.starts_with("\u{feff}rubrique;indicateur;valeur\n"),
        "{csv}"
    );
    for line in [
        "Périmètre;Du;01/03/2026",
        "Périmètre;Au;30/04/2026",
        "Demandes reçues sur la période;Total;5",
        "Demandes reçues sur la période;Statut actuel : Demande archivée;1",
        "Demandes clôturées sur la période;Refusées par le service;1",
        "Délai de traitement (hors mise en attente);Médiane (jours);5,00",
        "Délai de traitement de 27 jours;Traitées dans le délai;2",
        "Délai de traitement de 27 jours;Part traitée dans le délai (%);66,7",
        "Aujourd'hui;Demandes en retard;1",
        "Satisfaction (enquête);Réponses;1",
    ] {
        assert!(csv.lines().any(|l| l == line), "{line} in {csv}");
    }
}

async fn an_observer_gets_no_statistics(app: TestApp) {
    import_velo_complexe(&app).await;
    let observer = agent_on_the_pages(&app, "observateur@ville.test", OBSERVATEUR).await;
    let table = observer.get("/back-office/demandes").await;
    assert_eq!(table.status, 200);
    assert!(!table.html.contains("/back-office/statistiques"));
    for path in [
        "/back-office/statistiques".to_owned(),
        format!("/back-office/statistiques?demarche={VELO}&{PERIOD}"),
        format!("/back-office/statistiques.csv?demarche={VELO}"),
    ] {
        let answer = observer.get(&path).await;
        assert_eq!(answer.status, 403, "{path}");
        assert!(answer.html.contains("Accès refusé"), "{path}");
        assert!(!answer.html.contains("<svg"), "{path}");
    }
    // Anonymous: sent to the login page.
    let anonymous = Visitor::new(&app.base)
        .get("/back-office/statistiques")
        .await;
    assert_eq!(anonymous.status, 303);
}

async fn filters_that_do_not_read_are_summarised_with_no_figure(app: TestApp) {
    import_velo_complexe(&app).await;
    let qualite = agent_on_the_pages(&app, "qualite@ville.test", QUALITE).await;
    let cases = [
        (
            "du=31%2F02%2F2026",
            "du",
            "Saisissez une date au format JJ/MM/AAAA",
        ),
        ("au=demain", "au", "Saisissez une date au format JJ/MM/AAAA"),
        (
            "du=10%2F03%2F2026&au=2026-03-01",
            "au",
            "La fin de la période précède son début.",
        ),
        (
            "demarche=inconnue",
            "demarche",
            "Choisissez une démarche de la liste.",
        ),
        ("service=pas+un+groupe", "service", ""),
    ];
    for (query, field, text) in cases {
        let page = qualite
            .get(&format!("/back-office/statistiques?{query}"))
            .await;
        assert_eq!(page.status, 422, "{query}: {}", page.html);
        let summary = page
            .html
            .split("class=\"error-summary\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{query}: no error summary"));
        assert!(
            summary.contains(&format!("href=\"#{field}\"")),
            "{query}: {summary}"
        );
        assert!(summary.contains(text), "{query}: {summary}");
        assert!(
            page.html.contains("<title>Erreur : Statistiques"),
            "{query}"
        );
        assert!(
            page.html.contains(&format!("id=\"{field}-error\"")),
            "{query}"
        );
        assert!(!page.html.contains("<svg"), "{query}: no figure");
        let (status, _, _) = qualite
            .download(&format!("/back-office/statistiques.csv?{query}"))
            .await;
        assert_eq!(status, 422, "{query}: the CSV");
    }
    // The page as first opened: this month, every démarche, no error.
    let page = qualite.get("/back-office/statistiques").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("du 01/03/2026 au 02/03/2026"),
        "{}",
        page.html
    );
}

/// The path in Chromium, with and without JavaScript: the Qualité agent
/// logs in, opens the statistics from the navigation, chooses the
/// démarche and sees the charts; axe-core checks each page.
mod the_statistics_work_in_a_real_browser_and_pass_axe {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        guichet_tests::app::run(guichet_tests::app::Backend::Sqlite, super::in_a_browser).await;
    }
}

async fn in_a_browser(app: TestApp) {
    use guichet_tests::browser::Browser;
    // Day 0: two demandes filed and taken; day 3 (5 March): one processed.
    import_velo_complexe(&app).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let mobilites = app.agent("mobilites@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let first = file_velo(&usager).await;
    let second = file_velo(&usager).await;
    step(&mobilites, &first, "receptionner").await;
    step(&mobilites, &second, "receptionner").await;
    app.at_day(3.0).await;
    close(&mobilites, &first).await;
    app.grant(QUALITE, Some(VELO)).await;
    app.agent("qualite@ville.test", &[QUALITE]).await;
    for javascript in [true, false] {
        let browser = Browser::start(javascript).await;
        browser.open(&format!("{}/connexion", app.base)).await;
        browser.fill("login", "qualite@ville.test").await;
        browser.fill("password", PASSWORD).await;
        browser.click("main form button[type=submit]").await;
        browser.wait_for_address("/back-office/demandes").await;
        browser
            .click("nav.account a[href=\"/back-office/statistiques\"]")
            .await;
        browser.wait_for_address("/back-office/statistiques").await;
        browser.check("statistiques").await;
        browser.select("demarche", VELO).await;
        browser.fill("service", MOBILITES).await;
        browser.click("form.filters button[type=submit]").await;
        browser.wait_for_address("demarche=").await;
        browser
            .wait_for_text("Traitées dans le délai de 27 jours")
            .await;
        let source = browser.source().await;
        assert_eq!(source.matches("role=\"img\"").count(), 3, "{source}");
        assert!(
            source.contains("service Gest_SVL_DACT_Mobilités"),
            "{source}"
        );
        browser.check("statistiques-velo").await;
    }
}
