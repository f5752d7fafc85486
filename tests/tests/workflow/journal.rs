//! The durable journal of connector calls and the dead letters: every
//! exchange of a transmission and of the readings of the vendor's record is
//! written with its job's outcome, names its demande and its job, takes its
//! time from the platform's clock (fake here), is read by administrators
//! per instance, connector or demande and by the demande's agents, and is
//! erased with the demande's personal data; a failed transmission an
//! administrator abandons leaves the dead letters for good and reads
//! *abandonnée* to agents.

use guichet_core::id::DemandeId;
use guichet_host::service::synchronisation::SYNC_JOB;
use guichet_host::service::transmission::TRANSMIT_JOB;
use guichet_store::connector::{CallQuery, ConnectorCall};
use guichet_store::job::JobStatus;
use guichet_tests::app::{Client, TestApp};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;
use serde_json::json;

use super::transmission::setup;

on_both_backends!(
    every_exchange_of_a_transmission_and_its_readings_is_journaled_with_its_job,
    anonymising_a_demande_erases_what_its_connector_calls_recorded,
    an_abandoned_transmission_leaves_the_dead_letters_for_good,
);

async fn admin(app: &TestApp) -> Client {
    app.grant("Admin_SVL_DSI_Guichet", None).await;
    app.agent("admin@ville.test", &["Admin_SVL_DSI_Guichet"])
        .await
}

/// The journal of a demande, oldest first (same instant: by operation).
async fn calls_of(app: &TestApp, demande: &str) -> Vec<ConnectorCall> {
    let query = CallQuery {
        demande: Some(DemandeId::parse(demande).unwrap()),
        limit: 100,
        ..CallQuery::default()
    };
    let mut calls: Vec<ConnectorCall> = app
        .store
        .connector_calls(&query)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, call)| call)
        .collect();
    calls.sort_by(|a, b| (a.at, &a.operation).cmp(&(b.at, &b.operation)));
    calls
}

async fn every_exchange_of_a_transmission_and_its_readings_is_journaled_with_its_job(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, None).await;
    step(&gestionnaire, &id, "receptionner").await;
    let demande = DemandeId::parse(&id).unwrap();

    sim.set_mode(atal_sim::Mode::Down);
    assert_eq!(app.transmit().await.retried, 1);
    let failed_at = app.clock_now();
    sim.set_mode(atal_sim::Mode::Normal);
    app.jump_days(1).await;
    assert_eq!(app.transmit().await.transmitted, 1);
    let transmitted_at = app.clock_now();
    app.at_day(1.5).await;
    assert_eq!(app.transmit().await.read, 1);
    let read_at = app.clock_now();

    let jobs = app.store.jobs_of(demande).await.unwrap();
    let job_of = |kind: &str| {
        jobs.iter()
            .find(|job| job.kind == kind)
            .unwrap_or_else(|| panic!("a {kind} job: {jobs:?}"))
    };
    let (transmission, reading) = (job_of(TRANSMIT_JOB), job_of(SYNC_JOB));
    assert_eq!(transmission.status, JobStatus::Done);
    let calls = calls_of(&app, &id).await;
    let seen: Vec<(&str, &str, _, _)> = calls
        .iter()
        .map(|c| (c.operation.as_str(), c.outcome.as_str(), c.at, c.job))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "transmit",
                "connector_error",
                failed_at,
                Some(transmission.id)
            ),
            ("transmit", "ok", transmitted_at, Some(transmission.id)),
            ("card", "ok", read_at, Some(reading.id)),
            ("status", "ok", read_at, Some(reading.id)),
        ],
        "each attempt's calls, with its job, at the platform's clock: {calls:#?}"
    );
    assert!(
        calls.iter().all(|c| c.demande == Some(demande)),
        "every call names the demande, readings included: {calls:#?}"
    );

    // Administrators read it per instance, per connector and per demande.
    let admin = admin(&app).await;
    let latest = admin
        .get("/api/connectors/instances/atal-ville/journal?limit=2")
        .await;
    let latest = latest.expect(200);
    let operations: Vec<&str> = latest
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations.len(), 2, "{latest}");
    assert!(
        operations.contains(&"status") && operations.contains(&"card"),
        "the latest first: {latest}"
    );
    assert_eq!(latest[0]["demande"], id.as_str());
    assert_eq!(latest[0]["job"], reading.id.to_string());
    assert_eq!(latest[0]["at"], json!(read_at));
    let of_demande = admin
        .get(&format!(
            "/api/connectors/journal?connector=atal&demande={id}"
        ))
        .await;
    assert_eq!(of_demande.expect(200).as_array().unwrap().len(), 4);
    let other_connector = admin
        .get("/api/connectors/journal?connector=espace-famille")
        .await;
    assert_eq!(other_connector.expect(200), &json!([]));
    assert!(
        !of_demande
            .body
            .to_string()
            .contains(guichet_tests::ATAL_KEY),
        "the API key is masked: {}",
        of_demande.body
    );

    // A check asked by an administrator is journaled before the answer.
    app.jump_days(1).await;
    admin
        .post("/api/connectors/instances/atal-ville/check", json!({}))
        .await
        .expect(200);
    let checks = admin
        .get("/api/connectors/journal?instance=atal-ville&limit=1")
        .await;
    let check = &checks.expect(200)[0];
    assert_eq!(check["operation"], "check");
    assert_eq!(check["at"], json!(app.clock_now()));
    assert_eq!(
        (&check["demande"], &check["job"]),
        (&json!(null), &json!(null))
    );

    // The demande's agents read every call made for it.
    let journal = gestionnaire
        .get(&format!("/api/agent/demandes/{id}/connector-calls"))
        .await;
    let operations: Vec<&str> = journal
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations.len(), 4, "{operations:?}");
    assert!(operations.contains(&"status") && operations.contains(&"card"));
}

async fn anonymising_a_demande_erases_what_its_connector_calls_recorded(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, None).await;
    step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(app.transmit().await.transmitted, 1);
    let request = sim.works_requests()[0].clone();
    sim.set_request_state(
        request.id,
        atal_sim::StateCode::Done,
        Some(atal_sim::NewResponse::new("Régie", "Lampe remplacée.")),
    )
    .expect("ATAL closes the work request");
    app.at_day(0.5).await;
    assert_eq!(app.transmit().await.read, 1);
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "traitee"
    );
    let before = calls_of(&app, &id).await;
    assert_eq!(before.len(), 3, "transmit, status, card: {before:#?}");
    assert!(
        before.iter().all(|c| c.exchanges != json!([])),
        "the exchanges are kept while the demande lives: {before:#?}"
    );

    // The signalement is anonymised two years after closing.
    app.at_day(28.0).await;
    app.at_day(733.0).await;
    assert_eq!(
        agent_view(&gestionnaire, &id).await["status"]["id"],
        "anonymisee"
    );

    let after = calls_of(&app, &id).await;
    assert_eq!(
        after.len(),
        3,
        "the calls stay, their timings and outcomes too"
    );
    for call in &after {
        assert_eq!(
            (&call.logs, &call.exchanges, &call.error),
            (&json!([]), &json!([]), &None),
            "{call:#?}"
        );
    }
}

async fn an_abandoned_transmission_leaves_the_dead_letters_for_good(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, None).await;
    // Then the instance loses its API key: ATAL refuses every call.
    app.registry
        .configure(atal_ville(&sim, "perimee"), None)
        .expect("instance configured again");
    step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(app.transmit().await.failed, 1);
    let admin = admin(&app).await;
    let failed = admin.get("/api/admin/jobs/failed").await;
    let job = failed.expect(200)[0]["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::new_v4();
    for action in ["retry", "abandon"] {
        let refused = admin
            .post(&format!("/api/admin/jobs/{unknown}/{action}"), json!({}))
            .await;
        assert_eq!(refused.status, 404, "{action}: {}", refused.body);
    }

    app.jump_days(1).await;
    let abandoned = admin
        .post(&format!("/api/admin/jobs/{job}/abandon"), json!({}))
        .await;

    let abandoned = abandoned.expect(200);
    assert_eq!(abandoned["status"], "abandoned");
    assert_eq!(abandoned["abandoned_by"], "admin@ville.test");
    assert_eq!(abandoned["abandoned_at"], json!(app.clock_now()));
    let failed = admin.get("/api/admin/jobs/failed").await;
    assert_eq!(failed.expect(200), &json!([]), "it leaves the list");
    let view = agent_view(&gestionnaire, &id).await;
    let transmission = &view["transmissions"][0];
    assert_eq!(transmission["state"], "abandonnee");
    let label = transmission["label"].as_str().unwrap();
    assert!(
        label.starts_with("Transmission à atal-ville abandonnée par un administrateur le "),
        "{label}"
    );
    assert!(
        events(&view["history"]).contains(&"abandon_transmission".to_owned()),
        "{}",
        view["history"]
    );
    let usager_history = usager.get(&format!("/api/demandes/{id}/history")).await;
    assert!(
        !usager_history
            .expect(200)
            .to_string()
            .contains("abandon_transmission"),
        "the agents' history only"
    );

    for action in ["retry", "abandon"] {
        let refused = admin
            .post(&format!("/api/admin/jobs/{job}/{action}"), json!({}))
            .await;
        assert_eq!(refused.status, 409, "{action}: {}", refused.body);
        assert_eq!(refused.body["code"], "job_abandoned");
        let message = refused.body["message"].as_str().unwrap();
        assert!(
            message.contains("abandonnée par admin@ville.test"),
            "{message}"
        );
    }
    app.registry
        .configure(atal_ville(&sim, guichet_tests::ATAL_KEY), None)
        .expect("instance fixed");
    app.jump_days(1).await;
    assert_eq!(app.transmit().await, Default::default(), "never run again");
    assert!(sim.works_requests().is_empty());
}
