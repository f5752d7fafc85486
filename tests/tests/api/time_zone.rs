//! Calendar dates in the collectivité's time zone, through the API: a
//! démarche opens at local midnight on its first day and stays open until
//! local midnight at the end of its last; `today` and demande numbers follow
//! the local date; deadlines written in histories are counted in calendar
//! days across the daylight-saving changes; anonymisation « 1 an » after
//! closing is a calendar year; an overseas collectivité counts in its zone.

use chrono::{DateTime, TimeZone, Utc};
use guichet_core::calendar::Zone;
use guichet_core::id::DemandeId;

use guichet_tests::app::{Backend, Client, TestApp, pdf, run_in_zone};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(
    the_velo_demarche_opens_at_local_midnight_on_new_years_day,
    the_last_day_is_open_until_local_midnight,
    deadlines_in_texts_are_calendar_days_across_daylight_saving,
    anonymisation_after_one_year_is_a_calendar_year,
);

/// Runs each `async fn(TestApp)` on both backends for a collectivité in
/// the time zone `$zone`.
macro_rules! in_zone_on_both_backends {
    ($zone:literal: $($name:ident),+ $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run_in_zone(Backend::Sqlite, Zone::parse($zone).unwrap(), super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run_in_zone(Backend::Postgres, Zone::parse($zone).unwrap(), super::$name).await;
            }
        }
    )+};
}

in_zone_on_both_backends!("Indian/Reunion": a_reunion_collectivite_opens_at_its_own_midnight);

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Puts the clock at `instant` and renews every session.
async fn at(app: &TestApp, instant: DateTime<Utc>) {
    app.clock.set(instant);
    app.log_everyone_in_again().await;
}

async fn open_velo(usager: &Client) -> Value {
    usager
        .post("/api/drafts", json!({ "demarche": VELO }))
        .await
        .body
        .clone()
}

async fn draft_status(usager: &Client) -> (u16, String) {
    let reply = usager
        .post("/api/drafts", json!({ "demarche": VELO }))
        .await;
    (reply.status, reply.code().to_owned())
}

/// Fills and files a vélo demande repaired on `repaired` (`JJ/MM/AAAA`);
/// returns its id.
async fn file_velo_repaired_on(usager: &Client, repaired: &str) -> String {
    let draft = open_draft(usager, VELO).await;
    usager
        .post_form(
            &format!("/api/drafts/{draft}/files/facture"),
            &[],
            Some(("facture.pdf", pdf("facture"))),
        )
        .await
        .expect(201);
    let mut repair = velo_repair();
    repair["date_reparation"] = json!(repaired);
    save_page(usager, &draft, "reparation", repair).await;
    save_page(
        usager,
        &draft,
        "versement",
        json!({ "titulaire_compte": "Camille Martin", "iban": "FR76 3000 6000 0112 3456 7890 189", "attestation": true }),
    )
    .await;
    submit(usager, &draft).await
}

async fn setup(app: &TestApp) -> (Client, Client) {
    app.import(VELO).await;
    app.grant(MOBILITES, Some(VELO)).await;
    let gestionnaire = app.agent("gestionnaire@ville.test", &[MOBILITES]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    (usager, gestionnaire)
}

async fn the_velo_demarche_opens_at_local_midnight_on_new_years_day(app: TestApp) {
    at(&app, utc(2025, 12, 31, 22, 59)).await; // 23:59 in Paris
    let (usager, _) = setup(&app).await;
    assert_eq!(
        draft_status(&usager).await,
        (409, "demarche_closed".to_owned())
    );
    let catalogue = app.anonymous().get("/api/demarches").await;
    assert!(!catalogue.body.to_string().contains(VELO), "not listed yet");

    at(&app, utc(2025, 12, 31, 23, 30)).await; // 1 January 2026, 00:30 in Paris
    let catalogue = app.anonymous().get("/api/demarches").await;
    assert!(
        catalogue.body.to_string().contains(VELO),
        "listed: {}",
        catalogue.body
    );
    let detail = app.anonymous().get(&format!("/api/demarches/{VELO}")).await;
    assert_eq!(detail.body["open"], json!(true), "{}", detail.body);
    // A repair of « today », 1 January, is not in the future.
    let demande = file_velo_repaired_on(&usager, "01/01/2026").await;
    let numero = usager_view(&usager, &demande).await["numero"].clone();
    assert!(
        numero.as_str().unwrap().contains("-2026-"),
        "numbered in the local year: {numero}"
    );
}

async fn the_last_day_is_open_until_local_midnight(app: TestApp) {
    at(&app, utc(2027, 12, 31, 22, 30)).await; // 31 December 2027, 23:30 in Paris
    let (usager, _) = setup(&app).await;
    let opened = open_velo(&usager).await;
    assert!(opened["id"].is_string(), "{opened}");
    let demande = file_velo_repaired_on(&usager, "20/02/2026").await;
    assert!(!demande.is_empty());

    at(&app, utc(2027, 12, 31, 23, 0)).await; // 1 January 2028, 00:00 in Paris
    assert_eq!(
        draft_status(&usager).await,
        (409, "demarche_closed".to_owned())
    );
}

/// The agents' history texts of a demande.
async fn history_texts(agent: &Client, demande: &str) -> Vec<String> {
    agent_view(agent, demande).await["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["text"].as_str().map(str::to_owned))
        .collect()
}

/// Files a demande and takes it at `taken`; returns its id.
async fn taken_at(app: &TestApp, usager: &Client, agent: &Client, taken: DateTime<Utc>) -> String {
    at(app, taken).await;
    let demande = file_velo_repaired_on(usager, "20/02/2026").await;
    step(agent, &demande, "prendre_en_compte").await;
    demande
}

async fn deadlines_in_texts_are_calendar_days_across_daylight_saving(app: TestApp) {
    let (usager, gestionnaire) = setup(&app).await;
    // Spring: summer time starts on 29 March 2026. Taken at 23:30 CET, the
    // deadline is 27 days later at 23:30 CEST, still 16 April; taken an
    // hour later, after local midnight, it is 17 April (16 April in UTC).
    let late_evening = taken_at(&app, &usager, &gestionnaire, utc(2026, 3, 20, 22, 30)).await;
    let after_midnight = taken_at(&app, &usager, &gestionnaire, utc(2026, 3, 20, 23, 30)).await;
    // The reminders at 15 days write the deadline.
    app.clock.set(utc(2026, 4, 6, 12, 0));
    app.fire_due_timers().await;
    app.log_everyone_in_again().await;
    assert_reminder_says(&gestionnaire, &late_evening, "16/04/2026").await;
    assert_reminder_says(&gestionnaire, &after_midnight, "17/04/2026").await;

    // Autumn: winter time starts on 25 October 2026. Taken on 5 October at
    // 00:30 CEST (4 October in UTC): deadline 1 November 00:30 CET, which
    // is still 31 October in UTC.
    let autumn = taken_at(&app, &usager, &gestionnaire, utc(2026, 10, 4, 22, 30)).await;
    app.clock.set(utc(2026, 10, 20, 12, 0));
    app.fire_due_timers().await;
    app.log_everyone_in_again().await;
    assert_reminder_says(&gestionnaire, &autumn, "01/11/2026").await;
}

async fn assert_reminder_says(agent: &Client, demande: &str, deadline: &str) {
    let texts = history_texts(agent, demande).await;
    let reminder = texts
        .iter()
        .find(|t| t.starts_with("Relance"))
        .unwrap_or_else(|| panic!("no reminder in {texts:?}"));
    assert!(
        reminder.contains(&format!("échéance le {deadline}")),
        "{reminder} should say {deadline}"
    );
}

async fn anonymisation_after_one_year_is_a_calendar_year(app: TestApp) {
    at(&app, utc(2027, 3, 1, 9, 0)).await;
    let (usager, gestionnaire) = setup(&app).await;
    let demande = file_velo_repaired_on(&usager, "20/02/2026").await;
    for transition in ["prendre_en_compte", "accepter", "commencer_traitement"] {
        step(&gestionnaire, &demande, transition).await;
    }
    act(
        &gestionnaire,
        &demande,
        json!({ "transition": "cloturer", "inputs": { "closing_comment": "Aide versée.", "confirmed": true } }),
    )
    .await
    .expect(200);
    let status = |app: &TestApp| {
        let id = DemandeId::from_uuid(demande.parse().unwrap());
        let store = app.store.clone();
        async move {
            store
                .demande(id)
                .await
                .unwrap()
                .demande
                .status
                .into_string()
        }
    };

    // 365 days after 1 March 2027 is 29 February 2028: not a year yet.
    app.clock.set(utc(2028, 2, 29, 22, 0));
    app.fire_due_timers().await;
    assert_eq!(status(&app).await, "archivee");
    // 1 March 2028, 10:00 in Paris: one calendar year after closing.
    app.clock.set(utc(2028, 3, 1, 9, 0));
    app.fire_due_timers().await;
    assert_eq!(status(&app).await, "anonymisee");
}

async fn a_reunion_collectivite_opens_at_its_own_midnight(app: TestApp) {
    at(&app, utc(2025, 12, 31, 19, 59)).await; // 23:59 in Réunion, 20:59 in Paris
    let (usager, gestionnaire) = setup(&app).await;
    assert_eq!(
        draft_status(&usager).await,
        (409, "demarche_closed".to_owned())
    );

    at(&app, utc(2025, 12, 31, 20, 30)).await; // 1 January 2026, 00:30 in Réunion
    let demande = file_velo_repaired_on(&usager, "01/01/2026").await;
    let numero = usager_view(&usager, &demande).await["numero"].clone();
    assert!(numero.as_str().unwrap().contains("-2026-"), "{numero}");

    // Taken on 2 January at 00:30 in Réunion (1 January 20:30 UTC): the
    // deadline is 29 January at 00:30 there, still the 28th in UTC and in
    // Paris.
    at(&app, utc(2026, 1, 1, 20, 30)).await;
    step(&gestionnaire, &demande, "prendre_en_compte").await;
    app.clock.set(utc(2026, 1, 17, 12, 0));
    app.fire_due_timers().await;
    app.log_everyone_in_again().await;
    let texts = history_texts(&gestionnaire, &demande).await;
    assert!(
        texts.iter().any(|t| t.contains("échéance le 29/01/2026")),
        "{texts:?}"
    );
}
