//! The connector journal and the links of demandes to remote records.

use guichet_store::connector::{CallQuery, ConnectorCall, RemoteLink};
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
    }
}

on_both_backends!(
    the_journal_lists_latest_first_by_instance_or_demande,
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
            instance: None,
            demande: None,
            limit: 10,
        })
        .await
        .unwrap();
    let atal = db
        .connector_calls(&CallQuery {
            instance: Some("atal-ville".into()),
            demande: None,
            limit: 10,
        })
        .await
        .unwrap();
    let of_demande = db
        .connector_calls(&CallQuery {
            instance: None,
            demande: id,
            limit: 10,
        })
        .await
        .unwrap();
    let latest = db
        .connector_calls(&CallQuery {
            instance: None,
            demande: None,
            limit: 1,
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
