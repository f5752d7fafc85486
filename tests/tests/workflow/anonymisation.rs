//! Anonymisation at 1 year (simple) and 2 years (complexe) after closing,
//! then the proof: no personal value of the demande remains in any text
//! column of any table, nor in the file storage. The only row still holding
//! the usager's identity is their own account (`users`), which lives as
//! long as they keep it (and the anonymisation notice, until it is
//! delivered).
//!
//! Live rows are checked in clear: personal values are sealed with the
//! demande's key (`guichet_store::seal`), so a sealed value left behind by
//! an anonymisation would hide them. The proof therefore also checks that
//! nothing sealed is left, apart from the anonymisation notice not yet
//! delivered, whose job has a key of its own.
//!
//! Then the bytes: before and after the run, none of the recognisable
//! values of two demandes (phone, IBAN, closing comment, refusal reason, an
//! answer only the deleted draft held, a file name; new ones each run) can
//! be read from the database's files — SQLite's main file and WAL, or
//! PostgreSQL's data files and WAL segments — nor, after the run, from the
//! file storage; while the usager's login, kept in clear in their account,
//! is found there (so the scan would find a value in clear).

use guichet_store::job::NOTIFICATION_JOB;
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
    let sealed: Vec<(String, String)> = app
        .every_stored_text()
        .await
        .into_iter()
        .filter(|(column, value)| {
            // A connector instance's secrets are sealed under the
            // instance's own key, which lives as long as the instance.
            value.starts_with(guichet_store::seal::SEALED_PREFIX)
                && column != "jobs.payload"
                && column != "connector_instances.secrets"
        })
        .collect();
    assert!(
        sealed.is_empty(),
        "sealed values left, whose key is destroyed: {sealed:#?}"
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
    connect_atal(&app).await;
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
    assert_eq!(view["answers"]["categorie"]["value"], "20");

    // The anonymisation notice holds the usager's contact until delivered.
    deliver_every_job(&app).await;
    assert_nothing_personal_remains(&app).await;
}

/// Delivers every job ready, as the delivery worker would.
async fn deliver_every_job(app: &TestApp) {
    let now = app.clock_now();
    for job in app
        .store
        .claim_jobs("test-worker", &[NOTIFICATION_JOB], now, 1000)
        .await
        .unwrap()
    {
        app.store
            .complete_job(job.id, "test-worker", now)
            .await
            .unwrap();
    }
}

/// Values of two demandes that must not be readable on disk, each as the
/// forms it may be stored in; new ones each run, so that what an earlier
/// run (or an earlier build) left in a shared PostgreSQL WAL cannot be
/// found again.
struct Recognisable {
    phone: String,
    iban: String,
    token: String,
    values: Vec<(&'static str, Vec<String>)>,
}

impl Recognisable {
    fn new() -> Recognisable {
        let digits: String = uuid::Uuid::new_v4()
            .as_u128()
            .to_string()
            .chars()
            .take(32)
            .collect();
        let token: String = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let phone = format!(
            "07 98 {} {} {}",
            &digits[0..2],
            &digits[2..4],
            &digits[4..6]
        );
        let compact = phone.replace(' ', "");
        let bban = format!("{}{}", &digits[6..16], &digits[16..29]);
        let iban = french_iban(&bban);
        let spaced: Vec<String> = iban
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let values = vec![
            (
                "phone",
                vec![
                    phone.clone(),
                    format!("+33{}", &compact[1..]),
                    compact.clone(),
                ],
            ),
            ("IBAN", vec![iban.clone(), spaced.join(" ")]),
            ("closing comment", vec![format!("Clôture {token}")]),
            ("refusal reason", vec![format!("Refus motivé {token}")]),
            (
                "answer only the draft held",
                vec![format!("Atelier Brouillon {token}")],
            ),
            ("file name", vec![format!("facture-{token}")]),
        ];
        Recognisable {
            phone,
            iban,
            token,
            values,
        }
    }

    /// The values found in `files`.
    fn found_in(&self, files: &[(std::path::PathBuf, Vec<u8>)]) -> Vec<&'static str> {
        self.values
            .iter()
            .filter(|(_, forms)| forms.iter().any(|form| contains(files, form)))
            .map(|(what, _)| *what)
            .collect()
    }
}

/// Whether any of `files` holds `text`.
fn contains(files: &[(std::path::PathBuf, Vec<u8>)], text: &str) -> bool {
    files.iter().any(|(_, bytes)| {
        bytes
            .windows(text.len())
            .any(|window| window == text.as_bytes())
    })
}

/// The French IBAN of a 23-digit BBAN, with its check digits (ISO 13616:
/// the BBAN then `FR00` as digits, modulo 97).
fn french_iban(bban: &str) -> String {
    let rearranged = format!("{bban}152700");
    let rest = rearranged.chars().fold(0u32, |rest, digit| {
        (rest * 10 + digit.to_digit(10).unwrap_or(0)) % 97
    });
    format!("FR{:02}{bban}", 98 - rest)
}

/// Files a vélo demande with the recognisable values; returns its id.
async fn file_recognisable_velo(
    usager: &Client,
    values: &Recognisable,
    reparateur: &str,
) -> String {
    let draft = open_draft(usager, VELO).await;
    save_page(
        usager,
        &draft,
        "identite",
        json!({
            "prenom": "Albertine",
            "nom": "Zwolinski",
            "courriel": "albertine.zwolinski@exemple.test",
            "telephone": values.phone,
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
            Some((
                format!("facture-{}.pdf", values.token).as_str(),
                pdf("facture Zwolinski"),
            )),
        )
        .await
        .expect(201);
    let mut repair = json!({
        "type_velo": "classique",
        "date_reparation": "2026-02-20",
        "reparateur": format!("Atelier Brouillon {}", values.token),
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
                "iban": values.iban, "attestation": true }),
    )
    .await;
    submit(usager, &draft).await
}

async fn no_personal_byte_survives_an_anonymisation_run_on_disk(app: TestApp) {
    app.import("aide-reparation-velo").await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = usager(&app).await;
    let values = Recognisable::new();

    let closed = file_recognisable_velo(&usager, &values, "Cycles Zwolinski").await;
    step(&gestionnaire, &closed, "prendre_en_compte").await;
    step(&gestionnaire, &closed, "accepter").await;
    act(
        &gestionnaire,
        &closed,
        json!({ "transition": "cloturer", "inputs": {
            "closing_comment": format!("Clôture {}", values.token), "confirmed": true } }),
    )
    .await
    .expect(200);
    let refused = file_recognisable_velo(&usager, &values, "Cycles Zwolinski").await;
    step(&gestionnaire, &refused, "prendre_en_compte").await;
    act(
        &gestionnaire,
        &refused,
        json!({ "transition": "refuser", "inputs": {
            "refusal_type": "refusee",
            "justification": format!("Refus motivé {}", values.token),
            "confirmed": true } }),
    )
    .await
    .expect(200);
    // The values are there, readable through the API...
    let views = format!(
        "{}{}",
        agent_view(&gestionnaire, &closed).await,
        agent_view(&gestionnaire, &refused).await
    );
    for (what, forms) in &values.values {
        if *what != "answer only the draft held" {
            assert!(
                forms.iter().any(|form| views.contains(form.as_str())),
                "{what} shown to the agent"
            );
        }
    }
    assert!(
        !app.stored_files().is_empty(),
        "the invoices are in the file storage"
    );
    // ...but never in clear in the database's files, while the scan finds
    // what is kept in clear (the usager's login, in their account).
    let database = app.database_files().await;
    assert!(
        contains(&database, "albertine.zwolinski@exemple.test"),
        "the scan reads the database's files"
    );
    assert_eq!(
        values.found_in(&database),
        Vec::<&str>::new(),
        "in clear in the database's files before the run"
    );

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
            values
                .values
                .iter()
                .any(|(_, forms)| forms.iter().any(|form| value.contains(form.as_str())))
        })
        .collect();
    assert!(live.is_empty(), "{live:#?}");
    assert_eq!(app.count("data_keys").await, 0, "every key destroyed");
    assert_eq!(
        values.found_in(&app.database_files().await),
        Vec::<&str>::new(),
        "readable in the database's files after the run"
    );
}
