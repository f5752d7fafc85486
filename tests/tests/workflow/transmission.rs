//! Transmission to a vendor's application when a demande enters the status
//! its démarche names (`connector.transmit_on`): the signalement reaches
//! the simulated ATAL over real HTTP, through the real ATAL component, with
//! its photo read from the file storage, exactly once whatever the retries.

use chrono::Duration;
use guichet_core::id::DemandeId;
use guichet_host::service::synchronisation::SYNC_JOB;
use guichet_host::service::{breaker, transmission};
use guichet_store::connector::CallQuery;
use guichet_store::job::NOTIFICATION_JOB;
use guichet_store::registry::InstanceUse;
use guichet_tests::app::{Client, TestApp, jpeg};
use guichet_tests::filing::*;
use guichet_tests::on_both_backends;

on_both_backends!(
    a_signalement_is_transmitted_to_atal_once_when_received,
    a_vendor_down_for_a_while_gets_the_demande_once_when_back,
    a_refusal_of_the_vendor_fails_the_transmission_for_good,
    atal_closing_the_work_request_closes_the_demande_with_its_response,
    an_accepted_restauration_registers_the_child_at_espace_famille,
    a_vendor_that_keeps_failing_is_left_alone_for_a_while,
    the_next_reading_follows_the_instance_interval,
);

pub(super) const VOIRIE: &str = "Gest_SVL_DTE_Voirie";

/// ATAL simulated, its component installed as the `atal-ville` instance the
/// signalement names, and an usager and the Voirie gestionnaire.
pub(super) async fn setup(app: &TestApp) -> (atal_sim::Handle, Client, Client) {
    let sim = guichet_tests::atal().await;
    connect_atal_to(app, &sim).await;
    app.import(SIGNALEMENT).await;
    app.grant(VOIRIE, Some(SIGNALEMENT)).await;
    let gestionnaire = app.agent("voirie@ville.test", &[VOIRIE]).await;
    let usager = app
        .usager("Camille", "Martin", "camille.martin@exemple.test")
        .await;
    (sim, usager, gestionnaire)
}

async fn a_signalement_is_transmitted_to_atal_once_when_received(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, Some(jpeg("lampadaire"))).await;
    assert_eq!(app.transmit().await.transmitted, 0, "filed: not yet");
    assert!(
        agent_view(&gestionnaire, &id).await["transmissions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let view = step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(view["status"]["id"], "en_cours_analyse");
    assert_eq!(view["transmissions"][0]["state"], "en_attente");
    assert_eq!(
        view["transmissions"][0]["label"],
        "En attente de transmission à atal-ville"
    );
    assert!(
        sim.works_requests().is_empty(),
        "nothing before the worker runs"
    );

    let run = app.transmit().await;
    assert_eq!(
        run.transmitted,
        1,
        "{run:?} {}",
        agent_view(&gestionnaire, &id).await["transmissions"]
    );
    let requests = sim.works_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.object, "Lampadaire éteint");
    let numero = view["numero"].as_str().unwrap();
    assert!(
        request.description.as_deref().unwrap().contains(numero),
        "{request:?}"
    );
    assert_eq!(request.contact.last_name.as_deref(), Some("Martin"));
    assert_eq!(request.attachments.len(), 1, "the photo, from the storage");
    assert_eq!(request.attachments[0].file_name, "photo-du-lampadaire.jpg");

    let view = agent_view(&gestionnaire, &id).await;
    let transmission = &view["transmissions"][0];
    assert_eq!(transmission["state"], "transmise");
    assert_eq!(transmission["remote_id"], request.id.to_string());
    assert_eq!(transmission["display_id"], request.request_number);
    assert_eq!(
        transmission["label"],
        format!(
            "Transmise à atal-ville sous le n° {}",
            request.request_number
        )
    );

    // Nothing is due any more, and staying in the status sends nothing.
    assert_eq!(app.transmit().await, Default::default());
    step(&gestionnaire, &id, "accepter").await;
    assert_eq!(app.transmit().await.transmitted, 0);
    assert_eq!(sim.works_requests().len(), 1);
    // The journal is written with the job's outcome: there already.
    let query = CallQuery {
        demande: Some(DemandeId::parse(&id).unwrap()),
        limit: 10,
        ..CallQuery::default()
    };
    let calls = app.store.connector_calls(&query).await.unwrap();
    assert_eq!(calls.len(), 1, "the journal names the demande: {calls:?}");
    assert_eq!(calls[0].1.operation, "transmit");
    let journal = gestionnaire
        .get(&format!("/api/agent/demandes/{id}/connector-calls"))
        .await;
    let journal = journal.expect(200);
    assert_eq!(journal[0]["operation"], "transmit", "{journal}");
    assert_eq!(journal[0]["outcome"], "ok");
    assert!(
        !journal.to_string().contains(guichet_tests::ATAL_KEY),
        "the API key is masked: {journal}"
    );
    let stranger = app
        .agent("proprete@ville.test", &["Gest_SVL_DTE_Propreté"])
        .await;
    let refused = stranger
        .get(&format!("/api/agent/demandes/{id}/connector-calls"))
        .await;
    assert_eq!(refused.status, 403, "another service's agent");
}

async fn a_vendor_down_for_a_while_gets_the_demande_once_when_back(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, None).await;
    step(&gestionnaire, &id, "receptionner").await;

    sim.set_mode(atal_sim::Mode::Down);
    let first = app.transmit().await;
    assert_eq!((first.transmitted, first.retried), (0, 1));
    let view = agent_view(&gestionnaire, &id).await;
    let transmission = &view["transmissions"][0];
    assert_eq!(transmission["state"], "en_attente");
    assert_eq!(transmission["attempts"], 1);
    let label = transmission["label"].as_str().unwrap();
    assert!(label.starts_with("Échec : "), "{label}");
    assert!(label.contains("nouvelle tentative le "), "{label}");
    assert_eq!(
        app.transmit().await,
        Default::default(),
        "not due again before its backoff"
    );

    sim.set_mode(atal_sim::Mode::Fail);
    app.jump_days(1).await;
    assert_eq!(
        app.transmit().await.retried,
        1,
        "a failing vendor: again later"
    );

    sim.set_mode(atal_sim::Mode::Normal);
    app.jump_days(1).await;
    assert_eq!(app.transmit().await.transmitted, 1);
    assert_eq!(sim.works_requests().len(), 1, "exactly one record");
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["transmissions"][0]["state"], "transmise");
    assert_eq!(view["transmissions"][0]["attempts"], 3);

    // The usager reads once that it reached the service's application,
    // under ATAL's number.
    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    let told: Vec<&serde_json::Value> = history
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["event"] == "transmission")
        .collect();
    assert_eq!(told.len(), 1, "{}", history.body);
    let number = &sim.works_requests()[0].request_number;
    assert!(
        told[0]["text"].as_str().unwrap().contains(number.as_str()),
        "{told:?}"
    );
}

async fn a_refusal_of_the_vendor_fails_the_transmission_for_good(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, None).await;
    // Then the instance loses its API key: ATAL refuses every call.
    app.registry
        .configure(atal_ville(&sim, "perimee"), None)
        .expect("instance configured again");
    step(&gestionnaire, &id, "receptionner").await;

    let run = app.transmit().await;
    assert_eq!((run.transmitted, run.retried, run.failed), (0, 0, 1));
    let view = agent_view(&gestionnaire, &id).await;
    let transmission = &view["transmissions"][0];
    assert_eq!(transmission["state"], "echec");
    assert!(
        transmission["label"]
            .as_str()
            .unwrap()
            .starts_with("Échec définitif : "),
        "{transmission}"
    );
    let admin = {
        app.grant("Admin_SVL_DSI_Guichet", None).await;
        app.agent("admin@ville.test", &["Admin_SVL_DSI_Guichet"])
            .await
    };
    let failed = admin.get("/api/admin/jobs/failed").await;
    let failed = failed.expect(200);
    assert_eq!(failed.as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed[0]["kind"], "connector.transmit");
    assert_eq!(failed[0]["demande"], id.as_str());
    assert_eq!(failed[0]["status"], "failed");
    assert!(sim.works_requests().is_empty());

    // The administrator fixes the key, then puts the job back in the queue.
    app.registry
        .configure(atal_ville(&sim, guichet_tests::ATAL_KEY), None)
        .expect("instance fixed");
    let job = failed[0]["id"].as_str().unwrap();
    let retried = admin
        .post(
            &format!("/api/admin/jobs/{job}/retry"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(retried.expect(200)["status"], "pending");
    assert_eq!(app.transmit().await.transmitted, 1);
    assert_eq!(sim.works_requests().len(), 1);
    assert_eq!(
        agent_view(&gestionnaire, &id).await["transmissions"][0]["state"],
        "transmise"
    );
    let again = admin
        .post(
            &format!("/api/admin/jobs/{job}/retry"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(again.status, 409, "only a failed job is retried");
    assert_eq!(again.body["code"], "job_not_failed", "{}", again.body);
}

async fn atal_closing_the_work_request_closes_the_demande_with_its_response(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    let id = file_signalement(&usager, None).await;
    step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(app.transmit().await.transmitted, 1);
    let request = sim.works_requests()[0].clone();

    // The first reading is due after the démarche's 15 minutes.
    assert_eq!(app.transmit().await.read, 0);
    app.at_day(0.5).await;
    assert_eq!(app.transmit().await.read, 1);
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(
        view["status"]["id"], "en_cours_analyse",
        "ATAL received it only"
    );
    let transmission = &view["transmissions"][0];
    assert_eq!(transmission["remote_status"]["code"], "RECEIVED");
    let card = transmission["card"].to_string();
    assert!(card.contains(&request.request_number), "{card}");

    sim.set_request_state(
        request.id,
        atal_sim::StateCode::Done,
        Some(atal_sim::NewResponse::new(
            "Régie éclairage public",
            "Lampe remplacée, le lampadaire fonctionne.",
        )),
    )
    .expect("ATAL closes the work request");
    app.at_day(1.0).await;
    assert_eq!(app.transmit().await.read, 1);
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["status"]["id"], "traitee", "{view}");
    assert_eq!(view["transmissions"][0]["remote_status"]["code"], "DONE");
    let mine = usager_view(&usager, &id).await;
    assert_eq!(mine["status"]["id"], "traitee");
    let history = usager.get(&format!("/api/demandes/{id}/history")).await;
    let history = history.expect(200).to_string();
    assert!(
        history.contains("Lampe remplacée, le lampadaire fonctionne."),
        "the vendor's response is the closing comment the usager reads: {history}"
    );
    let told = app
        .store
        .jobs_of(DemandeId::parse(&id).unwrap())
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.kind == NOTIFICATION_JOB)
        .any(|job| job.payload["event"] == "cloturer");
    assert!(told, "the usager is told, as for any closing");

    // Final at ATAL: nothing is read any more.
    app.at_day(3.0).await;
    assert_eq!(app.transmit().await, Default::default());
}

async fn an_accepted_restauration_registers_the_child_at_espace_famille(app: TestApp) {
    let sim = app.connect_famille().await;
    app.import(RESTAURATION).await;
    const RESTAURATION_SCOLAIRE: &str = "Gest_SVL_DEJ_RestaurationScolaire";
    app.grant(RESTAURATION_SCOLAIRE, Some(RESTAURATION)).await;
    let gestionnaire = app
        .agent("cantine@ville.test", &[RESTAURATION_SCOLAIRE])
        .await;
    app.jump_days(70).await; // registrations open on 1 May
    let usager = app
        .usager("Camille", "Martin", "camille.martin@example.fr")
        .await;
    // Linked once to the family F-0002 with its code and secret; the
    // demande carries the family as the linked one, never the proof.
    let id = file_restauration(&usager).await;
    let answers = agent_view(&gestionnaire, &id).await["answers"].clone();
    assert_eq!(answers["famille"]["value"], "F-0002", "{answers}");
    assert!(!answers.to_string().contains("s3cret"), "{answers}");

    step(&gestionnaire, &id, "receptionner").await;
    assert_eq!(app.transmit().await.transmitted, 0, "in analysis: not yet");
    // The agent picks the activity among Espace famille's, in the cadre
    // réservé.
    let filled = gestionnaire
        .put(
            &format!("/api/agent/demandes/{id}/agent-fields"),
            serde_json::json!({ "activite": "CANT-2026" }),
        )
        .await;
    let summary = filled.expect(200)["summary"].to_string();
    assert!(
        summary.contains("Restauration scolaire 2026-2027"),
        "{summary}"
    );
    let view = step(&gestionnaire, &id, "accepter").await;
    assert_eq!(view["transmissions"][0]["state"], "en_attente");
    let run = app.transmit().await;
    assert_eq!(
        run.transmitted,
        1,
        "{run:?} {}",
        agent_view(&gestionnaire, &id).await["transmissions"]
    );

    let inscriptions = sim.inscriptions();
    assert_eq!(inscriptions.len(), 1);
    assert_eq!(
        (
            inscriptions[0].id_famille.as_str(),
            inscriptions[0].id_enfant.as_str()
        ),
        ("F-0002", "E-0003")
    );
    let view = agent_view(&gestionnaire, &id).await;
    assert_eq!(view["transmissions"][0]["state"], "transmise");
    assert_eq!(
        view["transmissions"][0]["display_id"],
        inscriptions[0].numero.as_str()
    );

    // The registration is read back at the instance's interval: the
    // agents see Espace famille's status and card of the linked family.
    app.jump_days(1).await;
    app.transmit().await;
    let transmission = agent_view(&gestionnaire, &id).await["transmissions"][0].clone();
    assert_eq!(
        transmission["remote_status"]["label"], "En attente de validation",
        "{transmission}"
    );
    let card = transmission["card"].to_string();
    assert!(card.contains("Famille MARTIN"), "{card}");
    assert!(card.contains("Chloé"), "{card}");
}

async fn the_next_reading_follows_the_instance_interval(app: TestApp) {
    let (_sim, usager, gestionnaire) = setup(&app).await;
    // The signalement says 15 minutes; the instance, 5.
    app.use_instance(
        "atal-ville",
        InstanceUse {
            link: None,
            sync_every_minutes: Some(5),
        },
    )
    .await;
    let id = file_signalement(&usager, None).await;
    step(&gestionnaire, &id, "receptionner").await;
    let demande = DemandeId::parse(&id).unwrap();
    let readings = || async {
        app.store
            .jobs_of(demande)
            .await
            .unwrap()
            .into_iter()
            .filter(|job| job.kind == SYNC_JOB)
            .map(|job| job.next_attempt_at)
            .collect::<Vec<_>>()
    };

    let transmitted_at = app.clock_now();
    assert_eq!(app.transmit().await.transmitted, 1);
    assert_eq!(
        readings().await,
        [transmitted_at + Duration::minutes(5)],
        "the first reading at the instance's interval"
    );

    // Without an interval of its own, the instance reads at the démarche's.
    app.use_instance("atal-ville", InstanceUse::default()).await;
    app.at_day(0.01).await; // 14 min 24 s: the first reading is due
    let read_at = app.clock_now();
    app.transmit().await;
    let pending: Vec<_> = readings()
        .await
        .into_iter()
        .filter(|at| *at > read_at)
        .collect();
    assert_eq!(pending, [read_at + Duration::minutes(15)]);
}

async fn a_vendor_that_keeps_failing_is_left_alone_for_a_while(app: TestApp) {
    let (sim, usager, gestionnaire) = setup(&app).await;
    // More jobs than can be in flight at once when the vendor goes down.
    let total = breaker::THRESHOLD as usize + transmission::CONCURRENCY;
    let mut ids = Vec::new();
    for _ in 0..total {
        let id = file_signalement(&usager, None).await;
        step(&gestionnaire, &id, "receptionner").await;
        ids.push(id);
    }
    sim.set_mode(atal_sim::Mode::Down);

    let run = app.transmit().await;
    assert_eq!(run.retried + run.postponed, total, "{run:?}");
    // The breaker opens at the fifth failure; calls started before that
    // (at most CONCURRENCY in flight at once) still end.
    let most = breaker::THRESHOLD as usize - 1 + transmission::CONCURRENCY;
    assert!(
        (breaker::THRESHOLD as usize..=most).contains(&run.retried) && run.postponed >= 1,
        "after {} failures in a row the remaining jobs are not tried: {run:?}",
        breaker::THRESHOLD
    );
    let mut attempts = Vec::new();
    for id in &ids {
        let view = agent_view(&gestionnaire, id).await;
        assert_eq!(view["transmissions"][0]["state"], "en_attente");
        attempts.push(view["transmissions"][0]["attempts"].as_u64().unwrap());
    }
    assert_eq!(
        attempts.iter().filter(|a| **a == 0).count(),
        run.postponed,
        "the jobs left alone count no attempt: {attempts:?}"
    );

    sim.set_mode(atal_sim::Mode::Normal);
    app.at_day(1.0).await;
    let run = app.transmit().await;
    assert_eq!(run.transmitted, ids.len(), "{run:?}");
    assert_eq!(sim.works_requests().len(), ids.len());
}
