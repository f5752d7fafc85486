//! Anonymisation at 1 year (simple) and 2 years (complexe) after closing,
//! then the proof: no personal value of the demande remains in any text
//! column of any table, nor in the file storage. The only row still holding
//! the usager's identity is their own account (`users`), which lives as
//! long as they keep it (and the anonymisation notice, until it is
//! delivered).
//!
//! Then the bytes: after the run, none of the recognisable values of two
//! demandes (phone, IBAN, closing comment, refusal reason, an answer only
//! the deleted draft held, a file name) can be read from the SQLite file
//! and its WAL, nor from the file storage. On PostgreSQL the live rows and
//! the file storage are checked; its data and WAL files are not (old row
//! versions stay there until vacuumed and recycled — see the store's docs).

use guichet_tests::app::{Client, TestApp, jpeg, pdf};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

on_both_backends!(
    simple_demande_is_anonymised_after_one_year_and_nothing_personal_remains,
    complexe_demande_is_anonymised_after_two_years_and_nothing_personal_remains,
    no_personal_byte_survives_an_anonymisation_run_on_disk,
);

/// The values that identify the usager or come from them or about them.
const PERSONAL: [&str; 14] = [
    "Albertine",
    "Zwolinski",
    "albertine.zwolinski@exemple.test",
    "06 12 34 56 78",
    "+33612345678",
    "République",
    "Marseille",
    "FR7630006000",
    "Cycles Zwolinski",
    "vélo de ma fille",
    "depuis une semaine",
    "12 bis",
    "lampadaire 1207",
    "plan du quartier",
];

/// Markers written inside the files the usager and the agents attached.
const FILE_MARKERS: [&str; 4] = [
    "facture Zwolinski",
    "RIB Zwolinski",
    "plan du quartier",
    "lampadaire 1207",
];

/// The usager's own account, which anonymising a demande does not touch.
const ACCOUNT_COLUMNS: [&str; 3] = ["users.login", "users.display_name", "users.profile"];

async fn usager(app: &TestApp) -> Client {
    app.usager("Albertine", "Zwolinski", "albertine.zwolinski@exemple.test")
        .await
}

async fn assert_nothing_personal_remains(app: &TestApp) {
    let leaks: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(_, value)| PERSONAL.iter().any(|p| value.contains(p)))
        .collect();
    let outside_account: Vec<&(String, String)> = leaks
        .iter()
        .filter(|(column, _)| !ACCOUNT_COLUMNS.contains(&column.as_str()))
        .collect();
    assert!(
        outside_account.is_empty(),
        "personal values left outside the usager's account: {outside_account:#?}"
    );
    for (path, content) in app.stored_files() {
        let text = String::from_utf8_lossy(&content);
        assert!(
            !FILE_MARKERS.iter().any(|m| text.contains(m)),
            "file left in storage: {}",
            path.display()
        );
    }
    assert!(app.stored_files().is_empty(), "the storage holds no file");
}

async fn simple_demande_is_anonymised_after_one_year_and_nothing_personal_remains(app: TestApp) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = usager(&app).await;

    let draft = open_draft(&usager, VELO).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", pdf("facture Zwolinski"))),
        )
        .await
        .expect(201);
    save_page(
        &usager,
        &draft,
        "reparation",
        json!({
            "type_velo": "classique",
            "date_reparation": "2026-02-20",
            "reparateur": "Cycles Zwolinski",
            "montant": 60
        }),
    )
    .await;
    save_page(
        &usager,
        &draft,
        "versement",
        json!({ "titulaire_compte": "Albertine Zwolinski", "iban": "FR7630006000011234567890189", "attestation": true }),
    )
    .await;
    let id = submit(&usager, &draft).await;

    step(&gestionnaire, &id, "prendre_en_compte").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "echanger", "inputs": { "message": "Merci de joindre le RIB de Mme Zwolinski." } }),
    )
    .await
    .expect(200);
    usager
        .post_form(
            &format!("/api/demandes/{id}/reply"),
            &[("message", "Voici le RIB, pour le vélo de ma fille.")],
            Some(("rib.pdf", pdf("RIB Zwolinski"))),
        )
        .await
        .expect(200);
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Aide versée à Mme Zwolinski.", "confirmed": true } }),
    )
    .await
    .expect(200);
    assert_eq!(app.stored_files().len(), 2);

    app.at_day(7.1).await;
    app.at_day(364.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    app.at_day(365.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["status"]["id"], "anonymisee");
    assert_eq!(view["usager"], serde_json::Value::Null);
    assert_eq!(
        view["answers"],
        json!({
            "attestation": { "type": "checkbox", "value": true },
            "type_velo": { "type": "choice", "value": "classique" }
        }),
        "only what statistics need is kept"
    );
    assert_eq!(
        usager_view(&usager, &id).await["status"]["id"],
        "anonymisee",
        "the usager follows their demande to its anonymisation"
    );

    assert_nothing_personal_remains(&app).await;
}

async fn complexe_demande_is_anonymised_after_two_years_and_nothing_personal_remains(app: TestApp) {
    app.import("signalement-voie-publique").await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = usager(&app).await;

    let id = file_signalement(&usager, Some(jpeg("lampadaire 1207"))).await;
    step(&gestionnaire, &id, "receptionner").await;
    let action = json!({ "transition": "echanger", "inputs": {
        "message": "Est-ce bien devant le 12 bis ?" } })
    .to_string();
    gestionnaire
        .post_form(
            &format!("/api/agent/demandes/{id}/actions"),
            &[("action", &action)],
            Some(("plan.pdf", pdf("plan du quartier"))),
        )
        .await
        .expect(200);
    usager
        .post(
            &format!("/api/demandes/{id}/reply"),
            json!({ "message": "Oui, au 12 bis, Albertine Zwolinski." }),
        )
        .await
        .expect(200);
    step(&gestionnaire, &id, "accepter").await;
    act(
        &gestionnaire,
        &id,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Réparé, merci Mme Zwolinski.", "confirmed": true } }),
    )
    .await
    .expect(200);

    app.at_day(27.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    app.at_day(365.1).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    // Two calendar years after closing on 2 March 2026: 2 March 2028, 731
    // days later (2028 is a leap year).
    app.at_day(730.9).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "archivee"
    );
    app.at_day(731.1).await;
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["status"]["id"], "anonymisee");
    assert_eq!(view["answers"]["categorie"]["value"], "eclairage");

    // The anonymisation notice holds the usager's contact until delivered.
    deliver_every_job(&app).await;
    assert_nothing_personal_remains(&app).await;
}

/// Delivers every job ready, as the delivery worker would.
async fn deliver_every_job(app: &TestApp) {
    let now = app.clock_now();
    for job in app
        .store
        .claim_jobs("test-worker", now, 1000)
        .await
        .unwrap()
    {
        app.store
            .complete_job(job.id, "test-worker", now)
            .await
            .unwrap();
    }
}

/// Values of two demandes that must not survive on disk, each as the forms
/// it may be stored in.
const ON_DISK: [(&str, &[&str]); 6] = [
    ("phone", &["07 98 76 54 32", "+33798765432", "0798765432"]),
    (
        "IBAN",
        &[
            "FR7614508000594172583690425",
            "FR76 1450 8000 5941 7258 3690 425",
        ],
    ),
    ("closing comment", &["Clôture Quatorze-Zwolinski"]),
    ("refusal reason", &["Refus motivé Quinze-Zwolinski"]),
    ("answer only the draft held", &["Atelier Brouillon Seize"]),
    ("file name", &["facture-dix-sept"]),
];

/// The values of [`ON_DISK`] found in `files`.
fn found_in(files: &[(std::path::PathBuf, Vec<u8>)]) -> Vec<&'static str> {
    ON_DISK
        .iter()
        .filter(|(_, forms)| {
            files.iter().any(|(_, bytes)| {
                forms.iter().any(|form| {
                    bytes
                        .windows(form.len())
                        .any(|window| window == form.as_bytes())
                })
            })
        })
        .map(|(what, _)| *what)
        .collect()
}

/// Files a vélo demande with the recognisable values; returns its id.
async fn file_recognisable_velo(usager: &Client, reparateur: &str) -> String {
    let draft = open_draft(usager, VELO).await;
    save_page(
        usager,
        &draft,
        "identite",
        json!({
            "prenom": "Albertine",
            "nom": "Zwolinski",
            "courriel": "albertine.zwolinski@exemple.test",
            "telephone": "07 98 76 54 32",
            "adresse": {
                "street": "12 rue de la République",
                "postcode": "13001",
                "city": "Marseille"
            }
        }),
    )
    .await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture-dix-sept.pdf", pdf("facture Zwolinski"))),
        )
        .await
        .expect(201);
    let mut repair = json!({
        "type_velo": "classique",
        "date_reparation": "2026-02-20",
        "reparateur": "Atelier Brouillon Seize",
        "montant": 60
    });
    save_page(usager, &draft, "reparation", repair.clone()).await;
    repair["reparateur"] = json!(reparateur);
    save_page(usager, &draft, "reparation", repair).await;
    save_page(
        usager,
        &draft,
        "versement",
        json!({ "titulaire_compte": "Albertine Zwolinski",
                "iban": "FR7614508000594172583690425", "attestation": true }),
    )
    .await;
    submit(usager, &draft).await
}

async fn no_personal_byte_survives_an_anonymisation_run_on_disk(app: TestApp) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = usager(&app).await;

    let closed = file_recognisable_velo(&usager, "Cycles Zwolinski").await;
    step(&gestionnaire, &closed, "prendre_en_compte").await;
    step(&gestionnaire, &closed, "accepter").await;
    act(
        &gestionnaire,
        &closed,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": "Clôture Quatorze-Zwolinski", "confirmed": true } }),
    )
    .await
    .expect(200);
    let refused = file_recognisable_velo(&usager, "Cycles Zwolinski").await;
    step(&gestionnaire, &refused, "prendre_en_compte").await;
    act(
        &gestionnaire,
        &refused,
        json!({ "transition": "refuser", "inputs": {
            "refusal_type": "refusee",
            "justification": "Refus motivé Quinze-Zwolinski",
            "confirmed": true } }),
    )
    .await
    .expect(200);
    let files_before = app.stored_files();
    assert!(
        !files_before.is_empty(),
        "the invoices are in the file storage"
    );
    if let Some(database) = app.sqlite_files() {
        assert_eq!(
            found_in(&database),
            ON_DISK.iter().map(|(what, _)| *what).collect::<Vec<_>>(),
            "every value is on disk before (or this test could not fail)"
        );
    }

    app.at_day(365.1).await;
    for id in [&closed, &refused] {
        assert_eq!(
            agent_view(&gestionnaire, id).await["status"]["id"],
            "anonymisee"
        );
    }
    assert!(app.stored_files().is_empty(), "no file left in the storage");
    let live: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(_, value)| {
            ON_DISK
                .iter()
                .any(|(_, forms)| forms.iter().any(|form| value.contains(form)))
        })
        .collect();
    assert!(live.is_empty(), "{live:#?}");
    if let Some(database) = app.sqlite_files() {
        assert_eq!(
            found_in(&database),
            Vec::<&str>::new(),
            "readable in the SQLite file or its WAL after the run"
        );
    }
}
