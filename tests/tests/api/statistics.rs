//! The statistics that judge the 27-day promise, against a month of
//! demandes seeded through the API whose figures are counted by hand here
//! (holds, refusals of each type, a transfer, an abandon, a cancellation
//! for no answer, a demande never taken, one closed late, one filed the
//! next month); the CSV export with a cell that would be a formula; who
//! may read them; and the processing table's reminder flag.

use guichet_tests::app::{Client, TestApp, example_path, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    statistics_of_a_seeded_month_match_the_figures_counted_by_hand,
    the_csv_export_neutralises_cells_that_would_be_formulas,
    only_quality_and_administrators_read_statistics,
    the_processing_table_flags_filters_and_sorts_by_reminder,
);

/// The complexe variant of the vélo démarche: holds, transfers to the
/// Cycles service, cancellation after 5 days without an answer.
const COMPLEXE: &str = "velo-complexe";
const CYCLES: &str = "Gest_SVL_DACT_Cycles";
const QUALITE: &str = "Qual_SVL_DGS_GRU";
const MARCH: &str = "from=2026-03-01&to=2026-03-31";

/// The vélo démarche as `slug`, complexe, titled `title`.
async fn import_complexe(app: &TestApp, slug: &str, title: &str) {
    let text = std::fs::read_to_string(example_path(VELO)).unwrap();
    let text = text
        .replace(&format!("slug: {VELO}"), &format!("slug: {slug}"))
        .replace(
            "title: Demander une aide à la réparation d'un vélo",
            &format!("title: '{title}'"),
        )
        .replace("kind: simple", "kind: complexe")
        .replace(
            "workflow:\n  standard: {}",
            &format!(
                "workflow:\n  standard:\n    transfer_targets: [{CYCLES}]\n    no_answer_days: 5"
            ),
        );
    assert!(text.contains("no_answer_days"), "the variant is complexe");
    app.import_yaml(text).await;
}

/// Files a vélo demande on `slug`; returns its id.
async fn file_on(usager: &Client, slug: &str) -> String {
    let draft = open_draft(usager, slug).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", pdf("facture"))),
        )
        .await
        .expect(201);
    save_page(usager, &draft, "reparation", velo_repair()).await;
    save_page(
        usager,
        &draft,
        "versement",
        json!({
            "titulaire_compte": "Camille Martin",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "attestation": true
        }),
    )
    .await;
    submit(usager, &draft).await
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

async fn refuse(agent: &Client, demande: &str, kind: &str) {
    run(
        agent,
        demande,
        "refuser",
        json!({ "refusal_type": kind, "justification": "Hors règlement.", "confirmed": true }),
    )
    .await;
}

/// Answers a demande's survey now, through its link, with `score` and the
/// option chosen for « Comment avez-vous connu cette aide ? ».
async fn answer_survey(app: &TestApp, demande: &str, score: u8, connu_par: Option<&str>) {
    let token = app.survey_token(demande);
    let mut reponses = json!({ "suggestion": "Rien à signaler." });
    if let Some(choice) = connu_par {
        reponses["connu_par"] = json!(choice);
    }
    app.anonymous()
        .post(
            &format!("/api/enquetes/{token}"),
            json!({ "note": score, "commentaire": "Merci.", "reponses": reponses }),
        )
        .await
        .expect(204);
}

/// The numbers of a table's rows, in order.
fn numeros(table: &Value) -> Vec<String> {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["numero"].as_str().unwrap().to_owned())
        .collect()
}

/// The (status, count) pairs of a statistics answer.
fn by_status(stats: &Value) -> Vec<(String, u64)> {
    stats["received"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap().to_owned(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
}

/// The demandes of the seeded month, by letter; the clock's days count
/// from Monday 2 March 2026, 9:00 UTC (10:00 in Paris).
struct Month {
    demandes: std::collections::BTreeMap<char, String>,
}

/// Seeds the month (see the test's comments for what each demande does).
async fn seed_month(app: &TestApp) -> (Month, Client) {
    import_complexe(app, COMPLEXE, "Aide à la réparation (parcours complexe)").await;
    app.grant(MOBILITES, Some(COMPLEXE)).await;
    app.grant(CYCLES, Some(COMPLEXE)).await;
    app.grant(QUALITE, Some(COMPLEXE)).await;
    let mobilites = app.agent("mobilites@ville.test", &[MOBILITES]).await;
    let cycles = app.agent("cycles@ville.test", &[CYCLES]).await;
    let qualite = app.agent("qualite@ville.test", &[QUALITE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let mut d = std::collections::BTreeMap::new();
    // Day 0: C, D, H, J filed; H and J taken at once.
    for letter in ['C', 'D', 'H', 'J'] {
        d.insert(letter, file_on(&usager, COMPLEXE).await);
    }
    step(&mobilites, &d[&'H'], "receptionner").await;
    step(&mobilites, &d[&'J'], "receptionner").await;
    // Day 1: A, B, E, F, G, I filed; A, B, E taken.
    app.at_day(1.0).await;
    for letter in ['A', 'B', 'E', 'F', 'G', 'I'] {
        d.insert(letter, file_on(&usager, COMPLEXE).await);
    }
    for letter in ['A', 'B', 'E'] {
        step(&mobilites, &d[&letter], "receptionner").await;
    }
    // Day 2: C, D, F, I taken; E transferred to Cycles.
    app.at_day(2.0).await;
    for letter in ['C', 'D', 'F', 'I'] {
        step(&mobilites, &d[&letter], "receptionner").await;
    }
    run(
        &mobilites,
        &d[&'E'],
        "transferer",
        json!({ "service": CYCLES }),
    )
    .await;
    // Day 3: B on hold; I asked a question the usager never answers.
    app.at_day(3.0).await;
    run(&mobilites, &d[&'B'], "mettre_en_attente", json!({})).await;
    run(
        &mobilites,
        &d[&'I'],
        "echanger",
        json!({ "message": "Merci de joindre votre RIB." }),
    )
    .await;
    // Days 4, 5, 6: D cancelled, C refused, F abandoned by the usager.
    app.at_day(4.0).await;
    refuse(&mobilites, &d[&'D'], "annulee").await;
    app.at_day(5.0).await;
    refuse(&mobilites, &d[&'C'], "refusee").await;
    answer_survey(app, &d[&'C'], 1, Some("Bouche-à-oreille")).await;
    app.at_day(6.0).await;
    usager
        .post(
            &format!("/api/demandes/{}/abandon", d[&'F']),
            json!({ "confirmed": true }),
        )
        .await
        .expect(200);
    // Day 8: I cancelled by the scheduler (5 days without an answer); B
    // resumes after 5 days on hold.
    app.at_day(8.0).await;
    assert_eq!(
        agent_view(&mobilites, &d[&'I']).await["status"]["id"],
        "annulee_absence_reponse"
    );
    step(&mobilites, &d[&'B'], "reprendre").await;
    // Day 12: A processed. Day 14.5: K filed and taken.
    app.at_day(12.0).await;
    close(&mobilites, &d[&'A']).await;
    answer_survey(app, &d[&'A'], 5, Some("Site de la ville")).await;
    app.at_day(14.5).await;
    d.insert('K', file_on(&usager, COMPLEXE).await);
    step(&mobilites, &d[&'K'], "receptionner").await;
    // Day 16: B processed. Day 20: E processed by Cycles. Day 28: H
    // processed, a day after its deadline.
    app.at_day(16.0).await;
    close(&mobilites, &d[&'B']).await;
    answer_survey(app, &d[&'B'], 4, Some("Site de la ville")).await;
    app.at_day(20.0).await;
    close(&cycles, &d[&'E']).await;
    answer_survey(app, &d[&'E'], 3, None).await;
    app.at_day(28.0).await;
    close(&mobilites, &d[&'H']).await;
    // Day 30 (1 April): L filed, in April; H's survey answered.
    app.at_day(30.0).await;
    d.insert('L', file_on(&usager, COMPLEXE).await);
    answer_survey(app, &d[&'H'], 2, Some("Autre")).await;
    (Month { demandes: d }, qualite)
}

async fn statistics_of_a_seeded_month_match_the_figures_counted_by_hand(app: TestApp) {
    let (month, qualite) = seed_month(&app).await;
    let mut numeros_of = std::collections::BTreeMap::new();
    for (letter, id) in &month.demandes {
        let id = guichet_core::id::DemandeId::from_uuid(id.parse().unwrap());
        numeros_of.insert(*letter, app.store.demande(id).await.unwrap().demande.numero);
    }
    let numero = |letter: char| numeros_of[&letter].clone();

    let stats = qualite
        .get(&format!("/api/statistics?demarche={COMPLEXE}&{MARCH}"))
        .await
        .expect(200)
        .clone();

    assert_eq!(stats["scope"]["from"], "2026-03-01");
    assert_eq!(stats["scope"]["to"], "2026-03-31");
    assert_eq!(stats["scope"]["time_zone"], "Europe/Paris");
    // Received in March: A–K (11); L was filed on 1 April.
    assert_eq!(stats["received"]["total"], 11);
    assert_eq!(
        by_status(&stats),
        pairs(&[
            ("transmise", 1),               // G
            ("en_cours_analyse", 2),        // J, K
            ("traitee", 4),                 // A, B, E, H
            ("refusee", 2),                 // C, D
            ("abandonnee", 1),              // F
            ("annulee_absence_reponse", 1), // I
        ])
    );
    // Closed in March: A, B, E, H processed; C, D, I refused; F abandoned.
    let closed = &stats["closed"];
    assert_eq!(
        (
            &closed["total"],
            &closed["processed"],
            &closed["refused"],
            &closed["abandoned"]
        ),
        (&json!(8), &json!(4), &json!(3), &json!(1))
    );
    assert_eq!(
        closed["refused_by_type"],
        json!([
            { "kind": "refusee", "label": "Refusée", "count": 1 },
            { "kind": "annulee", "label": "Annulée", "count": 1 },
            { "kind": "absence_reponse_usager", "label": "Absence de réponse usager", "count": 1 },
        ])
    );
    // Times from analysis to closing, hold excluded, in days: D 2, C 3,
    // I 6, B 15 − 5 on hold = 10, A 11, E 19, H 28. Seven times: the
    // median is the 4th (B: 15 if the hold counted), the 90th percentile
    // the 7th (⌈6.3⌉).
    assert_eq!(
        stats["processing_time"],
        json!({ "measured": 7, "median_days": 10.0, "p90_days": 28.0 })
    );
    // H, taken on day 0 at 10:00 in Paris, was due on 29 March at 10:00
    // (summer time: 27 calendar days, 26 days 23 hours) and closed on day 28.
    let deadline = &stats["deadline"];
    assert_eq!(
        (
            &deadline["days"],
            &deadline["measured"],
            &deadline["within"]
        ),
        (&json!([27]), &json!(7), &json!(6))
    );
    assert!((deadline["share"].as_f64().unwrap() - 6.0 / 7.0).abs() < 1e-9);
    // Now (day 30): J is late (taken on day 0); G has waited 29 days.
    assert_eq!(stats["late"], 1);
    assert_eq!(stats["untaken"], json!({ "after_days": 7, "count": 1 }));
    // Surveys answered in March: C 1, A 5, B 4, E 3 (H answered in
    // April); the free « suggestion » is not counted.
    assert_eq!(
        stats["satisfaction"],
        json!({
            "answers": 4,
            "mean_score": 3.25,
            "by_score": [
                { "score": 1, "count": 1 }, { "score": 2, "count": 0 },
                { "score": 3, "count": 1 }, { "score": 4, "count": 1 },
                { "score": 5, "count": 1 },
            ],
            "questions": [{
                "demarche": COMPLEXE,
                "id": "connu_par",
                "label": "Comment avez-vous connu cette aide ?",
                "choices": [
                    { "choice": "Site de la ville", "count": 2 },
                    { "choice": "Bouche-à-oreille", "count": 1 },
                    { "choice": "Réseaux sociaux", "count": 0 },
                    { "choice": "Autre", "count": 0 },
                ],
            }],
        })
    );

    // The Mobilités service: E went to Cycles. Six times: 2, 3, 6, 10,
    // 11, 28 — median the 3rd, 90th percentile the 6th (⌈5.4⌉).
    let mobilites = qualite
        .get(&format!(
            "/api/statistics?demarche={COMPLEXE}&service={MOBILITES}&{MARCH}"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(mobilites["received"]["total"], 10);
    assert_eq!(mobilites["closed"]["processed"], 3);
    assert_eq!(
        mobilites["processing_time"],
        json!({ "measured": 6, "median_days": 6.0, "p90_days": 28.0 })
    );
    assert_eq!(mobilites["deadline"]["within"], 5);
    // A, B and C answered while Mobilités was in charge: (5 + 4 + 1) / 3.
    assert_eq!(mobilites["satisfaction"]["answers"], 3);
    assert_eq!(mobilites["satisfaction"]["mean_score"], 3.33);
    // Cycles, named by another role's group of the service.
    let cycles = qualite
        .get(&format!(
            "/api/statistics?demarche={COMPLEXE}&service=Qual_SVL_DACT_Cycles&{MARCH}"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(cycles["received"]["total"], 1);
    assert_eq!(
        cycles["processing_time"],
        json!({ "measured": 1, "median_days": 19.0, "p90_days": 19.0 })
    );
    assert_eq!(cycles["late"], 0);
    assert_eq!(
        (
            &cycles["satisfaction"]["answers"],
            &cycles["satisfaction"]["mean_score"]
        ),
        (&json!(1), &json!(3.0))
    );
    // April so far: L only, never taken (since today).
    let april = qualite
        .get(&format!(
            "/api/statistics?demarche={COMPLEXE}&from=2026-04-01&to=2026-04-30&untaken_days=0"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(april["received"]["total"], 1);
    assert_eq!(april["untaken"]["count"], 2, "G and L, now: not the period");
    assert_eq!(april["closed"]["total"], 0);
    assert_eq!(april["processing_time"]["median_days"], Value::Null);
    assert_eq!(april["deadline"]["share"], Value::Null);
    assert_eq!(april["satisfaction"]["answers"], 1, "H");
    assert_eq!(
        april["satisfaction"]["questions"][0]["choices"][3],
        json!({ "choice": "Autre", "count": 1 })
    );

    // The lists behind the counts.
    let late = qualite
        .get(&format!("/api/statistics/late?demarche={COMPLEXE}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(numeros(&late), [numero('J')]);
    assert_eq!(late["rows"][0]["late"], true);
    assert_eq!(late["rows"][0]["reminder"], 21);
    let untaken = qualite
        .get(&format!("/api/statistics/untaken?demarche={COMPLEXE}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(numeros(&untaken), [numero('G')]);
    let untaken_now = qualite
        .get(&format!(
            "/api/statistics/untaken?demarche={COMPLEXE}&days=0"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(numeros(&untaken_now), [numero('G'), numero('L')]);

    // Ten days later A, C, D, F and I are archived (27 days after
    // closing): their closings still count as they closed.
    app.at_day(40.0).await;
    let later = qualite
        .get(&format!("/api/statistics?demarche={COMPLEXE}&{MARCH}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        by_status(&later),
        pairs(&[
            ("transmise", 1),
            ("en_cours_analyse", 2),
            ("traitee", 3),
            ("archivee", 5),
        ])
    );
    for block in ["closed", "processing_time", "deadline", "satisfaction"] {
        assert_eq!(later[block], stats[block], "{block}");
    }
}

async fn the_csv_export_neutralises_cells_that_would_be_formulas(app: TestApp) {
    let title = "=HYPERLINK(\"https://pirate.example\";\"Aide\")";
    import_complexe(&app, "velo-formule", title).await;
    app.grant(QUALITE, Some("velo-formule")).await;
    app.grant(MOBILITES, Some("velo-formule")).await;
    let qualite = app.agent("qualite@ville.test", &[QUALITE]).await;
    let mobilites = app.agent("mobilites@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let id = file_on(&usager, "velo-formule").await;
    step(&mobilites, &id, "receptionner").await;
    app.at_day(2.5).await;
    close(&mobilites, &id).await;
    answer_survey(&app, &id, 4, Some("Autre")).await;

    let reply = qualite
        .get(&format!(
            "/api/statistics.csv?demarche=velo-formule&{MARCH}"
        ))
        .await;

    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.bytes.clone()).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let lines: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let line = |section: &str, figure: &str| -> String {
        lines
            .iter()
            .find(|l| l[0] == section && l[1] == figure)
            .unwrap_or_else(|| panic!("no line {section} / {figure} in {lines:?}"))[2]
            .clone()
    };
    assert_eq!(
        line("Périmètre", "Démarche"),
        format!("'{title} (velo-formule)")
    );
    assert!(
        lines.iter().flatten().all(|cell| !cell.starts_with('=')),
        "{lines:?}"
    );
    assert_eq!(line("Périmètre", "Du"), "01/03/2026");
    assert_eq!(line("Demandes reçues sur la période", "Total"), "1");
    assert_eq!(
        line(
            "Demandes reçues sur la période",
            "Statut actuel : Demande traitée"
        ),
        "1"
    );
    assert_eq!(line("Demandes clôturées sur la période", "Traitées"), "1");
    let survey = "Satisfaction (enquête)";
    assert_eq!(line(survey, "Réponses"), "1");
    assert_eq!(line(survey, "Note moyenne (sur 5)"), "4,00");
    assert_eq!(line(survey, "Note 4 sur 5"), "1");
    assert_eq!(
        line(
            survey,
            "Comment avez-vous connu cette aide ? (velo-formule) : Autre"
        ),
        "1"
    );
    assert_eq!(
        line(
            "Délai de traitement (hors mise en attente)",
            "Médiane (jours)"
        ),
        "2,50"
    );
    assert_eq!(
        line(
            "Délai de traitement de 27 jours",
            "Part traitée dans le délai (%)"
        ),
        "100,0"
    );
}

async fn only_quality_and_administrators_read_statistics(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    app.grant(QUALITE, Some(VELO)).await;
    app.grant("Obs_SVL_DGS_GRU", Some(VELO)).await;
    app.grant("Admin_SVL_DSI_SI", None).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let observateur = app
        .agent("observateur@ville.test", &["Obs_SVL_DGS_GRU"])
        .await;
    let qualite = app.agent("qualite@ville.test", &[QUALITE]).await;
    let admin = app.agent("admin@ville.test", &["Admin_SVL_DSI_SI"]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    let paths = [
        format!("/api/statistics?demarche={VELO}"),
        format!("/api/statistics.csv?demarche={VELO}"),
        format!("/api/statistics/late?demarche={VELO}"),
        format!("/api/statistics/untaken?demarche={VELO}"),
        "/api/statistics".to_owned(),
    ];

    for path in &paths {
        for (who, client) in [
            ("gestionnaire", &gestionnaire),
            ("observateur", &observateur),
        ] {
            let refused = client.get(path).await;
            assert_eq!(
                (refused.status, refused.code()),
                (403, "forbidden"),
                "{who} {path}"
            );
        }
        assert_eq!(usager.get(path).await.status, 403, "usager {path}");
        assert_eq!(
            app.anonymous().get(path).await.status,
            401,
            "anonymous {path}"
        );
        qualite.get(path).await.expect(200);
        admin.get(path).await.expect(200);
    }
    // A démarche the Qualité group is not granted on, or none at all.
    let other = qualite.get("/api/statistics?demarche=inconnue").await;
    assert_eq!((other.status, other.code()), (403, "forbidden"));
    // A period that ends before it starts; a service that is no group.
    let backwards = qualite
        .get(&format!(
            "/api/statistics?demarche={VELO}&from=2026-03-31&to=2026-03-01"
        ))
        .await;
    assert_eq!(backwards.status, 422);
    assert_eq!(backwards.field_errors(), ["to:date_trop_tot"]);
    let bad_service = qualite
        .get(&format!(
            "/api/statistics?demarche={VELO}&service=Mobilites"
        ))
        .await;
    assert_eq!(bad_service.field_errors(), ["service:service_invalide"]);
    let bad_date = qualite
        .get(&format!("/api/statistics?demarche={VELO}&from=01/03/2026"))
        .await;
    assert_eq!((bad_date.status, bad_date.code()), (400, "invalid_request"));
}

async fn the_processing_table_flags_filters_and_sorts_by_reminder(app: TestApp) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    // Day 0: X taken; day 1: Z filed and never taken; day 7: Y taken;
    // day 8: W taken and processed on day 9.
    let x = file_velo(&usager).await;
    step(&gestionnaire, &x, "prendre_en_compte").await;
    app.at_day(1.0).await;
    let z = file_velo(&usager).await;
    app.at_day(7.0).await;
    let y = file_velo(&usager).await;
    step(&gestionnaire, &y, "prendre_en_compte").await;
    app.at_day(8.0).await;
    let w = file_velo(&usager).await;
    step(&gestionnaire, &w, "prendre_en_compte").await;
    step(&gestionnaire, &w, "accepter").await;
    app.at_day(9.0).await;
    run(
        &gestionnaire,
        &w,
        "cloturer",
        json!({ "closing_comment": "Aide versée.", "confirmed": true }),
    )
    .await;
    // Day 23: X has had its 15- and 21-day reminders, Y its 15-day one;
    // neither is late (27 days).
    app.at_day(23.0).await;
    let numero = |id: &str| {
        let gestionnaire = gestionnaire.clone();
        let id = id.to_owned();
        async move {
            agent_view(&gestionnaire, &id).await["numero"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (x, y, z, w) = (
        numero(&x).await,
        numero(&y).await,
        numero(&z).await,
        numero(&w).await,
    );
    let table = |query: &str| {
        let gestionnaire = gestionnaire.clone();
        let path = format!("/api/agent/demandes?demarche={VELO}{query}");
        async move { gestionnaire.get(&path).await.expect(200).clone() }
    };

    let all = table("").await;
    let flags: Vec<(String, Value, Value)> = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["numero"].as_str().unwrap().to_owned(),
                row["reminder"].clone(),
                row["late"].clone(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            (x.clone(), json!(21), json!(false)),
            (y.clone(), json!(15), json!(false)),
            (w.clone(), Value::Null, json!(false)),
            (z.clone(), Value::Null, json!(false)),
        ],
        "by deadline: X (day 27), Y (day 34), W (closed, day 35), Z (none)"
    );
    assert_eq!(
        numeros(&table("&reminder=15").await),
        [x.clone(), y.clone()]
    );
    assert_eq!(numeros(&table("&reminder=21").await), [x.as_str()]);
    assert_eq!(numeros(&table("&reminder=0").await), [w.clone(), z.clone()]);
    assert_eq!(
        numeros(&table("&sort=reminder").await),
        [x.clone(), y.clone(), w.clone(), z.clone()]
    );
    assert_eq!(
        numeros(&table("&sort=reminder&reminder=15&offset=1").await),
        [y.as_str()]
    );
    let bad_sort = gestionnaire
        .get(&format!("/api/agent/demandes?demarche={VELO}&sort=urgence"))
        .await;
    assert_eq!(bad_sort.status, 400);
}
