//! Benchmark of the portal's pages: the time to serve each page an usager
//! goes through, and each page of the agents' back office, and its weight,
//! against a JSON answer of the API measured in the same run (the
//! baseline).
//!
//! Run by hand, in a release build (results are written down in
//! BENCHMARKS.md): `cargo bench -p guichet-tests --bench portal_pages`.
//! Not a test: nothing here asserts a duration; it prints figures.
//!
//! Per backend, through the test harness (`App::start` on a fresh
//! database): the three example démarches imported, an usager registered
//! on the portal with a vélo draft filled up to its summary (its invoice
//! joined) and `PAGES_DEMANDES` vélo demandes filed; then each page is
//! asked `PAGES_REQUESTS` times in a row over loopback HTTP after 20
//! warm-up requests, and its median and 95th percentile are printed with
//! its size. The back office's pages are asked the same way by a
//! gestionnaire of the vélo démarche, one demande taken in charge. The
//! time is measured by the client: the server's time plus
//! one loopback round trip (about 0.1 ms here).
//!
//! Environment: `PAGES_REQUESTS` (default 500), `PAGES_DEMANDES` (20),
//! `PAGES_BACKENDS` (`sqlite,postgres`).

// A benchmark panics to report a broken set-up.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use guichet_tests::app::{Backend, TestApp, pdf, run};
use guichet_tests::filing::{MOBILITES, RESTAURATION, SIGNALEMENT, VELO, step};
use guichet_tests::portal::Visitor;

fn main() {
    let requests: usize = std::env::var("PAGES_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let demandes: usize = std::env::var("PAGES_DEMANDES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let backends = std::env::var("PAGES_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for name in backends.split(',').map(str::trim) {
        let backend = match name {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("PAGES_BACKENDS: unknown backend {other}"),
        };
        let label = name.to_owned();
        runtime.block_on(run(backend, move |app| {
            measure(app, label, requests, demandes)
        }));
    }
}

/// An usager on the portal with a vélo draft filled to its summary;
/// returns the draft's id.
async fn prepare(app: &TestApp, usager: &Visitor, demandes: usize) -> String {
    app.import(VELO).await;
    app.import(SIGNALEMENT).await;
    app.import(RESTAURATION).await;
    usager
        .register("camille.banc@example.fr", "Camille", "Banc")
        .await;
    let today = app.clock_now().format("%d/%m/%Y").to_string();
    let mut draft = String::new();
    for round in 0..=demandes {
        let opened = usager
            .post(&format!("/demarches/{VELO}/brouillon"), &[])
            .await;
        draft = opened
            .location
            .unwrap()
            .trim_start_matches("/brouillons/")
            .to_owned();
        let page = |name: &str| format!("/brouillons/{draft}/pages/{name}");
        let sent = usager
            .post_multipart(
                &page("identite"),
                &[
                    ("prenom", "Camille"),
                    ("nom", "Banc"),
                    ("courriel", "camille.banc@example.fr"),
                    ("adresse.street", "3 rue des Lilas"),
                    ("adresse.postcode", "13001"),
                    ("adresse.city", "Marseille"),
                    ("action", "suivant"),
                ],
                Vec::new(),
            )
            .await;
        assert_eq!(sent.status, 303, "{}", sent.html);
        let sent = usager
            .post_multipart(
                &page("reparation"),
                &[
                    ("type_velo", "electrique"),
                    ("date_reparation", &today),
                    ("reparateur", "Cycles du Vieux-Port"),
                    ("montant", "86,50"),
                    ("action", "suivant"),
                ],
                vec![("facture", "facture.pdf", pdf("facture"))],
            )
            .await;
        assert_eq!(sent.status, 303, "{}", sent.html);
        let sent = usager
            .post_multipart(
                &page("versement"),
                &[
                    ("titulaire_compte", "Camille Banc"),
                    ("iban", "FR76 3000 6000 0112 3456 7890 189"),
                    ("attestation", "on"),
                    ("action", "suivant"),
                ],
                Vec::new(),
            )
            .await;
        assert_eq!(sent.status, 303, "{}", sent.html);
        if round < demandes {
            let filed = usager
                .post(
                    &format!("/brouillons/{draft}/deposer"),
                    &[("consent", "on")],
                )
                .await;
            assert_eq!(filed.status, 303, "{}", filed.html);
        }
    }
    draft
}

/// Median and 95th percentile of `requests` GETs of `path`, and the
/// body's size in bytes.
async fn time(usager: &Visitor, path: &str, requests: usize) -> (Duration, Duration, usize) {
    let mut size = 0;
    for _ in 0..20 {
        let answer = usager.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.html);
        size = answer.html.len();
    }
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        let answer = usager.get(path).await;
        times.push(start.elapsed());
        assert_eq!(answer.status, 200);
    }
    times.sort();
    (times[times.len() / 2], times[times.len() * 95 / 100], size)
}

async fn measure(app: TestApp, backend: String, requests: usize, demandes: usize) {
    let usager = Visitor::new(&app.base);
    let draft = prepare(&app, &usager, demandes).await;
    let pages = [
        (
            "API: GET /api/demarches (baseline)",
            "/api/demarches".to_owned(),
        ),
        ("accueil", "/".to_owned()),
        ("recherche", "/?q=velo".to_owned()),
        ("présentation", format!("/demarches/{VELO}")),
        (
            "formulaire (coordonnées)",
            format!("/brouillons/{draft}/pages/identite"),
        ),
        (
            "formulaire (réparation, facture)",
            format!("/brouillons/{draft}/pages/reparation"),
        ),
        (
            "récapitulatif",
            format!("/brouillons/{draft}/recapitulatif"),
        ),
        ("mes brouillons", "/brouillons".to_owned()),
        ("mes demandes", "/demandes".to_owned()),
        ("mon compte", "/mon-compte".to_owned()),
        ("portal.css", "/static/portal.css".to_owned()),
        ("portal.js", "/static/portal.js".to_owned()),
    ];
    // A gestionnaire of the vélo démarche on the back office's pages.
    app.grant(MOBILITES, Some(VELO)).await;
    let api = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let agent = Visitor::new(&app.base);
    agent
        .login("gestionnaire@ville.test", "mot-de-passe-agent")
        .await;
    let table = agent.get("/back-office/demandes").await;
    let demande = table
        .html
        .split("href=\"/back-office/demandes/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    step(&api, &demande, "prendre_en_compte").await;
    let back_office = [
        ("back office : tableau", "/back-office/demandes".to_owned()),
        (
            "back office : recherche `?q=banc`",
            "/back-office/demandes?q=banc".to_owned(),
        ),
        (
            "back office : filtre statut",
            "/back-office/demandes?statut=transmise".to_owned(),
        ),
        (
            "back office : une demande",
            format!("/back-office/demandes/{demande}"),
        ),
        (
            "back office : export CSV",
            "/back-office/demandes.csv".to_owned(),
        ),
    ];
    println!("\n{backend}: {requests} requests per page, {demandes} demandes filed");
    println!("| page | p50 | p95 | ratio p50 / baseline | size |");
    println!("|---|---|---|---|---|");
    let mut baseline = None;
    let pages = pages
        .into_iter()
        .map(|(name, path)| (name, path, &usager))
        .chain(
            back_office
                .into_iter()
                .map(|(name, path)| (name, path, &agent)),
        );
    for (name, path, visitor) in pages {
        let (p50, p95, size) = time(visitor, &path, requests).await;
        let base = *baseline.get_or_insert(p50);
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.1}× | {:.1} KB |",
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            p50.as_secs_f64() / base.as_secs_f64(),
            size as f64 / 1000.0
        );
    }
}
