//! Applying workflow outcomes: atomic, and safe when agents act at once.

use guichet_core::workflow::deadline::TimerKind;
use guichet_core::workflow::{self, Action};
use guichet_store::StoreError;
use guichet_store::demande::Revision;
use guichet_store::outcome::Extras;

use crate::support::*;

on_both_backends!(
    an_action_writes_its_history_jobs_and_timers,
    the_second_of_two_agents_acting_on_the_same_revision_gets_a_conflict,
    of_two_concurrent_writers_exactly_one_wins,
    an_outcome_for_a_missing_demande_is_not_found,
    extra_jobs_are_written_with_the_outcome,
);

async fn an_action_writes_its_history_jobs_and_timers(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;

    let revision = act(
        &db,
        &filed,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
    )
    .await
    .unwrap();

    let id = filed.demande.id;
    assert_eq!(revision, Revision(2));
    let stored = db.demande(id).await.unwrap();
    assert_eq!(stored.demande.status.as_str(), "en_cours_analyse");
    let history = db.history(id).await.unwrap();
    assert_eq!(history.len(), filed.history.len() + 1);
    assert_eq!(history.last().unwrap().event, "prendre_en_compte");
    let timers: Vec<(TimerKind, i64)> = db
        .timers_of(id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            (
                t.kind,
                (ZONE.today(t.due_at) - ZONE.today(start())).num_days(),
            )
        })
        .collect();
    assert_eq!(
        timers,
        [
            (TimerKind::Reminder { days: 15 }, 15),
            (TimerKind::Reminder { days: 21 }, 21),
            (TimerKind::Deadline, 27),
        ]
    );
    let templates: Vec<String> = db
        .jobs_of(id)
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.payload["template"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        templates.contains(&"prise_en_compte_usager".to_owned()),
        "{templates:?}"
    );
}

async fn the_second_of_two_agents_acting_on_the_same_revision_gets_a_conflict(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let workflow = definition.workflow();
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let read = db.demande(filed.demande.id).await.unwrap();
    let take = workflow::apply(
        &workflow,
        &read.demande,
        Action::new("prendre_en_compte"),
        &agent,
        start(),
        ZONE,
    )
    .unwrap();
    let comment = workflow::apply(
        &workflow,
        &read.demande,
        Action::new("commenter").message("Dossier complet."),
        &agent,
        start(),
        ZONE,
    )
    .unwrap();

    db.apply_outcome(&take, read.revision, Extras::default(), start())
        .await
        .unwrap();
    let second = db
        .apply_outcome(&comment, read.revision, Extras::default(), start())
        .await;

    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    let history = db.history(filed.demande.id).await.unwrap();
    assert!(history.iter().all(|entry| entry.message.is_none()));
    assert_eq!(
        db.demande(filed.demande.id).await.unwrap().revision,
        Revision(2)
    );
}

async fn of_two_concurrent_writers_exactly_one_wins(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let workflow = definition.workflow();
    let agent = gestionnaire(usager(&db).await);
    let filed = file_demande(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let read = db.demande(filed.demande.id).await.unwrap();
    let db = std::sync::Arc::new(db);

    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let db = db.clone();
            let message = format!("Commentaire {n}");
            let outcome = workflow::apply(
                &workflow,
                &read.demande,
                Action::new("commenter").message(&message),
                &agent,
                start(),
                ZONE,
            )
            .unwrap();
            tokio::spawn(async move {
                db.apply_outcome(&outcome, read.revision, Extras::default(), start())
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("{other}"),
        }
    }

    assert_eq!(won, 1);
    let comments = db
        .history(filed.demande.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.message.is_some())
        .count();
    assert_eq!(comments, 1);
}

async fn an_outcome_for_a_missing_demande_is_not_found(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let outcome = submission(&db, &definition, velo_answers(), usager(&db).await, start()).await;

    let missing = db
        .apply_outcome(&outcome, Revision(1), Extras::default(), start())
        .await;

    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

async fn extra_jobs_are_written_with_the_outcome(db: TestDb) {
    let definition = import(&db, "aide-reparation-velo").await;
    let outcome = submission(&db, &definition, velo_answers(), usager(&db).await, start()).await;
    let transmit = guichet_store::job::NewJob {
        kind: "connector_transmit".to_owned(),
        demande: Some(outcome.demande.id),
        payload: serde_json::json!({"instance": "atal-ville"}),
        run_at: start(),
    };

    let extras = Extras {
        jobs: vec![transmit],
        ..Extras::default()
    };
    db.insert_demande(&outcome, extras, start()).await.unwrap();

    let kinds: Vec<String> = db
        .jobs_of(outcome.demande.id)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.kind)
        .collect();
    assert!(kinds.contains(&"connector_transmit".to_owned()));
    assert_eq!(kinds.len(), outcome.notifications.len() + 1);
}
