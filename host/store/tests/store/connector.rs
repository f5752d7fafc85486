//! The connector journal and the links of demandes to remote records.

use guichet_store::connector::{CallQuery, ConnectorCall, RemoteLink};
use guichet_store::job::{JobStatus, NewJob};
use serde_json::json;

use crate::support::*;

fn call(
    instance: &str,
    minutes: i64,
    demande: Option<guichet_core::id::DemandeId>,
) -> ConnectorCall {
    ConnectorCall {
        connector: "atal".to_owned(),
        connector_version: "1.0.0".to_owned(),
        instance: instance.to_owned(),
        operation: "transmit".to_owned(),
        at: start() + chrono::Duration::minutes(minutes),
        duration_ms: 120,
        outcome: "ok".to_owned(),
        error: None,
        logs: json!([{ "level": "info", "message": "envoi" }]),
        exchanges: json!([{ "method": "POST", "status": 201 }]),
        demande,
        job: None,
    }
}

on_both_backends!(
    the_journal_lists_latest_first_by_instance_or_demande,
    the_calls_of_an_attempt_are_written_with_its_outcome_and_name_its_job,
    a_remote_link_upsert_keeps_what_it_is_not_given,
);

async fn the_journal_lists_latest_first_by_instance_or_demande(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let filed = file_demande(
        &db,
        &definition,
        signalement_answers(vec![]),
        usager(&db).await,
        start(),
    )
    .await;
    let id = Some(filed.demande.id);
    db.record_connector_call(&call("atal-ville", 1, id))
        .await
        .unwrap();
    db.record_connector_call(&call("atal-ville", 2, None))
        .await
        .unwrap();
    db.record_connector_call(&call("ef-ville", 3, None))
        .await
        .unwrap();

    let everything = db
        .connector_calls(&CallQuery {
            limit: 10,
            ..CallQuery::default()
        })
        .await
        .unwrap();
    let atal = db
        .connector_calls(&CallQuery {
            instance: Some("atal-ville".into()),
            limit: 10,
            ..CallQuery::default()
        })
        .await
        .unwrap();
    let of_demande = db
        .connector_calls(&CallQuery {
            demande: id,
            limit: 10,
            ..CallQuery::default()
        })
        .await
        .unwrap();
    let latest = db
        .connector_calls(&CallQuery {
            limit: 1,
            ..CallQuery::default()
        })
        .await
        .unwrap();

    let minutes = |calls: &[(_, ConnectorCall)]| -> Vec<i64> {
        calls
            .iter()
            .map(|(_, c)| (c.at - start()).num_minutes())
            .collect()
    };
    assert_eq!(minutes(&everything), [3, 2, 1]);
    assert_eq!(minutes(&atal), [2, 1]);
    assert_eq!(minutes(&of_demande), [1]);
    assert_eq!(of_demande[0].1, call("atal-ville", 1, id));
    assert_eq!(minutes(&latest), [3]);
}

async fn a_remote_link_upsert_keeps_what_it_is_not_given(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let filed = file_demande(
        &db,
        &definition,
        signalement_answers(vec![]),
        usager(&db).await,
        start(),
    )
    .await;
    let transmitted = RemoteLink {
        demande: filed.demande.id,
        instance: "atal-ville".to_owned(),
        remote_id: "7f1c".to_owned(),
        display_id: Some("DI-2026-0042".to_owned()),
        remote_status: None,
        card: Some(json!({ "équipe": "Éclairage" })),
        updated_at: start(),
    };
    db.upsert_remote_link(&transmitted).await.unwrap();

    let polled = RemoteLink {
        display_id: None,
        remote_status: Some(json!({ "code": "en_cours", "final": false })),
        card: None,
        updated_at: start() + days(1),
        ..transmitted.clone()
    };
    db.upsert_remote_link(&polled).await.unwrap();

    let links = db.remote_links(filed.demande.id).await.unwrap();
    assert_eq!(links.len(), 1, "one link per demande and instance");
    let link = links[0].clone();
    assert_eq!(link.display_id.as_deref(), Some("DI-2026-0042"));
    assert_eq!(link.card, transmitted.card);
    assert_eq!(link.remote_status, polled.remote_status);
    assert_eq!(link.updated_at, start() + days(1));
}

async fn the_calls_of_an_attempt_are_written_with_its_outcome_and_name_its_job(db: TestDb) {
    let definition = import(&db, "signalement-voie-publique").await;
    let filed = file_demande(
        &db,
        &definition,
        signalement_answers(vec![]),
        usager(&db).await,
        start(),
    )
    .await;
    let demande = filed.demande.id;
    let job = NewJob {
        kind: "connector.transmit".to_owned(),
        demande: Some(demande),
        payload: json!({ "instance": "atal-ville" }),
        run_at: start(),
    };
    let id = db.enqueue(job, start()).await.unwrap();
    db.claim_jobs("worker-a", &["connector.transmit"], start(), 10)
        .await
        .unwrap();

    db.fail_job_journaled(
        id,
        "worker-a",
        "ATAL indisponible",
        Some(start() + chrono::Duration::hours(1)),
        start(),
        &[call("atal-ville", 0, Some(demande))],
    )
    .await
    .unwrap();
    db.claim_jobs(
        "worker-a",
        &["connector.transmit"],
        start() + chrono::Duration::hours(1),
        10,
    )
    .await
    .unwrap();
    // Its lease taken over: the outcome is refused, the call is kept.
    let lost = db
        .complete_job_journaled(
            id,
            "worker-b",
            start(),
            &[call("atal-ville", 61, Some(demande))],
        )
        .await;
    db.complete_job_journaled(
        id,
        "worker-a",
        start(),
        &[{
            let mut other = call("ef-ville", 62, Some(demande));
            other.connector = "espace-famille".to_owned();
            other
        }],
    )
    .await
    .unwrap();

    assert!(matches!(lost, Err(guichet_store::StoreError::Conflict(_))));
    let calls = db
        .connector_calls(&CallQuery {
            demande: Some(demande),
            limit: 10,
            ..CallQuery::default()
        })
        .await
        .unwrap();
    let jobs: Vec<_> = calls.iter().map(|(_, c)| c.job).collect();
    assert_eq!(jobs, [Some(id); 3], "each names its job: {calls:?}");
    let atal = db
        .connector_calls(&CallQuery {
            connector: Some("atal".into()),
            limit: 10,
            ..CallQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(atal.len(), 2, "by connector: {atal:?}");
    assert_eq!(db.job(id).await.unwrap().status, JobStatus::Done);
}
